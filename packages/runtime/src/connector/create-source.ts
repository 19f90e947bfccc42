import type { ConnectorManifest } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { MysqlSource } from '../sources/mysql/mysql-source.js';
import { PostgresSource } from '../sources/postgres/postgres-source.js';
import { expandEnv } from '../sources/env.js';
import type { Source, SqlConnectionOptions } from '../sources/source.js';
import { POSTGRES_PROVIDERS } from './bulk-handover.js';

const MYSQL = new Set(['mysql', 'mariadb']);

/**
 * The runtime source for a manifest's `source`. Credentials come only from the environment: the
 * connection string is an env-var reference (`${POSTGRES_CONNECTION_STRING}`) expanded here; TLS
 * settings travel in it (`?sslmode=verify-full&sslrootcert=/etc/ca.pem`).
 */
export function createSource(
  manifest: ConnectorManifest,
  env: NodeJS.ProcessEnv = process.env,
  options: { chunkRows?: number } = {},
): Source {
  const { source } = manifest;
  if (source.type === 'jdbc') {
    if (!source.connectionString)
      throw new RuntimeError('config', `${manifest.id}: a jdbc source needs source.connectionString`);
    const url = expandEnv(source.connectionString, env);
    const chunk = options.chunkRows !== undefined ? { chunkRows: options.chunkRows } : {};
    // PostgreSQL reads sslmode/sslrootcert/sslcert/sslkey from the URL itself (libpq's names).
    if (POSTGRES_PROVIDERS.has(source.provider)) return new PostgresSource({ url, ...chunk });
    if (MYSQL.has(source.provider)) {
      const { url: plain, tls } = tlsFromUrl(url);
      return new MysqlSource({ url: plain, ...chunk, ...(tls ? { tls } : {}) });
    }
    throw new RuntimeError(
      'config',
      `${manifest.id}: no jdbc source for provider "${source.provider}" (postgres and mysql are supported)`,
    );
  }
  throw new RuntimeError(
    'config',
    `${manifest.id}: the ${source.type} source kind (${source.provider}) has no runtime source yet; jdbc (postgres, mysql) is supported`,
  );
}

type Tls = NonNullable<SqlConnectionOptions['tls']>;
const TLS_MODES: Record<string, Tls['mode']> = {
  disable: 'disable',
  disabled: 'disable',
  require: 'require',
  required: 'require',
  'verify-ca': 'verify-ca',
  verify_ca: 'verify-ca',
  'verify-full': 'verify-full',
  verify_identity: 'verify-full',
};

/**
 * TLS settings carried in a MySQL connection URL, with libpq's or MySQL's names (`sslmode` / `ssl-mode`,
 * `sslrootcert` / `ssl-ca`, `sslcert` / `ssl-cert`, `sslkey` / `ssl-key`), so a manifest's connection string
 * reference can turn TLS on; the parameters are removed from the URL the driver sees.
 */
export function tlsFromUrl(url: string): { url: string; tls?: Tls } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { url };
  }
  const take = (...names: string[]) => {
    for (const name of names) {
      const value = parsed.searchParams.get(name);
      if (value !== null) {
        for (const n of names) parsed.searchParams.delete(n);
        return value;
      }
    }
    return undefined;
  };
  const modeText = take('sslmode', 'ssl-mode', 'ssl_mode');
  const caFile = take('sslrootcert', 'ssl-ca', 'ssl_ca');
  const certFile = take('sslcert', 'ssl-cert', 'ssl_cert');
  const keyFile = take('sslkey', 'ssl-key', 'ssl_key');
  if (modeText === undefined && caFile === undefined && certFile === undefined && keyFile === undefined) return { url };
  const mode = TLS_MODES[(modeText ?? 'verify-full').toLowerCase()];
  if (!mode)
    throw new RuntimeError('config', `unknown TLS mode "${modeText}" (disable, require, verify-ca or verify-full)`);
  return {
    url: parsed.toString(),
    tls: { mode, ...(caFile ? { caFile } : {}), ...(certFile ? { certFile } : {}), ...(keyFile ? { keyFile } : {}) },
  };
}

/** Names of the environment variables a manifest references (connection strings, *EnvVar fields). */
export function referencedEnvVars(manifest: ConnectorManifest): string[] {
  const names = new Set<string>();
  const visit = (value: unknown, key = ''): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) names.add(match[1]!);
      if (key.endsWith('EnvVar')) names.add(value);
    } else if (Array.isArray(value)) value.forEach((v) => visit(v));
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  visit(manifest);
  return [...names].sort();
}
