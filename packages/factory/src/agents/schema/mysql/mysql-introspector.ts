import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { FieldType } from '@connector-factory/ir';
import { FactoryError } from '../../../errors.js';
import { driverError, redactConnectionUrl } from '../connection.js';
import {
  DEFAULT_SAMPLE_ROWS,
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

export interface MysqlIntrospectorOptions extends IntrospectorOptions {
  /** The database whose tables are the entities (default: the connection's database). */
  readonly schema?: string;
  /** Connection timeout (default 15 s). */
  readonly connectTimeoutMs?: number;
}

/** A MySQL/MariaDB identifier, quoted: backticks doubled, so any name works. */
export function quoteMysqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

interface MappedMysqlType {
  readonly type: FieldType;
  readonly numberHint?: NumberHint;
  readonly note?: string;
}

/** One column of information_schema.COLUMNS. */
export interface MysqlCatalogColumn {
  /** DATA_TYPE, e.g. `int`, `decimal`, `varchar`. */
  readonly dataType: string;
  /** COLUMN_TYPE, e.g. `int(10) unsigned`, `decimal(12,2)`, `tinyint(1)`, `enum('a','b')`. */
  readonly columnType: string;
  readonly precision: number | null;
  readonly scale: number | null;
  /** MariaDB stores JSON as LONGTEXT with a `json_valid(col)` check. */
  readonly jsonChecked?: boolean;
}

/**
 * The IR type of a MySQL/MariaDB column: integers → number int64 (BIGINT UNSIGNED → decimal(20,0), it
 * exceeds int64), tinyint(1)/bit(1) → boolean (MySQL's BOOL), decimal(p,s) → decimal(p,s) (p ≤ 38, else
 * the exact text), float/double → float64, year → int64, date → date, datetime/timestamp → datetime,
 * json (and MariaDB's json_valid LONGTEXT) → json, the rest (char, text, enum, set, time, binary,
 * geometry, uuid, inet) → string.
 */
export function mapMysqlType(column: MysqlCatalogColumn): MappedMysqlType {
  const dataType = column.dataType.toLowerCase();
  const columnType = column.columnType.toLowerCase();
  const unsigned = /\bunsigned\b/.test(columnType);
  switch (dataType) {
    case 'tinyint':
      if (/^tinyint\(1\)/.test(columnType)) return { type: 'boolean' };
      return { type: 'number', numberHint: 'int64' };
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'year':
      return { type: 'number', numberHint: 'int64' };
    case 'bigint':
      return unsigned
        ? { type: 'number', numberHint: 'decimal(20,0)', note: 'BIGINT UNSIGNED exceeds int64: decimal(20,0)' }
        : { type: 'number', numberHint: 'int64' };
    case 'bit':
      return columnType === 'bit(1)' ? { type: 'boolean' } : { type: 'string' };
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed': {
      const precision = column.precision ?? 10;
      const scale = column.scale ?? 0;
      if (precision > 38) {
        return {
          type: 'string',
          note: `decimal(${precision},${scale}) does not fit the lake's decimal(38) and is kept as its exact text (string)`,
        };
      }
      return { type: 'number', numberHint: `decimal(${precision},${scale})` };
    }
    case 'float':
    case 'double':
    case 'real':
    case 'double precision':
      return { type: 'number', numberHint: 'float64' };
    case 'date':
      return { type: 'date' };
    case 'datetime':
    case 'timestamp':
      return { type: 'datetime' };
    case 'json':
      return { type: 'json' };
    case 'longtext':
      return column.jsonChecked === true ? { type: 'json' } : { type: 'string' };
    default:
      return { type: 'string' };
  }
}

/** The column a MariaDB `json_valid(`col`)` check constraint names, if that is what the clause is. */
export function jsonValidColumn(clause: string): string | undefined {
  const match = /^\s*json_valid\s*\(\s*`((?:[^`]|``)+)`\s*\)\s*$/i.exec(clause);
  return match?.[1]?.replace(/``/g, '`');
}

/**
 * Reads a MySQL or MariaDB database from information_schema (server-side prepared statements, so every
 * name is a parameter; identifiers in SQL quoted with backticks), in a read-only session.
 */
export class MysqlIntrospector implements SchemaIntrospector {
  readonly provider = 'mysql';
  readonly location: string;
  readonly #sampleRows: number;

  private constructor(
    private readonly connection: Connection,
    private readonly url: string,
    readonly schema: string,
    sampleRows: number,
  ) {
    this.location = `${redactConnectionUrl(url)} database ${schema}`;
    this.#sampleRows = sampleRows;
  }

