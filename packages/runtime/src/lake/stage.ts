import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbType, quoteIdent, quoteLiteral } from '../engine/duckdb-engine.js';
import { RuntimeError } from '../errors.js';
import { conformValue, type CanonicalValue } from './conform.js';
import { constantSql, csvCompatible, csvReadType, csvRowObject, csvRowRules, csvValueSql, CSV_BC_MARK, parseCsvRow, type CsvPage } from './csv-page.js';
import { dtSource } from './partitioning.js';
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

/** A derived partition column the stage computes (today only `dt`). */
export const DT_COLUMN: Column = { name: 'dt', type: 'date', nullable: true, physical: { kind: 'date' } };

/** Thrown by a serializer for a value that does not fit; carries the reason to the quarantine. */
class Misfit {
  constructor(readonly reason: string) {}
}

const MICROS_PER_DAY = 86_400_000_000;
const COMMA = 0x2c;
const QUOTE = 0x22;
const NEWLINE = 0x0a;

/** The CSV token of a canonical value (timestamps as integer microseconds; strings unquoted here). */
function canonicalToken(value: CanonicalValue): string {
  return value === null ? '' : String(value);
}

/** Physical types written as quoted CSV strings. */
const isText = (physical: PhysicalType) => physical.kind === 'string' || physical.kind === 'json';

