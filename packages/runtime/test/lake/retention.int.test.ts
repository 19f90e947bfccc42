import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { LakeFormat } from '@connector-factory/ir';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLakeWriter } from '../../src/lake/open-lake-writer.js';
import { enforceRetention } from '../../src/lake/retention.js';
import { columnOf, type TableSchema } from '../../src/lake/table-schema.js';
import { openStore } from '../../src/stores/open-store.js';
import type { ObjectStore } from '../../src/stores/object-store.js';
import { readLake } from './readers.js';

// governance.retentionDays enforced on real tables (a local folder and the S3-compatible server),
// checked with independent readers (delta-rs, pyarrow, fastavro).

const DAY = 86_400_000;
const schema = (partitionBy: string[]): TableSchema => ({
  columns: [
    columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
    columnOf({ name: 'name', type: 'string', nullable: true }),
    columnOf({ name: 'amount', type: 'number', nullable: true }, 'decimal(12,2)'),
    columnOf({ name: 'updated_at', type: 'datetime', nullable: false }),
  ],
  partitionBy,
  mergeKeys: ['id'],
  incrementalKey: 'updated_at',
});

const row = (id: number, at: Date) => ({ id, name: `row ${id}`, amount: `${id}.25`, updated_at: at.toISOString() });

const bucket = `cf-retention-${randomBytes(4).toString('hex')}`;
beforeAll(async () => {
  if (!process.env.AWS_ENDPOINT_URL_S3)
    throw new Error('AWS_ENDPOINT_URL_S3 is not set: run the suite with `npm test`');
  const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: 'us-east-1' });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
});

function location(where: 'local' | 's3', name: string): string {
  return where === 'local'
    ? mkdtempSync(join(tmpdir(), `cf-retention-${name}-`))
    : `s3://${bucket}/${name}-${randomBytes(3).toString('hex')}/`;
}

async function write(
  path: string,
  format: LakeFormat,
  partitionBy: string[],
  batches: Array<{ rows: Array<Record<string, unknown>>; extractedAt?: Date }>,
  first = 1,
): Promise<void> {
  const writer = await openLakeWriter({
    lakePath: path,
    format,
    writeMode: 'append',
    schema: schema(partitionBy),
    appId: 'connector_test_retention_v1',
  });
  try {
    for (const [i, batch] of batches.entries()) {
      await writer.writeBatch(
        first + i,
        [batch.rows as never],
        batch.extractedAt ? { extractedAt: batch.extractedAt } : {},
      );
    }
  } finally {
    await writer.close();
  }
}

const ids = (rows: ReadonlyArray<Record<string, unknown>>) => rows.map((r) => Number(r.id)).sort((a, b) => a - b);

async function keys(store: ObjectStore, prefix = ''): Promise<string[]> {
  return (await store.list(prefix)).map((o) => o.key);
}

