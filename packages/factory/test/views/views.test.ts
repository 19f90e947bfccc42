import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateStore } from '../../src/store/open-state-store.js';
import type { StateStore } from '../../src/store/state-store.js';
import { certificationEvidence, connectorStatuses, deploymentOf } from '../../src/views/index.js';
import { alert, deployment } from '../store/state-store-contract.js';

describe('read models', () => {
  let home: string;
  let store: StateStore;
  const now = Date.parse('2026-06-01T12:00:00.000Z');
  const minutesAgo = (m: number) => new Date(now - m * 60_000).toISOString();

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cf-views-'));
    store = await openStateStore(join(home, 'state.db'));
    await store.deployments.insert(deployment('dep_old', { status: 'stopped', createdAt: minutesAgo(600) }));
    await store.deployments.insert(
      deployment('dep_new', { status: 'healthy', version: '1.1.0', createdAt: minutesAgo(60) }),
    );
    await store.deployments.insert(
      deployment('dep_other', {
        status: 'unhealthy',
        connectorId: 'connector_mysql_customers_v1',
        createdAt: minutesAgo(30),
        lastError: 'ECONNREFUSED',
      }),
    );
    await store.monitor.recordCheck({
      deploymentId: 'dep_new',
      time: minutesAgo(2),
      healthy: false,
      latencyMs: 3,
      reason: 'old',
    });
    await store.monitor.recordCheck({
      deploymentId: 'dep_new',
      time: minutesAgo(1),
      healthy: true,
      latencyMs: 3,
      reason: null,
    });
    await store.monitor.recordCheck({
      deploymentId: 'dep_other',
      time: minutesAgo(90),
      healthy: true,
      latencyMs: 3,
      reason: null,
    });
    await store.monitor.saveMetrics({
      deploymentId: 'dep_new',
      time: minutesAgo(1),
      metrics: { lastSuccessfulRun: minutesAgo(5), recordsExtracted: 10 },
    });
    await store.alerts.insert(
      alert('alr_1', { deploymentId: 'dep_new', key: 'slo:freshness', firstAt: minutesAgo(3) }),
    );
    await store.alerts.insert(
      alert('alr_2', {
        deploymentId: 'dep_new',
        key: 'auth',
        state: 'resolved',
        resolvedAt: minutesAgo(2),
        firstAt: minutesAgo(4),
      }),
    );
    await store.certifications.insert({
      deploymentId: 'dep_new',
      connectorId: 'connector_postgres_orders_v1',
      version: '1.1.0',
      state: 'MONITORING',
      windowMs: 86_400_000,
      monitoringSince: minutesAgo(50),
      reason: null,
      decidedBy: null,
      updatedAt: minutesAgo(50),
    });
  });
  afterEach(async () => {
    await store.close();
    await rm(home, { recursive: true, force: true });
  });

  it('a connector id means its newest deployment; an unknown name is not_found', async () => {
    expect((await deploymentOf(store, 'connector_postgres_orders_v1')).id).toBe('dep_new');
    expect((await deploymentOf(store, 'dep_old')).id).toBe('dep_old');
    await expect(deploymentOf(store, 'connector_nope_v1')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('status of every deployed connector: health, SLOs, certification, last run, last error', async () => {
    const rows = await connectorStatuses(store, undefined, now);
    expect(rows.map((r) => r.deploymentId).sort()).toEqual(['dep_new', 'dep_other']);
    expect(rows.find((r) => r.deploymentId === 'dep_new')).toEqual({
      connectorId: 'connector_postgres_orders_v1',
      deploymentId: 'dep_new',
      version: '1.1.0',
      environment: 'dev',
      status: 'healthy',
      health: 'ok',
      slos: 'freshness breached',
      certification: 'MONITORING',
      lastRun: minutesAgo(5),
      lastError: null,
      firingAlerts: ['slo:freshness'],
    });
    // A check older than an hour does not count.
    expect(rows.find((r) => r.deploymentId === 'dep_other')).toMatchObject({
      health: 'not checked yet',
      slos: '–',
      lastError: 'ECONNREFUSED',
      certification: null,
    });
  });

  it('status of one connector by name, stopped or not', async () => {
    expect((await connectorStatuses(store, 'dep_old', now)).map((r) => r.status)).toEqual(['stopped']);
  });

  it('certification evidence: last metrics, every alert, the record', async () => {
    const evidence = await certificationEvidence(store, 'dep_new');
    expect(evidence.metrics).toMatchObject({ recordsExtracted: 10 });
    expect(evidence.alerts.map((a) => [a.key, a.state])).toEqual(
      expect.arrayContaining([
        ['slo:freshness', 'firing'],
        ['auth', 'resolved'],
      ]),
    );
    expect(evidence.certification?.state).toBe('MONITORING');
    expect(await certificationEvidence(store, 'dep_none')).toEqual({ metrics: null, alerts: [], certification: null });
  });
});
