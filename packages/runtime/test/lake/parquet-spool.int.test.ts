import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ParquetSpool } from '../../src/lake/spool/parquet-spool.js';
import { columnOf, type Column } from '../../src/lake/table-schema.js';
import { readLake } from './readers.js';

// The row spool is Parquet written by this project's own code: pyarrow, an independent reader, must
// read it as DuckDB does (the spool's quick tests read it with DuckDB).

const columns: Column[] = [
  columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
  columnOf({ name: 'score', type: 'number', nullable: true }, 'float64'),
  columnOf({ name: 'small', type: 'number', nullable: true }, 'decimal(6,2)'),
  columnOf({ name: 'amount', type: 'number', nullable: false }, 'decimal(12,2)'),
  columnOf({ name: 'huge', type: 'number', nullable: true }, 'decimal(38,9)'),
  columnOf({ name: 'paid', type: 'boolean', nullable: false }),
  columnOf({ name: 'day', type: 'date', nullable: true }),
  columnOf({ name: 'at', type: 'datetime', nullable: true }),
  columnOf({ name: 'note', type: 'string', nullable: true }),
];

const ROWS = 70_000; // three row groups, the last one partial

function row(n: number): unknown[] {
  const at = Date.UTC(2025, 0, 31, 12) * 1000 + n * 1_000_001;
  return [
    n,
    n % 5 === 0 ? null : n / 8,
    n % 7 === 0 ? null : ((n % 200_000) - 100_000) / 100,
    `${n}.${String(n % 100).padStart(2, '0')}`,
    n % 3 === 0 ? null : `-${n}12345678901234567890.123456789`,
    n % 2 === 0,
    n % 11 === 0 ? null : `${String(1 + (n % 9999)).padStart(4, '0')}-02-28`,
    n % 13 === 0 ? null : BigInt(at),
    n % 17 === 0 ? null : n % 4 === 0 ? `ünïcödé ${n} ✓` : `row ${n}`,
  ];
}

function expected(n: number): Record<string, unknown> {
  const [id, score, small, amount, huge, paid, day, at, note] = row(n);
  const iso = (micros: bigint) => {
    const ms = Number(micros / 1000n);
    return `${new Date(ms).toISOString().slice(0, 19)}.${String(micros % 1_000_000n).padStart(6, '0')}Z`;
  };
  return {
    id,
    score,
    small: small === null ? null : (small as number).toFixed(2),
    amount,
    huge: huge === null ? null : huge,
    paid,
    day,
    at: at === null ? null : iso(at as bigint),
    note,
  };
}

describe('the row spool, read by pyarrow', () => {
  it('holds every type, null and row group as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-spool-pyarrow-'));
    try {
      const spool = new ParquetSpool(join(dir, 'spool.parquet'), columns);
      const writers = columns.map((_c, i) => spool.writer(i));
      for (let n = 0; n < ROWS; n++) {
        spool.beginRow();
        row(n).forEach((v, i) => (v === null ? spool.setNull(i) : writers[i]!(v)));
        spool.commitRow();
      }
      await spool.close();
      const read = await readLake('parquet', dir, 'pyarrow');
      expect(read.rows).toHaveLength(ROWS);
      const byId = new Map(read.rows.map((r) => [Number(r.c0), r]));
      for (let n = 0; n < ROWS; n += n < 100 ? 1 : 97) {
        const got = byId.get(n)!;
        const want = expected(n);
        expect(Object.fromEntries(columns.map((c, i) => [c.name, got[`c${i}`]])), `row ${n}`).toEqual(want);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
