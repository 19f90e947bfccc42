import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTimestampMicros } from '../../src/lake/conform.js';
import { isoMicros } from '../../src/lake/spool/row-values.js';

describe('isoMicros (the hot-path timestamp parser)', () => {
  it('agrees with the reference parser on the ISO shapes sources send', () => {
    const pad = (n: number, w: number) => String(n).padStart(w, '0');
    fc.assert(
      fc.property(
        fc.integer({ min: 1700, max: 2200 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 31 }),
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 0, max: 999_999 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom('Z', '+00:00', '+05:30', '-08:00', '+14', ' junk', ''),
        fc.constantFrom('T', ' '),
        (y, mo, d, h, mi, s, us, places, zone, sep) => {
          const fraction = places === 0 ? '' : `.${pad(us, 6).slice(0, places)}`;
          const text = `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}${sep}${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction}${zone}`;
          const fast = isoMicros(text);
          const reference = parseTimestampMicros(text);
          // The fast parser may decline (undefined) but must never disagree.
          if (fast !== undefined) expect(BigInt(fast)).toBe(reference);
          // It takes every well-formed value with an explicit zone.
          if (zone === 'Z' || zone === '+00:00' || zone === '+05:30' || zone === '-08:00') {
            expect(fast === undefined).toBe(reference === undefined);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('declines what it does not know', () => {
    for (const text of [
      '2025-02-30T00:00:00Z',
      '2025-01-01',
      '2025-01-01T24:00:00Z',
      'infinity',
      '2025-01-01T00:00:00.Z',
      '2025-01-01T00:00:00+5',
    ]) {
      expect(isoMicros(text), text).toBeUndefined();
    }
  });
});

describe('the row spool (hot-path encoders)', () => {
  it('writes integers, decimals and text exactly as given, or quarantines what does not fit', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openLakeWriter } = await import('../../src/lake/open-lake-writer.js');
    const { columnOf } = await import('../../src/lake/table-schema.js');
    const { openEngine, quoteLiteral } = await import('../../src/engine/duckdb-engine.js');
    const schema = {
      columns: [
        columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
        columnOf({ name: 'n', type: 'number', nullable: true }, 'int64'),
        columnOf({ name: 'd', type: 'number', nullable: true }, 'decimal(6,2)'),
        columnOf({ name: 's', type: 'string', nullable: true }),
      ],
      partitionBy: [],
      mergeKeys: ['id'],
    };
    const value = fc.record({
      n: fc.oneof(
        fc.integer({ min: -1000, max: 1000 }),
        fc.constantFrom(
          0,
          -0,
          Number.MAX_SAFE_INTEGER,
          Number.MIN_SAFE_INTEGER,
          10 ** 15,
          10 ** 15 - 1,
          2 ** 53 + 2,
          1.5,
        ),
      ),
      d: fc.oneof(
        fc.double({ min: -10000, max: 10000, noNaN: true }),
        fc.constantFrom(
          '0.5',
          '-0.50',
          '0000.01',
          '9999.99',
          '10000.00',
          '1.234',
          '1e2',
          '.5',
          '5.',
          '-',
          '',
          '12a',
          '00',
          0.1,
          9999.99,
          -9999.99,
        ),
      ),
      s: fc.string({ maxLength: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 30 }), async (values) => {
        const path = mkdtempSync(join(tmpdir(), 'cf-spool-'));
        const writer = await openLakeWriter({
          lakePath: path,
          format: 'parquet',
          writeMode: 'append',
          schema,
          appId: 'spool_test',
        });
        const rows = values.map((v, id) => ({ id, ...v }));
        const result = await writer.writeBatch(1, [rows]);
        await writer.close();
        const engine = await openEngine({ tempDirectory: join(path, '.spill') });
        try {
          const read =
            result.rowsWritten === 0
              ? []
              : (
                  await engine.connection.runAndReadAll(
                    `SELECT id, CAST(n AS VARCHAR) AS n, CAST(d AS VARCHAR) AS d, s FROM read_parquet(${quoteLiteral(`${path}/*.parquet`)}) ORDER BY id`,
                  )
                ).getRowObjectsJS();
          const landed = new Map(read.map((r) => [Number(r.id), r]));
          expect(landed.size + result.rowsQuarantined).toBe(rows.length);
          for (const row of rows) {
            const exactInt = Number.isSafeInteger(row.n);
            const decimalText = typeof row.d === 'number' ? String(row.d) : row.d;
            const plain = /^-?\d+(\.\d+)?$/.exec(decimalText);
            const fitsDecimal =
              plain !== null && Math.abs(Number(decimalText)) < 10000 && (decimalText.split('.')[1] ?? '').length <= 2;
            const got = landed.get(row.id);
            if (exactInt && fitsDecimal) {
              expect(got, JSON.stringify(row)).toBeDefined();
              expect(got!.n).toBe(String(row.n === 0 ? 0 : row.n));
              expect(Number(got!.d)).toBe(Number(decimalText));
              expect(got!.s).toBe(row.s);
            }
            if (got && !exactInt) expect(Number.isInteger(row.n)).toBe(true);
          }
        } finally {
          engine.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('Stage.drop', () => {
  it('removes the columnar spool even when removing the row spool fails', async () => {
    const { existsSync, mkdtempSync, readdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { vi } = await import('vitest');
    const { openEngine } = await import('../../src/engine/duckdb-engine.js');
    const { Stage } = await import('../../src/lake/stage.js');
    const { ParquetSpool } = await import('../../src/lake/spool/parquet-spool.js');
    const { columnOf } = await import('../../src/lake/table-schema.js');
    const dir = mkdtempSync(join(tmpdir(), 'cf-stage-drop-'));
    const engine = await openEngine({ tempDirectory: join(dir, 'spill') });
    const columns = [columnOf({ name: 'id', type: 'number', nullable: false }, 'int64')];
    const stage = await Stage.create(engine.connection, { columns, partitionBy: [], mergeKeys: [] }, 'stage_drop', dir);
    await stage.append([{ id: 1 }], new Date());
    await stage.appendColumnar(
      {
        kind: 'columnar',
        rows: 1,
        fields: ['id'],
        constants: {},
        fill: (sink) => {
          sink.beginRow();
          sink.int64(0, 2);
          sink.commitRow();
          return [];
        },
      },
      new Date(),
    );
    const spools = () => readdirSync(dir).filter((f) => f.startsWith('spool-'));
    expect(spools()).toHaveLength(2);
    const abort = ParquetSpool.prototype.abort;
    let calls = 0;
    const spy = vi.spyOn(ParquetSpool.prototype, 'abort').mockImplementation(function (
      this: InstanceType<typeof ParquetSpool>,
    ) {
      if (calls++ === 0) return Promise.reject(new Error('disk gone'));
      return abort.call(this);
    });
    try {
      await expect(stage.drop()).rejects.toThrow('disk gone');
    } finally {
      spy.mockRestore();
      engine.close();
    }
    // The row spool's removal failed; the columnar one was still removed.
    expect(spools().filter((f) => f.includes('columnar'))).toEqual([]);
    expect(existsSync(dir)).toBe(true);
  });
});