describe.each(['local', 's3'] as const)('retention of a Delta table on %s', (where) => {
  it('removes expired rows through a commit, rewrites mixed files, deletes files only after the vacuum delay', async () => {
    const path = location(where, 'delta');
    const now = new Date();
    const old = (days: number) => new Date(now.getTime() - days * DAY);
    // Batch 1: expired and kept rows in one file; batch 2: only expired rows; batch 3: only kept rows
    // (and a rejected row, quarantined with a recent extraction time); batch 4 extracted long ago
    // with a rejected row: its quarantine file is past the retention.
    await write(
      path,
      'delta',
      [],
      [
        { rows: [row(1, old(400)), row(2, old(10)), row(3, old(366)), row(4, old(1))] },
        { rows: [row(5, old(500)), row(6, old(380))] },
        { rows: [row(7, old(2)), { id: null, updated_at: old(2).toISOString() }] },
        { rows: [row(8, old(3)), { id: null, updated_at: old(3).toISOString() }], extractedAt: old(400) },
      ],
    );
    const store = openStore(path);
    const before = await readLake('delta', path);
    expect(ids(before.rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const quarantined = await keys(store, '_quarantine/');
    expect(quarantined).toHaveLength(2);
    const logBefore = await keys(store, '_delta_log/');

    const dry = await enforceRetention({
      store,
      format: 'delta',
      retentionDays: 365,
      dateColumn: 'updated_at',
      dryRun: true,
      now,
    });
    expect(dry).toMatchObject({ dryRun: true, committed: false, rowsExpired: 4, tableVersion: before.delta!.version });
    expect(dry.filesRemoved).toHaveLength(1);
    expect(dry.filesRemoved[0]).toMatchObject({ rowsExpired: 2, rowsKept: 0 });
    expect(dry.filesRewritten).toHaveLength(1);
    expect(dry.filesRewritten[0]).toMatchObject({ rowsExpired: 2, rowsKept: 2 });
    expect(dry.filesAdded).toEqual([]);
    expect(dry.quarantine.files).toHaveLength(1);
    expect(dry.quarantine.rows).toBe(1);
    // Nothing changed.
    expect(await keys(store, '_delta_log/')).toEqual(logBefore);
    expect(await keys(store, '_quarantine/')).toEqual(quarantined);
    expect(ids((await readLake('delta', path)).rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const done = await enforceRetention({ store, format: 'delta', retentionDays: 365, dateColumn: 'updated_at', now });
    expect(done).toMatchObject({ committed: true, rowsExpired: 4, tableVersion: before.delta!.version + 1 });
    expect(done.filesAdded).toHaveLength(1);
    const after = await readLake('delta', path);
    expect(ids(after.rows)).toEqual([2, 4, 7, 8]);
    expect(after.delta!.version).toBe(before.delta!.version + 1);
    // The commit removes both old files and adds the rewritten one.
    const commit = Buffer.from(
      (await store.get(`_delta_log/${String(done.tableVersion).padStart(20, '0')}.json`))!,
    ).toString('utf8');
    const actions = commit
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
    const removed = actions.filter((a) => a.remove).map((a) => decodeURIComponent(String(a.remove!.path)));
    expect(removed.sort()).toEqual([...done.filesRemoved, ...done.filesRewritten].map((f) => f.path).sort());
    expect(actions.filter((a) => a.add)).toHaveLength(1);
    expect(actions.find((a) => a.commitInfo)?.commitInfo).toMatchObject({ operation: 'DELETE' });
    // Removed files stay until the vacuum delay has passed.
    const dataKeys = await keys(store);
    for (const gone of removed) expect(dataKeys).toContain(gone);
    expect(done.vacuum).toMatchObject({ deleted: [], waiting: 2 });
    expect(await keys(store, '_quarantine/')).toEqual(quarantined.filter((k) => !done.quarantine.files.includes(k)));
    expect(await keys(store, '_quarantine/')).toHaveLength(1);

    // A week and a day later: the tombstoned files are deleted, the live table is the same.
    const later = await enforceRetention({
      store,
      format: 'delta',
      retentionDays: 365,
      dateColumn: 'updated_at',
      now: new Date(now.getTime() + 8 * DAY),
    });
    expect(later).toMatchObject({ committed: false, rowsExpired: 0 });
    expect(later.vacuum.deleted.sort()).toEqual(removed.sort());
    const remaining = await keys(store);
    for (const gone of removed) expect(remaining).not.toContain(gone);
    expect(ids((await readLake('delta', path)).rows)).toEqual([2, 4, 7, 8]);
  });
});

describe('retention of a Delta table with a concurrent writer', () => {
  it('commits on top of a batch appended while it worked, without removing what it did not read', async () => {
    const path = location('local', 'delta-race');
    const now = new Date();
    const old = (days: number) => new Date(now.getTime() - days * DAY);
    await write(path, 'delta', [], [{ rows: [row(1, old(400)), row(2, old(5))] }, { rows: [row(3, old(500))] }]);
    const base = openStore(path);
    const version = (await readLake('delta', path)).delta!.version;
    let raced = false;
    // The connector commits a batch (an old row among them) just before retention's commit.
    const racing = new Proxy(base, {
      get(target, property) {
        if (property === 'putIfAbsent') {
          return async (key: string, data: Uint8Array | string) => {
            if (!raced && key.startsWith('_delta_log/') && key.endsWith('.json')) {
              raced = true;
              await write(path, 'delta', [], [{ rows: [row(9, old(1)), row(10, old(600))] }], 3);
            }
            return target.putIfAbsent(key, data);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const done = await enforceRetention({
      store: racing,
      format: 'delta',
      retentionDays: 365,
      dateColumn: 'updated_at',
      now,
    });
    expect(raced).toBe(true);
    // Planned once, committed after the concurrent batch: row 10 waits for the next enforcement.
    expect(done).toMatchObject({ committed: true, rowsExpired: 2, tableVersion: version + 2 });
    expect(ids((await readLake('delta', path)).rows)).toEqual([2, 9, 10]);
  });
});

describe('retention of plain tables', () => {
  it('parquet partitioned by dt: expired partitions are dropped, the cutoff day is rewritten', async () => {
    const path = location('local', 'parquet-dt');
    const now = new Date('2026-06-15T12:00:00Z');
    const at = (text: string) => new Date(text);
    await write(
      path,
      'parquet',
      ['dt'],
      [
        {
          rows: [
            row(1, at('2026-01-02T10:00:00Z')),
            row(2, at('2026-01-02T11:00:00Z')),
            row(3, at('2026-05-15T23:00:00Z')),
            row(4, at('2026-05-16T11:00:00Z')),
            row(5, at('2026-05-16T13:00:00Z')),
            row(6, at('2026-06-01T00:00:00Z')),
          ],
        },
        { rows: [row(7, at('2026-01-02T12:00:00Z')), row(8, at('2026-06-14T12:00:00Z'))] },
      ],
    );
    const store = openStore(path);
    const options = {
      store,
      format: 'parquet' as const,
      retentionDays: 30,
      dateColumn: 'updated_at',
      derivedDt: true,
      now,
    };
    const dry = await enforceRetention({ ...options, dryRun: true });
    expect(dry).toMatchObject({ committed: false, rowsExpired: 5 });
    expect(dry.partitionsDropped).toEqual(['dt=2026-01-02/', 'dt=2026-05-15/']);
    expect(dry.filesRewritten.map((f) => f.path.split('/')[0])).toEqual(['dt=2026-05-16']);
    expect(ids((await readLake('parquet', path, 'pyarrow')).rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    const done = await enforceRetention(options);
    expect(done).toMatchObject({ committed: true, rowsExpired: 5 });
    expect(done.partitionsDropped).toEqual(['dt=2026-01-02/', 'dt=2026-05-15/']);
    const left = await keys(store);
    expect(left.filter((k) => k.startsWith('dt=2026-01-02/') || k.startsWith('dt=2026-05-15/'))).toEqual([]);
    for (const reader of ['pyarrow', 'duckdb']) {
      expect(ids((await readLake('parquet', path, reader)).rows), reader).toEqual([5, 6, 8]);
    }
  });

  for (const format of ['json', 'avro'] as const) {
    it(`${format}: files holding expired and kept rows are rewritten with the kept rows`, async () => {
      const path = location('local', format);
      const now = new Date('2026-06-15T12:00:00Z');
      await write(
        path,
        format,
        [],
        [
          { rows: [row(1, new Date('2025-01-01T00:00:00Z')), row(2, new Date('2026-06-01T00:00:00Z'))] },
          { rows: [row(3, new Date('2025-02-01T00:00:00Z'))] },
        ],
      );
      const store = openStore(path);
      const done = await enforceRetention({ store, format, retentionDays: 90, dateColumn: 'updated_at', now });
      expect(done).toMatchObject({ committed: true, rowsExpired: 2 });
      expect(done.filesRemoved).toHaveLength(1);
      expect(done.filesRewritten).toHaveLength(1);
      const doc = await readLake(format, path);
      expect(ids(doc.rows)).toEqual([2]);
      expect(doc.rows[0]).toMatchObject({ name: 'row 2' });
    });
  }
});
