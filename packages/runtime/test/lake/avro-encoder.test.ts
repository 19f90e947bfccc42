import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import avro from 'avsc';
import snappyjs from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compression } from '@connector-factory/ir';
import { openEngine, quoteIdent } from '../../src/engine/duckdb-engine.js';
import type { EncodeRequest } from '../../src/lake/format-encoder.js';
import { avroEncoder, avroSchemaFor, crc32, decimalBytes, loadZstd } from '../../src/lake/formats/avro/avro-encoder.js';
import { avroFileToCsv } from '../../src/lake/formats/avro/avro-reader.js';
import { parseCsvRow, splitCsvRows } from '../../src/lake/csv-page.js';
import { PART, Stage, type Row } from '../../src/lake/stage.js';
import type { Column, TableSchema } from '../../src/lake/table-schema.js';

const HOSTILE = 'order id"; drop';

const columns: Column[] = [
  { name: 'id', type: 'number', nullable: false, physical: { kind: 'int64' } },
  { name: 'name', type: 'string', nullable: true, physical: { kind: 'string' } },
  { name: 'amount', type: 'number', nullable: true, physical: { kind: 'decimal', precision: 12, scale: 2 } },
  { name: 'price', type: 'number', nullable: false, physical: { kind: 'float64' } },
  { name: 'active', type: 'boolean', nullable: true, physical: { kind: 'boolean' } },
  { name: 'born', type: 'date', nullable: true, physical: { kind: 'date' } },
  { name: 'updated_at', type: 'datetime', nullable: true, physical: { kind: 'timestamp' } },
  { name: 'payload', type: 'json', nullable: true, physical: { kind: 'json' } },
  { name: HOSTILE, type: 'string', nullable: true, physical: { kind: 'string' } },
  // The hostile name sanitises to this one, so it must take a suffix instead.
  { name: 'order_id___drop', type: 'number', nullable: true, physical: { kind: 'int64' } },
  { name: 'region', type: 'string', nullable: false, physical: { kind: 'string' } },
];
const dataColumns = columns.filter((c) => c.name !== 'region');
const schema: TableSchema = { columns, partitionBy: ['region'], mergeKeys: ['id'] };

/** What each row must read back as: the Avro representation of its values. */
interface Expected {
  id: bigint;
  name: string | null;
  amount: string | null; // decimal text, checked through the bytes
  price: number;
  active: boolean | null;
  born: number | null; // days since the epoch
  updated_at: bigint | null; // micros since the epoch
  payload: string | null;
  hostile: string | null;
  order_id___drop: bigint | null;
  region: string;
}

function micros(iso: string): bigint {
  const match = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(iso)!;
  return BigInt(Date.parse(`${match[1]}Z`)) * 1000n + BigInt((match[2] ?? '').padEnd(6, '0'));
}
const days = (date: string): number => Date.parse(`${date}T00:00:00Z`) / 86_400_000;

