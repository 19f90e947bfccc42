import type { Selectable } from 'kysely';
import { canonicalJson } from '../../audit/canonical-json.js';
import type { DriftClassification, DriftReport } from '../../records/drift.js';
import type { DriftReportsTable } from '../database.js';
import type { StoreContext } from '../store-context.js';

export interface DriftFilter {
  connectorId?: string;
  deploymentId?: string;
}

/** What the Monitor found when it compared a running connector's source with its manifest (`cf_drift_reports`). */
export interface DriftRepository {
  insert(report: DriftReport): Promise<void>;
  /** Newest first (by time). */
  list(filter?: DriftFilter): Promise<DriftReport[]>;
}

export function driftRepository(ctx: StoreContext): DriftRepository {
  const { db, guard } = ctx;
  return {
    insert: guard('insert drift report', (report: DriftReport) =>
      ctx.write(async () => {
        await db.insertInto('cf_drift_reports').values(driftRow(report)).execute();
      }),
    ),
    list: guard('list drift reports', async (filter: DriftFilter = {}) => {
      let query = db.selectFrom('cf_drift_reports').selectAll();
      if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
      if (filter.deploymentId !== undefined) query = query.where('deployment_id', '=', filter.deploymentId);
      const rows = await query.orderBy('time', 'desc').orderBy('id', 'desc').execute();
      return rows.map(driftReport);
    }),
  };
}

function driftRow(report: DriftReport): DriftReportsTable {
  return {
    id: report.id,
    connector_id: report.connectorId,
    deployment_id: report.deploymentId,
    time: report.time,
    classification: report.classification,
    changes: canonicalJson(report.changes),
    action: report.action,
    proposed_version: report.proposedVersion,
    proposed_manifest_path: report.proposedManifestPath,
  };
}

function driftReport(row: Selectable<DriftReportsTable>): DriftReport {
  return {
    id: row.id,
    connectorId: row.connector_id,
    deploymentId: row.deployment_id,
    time: row.time,
    classification: row.classification as DriftClassification,
    changes: JSON.parse(row.changes) as Record<string, unknown>[],
    action: row.action as DriftReport['action'],
    proposedVersion: row.proposed_version,
    proposedManifestPath: row.proposed_manifest_path,
  };
}
