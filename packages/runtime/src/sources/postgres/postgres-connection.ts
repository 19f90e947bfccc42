import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { ClientConfig, CustomTypesConfig } from 'pg';
import { RuntimeError } from '../../errors.js';
import { redactUrl } from '../env.js';
import { classifyPostgresError } from './postgres-errors.js';
import type { SqlConnectionOptions } from '../source.js';
import { canonicalPgTypes } from './postgres-values.js';

/** `"name"` with embedded double quotes doubled: the one way identifiers reach SQL text. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Session settings every connection gets, so that values arrive in the text forms the converters of
 * `postgres-values.ts` expect, whatever the server's or role's defaults are.
 */
export const SESSION_SETTINGS: Readonly<Record<string, string>> = {
  TimeZone: 'UTC',
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'iso_8601',
  bytea_output: 'hex',
  // Shortest exact float text on PostgreSQL 12+; full precision on older servers.
  extra_float_digits: '3',
  client_encoding: 'UTF8',
};

export interface PgConnectOptions {
  /** Type parsers for query results (default: the canonical ones). */
  readonly types?: CustomTypesConfig;
  /** Apply SESSION_SETTINGS after connecting (default true). */
  readonly sessionSettings?: boolean;
  /** Extra pg client settings (e.g. `replication: 'database'` for logical replication). */
  readonly extra?: Partial<ClientConfig> & Record<string, unknown>;
  /** application_name (default `connector-factory`). */
  readonly applicationName?: string;
}

const SSL_URL_PARAMS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslpassword', 'sslnegotiation'];

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new RuntimeError('config', `cannot read the TLS ${what} file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** pg's `ssl` setting for a TLS mode; undefined leaves the URL's own `sslmode` in charge. */
export async function pgSslOption(tls: SqlConnectionOptions['tls']): Promise<ClientConfig['ssl']> {
  if (tls === undefined) return undefined;
  if (tls.mode === 'disable') return false;
  const files = {
    ...(tls.caFile !== undefined ? { ca: await readPem(tls.caFile, 'CA') } : {}),
    ...(tls.certFile !== undefined ? { cert: await readPem(tls.certFile, 'certificate') } : {}),
    ...(tls.keyFile !== undefined ? { key: await readPem(tls.keyFile, 'key') } : {}),
  };
  switch (tls.mode) {
    case 'require':
      return { ...files, rejectUnauthorized: false };
    case 'verify-ca':
      // The chain must verify against the CA, but the host name need not match the certificate.
      return { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { ...files, rejectUnauthorized: true };
  }
}

/** The URL without its ssl* query parameters (options.tls replaces them; pg lets the URL win otherwise). */
function withoutSslParams(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const kept = url
    .slice(query + 1)
    .split('&')
    .filter(
      (pair) => pair !== '' && !SSL_URL_PARAMS.includes(decodeURIComponent(pair.split('=')[0] ?? '').toLowerCase()),
    );
  return kept.length > 0 ? `${url.slice(0, query)}?${kept.join('&')}` : url.slice(0, query);
}

/** The pg client configuration for a source's options (TLS files read here). */
export async function pgClientConfig(
  options: SqlConnectionOptions,
  connect: PgConnectOptions = {},
): Promise<ClientConfig> {
  const ssl = await pgSslOption(options.tls);
  return {
    connectionString: options.tls !== undefined ? withoutSslParams(options.url) : options.url,
    ...(ssl !== undefined ? { ssl } : {}),
    types: connect.types ?? canonicalPgTypes,
    application_name: connect.applicationName ?? 'connector-factory',
    connectionTimeoutMillis: 30_000,
    keepAlive: true,
    ...connect.extra,
  };
}

/**
 * A pg or network error as a RuntimeError that names the server by its redacted URL, never the password;
 * its code comes from `classifyPostgresError` (source_auth, source_permission, source_unavailable, config
 * for a missing database/table/column, else internal) and its data carries the SQLSTATE.
 */
export function pgError(error: unknown, url: string, doing: string): RuntimeError {
  if (error instanceof RuntimeError) return error;
  const { code: kind, sqlstate, driverCode: code } = classifyPostgresError(error);
  let message = typeof (error as { message?: unknown })?.message === 'string' ? (error as Error).message : '';
  if (message === '' && error instanceof AggregateError)
    message = error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join('; ');
  if (message === '') message = String(error);
  // pg messages do not carry the password, but be sure: a message must never echo the URL's secrets.
  message = message.split(url).join(redactUrl(url));
  const password = passwordOf(url);
  if (password !== undefined && password.length > 0) message = message.split(password).join('***');
  const hint =
    kind === 'source_auth'
      ? ' (check the user and password the connection URL takes from the environment)'
      : kind === 'source_unavailable'
        ? ' (is the server running and reachable?)'
        : '';
  return new RuntimeError(
    kind,
    `postgres ${redactUrl(url)}: ${doing}: ${message}${code !== undefined ? ` [${code}]` : ''}${hint}`,
    {
      cause: code !== undefined ? { code } : undefined,
      data: sqlstate !== undefined ? { sqlstate } : {},
    },
  );
}

function passwordOf(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:([^@/]*)@/i.exec(url);
  if (!match?.[1]) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/** The SQL that applies SESSION_SETTINGS (values are constants; quoted as literals anyway). */
export function sessionSettingsSql(): string {
  return Object.entries(SESSION_SETTINGS)
    .map(([name, value]) => `SET ${quoteIdent(name)} = '${value.replace(/'/g, "''")}'`)
    .join('; ');
}

/**
 * A connected pg Client with TLS, per-client type parsers and the session settings applied. Errors are
 * RuntimeErrors naming the redacted URL. The client has an `error` listener, so a dropped idle connection
 * does not crash the process; the next query on it fails instead.
 */
export async function connectPostgres(
  options: SqlConnectionOptions,
  connect: PgConnectOptions = {},
): Promise<pg.Client> {
  const client = new pg.Client(await pgClientConfig(options, connect));
  client.on('error', () => {
    // Reported to whoever uses the client next (its query rejects).
  });
  try {
    await client.connect();
    if (connect.sessionSettings !== false) await client.query(sessionSettingsSql());
  } catch (error) {
    await client.end().catch(() => undefined);
    throw pgError(error, options.url, 'cannot connect');
  }
  return client;
}
