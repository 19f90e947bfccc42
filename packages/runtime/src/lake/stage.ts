import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbType, quoteIdent, quoteLiteral } from '../engine/duckdb-engine.js';
import { RuntimeError } from '../errors.js';
import {
  constantSql,
  csvCompatible,
  csvReadType,
  csvRowObject,
  csvRowRules,
  csvValueSql,
  CSV_BC_MARK,
  parseCsvRow,
  type CsvPage,
} from './csv-page.js';
import { dtSource } from './partitioning.js';
import type { ColumnarPage } from './columnar-page.js';
import { ParquetSpool, type ColumnWriter, type SpoolBuffers } from './spool/parquet-spool.js';
import { Misfit } from './spool/row-values.js';
import { isDerivedPartition, type Column, type TableSchema } from './table-schema.js';

import type { RejectedRow, Row } from '../records/record.js';

export type { RejectedRow, Row } from '../records/record.js';

/** Hidden columns: partition id (computed when encoding), arrival order, and the CDC delete flag. */
export const PART = '__cf_part';
export const SEQ = '__cf_seq';
export const DELETED = '__cf_deleted';

/**
 * A spool taken as a query yielding the stage's rows (its columns, then the arrival number and the
 * delete flag): `query()` finishes the file; once the query has run, `settle(rows it yielded, nulls
 * among them)` checks that spooled, loaded and rejected rows add up and keeps the null statistics;
 * `discard()` removes the spool. The next rows go into a new spool at once.
 */
export interface SpoolRead {
  query(): Promise<string>;
  settle(loaded: number, nulls: number): Promise<void>;
  discard(): Promise<void>;
}

/** A derived partition column the stage computes (today only `dt`). */
export const DT_COLUMN: Column = { name: 'dt', type: 'date', nullable: true, physical: { kind: 'date' } };

/** The hidden columns as the row spool holds them. */
const SEQ_COLUMN: Column = { name: SEQ, type: 'number', nullable: false, physical: { kind: 'int64' } };
const DELETED_COLUMN: Column = { name: DELETED, type: 'boolean', nullable: false, physical: { kind: 'boolean' } };

/** The CSV spool: pages handed over as CSV text, appended as they come. */
interface CsvSpool {
  readonly path: string;
  readonly fd: number;
  readonly fields: readonly string[];
  readonly constants: Readonly<Record<string, unknown>>;
  readonly extractedAt: Date;
  rows: number;
  /** Bytes of the longest row spooled. */
  longestRow: number;
}

/** The columnar spool: pages written by their source's decoder (ColumnarPage), in a ParquetSpool of their fields. */
interface ColumnarSpool {
  readonly spool: ParquetSpool;
  readonly fields: readonly string[];
  readonly constants: Readonly<Record<string, unknown>>;
  readonly extractedAt: Date;
}

/**
 * Writes a row's fields into the spool: each value to its column's writer, each null or missing one to
 * `onNull` (which throws a Misfit when the column may not be null). Returns the day of the `dt`
 * source column's value, if there is one and it is not null.
 */
type RowFill = (
  row: Row,
  deleted: boolean,
  writers: readonly ColumnWriter[],
  onNull: (index: number, value: unknown, deleted: boolean) => void,
  spool: ParquetSpool,
) => number | undefined;

/**
 * A RowFill for these columns, compiled once per stage: every field is read by its literal name, so
 * each read site sees one shape of record (the rows of a source all have the same fields) and V8
 * keeps it fast, where a loop over names makes a single site read every field of every row. Names go
 * into the code only as JSON string literals.
 */
function compileFill(columns: readonly Column[], dtFrom: number): RowFill {
  const body = columns
    .map((c, i) => {
      const write = i === dtFrom ? `{ writers[${i}](v); day = spool.lastDays(${i}); }` : `writers[${i}](v);`;
      // A name Object.prototype has (`__proto__`, `constructor`) is read as an own field only: a
      // plain-object row without it would otherwise hand over the prototype's member.
      const read =
        c.name in Object.prototype
          ? `Object.hasOwn(row, ${JSON.stringify(c.name)}) ? row[${JSON.stringify(c.name)}] : undefined`
          : `row[${JSON.stringify(c.name)}]`;
      return `v = ${read};\nif (v === null || v === undefined) onNull(${i}, v, deleted); else ${write}`;
    })
    .join('\n');
  return new Function(
    'row',
    'deleted',
    'writers',
    'onNull',
    'spool',
    `let v;\nlet day;\n${body}\nreturn day;`,
  ) as RowFill;
}

