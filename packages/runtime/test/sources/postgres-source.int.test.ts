import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformValue } from '../../src/lake/conform.js';
import type { Row } from '../../src/lake/stage.js';
import { columnOf } from '../../src/lake/table-schema.js';
import { pgClientConfig, pgSslOption, quoteIdent } from '../../src/sources/postgres/postgres-connection.js';
import { PostgresSource } from '../../src/sources/postgres/postgres-source.js';
import { sourceContract, type ContractType } from './source-contract.js';
import { otherCaFile, testCaFile } from './tls-fixtures.js';
import { parsePgArray, pgTimestampToIso, unescapeCopyText } from '../../src/sources/postgres/postgres-values.js';
import type { EntityRef, ReadMode, SourceChunk, SourceState } from '../../src/sources/source.js';

// PostgreSQL from scripts/services.sh; `npm test` exports PG_URL from .services/env. Without it every test
// here fails (never skips). Each run works in its own schema, dropped at the end: the server is shared.
function requireUrl(): string {
  const url = process.env.PG_URL;
  if (!url) {
    throw new Error(
      'PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL), or ' +
        '`bash scripts/services.sh start && set -a && source .services/env && set +a` first',
    );
  }
  return url;
}

const id = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const schema = `cf_pgsrc_${id}`;
const hostileSchema = `we"ird 'sch.ema ${id}`;
const hostileTable = 't"a\'b le ${x} */ `tick` 数量';
const role = `cf_pgsrc_ro_${id}`;
const rolePassword = `ro-${randomBytes(6).toString('hex')}`;
const S = quoteIdent(schema);

let admin: pg.Client | undefined;
const sources: PostgresSource[] = [];

function source(chunkRows?: number, url = requireUrl()): PostgresSource {
  const s = new PostgresSource({ url, ...(chunkRows !== undefined ? { chunkRows } : {}) });
  sources.push(s);
  return s;
}

async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  if (!admin) throw new Error('not connected');
  return await admin.query(text, values);
}

async function readAll(
  src: PostgresSource,
  entity: EntityRef,
  mode: ReadMode,
  state?: SourceState,
): Promise<{ rows: Row[]; chunks: SourceChunk[] }> {
  const chunks: SourceChunk[] = [];
  for await (const chunk of src.read(entity, mode, state)) chunks.push(chunk);
  return { rows: chunks.flatMap((c) => c.rows), chunks };
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: requireUrl() });
  await admin.connect();
  await sql(`CREATE SCHEMA ${S}`);
});

afterAll(async () => {
  await Promise.all(sources.map((s) => s.close()));
  if (admin) {
    await sql(`DROP SCHEMA IF EXISTS ${S} CASCADE`);
    await sql(`DROP SCHEMA IF EXISTS ${quoteIdent(hostileSchema)} CASCADE`);
    await sql(`DROP ROLE IF EXISTS ${quoteIdent(role)}`);
    await admin.end();
  }
});

describe('postgres values', () => {
  it('parses array text, COPY escapes and timestamps', () => {
    expect(parsePgArray('{1,2,NULL}', Number)).toEqual([1, 2, null]);
    expect(parsePgArray('{{"a b","c\\"d"},{NULL,"NULL"}}', (t) => t)).toEqual([
      ['a b', 'c"d'],
      [null, 'NULL'],
    ]);
    expect(parsePgArray('[0:1]={x,y}', (t) => t)).toEqual(['x', 'y']);
    expect(parsePgArray('{}', (t) => t)).toEqual([]);
    expect(unescapeCopyText('a\\tb\\nc\\\\d\\101\\x42\\q')).toBe('a\tb\nc\\dABq');
    expect(pgTimestampToIso('2024-01-02 03:04:05.5+00')).toBe('2024-01-02T03:04:05.500000Z');
    expect(pgTimestampToIso('2024-01-02 03:04:05-08')).toBe('2024-01-02T03:04:05.000000-08:00');
    expect(pgTimestampToIso('2024-01-02 03:04:05.000001+05:30')).toBe('2024-01-02T03:04:05.000001+05:30');
    expect(pgTimestampToIso('1850-01-01 00:00:00+00:53:28')).toBe('1849-12-31T23:06:32.000000Z');
    expect(pgTimestampToIso('infinity')).toBe('infinity');
    expect(pgTimestampToIso('0044-03-15 12:00:00+00 BC')).toBe('0044-03-15 12:00:00+00 BC');
  });
});

