import type { JsonPath, Problem } from './problem.js';

/**
 * The one place that knows what a credential looks like: detection (a manifest never carries one) and
 * redaction (a problem, an error or a receipt never repeats one). Every expression here runs in time
 * linear in its input, so a 1 MB string costs milliseconds.
 */

/** `${NAME}`: the only form in which a manifest may carry a credential. */
export const ENV_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const ENV_REFERENCE_ANYWHERE = /\$\{[A-Za-z_][A-Za-z0-9_]*\}/g;

/** What replaces a whole credential. */
export const REDACTED = '<redacted>';
/** What replaces the password of a URL or a `password=` parameter; a password of exactly this is no literal. */
export const MASK = '***';

/**
 * Formats of well-known credentials (provider token prefixes, JWTs, cloud keys, PEM private keys), found
 * anywhere in a text. Each starts only where the previous character cannot continue it, so no start
 * rescans another's run.
 */
const TOKEN_PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/(?<![\w-])eyJ[\w-]{5,}\.eyJ[\w-]{5,}\.[\w-]+/, 'a JSON Web Token'],
  [/\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_\w{30,}/, 'a GitHub token'],
  [/\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}/, 'a Stripe secret key'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/\bAIza[0-9A-Za-z_-]{35}\b/, 'a Google API key'],
  [/\bglpat-[A-Za-z0-9_-]{20,}/, 'a GitLab token'],
  [/\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b/, 'a Shopify access token'],
  [/\bpat-(?:na|eu)\d-[a-f0-9-]{36}\b/, 'a HubSpot private app token'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'a private key'],
];
/** All of them in one expression: one pass over a text finds any. */
const ANY_TOKEN = new RegExp(TOKEN_PATTERNS.map(([pattern]) => `(?:${pattern.source})`).join('|'), 'g');

/** The kind of the first well-known token in a text, or undefined. */
function tokenKind(text: string): string | undefined {
  ANY_TOKEN.lastIndex = 0;
  const match = ANY_TOKEN.exec(text);
  if (!match) return undefined;
  return TOKEN_PATTERNS.find(([pattern]) => pattern.test(match[0]))?.[1] ?? 'a token';
}

/** An Authorization header value: only as a whole value (the words occur in ordinary sentences). */
const AUTHORIZATION_VALUE = /^\s*(?:Bearer|Basic)\s+[A-Za-z0-9+/=._-]{8,}\s*$/i;

/**
 * A run of characters a token is made of; a random-looking one (mixed case and digits, high entropy, 24
 * characters or more, `/` separating words) or a 40-character AWS secret key is a credential.
 */
const WORD_RUN = /[A-Za-z0-9+/=_.-]{24,}/g;
const AWS_SECRET_KEY = /^[A-Za-z0-9+/]{40}$/;

/** Keys that name a credential. `*EnvVar`, `*Url` and `*Header(Name)` keys only point at one. */
const CREDENTIAL_KEY =
  /pass(?:word|wd|phrase)?$|^pwd$|secret|token|api[-_]?key|access[-_]?key|private[-_]?key|credential/i;
const POINTER_KEY = /(?:EnvVar|Url|Uri|Header|HeaderName|Type|Method|Field)$/;

/** Query/DSN parameters that carry a credential in a connection string. */
const CREDENTIAL_PARAM_NAMES =
  'password|passwd|pwd|pass|sslpassword|secret|client[-_]?secret|token|access[-_]?token|refresh[-_]?token|api[-_]?key|access[-_]?key|secret[-_]?key|sas|sig|signature';
