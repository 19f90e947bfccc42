import type { ConnectorManifest, Entity } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { replicationOf } from '../sources/postgres/postgres-options.js';
import type { EntityRef, ReadMode } from '../sources/source.js';

export { replicationName } from '../sources/postgres/postgres-options.js';

/**
 * The PostgreSQL publication and slot a CDC connector's entity reads from: `cf_<connector id>`, and a
 * slot per entity (`cf_<id>_<entity>`) when the connector has several (a slot serves one reader).
 */
export function replicationNamesOf(
  manifest: ConnectorManifest,
  entity?: string,
): { publication: string; slot: string } {
  return replicationOf(
    { connectorId: manifest.id, slotPerEntity: manifest.schema.entities.length > 1 },
    { name: entity ?? entityOf(manifest).name },
  );
}

/** The entity of a manifest a run reads: the named one, else the first. */
export function entityOf(manifest: ConnectorManifest, name?: string): Entity {
  const entity =
    name === undefined ? manifest.schema.entities[0] : manifest.schema.entities.find((e) => e.name === name);
  if (!entity) throw new RuntimeError('config', `manifest ${manifest.id} has no entity "${name}"`);
  return entity;
}

/** What the source reads for an entity: its table and the fields the lake keeps. */
export function entityRefOf(entity: Entity, fields: readonly string[]): EntityRef {
  return { name: entity.name, fields, primaryKey: entity.primaryKey ?? [] };
}

/**
 * The read mode from the manifest's update strategy (`cdc` reads the source's log). What a kind needs
 * beyond it (PostgreSQL's publication and slot) comes with the source (`createSource`).
 */
export function readModeOf(
  manifest: ConnectorManifest,
  options: { once?: boolean; lookbackSeconds?: number; entity?: string } = {},
): ReadMode {
  const { schema } = manifest;
  switch (schema.updateStrategy) {
    case 'full_refresh':
      return { strategy: 'full_refresh' };
    case 'incremental':
      return {
        strategy: 'incremental',
        cursor: schema.incrementalKey!,
        ...(options.lookbackSeconds !== undefined ? { lookbackSeconds: options.lookbackSeconds } : {}),
      };
    case 'cdc':
      return { strategy: 'log', ...(options.once ? { stopWhenCaughtUp: true } : {}) };
  }
}