/** What every stage of a schema shares: derived once, not per batch. */
interface StageLayout {
  readonly columns: readonly Column[];
  readonly keyIndexes: ReadonlySet<number>;
  /** The schema column `dt` derives from; -1 the extraction time, -2 no `dt`. */
  readonly dtFrom: number;
  readonly fill: RowFill;
  readonly spoolColumns: readonly Column[];
  readonly spoolBuffers: SpoolBuffers;
  /** Row-group buffers of columnar spools, by their fields. */
  readonly columnarBuffers: Map<string, SpoolBuffers>;
}

/**
 * Layouts by schema (a writer keeps its schema object for all its batches), for plain rows and for
 * changes: the compiled fill stays warm in V8 and the spools' row-group buffers are allocated once
 * per writer, not once per batch (a CDC connector writes a batch a second).
 */
const layouts = new WeakMap<TableSchema, Map<boolean, StageLayout>>();

function stageLayout(schema: TableSchema, changes: boolean): StageLayout {
  const bySchema = layouts.get(schema) ?? new Map<boolean, StageLayout>();
  layouts.set(schema, bySchema);
  let layout = bySchema.get(changes);
  if (layout) return layout;
  const derived = schema.partitionBy.some((p) => isDerivedPartition(schema, p));
  const columns = [...schema.columns, ...(derived ? [DT_COLUMN] : [])];
  const source = dtSource(schema);
  const dtFrom = derived ? (source ? schema.columns.indexOf(source) : -1) : -2;
  // Changes carry their arrival number and delete flag, and any column of a delete may be empty;
  // plain rows need neither, and a column that may not be null is REQUIRED in the spool.
  const spoolColumns = changes
    ? [...columns.map((c) => ({ ...c, nullable: true })), SEQ_COLUMN, DELETED_COLUMN]
    : columns.map((c) => (c === DT_COLUMN ? { ...c, nullable: false } : c));
  layout = {
    columns,
    keyIndexes: new Set(schema.mergeKeys.map((k) => schema.columns.findIndex((c) => c.name === k))),
    dtFrom,
    fill: compileFill(schema.columns, dtFrom),
    spoolColumns,
    spoolBuffers: spoolColumns.map(() => []),
    columnarBuffers: new Map(),
  };
  bySchema.set(changes, layout);
  return layout;
}

/** Null count over field count of rows a stage loaded from CSV or columnar pages (row pages are counted by their caller). */
export interface NullStats {
  nulls: number;
  fields: number;
}

/** DuckDB's default max_line_size. */
const DEFAULT_MAX_LINE = 2_097_152;
/** The CSV reader's buffer size for spools of ordinary rows. */
const CSV_BUFFER_BYTES = 4 << 20;

/** The arrival number of rows loaded from CSV: their order is the file's, and only merges need one. */
const CSV_SEQ = -1;
/** The same for plain rows (not changes): they are not merged either. */
const PLAIN_SEQ = -2;
/** The same for rows of columnar pages. */
const COLUMNAR_SEQ = -3;
/**
 * Row groups of a columnar spool: 8 192 rows, not the row spool's 32 768. Single 10 M-row refreshes
 * peaked at 336–353 MB with them against 340–375 MB, perhaps a little slower (9.3–9.8 s against
 * 8.6–9.5 s); our reading, not verified inside DuckDB: its Parquet reader takes a group's pages into
 * buffers of their size, and smaller freed buffers fragment its threads' heaps less.
 */
const COLUMNAR_GROUP_ROWS = 8192;

/**
 * A batch being written. Rows are conformed to the schema (misfits are set aside with their reason),
 * numbered in arrival order and spooled to a local uncompressed Parquet file (ParquetSpool: values
 * in binary, nothing for DuckDB to parse); `load` bulk-loads the spool into a DuckDB table with
 * DuckDB's parallel Parquet reader, or the writer encodes straight from it (takeRowsRead). CSV pages
 * are spooled as they come and read by DuckDB's CSV reader. The spools keep rows out of the JS heap;
 * DuckDB's memory limit and spill folder bound the table.
 */
