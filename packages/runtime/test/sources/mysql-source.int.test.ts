import { randomBytes } from 'node:crypto';
import { createConnection, type Connection } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { conformValue } from '../../src/lake/conform.js';
import { columnOf } from '../../src/lake/table-schema.js';
import { MysqlSource } from '../../src/sources/mysql/mysql-source.js';
import { sourceContract, type ContractType } from './source-contract.js';
import { otherCaFile, testCaFile } from './tls-fixtures.js';
import { quoteIdent } from '../../src/sources/mysql/mysql-values.js';
import type { EntityRef, ReadMode, SourceChunk, SourceState } from '../../src/sources/source.js';

// Against the shared MariaDB of scripts/services.sh: every table has a random suffix and is dropped at the end.

const URL_ENV = process.env.MARIADB_URL;
const suffix = randomBytes(4).toString('hex');
const created: string[] = [];
let admin: Connection;

function url(): string {
  if (!URL_ENV)
    throw new Error(
      'MARIADB_URL is not set: run `npm test` (it starts MariaDB), or `bash scripts/services.sh start mariadb && set -a && source .services/env && set +a`',
    );
  return URL_ENV;
}

async function exec(sql: string, values: unknown[] = []): Promise<void> {
  await admin.query(sql, values);
}

async function createTable(name: string, ddl: string): Promise<string> {
  created.push(name);
  await exec(`CREATE TABLE ${quoteIdent(name)} (${ddl}) ENGINE=InnoDB`);
  return name;
}

