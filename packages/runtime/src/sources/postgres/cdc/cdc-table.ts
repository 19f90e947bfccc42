import type pg from 'pg';
import { RuntimeError } from '../../../errors.js';
import type { EntityRef } from '../../source.js';
import { quoteIdent } from '../postgres-connection.js';
import { converterFor, loadPgTypes, type TextConverter } from '../postgres-values.js';
import { catalog } from './catalog.js';

/**
 * The captured table as the CDC reader sees it: resolution of the entity's name, replica identity (what
 * updates and deletes log as the key), partitions, and the columns with their text converters.
 */

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
 * refused (pgoutput does not send them) and left out of "every column".
 */
export function selectCdcFields(columns: readonly CdcColumn[], entity: EntityRef, table: CdcTable): CdcColumn[] {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const chosen =
    entity.fields.length === 0 ? columns.filter((c) => !c.generated) : entity.fields.map((f) => byName.get(f) ?? f);
  return chosen.map((c) => {
    if (typeof c === 'string') {
      throw new RuntimeError(
        'config',
        `postgres cdc: ${table.sql} has no column ${JSON.stringify(c)} (it has ${columns.map((x) => JSON.stringify(x.name)).join(', ')})`,
      );
    }
    if (c.generated) {
      throw new RuntimeError(
        'config',
        `postgres cdc: ${JSON.stringify(c.name)} of ${table.sql} is a generated column, which pgoutput does not replicate; leave it out of the entity's fields`,
      );
    }
    return c;
  });
}

/** The entity as the decoder sees it. */
export interface TableShape {
  readonly table: CdcTable;
  readonly fields: readonly CdcColumn[];
  readonly columns: ReadonlyMap<string, CdcColumn>;
  /** Columns that identify a row in the lake (key changes become delete + update). */
  readonly mergeKey: readonly string[];
  readonly unchangedToast: 'fetch' | 'omit';
}

/** Resolves the table, its columns and key, and checks its replica identity. */
export async function describeTable(
  client: pg.Client,
  entity: EntityRef,
  unchangedToast: 'fetch' | 'omit',
): Promise<TableShape> {
  const table = await resolveCdcTable(client, entity.name);
  checkReplicaIdentity(table, entity);
  const columns = await loadCdcColumns(client, table);
  const fields = selectCdcFields(columns, entity, table);
  const mergeKey =
    entity.primaryKey.length > 0
      ? entity.primaryKey
      : table.primaryKey.length > 0
        ? table.primaryKey
        : table.replicaIdentity === 'i'
          ? table.identityColumns
          : [];
  return { table, fields, columns: new Map(columns.map((c) => [c.name, c])), mergeKey, unchangedToast };
}