export class Stage {
  readonly table: string;
  /** Columns of the table data, then derived partition columns. */
  readonly columns: readonly Column[];
  private readonly keyIndexes: ReadonlySet<number>;
  private readonly dtFrom: number;
  private spool: ParquetSpool | undefined;
  private writers: readonly ColumnWriter[] = [];
  /** The columns of the row spool, and row-group buffers its files share. */
  private readonly spoolColumns: readonly Column[];
  private readonly spoolBuffers: SpoolBuffers;
  /** Reads a row's fields into the spool (see compileFill). */
  private readonly fill: RowFill;
  private csvSpool: CsvSpool | undefined;
  private csvRejected: RejectedRow[] = [];
  private columnar: ColumnarSpool | undefined;
  private readonly columnarBuffers: Map<string, SpoolBuffers>;
  /** Nulls among the fields of rows loaded from CSV or columnar pages. */
  readonly bulkNulls: NullStats = { nulls: 0, fields: 0 };
  private spoolCounter = 0;
  private seq = 0;
  private loaded = 0;

  private constructor(
    private readonly connection: DuckDBConnection,
    readonly schema: TableSchema,
    name: string,
    private readonly spoolDir: string,
    private readonly changes: boolean,
  ) {
    this.table = quoteIdent(name);
    ({
      columns: this.columns,
      keyIndexes: this.keyIndexes,
      dtFrom: this.dtFrom,
      fill: this.fill,
      spoolColumns: this.spoolColumns,
      spoolBuffers: this.spoolBuffers,
      columnarBuffers: this.columnarBuffers,
    } = stageLayout(schema, changes));
  }

  /**
   * `changes`: the rows are changes to merge, each with its arrival number and a delete flag (a delete
   * may leave any column but the keys empty); otherwise they are plain rows.
   */
  static async create(
    connection: DuckDBConnection,
    schema: TableSchema,
    name: string,
    spoolDir: string,
    options: { changes?: boolean } = {},
  ): Promise<Stage> {
    const stage = new Stage(connection, schema, name, spoolDir, options.changes ?? false);
    await connection.run(stage.createSql());
    return stage;
  }

  /** Rows in the table (loaded and not cleared). */
  get rowCount(): number {
    return this.loaded;
  }

  /** Rows spooled and not loaded yet. */
  get spooledRows(): number {
    return (this.spool?.rows ?? 0) + (this.csvSpool?.rows ?? 0) + (this.columnar?.spool.rows ?? 0);
  }

  /**
   * Spools a page of CSV rows as it is; DuckDB parses and casts it on `load`, and rows it cannot cast
   * or that break a rule of the row path (csvRowRules) go to `takeCsvRejected()` with the reason.
   * Every page of a stage names the same fields and constants.
   */
  appendCsv(page: CsvPage, extractedAt: Date): void {
    let spool = this.csvSpool;
    if (!spool) {
      if (!csvCompatible(this.schema, page.fields)) {
        throw new RuntimeError(
          'internal',
          `CSV pages cannot fill the columns ${page.fields.join(', ')} of this table (unknown, or json)`,
        );
      }
      const path = join(this.spoolDir, `spool-${this.table.replace(/\W/g, '')}-${this.spoolCounter++}-csv.csv`);
      spool = this.csvSpool = {
        path,
        fd: openSync(path, 'w'),
        fields: page.fields,
        constants: page.constants,
        extractedAt,
        rows: 0,
        longestRow: 0,
      };
    } else if (page.fields.join('\u0000') !== spool.fields.join('\u0000')) {
      throw new RuntimeError('internal', 'CSV pages of one batch must name the same fields');
    }
    writeSync(spool.fd, page.data);
    spool.rows += page.rows;
    spool.longestRow = Math.max(spool.longestRow, page.longestRow ?? page.data.length);
  }

