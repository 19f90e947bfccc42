import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEngine, quoteLiteral } from '../../src/engine/duckdb-engine.js';
import { formatCsvRow, parseCsvRow, splitCsvRows } from '../../src/lake/csv-page.js';
import { hasBcValue } from '../../src/sources/postgres/postgres-source.js';
import {
  exactNumber,
  fileStatsFromCopy,
  parquetFileStats,
  type CopyColumnStatistics,
} from '../../src/lake/file-stats.js';
import { columnOf } from '../../src/lake/table-schema.js';
import { FileStore } from '../../src/stores/file/file-store.js';
import type { ObjectStore } from '../../src/stores/object-store.js';

/** CSV text of rows the way PostgreSQL writes it: quoted only when needed, empty unquoted = null. */
function csvOf(rows: (string | null)[][]): string {
  return rows.map(formatCsvRow).join('');
}

describe('CSV rows as PostgreSQL writes them', () => {
  it('split and parse back to the values, quotes and newlines included', () => {
    const value = fc.oneof(
      fc.constant(null),
      fc.constant(''),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('"', '\n', 'a,"b"\nc', '\r\n', ',,'),
    );
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 2, maxLength: 2 }), { maxLength: 40 }), (rows) => {
        expect(splitCsvRows(csvOf(rows)).map(parseCsvRow)).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });
});

describe('hasBcValue', () => {
  it('finds a date or timestamp PostgreSQL wrote before the year 1, and nothing else', () => {
    expect(hasBcValue(Buffer.from('1,0044-03-15 BC,x\n'))).toBe(true);
    expect(hasBcValue(Buffer.from('1,x,2000-01-01 00:00:00+00 BC\n'))).toBe(true);
    expect(hasBcValue(Buffer.from('BC,1\n'))).toBe(false);
    expect(hasBcValue(Buffer.from('1,"ABC, BC-ish",BCE\n'))).toBe(false);
    expect(hasBcValue(Buffer.from('1, BCx\n'))).toBe(false);
  });
});

describe('exactNumber', () => {
  it('keeps integers and decimals a JSON number holds exactly, and only those', () => {
    expect(exactNumber('9007199254740991')).toBeUndefined(); // 16 digits
    expect(exactNumber('123456789012345')).toBe(123456789012345);
    expect(exactNumber('9223372036854775807')).toBeUndefined();
    expect(exactNumber('-0.01')).toBe(-0.01);
    expect(exactNumber('33333.00')).toBe(33333);
    expect(exactNumber('1234567890123456789012345678.0123456789')).toBeUndefined();
    expect(exactNumber('1e5')).toBeUndefined();
  });
});

describe('file statistics from COPY … RETURN_STATS', () => {
  it('equal the statistics read back from the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-stats-'));
    const engine = await openEngine({ tempDirectory: join(dir, 'spill') });
    try {
      const columns = [
        columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
        columnOf({ name: 'big', type: 'number', nullable: true }, 'int64'),
        columnOf({ name: 'total', type: 'number', nullable: true }, 'decimal(12,2)'),
        columnOf({ name: 'huge', type: 'number', nullable: true }, 'decimal(38,10)'),
        columnOf({ name: 'score', type: 'number', nullable: true }, 'float64'),
        columnOf({ name: 'flag', type: 'boolean', nullable: true }),
        columnOf({ name: 'day', type: 'date', nullable: true }),
        columnOf({ name: 'at', type: 'datetime', nullable: true }),
        columnOf({ name: 'short', type: 'string', nullable: true }),
        columnOf({ name: 'long', type: 'string', nullable: true }),
        columnOf({ name: 'we"ird é', type: 'string', nullable: true }),
        columnOf({ name: 'empty', type: 'string', nullable: true }),
      ];
      const path = join(dir, 'f.parquet');
      const result = await engine.connection.runAndReadAll(
        `COPY (SELECT i AS id, CASE WHEN i = 7 THEN 9223372036854775807 ELSE i END AS big, (i / 7.0)::DECIMAL(12,2) AS total,
           (i * 1234567890123.0123456789)::DECIMAL(38,10) AS huge, CASE WHEN i % 3 = 0 THEN NULL ELSE i / 3.0 END AS score, i % 2 = 0 AS flag,
           DATE '2020-02-28' + i::INT AS day, make_timestamptz(1735689600000000 + i * 1000001) AS at, 'k' || i AS short,
           repeat('x', 300) || i AS long, 'é' || i AS "we""ird é", NULL::VARCHAR AS empty FROM range(1000) r(i))
         TO ${quoteLiteral(path)} (FORMAT parquet, RETURN_STATS true)`,
      );
      const row = result.getRowObjectsJS()[0]!;
      const fromCopy = fileStatsFromCopy(
        Number(row.count),
        row.column_statistics as unknown as CopyColumnStatistics,
        columns,
      );
      const readBack = (await parquetFileStats(engine.connection, [path], columns)).get(path)!;
      expect(fromCopy).toEqual(readBack);
      expect(fromCopy.numRecords).toBe(1000);
      expect(fromCopy.maxValues.big).toBeUndefined();
      expect(fromCopy.maxValues.huge).toBeUndefined();
      expect(fromCopy.maxValues.long).toBeUndefined();
      expect(fromCopy.nullCount).toMatchObject({ score: 334, empty: 1000, id: 0 });
      expect(fromCopy.minValues).toMatchObject({
        id: 0,
        total: 0,
        day: '2020-02-28',
        at: '2025-01-01T00:00:00.000Z',
        short: 'k0',
        'we"ird é': 'é0',
      });
      expect(fromCopy.maxValues.at).toBe('2025-01-01T00:16:39.001Z');
    } finally {
      engine.close();
    }
  });
});

