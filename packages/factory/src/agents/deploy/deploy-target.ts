import type { Environment } from '../../records/index.js';

/** What a target needs to run one deployment of a connector. Env values travel here and are never stored. */
export interface InstanceSpec {
  readonly deploymentId: string;
  readonly connectorId: string;
  readonly version: string;
  readonly environment: Environment;
  /** The built package (its `dist/index.js` is the entry point). */
  readonly packageDir: string;
  /** The folder the connector runs in: relative lake paths resolve against it. */
  readonly workingDir: string;
  /** The variables the manifest declares, with their values. */
  readonly env: Readonly<Record<string, string>>;
  /** The port it had before (a restored deployment keeps its health URL when the port is still free). */
  readonly port?: number;
}

export type InstanceState = 'starting' | 'running' | 'backoff' | 'stopped';

/** A running (or restarting) deployment as its target sees it. */
export interface InstanceStatus {
  readonly deploymentId: string;
  readonly connectorId: string;
  readonly version: string;
  /** Local: `local-<deploymentId>` (stable across restarts); Kubernetes: the pod name. */
  readonly instanceId: string;
  readonly state: InstanceState;
  readonly pid: number | null;
  readonly restarts: number;
  /** `http://host:port` of the connector's health server, stable across restarts. */
  readonly endpoint: string;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  readonly startedAt: string;
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: string } | null;
  /** The last line the connector wrote to stderr before it exited, when it exited. */
  readonly lastError: string | null;
}

/**
 * Where connectors run. Every target (local supervisor, Kubernetes) answers the same calls, so the
 * Deploy agent does not know which one it drives.
 */
export interface DeployTarget {
  /** 'local' | 'kubernetes' */
  readonly name: string;
  /** Starts the instance (or replaces one with the same deployment id) and returns at once. */
  start(spec: InstanceSpec): Promise<InstanceStatus>;
  /** Stops it and waits for it to exit; no-op when unknown. */
  stop(deploymentId: string): Promise<void>;
  status(deploymentId: string): Promise<InstanceStatus | undefined>;
  list(): Promise<InstanceStatus[]>;
  /** The last lines the connector logged (JSON lines, as it wrote them). */
  logs(deploymentId: string, lines?: number): Promise<string[]>;
}

/**
 * The spec a stored deployment runs with: its build, its folder, its port (kept when free), and the
 * values of its declared variables from `env` — or the names of those `env` lacks.
 */
export function instanceSpecOf(
  record: {
    readonly id: string;
    readonly connectorId: string;
    readonly version: string;
    readonly environment: Environment;
    readonly packageDir: string;
    readonly workingDir: string;
    readonly envNames: readonly string[];
    readonly endpoint: string | null;
  },
  env: NodeJS.ProcessEnv,
): { spec: InstanceSpec; missing: [] } | { spec: undefined; missing: string[] } {
  const missing = record.envNames.filter((name) => env[name] === undefined || env[name] === '');
  if (missing.length > 0) return { spec: undefined, missing };
  const port = record.endpoint !== null ? Number(new URL(record.endpoint).port) : 0;
  return {
    spec: {
      deploymentId: record.id,
      connectorId: record.connectorId,
      version: record.version,
      environment: record.environment,
      packageDir: record.packageDir,
      workingDir: record.workingDir,
      env: Object.fromEntries(record.envNames.map((name) => [name, env[name]!])),
      ...(port > 0 ? { port } : {}),
    },
    missing: [],
  };
}
