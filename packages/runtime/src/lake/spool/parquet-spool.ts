import { closeSync, openSync, rmSync, writeSync, writev } from 'node:fs';
import { conformValue, type CanonicalValue } from '../conform.js';
import type { ColumnWriter, RowSink } from '../../columnar/columnar.js';
import type { Column } from '../table-schema.js';
import { isoDays, isoMicros, Misfit, plainDecimal } from './row-values.js';
import { CompactWriter, varint } from './thrift-compact.js';

/**
 * The spool of a batch's rows: a local, uncompressed Parquet file that DuckDB reads back in parallel,
 * row group by row group, with nothing to parse. Values go from the JS records straight into column
 * buffers in Parquet's PLAIN layout (integers and doubles as little-endian bytes, decimals as the
 * scaled integer, dates as days, timestamps as UTC microseconds, strings as length and UTF-8 bytes,
 * booleans as bits), nulls into a definition-level bitmap (nullable columns only: the others are
 * REQUIRED). A full row group becomes one data page per column, written to the file in the background
 * while the next one fills.
 *
 * Columns are named c0, c1, … in the file; the stage maps them back to its own names.
 */

export type { ColumnWriter } from '../../columnar/columnar.js';

/**
 * Rows per row group at most; a group also ends once its values, all columns together, pass
 * GROUP_BYTES (a wide table's groups hold fewer rows, so the spool's memory does not grow with the
 * number of columns; a page DuckDB reads is at most that big).
 */
const GROUP_ROWS = 32_768;
const GROUP_BYTES = 16 << 20;
/** Bytes of row groups being written before `drain()` waits. */
const IN_FLIGHT_BYTES = 16 << 20;
/** Spare buffer sets kept per column. */
const SPARE_SETS = 2;

/** A column's buffers for one row group: values and definition levels. */
interface GroupBuffers {
  data: Uint8Array;
  validity: Uint8Array;
}

/**
 * Spare row-group buffers per column, handed from group to group and from spool to spool (a stage
 * keeps one for all its spools), so a batch allocates its buffers once.
 */
export type SpoolBuffers = GroupBuffers[][];
const TWO_32 = 4_294_967_296;
const INT64_MAX = 2n ** 63n - 1n;
const PLAIN_INTEGER = /^-?\d{1,18}$/;
const MAGIC = Buffer.from('PAR1');

const enum ParquetType {
  Boolean = 0,
  Int32 = 1,
  Int64 = 2,
  Double = 5,
  ByteArray = 6,
  FixedLenByteArray = 7,
}

/** How a physical type is laid out: fixed-width bytes, length-prefixed bytes, or bits. */
type Layout =
  { readonly kind: 'fixed'; readonly width: number } | { readonly kind: 'bytes' } | { readonly kind: 'bits' };

function layoutOf(column: Column): Layout {
  const physical = column.physical;
  switch (physical.kind) {
    case 'boolean':
      return { kind: 'bits' };
    case 'string':
    case 'json':
      return { kind: 'bytes' };
    case 'date':
      return { kind: 'fixed', width: 4 };
    case 'decimal':
      return { kind: 'fixed', width: physical.precision <= 9 ? 4 : physical.precision <= 18 ? 8 : 16 };
    default:
      return { kind: 'fixed', width: 8 };
  }
}

/** One column of the row group being filled. */
class SpoolColumn {
  data: Uint8Array;
  i32: Int32Array;
  f64: Float64Array;
  view: DataView;
  text: Buffer;
  /** Bytes used (bits, for booleans). */
  pos = 0;
  /** `pos` when the current row began. */
  mark = 0;
  /** Definition levels, a bit per row of the group: 1 = a value, 0 = null. */
  validity: Uint8Array;
  /** Bytes per value of a fixed-width column (0 otherwise). */
  private readonly width: number;

  constructor(
    readonly column: Column,
    readonly layout: Layout,
    /** Rows a group holds at most (a multiple of 8). */
    private readonly capacity: number,
    /** Spare buffers: taken for each group, given back once the group is written. */
    private readonly spare: GroupBuffers[],
  ) {
    this.data = this.i32 = this.f64 = this.view = this.text = this.validity = undefined as never;
    this.width = layout.kind === 'fixed' ? layout.width : 0;
    this.next();
  }

