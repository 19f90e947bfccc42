import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { ConnectorManifest } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector } from '../../src/connector/run-connector.js';
import { RuntimeError } from '../../src/errors.js';
import { FileCheckpointStore } from '../../src/run/checkpoint-store.js';
import { readLake } from '../lake/readers.js';
import { pgTestManifest } from './fixtures.js';

// A manifest that declares a PostgreSQL text[] column as string: the arrays do not fit a string
// column. Above the quarantine limit a batch fails whole — nothing committed, the checkpoint where it
// was — and the run fails with one line; a run allowed to quarantine that much then resumes from the
// same checkpoint and loses and duplicates nothing.

const url = process.env.PG_URL;
const table = `cf_qlimit_${randomBytes(4).toString('hex')}`;
let client: pg.Client;
const quiet = { write: () => true } as unknown as NodeJS.WritableStream;

function manifest(lakePath: string, maxQuarantineShare?: number): ConnectorManifest {
  const base = pgTestManifest(table, {
    fields: [
      { name: 'id', type: 'number', nullable: false },
      { name: 'tags', type: 'string', nullable: true },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ],
    strategy: { updateStrategy: 'incremental', incrementalKey: 'updated_at' },
    destination: { lakePath, format: 'parquet', compression: 'snappy', writeMode: 'append', mergeKeys: [] },
    schedule: { type: 'interval', intervalSeconds: 3600 },
  });
  return maxQuarantineShare === undefined ? base : { ...base, quality: { maxQuarantineShare } };
}

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE ${table} (id int PRIMARY KEY, tags text[], updated_at timestamptz NOT NULL)`);
  // Rows 1-50 have no tags (they fit); of rows 51-100, 40 carry an array (they do not).
  await client.query(
    `INSERT INTO ${table} SELECT i, CASE WHEN i > 60 THEN ARRAY['a' || i, 'b'] END,
            TIMESTAMPTZ '2025-01-01' + i * INTERVAL '1 minute' FROM generate_series(1, 100) i`,
  );
});
afterAll(async () => {
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

describe('a batch above the quarantine limit', () => {
  it('fails whole: nothing committed, the checkpoint kept, one line; a later run resumes from it', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-qlimit-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-qlimit-state-'));
    const env = { ...process.env, CF_TEST_PG_URL: url!, CF_CHUNK_ROWS: '50' };
    const run = (m: ConnectorManifest) =>
      runConnector({ manifest: m, once: true, env, stateDir, logStream: quiet, batchRows: 50 });

    // The default limit (1 %): batch 1 (rows 1-50) commits, batch 2 (40 of 50 quarantined) fails.
    const error = await run(manifest(lake)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('quality');
    const message = (error as RuntimeError).message;
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toContain(`batch connector_postgres_${table}_v1@2: 40 of 50 rows (80 %)`);
    expect(message).toContain('above quality.maxQuarantineShare 1 %');
    expect(message).toContain('"tags" (string) 40 rows');
    expect(message).toContain('the checkpoint stays at 1');
    // No value of a row in the message: it goes to logs, metrics and alerts.
    expect(message).not.toMatch(/a6\d|"b"/);

    const checkpoints = new FileCheckpointStore(stateDir);
    expect((await checkpoints.load(`connector_postgres_${table}_v1`))?.sequence).toBe(1);
    const afterFailure = await readLake('parquet', lake);
    expect(afterFailure.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    // The failed batch's rows are kept to look at, apart from the quarantine of committed batches.
    const quarantine = join(lake, '_quarantine', encodeURIComponent(`connector_postgres_${table}_v1`));
    expect(readdirSync(quarantine)).toEqual(['00000000000000000002.failed.jsonl']);

    // Allowed to quarantine everything: the run resumes from checkpoint 1 and commits batch 2.
    const summary = await run(manifest(lake, 1));
    expect(summary).toMatchObject({ from: 1, to: 2, rowsRead: 50, rowsWritten: 10, rowsQuarantined: 40 });
    const landed = await readLake('parquet', lake);
    expect(landed.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    expect(existsSync(join(quarantine, '00000000000000000002.jsonl'))).toBe(true);
  });

  it('does not fail a batch within the limit', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-qlimit-ok-'));
    const summary = await runConnector({
      manifest: manifest(lake, 0.5),
      once: true,
      env: { ...process.env, CF_TEST_PG_URL: url! },
      stateDir: mkdtempSync(join(tmpdir(), 'cf-qlimit-ok-state-')),
      logStream: quiet,
    });
    expect(summary).toMatchObject({ rowsRead: 100, rowsWritten: 60, rowsQuarantined: 40 });
  });
});
