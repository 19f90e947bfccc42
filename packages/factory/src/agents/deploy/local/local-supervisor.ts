import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { connectorNodeFlags, type NodeFlagInputs } from '@connector-factory/runtime/node-flags';
import { BUNDLE_ENTRY } from '../build-package.js';
import type { DeployTarget, InstanceSpec, InstanceState, InstanceStatus } from '../deploy-target.js';
import { freePort } from './free-port.js';

export interface RestartPolicy {
  /** First wait after a crash. Default 1000 ms. */
  readonly initialMs: number;
  /** Longest wait. Default 30 000 ms. */
  readonly maxMs: number;
  /** A run this long resets the wait to initialMs. Default 60 000 ms. */
  readonly resetAfterMs: number;
}

/** Something that happened to an instance, for the supervisor's own log and for tests. */
export type SupervisorEvent =
  | { readonly type: 'started'; readonly deploymentId: string; readonly pid: number; readonly port: number }
  | {
      readonly type: 'exited';
      readonly deploymentId: string;
      readonly code: number | null;
      readonly signal: string | null;
      readonly restartInMs: number | null;
    }
  | { readonly type: 'stopped'; readonly deploymentId: string };

export interface LocalSupervisorOptions {
  /** Logs go to `<home>/logs/<connectorId>.log`, checkpoints to `<home>/state/<connectorId>/<environment>`. */
  readonly home: string;
  readonly restart?: Partial<RestartPolicy>;
  /** Variables every connector gets besides its declared ones. Default PATH, HOME, LANG, TZ of this process. */
  readonly baseEnv?: Readonly<Record<string, string>>;
  readonly onEvent?: (event: SupervisorEvent) => void;
}

interface Instance {
  spec: InstanceSpec;
  /** Node flags from the package's manifest, read once at start (restarts reuse them). */
  nodeFlags: readonly string[];
  port: number;
  child: ChildProcess | undefined;
  state: InstanceState;
  restarts: number;
  startedAt: string;
  runStartedAt: number;
  waitMs: number;
  lastExit: InstanceStatus['lastExit'];
  lastError: string | null;
  recent: string[];
  timer: NodeJS.Timeout | undefined;
  log: WriteStream;
  exited: Promise<void> | undefined;
}

const RECENT_LINES = 200;

function defaultBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'LANG', 'TZ']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

/** The node flags the package's manifest asks for (connectorNodeFlags); none without a readable manifest. */
function nodeFlagsOf(packageDir: string): string[] {
  let manifest: NodeFlagInputs;
  try {
    manifest = JSON.parse(readFileSync(join(packageDir, 'manifest.json'), 'utf8')) as NodeFlagInputs;
  } catch {
    // The connector reads its manifest itself and says what is wrong with it.
    return [];
  }
  try {
    return connectorNodeFlags(manifest);
  } catch {
    return [];
  }
}

/** A build's bundle when it has one (the Deploy agent makes it), else the compiled entry point. */
function entryOf(packageDir: string): string {
  const bundle = join(packageDir, BUNDLE_ENTRY);
  return existsSync(bundle) ? bundle : join(packageDir, 'dist', 'index.js');
}

/** The message of a connector's last stderr line: its JSON log `msg`/`error`, or the plain text. */
function errorLine(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown; error?: unknown; message?: unknown };
    const error = parsed.error as { message?: unknown } | string | undefined;
    const detail = typeof error === 'string' ? error : typeof error?.message === 'string' ? error.message : undefined;
    const msg = typeof parsed.msg === 'string' ? parsed.msg : typeof parsed.message === 'string' ? parsed.message : '';
    return detail !== undefined ? `${msg}: ${detail}` : msg || line;
  } catch {
    return line;
  }
}

/**
 * The local deploy target: runs each connector as a child process (its bundle, else `node dist/index.js`) on a port of
 * its own, which keeps its schedule (cron with seconds, interval, continuous, event on POST /trigger)
 * itself; restarts it with exponential backoff when it exits; appends its output to a log file and
 * keeps the last lines. Used in-process (tests, `demo`) or inside `connector-factory serve`.
 */
export class LocalSupervisor implements DeployTarget {
  readonly name = 'local';
  private readonly instances = new Map<string, Instance>();
  private readonly policy: RestartPolicy;
  private readonly baseEnv: Readonly<Record<string, string>>;
  private closed = false;