  /** Starts a group in spare buffers, or new ones. */
  private next(): void {
    const rows = this.capacity;
    const bytes =
      this.layout.kind === 'fixed' ? rows * this.layout.width : this.layout.kind === 'bits' ? rows >> 3 : 64 << 10;
    // Spares of a stage whose spools all have the same columns, hence the same sizes (text grows).
    const spare = this.spare.pop();
    this.use(spare?.data ?? new Uint8Array(bytes));
    this.validity = spare?.validity ?? new Uint8Array(rows >> 3);
    this.validity.fill(0xff);
    this.pos = 0;
    this.mark = 0;
  }

  private use(data: Uint8Array): void {
    this.data = data;
    this.i32 = new Int32Array(data.buffer, 0, data.length >> 2);
    this.f64 = new Float64Array(data.buffer, 0, data.length >> 3);
    this.view = new DataView(data.buffer);
    this.text = Buffer.from(data.buffer);
  }

  /** Room for `bytes` more (length-prefixed columns only grow). */
  private room(bytes: number): void {
    if (this.pos + bytes <= this.data.length) return;
    const bigger = new Uint8Array(Math.max(this.data.length * 2, this.pos + bytes));
    bigger.set(this.data.subarray(0, this.pos));
    this.use(bigger);
  }

  /** A safe integer as int64 (two's complement, little-endian halves). */
  int64(value: number): void {
    const at = this.pos >> 2;
    this.i32[at] = value >>> 0;
    this.i32[at + 1] = Math.floor(value / TWO_32);
    this.pos += 8;
  }

  bigint64(value: bigint): void {
    this.view.setBigInt64(this.pos, value, true);
    this.pos += 8;
  }

  /** Eight big-endian bytes, stored little-endian. */
  swap8(source: Uint8Array, at: number): void {
    const data = this.data;
    const to = this.pos;
    data[to] = source[at + 7]!;
    data[to + 1] = source[at + 6]!;
    data[to + 2] = source[at + 5]!;
    data[to + 3] = source[at + 4]!;
    data[to + 4] = source[at + 3]!;
    data[to + 5] = source[at + 2]!;
    data[to + 6] = source[at + 1]!;
    data[to + 7] = source[at]!;
    this.pos = to + 8;
  }

  int32(value: number): void {
    this.i32[this.pos >> 2] = value;
    this.pos += 4;
  }

  double(value: number): void {
    this.f64[this.pos >> 3] = value;
    this.pos += 8;
  }

  bit(value: boolean): void {
    const at = this.pos >> 3;
    const mask = 1 << (this.pos & 7);
    this.data[at] = value ? this.data[at]! | mask : this.data[at]! & ~mask;
    this.pos++;
  }

  /** A scaled decimal given as a safe integer, at the column's width (4, 8 or 16 bytes). */
  scaled(value: number): void {
    if (this.width === 4) this.int32(value);
    else if (this.width === 8) this.int64(value);
    else this.fixed16(BigInt(value));
  }

  scaledBig(value: bigint): void {
    if (this.width === 4) this.int32(Number(value));
    else if (this.width === 8) this.bigint64(value);
    else this.fixed16(value);
  }

  /** A 16-byte big-endian two's complement integer (decimals over 18 digits). */
  private fixed16(value: bigint): void {
    this.view.setBigInt64(this.pos, value >> 64n, false);
    this.view.setBigUint64(this.pos + 8, BigInt.asUintN(64, value), false);
    this.pos += 16;
  }

