import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuditLog,
  Cars,
  digestOf,
  loadAuditSigner,
  loadPolicy,
  openStateStore,
  type ApprovalRecord,
} from '@connector-factory/factory';
import { receiptHash } from '../../factory/src/audit/receipt-hash.js';
import { cli } from './support/in-process.js';

let dir = '';
let state = '';
let policy = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-gov-'));
  state = join(dir, 'state.db');
  policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'defaultRole: viewer\nroles:\n  alice: operator\n  bob: admin\n  carol: admin\n');
  vi.stubEnv('CONNECTOR_FACTORY_HOME', dir);
  vi.stubEnv('CONNECTOR_FACTORY_ACTOR', '');
  vi.stubEnv('CONNECTOR_FACTORY_AUDIT_KEY', '');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A prod deploy waiting for approval, requested by alice, as the Deploy agent would open it. */
async function pendingDeploy(attempt = 1): Promise<ApprovalRecord> {
  const store = await openStateStore(state);
  try {
    const cars = new Cars(store, await loadPolicy({ file: policy }), new AuditLog(store, loadAuditSigner()));
    const record = await cars.requestApproval({
      action: 'deploy',
      resource: 'connector_postgres_orders_v1',
      riskLevel: cars.riskOf('deploy', 'prod'),
      evidence: { packageDigest: digestOf(`package ${attempt}`), tests: { passed: 7, failed: 0 } },
      requestedBy: 'alice',
    });
    return record!;
  } finally {
    await store.close();
  }
}

const common = () => ['--state', state, '--policy', policy];

/** The receipts as the store holds them now. */
async function openReceipts() {
  const store = await openStateStore(state);
  try {
    return await store.audit.all();
  } finally {
    await store.close();
  }
}

describe('connector-factory approvals', () => {
  it('lists and shows a pending request with its evidence', async () => {
    const { id } = await pendingDeploy();
    const list = await cli('approvals', 'list', ...common());
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+STATUS\s+RISK\s+ACTION\s+RESOURCE\s+REQUESTED BY\s+EXPIRES\s+APPROVALS\n/);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toMatch(/pending\s+high\s+deploy\s+connector_postgres_orders_v1\s+alice\s+\S+\s+0\/1\n$/);
    const json = JSON.parse((await cli('approvals', 'list', '--json', ...common())).stdout);
    expect(json).toMatchObject([{ id, status: 'pending', required: 1, votes: [] }]);
    expect((await cli('approvals', 'list', '--status', 'approved', ...common())).stdout).toBe(
      'no approved approval requests\n',
    );

    const show = await cli('approvals', 'show', id, ...common());
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('deploy connector_postgres_orders_v1 (high risk)');
    expect(show.stdout).toContain('approvals     0 of 1');
    expect(show.stdout).toMatch(/evidence\n\s+\{\n\s+"packageDigest": "sha256:[0-9a-f]{64}",/);
    expect(await cli('approvals', 'show', 'apr_nope', ...common())).toMatchObject({ code: 1 });
  });

  it('refuses self-approval and the wrong role with exit 4; an admin approves; a second decision exits 1', async () => {
    const { id } = await pendingDeploy();
    const own = await cli('approvals', 'approve', id, '--actor', 'alice', ...common());
    expect(own).toEqual({
      code: 4,
      stdout: '',
      stderr: `error: alice requested ${id} and cannot approve it: another admin must\n`,
    });
    const viewer = await cli('approvals', 'approve', id, '--actor', 'victor', ...common());
    expect(viewer.code).toBe(4);
    expect(viewer.stderr).toMatch(/needs the admin role; victor is viewer \(from the defaultRole of .*policy\.yaml\)/);

    const ok = await cli('approvals', 'approve', id, '--actor', 'bob', '--reason', 'tests reviewed', ...common());
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toBe(`approved ${id} (deploy connector_postgres_orders_v1); run the deploy again to go ahead\n`);
    const again = await cli('approvals', 'reject', id, '--actor', 'carol', '--reason', 'too late', ...common());
    expect(again).toMatchObject({ code: 1, stderr: `error: approval ${id} was already approved by bob\n` });
    const listed = JSON.parse((await cli('approvals', 'list', '--status', 'all', '--json', ...common())).stdout);
    expect(listed[0]).toMatchObject({
      status: 'approved',
      decidedBy: 'bob',
      votes: [{ actor: 'bob', reason: 'tests reviewed' }],
    });
  });

  it('rejects with a reason, which is required', async () => {
    const { id } = await pendingDeploy();
    const missing = await cli('approvals', 'reject', id, '--actor', 'bob', ...common());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--reason <text>' not specified/);
    const done = await cli('approvals', 'reject', id, '--actor', 'bob', '--reason', 'drops a column', ...common());
    expect(done).toMatchObject({ code: 0, stdout: `rejected ${id} (deploy connector_postgres_orders_v1)\n` });
  });

  it('names the policy file and line of a bad policy', async () => {
    writeFileSync(policy, 'roles:\n  alice: root\n');
    const result = await cli('approvals', 'list', ...common());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: invalid policy: .*policy\.yaml:2:3: roles\.alice: expected one of viewer, operator, admin/,
    );
  });
});

