import {
  findLiteralSecrets,
  formatPath,
  MASK,
  REDACTED,
  redactValue,
  scanLiteralSecrets,
  type JsonPath,
} from '@connector-factory/ir';
import { FactoryError } from '../errors.js';

/**
 * Where a value (a receipt's details, an approval's evidence) holds something that looks like a literal
 * credential, by the IR's detection (a URL with a password in any field, a `password=` parameter in any
 * text, token shapes, credential-named keys). A credential already masked as `***` is not one. Paths
 * only; never the values.
 */
export function literalSecretPaths(value: unknown): { path: JsonPath; why: string }[] {
  return findLiteralSecrets(value)
    .filter((problem) => !isRedacted(at(value, problem.path)))
    .map((problem) => ({ path: problem.path, why: problem.message.split(';')[0]! }));
}

/** What a redactor left in a credential's place: no credential, even under a credential-named key. */
const isRedacted = (value: unknown) => value === MASK || value === REDACTED;

/** The value at `path` (own members only), or undefined. */
function at(value: unknown, path: JsonPath): unknown {
  let node = value;
  for (const step of path) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, step)) return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

/**
 * A copy of `value` with every literal credential gone, through the IR's redactor: inside texts, a URL's
 * password and credential parameters become `***` and token-shaped words `<redacted>`; a credential
 * under a credential-named key goes whole. For what must be kept although it may quote a secret, such
 * as the error of a failed action. Objects come back with a null prototype.
 */
export function redactDetails<T>(value: T): T {
  // Texts first, so an error quoting a URL keeps its words; then what only its key marks as a credential.
  const masked = redactValue(value);
  const { values } = scanLiteralSecrets(masked);
  const copy = values.length === 0 ? masked : redactValue(masked, values);
  for (const { path } of literalSecretPaths(copy)) {
    // A credential too short to be replaced by its value (the redactor leaves those under 4 characters).
    if (path.length === 0) return MASK as T;
    let parent = copy as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    parent[path[path.length - 1]!] = MASK;
  }
  return copy as T;
}

/** Throws FactoryError('internal') naming where `value` holds a literal secret: a bug in the caller. */
export function assertNoSecrets(value: unknown, what: string): void {
  const found = literalSecretPaths(value);
  if (found.length === 0) return;
  const [first, ...rest] = found.map(({ path, why }) => `${formatPath(path)} ${why}`);
  throw new FactoryError(
    'internal',
    `refusing to store ${what}: ${first}; it never holds secrets (name the environment variable instead)`,
    rest,
  );
}
