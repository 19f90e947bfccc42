import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ConnectorManifest, Field } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector } from '../../src/connector/run-connector.js';
import type { SourceChunk } from '../../src/sources/source.js';
import { PostgresSource } from '../../src/sources/postgres/postgres-source.js';
import { readLake } from '../lake/readers.js';
import { countingSource, pgTestManifest, readQuarantine, type HandoverCounts } from './fixtures.js';

// The bulk hand-overs of a full refresh: PostgreSQL's COPY in binary, decoded straight into the lake
// writer's spool, or as CSV bytes that DuckDB casts. Each must land exactly what the row path lands —
// same rows, same values, same rows quarantined — for every type it passes through, with hostile text
// and NULLs everywhere.

const url = process.env.PG_URL;
const table = `cf_csv_${randomBytes(4).toString('hex')}`;
let client: pg.Client;

const FIELDS: Field[] = [
  { name: 'id', type: 'number', nullable: false },
  { name: 'c_smallint', type: 'number', nullable: true },
  { name: 'c_bigint', type: 'number', nullable: true },
  { name: 'c_num12', type: 'number', nullable: true },
  { name: 'c_num', type: 'string', nullable: true },
  { name: 'c_real', type: 'number', nullable: true },
  { name: 'c_double', type: 'number', nullable: true },
  { name: 'c_bool', type: 'boolean', nullable: true },
  { name: 'c_date', type: 'date', nullable: true },
  { name: 'c_ts', type: 'datetime', nullable: true },
  { name: 'c_tstz', type: 'datetime', nullable: true },
  { name: 'c_time', type: 'string', nullable: true },
  { name: 'c_text', type: 'string', nullable: true },
  { name: 'c_char', type: 'string', nullable: true },
  { name: 'c_uuid', type: 'string', nullable: true },
  // Nullable in PostgreSQL, required by the manifest: a NULL there goes to the quarantine.
  { name: 'c_required', type: 'string', nullable: false },
];