describe('PostgresSource: types', () => {
  const entity: EntityRef = { name: `${schema}.all_types`, fields: [], primaryKey: ['id'] };

  beforeAll(async () => {
    await sql(`CREATE TYPE ${S}.mood AS ENUM ('sad', 'happy')`);
    await sql(`CREATE TABLE ${S}.all_types (
      id integer PRIMARY KEY,
      c_smallint smallint, c_integer integer, c_bigint bigint,
      c_num12 numeric(12,2), c_num38 numeric(38,10), c_num numeric,
      c_real real, c_double double precision, c_bool boolean,
      c_date date, c_ts timestamp, c_tstz timestamptz, c_time time, c_interval interval,
      c_text text, c_varchar varchar(20), c_char char(3), c_uuid uuid,
      c_json json, c_jsonb jsonb, c_int_arr int[], c_text_arr text[], c_bytea bytea,
      c_enum ${S}.mood, c_inet inet,
      c_required text NOT NULL DEFAULT 'r'
    )`);
    // A session time zone far from UTC: timestamptz input with an offset, timestamp taken as written.
    await sql(`SET TimeZone = 'Asia/Kolkata'`);
    await sql(
      `INSERT INTO ${S}.all_types VALUES
        (1, 32767, -2147483648, 9223372036854775807, 1234567890.12, 1234567890123456789012345678.0123456789,
         3.141592653589793238462643383279502884197, 3.14, 2.718281828459045, true,
         '2024-02-29', '2024-03-01 12:34:56.789012', '2024-03-01 12:34:56.123456-08:00', '13:14:15.123456',
         '1 year 2 months 3 days 04:05:06.5', $1, 'abc', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
         '{"a": [1, 2.5, "x"], "b": null}', '{"k": {"n": 1}}', '{1,2,NULL,4}', $2, '\\x00ff10', 'happy', '192.168.1.0/24', 'r1'),
        (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'r2'),
        (3, -32768, 0, -9223372036854775808, -0.01, 0, 'NaN', 'NaN', '-Infinity', false,
         '-infinity', 'infinity', 'infinity', '00:00', '-1 second', '', '', '', '00000000-0000-0000-0000-000000000000',
         '"a string"', '[]', '{}', '{}', '', 'sad', '::1', 'r3')`,
      ['héllo\tworld\nline2 \\ back\r"quoted" 数量', ['a b', 'c"d', 'e\\f', 'NULL', null, '', 'tab\there', '{x,y}']],
    );
    await sql(`RESET TimeZone`);
  });

  it('maps the catalog types', async () => {
    const columns = await source().columns(entity);
    const summary = Object.fromEntries(
      columns.map((c) => [c.name, [c.type, c.numberHint ?? '-', c.nullable, c.sourceType]]),
    );
    expect(summary).toEqual({
      id: ['number', 'int64', false, 'integer'],
      c_smallint: ['number', 'int64', true, 'smallint'],
      c_integer: ['number', 'int64', true, 'integer'],
      c_bigint: ['number', 'int64', true, 'bigint'],
      c_num12: ['number', 'decimal(12,2)', true, 'numeric(12,2)'],
      c_num38: ['number', 'decimal(38,10)', true, 'numeric(38,10)'],
      c_num: ['string', '-', true, 'numeric'],
      c_real: ['number', 'float64', true, 'real'],
      c_double: ['number', 'float64', true, 'double precision'],
      c_bool: ['boolean', '-', true, 'boolean'],
      c_date: ['date', '-', true, 'date'],
      c_ts: ['datetime', '-', true, 'timestamp without time zone'],
      c_tstz: ['datetime', '-', true, 'timestamp with time zone'],
      c_time: ['string', '-', true, 'time without time zone'],
      c_interval: ['string', '-', true, 'interval'],
      c_text: ['string', '-', true, 'text'],
      c_varchar: ['string', '-', true, 'character varying(20)'],
      c_char: ['string', '-', true, 'character(3)'],
      c_uuid: ['string', '-', true, 'uuid'],
      c_json: ['json', '-', true, 'json'],
      c_jsonb: ['json', '-', true, 'jsonb'],
      c_int_arr: ['json', '-', true, 'integer[]'],
      c_text_arr: ['json', '-', true, 'text[]'],
      c_bytea: ['string', '-', true, 'bytea'],
      c_enum: ['string', '-', true, `${schema}.mood`],
      c_inet: ['string', '-', true, 'inet'],
      c_required: ['string', '-', false, 'text'],
    });
    // fields select and order the columns; an unknown field is a clear error.
    const some = await source().columns({ ...entity, fields: ['c_text', 'id'] });
    expect(some.map((c) => c.name)).toEqual(['c_text', 'id']);
    await expect(source().columns({ ...entity, fields: ['nope'] })).rejects.toThrow(/has no column "nope"/);
    await expect(source().columns({ ...entity, name: `${schema}.missing` })).rejects.toThrow(/no table/);
  });

  it('full refresh returns canonical values', async () => {
    const src = source();
    const { rows, chunks } = await readAll(src, entity, { strategy: 'full_refresh' });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.state).toMatchObject({ strategy: 'full_refresh' });
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(1)).toEqual({
      id: 1,
      c_smallint: 32767,
      c_integer: -2147483648,
      c_bigint: '9223372036854775807',
      c_num12: '1234567890.12',
      c_num38: '1234567890123456789012345678.0123456789',
      c_num: '3.141592653589793238462643383279502884197',
      c_real: 3.14,
      c_double: 2.718281828459045,
      c_bool: true,
      c_date: '2024-02-29',
      c_ts: '2024-03-01T12:34:56.789012Z',
      c_tstz: '2024-03-01T20:34:56.123456Z',
      c_time: '13:14:15.123456',
      c_interval: 'P1Y2M3DT4H5M6.5S',
      c_text: 'héllo\tworld\nline2 \\ back\r"quoted" 数量',
      c_varchar: 'abc',
      c_char: 'ab ',
      c_uuid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      c_json: { a: [1, 2.5, 'x'], b: null },
      c_jsonb: { k: { n: 1 } },
      c_int_arr: [1, 2, null, 4],
      c_text_arr: ['a b', 'c"d', 'e\\f', 'NULL', null, '', 'tab\there', '{x,y}'],
      c_bytea: 'AP8Q',
      c_enum: 'happy',
      c_inet: '192.168.1.0/24',
      c_required: 'r1',
    });
    const nulls = byId.get(2)!;
    for (const [name, value] of Object.entries(nulls)) {
      if (name !== 'id' && name !== 'c_required') expect(value, name).toBeNull();
    }
    expect(byId.get(3)).toMatchObject({
      c_smallint: -32768,
      c_bigint: '-9223372036854775808',
      c_num12: '-0.01',
      c_num38: '0.0000000000',
      c_num: 'NaN',
      c_real: 'NaN',
      c_double: '-Infinity',
      c_bool: false,
      c_date: '-infinity',
      c_ts: 'infinity',
      c_tstz: 'infinity',
      c_interval: 'PT-1S',
      c_text: '',
      c_char: '   ',
      c_json: 'a string',
      c_jsonb: [],
      c_int_arr: [],
      c_bytea: '',
      c_inet: '::1',
    });

    // Every value of rows 1 and 2 fits the lake column the catalog describes; row 3's non-finite and
    // infinite values do not (they go to the quarantine, counted, rather than becoming null).
    const columns = await src.columns(entity);
    const lake = columns.map((c) => columnOf(c, c.numberHint));
    for (const row of [byId.get(1)!, byId.get(2)!]) {
      for (const column of lake)
        expect(conformValue(row[column.name], column), column.name).toMatchObject({ ok: true });
    }
    const conformed = (name: string) =>
      conformValue(
        byId.get(1)![name],
        lake.find((c) => c.name === name)!,
      );
    expect(conformed('c_bigint')).toEqual({ ok: true, value: 9223372036854775807n });
    expect(conformed('c_tstz')).toEqual({ ok: true, value: 1709325296123456n });
    expect(conformed('c_ts')).toEqual({ ok: true, value: 1709296496789012n });
    const row3 = byId.get(3)!;
    const misfits = lake.filter((c) => !conformValue(row3[c.name], c).ok).map((c) => c.name);
    expect(misfits.sort()).toEqual(['c_date', 'c_double', 'c_real', 'c_ts', 'c_tstz']);
  });

  it('incremental reads of the same table give the same values as the COPY path', async () => {
    const full = await readAll(source(), entity, { strategy: 'full_refresh' });
    const inc = await readAll(
      source(2),
      { ...entity, name: `${schema}.all_types` },
      { strategy: 'incremental', cursor: 'id' },
    );
    expect(inc.rows).toEqual([...full.rows].sort((a, b) => Number(a.id) - Number(b.id)));
    expect(inc.chunks.map((c) => c.state)).toEqual([
      { cursor: '2', key: ['2'] },
      { cursor: '3', key: ['3'] },
    ]);
  });
});

