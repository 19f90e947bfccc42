import { expect, it } from 'vitest';
import {
  AuditLog,
  FactoryError,
  type ApprovalRecord,
  type DeploymentRecord,
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
}
