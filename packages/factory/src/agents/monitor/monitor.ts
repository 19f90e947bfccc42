import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sourceLocation, type ConnectorManifest } from '@connector-factory/ir';
import { digestOf } from '../../audit/canonical-json.js';
import { FactoryError } from '../../errors.js';
import { newRecordId } from '../../store/record-id.js';
import type {
  AlertRecord,
  DeploymentRecord,
  DriftReport,
  HealthCheckRecord,
  ReceiptInput,
  RiskLevel,
} from '../../records/index.js';
import type { StateStore } from '../../store/state-store.js';
import { scrapeMetrics } from '../../runtime.js';
import { CertificationWorkflow } from '../certification/certification.js';
import { readPackageManifest } from '../deploy/build-package.js';
import type { DeployTarget } from '../deploy/deploy-target.js';
import { RUNNING_STATUSES } from '../deploy/deploy.js';
import { probeHealth } from '../deploy/wait-for-healthy.js';
import { extractSchema } from '../schema/extract-schema.js';
import type { SchemaDefinition } from '../schema/schema-definition.js';
import { AlertManager } from './alert-manager.js';
import type { AlertSink } from './alert-sinks.js';
import { classifyDrift, proposeManifest } from './drift.js';
import { failureKind } from './failure-kind.js';
import { enforceManifestRetention } from './retention.js';
import { evaluateSlos, type SloResult } from './slo.js';

export interface MonitorOptions {
  readonly store: StateStore;
  readonly target: DeployTarget;
  readonly audit: { record(input: ReceiptInput): Promise<unknown> };
  readonly riskOf: (action: string) => RiskLevel;
  /** Proposed manifests go under `<home>/proposals`. */
  readonly home: string;
  readonly sinks: readonly AlertSink[];
  /** Where the drift check's schema agent takes the source's variables from. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** The window SLOs are measured over. Default 1 h. */
  readonly sloWindowMs?: number;
  /**
   * A connector its target (re)started this recently and that does not answer yet is starting, not
   * failing: the look is not counted. Crash-loop restarts of one instance do count. Default 30 s.
   */
  readonly startupGraceMs?: number;
  /** Health checks a window needs before availability is judged. Default 3. */
  readonly minChecks?: number;
  /** Pause a connector on a critical SLO breach (the spec's "pause if critical"). Default true. */
  readonly pauseOnCritical?: boolean;
  /** How often the schema agent re-runs per connector; 0 = only when a failure names the schema. Default 1 h. */
  readonly driftEveryMs?: number;
  /**
   * How often each running connector's governance.retentionDays is enforced on its lake tables (an
   * `enforce_retention` receipt each time); 0 = never. Default 24 h, the first time on the first tick.
   */
  readonly retentionEveryMs?: number;
  /** Delta: how long removed files stay before the enforcement deletes them (default: the table's, else 7 days). */
  readonly vacuumDelayMs?: number;
  readonly clock?: () => Date;
  /** One line per thing worth a log line. */
  readonly log?: (line: string) => void;
  /** Re-runs the Schema agent for a manifest (default: introspect its live database). */
  readonly extract?: (manifest: ConnectorManifest, env: NodeJS.ProcessEnv) => Promise<SchemaDefinition>;
}

/** What one look at one deployment found. */
export interface MonitorReport {
  readonly deploymentId: string;
  readonly connectorId: string;
  readonly healthy: boolean;
  readonly reason: string | null;
  readonly slos: readonly SloResult[];
  readonly paused: boolean;
  readonly certification: string | null;
  readonly drift: DriftReport | null;
}

const HOUR = 3_600_000;

async function defaultExtract(manifest: ConnectorManifest, env: NodeJS.ProcessEnv): Promise<SchemaDefinition> {
  const { provider } = manifest.source;
  const { connectionString } = sourceLocation(manifest.source);
  if (manifest.source.type !== 'jdbc' || (provider !== 'postgres' && provider !== 'mysql') || !connectionString) {
    throw new FactoryError('invalid_input', `${manifest.id}: drift detection needs a live database source`);
  }
  return extractSchema(
    { type: 'jdbc', provider, connectionString },
    {
      env,
      entities: manifest.schema.entities.map((entity) => entity.name),
      ...(manifest.schema.updateStrategy === 'cdc' ? { wantCdc: true } : {}),
      sampleRows: 0,
    },
  );
}

