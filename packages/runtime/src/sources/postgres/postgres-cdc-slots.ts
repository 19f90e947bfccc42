import type pg from 'pg';
import { RuntimeError } from '../../errors.js';
import type { EntityRef, SqlConnectionOptions } from '../source.js';
import { connectPostgres, pgError, quoteIdent } from './postgres-connection.js';
import { canonicalPgTypes, converterFor, loadPgTypes, type TextConverter } from './postgres-values.js';

/**
 * Catalog, publication and slot helpers of the PostgreSQL CDC reader (postgres-cdc.ts): LSN text, name
 * validation, table resolution with replica identity, publication set-up, slot creation with an exported
 * snapshot, and `dropReplication` (run when a connector is removed).
 */

/** A catalog query with the canonical type parsers, whatever the client's own (numbers, booleans typed). */
async function catalog<R extends pg.QueryResultRow>(
  client: pg.Client,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return (await client.query<R>({ text, values, types: canonicalPgTypes })).rows;
}

// ---------------------------------------------------------------------------------------------- LSNs

/** An LSN (`16/B374D848`) as a 64-bit integer. */
export function parseLsn(text: unknown, what = 'LSN'): bigint {
  const match = typeof text === 'string' ? /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text) : null;
  if (!match)
    throw new RuntimeError('config', `postgres cdc: ${what} ${JSON.stringify(text)} is not an LSN like "16/B374D848"`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The text form PostgreSQL prints (`16/B374D848`). */
export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

// ---------------------------------------------------------------------------------------------- names

const REPLICATION_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Slot and publication names must be lower-case identifiers of at most 63 characters (no quoting needed). */
export function validateReplicationName(kind: 'slot' | 'publication', name: string): string {
  if (typeof name !== 'string' || !REPLICATION_NAME.test(name)) {
    throw new RuntimeError(
      'config',
      `postgres cdc: the ${kind} name ${JSON.stringify(name)} must be a lower-case identifier ([a-z_][a-z0-9_]*) of at most 63 characters`,
    );
  }
  return name;
}

// ---------------------------------------------------------------------------------------------- tables

/** A table resolved for CDC. */
export interface CdcTable {
  readonly oid: number;
  readonly schema: string;
  readonly name: string;
  /** `"schema"."name"`, for SQL text. */
  readonly sql: string;
  /** `relreplident`: d (default: primary key), f (full), i (index), n (nothing). */
  readonly replicaIdentity: string;
  /** The columns the replica identity logs for updates and deletes (all columns for FULL). */
  readonly identityColumns: readonly string[];
  /** The primary key's columns (empty without one). */
  readonly primaryKey: readonly string[];
  /**
   * A partitioned table (relkind p): published with `publish_via_partition_root`, so every partition's
   * changes (partitions attached later included) arrive under this table's oid and columns.
   */
  readonly partitioned: boolean;
  /** For a partitioned table, its leaf partitions whose updates or deletes carry no key (with why). */
  readonly keylessPartitions: readonly string[];
}

/** The server's version as a number (`170002`). */
export async function serverVersion(client: pg.Client): Promise<number> {
  const rows = await catalog<{ version: number }>(
    client,
    `SELECT current_setting('server_version_num')::int AS version`,
  );
  return rows[0]?.version ?? 0;
}

/**
 * Resolves `entity.name` to an ordinary or (PostgreSQL 13+) partitioned table: one name on the
 * search_path, `schema.table` split at a dot, or SQL syntax (`"My Schema".orders`). Views, materialized
 * views and foreign tables have no change log.
 */
export async function resolveCdcTable(client: pg.Client, name: string): Promise<CdcTable> {
  const candidates = [quoteIdent(name)];
  for (let dot = name.indexOf('.'); dot >= 0; dot = name.indexOf('.', dot + 1)) {
    candidates.push(`${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}`);
  }
  // to_regclass never raises for a missing name, but raises for syntax it cannot parse: try SQL syntax alone.
  const lookup = async (names: string[]) => {
    try {
      return await catalog<{ oid: number; nspname: string; relname: string; relkind: string; relreplident: string }>(
        client,
        `SELECT DISTINCT c.oid, n.nspname, c.relname, c.relkind, c.relreplident
           FROM unnest($1::text[]) AS candidate(name)
           JOIN pg_class c ON c.oid = to_regclass(candidate.name)
           JOIN pg_namespace n ON n.oid = c.relnamespace`,
        [names],
      );
    } catch {
      return [];
    }
  };
  let found = await lookup(candidates);
  if (found.length === 0) found = await lookup([name]);
  const display = JSON.stringify(name);
  if (found.length === 0)
    throw new RuntimeError(
      'config',
      `postgres cdc: no table ${display} that this user can see (checked the search_path)`,
    );
  if (found.length > 1) {
    const names = found.map((f) => `${quoteIdent(f.nspname)}.${quoteIdent(f.relname)}`).join(', ');
    throw new RuntimeError(
      'config',
      `postgres cdc: the table name ${display} is ambiguous (${names}); write it in SQL syntax with quotes`,
    );
  }
  const row = found[0]!;
  const sql = `${quoteIdent(row.nspname)}.${quoteIdent(row.relname)}`;
  const partitioned = row.relkind === 'p';
  if (row.relkind !== 'r' && !partitioned) {
    const kind = RELATION_KINDS[row.relkind] ?? `relkind ${row.relkind}`;
    throw new RuntimeError(
      'config',
      `postgres cdc: ${sql} is a ${kind}, which has no change log (logical replication captures tables and partitioned tables); read it with full_refresh or incremental`,
    );
  }
  if (partitioned && (await serverVersion(client)) < 130000) {
    throw new RuntimeError(
      'config',
      `postgres cdc: ${sql} is a partitioned table, which logical replication captures from PostgreSQL 13 on (publish_via_partition_root); this server is older: read it with incremental, or capture each partition as its own entity`,
    );
  }
  const indexed = await catalog<{ attname: string; primary: boolean; replident: boolean }>(
    client,
    `SELECT a.attname, i.indisprimary AS primary, i.indisreplident AS replident
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND (i.indisprimary OR i.indisreplident)
      ORDER BY k.ord`,
    [row.oid],
  );
  const primaryKey = indexed.filter((r) => r.primary).map((r) => r.attname);
  let identityColumns: string[] = [];
  if (row.relreplident === 'd') identityColumns = primaryKey;
  if (row.relreplident === 'i') identityColumns = indexed.filter((r) => r.replident).map((r) => r.attname);
  if (row.relreplident === 'f') {
    const all = await catalog<{ attname: string }>(
      client,
      `SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
      [row.oid],
    );
    identityColumns = all.map((r) => r.attname);
  }
  return {
    oid: row.oid,
    schema: row.nspname,
    name: row.relname,
    sql,
    replicaIdentity: row.relreplident,
    identityColumns,
    primaryKey,
    partitioned,
    keylessPartitions: partitioned ? await keylessPartitions(client, row.oid) : [],
  };
}

const RELATION_KINDS: Readonly<Record<string, string>> = {
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
  S: 'sequence',
  c: 'composite type',
  i: 'index',
  I: 'partitioned index',
  t: 'TOAST table',
};

/**
 * The leaf partitions of `oid` whose updates and deletes PostgreSQL cannot log with a key: REPLICA
 * IDENTITY NOTHING, DEFAULT without a primary key, or USING INDEX on an index that is gone. (Each leaf
 * logs with its own replica identity; the parent's is not inherited.)
 */
async function keylessPartitions(client: pg.Client, oid: number): Promise<string[]> {
  const rows = await catalog<{ leaf: string; relreplident: string; has_key: boolean }>(
    client,
    `SELECT format('%I.%I', n.nspname, c.relname) AS leaf, c.relreplident,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisvalid
                       AND (CASE c.relreplident WHEN 'd' THEN i.indisprimary WHEN 'i' THEN i.indisreplident ELSE false END)) AS has_key
       FROM pg_partition_tree($1::regclass) t
       JOIN pg_class c ON c.oid = t.relid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE t.isleaf
      ORDER BY 1`,
    [oid],
  );
  return rows
    .filter((r) => r.relreplident === 'n' || (r.relreplident !== 'f' && !r.has_key))
    .map(
      (r) =>
        `${r.leaf} (REPLICA IDENTITY ${r.relreplident === 'n' ? 'NOTHING' : r.relreplident === 'd' ? 'DEFAULT without a primary key' : 'USING INDEX without a valid index'})`,
    );
}

/**
 * Checks that updates and deletes of the table can be captured with the entity's key: REPLICA IDENTITY
 * DEFAULT with a primary key, USING INDEX, or FULL, covering `entity.primaryKey`. The table is never
 * altered here: changing a user's table is theirs to decide.
 */
export function checkReplicaIdentity(table: CdcTable, entity: EntityRef): void {
  const fix = `add a primary key, or run ALTER TABLE ${table.sql} REPLICA IDENTITY FULL`;
  if (table.replicaIdentity === 'n') {
    throw new RuntimeError(
      'config',
      `postgres cdc: ${table.sql} has REPLICA IDENTITY NOTHING, so its updates and deletes cannot be captured: ${fix}`,
    );
  }
  if (table.identityColumns.length === 0) {
    throw new RuntimeError(
      'config',
      `postgres cdc: ${table.sql} has REPLICA IDENTITY ${table.replicaIdentity === 'i' ? 'USING INDEX without a valid index' : 'DEFAULT but no primary key'}, so deletes would carry no key: ${fix}`,
    );
  }
  if (table.keylessPartitions.length > 0) {
    throw new RuntimeError(
      'config',
      `postgres cdc: partitions of ${table.sql} log updates and deletes without a key: ${table.keylessPartitions.join(', ')}; add the primary key to the partitioned table, or set REPLICA IDENTITY FULL on each of them`,
    );
  }
  const missing = entity.primaryKey.filter((k) => !table.identityColumns.includes(k));
  if (missing.length > 0) {
    throw new RuntimeError(
      'config',
      `postgres cdc: the entity's key ${missing.map((k) => JSON.stringify(k)).join(', ')} is not part of the replica identity of ${table.sql} (${table.identityColumns.join(', ')}), so deletes could not be matched: ${fix}, or declare the table's key as the entity's primaryKey`,
    );
  }
}