describe('openEngine', () => {
  it('reads and writes times in UTC whatever the machine zone', () => {
    const engine = fileURLToPath(new URL('../../dist/engine/duckdb-engine.js', import.meta.url));
    const script = `import(${JSON.stringify(engine)}).then(async (m) => {
      const e = await m.openEngine({ tempDirectory: ${JSON.stringify(join(tmpdir(), 'cf-tz-spill'))} });
      const r = await e.connection.runAndReadAll("SELECT current_setting('TimeZone') AS tz, epoch_us(CAST('2025-01-01 00:00:00' AS TIMESTAMPTZ)) AS us");
      const row = r.getRowObjectsJS()[0];
      console.log(JSON.stringify({ tz: row.tz, us: String(row.us) }));
      e.close();
    })`;
    const out = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, TZ: 'America/New_York' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim())).toEqual({ tz: 'UTC', us: '1735689600000000' });
  });
});

describe('the lake writer fed CSV pages', () => {
  const schema = {
    columns: [
      columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
      columnOf({ name: 'note', type: 'string', nullable: true }),
    ],
    partitionBy: [],
    mergeKeys: ['id'],
  };
  const page = (text: string, rows: number, longestRow?: number) => ({
    kind: 'csv' as const,
    data: Buffer.from(text),
    rows,
    fields: ['id', 'note'],
    constants: {},
    ...(longestRow !== undefined ? { longestRow } : {}),
  });
  const open = async (store?: ObjectStore) => {
    const { openLakeWriter } = await import('../../src/lake/open-lake-writer.js');
    const lakePath = mkdtempSync(join(tmpdir(), 'cf-csv-writer-'));
    const workDir = mkdtempSync(join(tmpdir(), 'cf-csv-work-'));
    const writer = await openLakeWriter({
      lakePath,
      format: 'parquet',
      writeMode: 'append',
      schema,
      appId: 'csv_test',
      workDir,
      flushRows: 10,
      ...(store ? { store } : {}),
    });
    return { writer, lakePath, workDir };
  };

  it('lands rows longer than DuckDB’s default line limit', async () => {
    const { writer, lakePath } = await open();
    const long = 'x'.repeat(3 * 1024 * 1024);
    const result = await writer.writeBatch(1, [page(`1,${long}\n2,short\n`, 2, long.length + 3)]);
    await writer.close();
    expect(result).toMatchObject({ rowsWritten: 2, rowsQuarantined: 0 });
    const engine = await openEngine({ tempDirectory: join(lakePath, '.spill') });
    try {
      const read = await engine.connection.runAndReadAll(
        `SELECT id, length(note) AS n FROM read_parquet(${quoteLiteral(`${lakePath}/*.parquet`)}) ORDER BY id`,
      );
      expect(read.getRowObjectsJS().map((r) => [Number(r.id), Number(r.n)])).toEqual([
        [1, long.length],
        [2, 5],
      ]);
    } finally {
      engine.close();
    }
  });

  it('fails the batch on CSV that does not parse (a framing fault), and quarantines values that do not cast', async () => {
    const broken = await open();
    await expect(broken.writer.writeBatch(1, [page('1,a,extra\n2,b\n', 2)])).rejects.toThrow(
      /CSV rows from the source do not parse/,
    );
    await broken.writer.close();
    const fine = await open();
    const result = await fine.writer.writeBatch(1, [page('1,a\nnot-a-number,b\n', 2)]);
    await fine.writer.close();
    expect(result).toMatchObject({ rowsWritten: 1, rowsQuarantined: 1 });
  });

  it('stops reading pages once a queued encode failed, and leaves no spool behind', async () => {
    const inner = new FileStore(mkdtempSync(join(tmpdir(), 'cf-csv-failing-')));
    const failing: ObjectStore = Object.assign(Object.create(inner) as ObjectStore, {
      putFile: async () => {
        throw new Error('disk full (test)');
      },
    });
    const { writer, workDir } = await open(failing);
    let pulled = 0;
    async function* pages() {
      // Slower than DuckDB, so the queue never fills: only the failure can stop the reading.
      for (let p = 0; p < 120; p++) {
        pulled++;
        let text = '';
        for (let i = 0; i < 10; i++) text += `${p * 10 + i},row\n`;
        yield page(text, 10);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    }
    await expect(writer.writeBatch(1, pages())).rejects.toThrow(/disk full \(test\)/);
    expect(pulled).toBeLessThan(40);
    const leftovers = readdirSync(workDir, { recursive: true }).filter((f) => String(f).endsWith('.csv'));
    expect(leftovers).toEqual([]);
    await writer.close();
  });
});