  /** Connects with `url` (already expanded from the environment; `mariadb://` is taken as `mysql://`). */
  static async connect(url: string, options: MysqlIntrospectorOptions = {}): Promise<MysqlIntrospector> {
    let connection: Connection | undefined;
    let schema: string | undefined;
    try {
      connection = await createConnection({
        uri: url.replace(/^mariadb:\/\//i, 'mysql://'),
        charset: 'utf8mb4',
        supportBigNumbers: true,
        bigNumberStrings: true,
        dateStrings: true,
        connectTimeout: options.connectTimeoutMs ?? 15_000,
      });
      // Without a listener a dropped connection would crash the process instead of failing the query.
      connection.on('error', () => undefined);
      await connection.query('SET SESSION TRANSACTION READ ONLY');
      const [rows] = await connection.query<RowDataPacket[]>('SELECT DATABASE() AS db');
      schema = options.schema ?? (rows[0]?.db as string | null | undefined) ?? undefined;
    } catch (error) {
      await connection?.end().catch(() => undefined);
      throw driverError('mysql', url, 'connecting', error, { connecting: true });
    }
    if (schema === undefined || schema === '') {
      await connection.end().catch(() => undefined);
      throw new FactoryError(
        'invalid_input',
        `mysql: the connection string names no database (${redactConnectionUrl(url)})`,
        ['add it to the URL path (mysql://user:password@host:3306/shop) or pass a schema'],
      );
    }
    const sampleRows = Math.max(0, Math.floor(options.sampleRows ?? DEFAULT_SAMPLE_ROWS));
    return new MysqlIntrospector(connection, url, schema, sampleRows);
  }

  async #execute<R>(what: string, sql: string, values: (string | number)[] = []): Promise<R[]> {
    try {
      const [rows] = await this.connection.execute<RowDataPacket[]>(sql, values);
      return rows as R[];
    } catch (error) {
      throw driverError('mysql', this.url, what, error);
    }
  }