/** A column of a CDC table with its type and text converter. */
export interface CdcColumn {
  readonly name: string;
  readonly attnum: number;
  readonly typeOid: number;
  /** The type to cast text parameters to (no typmod), e.g. `bigint`. */
  readonly castType: string;
  readonly generated: boolean;
  readonly convert: TextConverter;
}

/** The table's columns (attnum order) with the same text converters the postgres source uses. */
export async function loadCdcColumns(client: pg.Client, table: CdcTable): Promise<CdcColumn[]> {
  const rows = await catalog<{
    attnum: number;
    attname: string;
    atttypid: number;
    cast_type: string;
    generated: boolean;
  }>(
    client,
    `SELECT attnum, attname, atttypid, format_type(atttypid, NULL) AS cast_type, attgenerated <> '' AS generated
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table.oid],
  );
  const types = await loadPgTypes(
    client,
    rows.map((r) => r.atttypid),
  );
  return rows.map((r) => ({
    name: r.attname,
    attnum: r.attnum,
    typeOid: r.atttypid,
    castType: r.cast_type,
    generated: r.generated,
    convert: converterFor(types(r.atttypid).info),
  }));
}

/**
 * The entity's fields (every column when it names none), checked against the table. Generated columns are
 * refused for replication (pgoutput does not send them) and left out of "every column".
 */
export function selectCdcFields(
  columns: readonly CdcColumn[],
  entity: EntityRef,
  table: CdcTable,
  replication = true,
): CdcColumn[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const chosen =
    entity.fields.length === 0
      ? columns.filter((c) => !replication || !c.generated)
      : entity.fields.map((f) => byName.get(f) ?? f);
  return chosen.map((c) => {
    if (typeof c === 'string') {
      throw new RuntimeError(
        'config',
        `postgres cdc: ${table.sql} has no column ${JSON.stringify(c)} (it has ${columns.map((x) => JSON.stringify(x.name)).join(', ')})`,
      );
    }
    if (replication && c.generated) {
      throw new RuntimeError(
        'config',
        `postgres cdc: ${JSON.stringify(c.name)} of ${table.sql} is a generated column, which pgoutput does not replicate; leave it out of the entity's fields`,
      );
    }
    return c;
  });
}

