import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openEngine, quoteLiteral } from '../../src/engine/duckdb-engine.js';
import { conformValue } from '../../src/lake/conform.js';
import { Misfit } from '../../src/lake/spool/row-values.js';
import { ParquetSpool } from '../../src/lake/spool/parquet-spool.js';
import { columnOf, type Column } from '../../src/lake/table-schema.js';

// The row spool is checked against the reference rules (conformValue): every value either lands
// exactly as its canonical form, or is refused exactly when conformValue refuses it.

const columns: Column[] = [
  columnOf({ name: 'i', type: 'number', nullable: true }, 'int64'),
  columnOf({ name: 'f', type: 'number', nullable: true }, 'float64'),
  columnOf({ name: 'd2', type: 'number', nullable: true }, 'decimal(6,2)'),
  columnOf({ name: 'd12', type: 'number', nullable: true }, 'decimal(12,2)'),
  columnOf({ name: 'd38', type: 'number', nullable: true }, 'decimal(38,9)'),
  columnOf({ name: 'b', type: 'boolean', nullable: true }),
  columnOf({ name: 'day', type: 'date', nullable: true }),
  columnOf({ name: 'ts', type: 'datetime', nullable: true }),
  columnOf({ name: 's', type: 'string', nullable: true }),
  columnOf({ name: 'j', type: 'json', nullable: true }),
];

/** What DuckDB reads back, in a form comparable with the canonical values. */
const readBack = columns
  .map((c) => {
    const name = `c${columns.indexOf(c)}`;
    switch (c.physical.kind) {
      case 'int64':
      case 'decimal':
        return `CAST(${name} AS VARCHAR)`;
      case 'date':
        return `CAST(${name} - DATE '1970-01-01' AS BIGINT)`;
      case 'timestamp':
        return `epoch_us(${name})`;
      default:
        return name;
    }
  })
  .map((sql, i) => `${sql} AS v${i}`)
  .join(', ');

/** The canonical value as DuckDB shows it back. */
function expected(column: Column, canonical: unknown): unknown {
  if (canonical === null) return null;
  switch (column.physical.kind) {
    case 'int64':
      return String(canonical);
    case 'string':
    case 'json':
      // UTF-8 cannot hold a lone surrogate: it lands as U+FFFD, as everywhere text is encoded.
      return (canonical as string).replace(
        /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
        '\ufffd',
      );
    case 'date': {
      const [y, m, d] = (canonical as string).split('-').map(Number);
      const date = new Date(0);
      date.setUTCFullYear(y!, m! - 1, d!);
      return BigInt(Math.round(date.getTime() / 86_400_000));
    }
    default:
      return canonical;
  }
}

const anyValue = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    true,
    false,
    0,
    -0,
    1,
    -1,
    NaN,
    Infinity,
    '',
    't',
    '0',
    '-0',
    '1e2',
    '.5',
    '5.',
    '007',
  ),
  fc.integer({ min: -1_000_000, max: 1_000_000 }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53 + 2, 10 ** 15, 10 ** 16, 1e21, 5e-7),
  fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fc.double({ noNaN: true }),
  fc.integer({ min: -10_000_000, max: 10_000_000 }).map((n) => (n / 100).toFixed(2)),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
  fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(String),
  fc.constantFrom(
    '9999999999999999',
    '-9999999999999999',
    '999999999999999999',
    '-9223372036854775808',
    '99999999999999999999.123456789',
  ),
  fc.date({ min: new Date(-62135596800000), max: new Date(253402300799999), noInvalidDate: true }),
  fc
    .date({ min: new Date(-62135596800000), max: new Date(253402300799999), noInvalidDate: true })
    .map((d) => d.toISOString()),
  fc
    .date({ min: new Date(-62135596800000), max: new Date(253402300799999), noInvalidDate: true })
    .map((d) => d.toISOString().slice(0, 10)),
  fc.constantFrom(
    '0000-01-01',
    '2024-02-29',
    '2023-02-29',
    '2025-01-31 13:00:00.123456+01:00',
    '2025-01-31T12:00:00+05:30',
    '1900-01-01T00:00:00Z',
  ),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('a\u0000b', 'exactly12byt', 'thirteen byte', 'ünïcödé', '\ud800 lone', 'x'.repeat(5000)),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 }),
);

