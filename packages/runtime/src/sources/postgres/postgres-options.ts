import { z } from 'zod';
import { RuntimeError } from '../../errors.js';
import type { Defined } from '../kind.js';
import type { EntityRef } from '../source.js';
import { tlsOptions } from '../tls-options.js';

/** The provider names (manifest `source.provider`) the postgres kind reads. */
export const POSTGRES_PROVIDERS = ['postgres', 'postgresql'] as const;

/**
 * The postgres kind's settings. TLS travels in the URL (libpq's `sslmode`, `sslrootcert`, `sslcert`,
 * `sslkey`). A `log` read (CDC) uses a publication and a logical slot: named explicitly, or derived
 * from the connector id (`cf_<id>`, and `cf_<id>_<entity>` for the slot when each entity has its own).
 */
export const postgresOptions = z.strictObject({
  /** A connection URL, with `${NAME}` references already expanded. */
  url: z.string().min(1),
  /** TLS settings given apart from the URL (PEM file paths). */
  tls: tlsOptions.optional(),
  /** Rows per fetch / chunk (default 10 000). */
  chunkRows: z.number().int().positive().optional(),
  /** The publication of a log read. */
  publication: z.string().min(1).optional(),
  /** The logical replication slot of a log read. */
  slot: z.string().min(1).optional(),
  /** The connector id replication names derive from when `publication` or `slot` is absent. */
  connectorId: z.string().min(1).optional(),
  /** A slot per entity (a connector with several entities: a slot serves one reader). */
  slotPerEntity: z.boolean().optional(),
  /** Send the server a keep-alive/progress at least this often, so an idle slot does not pin WAL (default 10). */
  heartbeatSeconds: z.number().positive().optional(),
});

export type PostgresOptions = Defined<z.infer<typeof postgresOptions>>;

/** Replication object names for a connector: `cf_<connector id>`, lower-case and at most 63 bytes. */
export function replicationName(connectorId: string, entity?: string): string {
  const base = `cf_${connectorId}${entity ? `_${entity}` : ''}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  if (base.length <= 63) return base;
  // Long ids keep a readable head and a stable hash-like tail from the rest.
  let hash = 0;
  for (const ch of base) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `${base.slice(0, 54)}_${hash.toString(16).padStart(8, '0')}`;
}

/** The publication and slot a log read of `entity` uses. */
export function replicationOf(
  options: Pick<PostgresOptions, 'publication' | 'slot' | 'connectorId' | 'slotPerEntity'>,
  entity: Pick<EntityRef, 'name'>,
): { publication: string; slot: string } {
  const { connectorId } = options;
  const publication = options.publication ?? (connectorId !== undefined ? replicationName(connectorId) : undefined);
  const slot =
    options.slot ??
    (connectorId !== undefined
      ? replicationName(connectorId, options.slotPerEntity === true ? entity.name : undefined)
      : undefined);
  if (publication === undefined || slot === undefined)
    throw new RuntimeError(
      'config',
      `postgres: a log (cdc) read of ${entity.name} needs a publication and a slot, or a connector id to name them after`,
    );
  return { publication, slot };
}