const CREDENTIAL_PARAM = new RegExp(`^(?:${CREDENTIAL_PARAM_NAMES})$`, 'i');
/** Whether a query or DSN parameter of this name carries a credential (`password`, `api_key`, `sig` …). */
export function isCredentialParameter(name: string): boolean {
  return CREDENTIAL_PARAM.test(name);
}
const PARAMETER = /([?&;\s]|^)([A-Za-z_-]+)=([^&;\s]*)/g;
const URL_PARAMETER = /([?&;])([A-Za-z_-]+)=([^&;#]*)/g;

/**
 * Forms a credential takes in a free text (a log line, a driver's message) besides URLs: a parameter with
 * blanks around its `=` or a quoted value (`password = 'with space'`), a credential-named member of JSON
 * (`"password":"…"`) and an Authorization header value inside a sentence (`Bearer …`; an ordinary word such
 * as "Basic authentication" is left alone).
 */
const TEXT_PARAMETER = new RegExp(
  `(^|[?&;\\s,(])(${CREDENTIAL_PARAM_NAMES})(\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|"(?:[^"\\\\]|\\\\.)*"|[^&;\\s,)]*)`,
  'gi',
);
const JSON_MEMBER = new RegExp(
  `("(?:${CREDENTIAL_PARAM_NAMES}|authorization|private[-_]?key)"\\s*:\\s*)"((?:[^"\\\\]|\\\\.)*)"`,
  'gi',
);
const AUTHORIZATION_IN_TEXT = /\b(Bearer|Basic)(\s+)([A-Za-z0-9+/=._~-]{8,})/gi;

/** Masks the credentials {@link TEXT_PARAMETER} and {@link JSON_MEMBER} find. */
function maskTextForms(text: string): string {
  let out = text;
  if (out.includes('=')) {
    out = out.replace(TEXT_PARAMETER, (whole, lead: string, key: string, equals: string, value: string) => {
      const unquoted = /^(['"]).*\1$/s.test(value) ? value.slice(1, -1) : value;
      return isLiteralParameter(unquoted) ? `${lead}${key}${equals}${MASK}` : whole;
    });
  }
  if (out.includes('"')) {
    out = out.replace(JSON_MEMBER, (whole, head: string, value: string) =>
      isLiteral(value) ? `${head}"${MASK}"` : whole,
    );
  }
  return out;
}

/** Masks the Authorization header values inside a text (`Bearer …`), not an ordinary word after one. */
function maskAuthorizationValues(text: string): string {
  return text.replace(AUTHORIZATION_IN_TEXT, (whole, scheme: string, space: string, credential: string) =>
    /^[A-Z]?[a-z]+$/.test(credential) ? whole : `${scheme}${space}${MASK}`,
  );
}

/** A literal credential, as opposed to an env-var reference or an already masked value. */
const isLiteral = (text: string): boolean => text !== '' && text !== MASK && !ENV_REFERENCE.test(text);

/** A parameter's literal credential; `password=***.` is a masked one at the end of a sentence. */
const isLiteralParameter = (value: string): boolean =>
  isLiteral(value) && isLiteral(value.replace(/[.,;:!?)\]}]+$/, ''));

/** Entropy of a word in bits per character; a long word is judged by its first 256 characters. */
function shannonEntropy(word: string): number {
  const text = word.length > 256 ? word.slice(0, 256) : word;
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / text.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

function looksRandom(word: string): boolean {
  return /[a-z]/.test(word) && /[A-Z]/.test(word) && /\d/.test(word) && shannonEntropy(word) >= 4;
}

/** Each random-looking word of a text: [start, end) ranges. */
function randomWords(text: string): [number, number][] {
  const ranges: [number, number][] = [];
  // Such a word has a lower-case letter, an upper-case letter and a digit: most texts end here.
  if (!/[a-z]/.test(text) || !/[A-Z]/.test(text) || !/\d/.test(text)) return ranges;
  WORD_RUN.lastIndex = 0;
  for (let match = WORD_RUN.exec(text); match; match = WORD_RUN.exec(text)) {
    const run = match[0];
    const at = match.index;
    if (AWS_SECRET_KEY.test(run) && looksRandom(run)) {
      ranges.push([at, at + run.length]);
      continue;
    }
    for (let from = 0; from < run.length;) {
      const slash = run.indexOf('/', from);
      const end = slash < 0 ? run.length : slash;
      if (end - from >= 24 && looksRandom(run.slice(from, end))) ranges.push([at + from, at + end]);
      from = end + 1;
    }
  }
  return ranges;
}

/** What kind of credential a string looks like, or undefined. Env-var references never look like one. */
export function secretKind(value: string): string | undefined {
  const text = value.includes('${') ? value.replace(ENV_REFERENCE_ANYWHERE, ' ') : value;
  const kind = tokenKind(text);
  if (kind !== undefined) return kind;
  if (AUTHORIZATION_VALUE.test(text)) return 'an Authorization header value';
  if (randomWords(text).length > 0) return 'a token';
  return undefined;
}

/** The user info of the URL that starts at `scheme` (the index of its `://`) inside `token`. */
interface UserInfo {
  /** Where the password starts and ends in the token; undefined without a literal password. */
  readonly password?: readonly [number, number];
}

/**
 * Finds the password of a URL token. User info ends at the *last* `@` of the token, so a password with an
 * unencoded `@` or `/` is still found whole (at worst some host text is masked with it); `host:8080/…` is
 * a port, not a password.
 */
function userInfo(token: string, scheme: number): UserInfo {
  const start = scheme + 3;
  const at = token.lastIndexOf('@');
  if (at < start) return {};
  const colon = token.indexOf(':', start);
  if (colon < 0 || colon > at) return {};
  if (/[/?#]/.test(token.slice(start, colon))) return {};
  const password = token.slice(colon + 1, at);
  if (/^\d+[/?#]/.test(password)) return {};
  return isLiteral(password) ? { password: [colon + 1, at] } : {};
}

/** Blanks, quotes and angle brackets end a URL inside a text. */
function endsUrl(code: number): boolean {
  return (
    code <= 0x20 || code === 0x22 || code === 0x27 || code === 0x3c || code === 0x3e || code === 0x60 || code === 0xa0
  );
}

const SENTENCE_END = '.,;:!?)]}';

interface UrlSecrets {
  readonly redacted: string;
  readonly part?: string;
}

/**
 * Where each URL of a text starts, has its `://` and ends: a run of non-blank characters around a `://`,
 * without the punctuation that closes a sentence or a parenthesis after it.
 */
function* urlSpans(text: string): Generator<{ start: number; scheme: number; end: number }> {
  let from = 0;
  for (let scheme = text.indexOf('://', from); scheme >= 0; scheme = text.indexOf('://', from)) {
    let start = scheme;
    while (start > 0 && !endsUrl(text.charCodeAt(start - 1))) start--;
    let end = scheme + 3;
    while (end < text.length && !endsUrl(text.charCodeAt(end))) end++;
    while (end > scheme + 3 && SENTENCE_END.includes(text[end - 1]!)) end--;
    yield { start, scheme, end };
    from = Math.max(end, scheme + 3);
  }
}

/**
 * Masks the credentials of every URL in a text: the password in the user info and credential query
 * parameters. A URL is a run of non-blank characters around a `://`.
 */
function maskUrls(text: string): UrlSecrets {
  let part: string | undefined;
  let out = '';
  let copied = 0;
  for (const { start, scheme, end } of urlSpans(text)) {
    const token = text.slice(start, end);
    const { password } = userInfo(token, scheme - start);
    let masked = token;
    if (password) {
      part ??= 'a password in the user-info part';
      masked = `${token.slice(0, password[0])}${MASK}${token.slice(password[1])}`;
    }
    masked = masked.replace(URL_PARAMETER, (whole, lead: string, key: string, value: string) => {
      if (!CREDENTIAL_PARAM.test(key) || !isLiteral(value)) return whole;
      part ??= `the "${key}" parameter`;
      return `${lead}${key}=${MASK}`;
    });
    out += text.slice(copied, start) + masked;
    copied = end;
  }
  return { redacted: copied === 0 ? text : out + text.slice(copied), ...(part !== undefined ? { part } : {}) };
}

/** Masks `password=…`-style parameters anywhere in a text (a key=value DSN, a query string). */
function maskParameters(text: string): UrlSecrets {
  if (!text.includes('=')) return { redacted: text };
  let part: string | undefined;
  const redacted = text.replace(PARAMETER, (whole, lead: string, key: string, value: string) => {
    if (!CREDENTIAL_PARAM.test(key) || !isLiteralParameter(value)) return whole;
    part ??= `the "${key}" parameter`;
    return `${lead}${key}=${MASK}`;
  });
  return { redacted, ...(part !== undefined ? { part } : {}) };
}

/**
 * The credentials a connection string or URL carries, to mask wherever a driver repeats them: the
 * password of each URL's user info and the value of each credential parameter (quoted or not), as
 * written and URL-decoded. Env-var references and masked values are none.
 */
export function credentialValues(text: string): string[] {
  const values = new Set<string>();
  const add = (value: string) => {
    if (!isLiteral(value)) return;
    values.add(value);
    try {
      const decoded = decodeURIComponent(value);
      if (decoded !== '') values.add(decoded);
    } catch {
      // not percent-encoded
    }
  };
  for (const { start, scheme, end } of urlSpans(text)) {
    const token = text.slice(start, end);
    const { password } = userInfo(token, scheme - start);
    if (password) add(token.slice(password[0], password[1]));
  }
  for (const match of text.matchAll(TEXT_PARAMETER)) {
    const value = match[4] ?? '';
    add(/^(['"]).*\1$/s.test(value) ? value.slice(1, -1) : value);
  }
  return [...values];
}

/** A key=value connection string (`host=db dbname=orders password=…`): every word holds a `=`. */
function isKeyValueString(text: string): boolean {
  if (!/^\s*[A-Za-z_][\w.-]*=/.test(text)) return false;
  const words = text.trim().split(/[\s;]+/);
  return words.length > 1 && words.every((word) => /^[A-Za-z_][\w.-]*=/.test(word));
}

interface ConnectionSecret {
  readonly part: string;
  readonly redacted: string;
}

/** A literal credential inside a connection string (URL userinfo, query parameter or key=value DSN). */
export function connectionStringSecret(value: string): ConnectionSecret | undefined {
  const urls = maskUrls(value);
  const parameters = maskParameters(urls.redacted);
  const part = urls.part ?? parameters.part;
  return part === undefined ? undefined : { part, redacted: parameters.redacted };
}

/**
 * A literal credential anywhere in a free text (a field that is not a connection string): a URL with a
 * password, a `password=…`-style parameter (a key=value connection string, a driver's message), or a
 * token-shaped word.
 */
function embeddedSecret(value: string): string | undefined {
  const urls = maskUrls(value);
  if (urls.part !== undefined) return `a URL with ${urls.part}`;
  const parameters = maskParameters(value);
  if (parameters.part !== undefined) {
    return `${isKeyValueString(value) ? 'a connection string' : 'a text'} with ${parameters.part}`;
  }
  const kind = secretKind(value);
  return kind === undefined ? undefined : kind;
}

/**
 * Removes every credential from a text: the passwords and credential parameters of URLs and connection
 * strings (quoted or not), credential-named JSON members and Authorization header values become `***`,
 * token-shaped words and each of the `known` values (credentials found elsewhere,
 * say under a `password` key) become `<redacted>`. Idempotent; the only redactor of the IR.
 */
export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) if (secret.length >= 4 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  out = maskParameters(maskTextForms(maskUrls(out).redacted)).redacted;
  out = maskAuthorizationValues(out.replace(ANY_TOKEN, REDACTED));
  if (AUTHORIZATION_VALUE.test(out)) return REDACTED;
  const ranges = randomWords(out);
  if (ranges.length === 0) return out;
  let result = '';
  let copied = 0;
  for (const [start, end] of ranges) {
    result += out.slice(copied, start) + REDACTED;
    copied = end;
  }
  return result + out.slice(copied);
}

/**
 * A copy of a value with every string it holds, keys included, redacted; other values as they are. A
 * cycle, or nesting deeper than 1000, is cut with `<redacted>`.
 */
export function redactValue(value: unknown, known: readonly string[] = []): unknown {
  const ancestors = new Set<object>();
  const visit = (node: unknown, depth: number): unknown => {
    if (typeof node === 'string') return redactSecrets(node, known);
    if (node === null || typeof node !== 'object') return node;
    if (ancestors.has(node) || depth > 1000) return REDACTED;
    ancestors.add(node);
    let copy: unknown;
    if (Array.isArray(node)) {
      const items: unknown[] = [];
      for (let i = 0; i < node.length; i++) items.push(visit(node[i], depth + 1));
      copy = items;
    } else {
      const out = Object.create(null) as Record<string, unknown>;
      for (const [key, child] of Object.entries(node)) out[redactSecrets(key, known)] = visit(child, depth + 1);
      copy = out;
    }
    ancestors.delete(node);
    return copy;
  };
  return visit(value, 0);
}

/** A key longer than this is described in a problem's path, not repeated. */
const LONG_KEY = 4096;

/** A problem with every text it carries (message, found, expected, suggestion, path keys) redacted. */
export function redactProblem(problem: Problem, known: readonly string[] = []): Problem {
  const redact = (text: string) => redactSecrets(text, known);
  return {
    ...problem,
    path: problem.path.map((part) => {
      if (typeof part !== 'string') return part;
      return part.length > LONG_KEY ? `(a key of ${part.length} characters)` : redact(part);
    }),
    message: redact(problem.message),
    ...(problem.expected !== undefined ? { expected: redact(problem.expected) } : {}),
    ...(problem.found !== undefined ? { found: redact(problem.found) } : {}),
    ...(problem.suggestion !== undefined ? { suggestion: redact(problem.suggestion) } : {}),
  };
}

/** The literal credentials of a document. */
export interface LiteralSecrets {
  /** One problem for each, redacted. */
  readonly problems: Problem[];
  /** The credentials themselves, to redact wherever else they appear. */
  readonly values: string[];
  /**
   * The document with each of them replaced by its redacted form (keys renamed), to check further without
   * any check ever seeing, or deriving a text from, a credential; the document itself when it holds none.
   */
  readonly document: unknown;
}

export interface ScanOptions {
  /**
   * Strings longer than this are not searched for credential shapes (a caller that rejects them, and
   * never shows them, saves the time); a credential-named key's value is a credential at any length.
   */
  readonly maxLength?: number;
}

/**
 * Finds every literal credential in a raw document: a credential in a connection string, a URL with a
 * password in any field, a value under a credential-named key, or any string shaped like a known token,
 * in values and keys alike. Runs on unvalidated input of any depth (iteratively; each object once).
 */
export function scanLiteralSecrets(document: unknown, options: ScanOptions = {}): LiteralSecrets {
  const maxLength = options.maxLength ?? Infinity;
  const problems: Problem[] = [];
  const values: string[] = [];
  const spots: { path: JsonPath; key: boolean }[] = [];
  walkDocument(document, {
    key(key, at) {
      if (key === '' || key.length > maxLength) return;
      const kind = embeddedSecret(key);
      if (kind === undefined) return;
      const path = pathOf(at);
      problems.push(keyProblem(kind, path));
      values.push(key);
      spots.push({ path, key: true });
    },
    string(value, at) {
      if (value === '') return;
      const problem = secretProblem(value, at, value.length <= maxLength);
      if (problem === undefined) return;
      problems.push(problem);
      values.push(value);
      spots.push({ path: problem.path, key: false });
    },
  });
  return {
    problems: problems.map((problem) => redactProblem(problem, values)),
    values,
    document: spots.length === 0 ? document : withoutSecrets(document, spots, values),
  };
}

/** Where a value sits: its key and the place of its container (a path built only when needed). */
export interface Place {
  readonly key: string | number;
  readonly parent: Place | undefined;
}

/** The path of a place; the root (undefined) is the empty path. */
export function pathOf(place: Place | undefined): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at = place; at !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

/**
 * Visits every key and every string of a document in document order, depth first, iteratively (any
 * depth) and each object once (a cycle ends there).
 */
export function walkDocument(
  document: unknown,
  visit: {
    readonly key?: (key: string, at: Place) => void;
    readonly string?: (value: string, at: Place | undefined) => void;
  },
): void {
  const seen = new Set<object>();
  const stack: { value: unknown; at: Place | undefined }[] = [{ value: document, at: undefined }];
  while (stack.length > 0) {
    const { value, at } = stack.pop()!;
    if (typeof value === 'string') {
      visit.string?.(value, at);
    } else if (value !== null && typeof value === 'object' && !seen.has(value)) {
      seen.add(value);
      const entries = ownEntries(value);
      const children: { value: unknown; at: Place }[] = [];
      for (const [key, child] of entries) {
        const place: Place = { key, parent: at };
        if (typeof key === 'string') visit.key?.(key, place);
        children.push({ value: child, at: place });
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
}

/**
 * The own enumerable entries of an object or array (array indexes as numbers), without calling any
 * method the value itself may override.
 */
export function ownEntries(value: object): [string | number, unknown][] {
  const entries: [string | number, unknown][] = [];
  const isArray = Array.isArray(value);
  for (const key of Object.keys(value)) {
    const index = isArray && /^(?:0|[1-9]\d*)$/.test(key) ? Number(key) : undefined;
    entries.push([index ?? key, (value as Record<string, unknown>)[key]]);
  }
  return entries;
}

/** Writes an own property, even one named `__proto__`. */
function define(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * A copy of `document` with the value at each spot redacted (or, for a key, the key renamed). Only the
 * objects on the way to a spot are copied; the rest is shared.
 */
function withoutSecrets(
  document: unknown,
  spots: readonly { path: JsonPath; key: boolean }[],
  known: readonly string[],
): unknown {
  if (document === null || typeof document !== 'object') {
    const masked = typeof document === 'string' ? redactSecrets(document, known) : REDACTED;
    return masked !== document && !known.some((secret) => masked.includes(secret)) ? masked : REDACTED;
  }
  const copies = new Map<object, Record<string | number, unknown>>();
  const copyOf = (node: object): Record<string | number, unknown> => {
    let copy = copies.get(node);
    if (copy === undefined) {
      copy = (Array.isArray(node) ? [] : {}) as Record<string | number, unknown>;
      for (const [key, value] of ownEntries(node)) define(copy, key, value);
      copies.set(node, copy);
    }
    return copy;
  };
  const root = copyOf(document);
  /** The copy of the container that holds the last part of `path`, copying the way down. */
  const parentCopy = (path: JsonPath): Record<string | number, unknown> => {
    let original = document as Record<string | number, unknown>;
    let copy = root;
    for (const part of path.slice(0, -1)) {
      const child = original[part] as object;
      const childCopy = copyOf(child);
      define(copy, part, childCopy);
      original = child as Record<string | number, unknown>;
      copy = childCopy;
    }
    return copy;
  };
  for (const { path } of spots.filter((spot) => !spot.key)) {
    const parent = parentCopy(path);
    const last = path[path.length - 1]!;
    const value = parent[last];
    const masked = typeof value === 'string' ? redactSecrets(value, []) : REDACTED;
    define(parent, last, masked !== value && !known.some((secret) => masked.includes(secret)) ? masked : REDACTED);
  }
  // Deepest keys first, so every path still names the keys as they were.
  const keys = spots.filter((spot) => spot.key).sort((a, b) => b.path.length - a.path.length);
  for (const { path } of keys) {
    const parent = parentCopy(path);
    const last = String(path[path.length - 1]);
    const value = parent[last];
    delete parent[last];
    define(parent, redactSecrets(last, known), value);
  }
  return root;
}

/** The problems of {@link scanLiteralSecrets}. */
export function findLiteralSecrets(document: unknown): Problem[] {
  return scanLiteralSecrets(document).problems;
}

function keyProblem(kind: string, path: JsonPath): Problem {
  return {
    code: 'literal_secret',
    severity: 'error',
    path,
    message: `a key holds ${kind}; credentials never go in a manifest: put it in an environment variable and reference it`,
    expected: 'a field name',
    found: REDACTED,
  };
}

function secretProblem(value: string, at: Place | undefined, byShape: boolean): Problem | undefined {
  const key = String(at?.key ?? '');
  let cached: JsonPath | undefined;
  const path = (): JsonPath => (cached ??= pathOf(at));
  if (byShape && key === 'connectionString') {
    const secret = connectionStringSecret(value);
    if (secret) {
      return {
        code: 'literal_secret',
        severity: 'error',
        path: path(),
        message: `contains ${secret.part}; credentials never go in a manifest: use an env-var reference such as \${POSTGRES_CONNECTION_STRING}`,
        expected: 'an env-var reference',
        found: JSON.stringify(redactSecrets(secret.redacted)),
      };
    }
  }
  const kind = byShape ? embeddedSecret(value) : undefined;
  if (kind !== undefined) {
    return {
      code: 'literal_secret',
      severity: 'error',
      path: path(),
      message: `looks like ${kind}; credentials never go in a manifest: put it in an environment variable and reference it (\${NAME} or a *EnvVar field)`,
      expected: 'an env-var reference',
      found: REDACTED,
    };
  }
  if (typeof at?.key === 'string' && CREDENTIAL_KEY.test(key) && !POINTER_KEY.test(key) && !ENV_REFERENCE.test(value)) {
    return {
      code: 'literal_secret',
      severity: 'error',
      path: path(),
      message: `"${key}" holds a literal credential; name the environment variable instead (e.g. ${key}EnvVar)`,
      expected: 'an env-var reference',
      found: REDACTED,
    };
  }
  return undefined;
}