  string(text: string): void {
    const length = text.length;
    // A UTF-16 unit takes at most 3 bytes of UTF-8.
    this.room(4 + 3 * length);
    const data = this.data;
    let at = this.pos + 4;
    // ASCII is copied in JS: most strings are short, and a native UTF-8 encode costs more in call
    // overhead than the copy. The first non-ASCII character hands the rest to the encoder.
    for (let i = 0; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) {
        at += this.text.write(i === 0 ? text : text.slice(i), at, 'utf8');
        break;
      }
      data[at++] = code;
    }
    this.view.setUint32(this.pos, at - this.pos - 4, true);
    this.pos = at;
  }

  /** `length` bytes of UTF-8 from `source` at `at`, length-prefixed. */
  bytes(source: Uint8Array, at: number, length: number): void {
    this.room(4 + length);
    const data = this.data;
    const to = this.pos + 4;
    this.view.setUint32(this.pos, length, true);
    // Short values are copied in JS: a native copy costs more in call overhead.
    if (length <= 32) for (let i = 0; i < length; i++) data[to + i] = source[at + i]!;
    else data.set(source.subarray(at, at + length), to);
    this.pos = to + length;
  }

  /** Days since the epoch of the value just written (a date, or a timestamp's day). */
  lastDays(): number {
    if (this.column.physical.kind === 'date') return this.i32[(this.pos - 4) >> 2]!;
    const at = (this.pos - 8) >> 2;
    return Math.floor((this.i32[at + 1]! * TWO_32 + (this.i32[at]! >>> 0)) / 86_400_000_000);
  }

  /** The bytes of the values written. */
  values(): Uint8Array {
    return this.data.subarray(0, this.layout.kind === 'bits' ? (this.pos + 7) >> 3 : this.pos);
  }

  /**
   * Hands over the group's buffers (to be written, then given back with `recycle`); `more` starts the
   * next group in others.
   */
  takeBuffers(more: boolean): GroupBuffers {
    const taken = { data: this.data, validity: this.validity };
    if (more) this.next();
    return taken;
  }

  recycle(buffers: GroupBuffers): void {
    if (this.spare.length < SPARE_SETS) this.spare.push(buffers);
  }
}

/** Microseconds a DuckDB timestamp holds: ±(2^63-1) are its infinities, and beyond them nothing fits. */
const finiteTimestamp = (micros: bigint) => micros < INT64_MAX && micros > -INT64_MAX;

/** Writes a canonical value (conform.ts); throws a Misfit for what the column cannot hold. */
function writeCanonical(target: SpoolColumn, value: Exclude<CanonicalValue, null>): void {
  const column = target.column;
  switch (column.physical.kind) {
    case 'string':
    case 'json':
      return target.string(value as string);
    case 'int64':
      return target.bigint64(value as bigint);
    case 'float64':
      return target.double(value as number);
    case 'boolean':
      return target.bit(value as boolean);
    case 'decimal':
      return target.scaledBig(BigInt((value as string).replace('.', '')));
    case 'date': {
      const days = isoDays(value as string);
      if (days === undefined) throw new Misfit(`column "${column.name}": ${String(value)} is not a date (YYYY-MM-DD)`);
      return target.int32(days);
    }
    case 'timestamp': {
      const micros = value as bigint;
      if (!finiteTimestamp(micros))
        throw new Misfit(`column "${column.name}": ${micros} microseconds is out of the timestamp range`);
      return target.bigint64(micros);
    }
  }
}

/**
 * The writer of one column: fast paths for the shapes sources usually send, and conformValue (the
 * reference rules) for everything else, so both always agree on what fits.
 */
