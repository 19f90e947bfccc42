import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const examples = fileURLToPath(new URL('../../../examples/', import.meta.url));
const codegenFixtures = fileURLToPath(new URL('../../factory/test/codegen/fixtures/', import.meta.url));

/** A fresh, deep copy of an example manifest, to mutate in a test. */
export function example(name: 'postgres-orders-cdc' | 'salesforce-opportunity'): Record<string, any> {
  return JSON.parse(readFileSync(`${examples}${name}.json`, 'utf8'));
}

/**
 * Valid manifests that between them reach every rule: the examples, variants of them (incremental with a
 * cron schedule, an interval schedule, api_key / bearer / iam auth, relationships, partitions), and the
 * code generator's fixtures (hostile names, several entities).
 */
export function seedManifests(): Record<string, any>[] {
  const pg = () => example('postgres-orders-cdc');
  const sf = () => example('salesforce-opportunity');
  const incremental = pg();
  incremental.id = 'connector_postgres_orders_v2';
  incremental.version = '2.0.0';
  incremental.schema.entities[0].fields.push({ name: 'updated_at', type: 'datetime', nullable: false });
  incremental.schema.updateStrategy = 'incremental';
  incremental.schema.incrementalKey = 'updated_at';
  delete incremental.schema.cdcConfig;
  incremental.destination = {
    lakePath: 'file:///var/lake/orders',
    format: 'parquet',
    compression: 'snappy',
    partitionBy: ['dt', 'customer_id'],
    writeMode: 'append',
  };
  incremental.schedule = { type: 'cron', expression: '0 */15 * * * *' };
  const related = pg();
  related.schema.entities.push({
    name: 'customers',
    primaryKey: ['id'],
    fields: [
      { name: 'id', type: 'number', nullable: false },
      { name: 'email', type: 'string', nullable: true, pii: true },
      { name: 'created_at', type: 'datetime', nullable: false },
    ],
  });
  related.schema.relationships = [
    { from: { entity: 'orders', field: 'customer_id' }, to: { entity: 'customers', field: 'id' }, type: 'one_to_many' },
  ];
  related.schema.cdcConfig = { cursorField: 'created_at', cursorType: 'timestamp' };
  const apiKey = sf();
  apiKey.source.auth = { method: 'api_key', config: { headerName: 'X-API-Key', apiKeyEnvVar: 'SF_API_KEY' } };
  apiKey.schedule = { type: 'interval', intervalSeconds: 900 };
  apiKey.destination.format = 'json';
  apiKey.destination.compression = 'gzip';
  const bearer = sf();
  bearer.source.auth = { method: 'bearer', config: { tokenEnvVar: 'SF_TOKEN' } };
  bearer.schedule = { type: 'event', eventSource: '/hooks/opportunity' };
  const iam = sf();
  iam.source.auth = { method: 'iam', config: { roleArn: 'arn:aws:iam::123456789012:role/lake-reader' } };
  iam.destination.format = 'avro';
  const codegen = ['mariadb-customers', 'hostile-names'].map((name) =>
    JSON.parse(readFileSync(`${codegenFixtures}${name}.json`, 'utf8')),
  );
  return [pg(), sf(), incremental, related, apiKey, bearer, iam, ...codegen];
}
