import type { Environment } from './environment.js';

export type DeploymentStatus =
  | 'building' // install, typecheck, bundle, sandboxed tests
  | 'awaiting_approval' // a CARS gate holds it
  | 'starting' // handed to the target, not healthy yet
  | 'healthy'
  | 'unhealthy' // running, failing its health check
  | 'failed' // never became healthy (build, tests, health) and was not rolled back to
  | 'rolled_back' // failed and the previous version runs again
  | 'superseded' // a newer version of the connector replaced it
  | 'paused' // stopped on purpose, may be resumed (monitor: breaking drift, critical SLO breach)
  | 'stopped'; // undeployed

export interface DeploymentRecord {
  /** `dep_<time>_<random>` */
  readonly id: string;
  readonly connectorId: string;
  readonly version: string;
  readonly environment: Environment;
  readonly target: string; // 'local' | 'kubernetes'
  readonly status: DeploymentStatus;
  /** The deployed copy of the built package (local target); never the user's working copy. */
  readonly packageDir: string;
  /** Folder the connector runs in (relative lake paths resolve against it). */
  readonly workingDir: string;
  /** sha256 of the package's files (path + bytes, sorted), `sha256:<hex>`. */
  readonly packageDigest: string;
  readonly manifestDigest: string;
  /** Names (never values) of the environment variables the connector is given. */
  readonly envNames: readonly string[];
  readonly instanceId: string | null;
  readonly endpoint: string | null;
  readonly healthUrl: string | null;
  readonly previousDeploymentId: string | null;
  readonly actor: string;
  readonly lastError: string | null;
  /** ISO-8601 UTC */
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type DeploymentPatch = Partial<
  Pick<
    DeploymentRecord,
    | 'status'
    | 'instanceId'
    | 'endpoint'
    | 'healthUrl'
    | 'lastError'
    | 'previousDeploymentId'
    | 'packageDir'
    | 'packageDigest'
    | 'manifestDigest'
  >
>;
