import type { ConnectorManifest } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { parseSourceOptions, SOURCE_KINDS, sourceKindOf } from '../sources/registry.js';
import type { Source } from '../sources/source.js';

export { tlsFromUrl } from '../sources/mysql/mysql-options.js';

/**
 * The runtime source for a manifest's `source`: the kind that reads its provider (sources/registry.ts),
 * with the kind's settings from the manifest. Credentials come only from the environment: the
 * connection string is an env-var reference (`${POSTGRES_CONNECTION_STRING}`) expanded by the kind;
 * TLS settings travel in it (`?sslmode=verify-full&sslrootcert=/etc/ca.pem`).
 */
export function createSource(
  manifest: ConnectorManifest,
  env: NodeJS.ProcessEnv = process.env,
  options: { chunkRows?: number; connection?: string } = {},
): Source {
  const { source } = manifest;
  const kinds = Object.values(SOURCE_KINDS)
    .map((k) => `${k.kind} (${k.providers.join(', ')})`)
    .join(', ');
  if (source.type !== 'jdbc')
    throw new RuntimeError(
      'config',
      `${manifest.id}: the ${source.type} source kind (${source.provider}) has no runtime source yet; jdbc (postgres, mysql) is supported`,
    );
  const kind = sourceKindOf(source.provider);
  if (!kind)
    throw new RuntimeError(
      'config',
      `${manifest.id}: no jdbc source for provider "${source.provider}" (source kinds: ${kinds})`,
    );
  const settings = kind.optionsOf(manifest, {
    env,
    ...(options.chunkRows !== undefined ? { chunkRows: options.chunkRows } : {}),
    ...(options.connection !== undefined ? { connection: options.connection } : {}),
  });
  return kind.create(parseSourceOptions(kind, settings));
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
