import type { ConnectorManifest, Entity } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import type { EntityRef, ReadMode } from '../sources/source.js';

/** Replication object names for a connector: `cf_<connector id>`, lower-case and at most 63 bytes. */
export function replicationName(connectorId: string, entity?: string): string {
  const base = `cf_${connectorId}${entity ? `_${entity}` : ''}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (base.length <= 63) return base;
  // Long ids keep a readable head and a stable hash-like tail from the rest.
  let hash = 0;
  for (const ch of base) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `${base.slice(0, 54)}_${hash.toString(16).padStart(8, '0')}`;
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
 * The read mode from the manifest's update strategy. CDC names derive from the connector id (and the
 * entity, when the connector has several: a slot serves one reader).
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
      return {
        strategy: 'cdc',
        publication: replicationName(manifest.id),
        slot: replicationName(manifest.id, manifest.schema.entities.length > 1 ? options.entity : undefined),
        heartbeatSeconds: 10,
        ...(options.once ? { stopWhenCaughtUp: true } : {}),
      };
  }
}