describe('PostgresSource: hostile identifiers', () => {
  const columnNames = [
    'user',
    'select',
    'order',
    '"quoted"',
    "it's",
    'prénom',
    '数量',
    '`bt`',
    '${x}',
    '*/',
    'new\nline',
    'with space',
    '__proto__',
  ] as const;
  const entity: EntityRef = {
    name: `${hostileSchema}.${hostileTable}`,
    fields: [...columnNames],
    primaryKey: ['user'],
  };
  const T = `${quoteIdent(hostileSchema)}.${quoteIdent(hostileTable)}`;

  beforeAll(async () => {
    await sql(`CREATE SCHEMA ${quoteIdent(hostileSchema)}`);
    const defs = columnNames.map((name) => {
      const type =
        name === 'user'
          ? 'integer PRIMARY KEY'
          : name === 'select'
            ? 'timestamptz NOT NULL'
            : name === '数量'
              ? 'numeric(10,2)'
              : name === 'order'
                ? 'integer'
                : 'text';
      return `${quoteIdent(name)} ${type}`;
    });
    await sql(`CREATE TABLE ${T} (${defs.join(', ')})`);
    for (let i = 1; i <= 5; i++) {
      const values = columnNames.map((name) =>
        name === 'user'
          ? i
          : name === 'select'
            ? `2024-05-0${i <= 3 ? 1 : 2} 00:00:00+00`
            : name === '数量'
              ? `${i}.50`
              : name === 'order'
                ? i * 10
                : `${name}:${i}`,
      );
      await sql(`INSERT INTO ${T} VALUES (${columnNames.map((_, j) => `$${j + 1}`).join(', ')})`, values);
    }
  });

  const expected = (i: number) =>
    Object.fromEntries(
      columnNames.map((name) => [
        name,
        name === 'user'
          ? i
          : name === 'select'
            ? `2024-05-0${i <= 3 ? 1 : 2}T00:00:00.000000Z`
            : name === '数量'
              ? `${i}.50`
              : name === 'order'
                ? i * 10
                : `${name}:${i}`,
      ]),
    );

  it('lists the columns', async () => {
    const columns = await source().columns(entity);
    expect(columns.map((c) => c.name)).toEqual(columnNames);
  });

  it('reads by full refresh', async () => {
    const { rows } = await readAll(source(2), entity, { strategy: 'full_refresh' });
    expect(rows).toHaveLength(5);
    const sorted = [...rows].sort((a, b) => Number(a.user) - Number(b.user));
    sorted.forEach((row, index) => {
      // No Object.prototype in a record's chain: `__proto__` is an own field, `toString` none.
      expect(row instanceof Object).toBe(false);
      expect(Object.hasOwn(row, '__proto__')).toBe(true);
      expect(Object.keys(row)).toEqual(columnNames);
      expect({ ...row }).toEqual(expected(index + 1));
    });
  });

  it('reads incrementally with a hostile cursor and key', async () => {
    const src = source(2);
    const mode: ReadMode = { strategy: 'incremental', cursor: 'select' };
    const first = await readAll(src, entity, mode);
    expect(first.rows.map((r) => r.user)).toEqual([1, 2, 3, 4, 5]);
    const state = first.chunks.at(-1)?.state;
    expect(state).toEqual({ cursor: '2024-05-02 00:00:00+00', key: ['5'] });
    await sql(`INSERT INTO ${T} (${quoteIdent('user')}, ${quoteIdent('select')}) VALUES (6, '2024-05-03')`);
    const next = await readAll(src, entity, mode, state);
    expect(next.rows.map((r) => r.user)).toEqual([6]);
    expect(next.rows[0]?.["it's"]).toBeNull();
  });

  it('also resolves SQL syntax names', async () => {
    const quoted = `${quoteIdent(hostileSchema)}.${quoteIdent(hostileTable)}`;
    const { rows } = await readAll(
      source(),
      { ...entity, name: quoted, fields: ['user'] },
      { strategy: 'full_refresh' },
    );
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const upper = await source().columns({ name: `${schema.toUpperCase()}.ALL_TYPES`, fields: ['id'], primaryKey: [] });
    expect(upper.map((c) => c.name)).toEqual(['id']);
  });
});

