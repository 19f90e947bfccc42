import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { LakeFormat, WriteMode } from '@connector-factory/ir';
import { beforeAll, describe, expect, it } from 'vitest';
import { openLakeWriter } from '../../src/lake/open-lake-writer.js';
import { columnOf, type TableSchema } from '../../src/lake/table-schema.js';
import { readLake } from './readers.js';

// Every format, on a local folder and on the S3-compatible server, read back by independent readers.

const REGIONS = ['eu', 'us/west', 'a=b c', '..', '100%', 'zürich', null];
const schema: TableSchema = {
  columns: [
    columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
    columnOf({ name: 'name', type: 'string', nullable: true }),
    columnOf({ name: 'amount', type: 'number', nullable: true }, 'decimal(12,2)'),
    columnOf({ name: 'score', type: 'number', nullable: true }),
    columnOf({ name: 'active', type: 'boolean', nullable: true }),
    columnOf({ name: 'born', type: 'date', nullable: true }),
    columnOf({ name: 'updated_at', type: 'datetime', nullable: false }),
    columnOf({ name: 'payload', type: 'json', nullable: true }),
    columnOf({ name: 'region', type: 'string', nullable: true }),
  ],
  partitionBy: ['dt', 'region'],
  mergeKeys: ['id'],
  incrementalKey: 'updated_at',
};

interface Source {
  id: number;
  name: string | null;
  amount: string | null;
  score: number | null;
  active: boolean | null;
  born: string | null;
  updated_at: string;
  payload: unknown;
  region: string | null;
}

function source(id: number, version = 0): Source {
  const day = 1 + (id % 3);
  return {
    id,
    name: id % 5 === 0 ? null : id % 7 === 0 ? '' : `name "${id}"\nline2 ✓ v${version}`,
    amount: id % 4 === 0 ? null : `${id % 2 ? '-' : ''}${id * 3 + version}.${String(id % 100).padStart(2, '0')}`,
    score: id % 6 === 0 ? null : id / 7,
    active: id % 3 === 0 ? null : id % 2 === 0,
    born: id % 8 === 0 ? null : `19${String(50 + (id % 50)).padStart(2, '0')}-0${1 + (id % 9)}-1${id % 10}`,
    updated_at: `2025-01-0${day}T0${id % 10}:15:30.${String(123450 + id).padStart(6, '0')}Z`,
    payload: id % 9 === 0 ? null : { id, tags: ['a', 'b'], nested: { ok: id % 2 === 0 } },
    region: REGIONS[id % REGIONS.length]!,
  };
}

/** The value a reader should give, as comparable text (readers differ in types, not in values). */
function canon(column: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column) {
    case 'id':
      return Number(value);
    case 'amount':
      return Number(value).toFixed(2);
    case 'score':
      return Number(value);
    case 'born':
    case 'dt':
      return String(value).slice(0, 10);
    case 'updated_at':
      return String(value)
        .replace(' ', 'T')
        .replace(/\+00:00$/, 'Z');
    case 'payload':
      return JSON.stringify(typeof value === 'string' ? JSON.parse(value) : value);
    default:
      return value;
  }
}

function expected(rows: readonly Source[]) {
  return rows
    .map((r) => {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(r)) out[k] = canon(k, v);
      out.dt = r.updated_at.slice(0, 10);
      return out;
    })
    .sort((a, b) => Number(a.id) - Number(b.id));
}

function actual(rows: ReadonlyArray<Record<string, unknown>>) {
  return rows
    .map((r) => {
      const out: Record<string, unknown> = {};
      for (const k of [...schema.columns.map((c) => c.name), 'dt']) out[k] = canon(k, r[k]);
      return out;
    })
    .sort((a, b) => Number(a.id) - Number(b.id));
}

const bucket = `cf-lake-${randomBytes(4).toString('hex')}`;
beforeAll(async () => {
  if (!process.env.AWS_ENDPOINT_URL_S3)
    throw new Error('AWS_ENDPOINT_URL_S3 is not set: run the suite with `npm test`');
  const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: 'us-east-1' });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
});

