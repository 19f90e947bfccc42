import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FactoryError } from '../../../errors.js';
import type { DeployTarget, InstanceSpec, InstanceStatus } from '../deploy-target.js';
import { supervisorInfoPath, type SupervisorInfo } from './supervisor-server.js';
import { setTimeout as delay } from 'node:timers/promises';

/** The local target in another process: `connector-factory serve`, driven over its control API. */
export class RemoteSupervisor implements DeployTarget {
  readonly name = 'local';

  constructor(readonly info: SupervisorInfo) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    let response: Response;
    try {
      response = await fetch(`${this.info.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.info.token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new FactoryError(
        'internal',
        `the local supervisor at ${this.info.url} does not answer (${(error as Error).message}); restart it with \`connector-factory serve\``,
      );
    }
    if (response.status === 404 && method === 'GET') return undefined;
    if (!response.ok) {
      const text = await response.text();
      throw new FactoryError('internal', `the local supervisor refused ${method} ${path}: ${response.status} ${text}`);
    }
    return response.status === 204 ? undefined : ((await response.json()) as T);
  }

  async start(spec: InstanceSpec): Promise<InstanceStatus> {
    return (await this.call<InstanceStatus>('POST', '/instances', spec))!;
  }
  async stop(deploymentId: string): Promise<void> {
    await this.call('DELETE', `/instances/${encodeURIComponent(deploymentId)}`);
  }
  async status(deploymentId: string): Promise<InstanceStatus | undefined> {
    return this.call<InstanceStatus>('GET', `/instances/${encodeURIComponent(deploymentId)}`);
  }
  async list(): Promise<InstanceStatus[]> {
    return (await this.call<InstanceStatus[]>('GET', '/instances')) ?? [];
  }
  async logs(deploymentId: string, lines = 50): Promise<string[]> {
    return (
      (await this.call<string[]>('GET', `/instances/${encodeURIComponent(deploymentId)}/logs?lines=${lines}`)) ?? []
    );
  }
}

/** The supervisor recorded in `<home>/supervisor.json`, when it answers its health check. */
export async function findSupervisor(home: string): Promise<SupervisorInfo | undefined> {
  const text = await readFile(supervisorInfoPath(home), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  let info: SupervisorInfo;
  try {
    info = JSON.parse(text) as SupervisorInfo;
  } catch {
    return undefined;
  }
  try {
    const response = await fetch(`${info.url}/health`, { signal: AbortSignal.timeout(2000) });
    const body = (await response.json()) as { pid?: number };
    return response.ok && body.pid === info.pid ? info : undefined;
  } catch {
    return undefined;
  }
}

/** The compiled entry point of the background supervisor (tests run from sources, so look in dist too). */
function supervisorMain(): string {
  const here = fileURLToPath(new URL('./supervisor-main.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = here.replace(`${'/'}src${'/'}`, '/dist/');
  if (existsSync(built)) return built;
  throw new FactoryError('internal', `cannot find the supervisor entry point (${here}); run \`npm run build\``);
}

/**
 * The running local supervisor, or a new one started in the background (like a process manager's
 * daemon) with this process's environment, its output in `<home>/logs/supervisor.log`.
 */
export async function ensureSupervisor(
  home: string,
  options: {
    readonly state?: string;
    readonly env?: NodeJS.ProcessEnv;
    readonly onStart?: (pid: number, log: string) => void;
  } = {},
): Promise<RemoteSupervisor> {
  const found = await findSupervisor(home);
  if (found) return new RemoteSupervisor(found);
  await mkdir(join(home, 'logs'), { recursive: true });
  const log = join(home, 'logs', 'supervisor.log');
  const fd = openSync(log, 'a');
  const child = spawn(
    process.execPath,
    [supervisorMain(), '--home', home, ...(options.state !== undefined ? ['--state', options.state] : [])],
    { detached: true, stdio: ['ignore', fd, fd], env: options.env ?? process.env },
  );
  closeSync(fd);
  child.unref();
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const info = await findSupervisor(home);
    if (info && info.pid === child.pid) {
      options.onStart?.(info.pid, log);
      return new RemoteSupervisor(info);
    }
    if (child.exitCode !== null) break;
    await delay(100);
  }
  throw new FactoryError('internal', `the local supervisor did not start; see ${log}`);
}