describe('PostgresSource: incremental', () => {
  const entity: EntityRef = { name: `${schema}.inc`, fields: ['id', 'updated_at', 'v'], primaryKey: ['id'] };
  const mode: ReadMode = { strategy: 'incremental', cursor: 'updated_at' };
  const T1 = '2024-01-01 00:00:00.000001+00';
  const T2 = '2024-01-01 00:00:00.000002+00';
  const T3 = '2024-01-01 01:00:00+00';
  const T4 = '2024-01-01 01:30:00+00';

  beforeAll(async () => {
    await sql(`CREATE TABLE ${S}.inc (id integer PRIMARY KEY, updated_at timestamptz, v text)`);
    await sql(
      `INSERT INTO ${S}.inc SELECT g, CASE WHEN g <= 3 THEN $1::timestamptz WHEN g <= 20 THEN $2::timestamptz ELSE $3::timestamptz END, 'v' || g
         FROM generate_series(1, 25) g`,
      [T1, T2, T3],
    );
    await sql(`INSERT INTO ${S}.inc VALUES (100, NULL, 'no cursor')`);
  });

  /** Reads one chunk per read() call, resuming from the state saved by the previous one. */
  async function resumedReads(src: PostgresSource, m: ReadMode, start: SourceState | undefined) {
    let state = start;
    const ids: unknown[] = [];
    let reads = 0;
    for (;;) {
      let got: SourceChunk | undefined;
      for await (const chunk of src.read(entity, m, state)) {
        got = chunk;
        break; // stop early: the next read resumes from this chunk's state
      }
      reads++;
      if (!got) return { ids, state, reads };
      ids.push(...got.rows.map((r) => r.id));
      state = got.state;
      expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    }
  }

  let saved: SourceState | undefined;

  it('reads ties across chunk boundaries exactly once over resumed reads', async () => {
    const src = source(4);
    const { ids, state, reads } = await resumedReads(src, mode, undefined);
    expect(ids).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(reads).toBe(8); // 7 chunks of ≤ 4 rows, then an empty read
    expect(state).toEqual({ cursor: '2024-01-01 01:00:00+00', key: ['25'] });
    saved = state;
    // A state mid-tie (microsecond cursor) resumes inside the tie.
    const mid = await readAll(src, entity, mode, { cursor: '2024-01-01 00:00:00.000002+00', key: ['10'] });
    expect(mid.rows.map((r) => r.id)).toEqual(Array.from({ length: 15 }, (_, i) => i + 11));
    // The row with a NULL cursor is read only by a full refresh.
    const full = await readAll(src, entity, { strategy: 'full_refresh' });
    expect(full.rows.map((r) => r.id)).toContain(100);
  });

  it('picks up later rows from the saved state, and lookback re-reads recent rows', async () => {
    await sql(`INSERT INTO ${S}.inc VALUES (26, $1, 'v26'), (27, $1, 'v27')`, [T4]);
    await sql(`UPDATE ${S}.inc SET updated_at = $1, v = 'moved' WHERE id = 5`, [T4]);
    const src = source(2);
    const next = await readAll(src, entity, mode, saved);
    expect(next.rows.map((r) => r.id)).toEqual([5, 26, 27]);
    expect(next.rows[0]).toEqual({ id: 5, updated_at: '2024-01-01T01:30:00.000000Z', v: 'moved' });
    const after = next.chunks.at(-1)?.state;
    expect(after).toEqual({ cursor: '2024-01-01 01:30:00+00', key: ['27'] });

    // A late commit with a cursor behind the saved one: missed without lookback, found with it.
    await sql(`INSERT INTO ${S}.inc VALUES (28, '2024-01-01 01:00:01+00', 'late')`);
    expect((await readAll(src, entity, mode, after)).rows).toEqual([]);
    const lookback = await readAll(src, entity, { ...mode, lookbackSeconds: 3600 }, after);
    expect(lookback.rows.map((r) => r.id)).toEqual([21, 22, 23, 24, 25, 28, 5, 26, 27]);
    expect(lookback.chunks.at(-1)?.state).toEqual(after);
    const short = await readAll(src, entity, { ...mode, lookbackSeconds: 1 }, after);
    expect(short.rows.map((r) => r.id)).toEqual([5, 26, 27]);
  });

  it('rejects lookback on a non-time cursor, tables without a key, and foreign states', async () => {
    const src = source();
    await expect(
      readAll(src, entity, { strategy: 'incremental', cursor: 'id', lookbackSeconds: 10 }, { cursor: '1', key: ['1'] }),
    ).rejects.toThrow(/lookbackSeconds needs a date or timestamp cursor/);
    await sql(`CREATE TABLE ${S}.nokey (n integer, t timestamptz)`);
    await expect(readAll(src, { name: `${schema}.nokey`, fields: [], primaryKey: [] }, mode)).rejects.toThrow(
      /updated_at/,
    );
    await expect(
      readAll(src, { name: `${schema}.nokey`, fields: [], primaryKey: [] }, { strategy: 'incremental', cursor: 't' }),
    ).rejects.toThrow(/need a primary key/);
    await expect(readAll(src, entity, mode, { cursor: 'x', key: [] })).rejects.toThrow(/not an incremental position/);
    // The table's own primary key is used when the entity declares none.
    const own = await readAll(src, { ...entity, primaryKey: [] }, mode);
    expect(own.rows).toHaveLength(28);
  });
});

