import {
  cronError,
  type AuthMethod,
  type LakeFormat,
  type ProviderDefinition,
  type ScheduleSpec,
} from '@connector-factory/ir';
import type { ProviderRegistry } from '../../registry/provider-registry.js';

/**
 * Deterministic reading of a one-sentence description: no model, no network. Phrases that carry their
 * own syntax (URLs, paths, quoted names, schedules, intents, formats, auth) are found first with regular
 * expressions and blanked out, so their words cannot also be read as a provider or an entity; what is
 * left is split into words and matched against the provider registry (names, aliases, typos) and,
 * once the provider is known, against its entities (`findEntities`).
 */

/** A word of the description that no phrase claimed. */
export interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Lower case without `_ . - $`, the form registry keys are compared in. */
  readonly norm: string;
  /** Only spaces or hyphens separate it from the previous token (so the two may form one name). */
  readonly adjacent: boolean;
  /** A comma or semicolon separates it from the previous token. */
  readonly comma: boolean;
}

interface Spanned {
  /** The words as written in the description. */
  readonly words: string;
  /** Offset of the words in the description, for ordering explanations. */
  readonly start: number;
}

export interface ProviderMention extends Spanned {
  readonly provider: ProviderDefinition;
  /** name / alias: exact (case, spaces and punctuation ignored); typo: within edit distance; host: a URL or host name of the provider. */
  readonly how: 'name' | 'alias' | 'typo' | 'host';
  /** The registry name or alias that matched, normalised. */
  readonly key: string;
  /** Edits between the words and the key (0 unless a typo). */
  readonly distance: number;
  /** For host mentions: the provider's baseUrl with its host placeholders filled in. */
  readonly baseUrl?: string;
  /** For host mentions: the value of each placeholder, e.g. { shop: 'acme' }. */
  readonly placeholders?: Readonly<Record<string, string>>;
}

export type IntentKind = 'stream' | 'incremental' | 'full_refresh';

export interface IntentMention extends Spanned {
  readonly intent: IntentKind;
  /** Words about change events (changes, CDC, replication), not only about latency (stream, real-time). */
  readonly changes: boolean;
  /** "continuously" / "continuous": a schedule wish as much as a strategy. */
  readonly continuous: boolean;
}

export interface ScheduleMention extends Spanned {
  readonly spec: ScheduleSpec;
  readonly reason: string;
}

export interface LocationMention extends Spanned {
  /** s3://…, file://… or a local path, as written. */
  readonly location: string;
  readonly role: 'source' | 'destination';
}

export interface ConnectionMention extends Spanned {
  /** The connection string as written. May hold a password: never print it, print `words`. */
  readonly raw: string;
}

export interface UrlMention extends Spanned {
  readonly url: string;
  /** graphql: path ends in /graphql; openapi: a .json/.yaml document; api: any other https URL. */
  readonly kind: 'graphql' | 'openapi' | 'api';
}

export interface FormatMention extends Spanned {
  readonly format: LakeFormat;
}

export interface AuthMention extends Spanned {
  /** `token` asks for a token of any kind: bearer or API key, whichever the provider takes. */
  readonly method: AuthMethod | 'token';
  readonly roleArn?: string;
}

export interface QuotedName extends Spanned {
  readonly name: string;
}

/** A table the words name explicitly: "the stream table", "table track", "member from Postgres", `sales.member`. */
export interface TableMention extends Spanned {
  /** As typed (never singularised or pluralised): the schema agent matches it against the live catalog. */
  readonly name: string;
  /** Which shape named it, for the explanation. */
  readonly how: string;
}

/** The cursor column the words name: "incremental on modified_at", "using modified_at as the cursor", "by modified_at". */
export interface CursorMention extends Spanned {
  readonly column: string;
}

export interface EntityMention extends Spanned {
  readonly name: string;
  readonly meaning: string;
}

export interface ParsedDescription {
  readonly text: string;
  readonly tokens: readonly Token[];
  readonly providers: readonly ProviderMention[];
  readonly intents: readonly IntentMention[];
  readonly schedule?: ScheduleMention;
  readonly locations: readonly LocationMention[];
  readonly connections: readonly ConnectionMention[];
  readonly urls: readonly UrlMention[];
  readonly format?: FormatMention;
  readonly auth?: AuthMention;
  readonly quoted: readonly QuotedName[];
  /** Table names read from their shape before any other phrase could take their words. */
  readonly tables: readonly TableMention[];
  readonly cursor?: CursorMention;
  readonly warnings: readonly string[];
}

// ---------------------------------------------------------------------------------------------------
// Vocabulary

/** Words that are never an entity, a provider typo or an unknown provider's name. */
const STOP_WORDS = new Set(
  `a an the and or but of to into onto towards in on at by for from with without via using use as is are be been it its
  this that these those them they we our my your their me us i all any every each some new old only just also then than
  so up out over under per once twice please can could would should will want wants need needs like let lets make set
  get gets got keep here there where when which what who how after before between within both either whole entire
  connect connects connecting sync syncs syncing synchronise synchronize load loads loading pull pulls pulling copy
  copies copying ingest ingests ingesting extract extracts extracting read reads reading fetch fetches fetching move
  moves moving mirror mirrors send sends push pushes land lands landing write writes writing dump dumps export
  exports import imports bring brings capture captures track tracks collect collects receive receives consume
  consumes consuming listen listens poll polls polling take takes grab gather archive archives backup back store
  stores storing save saves put run runs running schedule scheduled build create deliver feed pipe replicate
  replicates data dataset datasets database databases db dbs table tables schema schemas row rows field fields column
  columns lake datalake warehouse bucket buckets folder folders directory dir path prefix file files api apis
  endpoint endpoints source sources destination connector connectors pipeline pipelines job jobs instance server
  servers cluster host jdbc everything anything stuff info information object objects topic topics entity
  entities collection collections resource resources format formats type custom standard production prod staging dev
  test sandbox company team system app application platform minute minutes hour hours day days time times night week
  weeks month months utc am pm latest recent raw landing zone s`.split(/\s+/),
);

/**
 * English words one or two edits from a provider name or alias ("strip" / stripe, "openai" / openapi,
 * "mssql" / mysql, "confluence" / confluent): never read as a typo of one.
 */
const NEAR_MISSES = new Set(
  `strip strips striped strike strikes stride strive reset rests rust rent mssql sqlserver confluence postage poster
  posters shopping shops graph graphs openai hubs jiras kafkas github's gitlab spotify shopper`.split(/\s+/),
);

/** Entity words that are also everyday English ("in any case", "in order to"): lower-case singular needs a data noun after it. */
const AMBIGUOUS_SINGULARS = new Set(
  'case lead order charge issue event item record object user contact account deal project file commit node'.split(' '),
);
const DATA_NOUN =
  /^\s+(?:data|records?|rows?|tables?|objects?|details|history|info|information|updates|changes|events|entit(?:y|ies)|endpoint|lines|items|ids)\b/i;

/** Keywords that mark the word before or after them as an entity name: "orders table", "table orders". */
const ENTITY_KEYWORDS = new Set(
  'table tables object objects topic topics collection collections endpoint endpoints resource resources entity entities'.split(
    ' ',
  ),
);
/** Words allowed between a name and its keyword: "the Invoice__c custom object". */
const KEYWORD_ADJECTIVES = new Set('custom standard main source raw the a an'.split(' '));
/** Words after a name that say it is a database, not a table: "from the shop database". */
const CONTAINER_WORDS = new Set('database db schema server instance cluster host bucket folder directory'.split(' '));

const SYNONYMS: Readonly<Record<string, readonly string[]>> = {
  repos: ['repository', 'repositories'],
  pull_requests: ['prs', 'pr'],
};

// ---------------------------------------------------------------------------------------------------
// Small helpers

/** Lower case without `_ . - $`: how registry keys and entity names are compared. */
export function normalise(text: string): string {
  return text.toLowerCase().replace(/[\s_.\-$]+/g, '');
}

/**
 * Edit distance counting an adjacent transposition as one edit ("salesfroce" is one edit from
 * "salesforce"): swapped letters are the commonest typo.
 */