describe('connector-factory audit', () => {
  it('lists receipts and verifies an intact log, then names a deleted receipt with exit 1', async () => {
    const { id } = await pendingDeploy();
    await cli('approvals', 'approve', id, '--actor', 'alice', ...common());
    await cli('approvals', 'approve', id, '--actor', 'bob', ...common());
    const list = await cli('audit', 'list', ...common());
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^SEQ\s+TIME\s+ACTION\s+AGENT\s+ACTOR\s+RESOURCE\s+RISK\s+RESULT\s+SIGNED$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).filter((_, i) => [0, 2, 4, 7].includes(i)))).toEqual([
      ['1', 'request_approval', 'alice', 'success'],
      ['2', 'approve', 'alice', 'refused'],
      ['3', 'approve', 'bob', 'success'],
    ]);
    expect(JSON.parse((await cli('audit', 'list', '--limit', '1', '--json', ...common())).stdout)).toMatchObject([
      { seq: 3, action: 'approve', actor: 'bob' },
    ]);
    expect(await cli('audit', 'verify', ...common())).toEqual({
      code: 0,
      stdout: expect.stringMatching(
        /^audit log intact: 3 receipts, signed, signatures checked against sha256:[0-9a-f]{64}\n$/,
      ),
      stderr: '',
    });

    const db = new Database(state);
    db.exec('delete from cf_audit_receipts where seq = 2');
    db.close();
    expect(await cli('audit', 'verify', ...common())).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'broken: receipt 2 is missing (deleted): receipt 3 follows receipt 1\naudit log broken: 1 problem in 2 receipts\n',
    });
    const json = await cli('audit', 'verify', '--json', ...common());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, problems: [{ seq: 2, kind: 'missing' }] });
  });

  it('keygen writes a 0600 key; with it set, receipts are signed and verify against the public key', async () => {
    const out = join(dir, 'keys', 'audit.pem');
    const keygen = await cli('audit', 'keygen', '--out', out);
    expect(keygen.code).toBe(0);
    expect(keygen.stdout).toMatch(
      new RegExp(
        `^wrote the private key ${out} \\(mode 0600\\) and the public key ${out}\\.pub\\nkey id sha256:[0-9a-f]{64}\\n`,
      ),
    );
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(await cli('audit', 'keygen', '--out', out)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/already exists/),
    });

    vi.stubEnv('CONNECTOR_FACTORY_AUDIT_KEY', out);
    const { id } = await pendingDeploy();
    expect((await cli('approvals', 'approve', id, '--actor', 'carol', ...common())).code).toBe(0);
    const verified = await cli('audit', 'verify', '--public-key', `${out}.pub`, ...common());
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^audit log intact: 2 receipts, signed, signatures checked against sha256:[0-9a-f]{64}\n$/,
    );

    const other = join(dir, 'other.pem');
    await cli('audit', 'keygen', '--out', other);
    const wrongKey = await cli('audit', 'verify', '--public-key', `${other}.pub`, ...common());
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(
      /^broken: receipt 1 is signed by sha256:[0-9a-f]{64}, not by the verification key\nbroken: receipt 2 /,
    );
    expect(await cli('audit', 'verify', '--public-key', join(dir, 'none.pub'), ...common())).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/none\.pub: cannot read the public key: no such file/),
    });
  });

  it('signs with the default key: audit head prints the head and its signature, verify --head catches a rewrite', async () => {
    expect(await cli('audit', 'head', ...common())).toMatchObject({ code: 0, stdout: 'the audit log is empty\n' });
    const { id } = await pendingDeploy();
    expect((await cli('approvals', 'approve', id, '--actor', 'carol', ...common())).code).toBe(0);

    const head = await cli('audit', 'head', ...common());
    expect(head.code).toBe(0);
    expect(head.stdout).toMatch(
      /^receipt {4}2 \(\S+\)\nhash {7}[0-9a-f]{64}\nsignature {2}[A-Za-z0-9+/]+=*\nkey {8}sha256:[0-9a-f]{64}\n/,
    );
    const kept = JSON.parse((await cli('audit', 'head', '--json', ...common())).stdout) as Record<string, unknown>;
    expect(kept).toMatchObject({
      seq: 2,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      signature: expect.any(String),
      keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(head.stdout).toContain(`audit verify --head 2:${kept.hash as string}`);
    const intact = await cli('audit', 'verify', '--head', `2:${kept.hash as string}`, ...common());
    expect(intact).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/signed, .*; nothing was rewritten up to the head you kept \(receipt 2\)\n$/),
    });

    // Someone with write access to the state store but not the key rewrites receipt 1 and every hash after it.
    const receipts = await openReceipts();
    const db = new Database(state);
    let prevHash = '0'.repeat(64);
    for (const receipt of receipts) {
      const body = { ...receipt, prevHash, actor: receipt.seq === 1 ? 'mallory' : receipt.actor };
      const hash = receiptHash(body);
      db.prepare(
        'update cf_audit_receipts set actor = ?, prev_hash = ?, hash = ?, signature = null, key_id = null where seq = ?',
      ).run(body.actor, prevHash, hash, receipt.seq);
      prevHash = hash;
    }
    db.prepare('update cf_audit_head set hash = ? where id = 1').run(prevHash);
    db.close();

    const plain = await cli('audit', 'verify', ...common());
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^broken: no receipt is signed, yet receipt 1 was recorded .* after signing began/);
    const anchored = await cli('audit', 'verify', '--head', kept.hash as string, '--json', ...common());
    expect(anchored.code).toBe(1);
    expect(JSON.parse(anchored.stdout)).toMatchObject({
      ok: false,
      anchor: { hash: kept.hash, found: false },
      problems: expect.arrayContaining([expect.objectContaining({ kind: 'rewritten' })]),
    });
    expect(await cli('audit', 'verify', '--head', 'abc', ...common())).toMatchObject({ code: 2 });
  });

  it('documents the exit statuses', async () => {
    const help = await cli('--help');
    expect(help.stdout).toContain('4 forbidden by policy');
    expect(help.stdout).toContain('5 waiting for an approval');
    expect(help.stdout).toContain('6 the source database refused');
  });
});
