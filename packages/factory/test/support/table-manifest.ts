import type { ConnectorManifest, Destination, Field } from '@connector-factory/ir';

/**
 * A hand-written manifest that copies one PostgreSQL table (`${PG_URL}`) in full every hour to Parquet,
 * as `connector_postgres_<table>_v1`; `destination` adds to (or replaces) the Parquet settings.
 */
export function tableManifest(
  table: string,
  fields: Field[],
  destination: Partial<Destination> = {},
): ConnectorManifest {
  return {
    id: `connector_postgres_${table}_v1`,
    name: table,
    version: '1.0.0',
    source: {
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${PG_URL}',
      auth: { method: 'basic', config: {} },
    },
    schema: { entities: [{ name: table, primaryKey: ['id'], fields }], updateStrategy: 'full_refresh' },
    destination: {
      lakePath: '/tmp/never-written',
      format: 'parquet',
      partitionBy: [],
      writeMode: 'overwrite',
      ...destination,
    },
    schedule: { type: 'interval', intervalSeconds: 3600 },
    governance: {
      owner: 'test',
      classification: 'internal',
      retentionDays: 7,
      piiHandling: 'mask',
      contract: { version: '1', slo: { freshnessMinutes: 60, availabilityPercent: 99, errorRatePercent: 1 } },
    },
  };
}
