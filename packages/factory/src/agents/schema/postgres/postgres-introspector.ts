import { mapPgType as runtimePgType } from '@connector-factory/runtime/postgres-types';
import pg from 'pg';
import type { CustomTypesConfig, QueryResultRow } from 'pg';
import type { FieldType } from '@connector-factory/ir';
import { FactoryError } from '../../../errors.js';
import { driverError, redactConnectionUrl } from '../connection.js';
import {
  DEFAULT_SAMPLE_ROWS,
  type ChangeCapture,
  type EntityDescription,
  type ForeignKey,
  type IntrospectedField,
  type IntrospectionCapabilities,
  type IntrospectorOptions,
  type SampleRow,
  type SchemaIntrospector,
  type UniqueKey,
} from '../introspector.js';
import type { NumberHint } from '../schema-definition.js';

export interface PostgresIntrospectorOptions extends IntrospectorOptions {
  /** The schema whose tables are the entities (default `public`). */
  readonly schema?: string;
  /** Server-side limit for each catalog or sample query (default 60 s). */
  readonly statementTimeoutMs?: number;
  /** Connection timeout (default 15 s). */
  readonly connectTimeoutMs?: number;
}

/** A PostgreSQL identifier, quoted: `"` doubled, so any name (spaces, quotes, unicode, reserved words) works. */
export function quotePgIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** One row of pg_type, enough to map a column (domains are followed to their base type). */
interface PgType {
  readonly oid: number;
  readonly name: string;
  /** typtype: b base, c composite, d domain, e enum, p pseudo, r range, m multirange. */
  readonly kind: string;
  /** typcategory: A array, N numeric, S string, … */
  readonly category: string;
  readonly baseOid: number;
  readonly baseTypmod: number;
  readonly notNull: boolean;
}

interface MappedPgType {
  readonly type: FieldType;
  readonly numberHint?: NumberHint;
  readonly note?: string;
}

/**
 * The IR type of a (base) PostgreSQL type — the runtime's mapping, so the manifest the factory writes
 * and the values the connector reads always agree — plus a note where a numeric becomes text.
 */
export function mapPgType(base: Pick<PgType, 'name' | 'category'>, typmod: number): MappedPgType {
  const mapped = runtimePgType(base, typmod);
  if (base.name === 'numeric' && mapped.type === 'string') {
    return {
      type: 'string',
      note: "numeric without a precision, or beyond the lake's decimal(38), is kept as its exact text (string)",
    };
  }
  return mapped.numberHint === undefined
    ? { type: mapped.type }
    : { type: mapped.type, numberHint: mapped.numberHint as NumberHint };
}

/** Every value as PostgreSQL's text, for sampling (no Date objects, no lossy numbers). */
const TEXT_VALUES: CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as unknown as CustomTypesConfig['getTypeParser'],
};

interface RelationRow {
  readonly oid: number;
  readonly kind: string;
  readonly estimate: number;
  /** relreplident: d default (the primary key), f full, i using index, n nothing. */
  readonly replicaIdentity: string;
  /** The current user owns the relation (directly, through a role, or as a superuser). */
  readonly owned: boolean;
  /** The current user may SELECT from it (the whole table, or at least one column). */
  readonly readable: boolean;
  readonly user: string;
  /** The current user may create publications in this database (CREATE on it). */
  readonly mayPublish: boolean;
  readonly serverVersion: number;
}

const RELATION_KINDS: Readonly<Record<string, string>> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
};

/**
 * Reads a PostgreSQL schema from the catalog (pg_catalog; every name a parameter, every identifier in
 * SQL quoted), in a read-only session.
 */
export class PostgresIntrospector implements SchemaIntrospector {
  readonly provider = 'postgres';
  readonly location: string;
  readonly #types = new Map<number, PgType>();
  readonly #sampleRows: number;

  private constructor(
    private readonly client: pg.Client,
    private readonly url: string,
    readonly schema: string,
    sampleRows: number,
  ) {
    this.location = `${redactConnectionUrl(url)} schema ${schema}`;
    this.#sampleRows = sampleRows;
  }