function location(where: 'local' | 's3', name: string): string {
  return where === 'local'
    ? mkdtempSync(join(tmpdir(), `cf-${name}-`))
    : `s3://${bucket}/${name}-${randomBytes(3).toString('hex')}/`;
}

async function write(
  path: string,
  format: LakeFormat,
  writeMode: WriteMode,
  batches: Array<Array<Record<string, unknown>>>,
  first = 1,
) {
  const writer = await openLakeWriter({
    lakePath: path,
    format,
    compression: 'zstd',
    writeMode,
    schema,
    appId: 'connector_test_rows_v1',
    checkpointInterval: 3,
  });
  try {
    for (const [i, batch] of batches.entries()) await writer.writeBatch(first + i, [batch as never]);
  } finally {
    await writer.close();
  }
}

const READERS: Record<LakeFormat, string[]> = {
  parquet: ['pyarrow', 'duckdb'],
  json: ['python', 'duckdb'],
  avro: ['fastavro'],
  delta: ['deltalake'],
};

describe.each(['local', 's3'] as const)('lake formats on %s', (where) => {
  for (const format of ['parquet', 'json', 'avro', 'delta'] as const) {
    it(`${format}: appended batches read back identically by ${READERS[format].join(' and ')}`, async () => {
      const path = location(where, format);
      const rows = Array.from({ length: 120 }, (_, i) => source(i + 1));
      await write(path, format, 'append', [rows.slice(0, 50) as never, rows.slice(50) as never]);
      for (const reader of READERS[format]) {
        const doc = await readLake(format, path, reader);
        expect(actual(doc.rows), `${format} via ${reader}`).toEqual(expected(rows));
      }
    });
  }

  it('delta: merge upserts and deletes, the last change per key wins, checkpoints are readable', async () => {
    const path = location(where, 'merge');
    const initial = Array.from({ length: 60 }, (_, i) => source(i + 1));
    const changes: Array<Record<string, unknown>> = [
      { ...source(5, 1) },
      { ...source(5, 2) },
      { id: 6, _op: 'd' },
      { ...source(61, 1) },
      { id: 7, _op: 'd' },
      { ...source(7, 3) },
    ];
    await write(path, 'delta', 'merge', [
      initial as never,
      changes as never,
      [{ ...source(8, 4) }],
      [{ id: 9, _op: 'd' }],
    ]);
    const want = new Map(initial.map((r) => [r.id, r]));
    want.set(5, source(5, 2));
    want.delete(6);
    want.set(61, source(61, 1));
    want.set(7, source(7, 3));
    want.set(8, source(8, 4));
    want.delete(9);
    const doc = await readLake('delta', path);
    expect(actual(doc.rows)).toEqual(expected([...want.values()]));
    expect(doc.delta).toMatchObject({ version: 3, protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
  });

  it('delta: overwrite replaces the table in one version', async () => {
    const path = location(where, 'overwrite');
    const before = Array.from({ length: 30 }, (_, i) => source(i + 1));
    const after = Array.from({ length: 10 }, (_, i) => source(i + 100));
    await write(path, 'delta', 'overwrite', [before as never, after as never]);
    const doc = await readLake('delta', path);
    expect(actual(doc.rows)).toEqual(expected(after));
    expect(doc.delta?.version).toBe(1);
  });

  for (const format of ['parquet', 'json', 'avro'] as const) {
    it(`${format}: merge rewrites the affected files`, async () => {
      const path = location(where, `${format}-merge`);
      const initial = Array.from({ length: 40 }, (_, i) => source(i + 1));
      await write(path, format, 'merge', [initial as never, [source(3, 9) as never, { id: 4, _op: 'd' } as never]]);
      const want = initial.filter((r) => r.id !== 4).map((r) => (r.id === 3 ? source(3, 9) : r));
      for (const reader of READERS[format]) {
        expect(actual((await readLake(format, path, reader)).rows), `${format} via ${reader}`).toEqual(expected(want));
      }
    });
  }
});