/**
 * The Monitor agent: on each tick, for every running deployment, a health check and a scrape of its
 * /metrics into the spec's ConnectorMetrics; its SLOs (governance.contract.slo) over a window, with
 * alerts that fire once, escalate, and resolve; the spec's error-handling table (refused credentials
 * → an alert asking for a credential refresh; a schema mismatch → the drift workflow; a failed deploy →
 * an alert; a critical SLO breach → pause); drift detection on a schedule (breaking → pause, otherwise
 * a proposed new version); and the certification workflow's next step. Read-only toward sources
 * (CARS low), except that it pauses.
 */
export class Monitor {
  private readonly clock: () => Date;
  private readonly alerts: AlertManager;
  private readonly certification: CertificationWorkflow;
  private readonly manifests = new Map<string, ConnectorManifest>();
  private readonly lastHealthy = new Map<string, string>();
  private readonly lastDrift = new Map<string, number>();
  private readonly lastRetention = new Map<string, number>();

  constructor(private readonly options: MonitorOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.alerts = new AlertManager(options.store, options.sinks, (message) =>
      this.log(`alert sink failed: ${message}`),
    );
    this.certification = new CertificationWorkflow({
      store: options.store,
      audit: options.audit,
      riskOf: options.riskOf,
      clock: this.clock,
    });
  }

  /** One look at every running deployment (and an alert for each recently failed deploy). */
  async tick(): Promise<MonitorReport[]> {
    const { store } = this.options;
    await this.deployFailures();
    const reports: MonitorReport[] = [];
    for (const deployment of await store.deployments.list({ statuses: RUNNING_STATUSES })) {
      try {
        reports.push(await this.look(deployment));
      } catch (error) {
        this.log(`${deployment.id}: could not be monitored: ${(error as Error).message}`);
      }
    }
    // A paused connector's rows age too: its lake tables are kept within their retention as well.
    for (const deployment of await store.deployments.list({ statuses: [...RUNNING_STATUSES, 'paused'] })) {
      await this.retention(deployment);
    }
    return reports;
  }

  /**
   * Enforces a running or paused connector's retention once every retentionEveryMs (per connector,
   * whichever of its deployments comes first); a failure is a warning alert, resolved by the next success.
   */
  private async retention(deployment: DeploymentRecord): Promise<void> {
    const every = this.options.retentionEveryMs ?? 24 * HOUR;
    if (every <= 0) return;
    const now = this.clock();
    const last = this.lastRetention.get(deployment.connectorId);
    if (last !== undefined && now.getTime() - last < every) return;
    this.lastRetention.set(deployment.connectorId, now.getTime());
    try {
      const manifest = await this.manifestOf(deployment);
      const reports = await enforceManifestRetention({
        manifest,
        audit: this.options.audit,
        riskOf: this.options.riskOf,
        actor: 'monitor',
        agent: 'monitor',
        now,
        workingDir: deployment.workingDir,
        ...(this.options.env ? { env: this.options.env } : {}),
        ...(this.options.vacuumDelayMs !== undefined ? { vacuumDelayMs: this.options.vacuumDelayMs } : {}),
      });
      await this.alerts.clear(deployment.id, 'retention', now);
      const rows = reports.reduce((sum, r) => sum + r.rowsExpired, 0);
      const files = reports.reduce((sum, r) => sum + r.quarantine.files.length + r.vacuum.deleted.length, 0);
      if (rows > 0 || files > 0) {
        this.log(
          `${deployment.connectorId}: retention ${manifest.governance.retentionDays} days: ${rows} rows removed, ${files} quarantine and vacuumed files deleted`,
        );
      }
    } catch (error) {
      const message = (error as Error).message.split('\n')[0] ?? '';
      this.log(`${deployment.connectorId}: retention could not be enforced: ${message}`);
      await this.alerts.raise(
        deployment,
        'retention',
        'warning',
        `retention could not be enforced: ${message}`,
        {},
        now,
      );
    }
  }

