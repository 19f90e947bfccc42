import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { LocalSupervisor } from '../../src/agents/deploy/local/local-supervisor.js';
import { Monitor } from '../../src/agents/monitor/monitor.js';
import { openStateStore } from '../../src/store/open-state-store.js';

describe('Monitor.run', () => {
  it('keeps no abort listener per tick (it runs for months)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cf-monitor-run-'));
    const store = await openStateStore(join(home, 'state.db'));
    try {
      const monitor = new Monitor({
        store,
        target: new LocalSupervisor({ home }),
        audit: new AuditLog(store),
        riskOf: () => 'low',
        home,
        sinks: [],
      });
      const controller = new AbortController();
      let ticks = 0;
      const tick = monitor.tick.bind(monitor);
      monitor.tick = async () => {
        ticks++;
        return tick();
      };
      const running = monitor.run(2, controller.signal);
      while (ticks < 30) await new Promise((resolve) => setTimeout(resolve, 5));
      // Each tick used to add one; only the pending wait may hold one now.
      expect(getEventListeners(controller.signal, 'abort').length).toBeLessThanOrEqual(1);
      controller.abort();
      await running;
    } finally {
      await store.close();
      await rm(home, { recursive: true, force: true });
    }
  });
});
