import { editDistance } from './edit-distance.js';
import { redactSecrets } from './secrets.js';

/** A JSON path into a document: object keys and array indexes. */
export type JsonPath = ReadonlyArray<string | number>;

export type Severity = 'error' | 'warning';

/** Every kind of problem a manifest can have; editors and tools may switch on it. */
export type ProblemCode =
  // The document itself.
  | 'syntax_error'
  | 'unreadable'
  | 'too_long'
  | 'literal_secret'
  // Structure: what the schema allows.
  | 'unknown_key'
  | 'missing_field'
  | 'invalid_type'
  | 'invalid_enum'
  | 'invalid_value'
  | 'out_of_range'
  // Rules across fields.
  | 'invalid_id'
  | 'invalid_version'
  | 'id_provider_mismatch'
  | 'id_entity_mismatch'
  | 'id_version_mismatch'
  | 'burst_below_rate'
  | 'connection_not_reference'
  | 'duplicate_entity'
  | 'duplicate_field'
  | 'unknown_entity'
  | 'unknown_field'
  | 'unused_field'
  | 'cdc_without_merge'
  | 'unsupported_scheme'
  | 'invalid_lake_path'
  | 'unsupported_compression'
  | 'invalid_cron'
  | 'unsupported_field_name';

/**
 * One thing wrong with a manifest. Problems are data: the CLI (or an editor) turns them into messages.
 * `found` is always safe to print: values that look like credentials are redacted before they get here.
 */
export interface Problem {
  /** Stable machine-readable code, e.g. `literal_secret`, `unknown_key`, `invalid_enum`. */
  readonly code: ProblemCode;
  readonly severity: Severity;
  readonly path: JsonPath;
  readonly message: string;
  readonly expected?: string;
  readonly found?: string;
  /** A "did you mean" for a misspelt key or enum value. */
  readonly suggestion?: string;
}

/** `source.auth.config.scopes[0]`; the empty path is the document root, shown as `(root)`. */
export function formatPath(path: JsonPath): string {
  if (path.length === 0) return '(root)';
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out ? `.${part}` : part;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

export { editDistance };

/** Longer input is no typo of a name: "did you mean" is not worth comparing it. */
const SUGGESTION_MAX_LENGTH = 256;

/** The closest candidate within a typo's reach of `input`, case-insensitively; undefined when none is close. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  if (input.length > SUGGESTION_MAX_LENGTH) return undefined;
  const needle = input.toLowerCase();
  const reach = Math.max(2, Math.floor(needle.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    // The distance is at least the difference in length: skip what cannot be within reach.
    const lower = candidate.toLowerCase();
    if (Math.abs(lower.length - needle.length) > reach) continue;
    const distance = editDistance(needle, lower);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= reach ? best : undefined;
}

/** Longer texts are described, not quoted: a few words say more than its first characters. */
const LONG_TEXT = 4096;
const longText = (text: string): string => `a string of ${text.length} characters`;

/**
 * A text as a problem may show it: credentials redacted, then cut to 60 characters (redacting first, so
 * the cut never leaves part of a credential the redactor no longer recognises).
 */
export function shortText(text: string): string {
  if (text.length > LONG_TEXT) return `(${longText(text)})`;
  const safe = redactSecrets(text);
  return safe.length > 60 ? `${safe.slice(0, 57)}...` : safe;
}

/** A short, printable rendering of any JSON value for the `found` of a problem, never a credential. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return value.length > LONG_TEXT ? longText(value) : JSON.stringify(shortText(value));
  return String(value);
}

/** One line per problem: `path: message (expected X, found Y; did you mean Z?)`. */
export function formatProblem(problem: Problem): string {
  const details: string[] = [];
  if (problem.expected !== undefined) details.push(`expected ${problem.expected}`);
  if (problem.found !== undefined) details.push(`found ${problem.found}`);
  let text = `${formatPath(problem.path)}: ${problem.message}`;
  if (details.length > 0) text += ` (${details.join(', ')})`;
  if (problem.suggestion !== undefined) text += `; did you mean "${problem.suggestion}"?`;
  return text;
}
