import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ConnectorManifest } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replicationNamesOf } from '../../src/connector/read-mode.js';
import { runConnector } from '../../src/connector/run-connector.js';
import { dropReplication } from '../../src/sources/postgres/cdc/index.js';
import { readLake } from '../lake/readers.js';
import { pgTestManifest } from './fixtures.js';

// The spec's example 2 for real: PostgreSQL orders by CDC into a Delta table with merge — snapshot,
// then inserts, updates and deletes, each run resuming from the slot where the last one stopped.

const url = process.env.PG_URL;
const table = `cf_cdc_orders_${randomBytes(4).toString('hex')}`;
let client: pg.Client;
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

const manifest = (lakePath: string): ConnectorManifest =>
  pgTestManifest(table, {
    fields: [
      { name: 'id', type: 'number', nullable: false },
      { name: 'customer_id', type: 'number', nullable: false },
      { name: 'total', type: 'number', nullable: false },
      { name: 'created_at', type: 'datetime', nullable: false },
    ],
    strategy: { updateStrategy: 'cdc', cdcConfig: { cursorField: 'lsn', cursorType: 'log_position' } },
    destination: { lakePath },
    schedule: { type: 'continuous' },
  });

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(
    `CREATE TABLE ${table} (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2) NOT NULL, created_at timestamptz NOT NULL)`,
  );
  await client.query(
    `INSERT INTO ${table} SELECT i, i % 10, i * 1.5, TIMESTAMPTZ '2025-01-01' + i * INTERVAL '1 minute' FROM generate_series(1, 500) i`,
  );
});
afterAll(async () => {
  const names = replicationNamesOf(manifest('x'));
  if (url) await dropReplication(url, names.slot, names.publication);
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

async function lakeRows(lake: string): Promise<string[]> {
  const doc = await readLake('delta', lake);
  return doc.rows.map((r) => `${Number(r.id)}:${Number(r.customer_id)}:${Number(r.total).toFixed(2)}`).sort();
}
async function sourceRows(): Promise<string[]> {
  const { rows } = await client.query(`SELECT id, customer_id, total::text AS total FROM ${table}`);
  return rows.map((r) => `${Number(r.id)}:${Number(r.customer_id)}:${Number(r.total).toFixed(2)}`).sort();
}

describe('a CDC connector (PostgreSQL → Delta merge)', () => {
  it('lands the snapshot, then inserts, updates and deletes, run after run', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-cdc-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-cdc-state-'));
    const run = () =>
      runConnector({
        manifest: manifest(lake),
        once: true,
        env: { ...process.env, CF_TEST_PG_URL: url! },
        stateDir,
        logStream: quiet,
      });
    const first = await run();
    expect(first?.rowsRead).toBe(500);
    expect(await lakeRows(lake)).toEqual(await sourceRows());

    await client.query(`INSERT INTO ${table} VALUES (501, 3, 9.99, now()), (502, 4, 1.01, now())`);
    await client.query(`UPDATE ${table} SET total = total + 100 WHERE id <= 20`);
    await client.query(`DELETE FROM ${table} WHERE id BETWEEN 100 AND 149`);
    await client.query(
      `BEGIN; UPDATE ${table} SET customer_id = 99 WHERE id = 5; UPDATE ${table} SET customer_id = 98 WHERE id = 5; COMMIT`,
    );
    const second = await run();
    expect(second?.rowsRead).toBeGreaterThanOrEqual(2 + 20 + 50 + 2);
    expect(await lakeRows(lake)).toEqual(await sourceRows());

    // Nothing new: a run reads nothing and changes nothing.
    const third = await run();
    expect(third?.rowsRead).toBe(0);
    expect(await lakeRows(lake)).toEqual(await sourceRows());
  });
});