const source: Array<{ row: Row; expected: Expected }> = [
  {
    row: {
      id: '-9223372036854775808',
      name: 'Ünïcödé ✓ 🚀',
      amount: '-1234567890.12',
      price: -1e300,
      active: true,
      born: '1969-07-20',
      updated_at: '1969-12-31T23:59:59.999999Z',
      payload: { a: [1, 2, { b: null }], s: 'x"y' },
      [HOSTILE]: 'robert',
      order_id___drop: 7,
      region: 'eu',
    },
    expected: {
      id: -9223372036854775808n,
      name: 'Ünïcödé ✓ 🚀',
      amount: '-1234567890.12',
      price: -1e300,
      active: true,
      born: days('1969-07-20'),
      updated_at: micros('1969-12-31T23:59:59.999999Z'),
      payload: '{"a":[1,2,{"b":null}],"s":"x\\"y"}',
      hostile: 'robert',
      order_id___drop: 7n,
      region: 'eu',
    },
  },
  {
    row: {
      id: '9223372036854775807',
      name: '',
      amount: '9999999999.99',
      price: 5e-324,
      active: false,
      born: '2024-02-29',
      updated_at: '2024-02-29T23:59:59.123456Z',
      payload: [],
      [HOSTILE]: null,
      order_id___drop: null,
      region: 'us',
    },
    expected: {
      id: 9223372036854775807n,
      name: '',
      amount: '9999999999.99',
      price: 5e-324,
      active: false,
      born: days('2024-02-29'),
      updated_at: micros('2024-02-29T23:59:59.123456Z'),
      payload: '[]',
      hostile: null,
      order_id___drop: null,
      region: 'us',
    },
  },
  {
    row: {
      id: 0,
      name: null,
      amount: null,
      price: 0.1,
      active: null,
      born: null,
      updated_at: null,
      payload: null,
      region: 'eu',
    },
    expected: {
      id: 0n,
      name: null,
      amount: null,
      price: 0.1,
      active: null,
      born: null,
      updated_at: null,
      payload: null,
      hostile: null,
      order_id___drop: null,
      region: 'eu',
    },
  },
  {
    row: {
      id: 42,
      name: 'x'.repeat(100_000),
      amount: '-0.01',
      price: 2.5,
      active: true,
      born: '1970-01-01',
      updated_at: '2025-06-01T12:00:00.000001Z',
      payload: { n: 1 },
      [HOSTILE]: "'; DROP TABLE x; --",
      order_id___drop: -1,
      region: 'eu',
    },
    expected: {
      id: 42n,
      name: 'x'.repeat(100_000),
      amount: '-0.01',
      price: 2.5,
      active: true,
      born: 0,
      updated_at: micros('2025-06-01T12:00:00.000001Z'),
      payload: '{"n":1}',
      hostile: "'; DROP TABLE x; --",
      order_id___drop: -1n,
      region: 'eu',
    },
  },
  {
    row: {
      id: 43,
      amount: '0',
      price: -0.5,
      active: false,
      born: '1800-01-01',
      updated_at: '2262-04-11T23:47:16.854775Z',
      region: 'us',
    },
    expected: {
      id: 43n,
      name: null,
      amount: '0.00',
      price: -0.5,
      active: false,
      born: days('1800-01-01'),
      updated_at: micros('2262-04-11T23:47:16.854775Z'),
      payload: null,
      hostile: null,
      order_id___drop: null,
      region: 'us',
    },
  },
  {
    row: { id: 44, amount: '-128', price: 1, region: 'us' },
    expected: {
      id: 44n,
      name: null,
      amount: '-128.00',
      price: 1,
      active: null,
      born: null,
      updated_at: null,
      payload: null,
      hostile: null,
      order_id___drop: null,
      region: 'us',
    },
  },
];

/** Many small rows for rolling. */
const bulk: Array<{ row: Row; expected: Expected }> = Array.from({ length: 300 }, (_v, i) => ({
  row: { id: 1000 + i, name: `n${i}`, amount: `${i}.5`, price: i / 3, region: i % 2 === 0 ? 'eu' : 'us' },
  expected: {
    id: BigInt(1000 + i),
    name: `n${i}`,
    amount: `${i}.50`,
    price: i / 3,
    active: null,
    born: null,
    updated_at: null,
    payload: null,
    hostile: null,
    order_id___drop: null,
    region: i % 2 === 0 ? 'eu' : 'us',
  },
}));