  /** Ticks every `intervalMs` until the signal aborts. */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.tick();
      // Node's timer removes its abort listener when it fires: a monitor running for months keeps none.
      await delay(intervalMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Re-runs the Schema agent for a deployment's connector and acts on what changed. */
  async checkDrift(deployment: DeploymentRecord): Promise<DriftReport> {
    const { store } = this.options;
    const manifest = await this.manifestOf(deployment);
    const env = this.options.env ?? process.env;
    this.lastDrift.set(deployment.id, this.clock().getTime());
    const live = await (this.options.extract ?? defaultExtract)(manifest, env);
    const { classification, changes } = classifyDrift(manifest, live);
    const [previous] = await store.drift.list({ deploymentId: deployment.id });
    if (previous && digestOf(previous.changes) === digestOf(changes)) return previous;
    const now = this.clock();
    let action: DriftReport['action'] = 'none';
    let proposedVersion: string | null = null;
    let proposedManifestPath: string | null = null;
    if (classification === 'breaking') {
      action = 'paused';
      const what = changes
        .filter((c) => c.breaking)
        .map((c) => `${c.entity}${c.field ? `.${c.field}` : ''} ${c.change.replace(/_/g, ' ')}`);
      await this.pause(deployment, `breaking schema drift: ${what.join(', ')}`);
      await this.alerts.raise(
        deployment,
        'drift:breaking',
        'critical',
        `breaking schema drift (${what.join(', ')}): the connector is paused; see \`connector-factory drift ${deployment.connectorId}\``,
        { changes: changes.length },
        now,
      );
    } else if (classification === 'non_breaking') {
      action = 'proposed';
      const proposal = proposeManifest(manifest, live, changes);
      proposedVersion = proposal.version;
      const dir = join(this.options.home, 'proposals', manifest.id, proposal.version);
      await mkdir(dir, { recursive: true });
      proposedManifestPath = join(dir, 'manifest.json');
      await writeFile(proposedManifestPath, `${JSON.stringify(proposal, null, 2)}\n`);
      await this.alerts.raise(
        deployment,
        'drift:non_breaking',
        'info',
        `the source changed without breaking the connector (${changes.map((c) => `${c.entity}.${c.field} ${c.change.replace(/_/g, ' ')}`).join(', ')}); version ${proposal.version} is proposed: connector-factory generate ${proposedManifestPath} --out <dir>, then deploy it`,
        { proposedVersion },
        now,
      );
    } else {
      await this.alerts.clear(deployment.id, 'drift:breaking', now);
      await this.alerts.clear(deployment.id, 'drift:non_breaking', now);
    }
    const report: DriftReport = {
      id: newRecordId('drf', now),
      connectorId: deployment.connectorId,
      deploymentId: deployment.id,
      time: now.toISOString(),
      classification,
      changes: changes.map((change) => ({ ...change })),
      action,
      proposedVersion,
      proposedManifestPath,
    };
    await store.drift.insert(report);
    await this.options.audit.record({
      action: 'detect_drift',
      agent: 'monitor',
      actor: 'monitor',
      resource: deployment.connectorId,
      riskLevel: this.options.riskOf('detect_drift'),
      inputs: { manifest: deployment.manifestDigest || digestOf(manifest), schema: digestOf(live) },
      outputs: { report: digestOf(report) },
      result: 'success',
      details: { deploymentId: deployment.id, classification, changes: changes.length, action, proposedVersion },
    });
    this.log(`${deployment.connectorId}: drift ${classification}${action !== 'none' ? ` (${action})` : ''}`);
    return report;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async manifestOf(deployment: DeploymentRecord): Promise<ConnectorManifest> {
    let manifest = this.manifests.get(deployment.id);
    if (!manifest) {
      manifest = (await readPackageManifest(deployment.packageDir)).manifest;
      this.manifests.set(deployment.id, manifest);
    }
    return manifest;
  }

  private async look(deployment: DeploymentRecord): Promise<MonitorReport> {
    const { store, target } = this.options;
    const manifest = await this.manifestOf(deployment);
    const now = this.clock();
    const instance = await target.status(deployment.id);
    const started = Date.now();
    const failure = instance ? await probeHealth(instance.healthUrl) : 'it does not run on its target';
    const healthy = failure === undefined;
    const reason = healthy ? null : instance?.lastExit && instance.lastError ? instance.lastError : (failure ?? null);
    const grace = this.options.startupGraceMs ?? 30_000;
    if (!healthy && instance && instance.lastExit === null && now.getTime() - Date.parse(instance.startedAt) < grace) {
      const certification = (await store.certifications.get(deployment.id))?.state ?? null;
      return {
        deploymentId: deployment.id,
        connectorId: deployment.connectorId,
        healthy,
        reason: `starting: ${reason}`,
        slos: [],
        paused: false,
        certification,
        drift: null,
      };
    }
    const check: HealthCheckRecord = {
      deploymentId: deployment.id,
      time: now.toISOString(),
      healthy,
      latencyMs: Date.now() - started,
      reason,
    };
    await store.monitor.recordCheck(check);
    if (healthy) this.lastHealthy.set(deployment.id, check.time);
    if (instance) {
      const scraped = await scrapeMetrics(instance.metricsUrl, deployment.connectorId);
      if (scraped) {
        await store.monitor.saveMetrics({
          deploymentId: deployment.id,
          time: check.time,
          metrics: { ...scraped.metrics, runs: scraped.runs, errors: scraped.errors },
        });
      }
    }
    const status = healthy ? 'healthy' : 'unhealthy';
    if (deployment.status !== status) {
      await store.deployments.update(deployment.id, { status, lastError: reason });
    }

    // The spec's error-handling table.
    const kind = failureKind(reason);
    if (kind === 'auth') {
      await this.alerts.raise(
        deployment,
        'auth',
        'critical',
        `the source refused the connector's credentials (${reason}): refresh ${deployment.envNames.join(', ') || 'its credentials'} and redeploy, or restart \`connector-factory serve\` with the new value`,
        { reason },
        now,
      );
    } else if (healthy) {
      await this.alerts.clear(deployment.id, 'auth', now);
    }
    if (kind === 'quality') {
      await this.alerts.raise(
        deployment,
        'quality',
        'critical',
        `a batch did not fit the table schema and was not committed; the connector does not advance until it does (${reason}): ` +
          `correct the manifest's field types (\`connector-factory deploy\` checks them against the source), or raise quality.maxQuarantineShare to accept the loss`,
        { reason },
        now,
      );
    } else if (healthy) {
      await this.alerts.clear(deployment.id, 'quality', now);
    }
    let drift: DriftReport | null = null;
    const every = this.options.driftEveryMs ?? HOUR;
    const lastDrift = this.lastDrift.get(deployment.id) ?? 0;
    if (kind === 'schema' || (every > 0 && now.getTime() - lastDrift >= every)) {
      drift = await this.checkDrift(deployment).catch((error: unknown) => {
        this.log(`${deployment.connectorId}: drift check failed: ${(error as Error).message}`);
        return null;
      });
    }
    if (drift?.action === 'paused') {
      return {
        deploymentId: deployment.id,
        connectorId: deployment.connectorId,
        healthy,
        reason,
        slos: [],
        paused: true,
        certification: null,
        drift,
      };
    }

    const windowMs = this.options.sloWindowMs ?? HOUR;
    const windowStart = new Date(Math.max(now.getTime() - windowMs, Date.parse(deployment.createdAt))).toISOString();
    const checks = await store.monitor.checks(deployment.id, windowStart);
    if (!this.lastHealthy.has(deployment.id)) {
      const seen = [...checks].reverse().find((c) => c.healthy);
      if (seen) this.lastHealthy.set(deployment.id, seen.time);
    }
    const snapshots = await store.monitor.metricsSince(deployment.id, windowStart);
    const first = snapshots[0]?.metrics as { runs?: number; errors?: number } | undefined;
    const last = snapshots.at(-1)?.metrics as
      { runs?: number; errors?: number; lastSuccessfulRun?: string | null } | undefined;
    const slos = evaluateSlos({
      slo: manifest.governance.contract.slo,
      schedule: manifest.schedule,
      now,
      windowMs,
      checks,
      ...(this.options.minChecks !== undefined ? { minChecks: this.options.minChecks } : {}),
      lastHealthyAt: this.lastHealthy.get(deployment.id) ?? null,
      deployedAt: deployment.createdAt,
      lastSuccessfulRun: last?.lastSuccessfulRun ?? null,
      runsInWindow:
        first && last && snapshots.length > 1
          ? {
              runs: Math.max(0, (last.runs ?? 0) - (first.runs ?? 0)),
              errors: Math.max(0, (last.errors ?? 0) - (first.errors ?? 0)),
            }
          : null,
    });
    let paused = false;
    for (const slo of slos) {
      const key = `slo:${slo.name}`;
      if (!slo.breached) {
        await this.alerts.clear(deployment.id, key, now);
        continue;
      }
      const alert: AlertRecord = await this.alerts.raise(
        deployment,
        key,
        slo.severity ?? 'warning',
        `${slo.name.replace('_', ' ')} SLO breached: ${slo.measured} against ${slo.objective}${slo.name === 'freshness' ? ' minutes' : ' %'} (${slo.basis})`,
        { measured: slo.measured, objective: slo.objective, windowMs: slo.windowMs },
        now,
      );
      if (alert.severity === 'critical' && (this.options.pauseOnCritical ?? true) && !paused) {
        await this.pause(deployment, `critical ${slo.name} SLO breach`);
        paused = true;
      }
    }
    const breaches = slos
      .filter((slo) => slo.breached)
      .map((slo) => ({ name: slo.name, measured: slo.measured, objective: slo.objective }));
    const certification = await this.certification.observe(deployment.id, { healthy, breaches });
    const current = certification ?? (await store.certifications.get(deployment.id));
    return {
      deploymentId: deployment.id,
      connectorId: deployment.connectorId,
      healthy,
      reason,
      slos,
      paused,
      certification: current?.state ?? null,
      drift,
    };
  }

  /** Stops a deployment's instance and marks it paused (resume with `connector-factory resume`). */
  private async pause(deployment: DeploymentRecord, why: string): Promise<void> {
    await this.options.target.stop(deployment.id);
    await this.options.store.deployments.update(deployment.id, { status: 'paused', lastError: `paused: ${why}` });
    await this.options.audit.record({
      action: 'pause',
      agent: 'monitor',
      actor: 'monitor',
      resource: deployment.connectorId,
      riskLevel: this.options.riskOf('pause'),
      inputs: {},
      outputs: {},
      result: 'success',
      details: { deploymentId: deployment.id, why },
    });
    this.log(
      `${deployment.connectorId}: paused (${why}); \`connector-factory resume ${deployment.connectorId}\` restarts it`,
    );
  }

  /** A deploy that failed or was rolled back in the last day: one alert, resolved once a newer one is healthy. */
  private async deployFailures(): Promise<void> {
    const { store } = this.options;
    const now = this.clock();
    const since = now.getTime() - 24 * HOUR;
    const failed = await store.deployments.list({ statuses: ['failed', 'rolled_back'] });
    for (const deployment of failed) {
      if (Date.parse(deployment.updatedAt) < since) continue;
      const newer = (
        await store.deployments.list({
          connectorId: deployment.connectorId,
          environment: deployment.environment,
          statuses: ['healthy'],
        })
      ).find((other) => other.createdAt > deployment.createdAt);
      if (newer) {
        await this.alerts.clear(deployment.id, 'deploy', now);
        continue;
      }
      const existing = (await store.alerts.list({ deploymentId: deployment.id })).some(
        (alert) => alert.key === 'deploy',
      );
      if (existing) continue;
      await this.alerts.raise(
        deployment,
        'deploy',
        'warning',
        `deploying ${deployment.version} to ${deployment.environment} failed${deployment.status === 'rolled_back' ? ' and was rolled back' : ''}: ${deployment.lastError ?? 'see its log'}`,
        { status: deployment.status },
        now,
      );
    }
  }
}
