import {
  slug,
  validateManifest,
  formatProblem,
  type ConnectorManifest,
  type LakeFormat,
  type ScheduleSpec,
  type Source,
  type WriteMode,
} from '@connector-factory/ir';
import type { SourceManifest } from '../agents/discovery/source-manifest.js';
import type { SchemaDefinition } from '../agents/schema/schema-definition.js';
import { FactoryError } from '../errors.js';

export interface ComposeOptions {
  /** Where the table lands (default: the discovery hint, else ./lake/<provider>/<entity>/). */
  readonly lakePath?: string;
  readonly format?: LakeFormat;
  /** The owning team (default $CONNECTOR_FACTORY_OWNER, else data-platform). */
  readonly owner?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** How fresh the data should be, from how often the connector runs (the SLO the Monitor checks). */
function freshnessMinutes(schedule: ScheduleSpec): number {
  if (schedule.type === 'continuous') return 5;
  if (schedule.type === 'interval') return Math.max(5, Math.ceil((schedule.intervalSeconds * 2) / 60));
  return 60 * 26;
}

/**
 * The Connector IR manifest from what the Discovery and Schema agents found, with the defaults a
 * platform team would pick: CDC and incremental syncs with keys merge into Delta, full refreshes
 * overwrite parquet; batch tables partition by `dt`; PII is masked unless the manifest says otherwise.
 * The result is validated: a manifest the factory composes is always valid.
 */
export function composeManifest(
  source: SourceManifest,
  schema: SchemaDefinition,
  options: ComposeOptions = {},
): ConnectorManifest {
  const env = options.env ?? process.env;
  const first = schema.entities[0];
  if (!first) throw new FactoryError('invalid_input', 'the schema has no entities to connect');
  const entitySlug = slug(first.name) || 'entity';
  const providerSlug = slug(source.provider);
  const strategy = schema.updateStrategy;
  const keys = schema.mergeKeys ?? first.primaryKey ?? [];
  const writeMode: WriteMode = strategy === 'full_refresh' ? 'overwrite' : keys.length > 0 ? 'merge' : 'append';
  const format: LakeFormat =
    options.format ?? source.destination?.format ?? (writeMode === 'merge' ? 'delta' : 'parquet');
  const lakePath = options.lakePath ?? source.destination?.lakePath ?? `./lake/${providerSlug}/${entitySlug}/`;
  const hint = source.schedule;
  const schedule: ScheduleSpec =
    strategy === 'cdc'
      ? { type: 'continuous' }
      : hint.type === 'continuous'
        ? { type: 'interval', intervalSeconds: 900 }
        : hint.type === 'cron'
          ? { type: 'cron', expression: hint.expression }
          : hint.type === 'interval'
            ? { type: 'interval', intervalSeconds: hint.intervalSeconds }
            : { type: 'event', eventSource: hint.eventSource };
  const partitionBy = strategy === 'cdc' || writeMode === 'merge' ? [] : ['dt'];
  const manifest: ConnectorManifest = {
    id: `connector_${providerSlug}_${entitySlug}_v1`,
    name: `${source.displayName} ${first.name}`,
    version: '1.0.0',
    // The location fields discovery found; whether they are the ones this source type needs is checked
    // by the validation below, which says which one is missing.
    source: {
      type: source.type,
      provider: source.provider,
      ...(source.baseUrl !== undefined ? { baseUrl: source.baseUrl } : {}),
      ...(source.connectionString !== undefined ? { connectionString: source.connectionString } : {}),
      auth: source.auth,
      ...(source.rateLimit !== undefined ? { rateLimit: source.rateLimit } : {}),
    } as Source,
    schema: {
      entities: schema.entities,
      ...(schema.relationships.length > 0 ? { relationships: schema.relationships } : {}),
      updateStrategy: strategy,
      ...(schema.incrementalKey !== undefined ? { incrementalKey: schema.incrementalKey } : {}),
      ...(schema.cdcConfig !== undefined ? { cdcConfig: schema.cdcConfig } : {}),
    },
    destination: {
      lakePath,
      format,
      compression: format === 'avro' ? 'snappy' : 'zstd',
      partitionBy,
      writeMode,
      ...(writeMode === 'merge' ? { mergeKeys: keys } : {}),
    },
    schedule,
    governance: {
      owner: options.owner ?? env.CONNECTOR_FACTORY_OWNER ?? 'data-platform',
      classification: schema.pii.length > 0 ? 'confidential' : 'internal',
      retentionDays: 365,
      piiHandling: 'mask',
      contract: {
        version: '1.0.0',
        slo: { freshnessMinutes: freshnessMinutes(schedule), availabilityPercent: 99.5, errorRatePercent: 1 },
      },
    },
  };
  const result = validateManifest(manifest);
  if (!result.ok) {
    throw new FactoryError(
      'invalid_input',
      `the composed manifest for ${manifest.id} is not valid`,
      result.problems.filter((p) => p.severity === 'error').map(formatProblem),
    );
  }
  return result.manifest;
}
