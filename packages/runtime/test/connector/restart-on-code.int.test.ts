import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ConnectorManifest } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector } from '../../src/connector/run-connector.js';
import { RuntimeError } from '../../src/errors.js';
import { connectPostgres } from '../../src/sources/postgres/postgres-connection.js';
import type { Source } from '../../src/sources/source.js';
import { readLake } from '../lake/readers.js';
import { pgTestManifest } from './fixtures.js';

// A continuous connector restarts a failed sync by the error's code: a source that is away
// (source_unavailable, retryable) is tried again with backoff; one that refuses the credentials
// (source_auth) ends the connector at once, since no restart can fix it. The failures are the server's
// own: a connection to a closed port, a login with a wrong password.

const url = process.env.PG_URL;
const table = `cf_restart_${randomBytes(4).toString('hex')}`;
let client: pg.Client;
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

function manifest(lakePath: string): ConnectorManifest {
  return pgTestManifest(table, {
    fields: [{ name: 'id', type: 'number', nullable: false }],
    strategy: { updateStrategy: 'full_refresh' },
    destination: { lakePath, format: 'parquet', compression: 'snappy', writeMode: 'overwrite', mergeKeys: [] },
    schedule: { type: 'continuous' },
  });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The first read fails the way `fail` does against the real server; later reads are the source's own. */
function failingFirst(fail: () => Promise<never>, reads: { count: number }, stop: AbortController) {
  return (inner: Source): Source => ({
    check: () => inner.check(),
    columns: (entity) => inner.columns(entity),
    close: () => inner.close(),
    async *read(entity, mode, state, signal) {
      reads.count++;
      if (reads.count === 1) await fail();
      yield* inner.read(entity, mode, state, signal);
      stop.abort();
    },
  });
}

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  await client.query(`INSERT INTO ${table} SELECT i FROM generate_series(1, 10) i`);
});
afterAll(async () => {
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

describe('a continuous connector restarts on the code', () => {
  it('retries a source_unavailable failure and lands the rows', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-restart-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-restart-state-'));
    const down = new URL(url!);
    down.port = String(await closedPort());
    const reads = { count: 0 };
    const stop = new AbortController();
    const fail = async (): Promise<never> => {
      await connectPostgres({ url: down.toString() });
      throw new Error('a closed port accepted a connection');
    };
    await runConnector({
      manifest: manifest(lake),
      env: { ...process.env, CF_TEST_PG_URL: url! },
      stateDir,
      logStream: quiet,
      signal: stop.signal,
      wrapSource: failingFirst(fail, reads, stop),
    });
    expect(reads.count).toBe(2);
    const { rows } = await readLake('parquet', lake);
    expect(rows).toHaveLength(10);
  });

  it('ends at a source_auth failure without a restart', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-restart-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-restart-state-'));
    const wrong = new URL(url!);
    wrong.password = `${wrong.password}-wrong`;
    const reads = { count: 0 };
    const stop = new AbortController();
    const fail = async (): Promise<never> => {
      await connectPostgres({ url: wrong.toString() });
      throw new Error('a wrong password was accepted');
    };
    const error = await runConnector({
      manifest: manifest(lake),
      env: { ...process.env, CF_TEST_PG_URL: url! },
      stateDir,
      logStream: quiet,
      signal: stop.signal,
      wrapSource: failingFirst(fail, reads, stop),
    }).catch((e: unknown) => e);
    stop.abort();
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('source_auth');
    expect((error as RuntimeError).data.sqlstate).toBe('28P01');
    expect(reads.count).toBe(1);
  });
});
