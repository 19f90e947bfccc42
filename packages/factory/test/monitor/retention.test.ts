import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { LocalSupervisor } from '../../src/agents/deploy/local/local-supervisor.js';
import { Monitor } from '../../src/agents/monitor/monitor.js';
import { openStateStore } from '../../src/store/open-state-store.js';
import { DAY, writeOrdersLake, writeRetentionManifest } from '../support/retention-lake.js';

// The Monitor enforces each running connector's retention once a day, on the table in the
// deployment's working folder, with an audit receipt each time.

describe('Monitor: scheduled retention', () => {
  it('enforces on the first tick, then once a day, running or paused, with a receipt each time', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cf-monitor-retention-'));
    const store = await openStateStore(join(home, 'state.db'));
    try {
      const workingDir = join(home, 'run');
      const packageDir = join(home, 'package');
      mkdirSync(workingDir);
      mkdirSync(packageDir);
      // A relative lake path: the connector (and so retention) resolves it in its working folder.
      writeRetentionManifest(join(packageDir, 'manifest.json'), 'lake/orders');

      const start = Date.now();
      const at = (days: number) => new Date(start - days * DAY).toISOString();
      await writeOrdersLake(join(workingDir, 'lake/orders'), [
        [{ id: 1, _extracted_at: at(45) }],
        [{ id: 2, _extracted_at: at(20) }],
      ]);
      const time = new Date(start).toISOString();
      await store.deployments.insert({
        id: 'dep_retention_1',
        connectorId: 'connector_postgres_orders_v1',
        version: '1.0.0',
        environment: 'dev',
        target: 'local',
        status: 'healthy',
        packageDir,
        workingDir,
        packageDigest: 'sha256:00',
        manifestDigest: 'sha256:00',
        envNames: [],
        instanceId: null,
        endpoint: null,
        healthUrl: null,
        previousDeploymentId: null,
        actor: 'alice',
        lastError: null,
        createdAt: time,
        updatedAt: time,
      });

      let now = new Date(start);
      const monitor = new Monitor({
        store,
        target: new LocalSupervisor({ home }),
        audit: new AuditLog(store),
        riskOf: () => 'medium',
        home,
        sinks: [],
        driftEveryMs: 0,
        clock: () => now,
      });
      const receipts = async () => (await store.audit.all()).filter((r) => r.action === 'enforce_retention');
      const versions = () => readdirSync(join(workingDir, 'lake/orders/_delta_log')).filter((f) => f.endsWith('.json'));

      await monitor.tick();
      const [first, ...others] = await receipts();
      expect(others).toEqual([]);
      expect(first).toMatchObject({
        agent: 'monitor',
        actor: 'monitor',
        resource: 'connector_postgres_orders_v1',
        result: 'success',
        details: { retentionDays: 30, rowsExpired: 1 },
      });
      expect(versions()).toHaveLength(3);

      // Within the day: no second enforcement.
      now = new Date(start + 3_600_000);
      await monitor.tick();
      expect(await receipts()).toHaveLength(1);

      // The look paused it (it runs nowhere, so its freshness SLO breached); its rows age all the same.
      expect((await store.deployments.get('dep_retention_1'))?.status).toBe('paused');
      // Eleven days later the second row is past 30 days too: the next daily enforcement removes it.
      now = new Date(start + 11 * DAY);
      await monitor.tick();
      const all = await receipts();
      expect(all).toHaveLength(2);
      expect(all[1]).toMatchObject({ details: { rowsExpired: 1 } });
      expect(versions()).toHaveLength(4);
    } finally {
      await store.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
