import type pg from 'pg';
import { RuntimeError } from '../../../errors.js';
import { quoteIdent } from '../postgres-connection.js';
import { catalog } from './catalog.js';
import type { CdcTable } from './cdc-table.js';

/**
 * Makes sure `publication` publishes inserts, updates, deletes and truncates of `table`: creates it
 * (`FOR TABLE`) when absent, adds the table when the publication exists without it. For a partitioned
 * table the publication publishes via the partition root (`publish_via_partition_root = true`): set at
 * creation, or on an existing publication that lacks it when no other partitioned table depends on the
 * old setting. Returns what it did.
 */
export async function ensurePublication(
  client: pg.Client,
  publication: string,
  table: CdcTable,
): Promise<'created' | 'added' | 'altered' | 'present'> {
  let altered = false;
  for (let attempt = 0; ; attempt++) {
    const state = await publicationState(client, publication, table);
    try {
      if (!state.exists) {
        const via = table.partitioned ? ' WITH (publish_via_partition_root = true)' : '';
        await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${table.sql}${via}`);
        return 'created';
      }
      checkPublishes(state, publication);
      if (table.partitioned && !state.viaRoot) {
        if (state.allTables || state.otherPartitioned.length > 0) {
          const others = state.allTables ? 'every table (FOR ALL TABLES)' : state.otherPartitioned.join(', ');
          throw new RuntimeError(
            'config',
            `postgres cdc: publication ${publication} publishes partitioned tables by partition (publish_via_partition_root is off) and also covers ${others}, whose other readers rely on that; give this connector a publication of its own, or run ALTER PUBLICATION ${publication} SET (publish_via_partition_root = true)`,
          );
        }
        await alterViaRoot(client, publication, table);
        altered = true;
        continue;
      }
      if (!state.hasTable) {
        await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${table.sql}`);
        return 'added';
      }
      return altered ? 'altered' : 'present';
    } catch (error) {
      // Another reader created the publication or added the table between our check and our command.
      if ((error as { code?: string }).code === '42710' && attempt < 3) continue;
      throw error;
    }
  }
}

async function alterViaRoot(client: pg.Client, publication: string, table: CdcTable): Promise<void> {
  try {
    await client.query(`ALTER PUBLICATION ${quoteIdent(publication)} SET (publish_via_partition_root = true)`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    throw new RuntimeError(
      'config',
      `postgres cdc: publication ${publication} must publish ${table.sql} via its partition root, and this user may not change it (not its owner): have the owner run ALTER PUBLICATION ${publication} SET (publish_via_partition_root = true)`,
    );
  }
}

interface PublicationState {
  readonly exists: boolean;
  readonly hasTable: boolean;
  readonly publishes: { insert: boolean; update: boolean; delete: boolean };
  /** `publish_via_partition_root` (false before PostgreSQL 13). */
  readonly viaRoot: boolean;
  readonly allTables: boolean;
  /** Partitioned tables in the publication other than the table asked about. */
  readonly otherPartitioned: readonly string[];
}

export async function publicationState(
  client: pg.Client,
  publication: string,
  table: CdcTable,
): Promise<PublicationState> {
  const rows = await catalog<{
    pubinsert: boolean;
    pubupdate: boolean;
    pubdelete: boolean;
    puballtables: boolean;
    via_root: boolean | null;
    has_table: boolean;
    other_partitioned: string | null;
  }>(
    client,
    `SELECT p.pubinsert, p.pubupdate, p.pubdelete, p.puballtables,
            (to_jsonb(p) ->> 'pubviaroot')::boolean AS via_root,
            EXISTS (SELECT 1 FROM pg_publication_tables t WHERE t.pubname = p.pubname AND t.schemaname = $2 AND t.tablename = $3) AS has_table,
            (SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname)
               FROM pg_publication_rel r JOIN pg_class c ON c.oid = r.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE r.prpubid = p.oid AND c.relkind = 'p' AND c.oid <> $4) AS other_partitioned
       FROM pg_publication p WHERE p.pubname = $1`,
    [publication, table.schema, table.name, table.oid],
  );
  const row = rows[0];
  if (!row)
    return {
      exists: false,
      hasTable: false,
      publishes: { insert: false, update: false, delete: false },
      viaRoot: false,
      allTables: false,
      otherPartitioned: [],
    };
  return {
    exists: true,
    hasTable: row.has_table,
    publishes: { insert: row.pubinsert, update: row.pubupdate, delete: row.pubdelete },
    viaRoot: row.via_root === true,
    allTables: row.puballtables,
    otherPartitioned: row.other_partitioned ? row.other_partitioned.split(', ') : [],
  };
}

export function checkPublishes(state: PublicationState, publication: string): void {
  const missing = (['insert', 'update', 'delete'] as const).filter((op) => !state.publishes[op]);
  if (missing.length > 0) {
    throw new RuntimeError(
      'config',
      `postgres cdc: publication ${publication} does not publish ${missing.join(', ')}; the connector needs all of insert, update and delete (ALTER PUBLICATION ${publication} SET (publish = 'insert, update, delete, truncate'))`,
    );
  }
}
