// The connector manifests of the PostgreSQL benches: one place for what they share (source, governance).

const field = (name, type, nullable = false) => ({ name, type, nullable });

/** A manifest reading `table` from ${PG_URL} into `lake`; `parts` gives the id and what differs. */
function pgManifest({ id, name, table, fields, schema, destination, schedule, freshnessMinutes }) {
  return {
    id,
    name,
    version: '1.0.0',
    source: {
      type: 'jdbc',
      provider: 'postgres',
      connectionString: '${PG_URL}',
      auth: { method: 'basic', config: {} },
    },
    schema: { entities: [{ name: table, primaryKey: ['id'], fields }], ...schema },
    destination: { compression: 'zstd', partitionBy: [], ...destination },
    schedule,
    governance: {
      owner: 'bench',
      classification: 'internal',
      retentionDays: 1,
      piiHandling: 'mask',
      contract: { version: '1.0.0', slo: { freshnessMinutes, availabilityPercent: 99, errorRatePercent: 1 } },
    },
  };
}

/** `npm run bench -- pg`: the orders `table` → parquet zstd in `lake`, a full refresh. */
export function ordersManifest(table, lake) {
  return pgManifest({
    id: 'connector_postgres_bench_orders_v1',
    name: 'bench',
    table,
    fields: [
      field('id', 'number'),
      field('customer_id', 'number'),
      field('status', 'string'),
      field('total', 'number'),
      field('quantity', 'number'),
      field('paid', 'boolean'),
      field('created_at', 'datetime'),
      field('note', 'string', true),
      field('region', 'string', true),
      field('score', 'number', true),
    ],
    schema: { updateStrategy: 'full_refresh' },
    destination: { lakePath: lake, format: 'parquet', writeMode: 'overwrite' },
    schedule: { type: 'interval', intervalSeconds: 3600 },
    freshnessMinutes: 60,
  });
}

/** The CDC bench: `table`'s changes → a Delta table in `lake`, merged by id. */
export function cdcManifest(table, lake) {
  return pgManifest({
    id: 'connector_postgres_bench_cdc_v1',
    name: 'cdc bench',
    table,
    fields: [
      field('id', 'number'),
      field('txn', 'number'),
      field('customer_id', 'number'),
      field('total', 'number'),
      field('updated_at', 'datetime'),
    ],
    schema: { updateStrategy: 'cdc', cdcConfig: { cursorField: 'lsn', cursorType: 'log_position' } },
    destination: { lakePath: lake, format: 'delta', writeMode: 'merge', mergeKeys: ['id'] },
    schedule: { type: 'continuous' },
    freshnessMinutes: 5,
  });
}
