import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/stores/file/file-store.js';
import { LakeWriter } from '../../src/lake/lake-writer.js';
import { PlainLog } from '../../src/lake/plain/plain-log.js';
import { parquetEncoder } from '../../src/lake/formats/parquet/parquet-encoder.js';
import { jsonEncoder } from '../../src/lake/formats/json/json-encoder.js';
import { columnOf, type TableSchema } from '../../src/lake/table-schema.js';
import type { WriteMode } from '@connector-factory/ir';

const schema = (over: Partial<TableSchema> = {}): TableSchema => ({
  columns: [
    columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
    columnOf({ name: 'region', type: 'string', nullable: true }),
    columnOf({ name: 'total', type: 'number', nullable: false }, 'decimal(12,2)'),
    columnOf({ name: 'updated_at', type: 'datetime', nullable: false }),
  ],
  partitionBy: ['dt'],
  mergeKeys: ['id'],
  incrementalKey: 'updated_at',
  ...over,
});

const writers: LakeWriter[] = [];
afterEach(async () => {
  for (const w of writers.splice(0)) await w.close();
});

async function open(
  root: string,
  writeMode: WriteMode,
  format: 'parquet' | 'json' = 'parquet',
  over: Partial<TableSchema> = {},
) {
  const store = new FileStore(root);
  const writer = await LakeWriter.open({
    store,
    log: new PlainLog(store),
    encoder: format === 'parquet' ? parquetEncoder : jsonEncoder,
    format,
    schema: schema(over),
    writeMode,
    compression: 'zstd',
    appId: 'connector_postgres_orders_v1',
    workDir: mkdtempSync(join(tmpdir(), 'cf-work-')),
  });
  writers.push(writer);
  return writer;
}

/** An appending parquet writer of `tableSchema` with the writer's other options as given. */
async function openAppend(root: string, tableSchema: TableSchema, over: { flushRows?: number } = {}) {
  const store = new FileStore(root);
  const writer = await LakeWriter.open({
    store,
    log: new PlainLog(store),
    encoder: parquetEncoder,
    format: 'parquet',
    schema: tableSchema,
    writeMode: 'append',
    appId: 'a',
    workDir: mkdtempSync(join(tmpdir(), 'cf-work-')),
    ...over,
  });
  writers.push(writer);
  return writer;
}