// avsc decodes `long` as a JS number by default; these tests need all 64 bits.
const bigLong = avro.types.LongType.__with({
  fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
  toBuffer: (value: bigint) => {
    const buffer = Buffer.alloc(8);
    buffer.writeBigInt64LE(value);
    return buffer;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (value: unknown) => typeof value === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** `"long"` or `{"type": "long", …}` (logical types are read as their underlying type). */
const isLong = (schema: unknown): boolean =>
  schema === 'long' ||
  (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long');

type Callback = (error: Error | null, value?: Buffer) => void;
let zstd: Awaited<ReturnType<typeof loadZstd>> | undefined;
// avsc's own null and deflate codecs, plus snappy (with its CRC checked) and zstandard.
const readCodecs = {
  ...avro.streams.BlockDecoder.defaultCodecs(),
  snappy: (buffer: Buffer, callback: Callback) => {
    try {
      const data = Buffer.from(snappyjs.uncompress(buffer.subarray(0, buffer.length - 4)));
      if (data.length > 0 && buffer.readUInt32BE(buffer.length - 4) !== crc32(data))
        throw new Error('snappy CRC mismatch');
      callback(null, data);
    } catch (error) {
      callback(error as Error);
    }
  },
  zstandard: (buffer: Buffer, callback: Callback) => {
    try {
      callback(null, Buffer.from(zstd!.decompress(buffer)));
    } catch (error) {
      callback(error as Error);
    }
  },
};

interface AvroFile {
  codec: string;
  schema: unknown;
  records: Array<Record<string, unknown>>;
}

function readAvro(path: string): Promise<AvroFile> {
  return new Promise((resolve, reject) => {
    const records: Array<Record<string, unknown>> = [];
    let codec = '';
    let schema: unknown;
    avro
      .createFileDecoder(path, {
        codecs: readCodecs,
        parseHook: (s) => avro.Type.forSchema(s, { typeHook: (t) => (isLong(t) ? bigLong : undefined) }),
      })
      .on('metadata', (_type: unknown, fileCodec: string, header: { meta: Record<string, Buffer> }) => {
        codec = fileCodec;
        schema = JSON.parse(header.meta['avro.schema']!.toString('utf8'));
      })
      .on('data', (record: Record<string, unknown>) => records.push(record))
      .on('end', () => resolve({ codec, schema, records }))
      .on('error', reject);
  });
}

/** Decimal bytes back to text, decoded independently of the encoder. */
function decimalText(bytes: Buffer, scale: number): string {
  const unscaled = BigInt.asIntN(bytes.length * 8, BigInt(`0x${bytes.toString('hex')}`));
  const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${unscaled < 0n ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

/** A decoded record in the shape of Expected (the partition column lives in the path, not the file). */
function actual(record: Record<string, unknown>, region: string): Expected {
  return {
    region,
    id: record['id'] as bigint,
    name: record['name'] as string | null,
    amount: record['amount'] === null ? null : decimalText(record['amount'] as Buffer, 2),
    price: record['price'] as number,
    active: record['active'] as boolean | null,
    born: record['born'] as number | null,
    updated_at: record['updated_at'] as bigint | null,
    payload: record['payload'] as string | null,
    hostile: record['order_id___drop_2'] as string | null,
    order_id___drop: record['order_id___drop'] as bigint | null,
  };
}

const byId = (a: { id: bigint }, b: { id: bigint }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

let engine: Awaited<ReturnType<typeof openEngine>>;
let connection: DuckDBConnection;
let stage: Stage;
let work: string;
let query: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'avro-encoder-'));
  engine = await openEngine({ tempDirectory: join(work, 'spill') });
  connection = engine.connection;
  stage = await Stage.create(connection, schema, 'stage', work);
  const rejected = await stage.append(
    [...source, ...bulk].map((s) => s.row),
    new Date('2025-01-01T00:00:00Z'),
  );
  expect(rejected).toEqual([]);
  await stage.load();
  // The partition id as the lake writer hands it over (BIGINT, like its row_number()): eu → 0, us → 1.
  query =
    `SELECT ${dataColumns.map((c) => quoteIdent(c.name)).join(', ')}, ` +
    `CAST(CASE region WHEN 'eu' THEN 0 ELSE 1 END AS BIGINT) AS ${PART} FROM ${stage.table}`;
});

afterAll(async () => {
  engine?.close();
  await rm(work, { recursive: true, force: true });
});

function request(dir: string, overrides: Partial<EncodeRequest> = {}): EncodeRequest {
  return {
    connection,
    query,
    columns: dataColumns,
    dir,
    filePrefix: 'part-t1',
    targetFileBytes: 128 * 1024 * 1024,
    parts: [0, 1],
    ...overrides,
  };
}

describe('avroSchemaFor', () => {
  it('maps every physical type, makes nullable columns null unions and sanitises names', () => {
    const s = avroSchemaFor(dataColumns, 'my-table') as {
      type: string;
      name: string;
      fields: Array<Record<string, unknown>>;
    };
    expect(s.type).toBe('record');
    expect(s.name).toBe('my_table');
    expect(s.fields).toEqual([
      { name: 'id', type: 'long' },
      { name: 'name', type: ['null', 'string'], default: null },
      {
        name: 'amount',
        type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 }],
        default: null,
      },
      { name: 'price', type: 'double' },
      { name: 'active', type: ['null', 'boolean'], default: null },
      { name: 'born', type: ['null', { type: 'int', logicalType: 'date' }], default: null },
      { name: 'updated_at', type: ['null', { type: 'long', logicalType: 'timestamp-micros' }], default: null },
      { name: 'payload', type: ['null', 'string'], default: null },
      { name: 'order_id___drop_2', type: ['null', 'string'], default: null, 'cf.originalName': HOSTILE },
      { name: 'order_id___drop', type: ['null', 'long'], default: null },
    ]);
    // A schema avsc accepts, with logical types checked too.
    expect(() => avro.Type.forSchema(s as avro.Schema, { assertLogicalTypes: true })).not.toThrow();
  });

  it('sanitises deterministically: leading digits, non-ASCII, collisions, primitive record names', () => {
    const col = (name: string): Column => ({ name, type: 'string', nullable: false, physical: { kind: 'string' } });
    const names = (list: string[]) =>
      (avroSchemaFor(list.map(col), 'r') as { fields: Array<{ name: string }> }).fields.map((f) => f.name);
    expect(names(['1st', 'a b', 'a_b', 'é', '', 'a-b'])).toEqual(['_1st', 'a_b_2', 'a_b', '_', '__2', 'a_b_3']);
    expect(names(['1st', 'a b', 'a_b', 'é', '', 'a-b'])).toEqual(names(['1st', 'a b', 'a_b', 'é', '', 'a-b']));
    expect((avroSchemaFor([], 'string') as { name: string }).name).toBe('_string');
    expect((avroSchemaFor([], '2024.orders') as { name: string }).name).toBe('_2024_orders');
  });
});

describe('avro helpers', () => {
  it('computes the IEEE CRC-32 that zlib computes', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = Buffer.from('The quick brown fox jumps over the lazy dog'.repeat(50));
    const gzip = gzipSync(data);
    expect(crc32(data)).toBe(gzip.readUInt32LE(gzip.length - 8));
  });

  it('writes decimals as shortest big-endian two\u2019s complement', () => {
    expect(decimalBytes('0.00', 2).toString('hex')).toBe('00');
    expect(decimalBytes('1.27', 2).toString('hex')).toBe('7f');
    expect(decimalBytes('1.28', 2).toString('hex')).toBe('0080');
    expect(decimalBytes('-1.28', 2).toString('hex')).toBe('80');
    expect(decimalBytes('-1.29', 2).toString('hex')).toBe('ff7f');
    expect(decimalBytes('-0.01', 2).toString('hex')).toBe('ff');
    expect(decimalBytes('-1', 2).toString('hex')).toBe('9c');
    expect(decimalText(decimalBytes('-99999999999999999999999999999999999.999', 3), 3)).toBe(
      '-99999999999999999999999999999999999.999',
    );
  });
});

