import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployTarget } from '../deploy-target.js';
import { supervisorApi } from './supervisor-api.js';

/** `<home>/supervisor.json`: how a CLI finds the running supervisor (mode 0600: it holds the token). */
export interface SupervisorInfo {
  readonly pid: number;
  readonly url: string;
  readonly token: string;
  readonly startedAt: string;
}

export const supervisorInfoPath = (home: string): string => join(home, 'supervisor.json');

export interface SupervisorServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The control API of `connector-factory serve` on 127.0.0.1: the local target's calls over HTTP, for
 * CLI commands in other processes. Every route but `GET /health` needs the bearer token written to
 * `<home>/supervisor.json`; variable values arrive in POST bodies and are held only in memory.
 */
export async function startSupervisorServer(
  supervisor: DeployTarget,
  options: { readonly home: string; readonly port?: number },
): Promise<SupervisorServer> {
  const token = randomBytes(24).toString('base64url');
  const app = supervisorApi(supervisor, token);
  const server = await new Promise<ServerType>((resolve, reject) => {
    const started = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: options.port ?? 0 }, () => resolve(started));
    started.once('error', reject);
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const infoPath = supervisorInfoPath(options.home);
  await mkdir(options.home, { recursive: true });
  const info: SupervisorInfo = { pid: process.pid, url, token, startedAt: new Date().toISOString() };
  await writeFile(infoPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return {
    url,
    async close() {
      await rm(infoPath, { force: true });
      if ('closeAllConnections' in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