const dates = fc.date({ min: new Date(-62135596800000), max: new Date(253402300799999), noInvalidDate: true });
/** Per column: mostly the shapes sources send for its type, sometimes anything at all. */
const likely: fc.Arbitrary<unknown>[] = [
  fc.oneof(
    fc.integer(),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  ),
  fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
  fc.oneof(
    fc.integer({ min: -999_999, max: 999_999 }).map((n) => n / 100),
    fc.integer({ min: -999_999, max: 999_999 }).map((n) => (n / 100).toFixed(2)),
    fc.double({ min: -9999, max: 9999 }),
  ),
  fc.oneof(
    fc.integer({ min: -(10 ** 12), max: 10 ** 12 }).map((n) => n / 100),
    fc
      .bigInt({ min: -(10n ** 12n), max: 10n ** 12n })
      .map((n) => `${n / 100n}.${String((n < 0n ? -n : n) % 100n).padStart(2, '0')}`),
  ),
  fc.oneof(
    fc
      .bigInt({ min: -(10n ** 38n), max: 10n ** 38n })
      .map((n) => `${n / 10n ** 9n}.${String((n < 0n ? -n : n) % 10n ** 9n).padStart(9, '0')}`),
    fc.double({ min: -1e9, max: 1e9 }),
  ),
  fc.boolean(),
  dates.map((d) => d.toISOString().slice(0, 10)),
  fc.oneof(
    dates,
    dates.map((d) => d.toISOString()),
    fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  ),
  fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ minLength: 10, maxLength: 16 })),
  fc.jsonValue(),
];
const rowArbitrary = fc.tuple(
  ...likely.map((a) =>
    fc.oneof(
      { arbitrary: a, weight: 8 },
      { arbitrary: fc.constant(null), weight: 1 },
      { arbitrary: anyValue, weight: 1 },
    ),
  ),
);

let engine: Awaited<ReturnType<typeof openEngine>>;
let connection: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cf-spool-'));
  engine = await openEngine({ tempDirectory: join(dir, 'spill') });
  connection = engine.connection;
});