  constructor(private readonly options: LocalSupervisorOptions) {
    this.policy = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000, ...options.restart };
    this.baseEnv = options.baseEnv ?? defaultBaseEnv();
  }

  async start(spec: InstanceSpec): Promise<InstanceStatus> {
    if (this.closed) throw new Error('the supervisor is shutting down');
    await this.stop(spec.deploymentId);
    const logDir = join(this.options.home, 'logs');
    await mkdir(logDir, { recursive: true });
    await mkdir(this.stateDir(spec), { recursive: true });
    const instance: Instance = {
      spec,
      nodeFlags: nodeFlagsOf(spec.packageDir),
      port: await freePort('127.0.0.1', spec.port ?? 0),
      child: undefined,
      state: 'starting',
      restarts: 0,
      startedAt: new Date().toISOString(),
      runStartedAt: 0,
      waitMs: this.policy.initialMs,
      lastExit: null,
      lastError: null,
      recent: [],
      timer: undefined,
      log: createWriteStream(join(logDir, `${spec.connectorId}.log`), { flags: 'a' }),
      exited: undefined,
    };
    this.instances.set(spec.deploymentId, instance);
    this.launch(instance);
    return this.statusOf(instance);
  }

  async stop(deploymentId: string): Promise<void> {
    const instance = this.instances.get(deploymentId);
    if (!instance) return;
    this.instances.delete(deploymentId);
    instance.state = 'stopped';
    clearTimeout(instance.timer);
    const child = instance.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill('SIGTERM');
      await instance.exited;
      clearTimeout(killer);
    }
    await new Promise<void>((resolve) => instance.log.end(resolve));
    this.options.onEvent?.({ type: 'stopped', deploymentId });
  }

  async status(deploymentId: string): Promise<InstanceStatus | undefined> {
    const instance = this.instances.get(deploymentId);
    return instance ? this.statusOf(instance) : undefined;
  }

  async list(): Promise<InstanceStatus[]> {
    return [...this.instances.values()].map((instance) => this.statusOf(instance));
  }

  async logs(deploymentId: string, lines = 50): Promise<string[]> {
    const instance = this.instances.get(deploymentId);
    if (instance) return instance.recent.slice(-lines);
    return [];
  }

  /** Stops every instance (the supervisor's own shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.instances.keys()].map((id) => this.stop(id)));
  }

  private stateDir(spec: InstanceSpec): string {
    // Shared by every version of a connector in one environment, so an upgrade or a rollback resumes
    // from the last checkpoint instead of starting over.
    return join(this.options.home, 'state', spec.connectorId, spec.environment);
  }

  private launch(instance: Instance): void {
    const { spec } = instance;
    const env: Record<string, string> = {
      ...this.baseEnv,
      ...spec.env,
      PORT: String(instance.port),
      CF_STATE_DIR: this.stateDir(spec),
    };
    const child = spawn(
      process.execPath,
      [
        ...instance.nodeFlags,
        entryOf(spec.packageDir),
        '--health-port',
        String(instance.port),
        '--state-dir',
        env.CF_STATE_DIR!,
      ],
      // Its own process group: a Ctrl-C meant for the supervisor's terminal is the supervisor's to act on.
      { cwd: spec.workingDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    instance.child = child;
    instance.state = 'running';
    instance.runStartedAt = Date.now();
    instance.exited = new Promise((resolve) => child.once('close', () => resolve()));
    const keep = (stream: NodeJS.ReadableStream | null, isError: boolean) => {
      let pending = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        instance.log.write(chunk);
        const parts = (pending + chunk).split('\n');
        pending = parts.pop() ?? '';
        for (const line of parts) {
          if (line === '') continue;
          instance.recent.push(line);
          if (instance.recent.length > RECENT_LINES) instance.recent.shift();
          if (isError && /"level":"error"|^error:/.test(line)) instance.lastError = errorLine(line);
        }
      });
    };
    keep(child.stdout, false);
    keep(child.stderr, true);
    child.once('error', (error) => {
      instance.lastError = `could not start node: ${error.message}`;
    });
    if (child.pid !== undefined) {
      this.options.onEvent?.({ type: 'started', deploymentId: spec.deploymentId, pid: child.pid, port: instance.port });
    }
    child.once('close', (code, signal) => {
      instance.lastExit = { code, signal, at: new Date().toISOString() };
      if (instance.state === 'stopped' || this.instances.get(spec.deploymentId) !== instance) return;
      const ranMs = Date.now() - instance.runStartedAt;
      if (ranMs >= this.policy.resetAfterMs) instance.waitMs = this.policy.initialMs;
      const wait = instance.waitMs;
      instance.waitMs = Math.min(instance.waitMs * 2, this.policy.maxMs);
      instance.state = 'backoff';
      instance.restarts += 1;
      this.options.onEvent?.({ type: 'exited', deploymentId: spec.deploymentId, code, signal, restartInMs: wait });
      instance.timer = setTimeout(() => {
        if (instance.state === 'backoff' && !this.closed) this.launch(instance);
      }, wait);
    });
  }

  private statusOf(instance: Instance): InstanceStatus {
    const endpoint = `http://127.0.0.1:${instance.port}`;
    const pid = instance.state === 'running' ? (instance.child?.pid ?? null) : null;
    return {
      deploymentId: instance.spec.deploymentId,
      connectorId: instance.spec.connectorId,
      version: instance.spec.version,
      instanceId: `local-${instance.spec.deploymentId}`,
      state: instance.state,
      pid,
      restarts: instance.restarts,
      endpoint,
      healthUrl: `${endpoint}/health`,
      metricsUrl: `${endpoint}/metrics`,
      startedAt: instance.startedAt,
      lastExit: instance.lastExit,
      lastError: instance.lastError,
    };
  }
}