  /**
   * Spools a columnar page: its source's decoder writes the rows straight into a ParquetSpool of the
   * page's fields (the metadata constants and a derived `dt` are added in SQL when it is read, as for
   * CSV). Returns the rows that did not fit. Every page of a stage names the same fields.
   */
  async appendColumnar(page: ColumnarPage, extractedAt: Date): Promise<RejectedRow[]> {
    let columnar = this.columnar;
    if (!columnar) {
      const byName = new Map(this.schema.columns.map((c) => [c.name, c]));
      const columns = page.fields.map((name) => {
        const column = byName.get(name);
        if (!column)
          throw new RuntimeError(
            'internal',
            `a columnar page names the field ${JSON.stringify(name)}, which the table does not have`,
          );
        return column;
      });
      const key = page.fields.join('\u0000');
      let buffers = this.columnarBuffers.get(key);
      if (!buffers) this.columnarBuffers.set(key, (buffers = columns.map(() => [])));
      const path = join(
        this.spoolDir,
        `spool-${this.table.replace(/\W/g, '')}-${this.spoolCounter++}-columnar.parquet`,
      );
      columnar = this.columnar = {
        spool: new ParquetSpool(path, columns, buffers, COLUMNAR_GROUP_ROWS),
        fields: page.fields,
        constants: page.constants,
        extractedAt,
      };
    } else if (page.fields.join('\u0000') !== columnar.fields.join('\u0000')) {
      throw new RuntimeError('internal', 'columnar pages of one batch must name the same fields');
    }
    // A rejected record as the row path keeps it: with the metadata columns.
    const rejected = page
      .fill(columnar.spool)
      .map((r) => ({ row: { ...r.row, ...columnar.constants }, reason: r.reason }));
    await columnar.spool.drain();
    return rejected;
  }

  /** Rows of CSV pages that did not fit, since the last call. */
  takeCsvRejected(): RejectedRow[] {
    const rejected = this.csvRejected;
    this.csvRejected = [];
    return rejected;
  }

  /**
   * Conforms and spools rows. `isDelete` marks CDC delete events (only their keys must be present).
   * Returns the rows that did not fit.
   */
  async append(rows: Iterable<Row>, extractedAt: Date, isDelete?: (row: Row) => boolean): Promise<RejectedRow[]> {
    if (isDelete !== undefined && !this.changes)
      throw new RuntimeError('internal', 'delete events need a stage created for changes');
    const spool = this.spool ?? this.openSpool();
    const writers = this.writers;
    const { columns } = this.schema;
    const dtIndex = columns.length;
    const seqIndex = this.columns.length;
    const extractedDay = Math.floor(extractedAt.getTime() / 86_400_000);
    const rejected: RejectedRow[] = [];
    const fill = this.fill;
    const onNull = (i: number, value: unknown, deleted: boolean) => {
      if (!columns[i]!.nullable && !(deleted && !this.keyIndexes.has(i))) {
        throw new Misfit(
          `column "${columns[i]!.name}" is not nullable but the value is ${value === null ? 'null' : 'missing'}`,
        );
      }
      spool.setNull(i);
    };
    for (const row of rows) {
      const deleted = isDelete !== undefined && isDelete(row);
      spool.beginRow();
      let day: number | undefined;
      try {
        day = fill(row, deleted, writers, onNull, spool);
      } catch (error) {
        // conformValue's reasons already name the column.
        if (!(error instanceof Misfit)) throw error;
        spool.discardRow();
        rejected.push({ row, reason: error.reason });
        continue;
      }
      if (this.dtFrom !== -2) spool.int32(dtIndex, day ?? extractedDay);
      if (this.changes) {
        spool.int64(seqIndex, this.seq++);
        spool.bit(seqIndex + 1, deleted);
      }
      spool.commitRow();
      // Wide rows fill many groups in one page: wait for the file there too.
      if (spool.backlogged) await spool.drain();
    }
    await spool.drain();
    return rejected;
  }

  private openSpool(): ParquetSpool {
    const path = join(this.spoolDir, `spool-${this.table.replace(/\W/g, '')}-${this.spoolCounter++}.parquet`);
    const spool = new ParquetSpool(path, this.spoolColumns, this.spoolBuffers);
    this.writers = this.schema.columns.map((_c, i) => spool.writer(i));
    this.spool = spool;
    return spool;
  }

