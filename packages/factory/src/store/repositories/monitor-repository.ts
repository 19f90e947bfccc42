import type { Selectable } from 'kysely';
import { canonicalJson } from '../../audit/canonical-json.js';
import type { HealthCheckRecord, MetricsSnapshot } from '../../records/monitor.js';
import type { HealthChecksTable, MetricSnapshotsTable } from '../database.js';
import type { StoreContext } from '../store-context.js';

/** What the Monitor observed of each deployment: health checks and metrics snapshots. */
export interface MonitorRepository {
  recordCheck(check: HealthCheckRecord): Promise<void>;
  /** Checks of a deployment at or after `since`, oldest first. */
  checks(deploymentId: string, since: string): Promise<HealthCheckRecord[]>;
  saveMetrics(snapshot: MetricsSnapshot): Promise<void>;
  /** The newest snapshot of a deployment. */
  latestMetrics(deploymentId: string): Promise<MetricsSnapshot | undefined>;
  /** Snapshots at or after `since`, oldest first (error rates over a window are counter deltas). */
  metricsSince(deploymentId: string, since: string): Promise<MetricsSnapshot[]>;
}

export function monitorRepository(ctx: StoreContext): MonitorRepository {
  const { db, guard } = ctx;
  return {
    recordCheck: guard('record health check', (check: HealthCheckRecord) =>
      ctx.write(async () => {
        await db.insertInto('cf_health_checks').values(healthCheckRow(check)).execute();
      }),
    ),
    checks: guard('read health checks', async (deploymentId: string, since: string) => {
      const rows = await db
        .selectFrom('cf_health_checks')
        .selectAll()
        .where('deployment_id', '=', deploymentId)
        .where('time', '>=', since)
        .orderBy('time')
        .execute();
      return rows.map(healthCheckRecord);
    }),
    saveMetrics: guard('save metrics snapshot', (snapshot: MetricsSnapshot) =>
      ctx.write(async () => {
        await db.insertInto('cf_metric_snapshots').values(metricsRow(snapshot)).execute();
      }),
    ),
    latestMetrics: guard('read latest metrics', async (deploymentId: string) => {
      const row = await db
        .selectFrom('cf_metric_snapshots')
        .selectAll()
        .where('deployment_id', '=', deploymentId)
        .orderBy('time', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && metricsSnapshot(row);
    }),
    metricsSince: guard('read metrics', async (deploymentId: string, since: string) => {
      const rows = await db
        .selectFrom('cf_metric_snapshots')
        .selectAll()
        .where('deployment_id', '=', deploymentId)
        .where('time', '>=', since)
        .orderBy('time')
        .execute();
      return rows.map(metricsSnapshot);
    }),
  };
}

function healthCheckRow(check: HealthCheckRecord): HealthChecksTable {
  return {
    deployment_id: check.deploymentId,
    time: check.time,
    healthy: check.healthy ? 1 : 0,
    latency_ms: check.latencyMs,
    reason: check.reason,
  };
}

function healthCheckRecord(row: Selectable<HealthChecksTable>): HealthCheckRecord {
  return {
    deploymentId: row.deployment_id,
    time: row.time,
    healthy: Number(row.healthy) === 1,
    latencyMs: Number(row.latency_ms),
    reason: row.reason,
  };
}

function metricsRow(snapshot: MetricsSnapshot): MetricSnapshotsTable {
  return { deployment_id: snapshot.deploymentId, time: snapshot.time, metrics: canonicalJson(snapshot.metrics) };
}

function metricsSnapshot(row: Selectable<MetricSnapshotsTable>): MetricsSnapshot {
  return {
    deploymentId: row.deployment_id,
    time: row.time,
    metrics: JSON.parse(row.metrics) as Record<string, unknown>,
  };
}