function columnWriter(target: SpoolColumn): ColumnWriter {
  const column = target.column;
  const slow = (value: unknown) => {
    const result = conformValue(value, column);
    if (!result.ok) throw new Misfit(result.reason);
    writeCanonical(target, result.value!);
  };
  const physical = column.physical;
  switch (physical.kind) {
    case 'string':
      return (v) => (typeof v === 'string' ? target.string(v) : slow(v));
    case 'int64':
      return (v) => {
        if (typeof v === 'number' && Number.isSafeInteger(v)) target.int64(v);
        else if (typeof v === 'bigint' && BigInt.asIntN(64, v) === v) target.bigint64(v);
        else if (typeof v === 'string' && PLAIN_INTEGER.test(v)) {
          // Up to 15 digits a number is exact.
          if (v.length <= 15 || (v.length === 16 && v.charCodeAt(0) === 45)) target.int64(Number(v));
          else target.bigint64(BigInt(v));
        } else slow(v);
      };
    case 'float64':
      return (v) => (typeof v === 'number' && Number.isFinite(v) ? target.double(v) : slow(v));
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? target.bit(v) : slow(v));
    case 'date':
      return (v) => {
        const days = typeof v === 'string' ? isoDays(v) : undefined;
        if (days !== undefined) target.int32(days);
        else slow(v);
      };
    case 'timestamp':
      return (v) => {
        if (typeof v === 'string') {
          const micros = isoMicros(v);
          // Within ±2^53 µs (years 1685–2255) a number is exact; beyond, the exact path.
          if (micros !== undefined && Math.abs(micros) <= Number.MAX_SAFE_INTEGER) return target.int64(micros);
        } else if (typeof v === 'bigint') {
          // Microseconds already (the slow path says why one out of range does not fit).
          if (finiteTimestamp(v)) return target.bigint64(v);
        } else if (v instanceof Date) {
          const micros = v.getTime() * 1000;
          if (Math.abs(micros) <= Number.MAX_SAFE_INTEGER) return target.int64(micros);
        }
        slow(v);
      };
    case 'decimal': {
      const { precision, scale } = physical;
      const factor = 10 ** scale;
      // Up to 15 digits one decimal with `scale` places at most rounds to a given double; beyond, two
      // can, and the reference rules (shortest form of the number) decide.
      const limit = 10 ** Math.min(precision, 15);
      return (v) => {
        if (typeof v === 'number') {
          // A number has at most `scale` places exactly when it is the nearest double to k / 10^scale.
          const k = Math.round(v * factor);
          if (Math.abs(k) < limit && k / factor === v) return target.scaled(k);
        } else if (typeof v === 'string') {
          const k = plainDecimal(v, precision, scale);
          if (k !== undefined) return target.scaled(k);
        }
        slow(v);
      };
    }
    case 'json':
      return slow;
  }
}

/** Where a written column chunk lies in the file. */
interface ChunkPlace {
  readonly offset: number;
  readonly size: number;
}

interface GroupPlace {
  readonly rows: number;
  readonly bytes: number;
  readonly chunks: readonly ChunkPlace[];
}

/** A spool file being written; see the module comment. */
export class ParquetSpool implements RowSink {
  /** Rows committed (all row groups). */
  rows = 0;
  private groupRows = 0;
  private readonly columns: SpoolColumn[];
  private readonly byteColumns: SpoolColumn[];
  private readonly writers: ColumnWriter[] = [];
  private readonly fixedRowBytes: number;
  private readonly maxGroupRows: number;
  private readonly fd: number;
  /** Once the descriptor is closed its number may belong to another file: it is never closed twice. */
  private closed = false;
  private offset = MAGIC.length;
  private readonly groups: GroupPlace[] = [];
  private inFlight = 0;
  private writes: Promise<void>[] = [];
  private failure: unknown;

  constructor(
    readonly path: string,
    columns: readonly Column[],
    buffers: SpoolBuffers = columns.map(() => []),
    /** Rows per row group at most (a multiple of 8; GROUP_ROWS by default). */
    groupRows: number = GROUP_ROWS,
  ) {
    const layouts = columns.map(layoutOf);
    // Bytes a row takes in the fixed-width columns (a bit per boolean rounds up here): with the text
    // written so far, what a group holds.
    this.fixedRowBytes = layouts.reduce(
      (sum, l) => sum + (l.kind === 'fixed' ? l.width : l.kind === 'bits' ? 1 : 0),
      0,
    );
    this.maxGroupRows =
      Math.max(64, Math.min(groupRows, Math.floor(GROUP_BYTES / Math.max(1, this.fixedRowBytes)))) & ~7;
    this.columns = columns.map((c, i) => new SpoolColumn(c, layouts[i]!, this.maxGroupRows, buffers[i]!));
    this.byteColumns = this.columns.filter((c) => c.layout.kind === 'bytes');
    this.fd = openSync(path, 'w');
    writeSync(this.fd, MAGIC, 0, MAGIC.length, 0);
  }