describe('PostgresSource: errors', () => {
  it('reports a table the user may not read', async () => {
    await sql(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD '${rolePassword}'`);
    await sql(`CREATE TABLE ${S}.secret (id integer PRIMARY KEY, pin text)`);
    await sql(`GRANT USAGE ON SCHEMA ${S} TO ${quoteIdent(role)}`);
    await sql(`GRANT SELECT (id) ON ${S}.secret TO ${quoteIdent(role)}`);
    try {
      const url = new URL(requireUrl());
      url.username = role;
      url.password = rolePassword;
      const src = source(undefined, url.toString());
      await src.check();
      await src.checkTable({ name: `${schema}.secret`, fields: ['id'], primaryKey: ['id'] });
      await expect(
        src.checkTable({ name: `${schema}.secret`, fields: ['id', 'pin'], primaryKey: ['id'] }),
      ).rejects.toThrow(/may not SELECT "pin"/);
      const read = readAll(
        src,
        { name: `${schema}.secret`, fields: ['id', 'pin'], primaryKey: ['id'] },
        { strategy: 'full_refresh' },
      );
      await expect(read).rejects.toThrow(/permission denied/);
      await expect(read).rejects.not.toThrow(rolePassword);
      await src.close();
    } finally {
      await sql(`REVOKE ALL ON ${S}.secret FROM ${quoteIdent(role)}`);
      await sql(`REVOKE ALL ON SCHEMA ${S} FROM ${quoteIdent(role)}`);
    }
  });
});

describe('PostgresSource: TLS options', () => {
  it('maps the TLS modes to pg ssl options with the PEM files read from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cf-pg-tls-'));
    try {
      const files = { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') };
      await writeFile(files.caFile, 'CA PEM');
      await writeFile(files.certFile, 'CERT PEM');
      await writeFile(files.keyFile, 'KEY PEM');
      expect(await pgSslOption(undefined)).toBeUndefined();
      expect(await pgSslOption({ mode: 'disable' })).toBe(false);
      expect(await pgSslOption({ mode: 'require' })).toEqual({ rejectUnauthorized: false });
      const verifyCa = await pgSslOption({ mode: 'verify-ca', ...files });
      expect(verifyCa).toMatchObject({ rejectUnauthorized: true, ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' });
      expect(typeof (verifyCa as { checkServerIdentity?: unknown }).checkServerIdentity).toBe('function');
      const verifyFull = await pgSslOption({ mode: 'verify-full', caFile: files.caFile });
      expect(verifyFull).toEqual({ rejectUnauthorized: true, ca: 'CA PEM' });
      await expect(pgSslOption({ mode: 'verify-full', caFile: join(dir, 'missing.pem') })).rejects.toThrow(
        /cannot read the TLS CA file/,
      );
      // options.tls replaces the URL's own ssl parameters (pg would otherwise let the URL win).
      const config = await pgClientConfig({
        url: 'postgresql://u:pw@h:5432/db?sslmode=require&application_name=x&sslrootcert=/nope',
        tls: { mode: 'disable' },
      });
      expect(config.connectionString).toBe('postgresql://u:pw@h:5432/db?application_name=x');
      expect(config.ssl).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails clearly when TLS is required and the server has none', async () => {
    // A server that answers the client's SSLRequest with PostgreSQL's "N" (no TLS here).
    const server = createServer((socket) => socket.once('data', () => socket.end('N')));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const src = new PostgresSource({
        url: `postgresql://cf:pw-not-shown@127.0.0.1:${port}/cf`,
        tls: { mode: 'require' },
      });
      sources.push(src);
      const error = await src.check().then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/does not support SSL/i);
      expect(error?.message).not.toContain('pw-not-shown');
    } finally {
      server.close();
    }
  });

  // The test server (scripts/services.sh) has a certificate from a test CA for 127.0.0.1 and localhost.
  const ca = testCaFile;

  it('verify-full against the server: the connection is encrypted and reads work', async () => {
    await sql(`CREATE TABLE IF NOT EXISTS ${S}.tls_t (id int PRIMARY KEY, c_required text NOT NULL)`);
    await sql(`INSERT INTO ${S}.tls_t VALUES (1, 'r1'), (2, 'r2'), (3, 'r3') ON CONFLICT DO NOTHING`);
    const viaOptions = new PostgresSource({ url: requireUrl(), tls: { mode: 'verify-full', caFile: ca() } });
    // libpq's names in the connection string (what a manifest's ${VAR} usually carries).
    const url = new URL(requireUrl());
    url.searchParams.set('sslmode', 'verify-full');
    url.searchParams.set('sslrootcert', ca());
    const viaUrl = new PostgresSource({ url: url.toString() });
    for (const src of [viaOptions, viaUrl]) {
      sources.push(src);
      await src.check();
      expect(
        (await src.columns({ name: `${schema}.tls_t`, fields: ['id'], primaryKey: ['id'] })).map((c) => c.name),
      ).toEqual(['id']);
      const { rows } = await readAll(
        src,
        { name: `${schema}.tls_t`, fields: ['id', 'c_required'], primaryKey: ['id'] },
        { strategy: 'full_refresh' },
      );
      expect(rows.map((r) => r.c_required).sort()).toEqual(['r1', 'r2', 'r3']);
    }
    // The server sees TLS on the source's connections.
    const client = new pg.Client(
      await pgClientConfig({ url: requireUrl(), tls: { mode: 'verify-full', caFile: ca() } }),
    );
    await client.connect();
    try {
      const { rows } = await client.query<{ ssl: boolean; version: string }>(
        'SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
      );
      expect(rows[0]).toMatchObject({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) });
    } finally {
      await client.end();
    }
  });

  it('verify-full refuses a server whose certificate another CA signed, without the password', async () => {
    const src = new PostgresSource({ url: requireUrl(), tls: { mode: 'verify-full', caFile: otherCaFile() } });
    sources.push(src);
    const error = await src.check().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/certificate/i);
    expect(error?.message).not.toContain(new URL(requireUrl()).password);
  });
});