// ---------------------------------------------------------------------------------------------- publication

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

// ---------------------------------------------------------------------------------------------- slots

export interface SlotInfo {
  readonly plugin: string | null;
  readonly slotType: string;
  readonly database: string | null;
  readonly activePid: number | null;
  readonly confirmedFlush: bigint | undefined;
  readonly walStatus: string | null;
}

export async function slotInfo(client: pg.Client, slot: string): Promise<SlotInfo | undefined> {
  const rows = await catalog<{
    plugin: string | null;
    slot_type: string;
    database: string | null;
    active_pid: number | null;
    confirmed_flush_lsn: string | null;
    wal_status: string | null;
  }>(
    client,
    `SELECT plugin, slot_type, database, active_pid, confirmed_flush_lsn::text AS confirmed_flush_lsn, wal_status
       FROM pg_replication_slots WHERE slot_name = $1`,
    [slot],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    plugin: row.plugin,
    slotType: row.slot_type,
    database: row.database,
    activePid: row.active_pid,
    confirmedFlush: row.confirmed_flush_lsn ? parseLsn(row.confirmed_flush_lsn) : undefined,
    walStatus: row.wal_status,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Terminates the walsender holding `slot`, when `onlyApplication` is unset or matches its
 * application_name (our own stale connection after a network failure). Returns whether one was signalled.
 */
export async function terminateSlotHolder(client: pg.Client, slot: string, onlyApplication?: string): Promise<boolean> {
  const rows = await catalog<{ terminated: boolean | null }>(
    client,
    `SELECT pg_terminate_backend(s.active_pid) AS terminated
       FROM pg_replication_slots s LEFT JOIN pg_stat_activity a ON a.pid = s.active_pid
      WHERE s.slot_name = $1 AND s.active_pid IS NOT NULL AND ($2::text IS NULL OR a.application_name = $2)`,
    [slot, onlyApplication ?? null],
  );
  return rows.some((r) => r.terminated === true);
}

/** Drops `slot` if it exists, terminating the walsender that holds it first. Idempotent. */
export async function dropSlot(client: pg.Client, slot: string): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const info = await slotInfo(client, slot);
    if (!info) return false;
    if (info.activePid !== null) {
      await terminateSlotHolder(client, slot);
      await sleep(Math.min(50 * 2 ** attempt, 1000));
      if (attempt < 30) continue;
    }
    try {
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return true;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === '42704') return false; // dropped by someone else meanwhile
      if (code === '55006' && attempt < 30) continue; // became active again (a walsender raced us)
      throw error;
    }
  }
}