  /** Loads everything spooled so far into the table; returns how many rows it loaded. */
  async load(): Promise<number> {
    let loaded = 0;
    for (const [read, seq] of [
      [this.takeRowsRead(), undefined],
      [this.takeCsvRead(), CSV_SEQ],
      [this.takeColumnarRead(), COLUMNAR_SEQ],
    ] as const) {
      if (read) loaded += await this.loadRead(read, seq);
    }
    return loaded;
  }

  /**
   * Inserts a spool's rows into the table. Nulls are counted among the rows of `seq` (a bulk spool's
   * marker); rows from records are counted by the writer's caller.
   */
  private async loadRead(read: SpoolRead, seq: number | undefined): Promise<number> {
    try {
      const inserted = await this.connection.run(`INSERT INTO ${this.table} ${await read.query()}`);
      const loaded = inserted.rowsChanged;
      let nulls = 0;
      if (seq !== undefined) {
        const counts = await this.connection.runAndReadAll(
          `SELECT ${this.schema.columns.map((c) => `count(*) - count(${quoteIdent(c.name)})`).join(' + ')} AS nulls FROM ${this.table} WHERE ${SEQ} = ${seq}`,
        );
        nulls = Number(counts.getRowObjectsJS()[0]!.nulls ?? 0);
      }
      await read.settle(loaded, nulls);
      this.loaded += loaded;
      return loaded;
    } finally {
      await read.discard();
    }
  }

  /** The one spool that holds rows, taken as a query (encoded straight from it), when only one does. */
  takeOnlyRead(): SpoolRead | undefined {
    const kind = this.onlyKind;
    return kind === 'rows'
      ? this.takeRowsRead()
      : kind === 'csv'
        ? this.takeCsvRead()
        : kind === 'columnar'
          ? this.takeColumnarRead()
          : undefined;
  }

  /** Which spool holds rows, when exactly one does. */
  get onlyKind(): 'rows' | 'csv' | 'columnar' | undefined {
    const counts = {
      rows: this.spool?.rows ?? 0,
      csv: this.csvSpool?.rows ?? 0,
      columnar: this.columnar?.spool.rows ?? 0,
    };
    const holding = (Object.keys(counts) as (keyof typeof counts)[]).filter((kind) => counts[kind] > 0);
    return holding.length === 1 ? holding[0] : undefined;
  }

  /** Takes the row spool (see SpoolRead). */
  takeRowsRead(): SpoolRead | undefined {
    const spool = this.spool;
    if (!spool || spool.rows === 0) return undefined;
    this.spool = undefined;
    const values = this.columns.map((c, i) => `c${i} AS ${quoteIdent(c.name)}`);
    const n = this.columns.length;
    const hidden = this.changes
      ? `c${n} AS ${SEQ}, c${n + 1} AS ${DELETED}`
      : `${PLAIN_SEQ} AS ${SEQ}, false AS ${DELETED}`;
    return {
      query: async () => {
        await spool.close();
        return `SELECT ${values.join(', ')}, ${hidden} FROM read_parquet(${quoteLiteral(spool.path)})`;
      },
      settle: async (loaded) => {
        if (loaded !== spool.rows)
          throw new RuntimeError('internal', `rows do not add up: ${spool.rows} spooled, ${loaded} written`);
      },
      discard: () => spool.abort(),
    };
  }

  /** Takes the columnar spool (see SpoolRead): constants and the derived `dt` are added in SQL. */
  takeColumnarRead(): SpoolRead | undefined {
    const columnar = this.columnar;
    if (!columnar) return undefined;
    this.columnar = undefined;
    const { spool, fields } = columnar;
    const select = this.bulkSelect(columnar, (column) => `c${fields.indexOf(column.name)}`);
    return {
      query: async () => {
        await spool.close();
        return `SELECT ${select.join(', ')}, ${COLUMNAR_SEQ} AS ${SEQ}, false AS ${DELETED} FROM read_parquet(${quoteLiteral(spool.path)})`;
      },
      settle: async (loaded, nulls) => {
        if (loaded !== spool.rows)
          throw new RuntimeError('internal', `columnar rows do not add up: ${spool.rows} spooled, ${loaded} loaded`);
        this.bulkNulls.nulls += nulls;
        this.bulkNulls.fields += loaded * this.schema.columns.length;
      },
      discard: () => spool.abort(),
    };
  }

