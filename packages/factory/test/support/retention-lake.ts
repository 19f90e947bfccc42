import { readFileSync, writeFileSync } from 'node:fs';
import { columnOf, openLakeWriter, type Row } from '@connector-factory/runtime';

export const DAY = 86_400_000;

/** Writes the example CDC orders manifest to `file`, appending to `lakePath` and keeping rows 30 days. */
export function writeRetentionManifest(file: string, lakePath: string): void {
  const manifest = JSON.parse(
    readFileSync(new URL('../../../../examples/postgres-orders-cdc.json', import.meta.url), 'utf8'),
  ) as Record<string, Record<string, unknown>>;
  delete manifest.$schema;
  manifest.destination = { ...manifest.destination, lakePath, writeMode: 'append' };
  manifest.governance = { ...manifest.governance, retentionDays: 30 };
  writeFileSync(file, JSON.stringify(manifest));
}

/**
 * The orders connector's Delta table at `lakePath`, one commit per batch. A CDC connector has no
 * incremental key: rows are dated by `_extracted_at`; `datetimeColumns` come between `id` and it.
 */
export async function writeOrdersLake(lakePath: string, batches: Row[][], datetimeColumns: string[] = []) {
  const writer = await openLakeWriter({
    lakePath,
    format: 'delta',
    writeMode: 'append',
    appId: 'connector_postgres_orders_v1',
    schema: {
      columns: [
        columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
        ...[...datetimeColumns, '_extracted_at'].map((name) => columnOf({ name, type: 'datetime', nullable: false })),
      ],
      partitionBy: [],
      mergeKeys: ['id'],
    },
  });
  try {
    for (const [index, rows] of batches.entries()) await writer.writeBatch(index + 1, [rows]);
  } finally {
    await writer.close();
  }
}
