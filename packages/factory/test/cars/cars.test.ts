import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuditLog,
  Cars,
  DEFAULT_POLICY,
  FactoryError,
  digestOf,
  openStateStore,
  parsePolicy,
  resolveActor,
  type Actor,
  type Policy,
  type StateStore,
} from '@connector-factory/factory';

const POLICY = parsePolicy(
  [
    'defaultRole: viewer',
    'roles:',
    '  alice: operator',
    '  bob: admin',
    '  carol: admin',
    '  dave: admin',
    'actions:',
    '  deploy:staging: critical',
  ].join('\n'),
  'policy.yaml',
);

const stores: StateStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function gate(options: { policy?: Policy; clock?: () => Date; file?: string } = {}) {
  const file = options.file ?? join(mkdtempSync(join(tmpdir(), 'cf-cars-')), 'state.db');
  const store = await openStateStore(file);
  stores.push(store);
  const policy = options.policy ?? POLICY;
  const cars = new Cars(store, policy, new AuditLog(store), options.clock);
  const actor = (name: string): Actor => resolveActor({ flag: name, env: {}, policy });
  return { file, store, cars, actor };
}

const packageDigest = digestOf('package bytes');
const request = (overrides: Partial<Parameters<Cars['requestApproval']>[0]> = {}) => ({
  action: 'deploy',
  resource: 'connector_postgres_orders_v1',
  riskLevel: 'high' as const,
  evidence: { packageDigest, tests: { passed: 12, failed: 0 }, environment: 'prod' },
  requestedBy: 'alice',
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<FactoryError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof FactoryError)) throw new Error(`expected a FactoryError, got ${String(error)}`);
  return error;
}

