import { normalise } from '../../../normalise.js';
import type { ProviderRegistry } from '../../../registry/provider-registry.js';
import type { TableMention } from './mentions.js';
import type { Scanner } from './scanner.js';
import { STOP_WORDS } from './vocabulary.js';

/** Table names by their shape, read before intents, schedules and stop words can take their words. */

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
/** What follows the dot of a file name or a host name, not of a schema-qualified table. */
const NOT_A_TABLE_SUFFIX =
  /^(?:csv|tsv|json|jsonl|ndjson|parquet|avro|txt|gz|zip|xlsx?|sql|ya?ml|com|net|org|io|dev|internal|local|lan)$/i;

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

/**
 * Table names by their shape, before intents, schedules and stop words can take their words: "the X
 * table", "X table", "table X", "X from <database>", `schema.X`. Each name is claimed and kept as typed.
 */
export function parseTables(scanner: Scanner, registry: ProviderRegistry): TableMention[] {
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