/** Reads the table as a folder-listing reader would (DuckDB with hive partitioning). */
async function readFolder(root: string, format: 'parquet' | 'json' = 'parquet', dt = true) {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const fn = format === 'parquet' ? 'read_parquet' : 'read_json_auto';
  const r = await c.runAndReadAll(
    `SELECT id::BIGINT AS id, region, total::VARCHAR AS total${dt ? ', dt::VARCHAR AS dt' : ''} FROM ${fn}('${root}/**/*.${format === 'parquet' ? 'parquet' : 'json.zst'}', hive_partitioning = true) ORDER BY id`,
  );
  const rows = r.getRowObjectsJS();
  c.closeSync();
  db.closeSync();
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

const row = (id: number, total: string, day: string, extra: Record<string, unknown> = {}) => ({
  id,
  region: id % 2 ? 'eu' : 'us/west',
  total,
  updated_at: `2025-01-${day}T10:00:00.123456Z`,
  ...extra,
});

describe('LakeWriter on a plain parquet table', () => {
  it('appends batches into dt partitions derived from the incremental key', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await open(root, 'append');
    const first = await writer.writeBatch(1, [[row(1, '10.50', '01'), row(2, '20.00', '02')]]);
    expect(first).toMatchObject({ committed: true, rowsWritten: 2, rowsQuarantined: 0, tableVersion: 0 });
    await writer.writeBatch(2, [[row(3, '30.25', '02')]]);
    expect(await readFolder(root)).toEqual([
      { id: 1, region: 'eu', total: '10.50', dt: '2025-01-01' },
      { id: 2, region: 'us/west', total: '20.00', dt: '2025-01-02' },
      { id: 3, region: 'eu', total: '30.25', dt: '2025-01-02' },
    ]);
  });

  it('skips a batch it has already committed (exactly-once)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await open(root, 'append');
    await writer.writeBatch(1, [[row(1, '1.00', '01')]]);
    const again = await writer.writeBatch(1, [[row(1, '1.00', '01')]]);
    expect(again.committed).toBe(false);
    const reopened = await open(root, 'append');
    expect(await reopened.lastCommittedSequence()).toBe(1);
    expect((await reopened.writeBatch(1, [[row(1, '1.00', '01')]])).committed).toBe(false);
    expect(await readFolder(root)).toHaveLength(1);
  });

  it('quarantines records that do not fit, with the reason, and writes the rest', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await open(root, 'append');
    const result = await writer.writeBatch(1, [
      [row(1, '1.00', '01'), row(2, 'lots', '01'), row(3, '1.005', '01'), { ...row(4, '1', '01'), id: null }],
    ]);
    expect(result).toMatchObject({ rowsWritten: 1, rowsQuarantined: 3 });
    const store = new FileStore(root);
    const text = Buffer.from((await store.get(result.quarantineKey!))!).toString('utf8');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.reason)).toEqual([
      'column "total": "lots" is not a decimal number',
      'column "total": 1.005 has more than 2 decimal places',
      'column "id" is not nullable but the value is null',
    ]);
    expect(lines[0].record.id).toBe(2);
    expect(await readFolder(root)).toHaveLength(1);
  });

  it('overwrites the whole table in one commit', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await open(root, 'overwrite');
    await writer.writeBatch(1, [[row(1, '1.00', '01'), row(2, '2.00', '02')]]);
    await writer.writeBatch(2, [[row(7, '7.00', '03')]]);
    expect(await readFolder(root)).toEqual([{ id: 7, region: 'eu', total: '7.00', dt: '2025-01-03' }]);
  });

  it('merges on keys: upserts, deletes, last change in a batch wins, rows move partitions', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await open(root, 'merge');
    await writer.writeBatch(1, [[row(1, '1.00', '01'), row(2, '2.00', '01'), row(3, '3.00', '01')]]);
    await writer.writeBatch(2, [
      [row(2, '2.50', '02'), row(2, '2.75', '03')],
      [{ id: 3, _op: 'd' }, row(4, '4.00', '02')],
    ]);
    expect(await readFolder(root)).toEqual([
      { id: 1, region: 'eu', total: '1.00', dt: '2025-01-01' },
      { id: 2, region: 'us/west', total: '2.75', dt: '2025-01-03' },
      { id: 4, region: 'us/west', total: '4.00', dt: '2025-01-02' },
    ]);
  });

  it('streams many pages into rolled files without holding them all', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await openAppend(root, schema({ partitionBy: [] }), { flushRows: 5_000 });
    function* pages() {
      for (let p = 0; p < 20; p++) yield Array.from({ length: 1000 }, (_, i) => row(p * 1000 + i, '1.00', '05'));
    }
    const result = await writer.writeBatch(1, pages());
    expect(result.rowsWritten).toBe(20_000);
    // The first 5 000 rows are encoded at once; what spools meanwhile goes into the next file or files.
    expect(result.filesAdded).toBeGreaterThanOrEqual(2);
    expect(result.filesAdded).toBeLessThanOrEqual(4);
    expect(await readFolder(root, 'parquet', false)).toHaveLength(20_000);
  });

  it('closes parquet row groups by their size in memory, not at a fixed row count', async () => {
    // Rows of ~300 bytes: DuckDB's default would hold 122 880 of them (~37 MB) per thread in one group.
    const wide = async (columns: TableSchema['columns'], fill: (i: number) => Record<string, unknown>) => {
      const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
      const writer = await openAppend(root, { columns, partitionBy: [], mergeKeys: [] });
      function* pages() {
        for (let p = 0; p < 15; p++) yield Array.from({ length: 10_000 }, (_, i) => fill(p * 10_000 + i));
      }
      expect((await writer.writeBatch(1, pages())).rowsWritten).toBe(150_000);
      const db = await DuckDBInstance.create(':memory:');
      const c = await db.connect();
      const groups = (
        await c.runAndReadAll(
          `SELECT DISTINCT file_name, row_group_id, row_group_num_rows::BIGINT AS n FROM parquet_metadata('${root}/**/*.parquet')`,
        )
      ).getRowObjectsJS();
      c.closeSync();
      db.closeSync();
      expect(groups.reduce((sum, g) => sum + Number(g.n), 0)).toBe(150_000);
      return Math.max(...groups.map((g) => Number(g.n)));
    };
    const note = 'x'.repeat(300);
    const widest = await wide(
      [
        columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
        columnOf({ name: 'note', type: 'string', nullable: false }),
      ],
      (id) => ({ id, note: `${id}${note}` }),
    );
    expect(widest).toBeLessThan(122_880 / 4);
    // A narrow table keeps large groups (DuckDB's cap is 122 880 rows): the byte bound only cuts wide rows short.
    const narrowest = await wide([columnOf({ name: 'id', type: 'number', nullable: false }, 'int64')], (id) => ({
      id,
    }));
    expect(narrowest).toBeGreaterThan(122_880 / 2);
    expect(narrowest).toBeLessThanOrEqual(122_880);
  });

  it('writes newline-delimited JSON too', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const writer = await open(root, 'append', 'json');
    await writer.writeBatch(1, [[row(1, '10.50', '01')]]);
    expect(await readFolder(root, 'json')).toEqual([{ id: 1, region: 'eu', total: '10.50', dt: '2025-01-01' }]);
  });
});
