import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openStateStore } from '@connector-factory/factory';

// A source that refuses the connection: `create` records the failed step's receipt (redacted), ends with
// the real cause and exits 6 ("source"), and no password lands anywhere in the factory's files.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');

function cli(args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under `dir`, as text. */
function allText(dir: string): string {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((file) => statSync(file).isFile())
    .map((file) => readFileSync(file, 'latin1'))
    .join('\n');
}

const pgUrl = process.env.PG_URL;
const realPassword = pgUrl ? decodeURIComponent(new URL(pgUrl).password) : '';

describe.skipIf(!pgUrl)('create against a PostgreSQL that refuses', () => {
  async function createWith(url: string) {
    const work = mkdtempSync(join(tmpdir(), 'cf-source-'));
    const home = join(work, 'home');
    const env = { CONNECTOR_FACTORY_HOME: home, CONNECTOR_FACTORY_ACTOR: 'ci', SOURCE_TEST_URL: url };
    const run = cli(
      [
        'create',
        'Copy the orders table from Postgres daily',
        '--connection',
        '${SOURCE_TEST_URL}',
        '--out',
        join(work, 'connectors'),
        '--yes',
      ],
      env,
    );
    const store = await openStateStore(join(home, 'state.db'));
    try {
      return { run, env, work, receipts: await store.audit.all() };
    } finally {
      await store.close();
    }
  }

  it('a wrong password: a redacted failure receipt, the cause on the last line, exit 6, no password stored', async () => {
    const wrongPassword = `Wr0ng_${randomBytes(6).toString('hex')}`;
    const wrong = new URL(pgUrl!);
    wrong.password = wrongPassword;
    const { run, env, work, receipts } = await createWith(wrong.toString());

    expect(run.code, run.stderr).toBe(6);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^error: postgres: .*password authentication failed for user "[^"]+"$/);
    expect(lines.at(-1)).toContain(':***@');
    expect(run.stderr).not.toMatch(/refusing to store/);

    const failed = receipts.find((r) => r.action === 'extract_schema');
    expect(failed).toMatchObject({
      result: 'failure',
      details: { error: expect.stringMatching(/password authentication failed/) },
      keyId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(receipts)).not.toContain(wrongPassword);

    for (const text of [run.stdout, run.stderr, allText(work)]) {
      expect(text).not.toContain(wrongPassword);
      expect(text).not.toContain(realPassword);
    }
    // The log with the failure in it is intact and signed.
    const verified = cli(['audit', 'verify', '--json'], env);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, signed: true, receipts: receipts.length });
  });

  it('a server that is down: the refused connection on the last line, exit 6', async () => {
    const down = new URL(pgUrl!);
    down.port = '1';
    const { run, receipts } = await createWith(down.toString());
    expect(run.code, run.stderr).toBe(6);
    expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(/^error: postgres: .*ECONNREFUSED/);
    expect(receipts.find((r) => r.action === 'extract_schema')).toMatchObject({ result: 'failure' });
    expect(run.stderr).not.toContain(realPassword);
  });
});