  async listEntities(filter?: readonly string[]): Promise<string[]> {
    const schemas = await this.#execute(
      'checking the database',
      'SELECT 1 AS found FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?',
      [this.schema],
    );
    if (schemas.length === 0) {
      throw new FactoryError('not_found', `mysql: database "${this.schema}" does not exist (${this.location})`);
    }
    const rows = await this.#execute<{ name: string }>(
      'listing tables',
      `SELECT TABLE_NAME AS name FROM information_schema.TABLES
        WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
        ORDER BY TABLE_NAME`,
      [this.schema],
    );
    const names = rows.map((row) => String(row.name));
    if (filter === undefined) return names;
    const missing = filter.filter((name) => !names.includes(name));
    if (missing.length > 0) {
      throw new FactoryError(
        'not_found',
        `mysql: no table ${missing.map((name) => `"${name}"`).join(', ')} in database "${this.schema}"`,
        [`tables there: ${names.length > 0 ? names.slice(0, 50).join(', ') : '(none)'}`],
      );
    }
    return [...new Set(filter)];
  }

  /** Columns MariaDB declared JSON (LONGTEXT with a json_valid check); empty on MySQL, which has a real JSON type. */
  async #jsonCheckedColumns(entity: string): Promise<Set<string>> {
    try {
      const [rows] = await this.connection.execute<RowDataPacket[]>(
        `SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
          WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
        [this.schema, entity],
      );
      const columns = rows.map((row) => jsonValidColumn(String(row.clause))).filter((c) => c !== undefined);
      return new Set(columns);
    } catch {
      return new Set(); // MySQL's CHECK_CONSTRAINTS has no TABLE_NAME column; its JSON is a real type.
    }
  }

  async describe(entity: string): Promise<EntityDescription> {
    const what = `describing "${entity}"`;
    const columns = await this.#execute<{
      name: string;
      dataType: string;
      columnType: string;
      nullable: string;
      precision: number | string | null;
      scale: number | string | null;
    }>(
      what,
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,
              NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?
        ORDER BY ORDINAL_POSITION`,
      [this.schema, entity],
    );
    if (columns.length === 0) {
      const exists = await this.#execute(
        what,
        'SELECT 1 AS found FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?',
        [this.schema, entity],
      );
      if (exists.length === 0)
        throw new FactoryError('not_found', `mysql: no table "${entity}" in database "${this.schema}"`);
    }
    const jsonChecked = await this.#jsonCheckedColumns(entity);
    const notes: string[] = [];
    const fields: IntrospectedField[] = columns.map((column) => {
      const name = String(column.name);
      const mapped = mapMysqlType({
        dataType: String(column.dataType),
        columnType: String(column.columnType),
        precision: column.precision === null ? null : Number(column.precision),
        scale: column.scale === null ? null : Number(column.scale),
        jsonChecked: jsonChecked.has(name),
      });
      if (mapped.note !== undefined) notes.push(`${entity}.${name} (${String(column.columnType)}): ${mapped.note}`);
      return {
        name,
        type: mapped.type,
        nullable: String(column.nullable).toUpperCase() === 'YES',
        ...(mapped.numberHint !== undefined ? { numberHint: mapped.numberHint } : {}),
        sourceType: jsonChecked.has(name) ? 'json' : String(column.columnType),
      };
    });

    // Unique indexes over whole columns (no prefix, no functional parts); PRIMARY is the primary key.
    const indexRows = await this.#execute<{ indexName: string; columnName: string | null; subPart: unknown }>(
      what,
      `SELECT INDEX_NAME AS indexName, COLUMN_NAME AS columnName, SUB_PART AS subPart
         FROM information_schema.STATISTICS
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0
        ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
      [this.schema, entity],
    );
    const indexes = new Map<string, { columns: string[]; whole: boolean }>();
    for (const row of indexRows) {
      const index = indexes.get(row.indexName) ?? { columns: [], whole: true };
      if (row.columnName === null || (row.subPart !== null && row.subPart !== undefined)) index.whole = false;
      else index.columns.push(String(row.columnName));
      indexes.set(row.indexName, index);
    }
    const primaryKey = indexes.get('PRIMARY')?.columns ?? [];
    const uniqueKeys: UniqueKey[] = [...indexes]
      .filter(([name, index]) => name !== 'PRIMARY' && index.whole && index.columns.length > 0)
      .map(([name, index]) => ({ name, columns: index.columns }));

    const foreignKeyRows = await this.#execute<{
      name: string;
      columnName: string;
      refSchema: string;
      refTable: string;
      refColumn: string;
    }>(
      what,
      `SELECT CONSTRAINT_NAME AS name, COLUMN_NAME AS columnName, REFERENCED_TABLE_SCHEMA AS refSchema,
              REFERENCED_TABLE_NAME AS refTable, REFERENCED_COLUMN_NAME AS refColumn
         FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND REFERENCED_TABLE_NAME IS NOT NULL
        ORDER BY CONSTRAINT_NAME, ORDINAL_POSITION`,
      [this.schema, entity],
    );
    const foreignKeyMap = new Map<
      string,
      { referencedEntity: string; columns: string[]; referencedColumns: string[] }
    >();
    for (const row of foreignKeyRows) {
      const referencedEntity = row.refSchema === this.schema ? row.refTable : `${row.refSchema}.${row.refTable}`;
      const foreignKey = foreignKeyMap.get(row.name) ?? { referencedEntity, columns: [], referencedColumns: [] };
      foreignKey.columns.push(String(row.columnName));
      foreignKey.referencedColumns.push(String(row.refColumn));
      foreignKeyMap.set(row.name, foreignKey);
    }
    const foreignKeys: ForeignKey[] = [...foreignKeyMap].map(([name, foreignKey]) => ({ name, ...foreignKey }));

    const sample = await this.#sample(entity, fields);
    return { name: entity, fields, primaryKey, uniqueKeys, foreignKeys, sample, notes };
  }

  /** Up to `sampleRows` rows of the text and integer columns (MySQL has no cheap block sampling: `LIMIT`). */
  async #sample(entity: string, fields: readonly IntrospectedField[]): Promise<SampleRow[]> {
    const limit = this.#sampleRows;
    const columns = fields.filter(
      (field) => field.type === 'string' || (field.type === 'number' && field.numberHint === 'int64'),
    );
    if (limit === 0 || columns.length === 0) return [];
    const list = columns.map((field) => quoteMysqlIdent(field.name)).join(', ');
    // The limit is a validated integer, inlined: LIMIT placeholders are not portable across servers.
    const sql = `SELECT ${list} FROM ${quoteMysqlIdent(this.schema)}.${quoteMysqlIdent(entity)} LIMIT ${limit}`;
    try {
      const [rows] = await this.connection.query<RowDataPacket[]>(sql);
      return rows.map((row) => ({ ...row }));
    } catch (error) {
      throw driverError('mysql', this.url, `sampling "${entity}"`, error);
    }
  }

  /** Binlog CDC is not supported by the runtime yet; the reason also says how the server is set up for it. */
  async capabilities(): Promise<IntrospectionCapabilities> {
    let setup = '';
    try {
      const [rows] = await this.connection.query<RowDataPacket[]>(
        'SELECT @@log_bin AS logBin, @@binlog_format AS binlogFormat',
      );
      const row = rows[0];
      if (row !== undefined)
        setup = ` (server: log_bin=${String(row.logBin)}, binlog_format=${String(row.binlogFormat)})`;
    } catch {
      // the variables are informative only
    }
    return {
      logicalReplication: false,
      reason: `CDC from the MySQL/MariaDB binlog is not supported by the runtime yet${setup}`,
    };
  }

  async close(): Promise<void> {
    await this.connection.end().catch(() => undefined);
  }
}
