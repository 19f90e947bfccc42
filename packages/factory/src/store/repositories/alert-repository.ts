import type { Selectable } from 'kysely';
import { canonicalJson } from '../../audit/canonical-json.js';
import { FactoryError } from '../../errors.js';
import type { AlertPatch, AlertRecord, AlertSeverity, AlertState } from '../../records/alert.js';
import type { AlertsTable } from '../database.js';
import type { StoreContext } from '../store-context.js';

export interface AlertFilter {
  deploymentId?: string;
  connectorId?: string;
  state?: AlertState;
}

/** The Monitor's alerts, at most one firing per deployment and key (`cf_alerts`). */
export interface AlertRepository {
  /** Refused when another alert of the deployment with this key is already firing. */
  insert(record: AlertRecord): Promise<void>;
  /** Returns the updated alert; a FactoryError 'not_found' when there is no alert `id`. */
  update(id: string, patch: AlertPatch): Promise<AlertRecord>;
  /** The firing alert of a deployment with this key, if any (at most one fires per key). */
  firing(deploymentId: string, key: string): Promise<AlertRecord | undefined>;
  /** Newest first (by firstAt). */
  list(filter?: AlertFilter): Promise<AlertRecord[]>;
}

export function alertRepository(ctx: StoreContext): AlertRepository {
  const { db, guard } = ctx;
  return {
    insert: guard('insert alert', (record: AlertRecord) =>
      ctx.write(async () => {
        await db.insertInto('cf_alerts').values(alertRow(record)).execute();
      }),
    ),
    update: guard('update alert', (id: string, patch: AlertPatch) =>
      ctx.write(async () => {
        const set = alertPatchRow(patch);
        // An empty patch still answers with the record (and still fails for a missing id).
        const row =
          Object.keys(set).length === 0
            ? await db.selectFrom('cf_alerts').selectAll().where('id', '=', id).executeTakeFirst()
            : await db.updateTable('cf_alerts').set(set).where('id', '=', id).returningAll().executeTakeFirst();
        if (!row) throw new FactoryError('not_found', `no alert ${id} in state store ${ctx.location}`);
        return alertRecord(row);
      }),
    ),
    firing: guard('read firing alert', async (deploymentId: string, key: string) => {
      const row = await db
        .selectFrom('cf_alerts')
        .selectAll()
        .where('deployment_id', '=', deploymentId)
        .where('key', '=', key)
        .where('state', '=', 'firing')
        .orderBy('first_at', 'desc')
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row && alertRecord(row);
    }),
    list: guard('list alerts', async (filter: AlertFilter = {}) => {
      let query = db.selectFrom('cf_alerts').selectAll();
      if (filter.deploymentId !== undefined) query = query.where('deployment_id', '=', filter.deploymentId);
      if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
      if (filter.state !== undefined) query = query.where('state', '=', filter.state);
      const rows = await query.orderBy('first_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(alertRecord);
    }),
  };
}

function alertRow(record: AlertRecord): AlertsTable {
  return {
    id: record.id,
    deployment_id: record.deploymentId,
    connector_id: record.connectorId,
    key: record.key,
    severity: record.severity,
    state: record.state,
    message: record.message,
    details: canonicalJson(record.details),
    first_at: record.firstAt,
    last_at: record.lastAt,
    resolved_at: record.resolvedAt,
  };
}

function alertPatchRow(patch: AlertPatch): Partial<AlertsTable> {
  const row: Partial<AlertsTable> = {};
  if (patch.severity !== undefined) row.severity = patch.severity;
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.message !== undefined) row.message = patch.message;
  if (patch.details !== undefined) row.details = canonicalJson(patch.details);
  if (patch.lastAt !== undefined) row.last_at = patch.lastAt;
  if (patch.resolvedAt !== undefined) row.resolved_at = patch.resolvedAt;
  return row;
}

function alertRecord(row: Selectable<AlertsTable>): AlertRecord {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    connectorId: row.connector_id,
    key: row.key,
    severity: row.severity as AlertSeverity,
    state: row.state as AlertState,
    message: row.message,
    details: JSON.parse(row.details) as Record<string, unknown>,
    firstAt: row.first_at,
    lastAt: row.last_at,
    resolvedAt: row.resolved_at,
  };
}
