import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ConnectorManifest, Field } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicationNamesOf } from '../../src/connector/read-mode.js';
import { runConnector } from '../../src/connector/run-connector.js';
import { dropReplication } from '../../src/sources/postgres/cdc/index.js';
import { readLake } from '../lake/readers.js';
import { pgTestManifest } from './fixtures.js';

// Every column name PostgreSQL allows lands in the lake: `__proto__` and names of Object.prototype's
// members beside quotes, backticks, comment ends, newlines and reserved words, through a full refresh
// (bulk and as rows) and through CDC (snapshot, then inserts and updates).

const url = process.env.PG_URL;
const table = `cf_hostile_cols_${randomBytes(4).toString('hex')}`;
const NAMES = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '"quoted"',
  '`bt`',
  '*/',
  'new\nline',
  'select',
  'order',
] as const;
const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
let client: pg.Client;
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

const fields: Field[] = [
  { name: 'id', type: 'number', nullable: false },
  ...NAMES.map((name): Field => ({ name, type: 'string', nullable: true })),
];

function manifest(lakePath: string, cdc: boolean): ConnectorManifest {
  const base = pgTestManifest(table, {
    fields,
    strategy: cdc
      ? { updateStrategy: 'cdc', cdcConfig: { cursorField: 'lsn', cursorType: 'log_position' } }
      : { updateStrategy: 'full_refresh' },
    destination: cdc
      ? { lakePath }
      : { lakePath, format: 'parquet', compression: 'snappy', writeMode: 'overwrite', mergeKeys: [] },
    schedule: cdc ? { type: 'continuous' } : { type: 'cron', expression: '0 0 * * *' },
  });
  return cdc ? base : { ...base, id: `connector_postgres_${table}_fr_v1` };
}

const value = (name: string, id: number) => `${name}=${id}`;

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `CREATE TABLE ${table} (id int PRIMARY KEY, ${NAMES.map((n) => `${quoteIdent(n)} text`).join(', ')})`,
  );
  for (let id = 1; id <= 20; id++) {
    await client.query(`INSERT INTO ${table} VALUES ($1, ${NAMES.map((_n, i) => `$${i + 2}`).join(', ')})`, [
      id,
      ...NAMES.map((n) => value(n, id)),
    ]);
  }
});
afterAll(async () => {
  const names = replicationNamesOf(manifest('x', true));
  if (url) await dropReplication(url, names.slot, names.publication);
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

/** The lake's rows, every hostile column by name, as read by an independent reader. */
async function lakeRows(format: string, lake: string): Promise<string[]> {
  const doc = await readLake(format, lake);
  for (const name of NAMES) expect(doc.columns).toContain(name);
  return doc.rows
    .map((row) => JSON.stringify([Number(row.id), ...NAMES.map((n) => (Object.hasOwn(row, n) ? row[n] : 'MISSING'))]))
    .sort();
}
async function sourceRows(): Promise<string[]> {
  const { rows } = await client.query<Record<string, unknown>>({
    text: `SELECT id, ${NAMES.map(quoteIdent).join(', ')} FROM ${table}`,
    rowMode: 'array',
  });
  return (rows as unknown as unknown[][]).map((r) => JSON.stringify([Number(r[0]), ...r.slice(1)])).sort();
}

describe('a table whose column names are hostile (PostgreSQL → lake)', () => {
  const env = () => ({ ...process.env, CF_TEST_PG_URL: url! });

  it('lands every column through a full refresh, in bulk and as rows', async () => {
    for (const csvHandover of [true, false]) {
      const lake = mkdtempSync(join(tmpdir(), 'cf-hostile-fr-'));
      const summary = await runConnector({
        manifest: manifest(lake, false),
        once: true,
        env: env(),
        stateDir: mkdtempSync(join(tmpdir(), 'cf-hostile-fr-state-')),
        logStream: quiet,
        csvHandover,
      });
      expect(summary).toMatchObject({ rowsRead: 20, rowsWritten: 20, rowsQuarantined: 0 });
      expect(await lakeRows('parquet', lake)).toEqual(await sourceRows());
    }
  });

  it('lands every column through CDC: the snapshot, then inserts and updates', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-hostile-cdc-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-hostile-cdc-state-'));
    const run = () =>
      runConnector({ manifest: manifest(lake, true), once: true, env: env(), stateDir, logStream: quiet });
    expect(await run()).toMatchObject({ rowsRead: 20, rowsQuarantined: 0 });
    expect(await lakeRows('delta', lake)).toEqual(await sourceRows());

    await client.query(
      `INSERT INTO ${table} VALUES (21, ${NAMES.map((_n, i) => `$${i + 1}`).join(', ')})`,
      NAMES.map((n) => value(n, 21)),
    );
    await client.query(`UPDATE ${table} SET ${quoteIdent('__proto__')} = 'changed', "*/" = NULL WHERE id <= 3`);
    const second = await run();
    expect(second?.rowsQuarantined).toBe(0);
    expect(await lakeRows('delta', lake)).toEqual(await sourceRows());
  });
});