  /** The writer of column `index` (non-null values), made once per column. */
  writer(index: number): ColumnWriter {
    return (this.writers[index] ??= columnWriter(this.columns[index]!));
  }

  beginRow(): void {
    for (const column of this.columns) column.mark = column.pos;
  }

  setNull(index: number): void {
    if (!this.columns[index]!.column.nullable) throw new Error(`spool column ${index} is not nullable`);
    const validity = this.columns[index]!.validity;
    validity[this.groupRows >> 3]! &= ~(1 << (this.groupRows & 7));
  }

  int64(index: number, value: number): void {
    this.columns[index]!.int64(value);
  }

  int32(index: number, value: number): void {
    this.columns[index]!.int32(value);
  }

  swap8(index: number, source: Uint8Array, at: number): void {
    this.columns[index]!.swap8(source, at);
  }

  scaled(index: number, value: number): void {
    this.columns[index]!.scaled(value);
  }

  bytes(index: number, source: Uint8Array, at: number, length: number): void {
    this.columns[index]!.bytes(source, at, length);
  }

  bit(index: number, value: boolean): void {
    this.columns[index]!.bit(value);
  }

  /** The day of the date or timestamp just written into column `index`. */
  lastDays(index: number): number {
    return this.columns[index]!.lastDays();
  }

  /** Undoes the row being written (it did not fit). */
  discardRow(): void {
    const row = this.groupRows;
    for (const column of this.columns) {
      column.pos = column.mark;
      column.validity[row >> 3]! |= 1 << (row & 7);
    }
  }

  commitRow(): void {
    this.rows++;
    this.groupRows++;
    if (this.groupRows === this.maxGroupRows || this.groupFull()) this.flushGroup(true);
  }

  /** Whether the group's values, all columns together, pass GROUP_BYTES (checked every row). */
  private groupFull(): boolean {
    let bytes = this.groupRows * this.fixedRowBytes;
    for (const column of this.byteColumns) bytes += column.pos;
    return bytes > GROUP_BYTES;
  }

  /** Whether more than IN_FLIGHT_BYTES of groups are being written: time to `drain()`. */
  get backlogged(): boolean {
    return this.inFlight > IN_FLIGHT_BYTES;
  }

  /** Waits while too many row groups are still being written (bounded memory). */
  async drain(): Promise<void> {
    while (this.inFlight > IN_FLIGHT_BYTES && this.writes.length > 0) await this.writes[0];
    if (this.failure !== undefined) throw this.failure;
  }

