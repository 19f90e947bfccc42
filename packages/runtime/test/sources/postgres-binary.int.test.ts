import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import type { Field } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector } from '../../src/connector/run-connector.js';
import { countingSource, pgTestManifest, readQuarantine, type HandoverCounts } from '../connector/fixtures.js';
import { readLake } from '../lake/readers.js';

// The binary hand-over against the row path on random values: every value lands as the row path lands
// it, and every row the row path quarantines is quarantined with the same reason and the same record.
// Fast paths and fallbacks both: decimals of 4, 8 and 16 bytes, numerics as text, timestamps from
// year 1 to 9999 (the fast path covers 1857–2142), infinities, BC dates, NaN, unicode text; reals read
// as the row path reads their shortest text, json and jsonb parsed, bytea as base64, time as text.

const url = process.env.PG_URL;
const table = `cf_binary_${randomBytes(4).toString('hex')}`;
let client: pg.Client;

const FIELDS: Field[] = [
  { name: 'id', type: 'number', nullable: false },
  { name: 'n52', type: 'number', nullable: true },
  { name: 'n184', type: 'number', nullable: true },
  { name: 'n389', type: 'number', nullable: true },
  { name: 'nfree', type: 'string', nullable: true },
  { name: 'i2', type: 'number', nullable: true },
  { name: 'i8', type: 'number', nullable: true },
  { name: 'f8', type: 'number', nullable: true },
  { name: 'b', type: 'boolean', nullable: true },
  { name: 'd', type: 'date', nullable: true },
  { name: 'ts', type: 'datetime', nullable: true },
  { name: 'tstz', type: 'datetime', nullable: true },
  { name: 't', type: 'string', nullable: false },
  { name: 'u', type: 'string', nullable: true },
  { name: 'f4', type: 'number', nullable: true },
  { name: 'tm', type: 'string', nullable: true },
  { name: 'j', type: 'json', nullable: true },
  { name: 'jb', type: 'json', nullable: false },
  { name: 'by', type: 'string', nullable: true },
];

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET TimeZone = 'UTC'`);
  await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, n52 numeric(5,2), n184 numeric(18,4), n389 numeric(38,9),
    nfree numeric, i2 smallint, i8 bigint, f8 double precision, b boolean, d date, ts timestamp, tstz timestamptz, t text, u uuid,
    f4 real, tm time, j json, jb jsonb, by bytea)`);
});

