import { connectionStringSecret, findLiteralSecrets, formatPath, type JsonPath } from '@connector-factory/ir';
import { FactoryError } from '../errors.js';

/** A URL with a literal password anywhere in a text, such as an error message quoting a connection string. */
const EMBEDDED_URL_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:(?!\$\{[A-Za-z_][A-Za-z0-9_]*\}@)[^\s@/]+@/i;

/**
 * Where a value (a receipt's details, an approval's evidence) holds something that looks like a literal
 * credential: the IR's detection (token shapes, credential-named keys, connection strings) plus a
 * password in any URL or `password=` parameter, whatever the key. Paths only; never the values.
 */
export function literalSecretPaths(value: unknown): { path: JsonPath; why: string }[] {
  const found = findLiteralSecrets(value).map((problem) => ({
    path: problem.path,
    why: problem.message.split(';')[0]!,
  }));
  const seen = new Set(found.map((f) => formatPath(f.path)));
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (Array.isArray(node)) node.forEach((item, index) => visit(item, [...path, index]));
    else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node)) visit(child, [...path, key]);
    } else if (typeof node === 'string' && !seen.has(formatPath(path))) {
      const secret = connectionStringSecret(node);
      if (secret) found.push({ path, why: `contains ${secret.part}` });
      else if (EMBEDDED_URL_PASSWORD.test(node)) found.push({ path, why: 'contains a URL with a password' });
    }
  };
  visit(value, []);
  return found;
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
