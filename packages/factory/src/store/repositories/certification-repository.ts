import type { Insertable, Selectable } from 'kysely';
import { FactoryError } from '../../errors.js';
import type { CertificationPatch, CertificationRecord, CertificationState } from '../../records/certification.js';
import type { CertificationsTable } from '../database.js';
import { now, type StoreContext } from '../store-context.js';

export interface CertificationFilter {
  connectorId?: string;
  state?: CertificationState;
}

/** Where each deployment stands on its way to certification, one record per deployment (`cf_certifications`). */
export interface CertificationRepository {
  insert(record: CertificationRecord): Promise<void>;
  get(deploymentId: string): Promise<CertificationRecord | undefined>;
  /**
   * Returns the updated record, its updatedAt the patch's or else the time of the update; a
   * FactoryError 'not_found' when the deployment has no certification record.
   */
  update(deploymentId: string, patch: CertificationPatch): Promise<CertificationRecord>;
  /** Newest first (by updatedAt). */
  list(filter?: CertificationFilter): Promise<CertificationRecord[]>;
}

export function certificationRepository(ctx: StoreContext): CertificationRepository {
  const { db, guard } = ctx;
  return {
    insert: guard('insert certification', (record: CertificationRecord) =>
      ctx.write(async () => {
        await db.insertInto('cf_certifications').values(certificationRow(record)).execute();
      }),
    ),
    get: guard('read certification', async (deploymentId: string) => {
      const row = await db
        .selectFrom('cf_certifications')
        .selectAll()
        .where('deployment_id', '=', deploymentId)
        .executeTakeFirst();
      return row && certificationRecord(row);
    }),
    update: guard('update certification', (deploymentId: string, patch: CertificationPatch) =>
      ctx.write(async () => {
        // Like a deployment, an updated certification gets a new updatedAt unless the patch sets one.
        const row = await db
          .updateTable('cf_certifications')
          .set({ ...certificationPatchRow(patch), updated_at: patch.updatedAt ?? now() })
          .where('deployment_id', '=', deploymentId)
          .returningAll()
          .executeTakeFirst();
        if (!row) {
          throw new FactoryError(
            'not_found',
            `no certification of deployment ${deploymentId} in state store ${ctx.location}`,
          );
        }
        return certificationRecord(row);
      }),
    ),
    list: guard('list certifications', async (filter: CertificationFilter = {}) => {
      let query = db.selectFrom('cf_certifications').selectAll();
      if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      const rows = await query.orderBy('updated_at', 'desc').orderBy('deployment_id', 'desc').execute();
      return rows.map(certificationRecord);
    }),
  };
}

function certificationRow(record: CertificationRecord): Insertable<CertificationsTable> {
  return {
    deployment_id: record.deploymentId,
    connector_id: record.connectorId,
    version: record.version,
    state: record.state,
    window_ms: record.windowMs,
    monitoring_since: record.monitoringSince,
    reason: record.reason,
    decided_by: record.decidedBy,
    updated_at: record.updatedAt,
  };
}

/** The patch's columns except updated_at, which update sets itself. */
function certificationPatchRow(
  patch: CertificationPatch,
): Partial<Omit<Insertable<CertificationsTable>, 'updated_at'>> {
  const row: Partial<Omit<Insertable<CertificationsTable>, 'updated_at'>> = {};
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.monitoringSince !== undefined) row.monitoring_since = patch.monitoringSince;
  if (patch.reason !== undefined) row.reason = patch.reason;
  if (patch.decidedBy !== undefined) row.decided_by = patch.decidedBy;
  return row;
}

function certificationRecord(row: Selectable<CertificationsTable>): CertificationRecord {
  return {
    deploymentId: row.deployment_id,
    connectorId: row.connector_id,
    version: row.version,
    state: row.state as CertificationState,
    windowMs: Number(row.window_ms),
    monitoringSince: row.monitoring_since,
    reason: row.reason,
    decidedBy: row.decided_by,
    updatedAt: row.updated_at,
  };
}
