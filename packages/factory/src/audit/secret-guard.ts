import {
  connectionStringSecret,
  findLiteralSecrets,
  formatPath,
  secretKind,
  type JsonPath,
} from '@connector-factory/ir';
import { FactoryError } from '../errors.js';

/** What a redacted secret becomes; a value already masked this way is not a secret. */
const MASK = '***';

/**
 * `scheme://user:password@` anywhere in a text, such as an error message quoting a connection string.
 * The password runs to the last `@` of its word, so one with an unencoded `@` or `/` is taken whole.
 */
const URL_USER_INFO = /([a-z][a-z0-9+.-]*:\/\/[^\s:@/]*:)(\S*)@(?=[^\s@]*(?:\s|$))/gi;

/** `password=…` (and the other credential parameters) in a URL query, a DSN or free text. */
const CREDENTIAL_PARAM =
  /(^|[?&;\s(,])(password|passwd|pwd|pass|sslpassword|secret|token|api[-_]?key|access[-_]?key|secret[-_]?key|sas)=([^&;\s),]*)/gi;

/** An Authorization header value inside a text. */
const AUTHORIZATION = /\b(Bearer|Basic)\s+[A-Za-z0-9+/=._-]{8,}/gi;

/** A PEM private key block (or its start, when the text was cut). */
const PRIVATE_KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/** A password or parameter value that is no secret: empty, already masked, or an env-var reference. */
const notSecret = (value: string) => value === '' || value === MASK || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value);

/** A text with every credential it holds replaced by `***`: URL passwords, credential parameters, tokens. */
export function redactSecretText(text: string): string {
  return text
    .replace(PRIVATE_KEY_BLOCK, MASK)
    .replace(URL_USER_INFO, (whole, head: string, password: string) =>
      notSecret(password) ? whole : `${head}${MASK}@`,
    )
    .replace(CREDENTIAL_PARAM, (whole, lead: string, key: string, value: string) =>
      notSecret(value) ? whole : `${lead}${key}=${MASK}`,
    )
    .replace(AUTHORIZATION, (_whole, scheme: string) => `${scheme} ${MASK}`)
    .replace(/[^\s"'`,;()<>[\]{}]+/g, (word) => (secretKind(word) !== undefined ? MASK : word));
}

/** The same value with masked credentials (`user:***@`, `password=***`, `***`) emptied, for detection only. */
function withoutMasks(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value === MASK) return '';
    return value
      .replace(URL_USER_INFO, (whole, head: string, password: string) => (password === MASK ? `${head}@` : whole))
      .replace(CREDENTIAL_PARAM, (whole, lead: string, key: string, found: string) =>
        found === MASK ? `${lead}${key}=` : whole,
      );
  }
  if (Array.isArray(value)) return value.map(withoutMasks);
  if (value !== null && typeof value === 'object') {
    const copy: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [key, child] of Object.entries(value)) copy[key] = withoutMasks(child);
    return copy;
  }
  return value;
}

/**
 * Where a value (a receipt's details, an approval's evidence) holds something that looks like a literal
 * credential: the IR's detection (token shapes, credential-named keys, connection strings) plus a
 * password in any URL or `password=` parameter, whatever the key. A credential already masked as `***`
 * is not one. Paths only; never the values.
 */
export function literalSecretPaths(value: unknown): { path: JsonPath; why: string }[] {
  const unmasked = withoutMasks(value);
  const found = findLiteralSecrets(unmasked).map((problem) => ({
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
      else if ([...node.matchAll(URL_USER_INFO)].some((match) => !notSecret(match[2]!))) {
        found.push({ path, why: 'contains a URL with a password' });
      }
    }
  };
  visit(unmasked, []);
  return found;
}

/**
 * A copy of `value` with every literal credential replaced by `***`: inside texts (URL passwords,
 * credential parameters, token-shaped words), and whole values where a credential-named key holds one.
 * For what must be kept although it may quote a secret, such as the error of a failed action.
 */
export function redactSecrets<T>(value: T): T {
  const redact = (node: unknown): unknown => {
    if (typeof node === 'string') return redactSecretText(node);
    if (Array.isArray(node)) return node.map(redact);
    if (node !== null && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, redact(child)]));
    }
    return node;
  };
  const copy = redact(value);
  // What the text rules cannot see (a plain word under a key named `password`) goes whole.
  for (const { path } of literalSecretPaths(copy)) {
    if (path.length === 0) return MASK as T;
    let parent = copy as Record<string | number, unknown>;
    for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
    Object.defineProperty(parent, path[path.length - 1]!, {
      value: MASK,
      enumerable: true,
      writable: true,
      configurable: true,
    });
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
