import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { ConnectorManifest } from '@connector-factory/ir';
import { digestOf } from '../../audit/canonical-json.js';
import { requireRole, type Actor } from '../../cars/actor.js';
import { FactoryError } from '../../errors.js';
import type {
  ApprovalRecord,
  DeploymentRecord,
  DeploymentStatus,
  Environment,
  ReceiptInput,
  RiskLevel,
} from '../../records/index.js';
import type { StateStore } from '../../store/state-store.js';
import { missingVariablesHint, withStoredSecrets } from '../../secrets/secret-store.js';
import { requiredEnv } from '../codegen/common/environment.js';
import { CertificationWorkflow, DEFAULT_CERTIFY_AFTER_MS } from '../certification/certification.js';
import { buildPackage, readPackageManifest, type ProgressListener, type StepReport } from './build-package.js';
import { checkSourceTypes } from './check-source-types.js';
import type { DeployTarget, InstanceSpec } from './deploy-target.js';
import { diffManifests, type ManifestChange } from './manifest-diff.js';
import { packageDigest } from './package-digest.js';
import { runSandboxedTests, type TestReport } from './sandbox.js';
import { waitForHealthy } from './wait-for-healthy.js';

/** The CARS gate as the Deploy agent uses it. */
export interface DeployGate {
  riskOf(action: string, environment?: Environment): RiskLevel;
  /** Null when the level needs no approval. */
  requestApproval(request: {
    action: string;
    resource: string;
    riskLevel: RiskLevel;
    evidence: Record<string, unknown>;
    requestedBy: string;
  }): Promise<ApprovalRecord | null>;
  /** An approved, unexpired request for this action and resource whose evidence carries this digest. */
  findApproved(action: string, resource: string, evidenceDigest?: string): Promise<ApprovalRecord | undefined>;
  waitForApproval(id: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<ApprovalRecord>;
}

/** What the Deploy agent is given: no globals, everything passed in. */
export interface DeployContext {
  readonly store: StateStore;
  readonly target: DeployTarget;
  readonly cars: DeployGate;
  readonly audit: { record(input: ReceiptInput): Promise<unknown> };
  readonly actor: Actor;
  /** Builds, logs and checkpoints live under it. */
  readonly home: string;
}

export interface DeployOptions {
  readonly environment: Environment;
  /** Where the connector runs; relative lake paths resolve against it. Default the current folder. */
  readonly workingDir?: string;
  /**
   * Where the declared variables' values come from. Default process.env; a variable it does not set is
   * taken from the secret store of the factory home (`connector-factory secrets set`).
   */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Compare the manifest's field types with the live source's catalog before building, and refuse a
   * column that cannot hold what the source sends (default true).
   */
  readonly checkSourceTypes?: boolean;
  /** Default 60 s. */
  readonly healthTimeoutMs?: number;
  /** How long to wait for a CARS approval; 0 (the default) returns at once with 'approval_required'. */
  readonly approvalTimeoutMs?: number;
  readonly testTimeoutMs?: number;
  readonly buildTimeoutMs?: number;
  /** How long it must run without an SLO breach before certification review. Default 24 h. */
  readonly certifyAfterMs?: number;
  readonly progress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** The spec's DeploymentReceipt, with the evidence behind it. */
export interface DeploymentReceipt {
  readonly deploymentId: string;
  readonly connectorId: string;
  readonly version: string;
  readonly environment: Environment;
  readonly target: string;
  /** The spec's pod id: the local instance, or the pod on Kubernetes. */
  readonly instanceId: string;
  readonly endpoint: string;
  readonly healthUrl: string;
  readonly metricsUrl: string;
  readonly status: DeploymentStatus;
  readonly packageDigest: string;
  readonly manifestDigest: string;
  readonly previousDeploymentId: string | null;
  readonly approvalId: string | null;
  readonly riskLevel: RiskLevel;
  readonly tests: TestReport;
  readonly steps: readonly StepReport[];
}

/** Statuses of a deployment that holds (or should hold) a running instance. */
export const ACTIVE_STATUSES: readonly DeploymentStatus[] = ['starting', 'healthy', 'unhealthy'];

/**
 * Statuses of a deployment that was handed over to run: what `serve` restores and the Monitor watches.
 * A 'starting' one belongs to the deploy that is starting it.
 */
export const RUNNING_STATUSES: readonly DeploymentStatus[] = ['healthy', 'unhealthy'];

/** `dep_<yyyymmddhhmmss>_<hex>`: sortable and unique. */
export function newDeploymentId(now = new Date()): string {
  return `dep_${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}_${randomBytes(4).toString('hex')}`;
}

/** The declared variables' values, or an error naming every one that is missing. */
export function declaredEnv(manifest: ConnectorManifest, env: NodeJS.ProcessEnv): Record<string, string> {
  const names = requiredEnv(manifest);
  const missing = names.filter((name) => env[name] === undefined || env[name] === '');
  if (missing.length > 0) {
    throw new FactoryError(
      'invalid_input',
      `${manifest.id} reads ${missing.join(', ')}, which neither the environment nor the secret store holds: ${missingVariablesHint(missing)}`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, env[name]!]));
}

/**
 * The declared variables' values from `env`, else from the secret store of `home` (the environment
 * wins), or an error naming every one that neither holds and how to provide it.
 */
export async function resolveDeclaredEnv(
  manifest: ConnectorManifest,
  env: NodeJS.ProcessEnv,
  home: string,
): Promise<Record<string, string>> {
  return declaredEnv(manifest, await withStoredSecrets(env, requiredEnv(manifest), { home }));
}

/** Local lake folders the connector writes: its sandboxed tests may write there too. */
function localLakeDirs(manifest: ConnectorManifest, workingDir: string): string[] {
  const path = manifest.destination.lakePath;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) && !path.startsWith('file://')) return [];
  if (path.includes('${')) return [];
  const plain = path.startsWith('file://') ? new URL(path).pathname : path;
  return [isAbsolute(plain) ? plain : resolve(workingDir, plain)];
}

