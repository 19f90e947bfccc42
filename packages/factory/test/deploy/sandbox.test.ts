import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSandboxedTests } from '../../src/agents/deploy/sandbox.js';

// A package whose compiled tests probe the sandbox: where they may write, what environment they see.
async function packageWith(tests: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'cf-sandbox-pkg-'));
  await mkdir(join(dir, '.test-build', 'tests'), { recursive: true });
  for (const [name, body] of Object.entries(tests)) {
    await writeFile(
      join(dir, '.test-build', 'tests', `${name}.test.js`),
      `import test from 'node:test';\nimport assert from 'node:assert';\nimport fs from 'node:fs';\nimport os from 'node:os';\nimport path from 'node:path';\n${body}\n`,
    );
  }
  return dir;
}

describe('runSandboxedTests', () => {
  let outside: string;
  beforeAll(async () => {
    outside = await mkdtemp(join(tmpdir(), 'cf-sandbox-outside-'));
    process.env.CF_SANDBOX_PROBE_SECRET = 'not-for-the-tests';
  });
  afterAll(async () => {
    delete process.env.CF_SANDBOX_PROBE_SECRET;
    await rm(outside, { recursive: true, force: true });
  });

  it('lets tests write their own temporary folder and see only PATH and the declared variables', async () => {
    const dir = await packageWith({
      inside: `test('writes its temp folder', () => { fs.writeFileSync(path.join(os.tmpdir(), 'x.txt'), 'x'); });
test('sees the declared variable, not the others', () => {
  assert.strictEqual(process.env.DECLARED_URL, 'postgresql://u:p@h/db');
  assert.strictEqual(process.env.CF_SANDBOX_PROBE_SECRET, undefined);
  assert.ok(process.env.PATH);
});`,
    });
    const report = await runSandboxedTests(dir, { env: { DECLARED_URL: 'postgresql://u:p@h/db' }, timeoutMs: 60_000 });
    expect(report).toMatchObject({ passed: true, pass: 2, fail: 0, timedOut: false });
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a write outside the sandbox and keeps no declared value in its evidence', async () => {
    const target = join(outside, 'escaped.txt');
    const dir = await packageWith({
      outside: `test('writes outside', () => { console.log('url is ' + process.env.DECLARED_URL); fs.writeFileSync(${JSON.stringify(target)}, 'x'); });`,
    });
    const report = await runSandboxedTests(dir, { env: { DECLARED_URL: 'postgresql://u:p@h/db' }, timeoutMs: 60_000 });
    expect(report).toMatchObject({ passed: false, fail: 1 });
    expect(report.outputTail.join('\n')).toContain('ERR_ACCESS_DENIED');
    expect(report.outputTail.join('\n')).not.toContain('postgresql://u:p@h/db');
    await expect(import('node:fs').then((fs) => fs.existsSync(target))).resolves.toBe(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('kills tests that run past the time limit', async () => {
    const dir = await packageWith({
      slow: `test('never ends', async () => { await new Promise(() => setInterval(() => {}, 1000)); });`,
    });
    const report = await runSandboxedTests(dir, { env: {}, timeoutMs: 1500 });
    expect(report).toMatchObject({ passed: false, timedOut: true });
    await rm(dir, { recursive: true, force: true });
  });
});
