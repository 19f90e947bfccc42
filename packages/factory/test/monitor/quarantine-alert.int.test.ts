/**
 * The Monitor against a real connector whose batch goes to the quarantine: a PostgreSQL text[] column
 * declared string in a hand-written manifest. The connector runs in-process with its health server;
 * the batch fails, /health says why and /metrics counts a `quality` error, and the Monitor raises one
 * critical alert naming the limit. PG_URL must be set (scripts/services.sh).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorManifest } from '@connector-factory/ir';
import { runConnector } from '@connector-factory/runtime';
import { requirePgUrl, sql, until } from '../support/live-postgres.js';
import { tableManifest } from '../support/table-manifest.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { DeployTarget, InstanceStatus } from '../../src/agents/deploy/deploy-target.js';
import { lineSink } from '../../src/agents/monitor/alert-sinks.js';
import { Monitor } from '../../src/agents/monitor/monitor.js';
import { openStateStore } from '../../src/store/open-state-store.js';
import type { StateStore } from '../../src/store/state-store.js';

requirePgUrl();
const table = `cf_qalert_${randomBytes(4).toString('hex')}`;
const connectorId = `connector_postgres_${table}_v1`;

const manifest = (lakePath: string): ConnectorManifest =>
  tableManifest(
    table,
    [
      { name: 'id', type: 'number', nullable: false },
      { name: 'tags', type: 'string', nullable: true },
    ],
    { lakePath, compression: 'snappy' },
  );

/** A deploy target that reports the in-process connector as its one running instance. */
function targetFor(healthBase: () => string): DeployTarget {
  const status = (deploymentId: string): InstanceStatus => ({
    deploymentId,
    connectorId,
    version: '1.0.0',
    instanceId: 'in-process',
    state: 'running',
    pid: process.pid,
    restarts: 0,
    endpoint: healthBase(),
    healthUrl: `${healthBase()}/health`,
    metricsUrl: `${healthBase()}/metrics`,
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    lastExit: null,
    lastError: null,
  });
  return {
    name: 'in-process',
    start: async (spec) => status(spec.deploymentId),
    stop: async () => undefined,
    status: async (id) => status(id),
    list: async () => [],
    logs: async () => [],
  };
}

describe('the Monitor and a batch above the quarantine limit', () => {
  let work: string;
  let store: StateStore;
  const controller = new AbortController();
  let running: Promise<unknown> | undefined;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cf-qalert-'));
    await sql(`CREATE TABLE ${table} (id int PRIMARY KEY, tags text[])`);
    await sql(
      `INSERT INTO ${table} SELECT i, CASE WHEN i % 5 <> 0 THEN ARRAY['t' || i] END FROM generate_series(1, 100) i`,
    );
    store = await openStateStore(join(work, 'state.db'));
  });

  afterAll(async () => {
    controller.abort();
    await running?.catch(() => undefined);
    await store?.close();
    await sql(`DROP TABLE IF EXISTS ${table}`);
    await rm(work, { recursive: true, force: true });
  });

  it('sees the failure on /health and /metrics and raises one critical alert', async () => {
    const m = manifest(join(work, 'lake'));
    let base = '';
    running = runConnector({
      manifest: m,
      env: process.env,
      stateDir: join(work, 'state'),
      healthPort: 0,
      healthHost: '127.0.0.1',
      logStream: { write: () => true } as unknown as NodeJS.WritableStream,
      signal: controller.signal,
      onListening: (url) => (base = url.replace(/\/$/, '')),
    }).catch((error: unknown) => error);
    const health = await until('a failed health', async () => {
      if (base === '') return undefined;
      const response = await fetch(`${base}/health`);
      return response.ok ? undefined : ((await response.json()) as { reason?: string });
    });
    expect(health.reason).toMatch(/80 of 100 rows \(80 %\) did not fit .* above quality\.maxQuarantineShare 1 %/);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/connector_errors_total\{[^}]*kind="quality"[^}]*\} 1/);

    const packageDir = join(work, 'package');
    await mkdir(packageDir, { recursive: true });
    await writeFile(join(packageDir, 'manifest.json'), JSON.stringify(m));
    const now = new Date().toISOString();
    await store.deployments.insert({
      id: 'dep_quality',
      connectorId,
      version: '1.0.0',
      environment: 'dev',
      target: 'in-process',
      status: 'healthy',
      packageDir,
      workingDir: work,
      packageDigest: 'sha256:0',
      manifestDigest: 'sha256:0',
      envNames: ['PG_URL'],
      instanceId: 'in-process',
      endpoint: base,
      healthUrl: `${base}/health`,
      previousDeploymentId: null,
      actor: 'test',
      lastError: null,
      createdAt: now,
      updatedAt: now,
    });
    const lines: string[] = [];
    const monitor = new Monitor({
      store,
      target: targetFor(() => base),
      audit: new AuditLog(store),
      riskOf: () => 'low',
      home: work,
      sinks: [lineSink((line) => lines.push(line))],
      driftEveryMs: 0,
      pauseOnCritical: false,
    });
    const [report] = await monitor.tick();
    expect(report).toMatchObject({ healthy: false });
    const alerts = (await store.alerts.list({ deploymentId: 'dep_quality' })).filter((a) => a.key === 'quality');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ severity: 'critical' });
    expect(alerts[0]!.message).toContain('quality.maxQuarantineShare');
    expect(lines.filter((line) => line.startsWith(`ALERT CRITICAL ${connectorId} quality:`))).toHaveLength(1);
    // A second look while it still fails does not repeat the alert.
    await monitor.tick();
    expect(lines.filter((line) => line.includes(` quality: `))).toHaveLength(1);
  });
});