  /**
   * The select list of a bulk spool (CSV or columnar): each stage column from its field
   * (`fieldSql`), the derived `dt` from its source field or the extraction day, the others from the
   * page's constants.
   */
  private bulkSelect(
    bulk: {
      readonly fields: readonly string[];
      readonly constants: Readonly<Record<string, unknown>>;
      readonly extractedAt: Date;
    },
    fieldSql: (column: Column) => string,
  ): string[] {
    const extractedDate = bulk.extractedAt.toISOString().slice(0, 10);
    return this.columns.map((column) => {
      let value: string;
      if (bulk.fields.includes(column.name)) value = fieldSql(column);
      else if (column === DT_COLUMN) {
        const from = this.dtFrom >= 0 ? this.schema.columns[this.dtFrom]! : undefined;
        const fallback = `DATE ${quoteLiteral(extractedDate)}`;
        if (!from) value = fallback;
        else {
          const source = bulk.fields.includes(from.name)
            ? fieldSql(from)
            : constantSql(from, bulk.constants[from.name]);
          value = `COALESCE(CAST(${from.physical.kind === 'timestamp' ? `timezone('UTC', ${source})` : source} AS DATE), ${fallback})`;
        }
      } else value = constantSql(column, bulk.constants[column.name] ?? null);
      return `${value} AS ${quoteIdent(column.name)}`;
    });
  }