const PG_TYPES: Record<ContractType, string> = {
  int32: 'integer',
  int64: 'bigint',
  decimal: 'numeric(20,2)',
  float64: 'double precision',
  boolean: 'boolean',
  text: 'text',
  date: 'date',
  timestamp: 'timestamptz',
};

sourceContract({
  name: 'postgres',
  open: ({ chunkRows, password }) => {
    const url = new URL(requireUrl());
    if (password !== undefined) url.password = password;
    return new PostgresSource({ url: url.toString(), ...(chunkRows !== undefined ? { chunkRows } : {}) });
  },
  seed: async (table) => {
    const contract = `${schema}_contract`;
    await sql(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(contract)}`);
    const target = `${quoteIdent(contract)}.${quoteIdent(table.name)}`;
    const columns = table.columns.map(
      (c) => `${quoteIdent(c.name)} ${PG_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`,
    );
    await sql(
      `CREATE TABLE ${target} (${columns.join(', ')}, PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')}))`,
    );
    const names = table.columns.map((c) => quoteIdent(c.name)).join(', ');
    for (const batch of table.rows()) {
      const width = table.columns.length;
      const tuples = batch.map((_, r) => `(${table.columns.map((_c, i) => `$${r * width + i + 1}`).join(', ')})`);
      await sql(`INSERT INTO ${target} (${names}) VALUES ${tuples.join(', ')}`, batch.flat());
    }
    return `${contract}.${table.name}`;
  },
  busySessions: async (entity) => {
    const [contract = '', ...rest] = entity.split('.');
    const { rows } = await sql(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND datname = current_database() AND state IS DISTINCT FROM 'idle'
          AND strpos(query, $1) > 0 AND strpos(query, $2) > 0`,
      [contract, rest.join('.')],
    );
    return (rows[0] as { n: number }).n;
  },
  cleanup: async () => {
    await sql(`DROP SCHEMA IF EXISTS ${quoteIdent(`${schema}_contract`)} CASCADE`);
  },
  wrongPassword: /password authentication failed/,
  realPassword: process.env.PG_URL ? decodeURIComponent(new URL(process.env.PG_URL).password) : '',
});
