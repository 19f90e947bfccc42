import type { ConnectorManifest, Field, PiiHandling, UpdateStrategy, WriteMode } from '@connector-factory/ir';

/** Test keys (never used outside tests). */
export const HASH_KEY = 'test-hash-key-0123456789abcdef';
export const ENCRYPTION_KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
export const ENCRYPTION_KEY = Buffer.from(ENCRYPTION_KEY_HEX, 'hex').toString('base64');
export const OTHER_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export const env = { CF_PII_HASH_KEY: HASH_KEY, CF_PII_ENCRYPTION_KEY: ENCRYPTION_KEY };

export const customerFields: Field[] = [
  { name: 'id', type: 'number', nullable: false },
  { name: 'email', type: 'string', nullable: true, pii: true },
  { name: 'phone', type: 'string', nullable: true, pii: true },
  { name: 'name', type: 'string', nullable: false, pii: true },
  { name: 'salary', type: 'number', nullable: true, pii: true },
  { name: 'balance', type: 'number', nullable: true },
  { name: 'birth_date', type: 'date', nullable: true, pii: true },
  { name: 'active', type: 'boolean', nullable: false },
  { name: 'updated_at', type: 'datetime', nullable: false },
];

export interface ManifestOptions {
  fields?: Field[];
  piiHandling?: PiiHandling;
  writeMode?: WriteMode;
  mergeKeys?: string[];
  primaryKey?: string[];
  updateStrategy?: UpdateStrategy;
  incrementalKey?: string;
  partitionBy?: string[];
}

/** A valid manifest of one entity, `customers`. */
export function manifest(options: ManifestOptions = {}): ConnectorManifest {
  const updateStrategy = options.updateStrategy ?? 'incremental';
  return {
    id: 'connector_postgres_customers_v1',
    name: 'Customers',
    version: '1.2.3',
    source: {
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${PG_URL}',
      auth: { method: 'basic', config: {} },
    },
    schema: {
      entities: [
        {
          name: 'customers',
          ...(options.primaryKey ? { primaryKey: options.primaryKey } : {}),
          fields: options.fields ?? customerFields,
        },
      ],
      updateStrategy,
      ...(updateStrategy === 'incremental' ? { incrementalKey: options.incrementalKey ?? 'updated_at' } : {}),
      ...(updateStrategy === 'cdc'
        ? { cdcConfig: { cursorField: 'updated_at', cursorType: 'log_position' as const } }
        : {}),
    },
    destination: {
      lakePath: '/tmp/lake',
      format: 'parquet',
      partitionBy: options.partitionBy ?? [],
      writeMode: options.writeMode ?? 'append',
      ...(options.mergeKeys ? { mergeKeys: options.mergeKeys } : {}),
    },
    schedule: { type: 'interval', intervalSeconds: 900 },
    governance: {
      owner: 'data-team',
      classification: 'confidential',
      retentionDays: 365,
      piiHandling: options.piiHandling ?? 'mask',
      contract: { version: '1.0.0', slo: { freshnessMinutes: 60, availabilityPercent: 99.5, errorRatePercent: 1 } },
    },
  };
}
