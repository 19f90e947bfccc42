import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeployTarget, InstanceSpec } from '../../src/agents/deploy/deploy-target.js';
import { waitForHealthy } from '../../src/agents/deploy/wait-for-healthy.js';

/** The stand-in connector: serves /health, fails with PROBE_EXIT, reports failing with PROBE_HEALTH=failing. */
export const PROBE_PACKAGE = fileURLToPath(new URL('./fixtures/probe-connector', import.meta.url));

export interface OpenedTarget {
  readonly target: DeployTarget;
  /** The folder deployments run in (their workingDir). */
  readonly workingDir: string;
  close(): Promise<void>;
}

const until = async (check: () => Promise<boolean> | boolean, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
};

/**
 * What every deploy target (the local supervisor, in process or over its control API; Kubernetes) must
 * do with the same calls, so the Deploy agent does not need to know which one it drives.
 */
export function deployTargetContract(name: string, open: () => Promise<OpenedTarget>): void {
  describe(`DeployTarget contract: ${name}`, () => {
    let opened: OpenedTarget;
    const spec = (deploymentId: string, env: Record<string, string> = {}): InstanceSpec => ({
      deploymentId,
      connectorId: 'connector_probe_v1',
      version: '1.0.0',
      environment: 'dev',
      packageDir: PROBE_PACKAGE,
      workingDir: opened.workingDir,
      env,
    });

    beforeEach(async () => {
      opened = await open();
    });
    afterEach(async () => {
      for (const instance of await opened.target.list()) await opened.target.stop(instance.deploymentId);
      await opened.close();
    });

    it('starts an instance that becomes healthy, and lists it', async () => {
      const started = await opened.target.start(spec('dep_contract_a'));
      expect(started).toMatchObject({
        deploymentId: 'dep_contract_a',
        connectorId: 'connector_probe_v1',
        version: '1.0.0',
      });
      expect(started.healthUrl).toMatch(/^https?:\/\/.+\/health$/);
      const health = await waitForHealthy(opened.target, 'dep_contract_a', {
        timeoutMs: 15_000,
        intervalMs: 50,
        settleMs: 200,
      });
      expect(health.healthy).toBe(true);
      expect((await opened.target.list()).map((i) => i.deploymentId)).toEqual(['dep_contract_a']);
      expect((await opened.target.status('dep_contract_a'))?.state).toBe('running');
    });

    it('hands the declared variables to the instance', async () => {
      await opened.target.start(spec('dep_contract_env', { PROBE_EXIT: '4' }));
      await until(async () => (await opened.target.status('dep_contract_env'))?.lastError != null);
      expect((await opened.target.status('dep_contract_env'))!.lastError).toBe(
        'probe failed on purpose: PROBE_EXIT set',
      );
    });

    it('restarts an instance that exits, counting restarts and keeping its endpoint', async () => {
      const started = await opened.target.start(spec('dep_contract_crash', { PROBE_EXIT: '3' }));
      await until(async () => ((await opened.target.status('dep_contract_crash'))?.restarts ?? 0) >= 2);
      const status = (await opened.target.status('dep_contract_crash'))!;
      expect(status.endpoint).toBe(started.endpoint);
      expect(status.lastExit?.code).toBe(3);
      const health = await waitForHealthy(opened.target, 'dep_contract_crash', {
        timeoutMs: 500,
        intervalMs: 50,
        settleMs: 100,
      });
      expect(health.healthy).toBe(false);
    });

    it('replaces an instance started again with the same deployment id', async () => {
      await opened.target.start(spec('dep_contract_same', { PROBE_EXIT: '5' }));
      await opened.target.start(spec('dep_contract_same'));
      expect(
        (await waitForHealthy(opened.target, 'dep_contract_same', { timeoutMs: 15_000, intervalMs: 50, settleMs: 200 }))
          .healthy,
      ).toBe(true);
      expect((await opened.target.list()).filter((i) => i.deploymentId === 'dep_contract_same')).toHaveLength(1);
    });

    it('returns the lines the instance logged', async () => {
      await opened.target.start(spec('dep_contract_logs'));
      await until(async () => (await opened.target.logs('dep_contract_logs')).some((l) => l.includes('listening')));
      expect((await opened.target.logs('dep_contract_logs', 1)).length).toBeLessThanOrEqual(1);
    });

    it('stops an instance and forgets it; stopping an unknown one is a no-op', async () => {
      await opened.target.start(spec('dep_contract_stop'));
      await waitForHealthy(opened.target, 'dep_contract_stop', { timeoutMs: 15_000, intervalMs: 50, settleMs: 100 });
      const { healthUrl } = (await opened.target.status('dep_contract_stop'))!;
      await opened.target.stop('dep_contract_stop');
      expect(await opened.target.status('dep_contract_stop')).toBeUndefined();
      expect(await opened.target.list()).toEqual([]);
      await expect(fetch(healthUrl, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
      await opened.target.stop('dep_contract_never');
      expect(await opened.target.logs('dep_contract_never')).toEqual([]);
    });
  });
}