/**
 * Creates the logical slot with pgoutput on a replication connection and exports its snapshot. The
 * snapshot lives only while that connection stays idle: import it (`SET TRANSACTION SNAPSHOT`) before
 * running anything else on it.
 */
export async function createSlotWithSnapshot(
  replication: pg.Client,
  slot: string,
): Promise<{ consistentPoint: bigint; snapshotName: string }> {
  const { rows } = await replication.query<{ consistent_point: string; snapshot_name: string | null }>(
    `CREATE_REPLICATION_SLOT ${quoteIdent(slot)} LOGICAL pgoutput EXPORT_SNAPSHOT`,
  );
  const row = rows[0];
  if (!row || !row.snapshot_name)
    throw new RuntimeError('internal', `postgres cdc: CREATE_REPLICATION_SLOT ${slot} returned no snapshot`);
  return { consistentPoint: parseLsn(row.consistent_point, 'consistent_point'), snapshotName: row.snapshot_name };
}

// ---------------------------------------------------------------------------------------------- removal

/**
 * Drops the connector's replication slot (terminating a walsender still attached to it) and its
 * publication. Idempotent: missing ones are fine. Run when a connector is removed, so the slot stops
 * pinning WAL on the server.
 */
export async function dropReplication(
  url: string | SqlConnectionOptions,
  slot: string,
  publication: string,
): Promise<void> {
  validateReplicationName('slot', slot);
  validateReplicationName('publication', publication);
  const options: SqlConnectionOptions = typeof url === 'string' ? { url } : url;
  const client = await connectPostgres(options, { applicationName: 'connector-factory-drop' });
  try {
    await dropSlot(client, slot);
    await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(publication)}`);
  } catch (error) {
    throw pgError(error, options.url, `dropping slot ${slot} and publication ${publication}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh pg.Client for replication (walsender) use, with the canonical session settings. */
export async function connectReplication(options: SqlConnectionOptions, applicationName: string): Promise<pg.Client> {
  return await connectPostgres(options, { applicationName, extra: { replication: 'database' } });
}
