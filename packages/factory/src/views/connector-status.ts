import type { CertificationState, DeploymentRecord, DeploymentStatus, Environment } from '../records/index.js';
import type { StateStore } from '../store/state-store.js';
import { deploymentOf } from './deployment-of.js';

/** Where one deployed connector stands, as `status`, the HTTP API and the MCP server show it. */
export interface ConnectorStatus {
  readonly connectorId: string;
  readonly deploymentId: string;
  readonly version: string;
  readonly environment: Environment;
  readonly status: DeploymentStatus;
  /** 'ok', 'failing: <reason>', or 'not checked yet' (no check in the last hour). */
  readonly health: string;
  /** The breached SLOs, 'met' when none is, '–' before the first check. */
  readonly slos: string;
  readonly certification: CertificationState | null;
  readonly lastRun: string | null;
  readonly lastError: string | null;
  readonly firingAlerts: readonly string[];
}

/** Deployments that count as deployed (what `status` lists without a name). */
const ACTIVE: DeploymentStatus[] = ['starting', 'healthy', 'unhealthy', 'paused', 'awaiting_approval'];

/** The status of one connector (by connector or deployment id), or of every deployed one. */
export async function connectorStatuses(
  store: StateStore,
  ref?: string,
  now: number = Date.now(),
): Promise<ConnectorStatus[]> {
  const records = ref ? [await deploymentOf(store, ref)] : await store.deployments.list({ statuses: ACTIVE });
  return Promise.all(records.map((record) => statusOf(store, record, now)));
}

async function statusOf(store: StateStore, record: DeploymentRecord, now: number): Promise<ConnectorStatus> {
  const [certification, snapshot, checks, alerts] = await Promise.all([
    store.certifications.get(record.id),
    store.monitor.latestMetrics(record.id),
    store.monitor.checks(record.id, new Date(now - 3_600_000).toISOString()),
    store.alerts.list({ deploymentId: record.id, state: 'firing' }),
  ]);
  const metrics = snapshot?.metrics;
  const check = checks.at(-1);
  const breached = alerts.filter((a) => a.key.startsWith('slo:')).map((a) => `${a.key.slice(4)} breached`);
  return {
    connectorId: record.connectorId,
    deploymentId: record.id,
    version: record.version,
    environment: record.environment,
    status: record.status,
    health: check ? (check.healthy ? 'ok' : `failing: ${check.reason ?? ''}`) : 'not checked yet',
    slos: breached.join(', ') || (check ? 'met' : '–'),
    certification: certification?.state ?? null,
    lastRun: stringOrNull(metrics?.['lastSuccessfulRun']),
    lastError: record.lastError ?? stringOrNull(metrics?.['lastError']),
    firingAlerts: alerts.map((a) => a.key),
  };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