export function typoDistance(a: string, b: string): number {
  const width = b.length + 1;
  const d = new Array<number>((a.length + 1) * width).fill(0);
  const at = (i: number, j: number) => d[i * width + j]!;
  for (let i = 0; i <= a.length; i++) d[i * width] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * width + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** How many edits a word of this length may carry and still count as a typo: none under 4 letters. */
export function typoReach(length: number): number {
  if (length < 4) return 0;
  return length < 9 ? 1 : 2;
}

const CREDENTIAL_PARAM =
  /^(?:password|passwd|pwd|pass|sslpassword|secret|token|access_token|api[-_]?key|access[-_]?key|secret[-_]?key|sas|sig)$/i;

/** A connection string or URL safe to print: the user-info password and credential parameters become ***. */
export function redactConnection(value: string): string {
  let text = value;
  const scheme = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(text);
  if (scheme) {
    const rest = scheme[2]!;
    const query = rest.search(/[?#]/);
    // The last @ before the query: a password may itself contain @.
    const at = rest.lastIndexOf('@', query >= 0 ? query : rest.length);
    if (at >= 0) {
      const userinfo = rest.slice(0, at);
      const colon = userinfo.indexOf(':');
      const password = colon >= 0 ? userinfo.slice(colon + 1) : '';
      const shownPassword = password === '' || /^\$\{\w+\}$/.test(password) ? password : '***';
      const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
      text = `${scheme[1]}${user}${colon >= 0 ? `:${shownPassword}` : ''}@${rest.slice(at + 1)}`;
    }
  }
  return text.replace(/([?&;]|^)([\w-]+)=([^&;#\s]*)/g, (whole, lead: string, key: string, val: string) =>
    CREDENTIAL_PARAM.test(key) && !/^\$\{\w+\}$/.test(val) ? `${lead}${key}=***` : whole,
  );
}

/** A URL without its user info and credential parameters (the URL itself when it has none). */
export function withoutCredentials(url: string): string {
  if (!hasLiteralSecret(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    for (const key of [...parsed.searchParams.keys()]) {
      if (CREDENTIAL_PARAM.test(key)) parsed.searchParams.delete(key);
    }
    return parsed.toString();
  } catch {
    return redactConnection(url);
  }
}

/** True when a connection string carries a literal credential. */
export function hasLiteralSecret(value: string): boolean {
  return redactConnection(value) !== value;
}

function trimTrailingPunctuation(text: string): string {
  let out = text.replace(/[.,;:!?]+$/, '');
  while (out.endsWith(')') && !out.includes('(')) out = out.slice(0, -1).replace(/[.,;:!?]+$/, '');
  return out;
}

/** Holds the description and a copy in which claimed phrases are blanked out (offsets stay the same). */
class Scanner {
  private masked: string;
  constructor(readonly text: string) {
    this.masked = text;
  }
  /** Every match of a global pattern in the part of the text no phrase has claimed yet. */
  find(pattern: RegExp): Array<{ match: RegExpMatchArray; start: number; end: number }> {
    return [...this.masked.matchAll(pattern)].map((match) => {
      const start = match.index ?? 0;
      return { match, start, end: start + match[0].length };
    });
  }
  claim(start: number, end: number): void {
    this.masked = this.masked.slice(0, start) + ' '.repeat(end - start) + this.masked.slice(end);
  }
  words(start: number, end: number): string {
    return this.text.slice(start, end).trim();
  }
  get remaining(): string {
    return this.masked;
  }
}

// ---------------------------------------------------------------------------------------------------
// URLs, connection strings, paths, host names

const ARN_RE = /\barn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+/gi;
const URL_RE = /\b([a-z][a-z0-9+.-]*):\/\/[^\s'"<>`]+/gi;
const ENV_REF_RE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;
const PATH_RE = /(?<=^|[\s(,=])(?:\.{1,2}|~)?\/[\w*-][\w.*\-/]*/g;
const HOST_RE = /(?<![\w@.-])(?:[a-z0-9-]+\.)+[a-z]{2,}(?![\w-])/gi;
const LOCATION_LEAD =
  /(?:^|\s)(to|into|onto|towards|from|of|under|within|in|at|->|→)\s+((?:(?:the|a|an|our|my|local|data|lake|landing|raw|folder|directory|dir|bucket|prefix|path|location|zone)\s+){0,4})$/i;
const LANDING_VERB =
  /\b(?:land|lands|write|writes|store|stores|save|saves|put|puts|dump|dumps|persist|deliver|keep|output|place)\b/i;
const READING_VERB = /\b(?:read|load|ingest|import|pull|scan|watch|copy|fetch|consume|crawl)\s+(?:\S+\s+){0,3}$/i;

interface HostPattern {
  readonly provider: ProviderDefinition;
  readonly regex: RegExp;
  readonly names: readonly string[];
}

/** Host patterns of the providers whose baseUrl names a specific host (`{instance}.salesforce.com`, `api.stripe.com`). */
function hostPatterns(registry: ProviderRegistry): HostPattern[] {
  const out: HostPattern[] = [];
  for (const provider of registry.list()) {
    const host = provider.baseUrl !== undefined ? /^https?:\/\/([^/]+)/.exec(provider.baseUrl)?.[1] : undefined;
    if (host === undefined || /^\{\w+\}$/.test(host)) continue;
    const names: string[] = [];
    const source = host
      .split(/(\{\w+\})/)
      .map((part) => {
        const placeholder = /^\{(\w+)\}$/.exec(part);
        if (placeholder) {
          names.push(placeholder[1]!);
          return '([a-z0-9-]+(?:\\.[a-z0-9-]+)*?)';
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('');
    out.push({ provider, regex: new RegExp(`^${source}$`, 'i'), names });
  }
  return out;
}

interface HostMatch {
  readonly provider: ProviderDefinition;
  readonly baseUrl: string;
  readonly placeholders: Record<string, string>;
}

function matchHost(host: string, patterns: readonly HostPattern[]): HostMatch | undefined {
  for (const { provider, regex, names } of patterns) {
    const match = regex.exec(host);
    if (!match) continue;
    const placeholders: Record<string, string> = {};
    names.forEach((name, index) => (placeholders[name] = match[index + 1]!.toLowerCase()));
    return { provider, baseUrl: fillPlaceholders(provider.baseUrl!, placeholders), placeholders };
  }
  return undefined;
}

/** Replaces `{name}` placeholders whose value is known; the others stay. */
export function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function classifyLocation(
  scanner: Scanner,
  start: number,
): { role: 'source' | 'destination' | undefined; leadStart: number } {
  const before = scanner.text.slice(0, start);
  const lead = LOCATION_LEAD.exec(before);
  if (!lead) return { role: READING_VERB.test(before) ? 'source' : undefined, leadStart: start };
  const leadStart = lead.index + (lead[0].length - lead[0].trimStart().length);
  const word = lead[1]!.toLowerCase();
  if (['to', 'into', 'onto', 'towards', '->', '→'].includes(word)) return { role: 'destination', leadStart };
  if (['from', 'of', 'under', 'within'].includes(word)) return { role: 'source', leadStart };
  // "in" / "at": "land it in s3://…" and "to the lake at s3://…" are destinations, "files in s3://…" a source.
  const head = before.slice(0, lead.index);
  const towards = /\b(?:to|into|onto)\s+(?:\S+\s+){0,3}\S*$/i.test(head) && !/\bfrom\s+(?:\S+\s+){0,3}\S*$/i.test(head);
  return { role: LANDING_VERB.test(head) || towards ? 'destination' : 'source', leadStart };
}

// ---------------------------------------------------------------------------------------------------
// Schedules

type Unit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month';
const UNIT_SECONDS: Readonly<Record<Unit, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
};
const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  'forty five': 45,
  'forty-five': 45,
  sixty: 60,
  ninety: 90,
  other: 2,
};
const NUM = String.raw`\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty[\s-]five|sixty|ninety|other`;
const FRACTION_RE = /\b(?:every|each)\s+(half|quarter)(?:\s+of)?(?:\s+an?)?\s+hours?\b/gi;
const TIMES_RE =
  /\b(once|twice|(\d+|two|three|four|six|twelve)\s+times)\s+(?:an?|per|each|every)\s+(minute|hour|day|week|month)\b/gi;
const EVERY_RE = new RegExp(
  String.raw`\b(?:every|each)\s+(?:(${NUM})\s*)?(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|s|m|h|d)\b`,
  'gi',
);
const ADVERB_RE =
  /\b(hourly|daily|nightly|weekly|monthly|twice\s+daily|(?:every|each)\s+(?:night|morning|evening)|per\s+(?:hour|day))\b/gi;
const WEEKDAY_RE =
  /\b(?:(?:on|every|each)\s+)?(mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|weekdays?|weekends?|business\s+days|working\s+days)\b/gi;
const TIME_RE =
  /\b(?:at\s+)?(?:(noon|midnight)|(\d{1,2}):(\d{2})(?:\s*(am|pm)\b)?|(\d{1,2})\s*(am|pm|o'?clock)\b)(?:\s*utc\b)?/gi;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function unitOf(word: string): Unit | undefined {
  const w = word.toLowerCase();
  if (/^(s|secs?|seconds?)$/.test(w)) return 'second';
  if (/^(m|mins?|minutes?)$/.test(w)) return 'minute';
  if (/^(h|hrs?|hours?)$/.test(w)) return 'hour';
  if (/^(d|days?)$/.test(w)) return 'day';
  if (/^weeks?$/.test(w)) return 'week';
  if (/^months?$/.test(w)) return 'month';
  return undefined;
}

function numberOf(word: string | undefined): number | undefined {
  if (word === undefined) return 1;
  if (/^\d+$/.test(word)) return Number(word);
  return NUMBER_WORDS[word.toLowerCase().replace(/\s+/, ' ')];
}

interface SchedulePieces {
  seconds?: number;
  monthly?: number;
  defaultTime?: readonly [number, number];
  weekdays: string[];
  time?: readonly [number, number];
  words: Array<{ start: number; end: number }>;
  extra: string[];
}

function parseTime(match: RegExpMatchArray): readonly [number, number] | undefined {
  const [, named, hh, mm, hhSuffix, h, suffix] = match;
  if (named !== undefined) return named.toLowerCase() === 'noon' ? [12, 0] : [0, 0];
  let hour = Number(hh ?? h);
  const minute = mm !== undefined ? Number(mm) : 0;
  const half = (hhSuffix ?? suffix)?.toLowerCase();
  if (half === 'am' || half === 'pm') {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half === 'pm' ? 12 : 0);
  }
  return hour <= 23 && minute <= 59 ? [hour, minute] : undefined;
}

function cronFor(p: SchedulePieces): { spec: ScheduleSpec; note?: string } | undefined {
  const [hour, minute] = p.time ?? p.defaultTime ?? [0, 0];
  const dow = p.weekdays.length > 0 ? [...new Set(p.weekdays)].join(',') : '*';
  if (p.monthly !== undefined) {
    const months = p.monthly === 1 ? '*' : `*/${p.monthly}`;
    return { spec: { type: 'cron', expression: `0 ${minute} ${hour} 1 ${months} *` } };
  }
  let seconds = p.seconds;
  if (seconds === undefined) seconds = p.weekdays.length > 0 ? UNIT_SECONDS.week : UNIT_SECONDS.day;
  const cron = (expression: string) => ({ spec: { type: 'cron' as const, expression } });
  const step = (n: number) => (n === 1 ? '*' : `*/${n}`);
  const timeIgnored =
    p.time !== undefined && seconds < UNIT_SECONDS.day ? 'a time of day does not apply to this frequency' : undefined;
  const withNote = (value: { spec: ScheduleSpec }) =>
    timeIgnored !== undefined ? { ...value, note: timeIgnored } : value;
  if (seconds < 60 && 60 % seconds === 0) return withNote(cron(`${step(seconds)} * * * * ${dow}`));
  if (seconds < 3600 && seconds % 60 === 0 && 60 % (seconds / 60) === 0)
    return withNote(cron(`0 ${step(seconds / 60)} * * * ${dow}`));
  if (seconds < 86_400 && seconds % 3600 === 0 && 24 % (seconds / 3600) === 0) {
    return withNote(cron(`0 0 ${step(seconds / 3600)} * * ${dow}`));
  }
  if (seconds % 86_400 === 0 && seconds < UNIT_SECONDS.week) {
    return cron(`0 ${minute} ${hour} ${step(seconds / 86_400)} * ${dow}`);
  }
  if (seconds === UNIT_SECONDS.week) return cron(`0 ${minute} ${hour} * * ${dow === '*' ? '0' : dow}`);
  if (!Number.isInteger(seconds) || seconds <= 0) return undefined;
  return {
    spec: { type: 'interval', intervalSeconds: seconds },
    note: 'cron cannot repeat at that step exactly, so it is an interval',
  };
}

function parseSchedule(scanner: Scanner, warnings: string[]): ScheduleMention | undefined {
  const p: SchedulePieces = { weekdays: [], words: [], extra: [] };
  const take = (start: number, end: number) => {
    scanner.claim(start, end);
    p.words.push({ start, end });
  };
  const setFrequency = (seconds: number, start: number, end: number, defaultTime?: readonly [number, number]) => {
    if (p.seconds !== undefined || p.monthly !== undefined) {
      p.extra.push(scanner.words(start, end));
      scanner.claim(start, end);
      return;
    }
    p.seconds = seconds;
    if (defaultTime) p.defaultTime = defaultTime;
    take(start, end);
  };
  for (const { match, start, end } of scanner.find(FRACTION_RE)) {
    setFrequency(match[1]!.toLowerCase() === 'half' ? 1800 : 900, start, end);
  }
  for (const { match, start, end } of scanner.find(TIMES_RE)) {
    const count = match[1]!.toLowerCase() === 'once' ? 1 : match[1]!.toLowerCase() === 'twice' ? 2 : numberOf(match[2]);
    const unit = unitOf(match[3]!)!;
    if (count === undefined || count === 0) continue;
    if (unit === 'month') {
      if (count === 1 && p.monthly === undefined) {
        p.monthly = 1;
        take(start, end);
      }
      continue;
    }
    setFrequency(UNIT_SECONDS[unit] / count, start, end);
  }
  for (const { match, start, end } of scanner.find(EVERY_RE)) {
    const unitWord = match[2]!;
    if (match[1] === undefined && unitWord.length === 1) continue;
    const n = numberOf(match[1]);
    const unit = unitOf(unitWord);
    if (n === undefined || n === 0 || unit === undefined) continue;
    if (unit === 'month') {
      if (p.monthly === undefined && p.seconds === undefined) {
        p.monthly = n;
        take(start, end);
      }
      continue;
    }
    setFrequency(UNIT_SECONDS[unit] * n, start, end);
  }
  for (const { match, start, end } of scanner.find(ADVERB_RE)) {
    const word = match[1]!.toLowerCase().replace(/\s+/g, ' ');
    if (word === 'monthly') {
      if (p.monthly === undefined && p.seconds === undefined) {
        p.monthly = 1;
        take(start, end);
      }
      continue;
    }
    if (word === 'hourly' || word === 'per hour') setFrequency(3600, start, end);
    else if (word === 'weekly') setFrequency(UNIT_SECONDS.week, start, end);
    else if (word === 'twice daily') setFrequency(43_200, start, end);
    else if (word === 'nightly' || word.endsWith('night')) setFrequency(86_400, start, end, [2, 0]);
    else if (word.endsWith('morning')) setFrequency(86_400, start, end, [6, 0]);
    else if (word.endsWith('evening')) setFrequency(86_400, start, end, [18, 0]);
    else setFrequency(86_400, start, end);
  }
  for (const { match, start, end } of scanner.find(WEEKDAY_RE)) {
    const word = match[1]!.toLowerCase();
    if (word.startsWith('weekday') || word.startsWith('business') || word.startsWith('working')) p.weekdays.push('1-5');
    else if (word.startsWith('weekend')) p.weekdays.push('0,6');
    else p.weekdays.push(String(DAY_NAMES.indexOf(word.replace(/s$/, ''))));
    take(start, end);
  }
  for (const { match, start, end } of scanner.find(TIME_RE)) {
    // A bare "5:00"-style time counts only next to another schedule word, or after "at".
    const time = parseTime(match);
    if (time === undefined) {
      if (/^at\s/i.test(match[0])) warnings.push(`ignored "${match[0].trim()}": not a time of day`);
      continue;
    }
    if (p.time !== undefined) {
      p.extra.push(match[0].trim());
      scanner.claim(start, end);
      continue;
    }
    p.time = time;
    take(start, end);
  }
  if (p.words.length === 0) return undefined;
  if (p.extra.length > 0)
    warnings.push(`used the first schedule only; ignored ${p.extra.map((e) => `"${e}"`).join(', ')}`);
  p.words.sort((a, b) => a.start - b.start);
  const words = p.words.map((w) => scanner.words(w.start, w.end)).join(' ');
  const start = p.words[0]!.start;
  const result = cronFor(p);
  if (result === undefined) {
    warnings.push(`could not turn "${words}" into a schedule`);
    return undefined;
  }
  if (result.spec.expression !== undefined) {
    const error = cronError(result.spec.expression);
    if (error !== undefined) {
      warnings.push(`could not turn "${words}" into a schedule: ${error}`);
      return undefined;
    }
  }
  const rendered = result.spec.expression ?? `every ${result.spec.intervalSeconds} seconds`;
  const reason = `"${words}" → ${result.spec.type} ${rendered}${result.note !== undefined ? ` (${result.note})` : ''}`;
  return { spec: result.spec, reason, words, start };
}

// ---------------------------------------------------------------------------------------------------
// Intents, formats, auth

const FULL_RE =
  /\b(full[\s-]refresh(?:es)?|full\s+(?:load|sync|copy|export|extract|snapshot|dump|reload)s?|snapshots?|everything\s+once|one[\s-](?:off|time)|once|full|entire\s+(?:table|dataset|history)s?|backfill|reload\s+everything)\b/gi;
const INCREMENTAL_RE =
  /\b(incremental(?:ly)?|new\s+(?:and\s+(?:updated|changed)\s+)?(?:rows|records|items|entries)|(?:updates?|updated|modified|changed|changes)\s+since(?:\s+(?:the\s+)?last\s+(?:run|sync|load))?|since\s+(?:the\s+)?last\s+(?:run|sync|load)|only\s+(?:new|changed|updated|modified)|deltas|upserts?)\b/gi;
const CHANGES_RE =
  /\b(change\s+data\s+capture|cdc|change\s+events?|changes|changed\s+rows|debezium|logical\s+replication|binlog|wal|replicat(?:e|es|ing|ion))\b/gi;
const LIVE_RE =
  /\b(near[\s-]real[\s-]?time|real[\s-]?time|stream(?:s|ing|ed)?|continuous(?:ly)?|live|as\s+(?:they|it)\s+happens?|low[\s-]latency)\b/gi;

const FORMAT_RE =
  /\b(?:(?:as|in|into|to)\s+(?:an?\s+)?(delta|parquet|json|avro)(?:\s+(?:lake|tables?|files?|format))?|(delta|parquet|avro)\s+(?:format|tables?|lake)|(json)\s+format)\b/gi;

const AUTH_PATTERNS: ReadonlyArray<readonly [RegExp, AuthMethod | 'token']> = [
  [/\b(oauth\s*2(?:\.0)?|oauth|client\s+credentials)\b/gi, 'oauth2'],
  [/\b(api[\s-]?keys?|x-api-key)\b/gi, 'api_key'],
  [/\b(bearer(?:\s+tokens?)?|(?:personal\s+)?access\s+tokens?|private\s+app\s+tokens?|api\s+tokens?|pat)\b/gi, 'token'],
  [/\b(basic\s+auth(?:entication)?|user(?:name)?\s+and\s+password|username\/password)\b/gi, 'basic'],
  [/\b(iam(?:\s+role)?|assumed?\s+role|instance\s+profile|role\s+arn)\b/gi, 'iam'],
  [
    /\b(no\s+auth(?:entication)?|without\s+auth(?:entication)?|unauthenticated|anonymous(?:ly)?|public\s+api)\b/gi,
    'none',
  ],
];

// ---------------------------------------------------------------------------------------------------
// Table names and cursor columns (read before intents, schedules and stop words can take their words)

/**
 * Everyday words that are common table names: read as one when their shape says so ("the stream
 * table", "table sync", "event from Postgres"), even though they are also verbs, intents or stop words.
 */
const NAME_WORDS = new Set(
  `track tracks stream sync syncs order orders user users event events group groups copy copies change
  load loads log logs job jobs run runs session sessions message messages file files item items account accounts
  archive archives backup backups store stores schedule schedules capture captures import imports export exports
  type types system systems app apps team teams company test tests source sources destination destinations`.split(
    /\s+/,
  ),
);
/** Words that are never a table before "table" ("the same table", "a lake table", "each table"). */
const NOT_BEFORE_TABLE = new Set(
  `a an the and or but of to into onto in on at by for from with via as is are be it its this that these those my our
  your their each every any all some one single same other entire whole full new main source target destination lake
  staging landing raw custom standard first last big small following given which what database db schema
  sql postgres mysql delta parquet json avro`.split(/\s+/),
);
/** Determiners that make the next word a name: "the sync table", "our user table". */
const DETERMINER = /(?:^|\s)(?:the|a|an|my|our|your|their|this|that)\s+$/i;
/** A clause start: the sentence start, punctuation, or a joining word; the word there is a verb ("Copy table track"). */
const CLAUSE_START = /(?:^|[,.;:!?]|\b(?:and|then|please|to)\s)\s*$/i;
/** Whole words the intent patterns take ("stream", "changes", "once"): verbs, not tables, unless a determiner precedes. */
const INTENT_WORD =
  /^(?:stream(?:s|ing|ed)?|changes|cdc|replicat(?:e|es|ing|ion)|incremental(?:ly)?|full|once|snapshots?|deltas|upserts?|live|continuous(?:ly)?|backfill|everything)$/i;
const NAME = String.raw`[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?`;
const TABLE_AFTER_NAME_RE = new RegExp(String.raw`(?<![\w$.])(${NAME})\s+table\b`, 'g');
const TABLE_BEFORE_NAME_RE = new RegExp(String.raw`\btable\s+(${NAME})(?![\w$.])`, 'g');
const NAME_FROM_RE = new RegExp(String.raw`(?<![\w$.])(${NAME})\s+from\b`, 'g');
const QUALIFIED_RE = /(?<![\w$.@/:-])([A-Za-z_][\w$]*)\.([A-Za-z_][\w$]*)(?![\w$.@/-])/g;
/** A column name, maybe quoted; never the name before "table" ("incremental on the orders table" names no cursor). */
const COLUMN = String.raw`["'\u0060]?([A-Za-z_][\w$]*)["'\u0060]?(?![\w$])(?!\s+tables?\b)`;
const CURSOR_PATTERNS: ReadonlyArray<{ re: RegExp; column: number; claimFrom: number }> = [
  // "incremental on modified_at", "incrementally by updated_at", "cursor on x": the intent word stays an intent.
  {
    re: new RegExp(
      String.raw`\b(?:incremental(?:ly)?|sync(?:ed)?|cursor|watermark)(\s+(?:on|by|using|over)\s+(?:the\s+)?(?:column\s+)?${COLUMN}(?:\s+column)?)`,
      'gi',
    ),
    column: 2,
    claimFrom: 1,
  },
  // "using modified_at as the cursor", "with updated_at as incremental key".
  {
    re: new RegExp(
      String.raw`\b(?:using|with)\s+(?:the\s+)?(?:column\s+)?${COLUMN}(?:\s+column)?\s+as\s+(?:the\s+|an?\s+)?(?:cursor|incremental\s+(?:key|column|cursor|field)|watermark|high[\s-]water[\s-]?mark)(?:\s+(?:column|field))?`,
      'gi',
    ),
    column: 1,
    claimFrom: 0,
  },
  // "cursor column modified_at", "cursor: modified_at", "the cursor is modified_at".
  {
    re: new RegExp(String.raw`\bcursor(?:\s+(?:column|field))?(?:\s+is|\s*[:=])?\s+${COLUMN}`, 'gi'),
    column: 1,
    claimFrom: 0,
  },
];
/** What follows the dot of a file name or a host name, not of a schema-qualified table. */
const NOT_A_TABLE_SUFFIX =
  /^(?:csv|tsv|json|jsonl|ndjson|parquet|avro|txt|gz|zip|xlsx?|sql|ya?ml|com|net|org|io|dev|internal|local|lan)$/i;
/** "by <column>": only a column-shaped word (snake_case, or a time/version name), and not "partitioned by". */
const BY_COLUMN_RE = new RegExp(
  String.raw`(?<!\b(?:partition(?:ed)?|group(?:ed)?|cluster(?:ed)?|split)\s+)\bby\s+${COLUMN}`,
  'gi',
);
const COLUMN_SHAPE = /_|(?:at|date|time|timestamp|ts|stamp|version|seq|sequence|modified|updated|changed)$/i;

/** The jdbc providers' names and aliases, normalised. */
function databaseKeys(registry: ProviderRegistry): Set<string> {
  const keys = new Set<string>();
  for (const provider of registry.list()) {
    if (provider.type !== 'jdbc') continue;
    for (const key of [provider.provider, ...provider.aliases]) keys.add(normalise(key));
  }
  return keys;
}

/** Whether `text` starts by naming a database: a jdbc provider's name or alias, its connection URL, or an env reference. */
function namesDatabase(text: string, keys: ReadonlySet<string>): boolean {
  const rest = text.replace(/^\s*(?:(?:the|my|our|a|an|local|production|prod|staging|dev)\s+)*/i, '');
  if (/^(?:jdbc:)?(?:postgres(?:ql)?|pgsql|mysql|mariadb)(?:\+\w+)?:\/\//i.test(rest) || /^\$\{\w+\}/.test(rest))
    return true;
  const words = rest.split(/[\s,.;:!?()]+/).slice(0, 3);
  for (let n = words.length; n >= 1; n--) {
    if (keys.has(normalise(words.slice(0, n).join('')))) return true;
  }
  return /^(?:database|db)\b/i.test(rest);
}

/** Reads the cursor column phrases; the first is kept, any other is a warning. */
function parseCursor(scanner: Scanner, warnings: string[]): CursorMention | undefined {
  const found: Array<CursorMention & { end: number; claimStart: number }> = [];
  const take = (match: RegExpMatchArray, start: number, end: number, column: number, claimFrom: number) => {
    const name = match[column]!;
    if (STOP_WORDS.has(name.toLowerCase()) && !COLUMN_SHAPE.test(name)) return;
    const claimStart = claimFrom === 0 ? start : start + match[0].indexOf(match[claimFrom]!);
    found.push({ column: name, words: match[0].trim(), start, end, claimStart });
  };
  for (const { re, column, claimFrom } of CURSOR_PATTERNS) {
    for (const { match, start, end } of scanner.find(re)) {
      take(match, start, end, column, claimFrom);
      const last = found[found.length - 1];
      if (last !== undefined && last.start === start) scanner.claim(last.claimStart, end);
    }
  }
  for (const { match, start, end } of scanner.find(BY_COLUMN_RE)) {
    if (!COLUMN_SHAPE.test(match[1]!)) continue;
    take(match, start, end, 1, 0);
    scanner.claim(start, end);
  }
  found.sort((a, b) => a.start - b.start);
  const columns = [...new Set(found.map((f) => f.column))];
  if (columns.length > 1) {
    warnings.push(
      `used the cursor column ${columns[0]}; ignored ${columns.slice(1).join(', ')} (a connector has one cursor)`,
    );
  }
  const first = found[0];
  return first === undefined ? undefined : { column: first.column, words: first.words, start: first.start };
}

/**
 * Table names by their shape, before intents, schedules and stop words can take their words: "the X
 * table", "X table", "table X", "X from <database>", `schema.X`. Each name is claimed and kept as typed.
 */
function parseTables(scanner: Scanner, registry: ProviderRegistry): TableMention[] {
  const keys = databaseKeys(registry);
  const text = scanner.text;
  const tables: TableMention[] = [];
  const isProvider = (name: string) => registry.find(normalise(name)) !== undefined;
  const stopWord = (name: string) => STOP_WORDS.has(name.toLowerCase()) && !NAME_WORDS.has(name.toLowerCase());
  const add = (name: string, start: number, how: string) => {
    tables.push({ name, words: name, start, how });
    scanner.claim(start, start + name.length);
  };
  // "table X" first: in "Copy table track" the verb before "table" is no name.
  for (const { match, start, end } of scanner.find(TABLE_BEFORE_NAME_RE)) {
    const name = match[1]!;
    // The words as written, nothing claimed between them ("Copy <sales.member> from" is no "Copy from").
    if (text.slice(start, start + match[0].length) !== match[0]) continue;
    const lower = name.toLowerCase();
    if (stopWord(name) || NOT_BEFORE_TABLE.has(lower) || isProvider(name)) continue;
    if (INTENT_WORD.test(name) && !NAME_WORDS.has(lower)) continue;
    add(name, end - name.length, 'named after "table"');
  }
  for (const { match, start } of scanner.find(TABLE_AFTER_NAME_RE)) {
    const name = match[1]!;
    // The words as written, nothing claimed between them ("Copy <sales.member> from" is no "Copy from").
    if (text.slice(start, start + match[0].length) !== match[0]) continue;
    const lower = name.toLowerCase();
    if (NOT_BEFORE_TABLE.has(lower) || isProvider(name)) continue;
    const before = text.slice(0, start);
    const determined = DETERMINER.test(before);
    const verbLike = stopWord(name) || INTENT_WORD.test(name) || NAME_WORDS.has(lower);
    // "Copy table track": a verb at the start of a clause; "Copy the sync table": a name.
    if (!determined && verbLike && CLAUSE_START.test(before)) continue;
    if (!determined && stopWord(name)) continue;
    add(name, start, `named before "table"`);
  }
  const words = text.split(/[^A-Za-z0-9_$]+/).filter(Boolean);
  const database =
    /\b(?:postgres|mysql|mariadb)\w*:\/\//i.test(text) ||
    words.some((_, i) =>
      [1, 2, 3].some((n) => i + n <= words.length && keys.has(normalise(words.slice(i, i + n).join('')))),
    );
  if (!database) return tables;
  for (const { match, start } of scanner.find(QUALIFIED_RE)) {
    if (isProvider(match[1]!)) continue;
    // "Postgres at db.internal" is a host, "orders.csv" a file: neither is a table, nor part of one.
    const host = /\b(?:at|host|server|hostname|on)\s+$/i.test(text.slice(0, start));
    if (host || NOT_A_TABLE_SUFFIX.test(match[2]!)) scanner.claim(start, start + match[0].length);
    else add(match[0], start, 'a schema-qualified table name');
  }
  for (const { match, start, end } of scanner.find(NAME_FROM_RE)) {
    const name = match[1]!;
    // The words as written, nothing claimed between them ("Copy <sales.member> from" is no "Copy from").
    if (text.slice(start, start + match[0].length) !== match[0]) continue;
    const lower = name.toLowerCase();
    if (!namesDatabase(text.slice(end), keys)) continue;
    if (stopWord(name) || isProvider(name) || NOT_BEFORE_TABLE.has(lower)) continue;
    const before = text.slice(0, start);
    if (INTENT_WORD.test(name) && !NAME_WORDS.has(lower) && !DETERMINER.test(before)) continue;
    // Only right after the verb or a determiner: "Load member from Postgres", "Copy the event from MySQL".
    const clause = before.slice(before.search(/[^,.;:!?]*$/));
    if (!DETERMINER.test(before) && !/^\s*(?:(?:please|then|and)\s+)?(?:[A-Za-z]+\s+)?$/i.test(clause)) continue;
    // "Copy from Postgres": the word at the start of a clause is the verb.
    if (CLAUSE_START.test(before) && (NAME_WORDS.has(lower) || STOP_WORDS.has(lower))) continue;
    const next = (text.slice(end).trim().split(/\s+/)[0] ?? '').replace(/[,.;:!?]+$/, '');
    add(name, start, `the table before "from" ${/[:$]/.test(next) ? 'a connection string' : next}`);
  }
  return tables.sort((a, b) => a.start - b.start);
}

// ---------------------------------------------------------------------------------------------------
// The parser

/** Reads a description: every phrase it understands, and the words left for provider and entity matching. */
export function parseDescription(text: string, registry: ProviderRegistry): ParsedDescription {
  const scanner = new Scanner(text);
  const warnings: string[] = [];
  const providers: ProviderMention[] = [];
  const locations: Array<LocationMention & { decided: boolean }> = [];
  const connections: ConnectionMention[] = [];
  const urls: UrlMention[] = [];
  const quoted: QuotedName[] = [];
  const patterns = hostPatterns(registry);
  let auth: AuthMention | undefined;

  // IAM role ARNs first: their parts ("aws", "s3-reader") must not read as providers.
  for (const { match, start, end } of scanner.find(ARN_RE)) {
    auth ??= { method: 'iam', roleArn: match[0], words: match[0], start };
    scanner.claim(start, end);
  }

  for (const { match, start } of scanner.find(URL_RE)) {
    const written = trimTrailingPunctuation(match[0]);
    const end = start + written.length;
    const scheme = match[1]!.toLowerCase();
    const shown = redactConnection(written);
    const isConnection = !['s3', 's3a', 'file', 'http', 'https'].includes(scheme);
    // Locations and API URLs go into the manifest, so their credentials are dropped here.
    const url = isConnection ? written : withoutCredentials(written);
    if (url !== written)
      warnings.push(`dropped the credentials from "${shown}": they come from env vars (auth.config)`);
    if (scheme === 's3' || scheme === 's3a' || scheme === 'file') {
      const { role, leadStart } = classifyLocation(scanner, start);
      locations.push({
        location: url,
        role: role ?? 'destination',
        decided: role !== undefined,
        words: `${text.slice(leadStart, start)}${shown}`.trim(),
        start: leadStart,
      });
      scanner.claim(leadStart, end);
    } else if (scheme === 'http' || scheme === 'https') {
      scanner.claim(start, end);
      let parsed: URL | undefined;
      try {
        parsed = new URL(url);
      } catch {
        warnings.push(`ignored "${shown}": not a valid URL`);
        continue;
      }
      if (/\/graphql\/?$/i.test(parsed.pathname) || parsed.hostname.startsWith('graphql.')) {
        urls.push({ url, kind: 'graphql', words: shown, start });
      } else if (/\.(json|ya?ml)$/i.test(parsed.pathname)) {
        urls.push({ url, kind: 'openapi', words: shown, start });
      } else {
        const host = matchHost(parsed.hostname, patterns);
        if (host) {
          providers.push({
            provider: host.provider,
            how: 'host',
            key: parsed.hostname.toLowerCase(),
            distance: 0,
            baseUrl: host.baseUrl,
            placeholders: host.placeholders,
            words: shown,
            start,
          });
        } else {
          urls.push({ url, kind: 'api', words: shown, start });
        }
      }
    } else {
      connections.push({ raw: url, words: shown, start });
      scanner.claim(start, end);
    }
  }

  for (const { match, start, end } of scanner.find(ENV_REF_RE)) {
    connections.push({ raw: match[0], words: match[0], start });
    scanner.claim(start, end);
  }

  for (const { match, start } of scanner.find(PATH_RE)) {
    const path = trimTrailingPunctuation(match[0]);
    const { role, leadStart } = classifyLocation(scanner, start);
    // A bare "/v1/customers" is more likely an API path than a folder: only paths with a preposition count.
    if (role === undefined && !/^(?:\.{1,2}|~)\//.test(path)) continue;
    locations.push({
      location: path,
      role: role ?? 'destination',
      decided: role !== undefined,
      words: text.slice(leadStart, start + path.length).trim(),
      start: leadStart,
    });
    scanner.claim(leadStart, start + path.length);
  }

  // An undecided location is the source when another one is the destination.
  const hasDestination = locations.some((l) => l.decided && l.role === 'destination');
  const settled: LocationMention[] = locations.map(({ decided, ...l }) =>
    !decided && hasDestination ? { ...l, role: 'source' } : l,
  );

  for (const { match, start, end } of scanner.find(HOST_RE)) {
    const host = matchHost(match[0], patterns);
    if (!host) continue;
    providers.push({
      provider: host.provider,
      how: 'host',
      key: match[0].toLowerCase(),
      distance: 0,
      baseUrl: host.baseUrl,
      placeholders: host.placeholders,
      words: match[0],
      start,
    });
    scanner.claim(start, end);
  }

  const cursor = parseCursor(scanner, warnings);

  const QUOTED_RE =
    /(?<=^|[\s(,:])(["'`\u201c\u2018])([^"'`\u201c\u201d\u2018\u2019\n]{1,80})(["'`\u201d\u2019])(?=$|[\s),.;:!?])/g;
  for (const { match, start, end } of scanner.find(QUOTED_RE)) {
    const name = match[2]!.trim();
    if (name === '' || registry.find(name) !== undefined || name.split(/\s+/).length > 3) continue;
    quoted.push({ name, words: match[0], start });
    scanner.claim(start, end);
  }

  let format: FormatMention | undefined;
  for (const { match, start, end } of scanner.find(FORMAT_RE)) {
    const value = (match[1] ?? match[2] ?? match[3])!.toLowerCase() as LakeFormat;
    if (format === undefined) format = { format: value, words: match[0], start };
    else if (format.format !== value) warnings.push(`used format ${format.format}; ignored "${match[0]}"`);
    scanner.claim(start, end);
  }

  const schedule = parseSchedule(scanner, warnings);
  const tables = parseTables(scanner, registry);

  const intents: IntentMention[] = [];
  const addIntents = (pattern: RegExp, intent: IntentKind, changes: boolean) => {
    for (const { match, start, end } of scanner.find(pattern)) {
      const words = match[0];
      intents.push({ intent, changes, continuous: /^continuous/i.test(words), words, start });
      scanner.claim(start, end);
    }
  };
  addIntents(INCREMENTAL_RE, 'incremental', false);
  addIntents(FULL_RE, 'full_refresh', false);
  addIntents(CHANGES_RE, 'stream', true);
  addIntents(LIVE_RE, 'stream', false);
  intents.sort((a, b) => a.start - b.start);
  // "Stream changes" is one wish, not two: merge neighbours of the same kind.
  const merged: IntentMention[] = [];
  for (const intent of intents) {
    const previous = merged[merged.length - 1];
    const end = previous !== undefined ? previous.start + previous.words.length : 0;
    if (previous !== undefined && previous.intent === intent.intent && /^\s+$/.test(text.slice(end, intent.start))) {
      merged[merged.length - 1] = {
        intent: intent.intent,
        changes: previous.changes || intent.changes,
        continuous: previous.continuous || intent.continuous,
        words: text.slice(previous.start, intent.start + intent.words.length),
        start: previous.start,
      };
    } else {
      merged.push(intent);
    }
  }

  for (const [pattern, method] of AUTH_PATTERNS) {
    for (const { match, start, end } of scanner.find(pattern)) {
      auth ??= { method, words: match[0], start };
      scanner.claim(start, end);
    }
  }

  const tokens = tokenise(scanner);
  const used = matchProviders(text, tokens, registry, providers);
  providers.sort((a, b) => a.start - b.start);

  return {
    text,
    tokens: tokens.filter((_, index) => !used.has(index)),
    providers,
    intents: merged,
    ...(schedule ? { schedule } : {}),
    locations: settled,
    connections,
    urls,
    ...(format ? { format } : {}),
    ...(auth ? { auth } : {}),
    quoted,
    tables,
    ...(cursor ? { cursor } : {}),
    warnings,
  };
}

function tokenise(scanner: Scanner): Token[] {
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const { match, start, end } of scanner.find(/[A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*/g)) {
    const gap = scanner.text.slice(previousEnd, start);
    const maskedGap = scanner.remaining.slice(previousEnd, start);
    tokens.push({
      text: match[0],
      start,
      end,
      norm: normalise(match[0]),
      adjacent: tokens.length > 0 && /^[\s-]*$/.test(gap) && maskedGap === gap,
      comma: /[,;]/.test(gap),
    });
    previousEnd = end;
  }
  return tokens;
}

/** "rest" is a provider only as "REST" or before api/endpoint/service ("the rest of the tables" is not). */
function restInContext(tokens: readonly Token[], index: number): boolean {
  const token = tokens[index]!;
  if (token.text === 'REST') return true;
  return /^(apis?|endpoints?|services?|interface)$/.test(tokens[index + 1]?.norm ?? '');
}

/** Finds provider names, aliases and typos among the tokens; returns the indexes of the tokens used. */
function matchProviders(
  text: string,
  tokens: readonly Token[],
  registry: ProviderRegistry,
  out: ProviderMention[],
): Set<number> {
  const used = new Set<number>();
  const keys = registry.keys();
  const mention = (from: number, count: number, how: ProviderMention['how'], key: string, distance: number) => {
    const first = tokens[from]!;
    const last = tokens[from + count - 1]!;
    const provider = registry.find(key)!;
    for (let k = from; k < from + count; k++) used.add(k);
    out.push({
      provider,
      how: how === 'alias' && normalise(provider.provider) === key ? 'name' : how,
      key,
      distance,
      words: text.slice(first.start, last.end),
      start: first.start,
    });
  };
  const runKey = (from: number, count: number): string | undefined => {
    if (from + count > tokens.length) return undefined;
    for (let k = from; k < from + count; k++) {
      if (used.has(k) || (k > from && !tokens[k]!.adjacent)) return undefined;
    }
    return tokens
      .slice(from, from + count)
      .map((t) => t.norm)
      .join('');
  };
  // Exact names and aliases, longest first ("amazon simple storage service" before "amazon s3").
  for (let i = 0; i < tokens.length; i++) {
    for (let n = 4; n >= 1; n--) {
      const key = runKey(i, n);
      if (key === undefined || key === '') continue;
      if (registry.find(key) === undefined) continue;
      if (key === 'rest' && !restInContext(tokens, i)) continue;
      // "orders kafka topic": take "kafka" and leave "topic" to mark the entity.
      const shorter = n > 1 ? runKey(i, n - 1) : undefined;
      if (shorter !== undefined && ENTITY_KEYWORDS.has(tokens[i + n - 1]!.norm) && registry.find(shorter) !== undefined)
        continue;
      mention(i, n, 'alias', key, 0);
      i += n - 1;
      break;
    }
  }
  // Typos: two adjacent words first ("sales froce"), then single words.
  const typo = (candidate: string): { key: string; distance: number } | undefined => {
    if (candidate.length < 4 || /^\d/.test(candidate)) return undefined;
    const reach = typoReach(candidate.length);
    let best: { key: string; distance: number } | undefined;
    for (const key of keys) {
      if (key.length < 4 || key === 'rest' || key[0] !== candidate[0]) continue;
      const distance = typoDistance(candidate, key);
      if (distance > 0 && distance <= reach && (best === undefined || distance < best.distance))
        best = { key, distance };
    }
    return best;
  };
  const fuzzyAllowed = (token: Token) =>
    !STOP_WORDS.has(token.text.toLowerCase()) && !NEAR_MISSES.has(token.text.toLowerCase());
  for (let i = 0; i + 1 < tokens.length; i++) {
    const key = runKey(i, 2);
    if (key === undefined || NEAR_MISSES.has(key) || !fuzzyAllowed(tokens[i]!) || !fuzzyAllowed(tokens[i + 1]!))
      continue;
    const hit = typo(key);
    if (hit && typo(tokens[i]!.norm) === undefined && typo(tokens[i + 1]!.norm) === undefined) {
      mention(i, 2, 'typo', hit.key, hit.distance);
      i++;
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    if (used.has(i) || !fuzzyAllowed(tokens[i]!)) continue;
    const hit = typo(tokens[i]!.norm);
    if (hit) mention(i, 1, 'typo', hit.key, hit.distance);
  }
  return used;
}

// ---------------------------------------------------------------------------------------------------
// Entities

/** Singular and plural forms of an entity name, normalised: Opportunity → opportunity, opportunities. */
function entityForms(entity: string): string[] {
  const n = normalise(entity);
  const forms = new Set([n]);
  if (n.endsWith('ies')) forms.add(`${n.slice(0, -3)}y`);
  if (n.endsWith('es')) forms.add(n.slice(0, -2));
  if (n.endsWith('s') && !n.endsWith('ss')) forms.add(n.slice(0, -1));
  if (!n.endsWith('s')) {
    if (/[^aeiou]y$/.test(n)) forms.add(`${n.slice(0, -1)}ies`);
    else if (/(x|ch|sh)$/.test(n)) forms.add(`${n}es`);
    else forms.add(`${n}s`);
  }
  for (const synonym of SYNONYMS[entity] ?? []) forms.add(normalise(synonym));
  return [...forms];
}

function isIdentifier(token: Token): boolean {
  return /^[A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?$/.test(token.text) && !STOP_WORDS.has(token.text.toLowerCase());
}

export interface EntityOptions {
  /** More entity names, spelt as they should come out (e.g. the collections of an OpenAPI document). */
  readonly known?: readonly string[];
  /** How to explain a match of `known`, e.g. "a collection of the OpenAPI document". */
  readonly knownAs?: string;
  /** Words recognised as entities but kept as the user spelt them (e.g. every provider's entity names). */
  readonly vocabulary?: readonly string[];
}

/**
 * The entities a description names for this provider, in the order written: its common entities
 * (singular or plural, any case, typos), names next to "table"/"object"/"topic", quoted names,
 * `__c` and CamelCase object names, snake_case identifiers, and for databases a name after "from".
 */
export function findEntities(
  parsed: ParsedDescription,
  provider: ProviderDefinition,
  options: EntityOptions = {},
): EntityMention[] {
  const tokens = parsed.tokens;
  const found: EntityMention[] = [];
  const taken = new Set<number>();
  const anchors = new Set<number>();
  const formsOf = new Map<string, string>();
  const why = new Map<string, string>();
  const commonAs =
    options.vocabulary !== undefined ? 'a common entity name' : `a common ${provider.displayName} entity`;
  for (const entity of options.known ?? []) {
    for (const form of entityForms(entity)) if (!formsOf.has(form)) formsOf.set(form, entity);
    why.set(entity, options.knownAs ?? 'a known entity');
  }
  for (const entity of provider.entities.common) {
    for (const form of entityForms(entity)) if (!formsOf.has(form)) formsOf.set(form, entity);
    if (!why.has(entity)) why.set(entity, commonAs);
  }
  const vocabularyForms = new Set<string>();
  for (const word of options.vocabulary ?? []) for (const form of entityForms(word)) vocabularyForms.add(form);
  const isDatabase = provider.type === 'jdbc';
  // A database's table names are used as typed: the schema agent matches them against the live catalog.
  const canonical = (name: string) => (isDatabase ? name : (formsOf.get(normalise(name)) ?? name));
  const add = (name: string, token: Token | { start: number; words: string }, meaning: string) => {
    const words = 'words' in token ? token.words : token.text;
    found.push({ name, words, start: token.start, meaning });
  };

  for (const table of parsed.tables) add(canonical(table.name), table, `table ${canonical(table.name)} (${table.how})`);
  for (const q of parsed.quoted) add(canonical(q.name), q, `entity ${canonical(q.name)} (quoted)`);

  // Names next to a keyword: "orders table", "tables orders, customers and products", "the Invoice__c object".
  tokens.forEach((token, index) => {
    if (!ENTITY_KEYWORDS.has(token.text.toLowerCase())) return;
    const keyword = token.text.toLowerCase();
    // Two tokens are linked when only spaces, hyphens or a comma separate them.
    const linked = (a: number, b: number) => {
      const later = tokens[Math.max(a, b)];
      return later !== undefined && (later.adjacent || later.comma);
    };
    const collect = (from: number, direction: 1 | -1) => {
      let previous = index;
      let k = from;
      while (
        k >= 0 &&
        k < tokens.length &&
        KEYWORD_ADJECTIVES.has(tokens[k]!.text.toLowerCase()) &&
        linked(previous, k)
      ) {
        previous = k;
        k += direction;
      }
      let expectName = true;
      for (; k >= 0 && k < tokens.length && linked(previous, k); previous = k, k += direction) {
        const t = tokens[k]!;
        const word = t.text.toLowerCase();
        if (!expectName && (word === 'and' || word === 'or' || word === '&')) {
          expectName = true;
          continue;
        }
        if (!expectName && !tokens[Math.max(previous, k)]!.comma) break;
        if (!isIdentifier(t) || taken.has(k) || ENTITY_KEYWORDS.has(word)) break;
        if (direction === 1 && CONTAINER_WORDS.has(tokens[k + 1]?.text.toLowerCase() ?? '')) break;
        taken.add(k);
        add(canonical(t.text), t, `entity ${canonical(t.text)} (named next to "${keyword}")`);
        expectName = false;
      }
    };
    const before = found.length;
    collect(index - 1, -1);
    const quotedBefore = parsed.quoted.some((q) =>
      /^\s*$/.test(parsed.text.slice(q.start + q.words.length, token.start)),
    );
    // "the Invoice__c object and Quote": the keyword carries the list on.
    if (found.length > before || quotedBefore) anchors.add(index);
    collect(index + 1, 1);
  });

  // Databases: whatever comes after "from" ("from orders and customers"), unless it is the database itself.
  if (isDatabase) {
    tokens.forEach((token, index) => {
      if (token.text.toLowerCase() !== 'from') return;
      let k = index + 1;
      while (k < tokens.length && /^(the|my|our|a|an|all)$/i.test(tokens[k]!.text)) k++;
      let expectName = true;
      for (; k < tokens.length; k++) {
        const t = tokens[k]!;
        const word = t.text.toLowerCase();
        if (!expectName && (word === 'and' || word === '&')) {
          expectName = true;
          continue;
        }
        if (!expectName && !t.comma) break;
        if (
          !isIdentifier(t) ||
          !(t.adjacent || t.comma) ||
          CONTAINER_WORDS.has(tokens[k + 1]?.text.toLowerCase() ?? '')
        )
          break;
        if (!taken.has(k)) {
          taken.add(k);
          add(canonical(t.text), t, `entity ${canonical(t.text)} (the table after "from")`);
        }
        expectName = false;
      }
    });
  }

  // Common entities of the provider (and the document's), in one to three words: "pull requests", "order items".
  for (let i = 0; i < tokens.length; i++) {
    if (taken.has(i)) continue;
    for (let n = 3; n >= 1; n--) {
      if (i + n > tokens.length) continue;
      const run = tokens.slice(i, i + n);
      if (run.some((t, k) => taken.has(i + k) || (k > 0 && !t.adjacent))) continue;
      const key = run.map((t) => t.norm).join('');
      const first = run[0]!;
      const common = formsOf.get(key);
      const entity =
        (common !== undefined && isDatabase && n === 1 ? first.text : common) ??
        (vocabularyForms.has(key)
          ? n === 1
            ? first.text
            : run.map((t) => t.text.toLowerCase()).join('_')
          : undefined);
      if (entity === undefined) continue;
      const singularWord = n === 1 && AMBIGUOUS_SINGULARS.has(first.text) && !first.text.endsWith('s');
      if (singularWord && !DATA_NOUN.test(parsed.text.slice(first.end))) continue;
      for (let k = 0; k < n; k++) taken.add(i + k);
      const words = parsed.text.slice(first.start, run[n - 1]!.end);
      add(entity, { start: first.start, words }, `entity ${entity} (${why.get(entity) ?? 'a common entity name'})`);
      i += n - 1;
      break;
    }
  }

  // Object names by their shape: Invoice__c, OpportunityLineItem, order_items, public.orders.
  tokens.forEach((token, index) => {
    if (taken.has(index) || !isIdentifier(token)) return;
    const text = token.text;
    let why: string | undefined;
    if (/__(c|mdt|x)$/i.test(text)) why = 'a custom object name';
    else if (!isDatabase && /^[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*$/.test(text)) why = 'a CamelCase object name';
    else if (/^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(text)) why = 'a snake_case name';
    else if (isDatabase && /^[A-Za-z_]\w*\.[A-Za-z_]\w*$/.test(text)) why = 'a schema-qualified table name';
    if (why === undefined) return;
    taken.add(index);
    add(canonical(text), token, `entity ${canonical(text)} (${why})`);
  });

  // Lists: a name joined to an entity by "and" or a comma is one too ("invoices and payments").
  const listed = (index: number): boolean => {
    const t = tokens[index];
    return (
      t !== undefined && !taken.has(index) && isIdentifier(t) && t.norm.length >= 3 && !ENTITY_KEYWORDS.has(t.norm)
    );
  };
  const gapIs = (a: Token, b: Token, pattern: RegExp) => pattern.test(parsed.text.slice(a.end, b.start));
  for (let grew = true; grew;) {
    grew = false;
    tokens.forEach((token, index) => {
      if (!taken.has(index) && !anchors.has(index)) return;
      const next = tokens[index + 1];
      const afterAnd = tokens[index + 2];
      const previous = tokens[index - 1];
      const beforeAnd = tokens[index - 2];
      const join = (k: number, other: Token) => {
        taken.add(k);
        add(canonical(other.text), other, `entity ${canonical(other.text)} (listed with ${token.text})`);
        grew = true;
      };
      if (next !== undefined && listed(index + 1) && gapIs(token, next, /^\s*,\s*$/)) join(index + 1, next);
      else if (
        next?.norm === 'and' &&
        afterAnd !== undefined &&
        listed(index + 2) &&
        gapIs(token, next, /^\s*,?\s*$/) &&
        gapIs(next, afterAnd, /^\s+$/)
      )
        join(index + 2, afterAnd);
      if (!taken.has(index)) return;
      if (previous !== undefined && listed(index - 1) && gapIs(previous, token, /^\s*,\s*$/)) join(index - 1, previous);
      else if (
        previous?.norm === 'and' &&
        beforeAnd !== undefined &&
        listed(index - 2) &&
        gapIs(beforeAnd, previous, /^\s*,?\s*$/) &&
        gapIs(previous, token, /^\s+$/)
      )
        join(index - 2, beforeAnd);
    });
  }

  // Typos of common entities: "opportunites", "custmers".
  tokens.forEach((token, index) => {
    if (taken.has(index) || token.norm.length < 6 || STOP_WORDS.has(token.text.toLowerCase())) return;
    let best: { entity: string; distance: number } | undefined;
    for (const [form, entity] of formsOf) {
      if (form[0] !== token.norm[0]) continue;
      const distance = typoDistance(token.norm, form);
      if (distance <= typoReach(token.norm.length) && (best === undefined || distance < best.distance)) {
        best = { entity, distance };
      }
    }
    if (!best) return;
    taken.add(index);
    if (isDatabase)
      add(token.text, token, `table ${token.text} (close to ${best.entity}; matched against the catalog)`);
    else add(best.entity, token, `entity ${best.entity} ("${token.text}" read as a typo)`);
  });

  const seen = new Set<string>();
  return found
    .sort((a, b) => a.start - b.start)
    .filter((e) => {
      const key = e.name.toLowerCase();
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/**
 * Words that may name a provider the registry lacks, best guess first: capitalised words and words
 * after "from"/"to"/"in"/"with" score higher; stop words and any provider's entity names are skipped.
 */
export function unknownProviderWords(parsed: ParsedDescription, registry: ProviderRegistry): string[] {
  const entityWords = new Set<string>();
  for (const provider of registry.list()) {
    for (const entity of provider.entities.common) for (const form of entityForms(entity)) entityWords.add(form);
  }
  const tokens = parsed.tokens;
  // A capital that is not just the start of the sentence: "Snowflake", "OpenAI", "SQL".
  const proper = (token: Token, index: number) =>
    /^[A-Z]/.test(token.text) && (index > 0 || /[A-Z]/.test(token.text.slice(1)) || /\d/.test(token.text));
  const scored: Array<{ index: number; score: number }> = [];
  tokens.forEach((token, index) => {
    const lower = token.text.toLowerCase();
    if (token.norm.length < 3 || /^\d/.test(token.norm) || STOP_WORDS.has(lower) || entityWords.has(token.norm)) return;
    if (ENTITY_KEYWORDS.has(lower)) return;
    let score = proper(token, index) ? 2 : 0;
    const previous = parsed.text.slice(0, token.start).trimEnd().split(/\s+/).pop()?.toLowerCase() ?? '';
    if (['from', 'to', 'in', 'into', 'with', 'on', 'using', 'via'].includes(previous)) score += 2;
    scored.push({ index, score });
  });
  // A name in several capitalised words stays whole: "MS SQL Server".
  const whole = (index: number): string => {
    let first = index;
    let last = index;
    while (first > 0 && tokens[first]!.adjacent && proper(tokens[first - 1]!, first - 1)) first--;
    while (last + 1 < tokens.length && tokens[last + 1]!.adjacent && /^[A-Z]/.test(tokens[last + 1]!.text)) last++;
    return parsed.text.slice(tokens[first]!.start, tokens[last]!.end);
  };
  return scored.sort((a, b) => b.score - a.score || a.index - b.index).map((s) => whole(s.index));
}
