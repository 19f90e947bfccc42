import { connectionStringSecret, credentialValues, redactSecrets } from '@connector-factory/ir';
import { classifySqlDriverError } from '@connector-factory/runtime/source-errors';
import { FactoryError } from '../../errors.js';
import { provideVariableHint } from '../../secrets/secret-store.js';

/**
 * Connection strings for the Schema Agent. Credentials come only from environment variables: the
 * connection string is a reference such as `${PG_URL}` (or a URL whose secret parts are references,
 * `postgresql://${PGUSER}:${PGPASSWORD}@db:5432/shop`); a literal password is refused. Nothing here
 * ever puts a secret into an error message.
 *
 * (The runtime has the same expansion in `expandEnv`; the factory does not depend on the runtime, so it
 * has its own, which reports a FactoryError.)
 */

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export type JdbcProvider = 'postgres' | 'mysql';

/**
 * Expands `${NAME}` references from `env`; a variable that is unset or empty is an `invalid_input` error
 * that says how to provide it. (Callers fill `env` from the secret store first: `withStoredSecrets`.)
 */
export function expandEnvReference(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(REFERENCE, (_match, name: string) => {
    const value = env[name];
    if (value === undefined || value === '') {
      throw new FactoryError(
        'invalid_input',
        `environment variable ${name} is not set (the connection references \${${name}}): ${provideVariableHint(name)}`,
      );
    }
    return value;
  });
}

/**
 * Refuses a connection string that carries a literal credential (a password in the URL's user info, a
 * `password=`/`pwd=`/… parameter): the IR's own rule. The error does not repeat the string.
 */
export function assertNoLiteralPassword(connectionString: string): void {
  const secret = connectionStringSecret(connectionString);
  if (secret !== undefined) {
    throw new FactoryError('invalid_input', `the connection string holds a literal credential (${secret.part})`, [
      "credentials come only from environment variables: pass a reference such as '${PG_URL}' " +
        '(in single quotes, so the shell does not expand it), or ${NAME} references for the secret parts',
    ]);
  }
}

/** A connection URL with its password (and credential parameters) replaced by `***`, safe to print: the IR's redactor. */
export function redactConnectionUrl(url: string): string {
  return redactSecrets(url);
}

/** The secrets a connection URL carries (the password, raw and decoded), to scrub from driver messages. */
export function secretsOf(url: string): string[] {
  return credentialValues(url);
}

/** `text` with every secret (and the full URL) replaced by `***`. */
export function scrubSecrets(text: string, url: string): string {
  let out = text.split(url).join(redactConnectionUrl(url));
  for (const secret of secretsOf(url).sort((a, b) => b.length - a.length)) out = out.split(secret).join('***');
  return out;
}

/** The provider a URL's scheme names: `postgres://`, `postgresql://` → postgres; `mysql://`, `mariadb://` → mysql. */
export function providerFromUrl(url: string): JdbcProvider | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return 'postgres';
  if (scheme === 'mysql' || scheme === 'mariadb') return 'mysql';
  return undefined;
}

/**
 * Infers the provider of a connection string reference by expanding it (the value is never returned).
 * Undefined when the scheme is not one the Schema Agent knows.
 */
export function inferProvider(
  connectionString: string,
  env: NodeJS.ProcessEnv = process.env,
): JdbcProvider | undefined {
  return providerFromUrl(expandEnvReference(connectionString, env));
}

/**
 * Checks and expands a connection string: refuses literal passwords, expands references, and checks
 * the scheme fits the provider. Returns the URL to connect with and its printable form.
 */
export function resolveConnection(
  provider: JdbcProvider,
  connectionString: string,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; redacted: string } {
  assertNoLiteralPassword(connectionString);
  const url = expandEnvReference(connectionString, env).trim();
  const redacted = redactConnectionUrl(url);
  const scheme = providerFromUrl(url);
  if (scheme === undefined) {
    const shown = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? redacted : '(not a URL)';
    const expected = `expected ${provider === 'postgres' ? 'postgresql' : 'mysql'}://user:password@host:port/database`;
    const details = url.toLowerCase().startsWith('jdbc:') ? [expected, 'drop the jdbc: prefix'] : [expected];
    throw new FactoryError('invalid_input', `the connection string ${shown} is not a ${provider} URL`, details);
  }
  if (scheme !== provider) {
    throw new FactoryError(
      'invalid_input',
      `the connection string is a ${scheme} URL, but the provider is ${provider}`,
    );
  }
  return { url, redacted };
}

/** Driver error codes that mean the user's setup is wrong (names, unknown database), not the agent. */
const USER_ERROR_CODES = new Set([
  // PostgreSQL SQLSTATE: unknown database.
  '3D000',
  // MySQL/MariaDB
  'ER_BAD_DB_ERROR',
]);

/**
 * A driver error as a FactoryError whose message names what failed and where (redacted) and carries
 * the driver's message with every secret scrubbed. A source that refuses (down, wrong credentials, no
 * privilege) is a source_* error carrying the SQLSTATE; other failures while connecting are the user's
 * setup (`invalid_input`), anything else the agent's (`internal`). The driver error is not attached as
 * the cause: its fields could hold connection parameters.
 */
export function driverError(
  provider: string,
  url: string,
  what: string,
  error: unknown,
  options: { connecting?: boolean } = {},
): FactoryError {
  if (error instanceof FactoryError) return error;
  // The runtime's source kinds classify their drivers' errors: the same codes for the agent and the connector.
  const { code: kind, sqlstate, driverCode: code } = classifySqlDriverError(provider, error);
  let message = error instanceof Error ? error.message : String(error);
  // Node reports a refused connection to every address of a host as an AggregateError with no message.
  if (message === '' && error instanceof AggregateError) {
    message = error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join('; ');
  }
  const detail = scrubSecrets(message, url) || (code ?? 'unknown error');
  const text = `${provider}: ${what} failed (${redactConnectionUrl(url)}): ${detail}`;
  const carried = sqlstate !== undefined ? { sqlstate } : {};
  if (kind === 'source_auth' || kind === 'source_permission' || kind === 'source_unavailable')
    return new FactoryError(kind, text, [], carried);
  const userError = options.connecting === true || (code !== undefined && USER_ERROR_CODES.has(code));
  return new FactoryError(userError ? 'invalid_input' : 'internal', text);
}
