import type { ConnectorManifest, Field, Schema } from '@connector-factory/ir';

/** A manifest for a PostgreSQL test table (connection from ${CF_TEST_PG_URL}); tests give what differs. */
export function pgTestManifest(
  table: string,
  parts: {
    readonly fields: Field[];
    readonly strategy: Pick<Schema, 'updateStrategy' | 'incrementalKey' | 'cdcConfig'>;
    readonly destination: Partial<ConnectorManifest['destination']> &
      Pick<ConnectorManifest['destination'], 'lakePath'>;
    readonly schedule: ConnectorManifest['schedule'];
  },
): ConnectorManifest {
  return {
    id: `connector_postgres_${table}_v1`,
    name: table,
    version: '1.0.0',
    source: {
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${CF_TEST_PG_URL}',
      auth: { method: 'basic', config: {} },
    },
    schema: { entities: [{ name: table, primaryKey: ['id'], fields: parts.fields }], ...parts.strategy },
    destination: {
      format: 'delta',
      compression: 'zstd',
      partitionBy: [],
      writeMode: 'merge',
      mergeKeys: ['id'],
      ...parts.destination,
    },
    schedule: parts.schedule,
    governance: {
      owner: 'test',
      classification: 'internal',
      retentionDays: 7,
      piiHandling: 'mask',
      contract: { version: '1.0.0', slo: { freshnessMinutes: 60, availabilityPercent: 99, errorRatePercent: 1 } },
    },
  };
}