describe('CARS', () => {
  it('needs an approval for a prod deploy (high) and none for dev (medium)', async () => {
    const { cars } = await gate();
    expect(cars.riskOf('deploy', 'prod')).toBe('high');
    expect(cars.requirementFor('high')).toMatchObject({ approvals: 1, approverRoles: ['admin'] });
    expect(await cars.requestApproval(request({ riskLevel: cars.riskOf('deploy', 'dev') }))).toBeNull();
    const record = await cars.requestApproval(request());
    expect(record).toMatchObject({ status: 'pending', requestedBy: 'alice', riskLevel: 'high', decidedBy: null });
    expect(record!.id).toMatch(/^apr_[0-9a-z]+_[0-9a-f]{12}$/);
    expect(Date.parse(record!.expiresAt) - Date.parse(record!.requestedAt)).toBe(86_400_000);
    // Asking again with the same evidence gives the same request back.
    expect((await cars.requestApproval(request()))?.id).toBe(record!.id);
  });

  it('refuses self-approval and approvers without the role, auditing each refusal; an admin approves', async () => {
    const policy = parsePolicy('roles:\n  alice: admin\n  bob: admin\n  olga: operator\n', 'p.yaml');
    const { cars, store, actor } = await gate({ policy });
    const { id } = (await cars.requestApproval(request()))!;
    const own = await refusal(cars.approve(id, actor('alice')));
    expect(own.code).toBe('forbidden');
    expect(own.message).toBe(`alice requested ${id} and cannot approve it: another admin must`);
    const operator = await refusal(cars.approve(id, actor('olga')));
    expect(operator.code).toBe('forbidden');
    expect(operator.message).toBe(
      'approving high-risk deploy needs the admin role; olga is operator (from the roles in p.yaml)',
    );
    const viewer = await refusal(cars.approve(id, actor('victor')));
    expect(viewer.code).toBe('forbidden');
    expect(viewer.message).toMatch(/victor is viewer \(from the defaultRole of p\.yaml\)$/);
    expect((await store.approvals.get(id))?.status).toBe('pending');

    const record = await cars.approve(id, actor('bob'), 'tests and diff reviewed');
    expect(record).toMatchObject({ status: 'approved', decidedBy: 'bob', reason: 'tests and diff reviewed' });

    const receipts = await store.audit.all();
    expect(receipts.map((r) => [r.action, r.actor, r.result, r.details?.['refusal'] ?? null])).toEqual([
      ['request_approval', 'alice', 'success', null],
      ['approve', 'alice', 'refused', 'own_request'],
      ['approve', 'olga', 'refused', 'role'],
      ['approve', 'victor', 'refused', 'role'],
      ['approve', 'bob', 'success', null],
    ]);
    expect(receipts[4]!.details).toMatchObject({ approvalId: id, for: 'deploy', actorSource: 'flag', approvals: 1 });
    expect(receipts.every((r) => r.inputs['evidence'] === digestOf(record.evidence))).toBe(true);
    expect((await new AuditLog(store).verify()).ok).toBe(true);
  });

  it('needs two distinct admins for a critical action', async () => {
    const { cars, store, actor } = await gate();
    expect(cars.riskOf('deploy', 'staging')).toBe('critical');
    const { id } = (await cars.requestApproval(request({ riskLevel: 'critical' })))!;
    expect((await cars.approve(id, actor('bob'))).status).toBe('pending');
    const twice = await refusal(cars.approve(id, actor('bob')));
    expect(twice).toMatchObject({
      code: 'invalid_input',
      message: `bob has already approved ${id}; it needs 1 more from another admin`,
    });
    const done = await cars.approve(id, actor('carol'), 'second pair of eyes');
    expect(done).toMatchObject({ status: 'approved', decidedBy: 'bob, carol' });
    expect((await store.approvals.votes(id)).map((v) => v.actor)).toEqual(['bob', 'carol']);
    const late = await refusal(cars.approve(id, actor('dave')));
    expect(late).toMatchObject({ code: 'invalid_input', message: `approval ${id} was already approved by bob, carol` });
  });

  it('refuses to approve an expired request', async () => {
    const longAgo = () => new Date(Date.now() - 25 * 3_600_000);
    const old = await gate({ clock: longAgo });
    const { id } = (await old.cars.requestApproval(request()))!;
    const now = await gate({ file: old.file });
    expect((await now.store.approvals.get(id))?.status).toBe('expired');
    const error = await refusal(now.cars.approve(id, now.actor('bob')));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toMatch(
      new RegExp(`^approval ${id} expired at .* without the approvals it needed; run deploy again`),
    );
    expect((await now.store.audit.all()).at(-1)).toMatchObject({ action: 'approve', result: 'refused' });
  });

  it('lets the requester withdraw and an approver reject, but not an operator', async () => {
    const { cars, actor } = await gate();
    const first = (await cars.requestApproval(request()))!;
    expect((await refusal(cars.reject(first.id, actor('olga'), 'no'))).code).toBe('forbidden');
    expect(await cars.reject(first.id, actor('alice'), 'wrong package')).toMatchObject({
      status: 'rejected',
      decidedBy: 'alice',
      reason: 'wrong package',
    });
    const second = (await cars.requestApproval(request({ evidence: { packageDigest, attempt: 2 } })))!;
    expect((await cars.reject(second.id, actor('bob'), 'the diff drops a column')).status).toBe('rejected');
    expect((await refusal(cars.approve(second.id, actor('carol')))).message).toBe(
      `approval ${second.id} was rejected by bob: the diff drops a column; nothing was done`,
    );
    expect(
      (
        await refusal(
          cars.reject(
            second.id,
            actor('alice'),
            'my password is hunter2 eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl',
          ),
        )
      ).code,
    ).toBe('invalid_input');
  });

  it('waitForApproval resolves when another process approves', async () => {
    const requester = await gate();
    const approver = await gate({ file: requester.file });
    const { id } = (await requester.cars.requestApproval(request()))!;
    const waiting = requester.cars.waitForApproval(id, { timeoutMs: 10_000, pollMs: 20 });
    setTimeout(() => void approver.cars.approve(id, approver.actor('bob')), 100);
    expect(await waiting).toMatchObject({ id, status: 'approved', decidedBy: 'bob' });
  });

  it('waitForApproval fails with approval_required on a rejection, a timeout, an expiry or an abort', async () => {
    const requester = await gate();
    const approver = await gate({ file: requester.file });
    const rejected = (await requester.cars.requestApproval(request()))!;
    const waiting = requester.cars.waitForApproval(rejected.id, { timeoutMs: 10_000, pollMs: 20 });
    setTimeout(() => void approver.cars.reject(rejected.id, approver.actor('bob'), 'not today'), 50);
    expect(await refusal(waiting)).toMatchObject({
      code: 'approval_required',
      message: `approval ${rejected.id} was rejected by bob: not today; nothing was done`,
    });

    const pending = (await requester.cars.requestApproval(request({ evidence: { packageDigest, attempt: 2 } })))!;
    const started = Date.now();
    const timedOut = await refusal(requester.cars.waitForApproval(pending.id, { timeoutMs: 150, pollMs: 20 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(timedOut).toMatchObject({ code: 'approval_required' });
    expect(timedOut.message).toMatch(
      `approval ${pending.id} is still pending after 150ms: an approver runs \`connector-factory approvals approve ${pending.id}\``,
    );

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await refusal(
      requester.cars.waitForApproval(pending.id, { pollMs: 1_000, signal: controller.signal }),
    );
    expect(aborted.message).toBe(`stopped waiting for approval ${pending.id}: the wait was cancelled`);

    const old = await gate({ file: requester.file, clock: () => new Date(Date.now() - 25 * 3_600_000) });
    const expired = (await old.cars.requestApproval(request({ evidence: { attempt: 3 } })))!;
    expect((await refusal(requester.cars.waitForApproval(expired.id))).message).toMatch(/expired at/);
  });

  it('findApproved finds an unexpired approval whose evidence carries the digest', async () => {
    const { cars, store, actor } = await gate({ policy: DEFAULT_POLICY });
    const { id } = (await cars.requestApproval(request()))!;
    expect(await cars.findApproved('deploy', 'connector_postgres_orders_v1', packageDigest)).toBeUndefined();
    await cars.approve(id, actor('bob'));
    expect((await cars.findApproved('deploy', 'connector_postgres_orders_v1', packageDigest))?.id).toBe(id);
    expect((await cars.findApproved('deploy', 'connector_postgres_orders_v1'))?.id).toBe(id);
    expect(
      await cars.findApproved('deploy', 'connector_postgres_orders_v1', digestOf('another package')),
    ).toBeUndefined();
    expect(await cars.findApproved('undeploy', 'connector_postgres_orders_v1', packageDigest)).toBeUndefined();
    // Once the request's time is up, the approval no longer lets a re-run through.
    const later = new Cars(store, DEFAULT_POLICY, new AuditLog(store), () => new Date(Date.now() + 25 * 3_600_000));
    expect(await later.findApproved('deploy', 'connector_postgres_orders_v1', packageDigest)).toBeUndefined();
  });

  it('refuses evidence that holds a secret', async () => {
    const { cars } = await gate();
    const error = await refusal(
      cars.requestApproval(request({ evidence: { connection: 'postgresql://app:hunter2@db/shop' } })),
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toMatch(/: connection .*password.*; it never holds secrets/);
  });
});