/** No server thread is still running a query on the table (a stopped read must not leave one behind). */
async function expectNoQueryOn(table: string): Promise<void> {
  let running: unknown[] = [];
  for (let i = 0; i < 50; i++) {
    const [rows] = await admin.query({
      sql: 'SELECT INFO FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE ?',
      values: [`%${table}%`],
      rowsAsArray: true,
    });
    running = rows as unknown[];
    if (running.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(running).toEqual([]);
}

async function collect(iterable: AsyncIterable<SourceChunk>): Promise<SourceChunk[]> {
  const chunks: SourceChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
}

const rowsOf = (chunks: readonly SourceChunk[]) => chunks.flatMap((c) => c.rows);
const entity = (name: string, fields: string[], primaryKey: string[] = []): EntityRef => ({ name, fields, primaryKey });

// Fails (rather than skips) without the service, so a run without it cannot look green.
it('has MARIADB_URL', () => {
  expect(() => url()).not.toThrow();
});

beforeAll(async () => {
  if (!URL_ENV) return; // 'has MARIADB_URL' fails; the rest cannot run
  admin = await createConnection(url());
  await admin.query("SET SESSION time_zone = '+00:00'");
});

afterAll(async () => {
  if (!admin) return;
  for (const name of created) await admin.query(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
  await admin.end();
});

describe('MysqlSource: types', () => {
  const table = `cf_types_${suffix}`;
  const fields = [
    'id',
    'b',
    'ti',
    'si',
    'mi',
    'i',
    'iu',
    'bi',
    'bu',
    'd12',
    'd38',
    'd65',
    'f',
    'db',
    'dt',
    'dtm',
    'ts',
    'tm',
    'yr',
    'c',
    'vc',
    'tx',
    'en',
    'st',
    'js',
    'bl',
    'vb',
    'bt',
    'bt64',
  ];

  beforeAll(async () => {
    await createTable(
      table,
      `id int NOT NULL PRIMARY KEY, b tinyint(1), ti tinyint, si smallint unsigned, mi mediumint, i int, iu int unsigned,
       bi bigint, bu bigint unsigned, d12 decimal(12,2), d38 decimal(38,10), d65 decimal(65,30), f float, db double,
       dt date, dtm datetime(6), ts timestamp(6) NULL DEFAULT NULL, tm time(6), yr year, c char(5), vc varchar(60), tx text,
       en enum('a','b c','d''e'), st set('x','y','z'), js json, bl blob, vb varbinary(8), bt bit(5), bt64 bit(64)`,
    );
    const insert = `INSERT INTO ${quoteIdent(table)} (${fields.map(quoteIdent).join(', ')}) VALUES (${fields.map(() => '?').join(', ')})`;
    await exec(insert, [
      1,
      1,
      127,
      65535,
      8388607,
      2147483647,
      4294967295,
      '9223372036854775807',
      '18446744073709551615',
      '1234567890.12',
      '1234567890123456789012345678.0123456789',
      '12345678901234567890123456789012345.123456789012345678901234567891',
      3.14,
      1.2345678901234567,
      '2024-02-29',
      '2024-02-29 23:59:59.999999',
      '2038-01-19 03:14:07.999999',
      '-838:59:59.000000',
      2024,
      'ab',
      `it's "q" \\ ünï 日本 ${'${x}'}`,
      'line 1\nline 2\ttab',
      "d'e",
      'x,z',
      '{"a":[1,2.5,"x",null,true],"b":{"c":"ü"}}',
      Buffer.from([0, 255, 16]),
      Buffer.from('deadbeef', 'hex'),
      Buffer.from([0b10101]),
      Buffer.from('ffffffffffffffff', 'hex'),
    ]);
    await exec(`INSERT INTO ${quoteIdent(table)} (id) VALUES (2)`);
    await exec(insert, [
      3,
      0,
      -128,
      0,
      -8388608,
      -2147483648,
      0,
      '-9223372036854775808',
      '0',
      '-0.01',
      '-0.0000000001',
      '0',
      123456789,
      -1e308,
      '1000-01-01',
      '1000-01-01 00:00:00',
      '1970-01-01 00:00:01.000001',
      '12:34:56.5',
      1901,
      '',
      '',
      '',
      'b c',
      '',
      '"123"',
      Buffer.alloc(0),
      Buffer.alloc(0),
      Buffer.from([0]),
      Buffer.from([0]),
    ]);
  });

  it('maps every common column type in columns()', async () => {
    const source = new MysqlSource({ url: url() });
    try {
      const columns = await source.columns(entity(table, fields));
      const summary = Object.fromEntries(
        columns.map((c) => [c.name, [c.type, c.numberHint ?? null, c.sourceType, c.nullable]]),
      );
      expect(summary).toEqual({
        id: ['number', 'int64', 'int(11)', false],
        b: ['boolean', null, 'tinyint(1)', true],
        ti: ['number', 'int64', 'tinyint(4)', true],
        si: ['number', 'int64', 'smallint(5) unsigned', true],
        mi: ['number', 'int64', 'mediumint(9)', true],
        i: ['number', 'int64', 'int(11)', true],
        iu: ['number', 'int64', 'int(10) unsigned', true],
        bi: ['number', 'int64', 'bigint(20)', true],
        bu: ['number', 'decimal(20,0)', 'bigint(20) unsigned', true],
        d12: ['number', 'decimal(12,2)', 'decimal(12,2)', true],
        d38: ['number', 'decimal(38,10)', 'decimal(38,10)', true],
        d65: ['string', null, 'decimal(65,30)', true],
        f: ['number', 'float64', 'float', true],
        db: ['number', 'float64', 'double', true],
        dt: ['date', null, 'date', true],
        dtm: ['datetime', null, 'datetime(6)', true],
        ts: ['datetime', null, 'timestamp(6)', true],
        tm: ['string', null, 'time(6)', true],
        yr: ['string', null, 'year(4)', true],
        c: ['string', null, 'char(5)', true],
        vc: ['string', null, 'varchar(60)', true],
        tx: ['string', null, 'text', true],
        en: ['string', null, "enum('a','b c','d''e')", true],
        st: ['string', null, "set('x','y','z')", true],
        js: ['json', null, 'json', true],
        bl: ['string', null, 'blob', true],
        vb: ['string', null, 'varbinary(8)', true],
        bt: ['number', 'int64', 'bit(5)', true],
        bt64: ['number', 'decimal(20,0)', 'bit(64)', true],
      });
      // Field order follows the entity; no fields means every column in table order.
      expect((await source.columns(entity(table, ['js', 'id']))).map((c) => c.name)).toEqual(['js', 'id']);
      expect((await source.columns(entity(table, []))).map((c) => c.name)).toEqual(fields);
    } finally {
      await source.close();
    }
  });

  it('reads exact canonical values, NULLs everywhere, that the lake writer accepts', async () => {
    const source = new MysqlSource({ url: url() });
    try {
      const ref = entity(table, fields, ['id']);
      const chunks = await collect(source.read(ref, { strategy: 'full_refresh' }, undefined));
      expect(chunks).toHaveLength(1);
      expect(chunks[0]?.state).toMatchObject({ strategy: 'full_refresh' });
      expect(Date.parse(String(chunks[0]?.state?.completedAt))).toBeGreaterThan(Date.now() - 60_000);
      const rows = [...rowsOf(chunks)].sort((a, b) => Number(a.id) - Number(b.id));
      expect({ ...rows[0] }).toStrictEqual({
        id: 1,
        b: true,
        ti: 127,
        si: 65535,
        mi: 8388607,
        i: 2147483647,
        iu: 4294967295,
        bi: '9223372036854775807',
        bu: '18446744073709551615',
        d12: '1234567890.12',
        d38: '1234567890123456789012345678.0123456789',
        d65: '12345678901234567890123456789012345.123456789012345678901234567891',
        f: 3.14,
        db: 1.2345678901234567,
        dt: '2024-02-29',
        dtm: '2024-02-29T23:59:59.999999Z',
        ts: '2038-01-19T03:14:07.999999Z',
        tm: '-838:59:59.000000',
        yr: '2024',
        c: 'ab',
        vc: `it's "q" \\ ünï 日本 ${'${x}'}`,
        tx: 'line 1\nline 2\ttab',
        en: "d'e",
        st: 'x,z',
        js: { a: [1, 2.5, 'x', null, true], b: { c: 'ü' } },
        bl: Buffer.from([0, 255, 16]).toString('base64'),
        vb: '3q2+7w==',
        bt: 21,
        bt64: '18446744073709551615',
      });
      expect({ ...rows[1] }).toStrictEqual({ ...Object.fromEntries(fields.map((f) => [f, null])), id: 2 });
      expect({ ...rows[2] }).toStrictEqual({
        id: 3,
        b: false,
        ti: -128,
        si: 0,
        mi: -8388608,
        i: -2147483648,
        iu: 0,
        bi: '-9223372036854775808',
        bu: '0',
        d12: '-0.01',
        d38: '-0.0000000001',
        d65: '0.000000000000000000000000000000',
        f: 123456790, // float32 123456792, printed as the shortest text that reads back as it
        db: -1e308,
        dt: '1000-01-01',
        dtm: '1000-01-01T00:00:00.000000Z',
        ts: '1970-01-01T00:00:01.000001Z',
        tm: '12:34:56.500000',
        yr: '1901',
        c: '',
        vc: '',
        tx: '',
        en: 'b c',
        st: '',
        js: '123', // the JSON string "123"
        bl: '',
        vb: '',
        bt: 0,
        bt64: '0',
      });

      // Every value fits its lake column, as the source describes it.
      const columns = await source.columns(ref);
      for (const row of rows) {
        for (const c of columns) {
          const lake = columnOf({ name: c.name, type: c.type, nullable: c.nullable }, c.numberHint);
          const result = conformValue(row[c.name], lake);
          expect(result, `${c.name} = ${String(row[c.name])}`).toMatchObject({ ok: true });
        }
      }
      // conform keeps the microseconds.
      const dtm = columns.find((c) => c.name === 'dtm');
      expect(dtm).toBeDefined();
      const micros = conformValue(rows[0]?.dtm, columnOf({ name: 'dtm', type: 'datetime', nullable: true }));
      expect(micros).toEqual({ ok: true, value: BigInt(Date.UTC(2024, 1, 29, 23, 59, 59)) * 1000n + 999_999n });
    } finally {
      await source.close();
    }
  });
});

describe('MysqlSource: hostile identifiers and values', () => {
  const table = `t\`b 'q' "d" \${x} */ é.select_${suffix}`;
  const cols = {
    key: 'select',
    cursor: 'order',
    tick: 'a`b',
    quote: `it's "x"`,
    space: 'sp ace ü',
    dollar: '${x}',
    comment: '*/ -- #',
    cjk: '日本語',
  };
  const all = Object.values(cols);

  beforeAll(async () => {
    await createTable(
      table,
      `${quoteIdent(cols.key)} varchar(40) NOT NULL PRIMARY KEY, ${quoteIdent(cols.cursor)} datetime(6) NOT NULL,
       ${quoteIdent(cols.tick)} int, ${quoteIdent(cols.quote)} varchar(20), ${quoteIdent(cols.space)} text,
       ${quoteIdent(cols.dollar)} int, ${quoteIdent(cols.comment)} varchar(20), ${quoteIdent(cols.cjk)} varchar(20)`,
    );
    // String keys that would break naive quoting, all with the same cursor (ties on every page boundary).
    const keys = ["a'b", "a\\'b", '\\', "'; DROP TABLE x; --", 'ü', 'a b', '`', '${x}', '*/', '"', 'Z', 'z\\'];
    for (const [n, key] of keys.entries()) {
      await exec(`INSERT INTO ${quoteIdent(table)} VALUES (?, '2024-05-01 10:00:00', ?, ?, ?, ?, ?, ?)`, [
        key,
        n,
        `q'${n}`,
        `s ${n}`,
        n * 2,
        `c${n}`,
        `日${n}`,
      ]);
    }
  });

  it('reads through quoted identifiers, qualified or not', async () => {
    const source = new MysqlSource({ url: url() });
    try {
      for (const name of [table, `cf.${table}`]) {
        const ref = entity(name, all, [cols.key]);
        expect((await source.columns(ref)).map((c) => c.name)).toEqual(all);
        const rows = rowsOf(await collect(source.read(ref, { strategy: 'full_refresh' }, undefined)));
        expect(rows).toHaveLength(12);
        expect(rows.find((r) => r[cols.key] === "'; DROP TABLE x; --")).toEqual({
          [cols.key]: "'; DROP TABLE x; --",
          [cols.cursor]: '2024-05-01T10:00:00.000000Z',
          [cols.tick]: 3,
          [cols.quote]: "q'3",
          [cols.space]: 's 3',
          [cols.dollar]: 6,
          [cols.comment]: 'c3',
          [cols.cjk]: '日3',
        });
      }
    } finally {
      await source.close();
    }
  });

  it('pages incrementally on a hostile cursor and string key: every row once, from every resume point', async () => {
    const source = new MysqlSource({ url: url(), chunkRows: 5 });
    try {
      const ref = entity(table, [cols.key, cols.space], [cols.key]);
      const mode: ReadMode = { strategy: 'incremental', cursor: cols.cursor };
      await expectExactlyOnce(source, ref, mode, (r) => String(r[cols.key]), 12);
      const states = (await collect(source.read(ref, mode, undefined))).map((c) => c.state);
      expect(states.every((s) => s !== undefined && Array.isArray(s.key) && s.key.length === 1)).toBe(true);
    } finally {
      await source.close();
    }
  });
});

/**
 * Reads all, then resumes from the state of every chunk as if the run had stopped there: the rows
 * before plus the rows after must be every row exactly once.
 */
async function expectExactlyOnce(
  source: MysqlSource,
  ref: EntityRef,
  mode: ReadMode,
  id: (row: Record<string, unknown>) => string,
  expected: number,
): Promise<SourceChunk[]> {
  const chunks = await collect(source.read(ref, mode, undefined));
  const ids = rowsOf(chunks).map(id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toHaveLength(expected);
  for (let k = 0; k < chunks.length; k++) {
    const state = chunks[k]?.state;
    if (!state) continue;
    const before = rowsOf(chunks.slice(0, k + 1)).map(id);
    const resumed = rowsOf(await collect(source.read(ref, mode, state))).map(id);
    expect([...before, ...resumed].sort(), `resumed after chunk ${k}`).toEqual([...ids].sort());
  }
  return chunks;
}

describe('MysqlSource: incremental', () => {
  const table = `cf_inc_${suffix}`;
  const T = {
    t1: '2024-01-01 00:00:00.000001',
    t2: '2024-01-01 00:00:10.000000',
    late: '2024-01-01 00:00:15.000000',
    t3: '2024-01-01 00:00:20.500000',
    t4: '2024-01-01 00:01:00.000000',
    t5: '2024-01-01 00:02:00.000000',
  };
  const ref = entity(table, ['id', 'v'], ['id']);
  const ids = (chunks: readonly SourceChunk[]) => rowsOf(chunks).map((r) => String(r.id));

  beforeAll(async () => {
    await createTable(
      table,
      'id bigint NOT NULL PRIMARY KEY, updated_at datetime(6) NULL, v varchar(10), KEY (updated_at, id)',
    );
    const rows: [number, string | null][] = [
      [1, T.t1],
      [2, T.t1],
      [3, T.t2],
      [4, T.t2],
      [5, T.t2],
      [6, T.t2],
      [7, T.t2],
      [8, T.t3],
      [9, null],
      [10, T.t3],
    ];
    for (const [id, at] of rows) await exec(`INSERT INTO ${quoteIdent(table)} VALUES (?, ?, ?)`, [id, at, `v${id}`]);
  });

  it('reads ties across chunk boundaries exactly once, resumes, picks up later rows, skips NULL cursors', async () => {
    const source = new MysqlSource({ url: url(), chunkRows: 3 });
    try {
      const mode: ReadMode = { strategy: 'incremental', cursor: 'updated_at' };
      const chunks = await expectExactlyOnce(source, ref, mode, (r) => String(r.id), 9);
      expect(ids(chunks)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '10']); // 9 has a NULL cursor
      expect(chunks.map((c) => c.state)).toEqual([
        { cursor: T.t2, key: ['3'] },
        { cursor: T.t2, key: ['6'] },
        { cursor: '2024-01-01 00:00:20.500000', key: ['10'] },
      ]);
      // The state survives JSON (it is stored between runs).
      const last = JSON.parse(JSON.stringify(chunks[2]?.state)) as SourceState;
      expect(await collect(source.read(ref, mode, last))).toEqual([]);

      await exec(`INSERT INTO ${quoteIdent(table)} VALUES (11, ?, 'v11'), (12, ?, 'v12')`, [T.t4, T.late]);
      await exec(`UPDATE ${quoteIdent(table)} SET updated_at = ?, v = 'v1b' WHERE id = 1`, [T.t5]);
      const next = await collect(source.read(ref, mode, last));
      // 12 committed "late" with an older cursor: missed without a lookback.
      expect(rowsOf(next)).toEqual([
        { id: '11', v: 'v11' },
        { id: '1', v: 'v1b' },
      ]);
      expect(next.at(-1)?.state).toEqual({ cursor: T.t5, key: ['1'] });

      // With a lookback covering it, 12 is read; rows in the window are read again (for merge), and the
      // state never goes back behind the one the read resumed from.
      const back = await collect(source.read(ref, { ...mode, lookbackSeconds: 10 }, last));
      expect(ids(back)).toEqual(['12', '8', '10', '11', '1']);
      expect(back.map((c) => c.state)).toEqual([last, { cursor: T.t5, key: ['1'] }]);
      // A lookback past every row re-reads all rows with a cursor.
      expect(ids(await collect(source.read(ref, { ...mode, lookbackSeconds: 86_400 }, last))).sort()).toEqual([
        '1',
        '10',
        '11',
        '12',
        '2',
        '3',
        '4',
        '5',
        '6',
        '7',
        '8',
      ]);
    } finally {
      await source.close();
    }
  });

  it('compares big integer keys and decimal cursors exactly (not as doubles)', async () => {
    const t = await createTable(
      `cf_incbig_${suffix}`,
      'id bigint unsigned NOT NULL PRIMARY KEY, c decimal(30,10) NOT NULL',
    );
    const big = [
      '9007199254740992',
      '9007199254740993',
      '9007199254740994',
      '9007199254740995',
      '18446744073709551615',
    ];
    for (const id of big) await exec(`INSERT INTO ${quoteIdent(t)} VALUES (?, '1.0000000001')`, [id]);
    await exec(`INSERT INTO ${quoteIdent(t)} VALUES (1, '1.0000000002'), (2, '1.0000000002')`);
    const source = new MysqlSource({ url: url(), chunkRows: 1 });
    try {
      const chunks = await expectExactlyOnce(
        source,
        entity(t, ['id', 'c'], ['id']),
        { strategy: 'incremental', cursor: 'c' },
        (r) => String(r.id),
        7,
      );
      expect(rowsOf(chunks).map((r) => r.id)).toEqual([...big, '1', '2']);
      expect(chunks.at(-1)?.state).toEqual({ cursor: '1.0000000002', key: ['2'] });
    } finally {
      await source.close();
    }
  });

  it('without a key: one stream by cursor, state only where a cursor value is complete', async () => {
    const t = await createTable(`cf_inckeyless_${suffix}`, 'at date NULL, v int');
    const values: [string | null, number][] = [
      ['2024-01-01', 1],
      ['2024-01-01', 2],
      ['2024-01-01', 3],
      ['2024-01-02', 4],
      ['2024-01-02', 5],
      ['2024-01-03', 6],
      ['2024-01-03', 7],
      [null, 8],
    ];
    for (const [at, v] of values) await exec(`INSERT INTO ${quoteIdent(t)} VALUES (?, ?)`, [at, v]);
    const source = new MysqlSource({ url: url(), chunkRows: 2 });
    try {
      const ref2 = entity(t, ['v', 'at']);
      const mode: ReadMode = { strategy: 'incremental', cursor: 'at' };
      const chunks = await expectExactlyOnce(source, ref2, mode, (r) => String(r.v), 7);
      // A chunk with a state ends where a cursor value ends; a chunk that may end inside one has none.
      expect(chunks.map((c) => [c.rows.map((r) => r.v), c.state])).toEqual([
        [[1, 2], undefined],
        [[3], { cursor: '2024-01-01', key: [] }],
        [[4, 5], undefined],
        [[6, 7], undefined],
        [[], { cursor: '2024-01-03', key: [] }],
      ]);
      expect(chunks[0]?.rows[0]).toEqual({ v: 1, at: '2024-01-01' });
      // A one-day lookback on a date cursor re-reads the last day.
      const back = await collect(
        source.read(ref2, { ...mode, lookbackSeconds: 3600 }, { cursor: '2024-01-02', key: [] }),
      );
      expect(rowsOf(back).map((r) => r.v)).toEqual([4, 5, 6, 7]);
      expect(back.at(-1)?.state).toEqual({ cursor: '2024-01-03', key: [] });
    } finally {
      await source.close();
    }
  });

  it('refuses what it cannot do with clear config errors', async () => {
    const source = new MysqlSource({ url: url() });
    try {
      const bad = async (run: () => AsyncIterable<SourceChunk>, message: RegExp) => {
        const error = await collect(run()).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(RuntimeError);
        expect((error as RuntimeError).code).toBe('config');
        expect((error as Error).message).toMatch(message);
      };
      await bad(
        () => source.read(ref, { strategy: 'incremental', cursor: 'id', lookbackSeconds: 5 }, undefined),
        /lookbackSeconds needs a date or datetime cursor/,
      );
      await bad(() => source.read(ref, { strategy: 'incremental', cursor: 'nope' }, undefined), /no column "nope"/);
      await bad(
        () => source.read(entity(`no_such_${suffix}`, []), { strategy: 'full_refresh' }, undefined),
        /not found, or no privilege/,
      );
      await bad(
        () => source.read(ref, { strategy: 'incremental', cursor: 'updated_at' }, { cursor: 'x', key: [] }),
        /key has 1 columns/,
      );
      expect(() => source.read(ref, { strategy: 'log' }, undefined)).toThrow(
        /cdc on MySQL\/MariaDB is not supported yet: use incremental/,
      );
    } finally {
      await source.close();
    }
  });
});

describe('MysqlSource: a million rows', () => {
  const table = `cf_big_${suffix}`;
  const N = 1_000_000;

  beforeAll(async () => {
    await createTable(
      table,
      'id int NOT NULL PRIMARY KEY, name varchar(32) NOT NULL, amount decimal(12,2), at datetime(6), flag tinyint(1)',
    );
    const started = Date.now();
    await exec(
      `INSERT INTO ${quoteIdent(table)} SELECT seq, CONCAT('name-', seq), seq / 100, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq % 2 FROM seq_1_to_${N}`,
    );
    console.log(`[mysql-source] generated ${N} rows in ${Date.now() - started} ms`);
  });

  it('pages incrementally through it by primary key', async () => {
    const source = new MysqlSource({ url: url() });
    try {
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      let count = 0;
      let last: SourceState | undefined;
      const started = Date.now();
      for await (const chunk of source.read(
        entity(table, ['id', 'name', 'amount', 'at', 'flag'], ['id']),
        { strategy: 'incremental', cursor: 'id' },
        undefined,
      )) {
        count += chunk.rows.length;
        last = chunk.state;
        peak = Math.max(peak, process.memoryUsage().rss);
      }
      const ms = Date.now() - started;
      console.log(
        `[mysql-source] incremental (keyset pages on the primary key) of ${count} rows in ${ms} ms, RSS +${((peak - baseline) / 2 ** 20).toFixed(1)} MB`,
      );
      expect(count).toBe(N);
      expect(last).toEqual({ cursor: N, key: [] });
    } finally {
      await source.close();
    }
  });

  it('stops a read when the signal aborts, and when the consumer stops early', async () => {
    const source = new MysqlSource({ url: url(), chunkRows: 1000 });
    try {
      const ref = entity(table, ['id'], ['id']);
      const controller = new AbortController();
      const chunks: SourceChunk[] = [];
      for await (const chunk of source.read(ref, { strategy: 'full_refresh' }, undefined, controller.signal)) {
        chunks.push(chunk);
        if (chunks.length === 3) controller.abort();
      }
      expect(chunks.length).toBeLessThan(10);
      expect(chunks.every((c) => c.state === undefined)).toBe(true);
      await expectNoQueryOn(table); // the server stopped sending (and holds no lock)
      for await (const chunk of source.read(ref, { strategy: 'incremental', cursor: 'id' }, undefined)) {
        expect(chunk.rows).toHaveLength(1000);
        break;
      }
      // The source is still usable.
      expect((await source.columns(ref)).map((c) => c.name)).toEqual(['id']);
      // Closing the source under a running read ends it with an error, not a hang.
      const iterator = source.read(ref, { strategy: 'full_refresh' }, undefined)[Symbol.asyncIterator]();
      expect((await iterator.next()).done).toBe(false);
      await source.close();
      const drain = async () => {
        for (let i = 0; i < 1000; i++) if ((await iterator.next()).done) return 'done';
        return 'still reading';
      };
      await expect(drain()).rejects.toThrow(/closed|lost/i);
      await expectNoQueryOn(table);
    } finally {
      await source.close();
    }
  });
});

describe('MysqlSource: connection errors', () => {
  it('the right password works; TLS settings are checked', async () => {
    const source = new MysqlSource({ url: url() });
    await source.check();
    await source.close();
    expect(() => new MysqlSource({ url: url(), tls: { mode: 'verify-full', caFile: '/nonexistent/ca.pem' } })).toThrow(
      /cannot read the TLS ca file \/nonexistent\/ca\.pem/,
    );
    // The test server (scripts/services.sh) has a certificate from a test CA: verify-full with that CA
    // connects over TLS, with another CA it is refused.
    const ca = testCaFile();
    const tls = new MysqlSource({ url: url(), tls: { mode: 'verify-full', caFile: ca } });
    await tls.check();
    await tls.close();
    const verified = new URL(url());
    verified.searchParams.set('ssl-mode', 'VERIFY_IDENTITY');
    verified.searchParams.set('ssl-ca', ca);
    const { tlsFromUrl } = await import('../../src/connector/create-source.js');
    const parsed = tlsFromUrl(verified.toString());
    const viaUrl = new MysqlSource({ url: parsed.url, ...(parsed.tls ? { tls: parsed.tls } : {}) });
    await viaUrl.check();
    await viaUrl.close();
    const wrongCa = new MysqlSource({ url: url(), tls: { mode: 'verify-full', caFile: otherCaFile() } });
    const tlsError = await wrongCa.check().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    console.log(`[mysql-source] TLS with a CA that did not sign the server's certificate: ${tlsError?.message}`);
    expect(tlsError?.message).toMatch(/cannot connect.*certificate/i);
    expect(tlsError?.message).not.toContain(new URL(url()).password);
    await wrongCa.close();
    expect(() => new MysqlSource({ url: 'mysql://cf:s3cret-pw@host/db?ssl=false' })).toThrow(
      /parameters are not supported \(ssl\)/,
    );
    expect(() => new MysqlSource({ url: 'mysql://cf:s3cret-pw@host/db?ssl=false' })).not.toThrow(/s3cret-pw/);
  });
});

const MYSQL_TYPES: Record<ContractType, string> = {
  int32: 'INT',
  int64: 'BIGINT',
  decimal: 'DECIMAL(20,2)',
  float64: 'DOUBLE',
  boolean: 'BOOLEAN',
  text: 'TEXT',
  date: 'DATE',
  timestamp: 'DATETIME(6)',
};

/** A value as MariaDB takes it in a parameter: DATETIME without the ISO `T` and `Z`. */
const mysqlParameter = (type: ContractType, value: unknown) =>
  type === 'timestamp' && typeof value === 'string' ? value.replace('T', ' ').replace(/Z$/, '') : value;

sourceContract({
  name: 'mysql (MariaDB)',
  open: ({ chunkRows, password }) => {
    const parsed = new URL(url());
    if (password !== undefined) parsed.password = password;
    return new MysqlSource({ url: parsed.toString(), ...(chunkRows !== undefined ? { chunkRows } : {}) });
  },
  seed: async (table) => {
    const name = await createTable(
      `cf_contract_${suffix}_${table.name}`,
      [
        ...table.columns.map((c) => `${quoteIdent(c.name)} ${MYSQL_TYPES[c.type]}${c.nullable ? '' : ' NOT NULL'}`),
        `PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`,
      ].join(', '),
    );
    const names = table.columns.map((c) => quoteIdent(c.name)).join(', ');
    for (const batch of table.rows()) {
      const tuples = batch.map(() => `(${table.columns.map(() => '?').join(', ')})`);
      const values = batch.flatMap((row) => row.map((v, i) => mysqlParameter(table.columns[i]!.type, v)));
      await exec(`INSERT INTO ${quoteIdent(name)} (${names}) VALUES ${tuples.join(', ')}`, values);
    }
    return name;
  },
  busySessions: async (entity) => {
    const [rows] = await admin.query({
      sql: 'SELECT INFO FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE ?',
      values: [`%${entity}%`],
      rowsAsArray: true,
    });
    return (rows as unknown[]).length;
  },
  // The tables go with the file's own (createTable records them).
  cleanup: async () => undefined,
  wrongPassword: /: cannot connect: Access denied for user /,
  realPassword: URL_ENV ? decodeURIComponent(new URL(URL_ENV).password) : '',
});
