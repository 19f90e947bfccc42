import type { Selectable } from 'kysely';
import { FactoryError } from '../../errors.js';
import type { DeploymentPatch, DeploymentRecord, DeploymentStatus } from '../../records/deployment.js';
import type { Environment } from '../../records/environment.js';
import type { DeploymentsTable } from '../database.js';
import { now, type StoreContext } from '../store-context.js';

export interface DeploymentFilter {
  connectorId?: string;
  statuses?: readonly DeploymentStatus[];
  environment?: Environment;
}

/** Deployments of connectors, one row per version deployed to an environment (`cf_deployments`). */
export interface DeploymentRepository {
  insert(record: DeploymentRecord): Promise<void>;
  get(id: string): Promise<DeploymentRecord | undefined>;
  /** Returns the updated record with a new updatedAt; a FactoryError 'not_found' when there is no deployment `id`. */
  update(id: string, patch: DeploymentPatch): Promise<DeploymentRecord>;
  /** Newest first; filtered by connector and/or statuses when given. */
  list(filter?: DeploymentFilter): Promise<DeploymentRecord[]>;
}

export function deploymentRepository(ctx: StoreContext): DeploymentRepository {
  const { db, guard } = ctx;
  return {
    insert: guard('insert deployment', (record: DeploymentRecord) =>
      ctx.write(async () => {
        await db.insertInto('cf_deployments').values(deploymentRow(record)).execute();
      }),
    ),
    get: guard('read deployment', async (id: string) => {
      const row = await db.selectFrom('cf_deployments').selectAll().where('id', '=', id).executeTakeFirst();
      return row && deploymentRecord(row);
    }),
    update: guard('update deployment', (id: string, patch: DeploymentPatch) =>
      ctx.write(async () => {
        const row = await db
          .updateTable('cf_deployments')
          .set({ ...deploymentPatchRow(patch), updated_at: now() })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
        if (!row) throw new FactoryError('not_found', `no deployment ${id} in state store ${ctx.location}`);
        return deploymentRecord(row);
      }),
    ),
    list: guard('list deployments', async (filter: DeploymentFilter = {}) => {
      let query = db.selectFrom('cf_deployments').selectAll();
      if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
      if (filter.statuses !== undefined) {
        if (filter.statuses.length === 0) return [];
        query = query.where('status', 'in', [...filter.statuses]);
      }
      if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
      const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map(deploymentRecord);
    }),
  };
}

function deploymentRow(record: DeploymentRecord): DeploymentsTable {
  return {
    id: record.id,
    connector_id: record.connectorId,
    version: record.version,
    environment: record.environment,
    target: record.target,
    status: record.status,
    package_dir: record.packageDir,
    working_dir: record.workingDir,
    package_digest: record.packageDigest,
    manifest_digest: record.manifestDigest,
    env_names: JSON.stringify(record.envNames),
    instance_id: record.instanceId,
    endpoint: record.endpoint,
    health_url: record.healthUrl,
    previous_deployment_id: record.previousDeploymentId,
    actor: record.actor,
    last_error: record.lastError,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function deploymentPatchRow(patch: DeploymentPatch): Partial<DeploymentsTable> {
  const row: Partial<DeploymentsTable> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.instanceId !== undefined) row.instance_id = patch.instanceId;
  if (patch.endpoint !== undefined) row.endpoint = patch.endpoint;
  if (patch.healthUrl !== undefined) row.health_url = patch.healthUrl;
  if (patch.lastError !== undefined) row.last_error = patch.lastError;
  if (patch.previousDeploymentId !== undefined) row.previous_deployment_id = patch.previousDeploymentId;
  if (patch.packageDir !== undefined) row.package_dir = patch.packageDir;
  if (patch.packageDigest !== undefined) row.package_digest = patch.packageDigest;
  if (patch.manifestDigest !== undefined) row.manifest_digest = patch.manifestDigest;
  return row;
}

function deploymentRecord(row: Selectable<DeploymentsTable>): DeploymentRecord {
  return {
    id: row.id,
    connectorId: row.connector_id,
    version: row.version,
    environment: row.environment as Environment,
    target: row.target,
    status: row.status as DeploymentStatus,
    packageDir: row.package_dir,
    workingDir: row.working_dir,
    packageDigest: row.package_digest,
    manifestDigest: row.manifest_digest,
    envNames: JSON.parse(row.env_names) as string[],
    instanceId: row.instance_id,
    endpoint: row.endpoint,
    healthUrl: row.health_url,
    previousDeploymentId: row.previous_deployment_id,
    actor: row.actor,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
