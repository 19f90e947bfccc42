import { join } from 'node:path';
import type { ConnectorManifest } from '@connector-factory/ir';
import { slug } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { secretValuesFromEnv } from '../observe/logger.js';
import { expandEnv } from '../sources/env.js';
import {
  ENCRYPTION_KEY_ENV,
  ENCRYPTION_KEY_ID_ENV,
  encryptionKeyFromEnv,
  HASH_KEY_ENV,
  hashKeyFromEnv,
  type PiiKeys,
} from '../transform/pii.js';
import { referencedEnvVars } from './create-source.js';

/** The operators' knobs, from the environment unless the caller sets them. */
export interface ConnectorLimits {
  /** Rows per source chunk (a resumable point): CF_CHUNK_ROWS. */
  readonly chunkRows?: number;
  /** Rows per lake batch: CF_BATCH_ROWS. */
  readonly batchRows?: number;
  /** The checkpoint folder: CF_STATE_DIR, else ./.connector-state. */
  readonly stateDir: string;
  /** Hand full-refresh rows over in bulk where possible: off when CF_CSV_HANDOVER is off, 0 or false. */
  readonly csvHandover: boolean;
}

/**
 * Everything a connector takes from its environment, resolved and checked once at start: the values of
 * the variables the manifest references, the lake table of each entity, the PII keys, the secrets the
 * logs and metrics mask, and the operators' limits. Nothing below the connector reads the process
 * environment.
 */
export interface ConnectorConfig {
  readonly manifest: ConnectorManifest;
  /** The variables the manifest's `${NAME}` references name, by name (every one set and non-empty). */
  readonly vars: Readonly<Record<string, string>>;
  /** The source's connection string with its references expanded (jdbc and stream sources). */
  readonly connection?: string;
  /** The destination's lakePath with its references expanded. */
  readonly lakePath: string;
  /** The PII keys the manifest's handling needs (none when no entity has a PII field to hash or encrypt). */
  readonly keys: PiiKeys;
  /** Literal credential values every log line, metric label and error message masks. */
  readonly secrets: readonly string[];
  readonly limits: ConnectorLimits;
  /** The lake table of an entity: the destination itself for one entity, a sub-folder per entity otherwise. */
  tablePath(entity: string): string;
}

/** What the caller sets itself (flags, options); each one wins over its environment variable. */
export interface ConnectorConfigOverrides {
  readonly batchRows?: number;
  readonly stateDir?: string;
  readonly csvHandover?: boolean;
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Every `${NAME}` in the strings under `value`, with the path of the first string naming it. */
function references(value: unknown, path: string, into: Map<string, string>): void {
  if (typeof value === 'string') {
    for (const match of value.matchAll(REFERENCE)) if (!into.has(match[1]!)) into.set(match[1]!, path);
  } else if (Array.isArray(value)) value.forEach((v, i) => references(v, `${path}[${i}]`, into));
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) references(v, path === '' ? k : `${path}.${k}`, into);
}

function positiveInt(text: string | undefined, name: string, problems: string[]): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^[1-9]\d*$/.test(text)) {
    problems.push(`${name} must be a positive whole number, not "${text}"`);
    return undefined;
  }
  return Number(text);
}

/** The lake table of an entity under an expanded lakePath. */
export function entityTablePath(manifest: ConnectorManifest, lakePath: string, entity: string): string {
  if (manifest.schema.entities.length === 1) return lakePath;
  return `${lakePath.replace(/\/+$/, '')}/${slug(entity) || 'entity'}/`;
}

/**
 * Resolves a connector's configuration from `env` (default: the process environment) once. Every
 * problem is gathered first, so one config error names all missing variables at once (by name and where
 * the manifest references them, never a value), then the invalid knobs and keys.
 */
export function resolveConnectorConfig(
  manifest: ConnectorManifest,
  env: NodeJS.ProcessEnv = process.env,
  overrides: ConnectorConfigOverrides = {},
): ConnectorConfig {
  // The references the runtime expands: the source's connection and the destination's path.
  const referenced = new Map<string, string>();
  references(manifest.source, 'source', referenced);
  references(manifest.destination, 'destination', referenced);

  const piiHandling = manifest.governance.piiHandling;
  const piiFields = manifest.schema.entities.flatMap((e) => e.fields.filter((f) => f.pii === true).map((f) => f.name));
  const keyVar =
    piiFields.length === 0 ? undefined : { hash: HASH_KEY_ENV, encrypt: ENCRYPTION_KEY_ENV }[piiHandling as string];

  const missing = [...referenced].filter(([name]) => env[name] === undefined || env[name] === '');
  const missingKey = keyVar !== undefined && (env[keyVar] ?? '').trim() === '';
  const problems: string[] = [];
  if (missing.length > 0 || missingKey) {
    const names = missing.map(([name, path]) => `${name} (${path})`);
    if (missingKey) names.push(`${keyVar} (governance.piiHandling is ${piiHandling} and fields are marked pii)`);
    problems.push(
      names.length === 1
        ? `environment variable ${names[0]!.replace(' (', ' is not set (')}`
        : `${names.length} environment variables are not set: ${names.join(', ')}`,
    );
  }
  const chunkRows = positiveInt(env.CF_CHUNK_ROWS, 'CF_CHUNK_ROWS', problems);
  const batchRows = overrides.batchRows ?? positiveInt(env.CF_BATCH_ROWS, 'CF_BATCH_ROWS', problems);
  if (problems.length > 0) throw new RuntimeError('config', `${manifest.id}: ${problems.join('; ')}`);

  const vars: Record<string, string> = {};
  for (const name of referenced.keys()) vars[name] = env[name]!;
  for (const name of [HASH_KEY_ENV, ENCRYPTION_KEY_ENV, ENCRYPTION_KEY_ID_ENV]) {
    const value = env[name];
    if (value !== undefined && value !== '') vars[name] = value;
  }
  const reason = `governance.piiHandling is ${piiHandling} and fields are marked pii`;
  const keys: PiiKeys =
    keyVar === HASH_KEY_ENV
      ? { hash: hashKeyFromEnv(vars, reason) }
      : keyVar === ENCRYPTION_KEY_ENV
        ? { encryption: encryptionKeyFromEnv(vars, reason) }
        : {};

  const { source } = manifest;
  const connectionString = 'connectionString' in source ? source.connectionString : undefined;
  const lakePath = expandEnv(manifest.destination.lakePath, vars);
  const secrets = secretValuesFromEnv([...referencedEnvVars(manifest), HASH_KEY_ENV, ENCRYPTION_KEY_ENV], env);
  const csvHandover =
    (overrides.csvHandover ?? true) && !['off', '0', 'false'].includes((env.CF_CSV_HANDOVER ?? '').toLowerCase());
  return {
    manifest,
    vars,
    ...(typeof connectionString === 'string' ? { connection: expandEnv(connectionString, vars) } : {}),
    lakePath,
    keys,
    secrets,
    limits: {
      ...(chunkRows !== undefined ? { chunkRows } : {}),
      ...(batchRows !== undefined ? { batchRows } : {}),
      stateDir: overrides.stateDir ?? env.CF_STATE_DIR ?? join(process.cwd(), '.connector-state'),
      csvHandover,
    },
    tablePath: (entity) => entityTablePath(manifest, lakePath, entity),
  };
}