const HOSTILE = [
  '',
  ' ',
  '"',
  '""',
  ',',
  'a,"b"\nc',
  'line\r\nbreak',
  '\\N',
  'NULL',
  'tab\there',
  'héllo 数量 🚀',
  "it's",
];

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE ${table} (
    id integer PRIMARY KEY, c_smallint smallint, c_bigint bigint, c_num12 numeric(12,2), c_num numeric,
    c_real real, c_double double precision, c_bool boolean, c_date date, c_ts timestamp, c_tstz timestamptz,
    c_time time, c_text text, c_char char(3), c_uuid uuid, c_required text)`);
  // 3000 ordinary rows (so the hand-over spans many chunks), NULLs in every nullable column of every
  // fifth row, hostile text cycling through the text column.
  await client.query(
    `INSERT INTO ${table}
     SELECT i, (i % 32767)::smallint, i::bigint * 1000003, (i % 100000) / 7.0, (i / 3.0)::numeric,
            i / 4.0, i / 3.0, i % 2 = 0, DATE '2024-01-01' + i, TIMESTAMP '2024-03-01 12:34:56.789012' + i * INTERVAL '1 minute',
            TIMESTAMPTZ '2024-03-01 12:34:56.123456-08:00' + i * INTERVAL '1 second', TIME '13:14:15.123456',
            ($1::text[])[1 + i % ${HOSTILE.length}], 'ab', md5(i::text)::uuid, 'r'
       FROM generate_series(1, 3000) i`,
    [HOSTILE],
  );
  await client.query(`UPDATE ${table} SET c_smallint = NULL, c_bigint = NULL, c_num12 = NULL, c_num = NULL, c_real = NULL,
    c_double = NULL, c_bool = NULL, c_date = NULL, c_ts = NULL, c_tstz = NULL, c_time = NULL, c_text = NULL, c_char = NULL,
    c_uuid = NULL WHERE id % 5 = 0`);
  // Rows the lake cannot take: non-finite floats, infinite and BC dates and timestamps, a NULL the
  // manifest forbids, extreme integers and numerics.
  await client.query(`INSERT INTO ${table} (id, c_real, c_double, c_date, c_ts, c_tstz, c_required, c_smallint, c_bigint, c_num12, c_text) VALUES
    (10001, 'NaN', 1, '2024-01-01', NULL, NULL, 'x', NULL, NULL, NULL, NULL),
    (10002, 1, '-Infinity', NULL, NULL, NULL, 'x', NULL, NULL, NULL, NULL),
    (10003, 1, 1, 'infinity', NULL, NULL, 'x', NULL, NULL, NULL, NULL),
    (10004, 1, 1, '0044-03-15 BC', NULL, NULL, 'x', NULL, NULL, NULL, NULL),
    (10005, 1, 1, NULL, 'infinity', '-infinity', 'x', NULL, NULL, NULL, NULL),
    (10006, 1, 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'required is null'),
    (10007, 1, 1, NULL, NULL, NULL, 'x', -32768, -9223372036854775808, -9999999999.99, '"quoted, with comma"'),
    (10008, 1, 1, NULL, '2000-01-01 00:00:00 BC', NULL, 'x', 32767, 9223372036854775807, 9999999999.99, E'multi\\nline\\n')`);
});

afterAll(async () => {
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

type Path = 'binary' | 'csv' | 'rows';

function manifest(lakePath: string, destination: Partial<ConnectorManifest['destination']>): ConnectorManifest {
  return pgTestManifest(table, {
    fields: FIELDS,
    strategy: { updateStrategy: 'full_refresh' },
    destination: { lakePath, writeMode: 'overwrite', ...destination },
    schedule: { type: 'interval', intervalSeconds: 60 },
  });
}

/** Runs the connector once along `path`, and reads table and quarantine back. */
async function land(destination: Partial<ConnectorManifest['destination']>, path: Path) {
  const lake = mkdtempSync(join(tmpdir(), 'cf-csv-'));
  const counts: HandoverCounts = { binary: 0, csv: 0, rows: 0 };
  const summary = await runConnector({
    manifest: manifest(lake, destination),
    once: true,
    env: { ...process.env, CF_TEST_PG_URL: url!, CF_CHUNK_ROWS: '500' },
    stateDir: mkdtempSync(join(tmpdir(), 'cf-csv-state-')),
    logStream: { write: () => true } as unknown as NodeJS.WritableStream,
    wrapSource: countingSource(counts, path === 'csv'),
    ...(path === 'rows' ? { csvHandover: false } : {}),
  });
  const format = destination.format ?? 'delta';
  const doc = await readLake(format === 'json' ? 'json' : format, lake, format === 'json' ? 'duckdb' : undefined);
  const quarantined = readQuarantine(lake, `connector_postgres_${table}_v1`);
  return { summary, counts, rows: doc.rows, quarantined };
}

/** A row with its extraction time dropped and values in one comparable text form. */
function comparable(row: Record<string, unknown>): string {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (key === '_extracted_at' || key === 'dt') continue;
    out[key] = value === null || value === undefined ? null : typeof value === 'number' ? value : String(value);
  }
  return JSON.stringify(out, Object.keys(out).sort());
}

/** Both runs landed the same rows and quarantined `ids`, for the same columns, keeping the source's values. */
function expectSameLanding(
  bulk: Awaited<ReturnType<typeof land>>,
  rows: Awaited<ReturnType<typeof land>>,
  ids: number[],
): void {
  const idsOf = (q: typeof bulk.quarantined) => q.map((r) => Number(r.record.id)).sort();
  expect({ bulk: idsOf(bulk.quarantined), rows: idsOf(rows.quarantined) }).toEqual({ bulk: ids, rows: ids });
  expect(bulk.summary).toMatchObject({ rowsRead: rows.summary!.rowsRead, rowsWritten: rows.summary!.rowsWritten });
  expect(bulk.rows.map(comparable).sort()).toEqual(rows.rows.map(comparable).sort());
  // The same rows quarantined, each with a reason naming the column.
  const reason = (id: number) => bulk.quarantined.find((r) => Number(r.record.id) === id)!.reason;
  expect(reason(10002)).toMatch(/c_double/);
  expect(reason(10003)).toMatch(/c_date/);
  expect(reason(10004)).toMatch(/c_date/);
  expect(reason(10005)).toMatch(/c_ts/);
  expect(reason(10006)).toMatch(/c_required.*not nullable/);
  expect(reason(10008)).toMatch(/c_ts/);
  // The quarantined record keeps the source's values (a BC date as PostgreSQL wrote it).
  expect(bulk.quarantined.find((r) => Number(r.record.id) === 10006)!.record.c_text).toBe('required is null');
  expect(bulk.quarantined.find((r) => Number(r.record.id) === 10004)!.record.c_date).toBe('0044-03-15 BC');
}

describe('full refresh: the bulk hand-overs land what the row path lands', () => {
  for (const destination of [
    { format: 'parquet' as const },
    { format: 'delta' as const, partitionBy: ['dt'] },
    { format: 'json' as const, compression: 'gzip' as const },
  ]) {
    const name = `${destination.format}${destination.partitionBy ? ' partitioned by dt' : ''}`;
    for (const path of ['csv', 'binary'] as const) {
      it(`${path === 'csv' ? 'CSV' : 'binary'}: ${name}`, async () => {
        const viaBulk = await land(destination, path);
        const viaRows = await land(destination, 'rows');
        // The hand-over was taken (and only where asked for): every column here has a binary decoder.
        expect({ ...viaBulk.counts, [path]: 0 }).toEqual({ binary: 0, csv: 0, rows: 0 });
        expect(viaBulk.counts[path]).toBeGreaterThan(1);
        expect(viaRows.counts).toMatchObject({ binary: 0, csv: 0 });
        expectSameLanding(viaBulk, viaRows, [10001, 10002, 10003, 10004, 10005, 10006, 10008]);
        expect(viaBulk.summary).toMatchObject({ rowsRead: 3008, rowsWritten: 3001, rowsQuarantined: 7 });
        expect(viaBulk.quarantined.find((r) => Number(r.record.id) === 10001)!.reason).toMatch(/c_real/);
      });
    }
  }

  it('a field the manifest types differently from the catalog (text declared datetime) goes the row path', async () => {
    const other = `${table}_text_ts`;
    await client.query(`CREATE TABLE ${other} (id int PRIMARY KEY, at text)`);
    try {
      await client.query(`INSERT INTO ${other} VALUES (1, '2024-01-02T03:04:05+02:00'), (2, '2024-01-02 junk')`);
      const lake = mkdtempSync(join(tmpdir(), 'cf-csv-'));
      const counts: HandoverCounts = { binary: 0, csv: 0, rows: 0 };
      const summary = await runConnector({
        manifest: {
          ...pgTestManifest(other, {
            fields: [
              { name: 'id', type: 'number', nullable: false },
              { name: 'at', type: 'datetime', nullable: true },
            ],
            strategy: { updateStrategy: 'full_refresh' },
            destination: { lakePath: lake, writeMode: 'overwrite', format: 'parquet' },
            schedule: { type: 'interval', intervalSeconds: 60 },
          }),
          // One row of two is junk on purpose.
          quality: { maxQuarantineShare: 1 },
        },
        once: true,
        env: { ...process.env, CF_TEST_PG_URL: url! },
        stateDir: mkdtempSync(join(tmpdir(), 'cf-csv-state-')),
        logStream: { write: () => true } as unknown as NodeJS.WritableStream,
        wrapSource: countingSource(counts),
      });
      expect(counts).toEqual({ binary: 0, csv: 0, rows: 1 });
      // The offset applied (01:04:05 UTC), the junk quarantined: what the row path does.
      expect(summary).toMatchObject({ rowsWritten: 1, rowsQuarantined: 1 });
      const doc = await readLake('parquet', lake, 'duckdb');
      expect(new Date(String(doc.rows[0]!.at)).toISOString()).toBe('2024-01-02T01:04:05.000Z');
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${other}`);
    }
  });

  it('asked for CSV alone, a table with a type that needs a converter (jsonb) is read as rows', async () => {
    const other = `${table}_json`;
    await client.query(`CREATE TABLE ${other} (id int PRIMARY KEY, doc jsonb)`);
    try {
      await client.query(`INSERT INTO ${other} VALUES (1, '{"a": 1}'), (2, NULL)`);
      const source = new PostgresSource({ url: url! });
      const chunks: SourceChunk[] = [];
      for await (const chunk of source.read(
        { name: other, fields: ['id', 'doc'], primaryKey: ['id'] },
        { strategy: 'full_refresh', csv: true },
        undefined,
      )) {
        chunks.push(chunk);
      }
      await source.close();
      expect(chunks.some((c) => c.kind === 'csv' || c.kind === 'columnar')).toBe(false);
      expect(chunks.flatMap((c) => c.rows)).toEqual(expect.arrayContaining([{ id: 1, doc: { a: 1 } }]));
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${other}`);
    }
  });

  it('a SQL_ASCII database with text that is not UTF-8 fails both ways with the error PostgreSQL gives', async () => {
    // SQL_ASCII converts nothing, but PostgreSQL checks what it sends a UTF-8 client: binary text values
    // too, so the binary hand-over never passes invalid UTF-8 on to a lake string.
    const database = `cf_sqlascii_${randomBytes(4).toString('hex')}`;
    await client.query(
      `CREATE DATABASE ${database} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
    const dbUrl = new URL(url!);
    dbUrl.pathname = `/${database}`;
    try {
      const other = new pg.Client({ connectionString: dbUrl.toString() });
      await other.connect();
      await other.query(`CREATE TABLE t (id int PRIMARY KEY, name text)`);
      // A Latin-1 é: one byte PostgreSQL stores as it is.
      await other.query(`INSERT INTO t VALUES (1, E'caf\\xe9'), (2, 'plain')`);
      await other.end();
      const columnar = [
        { name: 'id', type: 'number' as const, nullable: false, physical: { kind: 'int64' as const } },
        { name: 'name', type: 'string' as const, nullable: true, physical: { kind: 'string' as const } },
      ];
      for (const mode of [
        { strategy: 'full_refresh' as const, csv: true, columnar },
        { strategy: 'full_refresh' as const },
      ]) {
        const source = new PostgresSource({ url: dbUrl.toString() });
        const read = async () => {
          for await (const chunk of source.read(
            { name: 't', fields: ['id', 'name'], primaryKey: ['id'] },
            mode,
            undefined,
          ))
            void chunk;
        };
        await expect(read()).rejects.toThrow(/invalid byte sequence for encoding "UTF8": 0xe9/);
        await source.close();
      }
    } finally {
      await client.query(`DROP DATABASE IF EXISTS ${database}`);
    }
  });
});
