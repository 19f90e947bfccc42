import type { Selectable } from 'kysely';
import { canonicalJson } from '../../audit/canonical-json.js';
import type { RegistryEntry } from '../../records/registry.js';
import type { ConnectorRegistryTable } from '../database.js';
import type { StoreContext } from '../store-context.js';

/** The connector registry: one entry per certified connector version (`cf_connector_registry`). */
export interface RegistryRepository {
  /** Adds (or replaces) the entry of a certified connector version. */
  put(entry: RegistryEntry): Promise<void>;
  get(connectorId: string, version: string): Promise<RegistryEntry | undefined>;
  /** Newest first (by certifiedAt). */
  list(connectorId?: string): Promise<RegistryEntry[]>;
}

export function registryRepository(ctx: StoreContext): RegistryRepository {
  const { db, guard } = ctx;
  return {
    put: guard('put registry entry', (entry: RegistryEntry) =>
      ctx.write(async () => {
        const row = registryRow(entry);
        await db
          .insertInto('cf_connector_registry')
          .values(row)
          .onConflict((oc) =>
            oc.columns(['connector_id', 'version']).doUpdateSet({
              deployment_id: row.deployment_id,
              manifest_digest: row.manifest_digest,
              evidence: row.evidence,
              certifier: row.certifier,
              certified_at: row.certified_at,
            }),
          )
          .execute();
      }),
    ),
    get: guard('read registry entry', async (connectorId: string, version: string) => {
      const row = await db
        .selectFrom('cf_connector_registry')
        .selectAll()
        .where('connector_id', '=', connectorId)
        .where('version', '=', version)
        .executeTakeFirst();
      return row && registryEntry(row);
    }),
    list: guard('list registry entries', async (connectorId?: string) => {
      let query = db.selectFrom('cf_connector_registry').selectAll();
      if (connectorId !== undefined) query = query.where('connector_id', '=', connectorId);
      const rows = await query
        .orderBy('certified_at', 'desc')
        .orderBy('connector_id', 'desc')
        .orderBy('version', 'desc')
        .execute();
      return rows.map(registryEntry);
    }),
  };
}

function registryRow(entry: RegistryEntry): ConnectorRegistryTable {
  return {
    connector_id: entry.connectorId,
    version: entry.version,
    deployment_id: entry.deploymentId,
    manifest_digest: entry.manifestDigest,
    evidence: canonicalJson(entry.evidence),
    certifier: entry.certifier,
    certified_at: entry.certifiedAt,
  };
}

function registryEntry(row: Selectable<ConnectorRegistryTable>): RegistryEntry {
  return {
    connectorId: row.connector_id,
    version: row.version,
    deploymentId: row.deployment_id,
    manifestDigest: row.manifest_digest,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    certifier: row.certifier,
    certifiedAt: row.certified_at,
  };
}