  /**
   * Takes the CSV spool as a query yielding the table's rows (the stage's columns, then the arrival
   * number and delete flag): fields cast by DuckDB's CSV reader to their columns' types, constants and
   * the derived `dt` added in SQL. A row DuckDB cannot cast lands in a rejects table with DuckDB's
   * reason; a row that casts but breaks a row-path rule is left out by the WHERE. Run the query once,
   * then `settle(rows it yielded, nulls among them)` gathers both kinds for the quarantine (reading
   * rule breakers back only when the counts say there are some), and `discard` removes the spool.
   */
  takeCsvRead(): SpoolRead | undefined {
    const spool = this.csvSpool;
    if (!spool) return undefined;
    this.csvSpool = undefined;
    closeSync(spool.fd);
    const discard = async () => {
      rmSync(spool.path, { force: true });
      await this.connection.run(`DROP TABLE IF EXISTS ${rejects}; DROP TABLE IF EXISTS ${scans}`);
    };
    const byName = new Map(this.schema.columns.map((c) => [c.name, c]));
    const fieldColumns = spool.fields.map((name) => byName.get(name)!);
    const rules = fieldColumns.flatMap((c) => csvRowRules(c, quoteIdent(c.name)));
    const select = this.bulkSelect(spool, (column) => csvValueSql(column, quoteIdent(column.name)));
    const id = `${this.table.replace(/\W/g, '')}_${this.spoolCounter++}`;
    const rejects = `rejects_${id}`;
    const scans = `reject_scans_${id}`;
    const temporal = fieldColumns.map((c) => c.physical.kind === 'date' || c.physical.kind === 'timestamp');
    // DuckDB's reader takes lines up to max_line_size (2 MB by default) into buffers of buffer_size,
    // which grow for a spool with longer rows. Otherwise buffers of 4 MB instead of DuckDB's 32 MB: a
    // full refresh of 10 M rows peaked 50 MB lower with them, and ran a little faster.
    const lineLimit = Math.max(DEFAULT_MAX_LINE, spool.longestRow + 1024);
    const lineOptions =
      lineLimit > DEFAULT_MAX_LINE
        ? `max_line_size = ${lineLimit}, buffer_size = ${Math.max(CSV_BUFFER_BYTES, 2 * lineLimit)}, `
        : `buffer_size = ${CSV_BUFFER_BYTES}, `;
    const reader = (options: string) =>
      `read_csv(${quoteLiteral(spool.path)}, header = false, delim = ',', quote = '"', escape = '"', nullstr = '', allow_quoted_nulls = false, ${lineOptions}` +
      `auto_detect = false, ${options}, columns = {${fieldColumns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(csvReadType(c.physical))}`).join(', ')}})`;
    const failing = rules.length > 0 ? rules.map((r) => r.failing).join(' OR ') : 'false';
    const query =
      `SELECT ${select.join(', ')}, ${CSV_SEQ} AS ${SEQ}, false AS ${DELETED} ` +
      `FROM ${reader(`store_rejects = true, rejects_table = ${quoteLiteral(rejects)}, rejects_scan = ${quoteLiteral(scans)}`)} WHERE NOT (${failing})`;
    const settle = async (loaded: number, nulls: number) => {
      const before = this.csvRejected.length;
      const rejected = await this.connection.runAndReadAll(
        `SELECT any_value(csv_line) AS csv_text, string_agg(error_message, '; ' ORDER BY column_idx) AS reason, ` +
          `bool_and(error_type = 'CAST') AS cast_only FROM ${rejects} GROUP BY line ORDER BY line`,
      );
      for (const r of rejected.getRowObjectsJS()) {
        // A value that does not cast is the record's fault: quarantined. Anything else (a row with
        // too many or too few fields, an unclosed quote, a line over the limit) means the CSV itself
        // is broken, and the batch fails rather than set rows aside.
        if (r.cast_only !== true)
          throw new RuntimeError('internal', `CSV rows from the source do not parse: ${String(r.reason)}`);
        const values = parseCsvRow(String(r.csv_text)).map((v, i) =>
          v !== null && temporal[i] && v.startsWith(CSV_BC_MARK) ? v.slice(CSV_BC_MARK.length) : v,
        );
        this.csvRejected.push({
          row: { ...csvRowObject(spool.fields, values), ...spool.constants },
          reason: String(r.reason),
        });
      }
      const unaccounted = spool.rows - loaded - (this.csvRejected.length - before);
      if (unaccounted > 0 && rules.length > 0) {
        // Rows that cast but break a rule: read back (as text) with the first rule each breaks.
        const reason = `CASE ${rules.map((r) => `WHEN ${r.failing} THEN ${quoteLiteral(r.reason)}`).join(' ')} END`;
        const broken = await this.connection.runAndReadAll(
          `SELECT ${fieldColumns.map((c) => `CAST(${quoteIdent(c.name)} AS VARCHAR) AS ${quoteIdent(c.name)}`).join(', ')}, ${reason} AS __cf_reason ` +
            `FROM ${reader('ignore_errors = true')} WHERE ${failing}`,
        );
        for (const r of broken.getRowObjectsJS()) {
          const why = String(r.__cf_reason);
          delete r.__cf_reason;
          this.csvRejected.push({ row: { ...(r as Row), ...spool.constants }, reason: why });
        }
      }
      if (spool.rows !== loaded + (this.csvRejected.length - before)) {
        throw new RuntimeError(
          'internal',
          `CSV rows do not add up: ${spool.rows} spooled, ${loaded} loaded, ${this.csvRejected.length - before} rejected`,
        );
      }
      this.bulkNulls.nulls += nulls;
      this.bulkNulls.fields += loaded * this.schema.columns.length;
    };
    return { query: () => Promise.resolve(query), settle, discard };
  }

  /**
   * Empties the table by recreating it: DuckDB's DELETE only marks rows, and the table's memory would
   * grow with every chunk of a long batch.
   */
  async clear(): Promise<void> {
    await this.connection.run(this.createSql());
    this.loaded = 0;
  }

  private createSql(): string {
    const columns = this.columns.map((c) => `${quoteIdent(c.name)} ${duckdbType(c.physical)}`);
    return `CREATE OR REPLACE TABLE ${this.table} (${columns.join(', ')}, ${SEQ} BIGINT, ${DELETED} BOOLEAN)`;
  }

  async drop(): Promise<void> {
    if (this.csvSpool) {
      closeSync(this.csvSpool.fd);
      rmSync(this.csvSpool.path, { force: true });
      this.csvSpool = undefined;
    }
    try {
      try {
        await this.spool?.abort();
      } finally {
        await this.columnar?.spool.abort();
      }
    } finally {
      this.spool = undefined;
      this.columnar = undefined;
      await this.connection.run(`DROP TABLE IF EXISTS ${this.table}`);
    }
  }
}
