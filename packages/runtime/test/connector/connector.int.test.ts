import { spawn } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ConnectorManifest } from '@connector-factory/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runConnector } from '../../src/connector/run-connector.js';
import { readLake } from '../lake/readers.js';
import { pgTestManifest } from './fixtures.js';

// A connector from its manifest against the real PostgreSQL: rows land in the lake as the manifest
// says, and a connector killed mid-run and rerun ends with exactly the source's rows.

const url = process.env.PG_URL;
const table = `cf_orders_${randomBytes(4).toString('hex')}`;
let client: pg.Client;

beforeAll(async () => {
  if (!url) throw new Error('PG_URL is not set: run the suite with `npm test` (it starts PostgreSQL)');
  client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE ${table} (id bigint PRIMARY KEY, customer_id int NOT NULL, total numeric(12,2) NOT NULL,
    status text, email text, updated_at timestamptz NOT NULL)`);
  await client.query(`INSERT INTO ${table} SELECT i, i % 97, (i % 1000) / 7.0, CASE WHEN i % 5 = 0 THEN NULL ELSE 'paid' END,
    'user' || i || '@example.com', TIMESTAMPTZ '2025-01-01' + (i % 4000) * INTERVAL '1 minute' + (i % 7) * INTERVAL '1 microsecond'
    FROM generate_series(1, 20000) i`);
});
afterAll(async () => {
  await client?.query(`DROP TABLE IF EXISTS ${table}`);
  await client?.end();
});

function manifest(
  lakePath: string,
  over: {
    format?: 'delta' | 'parquet';
    writeMode?: 'merge' | 'overwrite';
    strategy?: 'incremental' | 'full_refresh';
  } = {},
): ConnectorManifest {
  const strategy = over.strategy ?? 'incremental';
  return pgTestManifest(table, {
    fields: [
      { name: 'id', type: 'number', nullable: false },
      { name: 'customer_id', type: 'number', nullable: false },
      { name: 'total', type: 'number', nullable: false },
      { name: 'status', type: 'string', nullable: true },
      { name: 'email', type: 'string', nullable: true, pii: true },
      { name: 'updated_at', type: 'datetime', nullable: false },
    ],
    strategy: { updateStrategy: strategy, ...(strategy === 'incremental' ? { incrementalKey: 'updated_at' } : {}) },
    destination: {
      lakePath,
      format: over.format ?? 'delta',
      writeMode: over.writeMode ?? 'merge',
      partitionBy: ['dt'],
    },
    schedule: { type: 'interval', intervalSeconds: 60 },
  });
}

const env = () => ({ ...process.env, CF_TEST_PG_URL: url! });

/** sha256 per row of the fields both sides share, in a canonical text form. */
function checksum(row: Record<string, unknown>): string {
  const text = [
    Number(row.id),
    Number(row.customer_id),
    Number(row.total).toFixed(2),
    row.status ?? null,
    row.email ?? null,
    new Date(String(row.updated_at)).toISOString(),
  ];
  return createHash('sha256').update(JSON.stringify(text)).digest('hex');
}

async function sourceChecksums(): Promise<string[]> {
  const { rows } = await client.query(
    `SELECT id, customer_id, total::text AS total, status, email, updated_at FROM ${table} ORDER BY id`,
  );
  return rows
    .map((r) => checksum({ ...r, email: r.email.replace(/^(.)[^@]*@(.)[^.]*\.com$/, '$1***@$2***.com') }))
    .sort();
}

/** Runs a connector with its health server on a free port, until the returned controller aborts. */
async function serving(m: ConnectorManifest) {
  const controller = new AbortController();
  let url = '';
  const running = runConnector({
    manifest: m,
    env: env(),
    stateDir: mkdtempSync(join(tmpdir(), 'cf-state-')),
    healthPort: 0,
    signal: controller.signal,
    logStream: { write: () => true } as unknown as NodeJS.WritableStream,
    onListening: (u) => (url = u),
  });
  while (url === '') await new Promise((r) => setTimeout(r, 20));
  return { controller, running, url };
}

describe('runConnector against PostgreSQL', () => {
  it('lands every row once, masked and with metadata, and serves health and metrics while it runs', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-conn-'));
    let healthUrl = '';
    let probes: Promise<[number, string]> | undefined;
    const summary = await runConnector({
      manifest: manifest(lake),
      once: true,
      env: env(),
      stateDir: mkdtempSync(join(tmpdir(), 'cf-state-')),
      healthPort: 0,
      batchRows: 5000,
      logStream: { write: () => true } as unknown as NodeJS.WritableStream,
      onListening: (u) => {
        healthUrl = u;
        probes = Promise.all([fetch(`${u}/health`), fetch(`${u}/metrics`)]).then(async ([h, m]) => [
          h.status,
          await m.text(),
        ]);
      },
    });
    const [healthStatus, metricsText] = await probes!;
    expect(healthStatus).toBe(200);
    expect(metricsText).toContain(`connector_records_total{connector_id="connector_postgres_${table}_v1"`);
    expect(summary).toMatchObject({ rowsRead: 20000, rowsWritten: 20000, rowsQuarantined: 0 });
    expect(summary!.batches).toBeGreaterThanOrEqual(2);
    expect(healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const doc = await readLake('delta', lake);
    expect(doc.rows).toHaveLength(20000);
    expect(doc.rows[0]).toMatchObject({ _connector_id: `connector_postgres_${table}_v1`, _connector_version: '1.0.0' });
    expect(String(doc.rows.find((r) => Number(r.id) === 1)!.email)).toBe('u***@e***.com');
    expect(doc.rows.map(checksum).sort()).toEqual(await sourceChecksums());
    // A second run reads only what changed since the last checkpoint.
    await client.query(`UPDATE ${table} SET status = 'refunded', updated_at = TIMESTAMPTZ '2025-02-01' WHERE id <= 10`);
  });

  it('an event-driven connector syncs once per POST /trigger and stops on abort', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-conn-'));
    const m = {
      ...manifest(lake, { format: 'parquet', writeMode: 'overwrite', strategy: 'full_refresh' }),
      schedule: { type: 'event' as const, eventSource: '/hooks/orders' },
    };
    const { controller, running, url } = await serving(m);
    expect((await fetch(`${url}/trigger`)).status).toBe(405);
    expect((await fetch(`${url}/trigger`, { method: 'POST', body: '{"event":"order.created"}' })).status).toBe(202);
    for (let i = 0; i < 200; i++) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      if (/connector_runs_total\{[^}]*result="success"[^}]*\} 1/.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    const summary = await running;
    expect(summary).toMatchObject({ rowsWritten: 20000 });
    expect((await readLake('parquet', lake)).rows).toHaveLength(20000);
  });

  it('an interval connector keeps no abort listener per tick', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-conn-'));
    const m = { ...manifest(lake), schedule: { type: 'interval' as const, intervalSeconds: 1 } };
    const { controller, running, url } = await serving(m);
    const listenersAfter = async (runs: number) => {
      for (;;) {
        const metrics = await (await fetch(`${url}/metrics`)).text();
        const done = /connector_runs_total\{[^}]*result="success"[^}]*\} (\d+)/.exec(metrics);
        if (done && Number(done[1]) >= runs) return getEventListeners(controller.signal, 'abort').length;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const early = await listenersAfter(2);
    const late = await listenersAfter(5);
    controller.abort();
    await running;
    // Each tick's wait used to leave one behind.
    expect(late).toBe(early);
  });

  it('full refresh with overwrite replaces the table in one parquet commit', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-conn-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-state-'));
    const run = () =>
      runConnector({
        manifest: manifest(lake, { format: 'parquet', writeMode: 'overwrite', strategy: 'full_refresh' }),
        once: true,
        env: env(),
        stateDir,
        logStream: { write: () => true } as unknown as NodeJS.WritableStream,
      });
    expect(await run()).toMatchObject({ batches: 1, rowsWritten: 20000 });
    expect(await run()).toMatchObject({ batches: 1, rowsWritten: 20000 });
    const doc = await readLake('parquet', lake);
    expect(doc.rows.map(checksum).sort()).toEqual(await sourceChecksums());
  });

  it('a connector killed at random points and rerun ends with exactly the source rows', async () => {
    const lake = mkdtempSync(join(tmpdir(), 'cf-conn-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'cf-state-'));
    const manifestFile = join(mkdtempSync(join(tmpdir(), 'cf-m-')), 'manifest.json');
    writeFileSync(manifestFile, JSON.stringify(manifest(lake, { format: 'delta', writeMode: 'merge' })));
    const runtime = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
    const script = `import(${JSON.stringify(runtime)}).then((m) => m.connectorMain(['--once', '--health-port', '0', '--state-dir', ${JSON.stringify(stateDir)}], ${JSON.stringify(manifestFile)})).then((code) => process.exit(code))`;
    const runChild = (killAfterMs?: number) =>
      new Promise<{ code: number | null; killed: boolean; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
          env: { ...env(), CF_BATCH_ROWS: '500', CF_CHUNK_ROWS: '500' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        let killed = false;
        const timer =
          killAfterMs === undefined
            ? undefined
            : setTimeout(() => ((killed = true), child.kill('SIGKILL')), killAfterMs);
        child.on('exit', (code) => {
          if (timer) clearTimeout(timer);
          resolve({ code, killed, stderr });
        });
      });
    let kills = 0;
    for (let attempt = 0; attempt < 30; attempt++) {
      const result = await runChild(attempt === 0 ? 900 : 300 + Math.random() * 1500);
      if (!result.killed) {
        expect(result.code, result.stderr).toBe(0);
        break;
      }
      kills++;
    }
    const final = await runChild();
    expect(final.code, final.stderr).toBe(0);
    expect(kills).toBeGreaterThan(0);
    const doc = await readLake('delta', lake);
    const ids = doc.rows.map((r) => Number(r.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.rows.map(checksum).sort()).toEqual(await sourceChecksums());
  });
});