describe('avroEncoder', () => {
  const all = [...source, ...bulk];
  const cases: Array<{ compression: Compression | undefined; codec: string }> = [
    { compression: undefined, codec: 'null' },
    { compression: 'snappy', codec: 'snappy' },
    { compression: 'zstd', codec: 'zstandard' },
    { compression: 'gzip', codec: 'deflate' },
  ];

  beforeAll(async () => {
    // The encoder's own instance: initialising the wasm module a second time resets its memory.
    zstd = await loadZstd();
  });

  it.each(cases)('round-trips every value exactly with codec $codec', async ({ compression, codec }) => {
    const dir = join(work, `codec-${codec}`);
    const files = await avroEncoder.encode(request(dir, compression ? { compression } : {}));
    // Two partitions, one file each at the default target size.
    expect(files.map((f) => [f.part, f.name])).toEqual([
      [0, 'part-t1-0.avro'],
      [1, 'part-t1-0.avro'],
    ]);
    expect(files.map((f) => f.localPath)).toEqual([
      join(dir, '__cf_part=0', 'part-t1-0.avro'),
      join(dir, '__cf_part=1', 'part-t1-0.avro'),
    ]);
    for (const file of files) {
      const read = await readAvro(file.localPath);
      expect(read.codec).toBe(codec);
      expect(read.schema).toEqual(avroSchemaFor(dataColumns, 'Row'));
      const region = file.part === 0 ? 'eu' : 'us';
      const expected = all
        .map((s) => s.expected)
        .filter((e) => e.region === region)
        .sort(byId);
      const got = read.records.map((r) => actual(r, region)).sort(byId);
      expect(got).toEqual(expected);

      // Our own reader (what a merge reads the table back with) agrees, value for value.
      const csv = `${file.localPath}.csv`;
      expect(await avroFileToCsv(file.localPath, dataColumns, csv)).toBe(expected.length);
      const text = (value: unknown) => (value === null ? null : String(value));
      const decoded = splitCsvRows(await readFile(csv, 'utf8')).map((line) => parseCsvRow(line));
      expect(decoded.sort((a, b) => byId({ id: BigInt(a[0]!) }, { id: BigInt(b[0]!) }))).toEqual(
        expected.map((e) =>
          [
            e.id,
            e.name,
            e.amount,
            e.price,
            e.active,
            e.born,
            e.updated_at,
            e.payload,
            e.hostile,
            e.order_id___drop,
          ].map(text),
        ),
      );
    }
  });

  it('rolls to a new file once a file passes the target size', async () => {
    const dir = join(work, 'rolling');
    const files = await avroEncoder.encode(request(dir, { compression: 'snappy', targetFileBytes: 512 }));
    const eu = files.filter((f) => f.part === 0);
    const us = files.filter((f) => f.part === 1);
    expect(eu.length).toBeGreaterThan(2);
    expect(us.length).toBeGreaterThan(2);
    // Names count up per partition folder; every file but a partition's last one has passed the target.
    expect(us.map((f) => f.name).sort()).toEqual(us.map((_f, i) => `part-t1-${i}.avro`).sort());
    for (const list of [eu, us]) {
      const sizes = await Promise.all(list.map(async (f) => (await stat(f.localPath)).size));
      const last = list.findIndex((f) => f.name === `part-t1-${list.length - 1}.avro`);
      sizes.forEach((size, i) => {
        if (i !== last) expect(size).toBeGreaterThanOrEqual(512);
      });
    }
    const ids: bigint[] = [];
    for (const file of files) {
      const read = await readAvro(file.localPath);
      expect(read.records.length).toBeGreaterThan(0);
      for (const record of read.records) {
        ids.push(record['id'] as bigint);
        const source = all.find((s) => s.expected.id === record['id'])!;
        expect(source.expected.region).toBe(file.part === 0 ? 'eu' : 'us');
      }
    }
    expect(ids.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(
      all.map((s) => s.expected.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
    );
  });

  it('puts partitions in separate folders and writes nothing for no rows', async () => {
    const dir = join(work, 'folders');
    await avroEncoder.encode(request(dir));
    expect((await readdir(dir)).sort()).toEqual(['__cf_part=0', '__cf_part=1']);
    const empty = join(work, 'empty');
    expect(await avroEncoder.encode(request(empty, { query: `${query} WHERE false`, parts: [] }))).toEqual([]);
  });

  it('names its files .avro whatever the codec', () => {
    expect(avroEncoder.extension(undefined)).toBe('.avro');
    expect(avroEncoder.extension('zstd')).toBe('.avro');
  });
});