  /** Writes the row group filled so far: one PLAIN data page per column, in the background. */
  private flushGroup(more: boolean): void {
    const rows = this.groupRows;
    const groups = (rows + 7) >> 3;
    // The RLE/bit-packed hybrid's header of one bit-packed run of `groups` groups of 8 levels.
    const levelsHeader = varint(groups * 2 + 1);
    const parts: Uint8Array[] = [];
    const chunks: ChunkPlace[] = [];
    const taken: { data: Uint8Array; validity: Uint8Array }[] = [];
    let at = this.offset;
    for (const column of this.columns) {
      const values = column.values();
      // A REQUIRED column (not nullable) has no definition levels at all.
      const optional = column.column.nullable;
      const levelsLength = levelsHeader.length + groups;
      const body = (optional ? 4 + levelsLength : 0) + values.length;
      const header = new CompactWriter()
        .i32(1, 0) // DATA_PAGE
        .i32(2, body)
        .i32(3, body)
        .struct(5, (w) => w.i32(1, rows).i32(2, 0).i32(3, 3).i32(4, 3)) // PLAIN values, RLE levels
        .end();
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, levelsLength, true);
      const buffers = column.takeBuffers(more);
      taken.push(buffers);
      if (optional) parts.push(header, length, levelsHeader, buffers.validity.subarray(0, groups), values);
      else parts.push(header, values);
      chunks.push({ offset: at, size: header.length + body });
      at += header.length + body;
    }
    const bytes = at - this.offset;
    const position = this.offset;
    this.offset = at;
    this.groups.push({ rows, bytes, chunks });
    this.inFlight += bytes;
    // The column buffers themselves are written (no copy), and come back for later groups.
    const done = new Promise<void>((resolve) => {
      writev(this.fd, parts, position, (error, written) => {
        if (error) this.failure ??= error;
        else if (written !== bytes)
          this.failure ??= new Error(`short write to ${this.path}: ${written} of ${bytes} bytes`);
        this.inFlight -= bytes;
        this.writes.splice(this.writes.indexOf(done), 1);
        this.columns.forEach((column, i) => column.recycle(taken[i]!));
        resolve();
      });
    });
    this.writes.push(done);
    this.groupRows = 0;
  }

  /** Writes the last row group and the footer, and closes the file. */
  async close(): Promise<void> {
    if (this.groupRows > 0) this.flushGroup(false);
    else for (const column of this.columns) column.recycle(column.takeBuffers(false));
    await Promise.all(this.writes);
    if (this.failure !== undefined) {
      await this.abort();
      throw this.failure;
    }
    const footer = new CompactWriter()
      .i32(1, 1)
      .structList(2, [undefined, ...this.columns], (w, c) => {
        if (c === undefined) w.string(4, 'schema').i32(5, this.columns.length);
        else schemaElement(w, c, this.columns.indexOf(c));
      })
      .i64(3, this.rows)
      .structList(4, this.groups, (w, group) =>
        w
          .structList(1, group.chunks, (w, chunk) => {
            const index = group.chunks.indexOf(chunk);
            const column = this.columns[index]!;
            w.i64(2, chunk.offset).struct(3, (w) =>
              w
                .i32(1, parquetType(column))
                .i32List(2, [0, 3])
                .stringList(3, [`c${index}`])
                .i32(4, 0)
                .i64(5, group.rows)
                .i64(6, chunk.size)
                .i64(7, chunk.size)
                .i64(9, chunk.offset),
            );
          })
          .i64(2, group.bytes)
          .i64(3, group.rows),
      )
      .string(6, 'connector-factory row spool')
      .end();
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    writeSync(this.fd, footer, 0, footer.length, this.offset);
    writeSync(this.fd, tail, 0, tail.length, this.offset + footer.length);
    this.closeFile();
  }

  private closeFile(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /**
   * Removes the file (after a failure, once it has been read, or when the batch is thrown away),
   * closing it first if it is still open — after the writes in flight, which use its descriptor.
   */
  async abort(): Promise<void> {
    await Promise.all(this.writes);
    this.closeFile();
    rmSync(this.path, { force: true });
  }
}

function parquetType(column: SpoolColumn): ParquetType {
  const layout = column.layout;
  if (layout.kind === 'bits') return ParquetType.Boolean;
  if (layout.kind === 'bytes') return ParquetType.ByteArray;
  if (column.column.physical.kind === 'float64') return ParquetType.Double;
  return layout.width === 4
    ? ParquetType.Int32
    : layout.width === 8
      ? ParquetType.Int64
      : ParquetType.FixedLenByteArray;
}

/** A leaf of the spool's schema: the Parquet type, OPTIONAL, its name, and its logical type. */
function schemaElement(w: CompactWriter, column: SpoolColumn, index: number): void {
  const type = parquetType(column);
  w.i32(1, type);
  if (type === ParquetType.FixedLenByteArray) w.i32(2, 16);
  w.i32(3, column.column.nullable ? 1 : 0).string(4, `c${index}`);
  const physical = column.column.physical;
  switch (physical.kind) {
    case 'string':
    case 'json':
      w.i32(6, 0).struct(10, (w) => w.struct(1, () => undefined));
      break;
    case 'decimal':
      w.i32(6, 5)
        .i32(7, physical.scale)
        .i32(8, physical.precision)
        .struct(10, (w) => w.struct(5, (w) => w.i32(1, physical.scale).i32(2, physical.precision)));
      break;
    case 'date':
      w.i32(6, 6).struct(10, (w) => w.struct(6, () => undefined));
      break;
    case 'timestamp':
      w.i32(6, 10).struct(10, (w) =>
        w.struct(8, (w) => w.bool(1, true).struct(2, (w) => w.struct(2, () => undefined))),
      );
      break;
    default:
  }
}