afterAll(async () => {
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

const digits = (n: number) => fc.bigInt({ min: -(10n ** BigInt(n)) + 1n, max: 10n ** BigInt(n) - 1n });
/** A decimal's text with `scale` places from its scaled integer. */
const decimalText = (k: bigint, scale: number) => {
  const sign = k < 0n ? '-' : '';
  const text = (k < 0n ? -k : k).toString().padStart(scale + 1, '0');
  return scale === 0 ? `${sign}${text}` : `${sign}${text.slice(0, -scale)}.${text.slice(-scale)}`;
};
const YEAR_1 = Date.UTC(1, 0, 1) - 86_400_000 * 366; // a little before year 1: BC values too
const YEAR_9999 = Date.UTC(9999, 11, 31, 23, 59, 59);
/** A timestamp's text (ISO, year 0 and below written as BC), with microseconds. */
const timestampText = fc
  .tuple(fc.integer({ min: YEAR_1, max: YEAR_9999 }), fc.integer({ min: 0, max: 999 }))
  .map(([ms, micros]) => {
    const iso = new Date(ms).toISOString();
    const year = Number(iso.slice(0, iso.indexOf('-', 1)));
    const rest = iso.slice(iso.indexOf('-', 1), -1);
    const body = `${String(year <= 0 ? 1 - year : year).padStart(4, '0')}${rest}${String(micros).padStart(3, '0')}`;
    return `${body.replace('T', ' ')}${year <= 0 ? ' BC' : ''}`;
  });
const nearNow = fc
  .integer({ min: Date.UTC(1850, 0, 1), max: Date.UTC(2150, 0, 1) })
  .map((ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, -1));
const sometimes = <T>(arb: fc.Arbitrary<T>, ...specials: string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: arb.map((v) => (typeof v === 'bigint' ? v.toString() : String(v))) },
    fc.constantFrom<string | null>(null, ...specials),
  );

/** JSON text without \u0000 (jsonb refuses it) and without lone surrogates. */
const json = fc
  .jsonValue({ maxDepth: 2 })
  .map((v) => JSON.stringify(v))
  .filter((t) => !t.includes('\\u0000') && !/\\ud[89a-f]/i.test(t));

const rowArbShape = {
  n52: sometimes(digits(5).map((k) => decimalText(k, 2))),
  n184: sometimes(digits(18).map((k) => decimalText(k, 4))),
  n389: sometimes(digits(38).map((k) => decimalText(k, 9))),
  nfree: sometimes(
    fc.tuple(digits(30), fc.integer({ min: 0, max: 20 })).map(([k, s]) => decimalText(k, s)),
    'NaN',
    'Infinity',
    '0',
    '-0.000',
  ),
  i2: sometimes(fc.integer({ min: -32768, max: 32767 })),
  i8: sometimes(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
  f8: sometimes(fc.double({ noNaN: true, noDefaultInfinity: true }), 'NaN', 'Infinity', '-Infinity', '-0'),
  b: sometimes(fc.boolean()),
  d: sometimes(
    timestampText.map((t) => `${t.slice(0, 10)}${t.endsWith(' BC') ? ' BC' : ''}`),
    'infinity',
    '-infinity',
  ),
  ts: sometimes(fc.oneof(timestampText, nearNow), 'infinity', '-infinity'),
  tstz: sometimes(
    fc.oneof(timestampText, nearNow).map((t) => (t.endsWith(' BC') ? t.replace(' BC', '+00 BC') : `${t}+00`)),
    'infinity',
  ),
  // Text never holds NUL in PostgreSQL; null here breaks the manifest's non-null rule.
  t: fc.oneof({ weight: 9, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) }, fc.constant(null)),
  u: sometimes(fc.uuid()),
  // Normal floats (PostgreSQL refuses some subnormal text as out of range).
  f4: sometimes(
    fc.oneof(
      fc.float({ noNaN: true, noDefaultInfinity: true }).filter((v) => v === 0 || Math.abs(v) >= 2 ** -126),
      // Powers of two, where a float's interval is lopsided (the shortest text may lie on its wide side).
      fc.integer({ min: -126, max: 127 }).map((k) => 2 ** k),
    ),
    'NaN',
    'Infinity',
    '-0',
    '1.1',
    '16777217',
    '3.4028235e38',
    // Halfway between 293961.12 and 293961.13: the even last digit wins, as in float4out.
    '293961.125',
  ),
  tm: sometimes(
    fc
      .integer({ min: 0, max: 86_399_999_999 })
      .map(
        (us) =>
          `${new Date(Math.floor(us / 1000)).toISOString().slice(11, 19)}.${String(us % 1_000_000).padStart(6, '0')}`,
      ),
    '24:00:00',
    '00:00:00',
  ),
  j: sometimes(json, '{"a": 1, "a": 2}', ' [1.0, 1e400 ] '),
  // Required by the manifest: SQL NULL and JSON null both go to the quarantine.
  jb: sometimes(json, '{"b": [true, null, 1.50]}', 'null'),
  by: sometimes(
    fc.uint8Array({ maxLength: 24 }).map((b) => `\\x${Buffer.from(b).toString('hex')}`),
    '\\x',
  ),
};
const rowArb = fc.record(rowArbShape);

/** Rows every run checks (other columns null, `t` empty). */
const EXAMPLES = [
  // 40058392: 40058390 rounds to it only as a tie, and float4out does not take it (8 digits, not 7).
  ...[
    '293961.125',
    '40058392',
    '170723808',
    '1.1',
    '16777217',
    '3.4028235e38',
    String(2 ** -126),
    String(2 ** 100),
    '-0',
    'NaN',
  ].map((f4) => ({
    f4,
  })),
  { jb: 'null' },
  { jb: '{"b": [1.50, "\\u00e9"]}', j: ' {"a": 1, "a": 2} ', by: '\\x', tm: '00:00:00' },
  { by: '\\x00ff10', tm: '24:00:00', jb: '[]' },
].map((over) => ({ ...Object.fromEntries(Object.keys(rowArbShape).map((k) => [k, null])), t: '', ...over }));

async function land(binary: boolean) {
  const lake = mkdtempSync(join(tmpdir(), 'cf-binary-'));
  const state = mkdtempSync(join(tmpdir(), 'cf-binary-state-'));
  const counts: HandoverCounts = { binary: 0, csv: 0, rows: 0 };
  try {
    const summary = await runConnector({
      manifest: {
        ...pgTestManifest(table, {
          fields: FIELDS,
          strategy: { updateStrategy: 'full_refresh' },
          destination: { lakePath: lake, writeMode: 'overwrite', format: 'parquet' },
          schedule: { type: 'interval', intervalSeconds: 60 },
        }),
        // Random values quarantine freely here: what matters is that both paths quarantine alike.
        quality: { maxQuarantineShare: 1 },
      },
      once: true,
      env: { ...process.env, CF_TEST_PG_URL: url!, CF_CHUNK_ROWS: '37' },
      stateDir: state,
      logStream: { write: () => true } as unknown as NodeJS.WritableStream,
      wrapSource: countingSource(counts),
      ...(binary ? {} : { csvHandover: false }),
    });
    const doc = summary!.rowsWritten > 0 ? await readLake('parquet', lake, 'duckdb') : { rows: [] };
    const quarantined = readQuarantine(lake, `connector_postgres_${table}_v1`);
    return { summary: summary!, counts, rows: doc.rows, quarantined };
  } finally {
    rmSync(lake, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

const comparable = (row: Record<string, unknown>) =>
  JSON.stringify(
    Object.fromEntries(
      Object.entries(row)
        .filter(([k]) => k !== '_extracted_at')
        .map(([k, v]) => [k, v === null || v === undefined ? null : typeof v === 'number' ? v : String(v)]),
    ),
  );

describe('PostgreSQL binary hand-over', () => {
  it('lands and quarantines random values exactly as the row path does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 150 }), async (rows) => {
        await client.query(`TRUNCATE ${table}`);
        const columns = FIELDS.slice(1).map((f) => f.name);
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i] as Record<string, string | null>;
          await client.query(
            `INSERT INTO ${table} (id, ${columns.join(', ')}) VALUES (${i + 1}, ${columns.map((_c, j) => `$${j + 1}`).join(', ')})`,
            columns.map((c) => row[c] ?? null),
          );
        }
        const viaBinary = await land(true);
        const viaRows = await land(false);
        expect(viaBinary.counts.rows).toBe(0);
        expect(viaBinary.counts.binary).toBeGreaterThan(0);
        expect(viaRows.counts.binary).toBe(0);
        expect(viaBinary.summary).toMatchObject({
          rowsWritten: viaRows.summary.rowsWritten,
          rowsQuarantined: viaRows.summary.rowsQuarantined,
        });
        expect(viaBinary.rows.map(comparable).sort()).toEqual(viaRows.rows.map(comparable).sort());
        const quarantine = (q: typeof viaBinary.quarantined) =>
          q
            .map((r) => ({
              reason: r.reason,
              record: Object.fromEntries(Object.entries(r.record).filter(([k]) => k !== '_extracted_at')),
            }))
            .sort((a, b) => Number(a.record.id) - Number(b.record.id));
        expect(quarantine(viaBinary.quarantined)).toEqual(quarantine(viaRows.quarantined));
      }),
      // Besides random rows, always: the reals whose text is easy to get wrong, json null in a required
      // column, empty bytea, midnight.
      { numRuns: 6, examples: [[EXAMPLES]] },
    );
  });
});
