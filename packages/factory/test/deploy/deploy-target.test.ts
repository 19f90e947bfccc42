import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalSupervisor } from '../../src/agents/deploy/local/local-supervisor.js';
import { RemoteSupervisor } from '../../src/agents/deploy/local/supervisor-client.js';
import { startSupervisorServer } from '../../src/agents/deploy/local/supervisor-server.js';
import { readFile } from 'node:fs/promises';
import { deployTargetContract } from './deploy-target-contract.js';

const restart = { initialMs: 50, maxMs: 400, resetAfterMs: 60_000 };

deployTargetContract('local supervisor', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cf-target-'));
  const target = new LocalSupervisor({ home, restart });
  return {
    target,
    workingDir: home,
    async close() {
      await target.close();
      await rm(home, { recursive: true, force: true });
    },
  };
});

deployTargetContract('local supervisor over its control API', async () => {
  const home = await mkdtemp(join(tmpdir(), 'cf-target-remote-'));
  const local = new LocalSupervisor({ home, restart });
  const server = await startSupervisorServer(local, { home });
  const info = JSON.parse(await readFile(join(home, 'supervisor.json'), 'utf8'));
  return {
    target: new RemoteSupervisor(info),
    workingDir: home,
    async close() {
      await server.close();
      await local.close();
      await rm(home, { recursive: true, force: true });
    },
  };
});