const DIGIT_0 = 48;
const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * Microseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)` — the shape sources send —
 * without a Date or a regular expression on the hot path; undefined for anything else (the full
 * parser in conform.ts then decides).
 */
export function isoMicros(text: string): number | undefined {
  const n = text.length;
  if (n < 20 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const monthDays = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  if (day > monthDays) return undefined;
  let i = 19;
  let micros = 0;
  if (text.charCodeAt(i) === 46) {
    let places = 0;
    i++;
    while (i < n && places < 6) {
      const d = text.charCodeAt(i) - DIGIT_0;
      if (d < 0 || d > 9) break;
      micros = micros * 10 + d;
      places++;
      i++;
    }
    if (places === 0) return undefined;
    while (places++ < 6) micros *= 10;
  }
  let offsetMinutes = 0;
  const zone = text.charCodeAt(i);
  if (zone === 90 && i === n - 1) {
    // Z
  } else if ((zone === 43 || zone === 45) && (n - i === 6 || n - i === 3)) {
    const oh = digits(text, i + 1, 2);
    const om = n - i === 6 ? (text.charCodeAt(i + 3) === 58 ? digits(text, i + 4, 2) : -1) : 0;
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
    offsetMinutes = (zone === 45 ? -1 : 1) * (oh * 60 + om);
  } else return undefined;
  // Days since 1970-01-01 (proleptic Gregorian).
  const y = year - 1;
  const days = y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + CUMULATIVE_DAYS[month - 1]! + (month > 2 && leap ? 1 : 0) + day - 1 - 719162;
  const seconds = days * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return seconds * 1_000_000 + micros;
}

const PLAIN_INTEGER = /^-?\d{1,18}$/;
const POWERS_OF_TEN = Array.from({ length: 17 }, (_v, i) => 10 ** i);
const isDigit = (code: number) => code >= DIGIT_0 && code <= DIGIT_0 + 9;

/**
 * Turns a value into its CSV token in one step, with fast paths for the shapes sources usually send
 * and conformValue (the reference rules) for everything else. Throws a Misfit for a value that does
 * not fit. Text tokens come back unquoted; the writer quotes them.
 */
function serializerFor(column: Column): (value: unknown) => string {
  const slow = (value: unknown) => {
    const result = conformValue(value, column);
    if (!result.ok) throw new Misfit(result.reason);
    return canonicalToken(result.value);
  };
  const physical = column.physical;
  switch (physical.kind) {
    case 'string':
      return (v) => (typeof v === 'string' ? v : slow(v));
    case 'int64':
      return (v) =>
        typeof v === 'number' && Number.isSafeInteger(v)
          ? String(v)
          : typeof v === 'string' && PLAIN_INTEGER.test(v)
            ? v
            : slow(v);
    case 'float64':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : slow(v));
    case 'boolean':
      return (v) => (v === true ? 'true' : v === false ? 'false' : slow(v));
    case 'timestamp':
      return (v) => {
        if (typeof v === 'string') {
          const micros = isoMicros(v);
          // Within ±2^53 µs (years 1685–2255) a number is exact; beyond, the exact path.
          if (micros !== undefined && Math.abs(micros) <= Number.MAX_SAFE_INTEGER) return String(micros);
        }
        if (typeof v === 'bigint') return String(v);
        if (v instanceof Date && !Number.isNaN(v.getTime())) return String(v.getTime() * 1000);
        return slow(v);
      };
    case 'decimal': {
      const maxIntDigits = physical.precision - physical.scale;
      const scale = physical.scale;
      // Plain notation (`-?digits[.digits]`) within precision and scale, without a regular expression.
      const fits = (text: string) => {
        const n = text.length;
        let i = text.charCodeAt(0) === 45 ? 1 : 0;
        while (i < n - 1 && text.charCodeAt(i) === DIGIT_0 && text.charCodeAt(i + 1) !== 46) i++; // leading zeros
        const intStart = i;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
        const intDigits = i - intStart;
        if (intDigits === 0 || intDigits > maxIntDigits) return false;
        if (i === n) return true;
        if (text.charCodeAt(i) !== 46) return false;
        const fracStart = ++i;
        while (i < n && isDigit(text.charCodeAt(i))) i++;
        return i === n && i > fracStart && i - fracStart <= scale;
      };
      return (v) => {
        // Plain notation within precision and scale goes through as is; DuckDB parses it exactly.
        if (typeof v === 'string' && fits(v)) return v;
        if (typeof v === 'number' && Number.isFinite(v)) {
          const text = String(v);
          if (fits(text)) return text;
        }
        return slow(v);
      };
    }
    default:
      return slow;
  }
}

/** A spool file and the buffer in front of it; rows are encoded straight into the buffer. */
interface Spool {
  readonly path: string;
  readonly fd: number;
  rows: number;
  buffer: Buffer;
  pos: number;
  /** Where the row being encoded starts; a misfit rewinds to it. */
  rowStart: number;
}

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

/** Null count over field count of rows a stage loaded from CSV (row pages are counted by their caller). */
export interface NullStats {
  nulls: number;
  fields: number;
}

/** DuckDB's default max_line_size. */
const DEFAULT_MAX_LINE = 2_097_152;

/** The arrival number of rows loaded from CSV: their order is the file's, and only merges need one. */
const CSV_SEQ = -1;

/**
 * A batch being written. Rows are conformed to the schema (misfits are set aside with their reason),
 * numbered in arrival order and spooled as CSV to a local file; `load` bulk-loads the spool into a
 * DuckDB table with DuckDB's parallel CSV reader, which is several times faster than appending value
 * by value across the JS/native boundary. The spool keeps rows out of the JS heap; DuckDB's memory
 * limit and spill folder bound the table.
 */
export class Stage {
  readonly table: string;
  /** Columns of the table data, then derived partition columns. */
  readonly columns: readonly Column[];
  private readonly serializers: ReadonlyArray<(value: unknown) => string>;
  private readonly textColumns: readonly boolean[];
  private readonly intColumns: readonly boolean[];
  private readonly keyIndexes: ReadonlySet<number>;
  private readonly dtFrom: number;
  private spool: Spool | undefined;
  private csvSpool: CsvSpool | undefined;
  private csvRejected: RejectedRow[] = [];
  /** Nulls among the fields of rows loaded from CSV. */
  readonly csvNulls: NullStats = { nulls: 0, fields: 0 };
  private spoolCounter = 0;
  private seq = 0;
  private loaded = 0;
  private readonly dayCache = new Map<number, string>();

  private constructor(
    private readonly connection: DuckDBConnection,
    readonly schema: TableSchema,
    name: string,
    private readonly spoolDir: string,
  ) {
    this.table = quoteIdent(name);
    const derived = schema.partitionBy.some((p) => isDerivedPartition(schema, p));
    this.columns = [...schema.columns, ...(derived ? [DT_COLUMN] : [])];
    this.serializers = schema.columns.map(serializerFor);
    this.textColumns = schema.columns.map((c) => isText(c.physical));
    this.intColumns = schema.columns.map((c) => c.physical.kind === 'int64');
    this.keyIndexes = new Set(schema.mergeKeys.map((k) => schema.columns.findIndex((c) => c.name === k)));
    const source = dtSource(schema);
    this.dtFrom = derived ? (source ? schema.columns.indexOf(source) : -1) : -2;
  }

  static async create(connection: DuckDBConnection, schema: TableSchema, name: string, spoolDir: string): Promise<Stage> {
    const stage = new Stage(connection, schema, name, spoolDir);
    await connection.run(stage.createSql());
    return stage;
  }

  /** Rows in the table (loaded and not cleared). */
  get rowCount(): number {
    return this.loaded;
  }

  /** Rows spooled and not loaded yet. */
  get spooledRows(): number {
    return (this.spool?.rows ?? 0) + (this.csvSpool?.rows ?? 0);
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
        throw new RuntimeError('internal', `CSV pages cannot fill the columns ${page.fields.join(', ')} of this table (unknown, or json)`);
      }
      const path = join(this.spoolDir, `spool-${this.table.replace(/\W/g, '')}-${this.spoolCounter++}-csv.csv`);
      spool = this.csvSpool = { path, fd: openSync(path, 'w'), fields: page.fields, constants: page.constants, extractedAt, rows: 0, longestRow: 0 };
    } else if (page.fields.join('\u0000') !== spool.fields.join('\u0000')) {
      throw new RuntimeError('internal', 'CSV pages of one batch must name the same fields');
    }
    writeSync(spool.fd, page.data);
    spool.rows += page.rows;
    spool.longestRow = Math.max(spool.longestRow, page.longestRow ?? page.data.length);
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
  append(rows: Iterable<Row>, extractedAt: Date, isDelete?: (row: Row) => boolean): RejectedRow[] {
    const spool = (this.spool ??= this.openSpool());
    const { columns } = this.schema;
    const extractedDate = extractedAt.toISOString().slice(0, 10);
    const rejected: RejectedRow[] = [];
    for (const row of rows) {
      const deleted = isDelete !== undefined && isDelete(row);
      spool.rowStart = spool.pos;
      let dtMicros: number | undefined;
      try {
        for (let i = 0; i < columns.length; i++) {
          const column = columns[i]!;
          const value = row[column.name];
          if (i > 0) this.put(spool, COMMA);
          if (value === null || value === undefined) {
            if (!column.nullable && !(deleted && !this.keyIndexes.has(i))) {
              throw new Misfit(`column "${column.name}" is not nullable but the value is ${value === null ? 'null' : 'missing'}`);
            }
            continue;
          }
          if (this.intColumns[i] && typeof value === 'number' && Number.isSafeInteger(value) && i !== this.dtFrom) {
            // The commonest value of all, written without making a string of it.
            this.writeInteger(spool, value);
            continue;
          }
          // conformValue's reasons already name the column.
          const token = this.serializers[i]!(value);
          if (this.textColumns[i]) {
            this.put(spool, QUOTE);
            this.write(spool, token.includes('"') ? token.replace(/"/g, '""') : token);
            this.put(spool, QUOTE);
          } else this.write(spool, token);
          if (i === this.dtFrom) dtMicros = column.physical.kind === 'date' ? Date.parse(`${token}T00:00:00Z`) * 1000 : Number(token);
        }
      } catch (error) {
        if (!(error instanceof Misfit)) throw error;
        spool.pos = spool.rowStart;
        rejected.push({ row, reason: error.reason });
        continue;
      }
      if (this.dtFrom !== -2) this.write(spool, `,${dtMicros === undefined ? extractedDate : this.day(dtMicros)}`);
      this.write(spool, `,${this.seq++},${deleted ? 'true' : 'false'}`);
      this.put(spool, NEWLINE);
      spool.rows++;
    }
    return rejected;
  }

  private put(spool: Spool, byte: number): void {
    if (spool.pos >= spool.buffer.length) this.makeRoom(spool, 1);
    spool.buffer[spool.pos++] = byte;
  }

  /** The decimal digits of a safe integer, straight into the spool. */
  private writeInteger(spool: Spool, value: number): void {
    if (spool.pos + 17 > spool.buffer.length) this.makeRoom(spool, 17);
    const buffer = spool.buffer;
    let pos = spool.pos;
    if (value < 0) {
      buffer[pos++] = 45;
      value = -value;
    }
    let digits = 1;
    while (digits < 16 && value >= POWERS_OF_TEN[digits]!) digits++;
    let at = pos + digits - 1;
    pos += digits;
    do {
      const digit = value % 10;
      buffer[at--] = DIGIT_0 + digit;
      value = (value - digit) / 10;
    } while (value > 0);
    spool.pos = pos;
  }

  private write(spool: Spool, text: string): void {
    const length = text.length;
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    if (spool.pos + length * 3 > spool.buffer.length) this.makeRoom(spool, length * 3);
    // ASCII is copied in JS: most tokens are a few characters, for which a native UTF-8 encode
    // costs more in call overhead than the copy itself. The first non-ASCII character hands the
    // rest over to the encoder.
    const buffer = spool.buffer;
    let pos = spool.pos;
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        spool.pos = pos + buffer.write(i === 0 ? text : text.slice(i), pos);
        return;
      }
      buffer[pos++] = code;
    }
    spool.pos = pos;
  }

  /** Writes out the complete rows, keeps the partial one at the front, and grows for huge values. */
  private makeRoom(spool: Spool, needed: number): void {
    writeSync(spool.fd, spool.buffer, 0, spool.rowStart);
    spool.buffer.copyWithin(0, spool.rowStart, spool.pos);
    spool.pos -= spool.rowStart;
    spool.rowStart = 0;
    if (spool.pos + needed > spool.buffer.length) {
      const bigger = Buffer.allocUnsafe(Math.max(spool.buffer.length * 2, spool.pos + needed));
      spool.buffer.copy(bigger, 0, 0, spool.pos);
      spool.buffer = bigger;
    }
  }

  private day(micros: number): string {
    const day = Math.floor(micros / MICROS_PER_DAY);
    let text = this.dayCache.get(day);
    if (text === undefined) {
      text = new Date(day * 86_400_000).toISOString().slice(0, 10);
      this.dayCache.set(day, text);
    }
    return text;
  }

  private openSpool(): Spool {
    const path = join(this.spoolDir, `spool-${this.table.replace(/\W/g, '')}-${this.spoolCounter++}.csv`);
    return { path, fd: openSync(path, 'w'), rows: 0, buffer: Buffer.allocUnsafe(4 << 20), pos: 0, rowStart: 0 };
  }

  /** Loads everything spooled so far into the table; returns how many rows it loaded. */
  async load(): Promise<number> {
    return (await this.loadRows()) + (await this.loadCsv());
  }

  private async loadRows(): Promise<number> {
    const spool = this.spool;
    if (!spool) return 0;
    this.spool = undefined;
    if (spool.pos > 0) writeSync(spool.fd, spool.buffer, 0, spool.pos);
    closeSync(spool.fd);
    try {
      if (spool.rows === 0) return 0;
      const csvColumns = [
        ...this.columns.map((c, i) => `${quoteLiteral(`c${i}`)}: ${quoteLiteral(c.physical.kind === 'timestamp' ? 'BIGINT' : duckdbType(c.physical))}`),
        `'seq': 'BIGINT'`,
        `'deleted': 'BOOLEAN'`,
      ];
      const select = this.columns.map((c, i) => (c.physical.kind === 'timestamp' ? `make_timestamptz(c${i})` : `c${i}`));
      await this.connection.run(
        `INSERT INTO ${this.table} SELECT ${select.join(', ')}, seq, deleted FROM read_csv(${quoteLiteral(spool.path)}, header = false, delim = ',', quote = '"', escape = '"', ` +
          `nullstr = '', allow_quoted_nulls = false, auto_detect = false, columns = {${csvColumns.join(', ')}})`,
      );
      this.loaded += spool.rows;
      return spool.rows;
    } finally {
      rmSync(spool.path, { force: true });
    }
  }

  /**
   * Loads the CSV spool into the table (see takeCsvRead); null counts come from the loaded rows.
   */
  private async loadCsv(): Promise<number> {
    const read = this.takeCsvRead();
    if (!read) return 0;
    try {
      const inserted = await this.connection.run(`INSERT INTO ${this.table} ${read.query}`);
      const loaded = inserted.rowsChanged;
      const counts = await this.connection.runAndReadAll(
        `SELECT ${this.schema.columns.map((c) => `count(*) - count(${quoteIdent(c.name)})`).join(' + ')} AS nulls FROM ${this.table} WHERE ${SEQ} = ${CSV_SEQ}`,
      );
      await read.settle(loaded, Number(counts.getRowObjectsJS()[0]!.nulls ?? 0));
      this.loaded += loaded;
      return loaded;
    } finally {
      await read.discard();
    }
  }

  /** Whether everything spooled is CSV (so it can be encoded straight from the file: takeCsvRead). */
  get csvOnly(): boolean {
    return this.csvSpool !== undefined && (this.spool === undefined || this.spool.rows === 0);
  }

  /**
   * Takes the CSV spool as a query yielding the table's rows (the stage's columns, then the arrival
   * number and delete flag): fields cast by DuckDB's CSV reader to their columns' types, constants and
   * the derived `dt` added in SQL. A row DuckDB cannot cast lands in a rejects table with DuckDB's
   * reason; a row that casts but breaks a row-path rule is left out by the WHERE. Run the query once,
   * then `settle(rows it yielded, nulls among them)` gathers both kinds for the quarantine (reading
   * rule breakers back only when the counts say there are some), and `discard` removes the spool.
   */
  takeCsvRead(): { query: string; settle: (loaded: number, nulls: number) => Promise<void>; discard: () => Promise<void> } | undefined {
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
    const extractedDate = spool.extractedAt.toISOString().slice(0, 10);
    const select = this.columns.map((column) => {
      let value: string;
      if (spool.fields.includes(column.name)) value = csvValueSql(column, quoteIdent(column.name));
      else if (column === DT_COLUMN) {
        const from = this.dtFrom >= 0 ? this.schema.columns[this.dtFrom]! : undefined;
        const fallback = `DATE ${quoteLiteral(extractedDate)}`;
        if (!from) value = fallback;
        else {
          const source = spool.fields.includes(from.name) ? csvValueSql(from, quoteIdent(from.name)) : constantSql(from, spool.constants[from.name]);
          value = `COALESCE(CAST(${from.physical.kind === 'timestamp' ? `timezone('UTC', ${source})` : source} AS DATE), ${fallback})`;
        }
      } else value = constantSql(column, spool.constants[column.name] ?? null);
      return `${value} AS ${quoteIdent(column.name)}`;
    });
    const id = `${this.table.replace(/\W/g, '')}_${this.spoolCounter++}`;
    const rejects = `rejects_${id}`;
    const scans = `reject_scans_${id}`;
    const temporal = fieldColumns.map((c) => c.physical.kind === 'date' || c.physical.kind === 'timestamp');
    // DuckDB's reader takes lines up to max_line_size (2 MB by default) into buffers of buffer_size:
    // both grow for a spool with longer rows.
    const lineLimit = Math.max(DEFAULT_MAX_LINE, spool.longestRow + 1024);
    const lineOptions = lineLimit > DEFAULT_MAX_LINE ? `max_line_size = ${lineLimit}, buffer_size = ${2 * lineLimit}, ` : '';
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
        if (r.cast_only !== true) throw new RuntimeError('internal', `CSV rows from the source do not parse: ${String(r.reason)}`);
        const values = parseCsvRow(String(r.csv_text)).map((v, i) => (v !== null && temporal[i] && v.startsWith(CSV_BC_MARK) ? v.slice(CSV_BC_MARK.length) : v));
        this.csvRejected.push({ row: csvRowObject(spool.fields, values), reason: String(r.reason) });
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
          this.csvRejected.push({ row: r as Row, reason: why });
        }
      }
      if (spool.rows !== loaded + (this.csvRejected.length - before)) {
        throw new RuntimeError('internal', `CSV rows do not add up: ${spool.rows} spooled, ${loaded} loaded, ${this.csvRejected.length - before} rejected`);
      }
      this.csvNulls.nulls += nulls;
      this.csvNulls.fields += loaded * this.schema.columns.length;
    };
    return { query, settle, discard };
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
    if (this.spool) {
      closeSync(this.spool.fd);
      rmSync(this.spool.path, { force: true });
      this.spool = undefined;
    }
    await this.connection.run(`DROP TABLE IF EXISTS ${this.table}`);
  }
}