  /** Connects with `url` (already expanded from the environment). */
  static async connect(url: string, options: PostgresIntrospectorOptions = {}): Promise<PostgresIntrospector> {
    const client = new pg.Client({
      connectionString: url,
      application_name: 'connector-factory-schema',
      statement_timeout: options.statementTimeoutMs ?? 60_000,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 15_000,
    });
    // A dropped connection surfaces as the failing query's error; without a listener it would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY');
    } catch (error) {
      await client.end().catch(() => undefined);
      throw driverError('postgres', url, 'connecting', error, { connecting: true });
    }
    const sampleRows = Math.max(0, Math.floor(options.sampleRows ?? DEFAULT_SAMPLE_ROWS));
    return new PostgresIntrospector(client, url, options.schema ?? 'public', sampleRows);
  }

  async #query<R extends QueryResultRow>(what: string, text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.client.query<R>({ text, values })).rows;
    } catch (error) {
      throw driverError('postgres', this.url, what, error);
    }
  }

  async listEntities(filter?: readonly string[]): Promise<string[]> {
    const schemas = await this.#query(
      'checking the schema',
      'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1',
      [this.schema],
    );
    if (schemas.length === 0) {
      throw new FactoryError('not_found', `postgres: schema "${this.schema}" does not exist (${this.location})`);
    }
    // Tables, partitioned tables (not their partitions), views, materialized views and foreign tables.
    const rows = await this.#query<{ name: string }>(
      'listing tables',
      `SELECT c.relname AS name
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition
        ORDER BY c.relname COLLATE "C"`,
      [this.schema],
    );
    const names = rows.map((row) => row.name);
    if (filter === undefined) return names;
    const missing = filter.filter((name) => !names.includes(name));
    if (missing.length > 0) {
      throw new FactoryError(
        'not_found',
        `postgres: no table ${missing.map((name) => `"${name}"`).join(', ')} in schema "${this.schema}"`,
        [`tables there: ${names.length > 0 ? names.slice(0, 50).join(', ') : '(none)'}`],
      );
    }
    return [...new Set(filter)];
  }

  async #relation(entity: string): Promise<RelationRow> {
    const rows = await this.#query<RelationRow>(
      `describing "${entity}"`,
      `SELECT c.oid::int8::float8 AS oid, c.relkind AS kind, c.reltuples::float8 AS estimate,
              c.relreplident AS "replicaIdentity", pg_catalog.pg_has_role(c.relowner, 'USAGE') AS owned,
              (pg_catalog.has_table_privilege(c.oid, 'SELECT') OR pg_catalog.has_any_column_privilege(c.oid, 'SELECT')) AS readable,
              current_user AS user,
              pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE') AS "mayPublish",
              current_setting('server_version_num')::int AS "serverVersion"
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relname = $2`,
      [this.schema, entity],
    );
    const row = rows[0];
    if (row === undefined)
      throw new FactoryError('not_found', `postgres: no table "${entity}" in schema "${this.schema}"`);
    return row;
  }

  /** Loads the pg_type rows of `oids` and of the base types of any domains among them. */
  async #loadTypes(oids: readonly number[]): Promise<void> {
    let pending = [...new Set(oids)].filter((oid) => !this.#types.has(oid));
    while (pending.length > 0) {
      const rows = await this.#query<PgType>(
        'reading types',
        `SELECT t.oid::int8::float8 AS oid, t.typname AS name, t.typtype AS kind, t.typcategory AS category,
                t.typbasetype::int8::float8 AS "baseOid", t.typtypmod AS "baseTypmod", t.typnotnull AS "notNull"
           FROM pg_catalog.pg_type t WHERE t.oid = ANY($1::oid[])`,
        [pending],
      );
      for (const row of rows) this.#types.set(row.oid, row);
      pending = rows
        .filter((row) => row.kind === 'd' && !this.#types.has(row.baseOid))
        .map((row) => row.baseOid)
        .filter((oid, i, all) => all.indexOf(oid) === i);
    }
  }

  /** Follows domains down to the base type; a NOT NULL domain makes its columns non-nullable. */
  #resolveType(oid: number, typmod: number): { base: PgType; typmod: number; notNull: boolean } | undefined {
    let type = this.#types.get(oid);
    let notNull = false;
    let mod = typmod;
    for (let depth = 0; type !== undefined && type.kind === 'd' && depth < 32; depth++) {
      notNull ||= type.notNull;
      if (mod < 0 || type.baseTypmod >= 0) mod = type.baseTypmod;
      type = this.#types.get(type.baseOid);
    }
    return type === undefined ? undefined : { base: type, typmod: mod, notNull };
  }

  async describe(entity: string): Promise<EntityDescription> {
    const relation = await this.#relation(entity);
    const what = `describing "${entity}"`;
    const qualified = `${quotePgIdent(this.schema)}.${quotePgIdent(entity)}`;
    if (!relation.readable) {
      throw new FactoryError(
        'source_permission',
        `postgres: user "${relation.user}" may not read ${qualified} (no SELECT privilege): run GRANT SELECT ON ${qualified} TO ${quotePgIdent(relation.user)}`,
      );
    }
    const columns = await this.#query<{
      name: string;
      notNull: boolean;
      sourceType: string;
      typeOid: number;
      typmod: number;
    }>(
      what,
      `SELECT a.attname AS name, a.attnotnull AS "notNull", pg_catalog.format_type(a.atttypid, a.atttypmod) AS "sourceType",
              a.atttypid::int8::float8 AS "typeOid", a.atttypmod AS typmod
         FROM pg_catalog.pg_attribute a
        WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [relation.oid],
    );
    await this.#loadTypes(columns.map((column) => column.typeOid));
    const notes: string[] = [];
    const fields: IntrospectedField[] = columns.map((column) => {
      const resolved = this.#resolveType(column.typeOid, column.typmod);
      const mapped: MappedPgType = resolved ? mapPgType(resolved.base, resolved.typmod) : { type: 'string' };
      if (mapped.note !== undefined) notes.push(`${entity}.${column.name} (${column.sourceType}): ${mapped.note}`);
      return {
        name: column.name,
        type: mapped.type,
        nullable: !(column.notNull || resolved?.notNull === true),
        ...(mapped.numberHint !== undefined ? { numberHint: mapped.numberHint } : {}),
        sourceType: column.sourceType,
      };
    });

    // Unique indexes without predicate or expressions cover primary keys, unique constraints and plain
    // unique indexes alike; only key columns count (not INCLUDE columns).
    const indexes = await this.#query<{ name: string; primary: boolean; columns: string[] | null }>(
      what,
      `SELECT ic.relname AS name, i.indisprimary AS primary,
              (SELECT json_agg(a.attname ORDER BY k.ord)
                 FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                WHERE k.ord <= i.indnkeyatts) AS columns
         FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid
          AND i.indpred IS NULL AND i.indexprs IS NULL
        ORDER BY i.indisprimary DESC, ic.relname COLLATE "C"`,
      [relation.oid],
    );
    const primaryKey = indexes.find((index) => index.primary)?.columns ?? [];
    const uniqueKeys: UniqueKey[] = indexes
      .filter((index) => !index.primary && index.columns !== null && index.columns.length > 0)
      .map((index) => ({ name: index.name, columns: index.columns ?? [] }));

    // Foreign keys declared on this table (not the per-partition copies PostgreSQL adds).
    const foreignKeyRows = await this.#query<{
      name: string;
      refSchema: string;
      refTable: string;
      columns: string[];
      refColumns: string[];
    }>(
      what,
      `SELECT con.conname AS name, fn.nspname AS "refSchema", fc.relname AS "refTable",
              (SELECT json_agg(a.attname ORDER BY k.ord)
                 FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
              (SELECT json_agg(a.attname ORDER BY k.ord)
                 FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS "refColumns"
         FROM pg_catalog.pg_constraint con
         JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
         JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE con.conrelid = $1::oid AND con.contype = 'f' AND con.conparentid = 0
        ORDER BY con.conname COLLATE "C"`,
      [relation.oid],
    );
    const foreignKeys: ForeignKey[] = foreignKeyRows.map((row) => ({
      name: row.name,
      columns: row.columns,
      referencedEntity: row.refSchema === this.schema ? row.refTable : `${row.refSchema}.${row.refTable}`,
      referencedColumns: row.refColumns,
    }));

    const sample = await this.#sample(entity, relation, fields, notes);
    const changeCapture = await this.#changeCapture(entity, relation, primaryKey);
    return { name: entity, fields, primaryKey, uniqueKeys, foreignKeys, sample, notes, changeCapture };
  }

  /**
   * What the runtime's CDC reader will need of this relation, checked now: a table or (PostgreSQL 13+)
   * partitioned table, a replica identity that logs a key with updates and deletes (on every leaf
   * partition, as each logs with its own), covering the primary key; and a user who may create the
   * connector's publication for it (the table's owner, CREATE on the database).
   */
  async #changeCapture(entity: string, relation: RelationRow, primaryKey: readonly string[]): Promise<ChangeCapture> {
    const qualified = `${quotePgIdent(this.schema)}.${quotePgIdent(entity)}`;
    const kind = RELATION_KINDS[relation.kind] ?? `relation of kind ${relation.kind}`;
    const partitioned = relation.kind === 'p';
    if (relation.kind !== 'r' && !partitioned) {
      return {
        supported: false,
        reason: `${entity} is a ${kind}, which has no change log (logical replication captures tables and partitioned tables)`,
      };
    }
    if (partitioned && relation.serverVersion < 130000) {
      return {
        supported: false,
        reason: `${entity} is a partitioned table, which logical replication captures from PostgreSQL 13 on (publish_via_partition_root); this server is ${Math.floor(relation.serverVersion / 10000)}`,
      };
    }
    const failed: string[] = [];
    const what = `checking the replica identity of "${entity}"`;
    const identity = relation.replicaIdentity;
    if (identity === 'n') {
      failed.push(
        `${entity} has REPLICA IDENTITY NOTHING, so its updates and deletes cannot be captured (ALTER TABLE ${qualified} REPLICA IDENTITY DEFAULT, with a primary key)`,
      );
    } else if (identity === 'd' && primaryKey.length === 0) {
      failed.push(
        `${entity} has no primary key, and with REPLICA IDENTITY DEFAULT its updates and deletes carry no key (add a primary key, or ALTER TABLE ${qualified} REPLICA IDENTITY FULL and declare the key)`,
      );
    } else if (identity === 'i') {
      const rows = await this.#query<{ columns: string[] | null }>(
        what,
        `SELECT (SELECT json_agg(a.attname ORDER BY k.ord)
                   FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) AS columns
           FROM pg_catalog.pg_index i WHERE i.indrelid = $1::oid AND i.indisreplident AND i.indisvalid`,
        [relation.oid],
      );
      const columns = rows[0]?.columns ?? [];
      const missing = primaryKey.filter((column) => !columns.includes(column));
      if (columns.length === 0) {
        failed.push(
          `${entity} has REPLICA IDENTITY USING INDEX without a valid index, so its deletes carry no key (ALTER TABLE ${qualified} REPLICA IDENTITY DEFAULT)`,
        );
      } else if (missing.length > 0) {
        failed.push(
          `the replica identity index of ${entity} (${columns.join(', ')}) does not cover its primary key (${missing.join(', ')}), so deletes could not be matched (ALTER TABLE ${qualified} REPLICA IDENTITY DEFAULT)`,
        );
      }
    }
    let leaves = 0;
    if (partitioned) {
      const rows = await this.#query<{ leaf: string; identity: string; keyed: boolean }>(
        what,
        `SELECT format('%I.%I', n.nspname, c.relname) AS leaf, c.relreplident AS identity,
                EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisvalid
                          AND (CASE c.relreplident WHEN 'd' THEN i.indisprimary WHEN 'i' THEN i.indisreplident ELSE false END)) AS keyed
           FROM pg_catalog.pg_partition_tree($1::oid) t
           JOIN pg_catalog.pg_class c ON c.oid = t.relid
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE t.isleaf
          ORDER BY 1`,
        [relation.oid],
      );
      leaves = rows.length;
      const keyless = rows
        .filter((row) => row.identity === 'n' || (row.identity !== 'f' && !row.keyed))
        .map(
          (row) =>
            `${row.leaf} (REPLICA IDENTITY ${row.identity === 'n' ? 'NOTHING' : row.identity === 'd' ? 'DEFAULT without a primary key' : 'USING INDEX without a valid index'})`,
        );
      if (keyless.length > 0) {
        failed.push(
          `partitions of ${entity} log updates and deletes without a key: ${keyless.join(', ')} (add the primary key to ${qualified}, or set REPLICA IDENTITY FULL on each)`,
        );
      }
    }
    if (!relation.owned) {
      failed.push(
        `user "${relation.user}" does not own ${qualified}, so it cannot add it to the connector's publication (CREATE PUBLICATION … FOR TABLE needs the table's owner: connect as the owner, or have the owner create the publication)`,
      );
    } else if (!relation.mayPublish) {
      failed.push(
        `user "${relation.user}" may not create publications in this database (GRANT CREATE ON DATABASE … TO ${quotePgIdent(relation.user)})`,
      );
    }
    if (failed.length > 0) return { supported: false, reason: failed.join('; ') };
    if (!partitioned) return { supported: true };
    return {
      supported: true,
      reason: `a partitioned table with ${leaves} ${leaves === 1 ? 'partition' : 'partitions'}: the publication publishes via its root (publish_via_partition_root), so the changes of every partition, including partitions attached later, arrive as ${entity}; a detached partition's rows stay in the lake`,
    };
  }

  /**
   * Up to `sampleRows` rows of the text and integer columns (where PII lives). Large tables are sampled
   * by block (`TABLESAMPLE SYSTEM`) so the read stays bounded; small ones and views by `LIMIT`.
   */
  async #sample(
    entity: string,
    relation: RelationRow,
    fields: readonly IntrospectedField[],
    notes: string[],
  ): Promise<SampleRow[]> {
    const limit = this.#sampleRows;
    const columns = fields.filter(
      (field) => field.type === 'string' || (field.type === 'number' && field.numberHint === 'int64'),
    );
    if (limit === 0 || columns.length === 0) return [];
    const list = columns.map((field) => quotePgIdent(field.name)).join(', ');
    const table = `${quotePgIdent(this.schema)}.${quotePgIdent(entity)}`;
    const what = `sampling "${entity}"`;
    const run = async (text: string, values: unknown[]): Promise<SampleRow[]> => {
      try {
        return (await this.client.query<SampleRow>({ text, values, types: TEXT_VALUES })).rows;
      } catch (error) {
        throw driverError('postgres', this.url, what, error);
      }
    };
    if ((relation.kind === 'r' || relation.kind === 'm') && relation.estimate > limit * 20) {
      // Aim for about three times the rows wanted, so a LIMIT still has choice; block sampling is cheap.
      const percent = Math.min(100, Math.max(0.0001, (300 * limit) / relation.estimate));
      const rows = await run(`SELECT ${list} FROM ${table} TABLESAMPLE SYSTEM ($1) LIMIT $2`, [percent, limit]);
      if (rows.length >= Math.min(limit, 20)) {
        notes.push(`${entity}: sampled ${rows.length} rows with TABLESAMPLE SYSTEM (${percent.toPrecision(2)}%)`);
        return rows;
      }
    }
    return run(`SELECT ${list} FROM ${table} LIMIT $1`, [limit]);
  }

  /**
   * Logical replication needs all of: `wal_level = logical`, a user that may create replication slots
   * (superuser, the REPLICATION attribute, or rds_replication membership on Amazon RDS/Aurora), and
   * `max_replication_slots > 0` with a slot still free. The reason names each condition that failed.
   */
  async capabilities(): Promise<IntrospectionCapabilities> {
    const rows = await this.#query<{
      walLevel: string;
      maxSlots: number;
      usedSlots: number | null;
      user: string;
      superuser: boolean;
      replication: boolean;
      rdsReplication: boolean;
    }>(
      'checking logical replication',
      `SELECT current_setting('wal_level') AS "walLevel",
              current_setting('max_replication_slots')::int AS "maxSlots",
              (SELECT count(*)::int FROM pg_catalog.pg_replication_slots) AS "usedSlots",
              r.rolname AS "user", r.rolsuper AS superuser, r.rolreplication AS replication,
              EXISTS (SELECT 1 FROM pg_catalog.pg_roles g
                       WHERE g.rolname = 'rds_replication' AND pg_catalog.pg_has_role(r.oid, g.oid, 'MEMBER')) AS "rdsReplication"
         FROM pg_catalog.pg_roles r
        WHERE r.rolname = current_user`,
    );
    const row = rows[0];
    if (row === undefined) return { logicalReplication: false, reason: 'could not read the current role' };
    const failed: string[] = [];
    const passed: string[] = [];
    if (row.walLevel === 'logical') passed.push('wal_level is logical');
    else
      failed.push(`wal_level is ${row.walLevel} (needs logical: ALTER SYSTEM SET wal_level = logical and a restart)`);
    if (row.superuser) passed.push(`user "${row.user}" is a superuser`);
    else if (row.replication) passed.push(`user "${row.user}" has the REPLICATION attribute`);
    else if (row.rdsReplication) passed.push(`user "${row.user}" is a member of rds_replication`);
    else
      failed.push(
        `user "${row.user}" may not create replication slots (needs superuser or the REPLICATION attribute: ALTER ROLE … REPLICATION)`,
      );
    if (row.maxSlots <= 0) failed.push('max_replication_slots is 0 (needs at least 1)');
    else if (row.usedSlots !== null && row.usedSlots >= row.maxSlots)
      failed.push(`all ${row.maxSlots} replication slots (max_replication_slots) are in use`);
    else passed.push(`${row.maxSlots - (row.usedSlots ?? 0)} of ${row.maxSlots} replication slots free`);
    return failed.length > 0
      ? { logicalReplication: false, reason: failed.join('; ') }
      : { logicalReplication: true, reason: passed.join('; ') };
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
