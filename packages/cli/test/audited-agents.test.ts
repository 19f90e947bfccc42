import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStateStore } from '@connector-factory/factory';
import { main } from '../src/main.js';

// The agents' own commands (discover, schema, generate) leave evidence receipts and obey the policy's roles.
async function cli(...args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    out: (text) => (stdout += `${text}\n`),
    err: (text) => (stderr += `${text}\n`),
  });
  return { code, stdout, stderr };
}

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cf-agents-'));
  writeFileSync(join(dir, 'policy.yaml'), 'defaultRole: viewer\nroles:\n  ops: operator\n');
  vi.stubEnv('CONNECTOR_FACTORY_HOME', dir);
  vi.stubEnv('CONNECTOR_FACTORY_ACTOR', '');
  vi.stubEnv('CONNECTOR_FACTORY_AUDIT_KEY', '');
});
afterEach(() => vi.unstubAllEnvs());

describe('audited agent commands', () => {
  it('records a discovery as a low-risk receipt with the digests of what went in and came out', async () => {
    const { code } = await cli('discover', 'Stream changes from orders table in Postgres', '--json', '--actor', 'ops');
    expect(code).toBe(0);
    const store = await openStateStore(join(dir, 'state.db'));
    try {
      const [receipt] = await store.audit.all();
      expect(receipt).toMatchObject({
        action: 'discover',
        agent: 'discovery',
        actor: 'ops',
        resource: 'postgres',
        riskLevel: 'low',
        result: 'success',
        inputs: { description: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
        outputs: { sourceManifest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      });
    } finally {
      await store.close();
    }
  });

  it('refuses a viewer with exit 4 and one line, and records nothing', async () => {
    const { code, stdout, stderr } = await cli('discover', 'orders table in Postgres', '--actor', 'vic');
    expect(code).toBe(4);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'error: discovering a source needs the operator role; vic is viewer (from the defaultRole of ' +
        join(dir, 'policy.yaml') +
        ')\n',
    );
    const store = await openStateStore(join(dir, 'state.db'));
    try {
      expect(await store.audit.all()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('records a generation that fails as a failure receipt', async () => {
    // A valid manifest of a source kind with no template yet: the codegen agent refuses it.
    const example = fileURLToPath(new URL('../../../examples/salesforce-opportunity.json', import.meta.url));
    const { code, stderr } = await cli('generate', example, '--out', join(dir, 'out'), '--actor', 'ops');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^error: .*template/m);
    const store = await openStateStore(join(dir, 'state.db'));
    try {
      const [receipt] = await store.audit.all();
      expect(receipt).toMatchObject({
        action: 'generate',
        agent: 'codegen',
        actor: 'ops',
        riskLevel: 'medium',
        result: 'failure',
      });
      expect((receipt!.details as { error: string }).error).toMatch(/template/);
    } finally {
      await store.close();
    }
  });
});

describe('connector-factory create without a terminal', () => {
  it('asks for --yes instead of deploying unasked (exit 2, one line)', async () => {
    const { code, stdout, stderr } = await cli('create', 'orders table in Postgres', '--actor', 'ops');
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('error: create asks before it deploys: pass --yes when it runs without a terminal\n');
  });
});

describe('monitor commands with a bad argument', () => {
  // These errors used to be commander's, thrown inside an action: exit 2 and nothing printed.
  it('names a connector that was never deployed (exit 1, one line)', async () => {
    const { code, stderr } = await cli('status', 'connector_nope_v1');
    expect(code).toBe(1);
    expect(stderr).toBe('error: no deployment of connector_nope_v1; see `connector-factory deployments --all`\n');
  });

  it('names the certification actions (exit 2, one line)', async () => {
    const { code, stderr } = await cli('certify', 'connector_nope_v1', 'frobnicate');
    expect(code).toBe(2);
    expect(stderr).toBe('error: "frobnicate" is not a certification action: review, approve, reject or retry\n');
  });
});
