import { expect, it } from 'vitest';
import {
  AuditLog,
  FactoryError,
  type AlertRecord,
  type ApprovalRecord,
  type CertificationRecord,
  type DeploymentRecord,
  type DriftReport,
  type RegistryEntry,
  type StateStore,
} from '@connector-factory/factory';

/** Opens one more store on the same database (a second process, as far as the store can tell). */
export type OpenStore = () => Promise<StateStore>;

const digest = (char: string) => `sha256:${char.repeat(64)}`;

export function deployment(id: string, overrides: Partial<DeploymentRecord> = {}): DeploymentRecord {
  return {
    id,
    connectorId: 'connector_postgres_orders_v1',
    version: '1.0.0',
    environment: 'dev',
    target: 'local',
    status: 'building',
    packageDir: '/srv/builds/orders',
    workingDir: '/srv/work',
    packageDigest: digest('a'),
    manifestDigest: digest('b'),
    envNames: ['PG_URL', 'CF_PII_HASH_KEY'],
    instanceId: null,
    endpoint: null,
    healthUrl: null,
    previousDeploymentId: null,
    actor: 'alice',
    lastError: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function approval(id: string, overrides: Partial<ApprovalRecord> = {}): ApprovalRecord {
  const now = Date.now();
  return {
    id,
    action: 'deploy',
    resource: 'connector_postgres_orders_v1',
    riskLevel: 'high',
    evidence: { packageDigest: digest('c'), tests: { passed: 3, failed: 0 }, diff: [{ path: '$', change: 'added' }] },
    requestedBy: 'alice',
    requestedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 3_600_000).toISOString(),
    status: 'pending',
    decidedBy: null,
    decidedAt: null,
    reason: null,
    ...overrides,
  };
}

export function alert(id: string, overrides: Partial<AlertRecord> = {}): AlertRecord {
  return {
    id,
    deploymentId: 'dep_1',
    connectorId: 'connector_postgres_orders_v1',
    key: 'slo:freshness',
    severity: 'warning',
    state: 'firing',
    message: 'freshness 14 min exceeds the 10 min objective',
    details: { measuredMs: 840_000, objectiveMs: 600_000, window: '1h', samples: [1.5, null, 'x'] },
    firstAt: '2026-01-01T00:00:00.000Z',
    lastAt: '2026-01-01T00:00:00.000Z',
    resolvedAt: null,
    ...overrides,
  };
}

export function driftReport(id: string, overrides: Partial<DriftReport> = {}): DriftReport {
  return {
    id,
    connectorId: 'connector_postgres_orders_v1',
    deploymentId: 'dep_1',
    time: '2026-01-01T00:00:00.000Z',
    classification: 'non_breaking',
    changes: [
      { entity: 'orders', field: 'note', change: 'added', from: null, to: 'text', breaking: false, why: 'new column' },
    ],
    action: 'proposed',
    proposedVersion: '1.1.0',
    proposedManifestPath: '/srv/manifests/orders-1.1.0.yaml',
    ...overrides,
  };
}

export function certification(deploymentId: string, overrides: Partial<CertificationRecord> = {}): CertificationRecord {
  return {
    deploymentId,
    connectorId: 'connector_postgres_orders_v1',
    version: '1.0.0',
    state: 'PENDING',
    windowMs: 86_400_000,
    monitoringSince: null,
    reason: null,
    decidedBy: null,
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export function registryEntry(version: string, overrides: Partial<RegistryEntry> = {}): RegistryEntry {
  return {
    connectorId: 'connector_postgres_orders_v1',
    version,
    deploymentId: 'dep_1',
    manifestDigest: digest('e'),
    evidence: { slo: { freshness: { ok: true, p95Ms: 420_000 } }, errorRate: 0.001, checks: 1440 },
    certifier: 'certification',
    certifiedAt: '2026-01-02T00:00:00.000Z',
    ...overrides,
  };
}

const receipt = (n: number) => ({
  action: 'deploy',
  agent: 'deploy',
  actor: 'alice',
  resource: `connector_${n}`,
  riskLevel: 'medium' as const,
  inputs: { package: digest('d') },
  outputs: {},
  result: 'success' as const,
  details: { n, nested: { z: 1, a: [true, null, 'x'] } },
});

/**
 * The behaviour every state store backend must have. `open` opens a store on one fresh database; it is
 * called several times per test (a second instance stands for a second process). Stores are closed here.
 */
export function stateStoreContract(open: OpenStore): void {
  const withStores = async (count: number, run: (...stores: StateStore[]) => Promise<void>) => {
    const stores: StateStore[] = [];
    try {
      for (let i = 0; i < count; i++) stores.push(await open());
      await run(...stores);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  };

  it('opens twice (migrations are idempotent) and keeps what was written', async () => {
    await withStores(1, async (store) => {
      await store.deployments.insert(deployment('dep_a'));
    });
    await withStores(2, async (a, b) => {
      expect((await a.deployments.get('dep_a'))?.connectorId).toBe('connector_postgres_orders_v1');
      expect((await b.deployments.get('dep_a'))?.envNames).toEqual(['PG_URL', 'CF_PII_HASH_KEY']);
    });
  });

  it('stores deployments: insert, get, update, list newest first with filters', async () => {
    await withStores(1, async (store) => {
      await store.deployments.insert(deployment('dep_1', { createdAt: '2026-01-01T00:00:01.000Z' }));
      await store.deployments.insert(
        deployment('dep_2', { createdAt: '2026-01-01T00:00:02.000Z', environment: 'prod', status: 'healthy' }),
      );
      await store.deployments.insert(
        deployment('dep_3', { createdAt: '2026-01-01T00:00:03.000Z', connectorId: 'connector_other_v1' }),
      );
      expect(await store.deployments.get('dep_missing')).toBeUndefined();
      expect((await store.deployments.list()).map((d) => d.id)).toEqual(['dep_3', 'dep_2', 'dep_1']);
      expect((await store.deployments.list({ connectorId: 'connector_postgres_orders_v1' })).map((d) => d.id)).toEqual([
        'dep_2',
        'dep_1',
      ]);
      expect((await store.deployments.list({ statuses: ['healthy', 'failed'] })).map((d) => d.id)).toEqual(['dep_2']);
      expect(await store.deployments.list({ statuses: [] })).toEqual([]);
      expect((await store.deployments.list({ environment: 'prod' })).map((d) => d.id)).toEqual(['dep_2']);

      const updated = await store.deployments.update('dep_1', {
        status: 'healthy',
        instanceId: 'local-1',
        endpoint: 'http://127.0.0.1:4000',
        healthUrl: 'http://127.0.0.1:4000/health',
        lastError: null,
      });
      expect(updated).toMatchObject({ status: 'healthy', instanceId: 'local-1', lastError: null, version: '1.0.0' });
      expect(updated.updatedAt > updated.createdAt).toBe(true);
      expect(await store.deployments.get('dep_1')).toEqual(updated);
      await expect(store.deployments.update('dep_missing', { status: 'failed' })).rejects.toMatchObject({
        code: 'not_found',
      });
      // A duplicate id is a caller's bug: reported with the store's location, not a raw driver error.
      const duplicate = await store.deployments.insert(deployment('dep_1')).catch((e: unknown) => e);
      expect(duplicate).toBeInstanceOf(FactoryError);
      expect((duplicate as FactoryError).message).toContain(store.location);
    });
  });

  it('stores approvals; a pending request past expiresAt reads as expired', async () => {
    await withStores(1, async (store) => {
      const past = new Date(Date.now() - 60_000).toISOString();
      await store.approvals.insert(approval('apr_live', { requestedAt: '2026-01-01T00:00:02.000Z' }));
      await store.approvals.insert(
        approval('apr_old', { requestedAt: '2026-01-01T00:00:01.000Z', expiresAt: past, resource: 'other' }),
      );
      expect(await store.approvals.get('apr_live')).toEqual(
        approval('apr_live', {
          requestedAt: '2026-01-01T00:00:02.000Z',
          expiresAt: (await store.approvals.get('apr_live'))!.expiresAt,
        }),
      );
      expect((await store.approvals.get('apr_old'))?.status).toBe('expired');
      expect((await store.approvals.list()).map((a) => a.id)).toEqual(['apr_live', 'apr_old']);
      expect((await store.approvals.list({ status: 'pending' })).map((a) => a.id)).toEqual(['apr_live']);
      expect((await store.approvals.list({ status: 'expired' })).map((a) => a.id)).toEqual(['apr_old']);
      expect((await store.approvals.list({ resource: 'other' })).map((a) => a.id)).toEqual(['apr_old']);
      expect(await store.approvals.get('apr_missing')).toBeUndefined();
    });
  });

  it('decides a pending request once; votes count once per approver and only while pending', async () => {
    await withStores(2, async (a, b) => {
      await a.approvals.insert(approval('apr_1'));
      await a.approvals.insert(approval('apr_2', { expiresAt: new Date(Date.now() - 1000).toISOString() }));
      const votedAt = new Date().toISOString();
      expect(await a.approvals.vote('apr_1', { actor: 'bob', votedAt, reason: null })).toBe(true);
      expect(await b.approvals.vote('apr_1', { actor: 'bob', votedAt, reason: 'again' })).toBe(false);
      expect(await b.approvals.vote('apr_1', { actor: 'carol', votedAt, reason: 'looks right' })).toBe(true);
      expect(await a.approvals.votes('apr_1')).toEqual([
        { actor: 'bob', votedAt, reason: null },
        { actor: 'carol', votedAt, reason: 'looks right' },
      ]);
      const decision = { status: 'approved' as const, decidedBy: 'bob, carol', decidedAt: votedAt, reason: null };
      const [first, second] = await Promise.all([
        a.approvals.decide('apr_1', decision),
        b.approvals.decide('apr_1', { ...decision, status: 'rejected' }),
      ]);
      expect([first, second].sort()).toEqual([false, true]);
      const decided = await a.approvals.get('apr_1');
      expect(decided?.status).toBe(first ? 'approved' : 'rejected');
      expect(await a.approvals.vote('apr_1', { actor: 'dave', votedAt, reason: null })).toBe(false);
      // Expired: neither a vote nor a decision lands.
      expect(await a.approvals.vote('apr_2', { actor: 'bob', votedAt, reason: null })).toBe(false);
      expect(await a.approvals.decide('apr_2', decision)).toBe(false);
      expect((await a.approvals.get('apr_2'))?.status).toBe('expired');
    });
  });

  it('chains audit receipts from the genesis hash, signs them when asked, and records the head', async () => {
    await withStores(1, async (store) => {
      expect(await store.audit.head()).toBeUndefined();
      expect(await store.audit.all()).toEqual([]);
      const first = await store.audit.append(receipt(1));
      const second = await store.audit.append(receipt(2), (hash) => ({ signature: `sig:${hash}`, keyId: 'sha256:k' }));
      const third = await store.audit.append({ ...receipt(3), details: undefined });
      expect(first).toMatchObject({ seq: 1, prevHash: '0'.repeat(64), signature: null, keyId: null });
      expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(second).toMatchObject({
        seq: 2,
        prevHash: first.hash,
        signature: `sig:${second.hash}`,
        keyId: 'sha256:k',
      });
      expect(third.prevHash).toBe(second.hash);
      expect(third).not.toHaveProperty('details');
      expect(await store.audit.all()).toEqual([first, second, third]);
      expect(await store.audit.head()).toEqual({ seq: 3, hash: third.hash });
      // The chain holds; the one finding is the unsigned receipt after a signed one.
      expect((await new AuditLog(store).verify()).problems.map((p) => [p.seq, p.kind])).toEqual([[3, 'unsigned']]);
    });
  });

  it('chains correctly when two stores append at the same time', async () => {
    await withStores(2, async (a, b) => {
      const appends = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? a : b).audit.append(receipt(i)));
      const receipts = await Promise.all(appends);
      expect(receipts.map((r) => r.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      const verification = await new AuditLog(b).verify();
      expect(verification.problems).toEqual([]);
      expect(verification.receipts).toBe(40);
    });
  });

  it('records health checks and metrics snapshots: oldest first from a time, latest snapshot', async () => {
    await withStores(2, async (a, b) => {
      const check = (time: string, healthy: boolean, overrides: object = {}) => ({
        deploymentId: 'dep_1',
        time,
        healthy,
        latencyMs: 12.5,
        reason: healthy ? null : 'GET /health: connect ECONNREFUSED',
        ...overrides,
      });
      // Written out of order, by two stores: reads sort by time.
      await a.monitor.recordCheck(check('2026-01-01T00:00:03.000Z', true, { latencyMs: 7 }));
      await b.monitor.recordCheck(check('2026-01-01T00:00:01.000Z', false));
      await a.monitor.recordCheck(check('2026-01-01T00:00:02.000Z', true));
      await a.monitor.recordCheck(check('2026-01-01T00:00:02.500Z', true, { deploymentId: 'dep_2' }));
      expect(await b.monitor.checks('dep_1', '2026-01-01T00:00:00.000Z')).toEqual([
        check('2026-01-01T00:00:01.000Z', false),
        check('2026-01-01T00:00:02.000Z', true),
        check('2026-01-01T00:00:03.000Z', true, { latencyMs: 7 }),
      ]);
      // `since` is inclusive.
      expect((await a.monitor.checks('dep_1', '2026-01-01T00:00:02.000Z')).map((c) => c.time)).toEqual([
        '2026-01-01T00:00:02.000Z',
        '2026-01-01T00:00:03.000Z',
      ]);
      expect(await a.monitor.checks('dep_missing', '2026-01-01T00:00:00.000Z')).toEqual([]);

      expect(await a.monitor.latestMetrics('dep_1')).toBeUndefined();
      const snapshot = (time: string, requests: number, deploymentId = 'dep_1') => ({
        deploymentId,
        time,
        metrics: { requests, errors: { auth: 0, source: requests / 10 }, lagMs: null, streams: ['orders'] },
      });
      await a.monitor.saveMetrics(snapshot('2026-01-01T00:01:00.000Z', 20));
      await b.monitor.saveMetrics(snapshot('2026-01-01T00:00:00.000Z', 10));
      await a.monitor.saveMetrics(snapshot('2026-01-01T00:02:00.000Z', 30));
      await a.monitor.saveMetrics(snapshot('2026-01-01T00:03:00.000Z', 99, 'dep_2'));
      expect(await b.monitor.latestMetrics('dep_1')).toEqual(snapshot('2026-01-01T00:02:00.000Z', 30));
      expect(await a.monitor.metricsSince('dep_1', '2026-01-01T00:01:00.000Z')).toEqual([
        snapshot('2026-01-01T00:01:00.000Z', 20),
        snapshot('2026-01-01T00:02:00.000Z', 30),
      ]);
      expect(await a.monitor.metricsSince('dep_1', '2026-01-01T01:00:00.000Z')).toEqual([]);
    });
  });

  it('stores alerts: insert, the firing one per key, update, list newest first with filters', async () => {
    await withStores(1, async (store) => {
      await store.alerts.insert(alert('alr_1', { firstAt: '2026-01-01T00:00:01.000Z' }));
      await store.alerts.insert(
        alert('alr_2', { firstAt: '2026-01-01T00:00:02.000Z', key: 'auth', severity: 'critical', details: {} }),
      );
      await store.alerts.insert(
        alert('alr_3', {
          firstAt: '2026-01-01T00:00:03.000Z',
          deploymentId: 'dep_9',
          connectorId: 'connector_other_v1',
          state: 'resolved',
          resolvedAt: '2026-01-01T00:00:04.000Z',
        }),
      );
      expect(await store.alerts.firing('dep_1', 'slo:freshness')).toEqual(
        alert('alr_1', { firstAt: '2026-01-01T00:00:01.000Z' }),
      );
      expect((await store.alerts.firing('dep_1', 'auth'))?.id).toBe('alr_2');
      expect(await store.alerts.firing('dep_9', 'slo:freshness')).toBeUndefined(); // resolved
      expect(await store.alerts.firing('dep_1', 'drift:breaking')).toBeUndefined();
      expect((await store.alerts.list()).map((a) => a.id)).toEqual(['alr_3', 'alr_2', 'alr_1']);
      expect((await store.alerts.list({ deploymentId: 'dep_1' })).map((a) => a.id)).toEqual(['alr_2', 'alr_1']);
      expect((await store.alerts.list({ connectorId: 'connector_other_v1' })).map((a) => a.id)).toEqual(['alr_3']);
      expect((await store.alerts.list({ state: 'firing' })).map((a) => a.id)).toEqual(['alr_2', 'alr_1']);
      expect((await store.alerts.list({ deploymentId: 'dep_1', state: 'resolved' })).map((a) => a.id)).toEqual([]);

      const escalated = await store.alerts.update('alr_1', {
        severity: 'critical',
        message: 'freshness 40 min',
        details: { measuredMs: 2_400_000 },
        lastAt: '2026-01-01T00:10:00.000Z',
      });
      expect(escalated).toEqual(
        alert('alr_1', {
          firstAt: '2026-01-01T00:00:01.000Z',
          severity: 'critical',
          message: 'freshness 40 min',
          details: { measuredMs: 2_400_000 },
          lastAt: '2026-01-01T00:10:00.000Z',
        }),
      );
      const resolved = await store.alerts.update('alr_1', {
        state: 'resolved',
        resolvedAt: '2026-01-01T00:20:00.000Z',
        lastAt: '2026-01-01T00:20:00.000Z',
      });
      expect(resolved).toMatchObject({
        state: 'resolved',
        resolvedAt: '2026-01-01T00:20:00.000Z',
        severity: 'critical',
      });
      expect(await store.alerts.firing('dep_1', 'slo:freshness')).toBeUndefined();
      expect((await store.alerts.list({ state: 'resolved' })).map((a) => a.id)).toEqual(['alr_3', 'alr_1']);
      expect(await store.alerts.update('alr_1', {})).toEqual(resolved);

      // Once resolved, the same condition may fire again as a new alert.
      await store.alerts.insert(alert('alr_4', { firstAt: '2026-01-01T00:30:00.000Z' }));
      expect((await store.alerts.firing('dep_1', 'slo:freshness'))?.id).toBe('alr_4');

      const missing = await store.alerts.update('alr_missing', { state: 'resolved' }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(FactoryError);
      expect(missing).toMatchObject({ code: 'not_found', message: expect.stringContaining('alr_missing') });
      await expect(store.alerts.update('alr_missing', {})).rejects.toMatchObject({ code: 'not_found' });
    });
  });

  it('lets only one alert fire per deployment and key', async () => {
    await withStores(2, async (a, b) => {
      const results = await Promise.allSettled([
        a.alerts.insert(alert('alr_a')),
        b.alerts.insert(alert('alr_b')),
        a.alerts.insert(alert('alr_c', { key: 'auth' })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'fulfilled', 'rejected']);
      const rejected = results.find((r) => r.status === 'rejected');
      expect(rejected?.reason).toBeInstanceOf(FactoryError);
      expect((await a.alerts.list({ state: 'firing' })).map((x) => x.key).sort()).toEqual(['auth', 'slo:freshness']);
    });
  });

  it('stores drift reports: newest first, filtered by connector and deployment', async () => {
    await withStores(1, async (store) => {
      await store.drift.insert(driftReport('drf_1', { time: '2026-01-01T00:00:01.000Z' }));
      await store.drift.insert(
        driftReport('drf_2', {
          time: '2026-01-01T00:00:02.000Z',
          deploymentId: 'dep_2',
          classification: 'breaking',
          action: 'paused',
          proposedVersion: null,
          proposedManifestPath: null,
        }),
      );
      await store.drift.insert(
        driftReport('drf_3', {
          time: '2026-01-01T00:00:03.000Z',
          connectorId: 'connector_other_v1',
          deploymentId: 'dep_3',
          classification: 'none',
          changes: [],
          action: 'none',
          proposedVersion: null,
          proposedManifestPath: null,
        }),
      );
      const all = await store.drift.list();
      expect(all.map((d) => d.id)).toEqual(['drf_3', 'drf_2', 'drf_1']);
      expect(all[2]).toEqual(driftReport('drf_1', { time: '2026-01-01T00:00:01.000Z' }));
      expect(all[0]?.changes).toEqual([]);
      expect(all[1]).toMatchObject({ classification: 'breaking', action: 'paused', proposedVersion: null });
      expect((await store.drift.list({ connectorId: 'connector_postgres_orders_v1' })).map((d) => d.id)).toEqual([
        'drf_2',
        'drf_1',
      ]);
      expect((await store.drift.list({ deploymentId: 'dep_2' })).map((d) => d.id)).toEqual(['drf_2']);
      expect(await store.drift.list({ connectorId: 'connector_other_v1', deploymentId: 'dep_2' })).toEqual([]);
    });
  });

  it('stores certifications: one per deployment, update, list newest first with filters', async () => {
    await withStores(1, async (store) => {
      // A window longer than 24.8 days does not fit a 32-bit integer.
      await store.certifications.insert(
        certification('dep_1', { updatedAt: '2026-01-01T00:00:01.000Z', windowMs: 30 * 86_400_000 }),
      );
      await store.certifications.insert(
        certification('dep_2', {
          updatedAt: '2026-01-01T00:00:02.000Z',
          state: 'MONITORING',
          monitoringSince: '2026-01-01T00:00:02.000Z',
        }),
      );
      await store.certifications.insert(
        certification('dep_3', { updatedAt: '2026-01-01T00:00:03.000Z', connectorId: 'connector_other_v1' }),
      );
      expect(await store.certifications.get('dep_1')).toEqual(
        certification('dep_1', { updatedAt: '2026-01-01T00:00:01.000Z', windowMs: 30 * 86_400_000 }),
      );
      expect(await store.certifications.get('dep_missing')).toBeUndefined();
      expect((await store.certifications.list()).map((c) => c.deploymentId)).toEqual(['dep_3', 'dep_2', 'dep_1']);
      expect(
        (await store.certifications.list({ connectorId: 'connector_postgres_orders_v1' })).map((c) => c.deploymentId),
      ).toEqual(['dep_2', 'dep_1']);
      expect((await store.certifications.list({ state: 'MONITORING' })).map((c) => c.deploymentId)).toEqual(['dep_2']);
      expect(await store.certifications.list({ connectorId: 'connector_other_v1', state: 'CERTIFIED' })).toEqual([]);

      // The patch's updatedAt is kept; without one the store stamps the time of the update.
      const monitoring = await store.certifications.update('dep_1', {
        state: 'MONITORING',
        monitoringSince: '2026-01-02T00:00:00.000Z',
        updatedAt: '2026-01-02T00:00:00.000Z',
      });
      expect(monitoring).toEqual(
        certification('dep_1', {
          state: 'MONITORING',
          windowMs: 30 * 86_400_000,
          monitoringSince: '2026-01-02T00:00:00.000Z',
          updatedAt: '2026-01-02T00:00:00.000Z',
        }),
      );
      const before = new Date().toISOString();
      const certified = await store.certifications.update('dep_2', {
        state: 'CERTIFIED',
        reason: 'no SLO breach in 24 h',
        decidedBy: 'certification',
      });
      expect(certified).toMatchObject({
        state: 'CERTIFIED',
        reason: 'no SLO breach in 24 h',
        decidedBy: 'certification',
      });
      expect(certified.monitoringSince).toBe('2026-01-01T00:00:02.000Z');
      expect(certified.updatedAt >= before).toBe(true);
      expect(await store.certifications.get('dep_2')).toEqual(certified);
      expect((await store.certifications.list()).map((c) => c.deploymentId)).toEqual(['dep_2', 'dep_1', 'dep_3']);

      const missing = await store.certifications.update('dep_missing', { state: 'FAILED' }).catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(FactoryError);
      expect(missing).toMatchObject({ code: 'not_found', message: expect.stringContaining('dep_missing') });
      // One per deployment: a second insert is refused.
      await expect(store.certifications.insert(certification('dep_1'))).rejects.toBeInstanceOf(FactoryError);
    });
  });

  it('stores registry entries: put replaces a version, get, list newest first', async () => {
    await withStores(2, async (a, b) => {
      await a.registry.put(registryEntry('1.0.0', { certifiedAt: '2026-01-02T00:00:00.000Z' }));
      await a.registry.put(registryEntry('1.1.0', { certifiedAt: '2026-01-03T00:00:00.000Z', deploymentId: 'dep_2' }));
      await b.registry.put(
        registryEntry('2.0.0', { connectorId: 'connector_other_v1', certifiedAt: '2026-01-04T00:00:00.000Z' }),
      );
      expect(await b.registry.get('connector_postgres_orders_v1', '1.0.0')).toEqual(
        registryEntry('1.0.0', { certifiedAt: '2026-01-02T00:00:00.000Z' }),
      );
      expect(await b.registry.get('connector_postgres_orders_v1', '9.9.9')).toBeUndefined();
      expect(await b.registry.get('connector_other_v1', '1.0.0')).toBeUndefined();
      expect((await a.registry.list()).map((e) => `${e.connectorId}@${e.version}`)).toEqual([
        'connector_other_v1@2.0.0',
        'connector_postgres_orders_v1@1.1.0',
        'connector_postgres_orders_v1@1.0.0',
      ]);
      expect((await a.registry.list('connector_postgres_orders_v1')).map((e) => e.version)).toEqual(['1.1.0', '1.0.0']);
      expect(await a.registry.list('connector_missing')).toEqual([]);

      // Re-certifying a version replaces its entry: still one row per (connector, version).
      const recertified = registryEntry('1.0.0', {
        deploymentId: 'dep_7',
        manifestDigest: digest('f'),
        evidence: { recertified: true },
        certifier: 'bob',
        certifiedAt: '2026-01-05T00:00:00.000Z',
      });
      await b.registry.put(recertified);
      expect(await a.registry.get('connector_postgres_orders_v1', '1.0.0')).toEqual(recertified);
      expect((await a.registry.list('connector_postgres_orders_v1')).map((e) => e.version)).toEqual(['1.0.0', '1.1.0']);
      expect(await a.registry.list()).toHaveLength(3);
    });
  });
}