function testSummary(tests: TestReport): Record<string, unknown> {
  return {
    passed: tests.passed,
    tests: tests.tests,
    pass: tests.pass,
    fail: tests.fail,
    skipped: tests.skipped,
    durationMs: tests.durationMs,
  };
}

async function runningManifest(record: DeploymentRecord | undefined): Promise<unknown> {
  if (!record) return undefined;
  return JSON.parse(await readFile(join(record.packageDir, 'manifest.json'), 'utf8')) as unknown;
}

/**
 * The Deploy agent: builds a connector package, runs its tests in a sandbox, passes the CARS gate of
 * its environment (prod: an admin's approval, with the test results, the package digest and the diff
 * against the running version as evidence), stops the running version, starts the new one on the
 * target and waits for it to be healthy — or rolls back to the previous version. Every outcome is a
 * deployment record and an audit receipt. Throws FactoryError: invalid_input, build_failed,
 * tests_failed, approval_required, deploy_failed.
 */
export async function deployConnector(
  packageDir: string,
  context: DeployContext,
  options: DeployOptions,
): Promise<DeploymentReceipt> {
  const { store, target, cars, audit } = context;
  const actor = context.actor.name;
  const { environment } = options;
  requireRole(context.actor, 'operator', `deploying to ${environment}`);
  const workingDir = resolve(options.workingDir ?? process.cwd());
  const { manifest } = await readPackageManifest(resolve(packageDir));
  const values = await resolveDeclaredEnv(manifest, options.env ?? process.env, context.home);
  const riskLevel = cars.riskOf('deploy', environment);
  const resource = `${manifest.id}@${environment}`;
  const now = () => new Date().toISOString();
  const deploymentId = newDeploymentId();
  const steps: StepReport[] = [];
  const step = async <T>(name: string, work: () => Promise<T>, detail: (value: T) => string): Promise<T> => {
    options.progress?.({ step: name, state: 'start' });
    const started = Date.now();
    try {
      const value = await work();
      const report = { step: name, ok: true, durationMs: Date.now() - started, detail: detail(value) };
      steps.push(report);
      options.progress?.({ step: name, state: 'done', report });
      return value;
    } catch (error) {
      const report = { step: name, ok: false, durationMs: Date.now() - started, detail: (error as Error).message };
      steps.push(report);
      options.progress?.({ step: name, state: 'failed', report });
      throw error;
    }
  };

  const previous = (
    await store.deployments.list({ connectorId: manifest.id, environment, statuses: ACTIVE_STATUSES })
  )[0];
  const digest = await packageDigest(resolve(packageDir));
  await store.deployments.insert({
    id: deploymentId,
    connectorId: manifest.id,
    version: manifest.version,
    environment,
    target: target.name,
    status: 'building',
    packageDir: resolve(packageDir),
    workingDir,
    packageDigest: digest,
    manifestDigest: '',
    envNames: Object.keys(values),
    instanceId: null,
    endpoint: null,
    healthUrl: null,
    previousDeploymentId: previous?.id ?? null,
    actor,
    lastError: null,
    createdAt: now(),
    updatedAt: now(),
  });
  const receiptBase = { action: 'deploy', agent: 'deploy', actor, resource: manifest.id, riskLevel };
  const fail = async (status: DeploymentStatus, error: FactoryError, outputs: Record<string, string> = {}) => {
    await store.deployments.update(deploymentId, { status, lastError: error.message.split('\n')[0]! });
    await audit.record({
      ...receiptBase,
      inputs: { package: digest },
      outputs,
      result: error.code === 'approval_required' ? 'refused' : 'failure',
      details: { deploymentId, environment, version: manifest.version, error: error.message.split('\n')[0] },
    });
    return error;
  };

  // The manifest's types against the live catalog first: a column that cannot hold what the source
  // sends would quarantine rows on every run, which no sandboxed test of an empty lake would show.
  if (options.checkSourceTypes ?? true) {
    try {
      await checkSourceTypes(manifest, values);
    } catch (error) {
      throw error instanceof FactoryError ? await fail('failed', error) : error;
    }
  }

  let built;
  try {
    built = await buildPackage(packageDir, {
      home: context.home,
      ...(options.buildTimeoutMs !== undefined ? { timeoutMs: options.buildTimeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      progress: (event) => {
        if (event.report) steps.push(event.report);
        options.progress?.(event);
      },
    });
  } catch (error) {
    throw error instanceof FactoryError ? await fail('failed', error) : error;
  }
  // From here the record points at the build, not the user's folder: it is what a restart or a rollback runs.
  await store.deployments.update(deploymentId, {
    packageDir: built.dir,
    packageDigest: built.packageDigest,
    manifestDigest: built.manifestDigest,
  });
  const tests = await step(
    'sandboxed tests',
    () =>
      runSandboxedTests(built.dir, {
        env: values,
        writable: localLakeDirs(manifest, workingDir),
        ...(options.testTimeoutMs !== undefined ? { timeoutMs: options.testTimeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    (report) => `${report.pass} passed, ${report.fail} failed, ${report.skipped} skipped`,
  );
  if (!tests.passed) {
    throw await fail(
      'failed',
      new FactoryError(
        'tests_failed',
        `${manifest.id}: its tests failed in the sandbox (${tests.timedOut ? 'timed out' : `${tests.fail} failed`}); nothing was deployed`,
        [...tests.outputTail],
      ),
    );
  }

  // The CARS gate: evidence first (the tests ran in the sandbox), then an approval when the level needs one.
  let approval: ApprovalRecord | null | undefined = await cars.findApproved('deploy', resource, built.packageDigest);
  if (approval === undefined) {
    const changes: ManifestChange[] = previous
      ? diffManifests(await runningManifest(previous), manifest)
      : [{ path: '$', change: 'added' }];
    approval = await cars.requestApproval({
      action: 'deploy',
      resource,
      riskLevel,
      requestedBy: actor,
      evidence: {
        deploymentId,
        connectorId: manifest.id,
        version: manifest.version,
        environment,
        packageDigest: built.packageDigest,
        manifestDigest: built.manifestDigest,
        tests: testSummary(tests),
        running: previous ? { deploymentId: previous.id, version: previous.version } : null,
        diff: changes,
      },
    });
    if (approval !== null && approval.status !== 'approved') {
      await store.deployments.update(deploymentId, { status: 'awaiting_approval' });
      const waitMs = options.approvalTimeoutMs ?? 0;
      const pending = new FactoryError(
        'approval_required',
        `deploying ${manifest.id} ${manifest.version} to ${environment} is ${riskLevel} risk and needs approval ${approval.id}: ` +
          `an approver runs \`connector-factory approvals approve ${approval.id}\`, then run this deploy again`,
      );
      if (waitMs <= 0) throw await fail('awaiting_approval', pending);
      try {
        approval = await step(
          'approval',
          () =>
            cars.waitForApproval(approval!.id, {
              timeoutMs: waitMs,
              ...(options.signal ? { signal: options.signal } : {}),
            }),
          (record) => `approved by ${record.decidedBy ?? '?'}`,
        );
      } catch (error) {
        throw error instanceof FactoryError ? await fail('failed', error) : error;
      }
    }
  }
  await store.deployments.update(deploymentId, { status: 'starting' });

  const spec = (record: { id: string; version: string; packageDir: string; workingDir: string }): InstanceSpec => ({
    deploymentId: record.id,
    connectorId: manifest.id,
    version: record.version,
    environment,
    packageDir: record.packageDir,
    workingDir: record.workingDir,
    env: values,
  });
  // The running version stops first: two versions of a CDC connector cannot share its replication slot.
  if (previous) await target.stop(previous.id);
  const healthTimeoutMs = options.healthTimeoutMs ?? 60_000;
  const instance = await step(
    'start',
    async () => {
      const started = await target.start(
        spec({ id: deploymentId, version: manifest.version, packageDir: built.dir, workingDir }),
      );
      await store.deployments.update(deploymentId, {
        instanceId: started.instanceId,
        endpoint: started.endpoint,
        healthUrl: started.healthUrl,
      });
      return started;
    },
    (started) => `${started.instanceId} on ${started.endpoint}`,
  );
  const health = await waitForHealthy(target, deploymentId, {
    timeoutMs: healthTimeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!health.healthy) {
    options.progress?.({
      step: 'healthy',
      state: 'failed',
      report: { step: 'healthy', ok: false, durationMs: healthTimeoutMs, detail: health.reason },
    });
    await target.stop(deploymentId);
    let rolledBack = false;
    if (previous) {
      await target.start(spec(previous));
      const restored = await waitForHealthy(target, previous.id, { timeoutMs: healthTimeoutMs });
      await store.deployments.update(previous.id, { status: restored.healthy ? 'healthy' : 'unhealthy' });
      rolledBack = true;
    }
    throw await fail(
      rolledBack ? 'rolled_back' : 'failed',
      new FactoryError(
        'deploy_failed',
        `${manifest.id} ${manifest.version} did not become healthy (${health.reason}); ` +
          (rolledBack
            ? `rolled back to ${previous!.version} (${previous!.id})`
            : 'no previous version to roll back to'),
      ),
      { package: built.packageDigest },
    );
  }
  options.progress?.({
    step: 'healthy',
    state: 'done',
    report: { step: 'healthy', ok: true, durationMs: health.afterMs },
  });
  steps.push({ step: 'healthy', ok: true, durationMs: health.afterMs });
  const record = await store.deployments.update(deploymentId, { status: 'healthy', lastError: null });
  if (previous) await store.deployments.update(previous.id, { status: 'superseded' });
  const receipt: DeploymentReceipt = {
    deploymentId,
    connectorId: manifest.id,
    version: manifest.version,
    environment,
    target: target.name,
    instanceId: instance.instanceId,
    endpoint: instance.endpoint,
    healthUrl: instance.healthUrl,
    metricsUrl: instance.metricsUrl,
    status: 'healthy',
    packageDigest: built.packageDigest,
    manifestDigest: built.manifestDigest,
    previousDeploymentId: previous?.id ?? null,
    approvalId: approval?.id ?? null,
    riskLevel,
    tests,
    steps,
  };
  await audit.record({
    ...receiptBase,
    inputs: { package: built.packageDigest, manifest: built.manifestDigest },
    outputs: { receipt: digestOf(receipt) },
    result: 'success',
    details: {
      deploymentId,
      environment,
      version: manifest.version,
      instanceId: instance.instanceId,
      approvalId: approval?.id ?? null,
      tests: `${tests.pass} passed, ${tests.fail} failed, ${tests.skipped} skipped`,
    },
  });
  await new CertificationWorkflow({ store, audit, riskOf: (action) => cars.riskOf(action) }).begin(
    record,
    options.certifyAfterMs ?? DEFAULT_CERTIFY_AFTER_MS,
    actor,
  );
  return receipt;
}
