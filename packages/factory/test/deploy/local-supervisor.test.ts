import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalSupervisor, type SupervisorEvent } from '../../src/agents/deploy/local/local-supervisor.js';
import type { InstanceSpec } from '../../src/agents/deploy/deploy-target.js';
import { waitForHealthy } from '../../src/agents/deploy/wait-for-healthy.js';

const probe = fileURLToPath(new URL('./fixtures/probe-connector', import.meta.url));

const until = async (check: () => Promise<boolean> | boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
};

describe('LocalSupervisor', () => {
  let home: string;
  let supervisor: LocalSupervisor;
  let events: SupervisorEvent[];
  const spec = (env: Record<string, string> = {}): InstanceSpec => ({
    deploymentId: 'dep_test_1',
    connectorId: 'connector_probe_v1',
    version: '1.0.0',
    environment: 'dev',
    packageDir: probe,
    workingDir: home,
    env,
  });

  beforeEach(async () => {
    home = await mkdtemp(join(tmpdir(), 'cf-supervisor-'));
    events = [];
    supervisor = new LocalSupervisor({
      home,
      restart: { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 },
      onEvent: (event) => events.push(event),
    });
  });
  afterEach(async () => {
    await supervisor.close();
    await rm(home, { recursive: true, force: true });
  });

  it('starts a connector on its own port and reports it healthy', async () => {
    const started = await supervisor.start(spec());
    expect(started.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/health$/);
    expect(started.instanceId).toBe('local-dep_test_1');
    const health = await waitForHealthy(supervisor, 'dep_test_1', { timeoutMs: 10_000, intervalMs: 50, settleMs: 200 });
    expect(health.healthy).toBe(true);
    const logs = await supervisor.logs('dep_test_1');
    const line = JSON.parse(logs.find((l) => l.includes('listening'))!) as { cwd: string; stateDir: string };
    expect(line.cwd).toBe(home);
    expect(line.stateDir).toBe(join(home, 'state', 'connector_probe_v1', 'dev'));
  });

  it('starts node with the flags the package manifest asks for (a PostgreSQL full refresh: a small young generation)', async () => {
    const packageDir = join(home, 'package');
    await mkdir(join(packageDir, 'dist'), { recursive: true });
    await copyFile(join(probe, 'dist', 'index.js'), join(packageDir, 'dist', 'index.js'));
    // The execArgv of the running instance, from its 'listening' line.
    const listening = async () => {
      let line: string | undefined;
      await until(
        async () =>
          (line = (await supervisor.logs('dep_test_1')).findLast((l) => l.includes('listening'))) !== undefined,
      );
      return (JSON.parse(line!) as { pid?: number; execArgv: string[] }).execArgv;
    };
    await supervisor.start({ ...spec(), packageDir });
    expect(await listening()).toEqual([]);
    await writeFile(
      join(packageDir, 'manifest.json'),
      JSON.stringify({
        source: { provider: 'postgres' },
        schema: { updateStrategy: 'full_refresh', entities: [{ fields: [{ name: 'id' }] }] },
        destination: { writeMode: 'overwrite' },
        governance: { piiHandling: 'mask' },
      }),
    );
    await supervisor.start({ ...spec(), packageDir });
    await until(
      async () => (await supervisor.logs('dep_test_1')).some((l) => l.includes('max-semi-space-size')),
      5_000,
    ).catch(() => undefined);
    expect(await listening()).toEqual(['--max-semi-space-size=8']);
  });

  it('restarts a connector that crashes, on the same endpoint', async () => {
    const started = await supervisor.start(spec());
    await until(async () => (await supervisor.status('dep_test_1'))?.pid !== null);
    const first = (await supervisor.status('dep_test_1'))!.pid!;
    process.kill(first, 'SIGKILL');
    await until(async () => {
      const status = await supervisor.status('dep_test_1');
      return status?.restarts === 1 && status.pid !== null && status.pid !== first;
    });
    const after = (await supervisor.status('dep_test_1'))!;
    expect(after.endpoint).toBe(started.endpoint);
    expect(after.lastExit?.signal).toBe('SIGKILL');
    expect(
      (await waitForHealthy(supervisor, 'dep_test_1', { timeoutMs: 10_000, intervalMs: 50, settleMs: 200 })).healthy,
    ).toBe(true);
    expect(events.some((e) => e.type === 'exited' && e.signal === 'SIGKILL')).toBe(true);
  });

  it('backs off longer after each crash and keeps the last error', async () => {
    await supervisor.start(spec({ PROBE_EXIT: '3' }));
    await until(() => events.filter((e) => e.type === 'exited').length >= 4);
    const waits = events.flatMap((e) => (e.type === 'exited' ? [e.restartInMs] : []));
    expect(waits.slice(0, 4)).toEqual([50, 100, 200, 400]);
    const status = (await supervisor.status('dep_test_1'))!;
    expect(status.lastError).toBe('probe failed on purpose: PROBE_EXIT set');
    const health = await waitForHealthy(supervisor, 'dep_test_1', { timeoutMs: 500, intervalMs: 50, settleMs: 100 });
    expect(health).toMatchObject({ healthy: false });
    expect(health.healthy ? '' : health.reason).toContain('probe failed on purpose');
  });

  it('keeps the port a restored deployment had, when it is free', async () => {
    const first = await supervisor.start(spec());
    const port = Number(new URL(first.endpoint).port);
    await supervisor.stop('dep_test_1');
    const again = await supervisor.start({ ...spec(), port });
    expect(again.endpoint).toBe(first.endpoint);
  });
});
