import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openLakeWriter } from '../../src/lake/open-lake-writer.js';
import { columnOf, type TableSchema } from '../../src/lake/table-schema.js';
import type { LakeFormat, WriteMode } from '@connector-factory/ir';

const schema: TableSchema = {
  columns: [
    columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
    columnOf({ name: 'amount', type: 'number', nullable: true }, 'decimal(10,2)'),
    columnOf({ name: 'at', type: 'datetime', nullable: false }),
  ],
  partitionBy: ['dt'],
  mergeKeys: ['id'],
  incrementalKey: 'at',
};

const open = (path: string, format: LakeFormat, writeMode: WriteMode = 'append', s: TableSchema = schema) =>
  openLakeWriter({
    lakePath: path,
    format,
    writeMode,
    schema: s,
    appId: 'connector_pg_orders_v1',
    compression: 'zstd',
  });

describe.each(['delta', 'parquet'] as const)('%s writer', (format) => {
  it('stores the source state with the batch and gives it back after a restart', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-state-'));
    const writer = await open(path, format);
    await writer.writeBatch(1, [[{ id: 1, amount: '1.50', at: '2025-03-01T10:00:00Z' }]], {
      state: { cursor: 'a', key: [1] },
    });
    await writer.writeBatch(2, [[{ id: 2, amount: null, at: '2025-03-02T10:00:00Z' }]], {
      state: { lsn: '0/16B3748' },
    });
    await writer.close();
    const reopened = await open(path, format);
    expect(await reopened.lastCommit()).toEqual({ sequence: 2, state: { lsn: '0/16B3748' } });
    const again = await reopened.writeBatch(2, [[{ id: 2, amount: null, at: '2025-03-02T10:00:00Z' }]], {
      state: { lsn: 'x' },
    });
    expect(again.committed).toBe(false);
    expect(await reopened.lastCommit()).toEqual({ sequence: 2, state: { lsn: '0/16B3748' } });
    await reopened.close();
  });
});

describe('delta writer', () => {
  it('writes protocol 1/2, metaData with partition columns, adds with stats, and a txn per batch', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-delta-'));
    const writer = await open(path, 'delta');
    await writer.writeBatch(7, [
      [
        { id: 1, amount: '1.50', at: '2025-03-01T10:00:00.123456Z' },
        { id: 5, amount: null, at: '2025-03-01T11:00:00Z' },
      ],
    ]);
    await writer.close();
    const lines = readFileSync(join(path, '_delta_log', '00000000000000000000.json'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const find = (key: string) => lines.find((l) => key in l)?.[key];
    expect(find('protocol')).toEqual({ minReaderVersion: 1, minWriterVersion: 2 });
    expect(find('metaData').partitionColumns).toEqual(['dt']);
    expect(
      JSON.parse(find('metaData').schemaString).fields.map((f: { name: string; type: string }) => [f.name, f.type]),
    ).toEqual([
      ['id', 'long'],
      ['amount', 'decimal(10,2)'],
      ['at', 'timestamp'],
      ['dt', 'date'],
    ]);
    const add = find('add');
    expect(add.partitionValues).toEqual({ dt: '2025-03-01' });
    expect(add.path).toMatch(/^dt=2025-03-01\/part-.*\.parquet$/);
    expect(JSON.parse(add.stats)).toEqual({
      numRecords: 2,
      minValues: { id: 1, amount: 1.5, at: '2025-03-01T10:00:00.123Z' },
      maxValues: { id: 5, amount: 1.5, at: '2025-03-01T11:00:00.000Z' },
      nullCount: { id: 0, amount: 1, at: 0 },
    });
    expect(find('txn')).toMatchObject({ appId: 'connector_pg_orders_v1', version: 7 });
    expect(find('commitInfo').operation).toBe('WRITE');
    expect(readdirSync(join(path, 'dt=2025-03-01'))).toHaveLength(1);
  });

  it('refuses to append with a different schema, but an overwrite replaces it', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-delta-'));
    const first = await open(path, 'delta');
    await first.writeBatch(1, [[{ id: 1, amount: '1.00', at: '2025-03-01T10:00:00Z' }]]);
    await first.close();
    const wider: TableSchema = {
      ...schema,
      columns: [...schema.columns, columnOf({ name: 'note', type: 'string', nullable: true })],
    };
    const appender = await open(path, 'delta', 'append', wider);
    await expect(
      appender.writeBatch(2, [[{ id: 2, amount: '2.00', at: '2025-03-01T10:00:00Z', note: 'x' }]]),
    ).rejects.toThrow(/schema or partitioning differs/);
    await appender.close();
    const overwriter = await open(path, 'delta', 'overwrite', wider);
    const result = await overwriter.writeBatch(2, [[{ id: 2, amount: '2.00', at: '2025-03-01T10:00:00Z', note: 'x' }]]);
    expect(result).toMatchObject({ committed: true, filesRemoved: 1, filesAdded: 1 });
    await overwriter.close();
  });
});
