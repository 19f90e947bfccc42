import type { ConnectorManifest } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { MysqlSource } from '../sources/mysql/mysql-source.js';
import { PostgresSource } from '../sources/postgres/postgres-source.js';
import { expandEnv } from '../sources/env.js';
import type { Source } from '../sources/source.js';

const POSTGRES = new Set(['postgres', 'postgresql']);
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
    const settings = { url, ...(options.chunkRows !== undefined ? { chunkRows: options.chunkRows } : {}) };
    if (POSTGRES.has(source.provider)) return new PostgresSource(settings);
    if (MYSQL.has(source.provider)) return new MysqlSource(settings);
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