afterAll(() => {
  engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Spools rows the way the stage does; returns what landed (by row) and what was refused. */
let spools = 0;
async function spoolRows(rows: readonly unknown[][], name: string) {
  const path = join(dir, `${name}-${spools++}.parquet`);
  const spool = new ParquetSpool(path, columns);
  const writers = columns.map((_c, i) => spool.writer(i));
  const landed: number[] = [];
  const refused = new Map<number, string>();
  rows.forEach((values, r) => {
    spool.beginRow();
    try {
      values.forEach((v, i) => (v === null || v === undefined ? spool.setNull(i) : writers[i]!(v)));
      spool.commitRow();
      landed.push(r);
    } catch (error) {
      if (!(error instanceof Misfit)) throw error;
      spool.discardRow();
      refused.set(r, error.reason);
    }
  });
  await spool.close();
  const read = (
    await connection.runAndReadAll(`SELECT ${readBack} FROM read_parquet(${quoteLiteral(path)})`)
  ).getRowsJS();
  rmSync(path);
  return { landed, refused, read };
}

describe('the row spool (uncompressed Parquet that DuckDB reads back)', () => {
  it('lands every value as the reference rules say, or refuses it as they do', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArbitrary, { minLength: 1, maxLength: 40 }), async (rows) => {
        const { landed, refused, read } = await spoolRows(rows, 'prop');
        expect(read).toHaveLength(landed.length);
        rows.forEach((values, r) => {
          const reference = values.map((v, i) =>
            v === null || v === undefined ? { ok: true as const, value: null } : conformValue(v, columns[i]!),
          );
          const firstBad = reference.findIndex((c) => !c.ok);
          if (firstBad >= 0) {
            // Refused with the reason of the first column that does not fit.
            expect(
              refused.get(r),
              JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
            ).toBeDefined();
            return;
          }
          if (refused.has(r)) {
            // Only a timestamp beyond DuckDB's range may be refused when the reference takes it.
            expect(refused.get(r)).toMatch(/out of the timestamp range/);
            return;
          }
          const got = read[landed.indexOf(r)]!;
          reference.forEach((c, i) => {
            const want = expected(columns[i]!, c.ok ? c.value : undefined);
            if (columns[i]!.physical.kind === 'float64' && want !== null)
              expect(got[i]).toBe(want); // -0 stays -0
            else
              expect(
                got[i],
                `column ${columns[i]!.name} of ${JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`,
              ).toEqual(want);
          });
        });
      }),
      { numRuns: 150 },
    );
    // The property is only worth something if rows land: count them over a fixed sample.
    const sample = fc.sample(fc.array(rowArbitrary, { minLength: 40, maxLength: 40 }), { numRuns: 10, seed: 1 });
    let landed = 0;
    for (const rows of sample) landed += (await spoolRows(rows, 'sample')).landed.length;
    expect(landed).toBeGreaterThan(40);
  });

  it('keeps nulls, values and order across row groups', async () => {
    // 150 000 rows: three row groups, the last partial; nulls on a pattern that crosses group edges.
    const rows = Array.from({ length: 150_000 }, (_v, n) => [
      n,
      n % 7 === 0 ? null : n / 4,
      null,
      (n % 1000) / 100,
      n % 11 === 0 ? null : `${n}.000000001`,
      n % 3 === 0,
      '2025-01-31',
      n % 5 === 0 ? null : `2025-01-31T00:00:${String(n % 60).padStart(2, '0')}Z`,
      n % 13 === 0 ? null : n % 2 === 0 ? `short ${n % 100}` : `a longer string number ${n}`,
      { n },
    ]);
    const { landed, refused } = await spoolRows(rows, 'groups');
    expect(refused.size).toBe(0);
    expect(landed).toHaveLength(rows.length);
    const path = join(dir, 'groups-check.parquet');
    const spool = new ParquetSpool(path, columns);
    const writers = columns.map((_c, i) => spool.writer(i));
    for (const values of rows) {
      spool.beginRow();
      values.forEach((v, i) => (v === null ? spool.setNull(i) : writers[i]!(v)));
      spool.commitRow();
    }
    await spool.close();
    const summary = (
      await connection.runAndReadAll(
        `SELECT count(*) AS n, count(c1) AS f, count(c4) AS d38, count(c7) AS ts, count(c8) AS s, sum(c0) AS ids, ` +
          `bool_and(c0 = row_number - 1) AS ordered, max(c8) AS maxs, sum(c5::INT) AS trues, ` +
          `count(*) FILTER (WHERE c4 IS NOT NULL AND c4 <> CAST(c0 || '.000000001' AS DECIMAL(38,9))) AS bad38 ` +
          `FROM (SELECT *, row_number() OVER () AS row_number FROM read_parquet(${quoteLiteral(path)}))`,
      )
    ).getRowObjectsJS()[0]!;
    expect(summary).toEqual({
      n: 150_000n,
      f: BigInt(150_000 - Math.ceil(150_000 / 7)),
      d38: BigInt(150_000 - Math.ceil(150_000 / 11)),
      ts: BigInt(150_000 - 150_000 / 5),
      s: BigInt(150_000 - Math.ceil(150_000 / 13)),
      ids: BigInt((150_000 * 149_999) / 2),
      ordered: true,
      maxs: 'short 98',
      trues: 50_000n,
      bad38: 0n,
    });
  });

  it('ends a row group early once its text passes 16 MB (a page DuckDB reads whole; at most 2 GiB)', async () => {
    const path = join(dir, 'wide.parquet');
    const spool = new ParquetSpool(path, [columns[0]!, columns[8]!]);
    const write = [spool.writer(0), spool.writer(1)];
    const wide = (n: number) => `${n}:`.padEnd(700_000, String.fromCharCode(97 + (n % 26)));
    for (let n = 0; n < 200; n++) {
      spool.beginRow();
      write[0]!(n);
      write[1]!(wide(n));
      spool.commitRow();
    }
    await spool.close();
    const groups = (
      await connection.runAndReadAll(
        `SELECT count(DISTINCT row_group_id) AS n FROM parquet_metadata(${quoteLiteral(path)})`,
      )
    ).getRowObjectsJS()[0]!.n;
    expect(Number(groups)).toBeGreaterThanOrEqual(8);
    const read = (
      await connection.runAndReadAll(`SELECT c0, c1 FROM read_parquet(${quoteLiteral(path)}) ORDER BY c0`)
    ).getRowsJS();
    expect(read).toHaveLength(200);
    read.forEach(([id, text], n) => {
      expect(id).toBe(BigInt(n));
      expect(text).toBe(wide(n));
    });
    rmSync(path);
  });

  it('never closes its descriptor twice: by then the number may belong to another file', async () => {
    const spool = new ParquetSpool(join(dir, 'closed-twice.parquet'), [columns[0]!]);
    const write = spool.writer(0);
    spool.beginRow();
    write(1);
    spool.commitRow();
    await spool.close();
    // The next file opened gets the lowest free number: the spool's, now closed.
    const spoolFd = (spool as unknown as { fd: number }).fd;
    const opened: number[] = [];
    while (opened.length < 8 && opened.at(-1) !== spoolFd)
      opened.push(openSync(join(dir, `other-${opened.length}`), 'w'));
    try {
      expect(opened.at(-1)).toBe(spoolFd);
      await spool.abort();
      expect(writeSync(opened.at(-1)!, 'still mine')).toBe(10);
    } finally {
      for (const fd of opened) closeSync(fd);
    }
  });

  it('lands a number in a decimal of more than 15 digits as the reference does (its shortest form)', async () => {
    const wide = [
      columnOf({ name: 'a', type: 'number', nullable: true }, 'decimal(16,2)'),
      columnOf({ name: 'b', type: 'number', nullable: true }, 'decimal(18,5)'),
      columnOf({ name: 'c', type: 'number', nullable: true }, 'decimal(17,6)'),
      columnOf({ name: 'd', type: 'number', nullable: true }, 'decimal(18,2)'),
      columnOf({ name: 'e', type: 'number', nullable: true }, 'decimal(38,9)'),
    ];
    // Values where more than one decimal of the column's scale rounds to the same double.
    const known = [86093615796993.4, 80852698226.404, 8616782714.11439, 86093615796993.4, Number('8616782.714114389')];
    const sample = fc.sample(
      fc.tuple(
        fc.double({ min: 7e13, max: 9e13 }),
        fc.double({ min: 8e10, max: 9e10 }),
        fc.double({ min: 8e9, max: 9e9 }),
        fc.double({ min: 7e13, max: 9e13 }),
        fc.double({ min: 8.4e6, max: 9e6 }),
      ),
      { numRuns: 500, seed: 7 },
    );
    const rows = [known, ...sample.map((t) => [...t])];
    const path = join(dir, `wide-decimals-${spools++}.parquet`);
    const spool = new ParquetSpool(path, wide);
    const writers = wide.map((_c, i) => spool.writer(i));
    const landed: unknown[][] = [];
    for (const values of rows) {
      spool.beginRow();
      try {
        values.forEach((v, i) => writers[i]!(v));
        spool.commitRow();
        landed.push(values);
      } catch (error) {
        if (!(error instanceof Misfit)) throw error;
        spool.discardRow();
      }
    }
    await spool.close();
    const read = (
      await connection.runAndReadAll(
        `SELECT ${wide.map((_c, i) => `CAST(c${i} AS VARCHAR)`).join(', ')} FROM read_parquet(${quoteLiteral(path)})`,
      )
    ).getRowsJS();
    expect(read).toHaveLength(landed.length);
    expect(landed.length).toBeGreaterThan(rows.length / 2);
    read.forEach((got, r) =>
      wide.forEach((column, i) => {
        const reference = conformValue(landed[r]![i], column);
        // A value the spool took must be one the reference takes, landing as its canonical form.
        expect(reference.ok, `${String(landed[r]![i])} as ${column.name}`).toBe(true);
        expect(got[i], `${String(landed[r]![i])} as ${column.name}`).toBe(reference.ok ? reference.value : undefined);
      }),
    );
  });

  it("holds fewer rows in a wide table's row groups: 16 MB of values a group, whatever the columns", async () => {
    const many = Array.from({ length: 200 }, (_v, i) =>
      columnOf({ name: `n${i}`, type: 'number', nullable: false }, 'int64'),
    );
    const path = join(dir, `many-columns-${spools++}.parquet`);
    const spool = new ParquetSpool(path, many);
    const writers = many.map((_c, i) => spool.writer(i));
    for (let n = 0; n < 25_000; n++) {
      spool.beginRow();
      for (let i = 0; i < many.length; i++) writers[i]!(n * 1000 + i);
      spool.commitRow();
    }
    await spool.close();
    const groups = (
      await connection.runAndReadAll(
        `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${quoteLiteral(path)}) ORDER BY 1`,
      )
    ).getRowsJS();
    // 200 columns × 8 bytes: 10 480 rows a group (16 MB), not 32 768 (52 MB).
    expect(groups.map((g) => Number(g[1]))).toEqual([10_480, 10_480, 4_040]);
    const sums = (
      await connection.runAndReadAll(`SELECT sum(c0), sum(c199), count(*) FROM read_parquet(${quoteLiteral(path)})`)
    ).getRowsJS()[0]!;
    expect(sums).toEqual([
      BigInt(1000 * ((25_000 * 24_999) / 2)),
      BigInt(1000 * ((25_000 * 24_999) / 2) + 199 * 25_000),
      25_000n,
    ]);
  });
});
