import { DuckDBTimestampTZValue, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../engine/duckdb-engine.js';
import { conformValue, type CanonicalValue } from './conform.js';
import { dtSource, utcDate } from './partitioning.js';
import { isDerivedPartition, type Column, type PhysicalType, type TableSchema } from './table-schema.js';

/** A record as a source hands it over: field name → value. */
export type Row = Readonly<Record<string, unknown>>;

/** A record that did not fit the schema, with the reason; it goes to the quarantine. */
export interface RejectedRow {
  readonly row: Row;
  readonly reason: string;
}

/** Hidden columns: partition id (computed when encoding), arrival order, and the CDC delete flag. */
export const PART = '__cf_part';
export const SEQ = '__cf_seq';
export const DELETED = '__cf_deleted';

/** The DuckDB type of a physical type. */
export function duckdbType(physical: PhysicalType): string {
  switch (physical.kind) {
    case 'string':
    case 'json':
      return 'VARCHAR';
    case 'int64':
      return 'BIGINT';
    case 'float64':
      return 'DOUBLE';
    case 'decimal':
      return `DECIMAL(${physical.precision},${physical.scale})`;
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMPTZ';
  }
}

type Append = (appender: DuckDBAppender, value: CanonicalValue) => void;

function appenderFor(physical: PhysicalType): Append {
  switch (physical.kind) {
    case 'int64':
      return (a, v) => a.appendBigInt(v as bigint);
    case 'float64':
      return (a, v) => a.appendDouble(v as number);
    case 'boolean':
      return (a, v) => a.appendBoolean(v as boolean);
    case 'timestamp':
      return (a, v) => a.appendTimestampTZ(new DuckDBTimestampTZValue(v as bigint));
    default:
      // string, json, decimal text and dates: DuckDB casts the text to the column type.
      return (a, v) => a.appendVarchar(v as string);
  }
}

/** A derived partition column the stage computes (today only `dt`). */
export const DT_COLUMN: Column = { name: 'dt', type: 'date', nullable: true, physical: { kind: 'date' } };

/**
 * A batch being written: rows are conformed to the schema (misfits are set aside with their reason),
 * numbered in arrival order, and appended to a DuckDB table from which the format encoders write
 * files. DuckDB's memory limit and spill folder bound the memory a batch takes.
 */
export class Stage {
  readonly table: string;
  /** Columns of the table data, then derived partition columns. */
  readonly columns: readonly Column[];
  private appender: DuckDBAppender | undefined;
  private seq = 0n;
  private rows = 0;

  private constructor(
    private readonly connection: DuckDBConnection,
    readonly schema: TableSchema,
    name: string,
  ) {
    this.table = quoteIdent(name);
    this.columns = [...schema.columns, ...(schema.partitionBy.some((p) => isDerivedPartition(schema, p)) ? [DT_COLUMN] : [])];
  }

  static async create(connection: DuckDBConnection, schema: TableSchema, name = 'stage'): Promise<Stage> {
    const stage = new Stage(connection, schema, name);
    const columns = stage.columns.map((c) => `${quoteIdent(c.name)} ${duckdbType(c.physical)}`);
    await connection.run(`CREATE OR REPLACE TABLE ${stage.table} (${columns.join(', ')}, ${SEQ} BIGINT, ${DELETED} BOOLEAN)`);
    return stage;
  }

  /** Rows appended since the last clear. */
  get rowCount(): number {
    return this.rows;
  }

  /**
   * Conforms and appends rows. `isDelete` marks CDC delete events (their non-key columns may be null).
   * Returns the rows that did not fit.
   */
  async append(rows: Iterable<Row>, extractedAt: Date, isDelete: (row: Row) => boolean = () => false): Promise<RejectedRow[]> {
    const appender = (this.appender ??= await this.connection.createAppender(this.table.slice(1, -1).replace(/""/g, '"')));
    const { schema } = this;
    const appends = this.columns.map((c) => appenderFor(c.physical));
    const dtFrom = dtSource(schema);
    const extractedDate = extractedAt.toISOString().slice(0, 10);
    const hasDt = this.columns.length > schema.columns.length;
    const keyNames = new Set(schema.mergeKeys);
    const rejected: RejectedRow[] = [];
    const values: CanonicalValue[] = new Array(this.columns.length);
    for (const row of rows) {
      const deleted = isDelete(row);
      let reason: string | undefined;
      for (let i = 0; i < schema.columns.length; i++) {
        const column = schema.columns[i]!;
        // A delete event needs only its keys; other columns may be absent.
        const raw = row[column.name];
        if (deleted && !keyNames.has(column.name) && (raw === undefined || raw === null)) {
          values[i] = null;
          continue;
        }
        const result = conformValue(raw, deleted && !keyNames.has(column.name) ? { ...column, nullable: true } : column);
        if (!result.ok) {
          reason = result.reason;
          break;
        }
        values[i] = result.value;
      }
      if (reason !== undefined) {
        rejected.push({ row, reason });
        continue;
      }
      if (hasDt) {
        values[schema.columns.length] = dtFrom ? (utcDate(values[schema.columns.indexOf(dtFrom)]!, dtFrom) ?? extractedDate) : extractedDate;
      }
      for (let i = 0; i < values.length; i++) {
        const value = values[i]!;
        if (value === null) appender.appendNull();
        else appends[i]!(appender, value);
      }
      appender.appendBigInt(this.seq++);
      appender.appendBoolean(deleted);
      appender.endRow();
      this.rows++;
    }
    return rejected;
  }

  /** Makes appended rows visible to queries. */
  async flush(): Promise<void> {
    if (this.appender) {
      this.appender.flushSync();
      this.appender.closeSync();
      this.appender = undefined;
    }
  }

  /** Empties the table. */
  async clear(): Promise<void> {
    await this.flush();
    await this.connection.run(`DELETE FROM ${this.table}`);
    this.rows = 0;
  }

  async drop(): Promise<void> {
    await this.flush();
    await this.connection.run(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
