import type * as Zstd from '@bokuweb/zstd-wasm';
import type * as Snappy from 'snappyjs';
import { randomBytes } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import type { Compression } from '@connector-factory/ir';
import { quoteIdent } from '../../../engine/duckdb-engine.js';
import { RuntimeError } from '../../../errors.js';
import { listEncodedFiles, type EncodeRequest, type EncodedFile, type FormatEncoder } from '../../format-encoder.js';
import { PART } from '../../stage.js';
import type { Column, PhysicalType } from '../../table-schema.js';

/** The record name of the files' schema; constant, so every batch of a table has the same schema name. */
export const AVRO_RECORD_NAME = 'Row';

/** The field attribute that keeps a column's name when it is not a valid Avro name. */
export const ORIGINAL_NAME_ATTRIBUTE = 'cf.originalName';

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Primitive type names may not name a record (Avro spec, "Names"). */
const PRIMITIVE_NAMES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** Raw bytes of a block before it is compressed: about this much, or the target file size when smaller. */
const MAX_BLOCK_BYTES = 256 * 1024;
const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1

type AvroType = string | Record<string, unknown>;

/** `name` made a valid Avro name: invalid characters become `_`, and `_` goes before a leading digit. */
function sanitise(name: string): string {
  const replaced = name.replace(/[^A-Za-z0-9_]/gu, '_');
  return replaced === '' || /^[0-9]/.test(replaced) ? `_${replaced}` : replaced;
}

/**
 * Avro field names for the columns, in order: valid names are kept as they are; others are sanitised
 * and, where that collides with another field, get `_2`, `_3`, … (deterministic in column order).
 */
function avroFieldNames(names: readonly string[]): string[] {
  const taken = new Set(names.filter((n) => AVRO_NAME.test(n)));
  const used = new Set<string>();
  return names.map((original) => {
    if (AVRO_NAME.test(original) && !used.has(original)) {
      used.add(original);
      return original;
    }
    const base = sanitise(original);
    let candidate = base;
    for (let i = 2; taken.has(candidate) || used.has(candidate); i++) candidate = `${base}_${i}`;
    used.add(candidate);
    return candidate;
  });
}

function avroType(physical: PhysicalType): AvroType {
  switch (physical.kind) {
    case 'string':
    case 'json':
      return 'string';
    case 'int64':
      return 'long';
    case 'float64':
      return 'double';
    case 'decimal':
      return { type: 'bytes', logicalType: 'decimal', precision: physical.precision, scale: physical.scale };
    case 'boolean':
      return 'boolean';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros' };
  }
}

/**
 * The Avro record schema of a table's files. Physical types map to:
 *
 * | column       | Avro                                                                  |
 * | ------------ | --------------------------------------------------------------------- |
 * | string       | `"string"`                                                            |
 * | json         | `"string"` (the JSON text)                                            |
 * | int64        | `"long"`                                                              |
 * | float64      | `"double"`                                                            |
 * | decimal(p,s) | `{"type":"bytes","logicalType":"decimal","precision":p,"scale":s}`    |
 * |              | (the unscaled value as a big-endian two's-complement integer)        |
 * | boolean      | `"boolean"`                                                           |
 * | date         | `{"type":"int","logicalType":"date"}` (days since 1970-01-01)         |
 * | timestamp    | `{"type":"long","logicalType":"timestamp-micros"}` (UTC microseconds) |
 *
 * A nullable column is the union `["null", T]` with `"default": null`. Column names that are not valid
 * Avro names (`[A-Za-z_][A-Za-z0-9_]*`) are sanitised (invalid characters → `_`, `_` before a leading
 * digit, `_2`, `_3`, … on a collision) and the column name is kept in the field attribute
 * `"cf.originalName"`. `name` (the record name) is sanitised the same way.
 */
export function avroSchemaFor(columns: readonly Column[], name: string): object {
  const fieldNames = avroFieldNames(columns.map((c) => c.name));
  let recordName = sanitise(name);
  if (PRIMITIVE_NAMES.has(recordName)) recordName = `_${recordName}`;
  return {
    type: 'record',
    name: recordName,
    fields: columns.map((column, i) => {
      const fieldName = fieldNames[i]!;
      const type = avroType(column.physical);
      return {
        name: fieldName,
        type: column.nullable ? ['null', type] : type,
        ...(column.nullable ? { default: null } : {}),
        ...(fieldName !== column.name ? { [ORIGINAL_NAME_ATTRIBUTE]: column.name } : {}),
      };
    }),
  };
}

/** A growable buffer that writes Avro's binary encoding. */
class AvroSink {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** A zig-zag varint `int` or `long` from a safe integer. */
  long(value: number): void {
    this.reserve(10);
    let z = value >= 0 ? value * 2 : -value * 2 - 1;
    if (z < 0x80000000) {
      while (z > 0x7f) {
        this.buffer[this.length++] = (z & 0x7f) | 0x80;
        z >>>= 7;
      }
    } else {
      while (z > 0x7f) {
        this.buffer[this.length++] = (z % 128) | 0x80;
        z = Math.floor(z / 128);
      }
    }
    this.buffer[this.length++] = z;
  }

  /** A zig-zag varint `long` from a 64-bit integer. */
  bigLong(value: bigint): void {
    if (value >= -0x1fffffffffffffn && value <= 0x1fffffffffffffn) {
      this.long(Number(value));
      return;
    }
    this.reserve(10);
    let z = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
    while (z > 0x7fn) {
      this.buffer[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.buffer[this.length++] = Number(z);
  }

  double(value: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(value, this.length);
    this.length += 8;
  }

  bytes(value: Uint8Array): void {
    this.long(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  string(value: string): void {
    const size = Buffer.byteLength(value, 'utf8');
    this.long(size);
    this.reserve(size);
    this.length += this.buffer.write(value, this.length, size, 'utf8');
  }

  /** A copy of what was written, and the sink emptied. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/** A decimal's text (as DuckDB prints it, e.g. `-1234.50`) as Avro decimal bytes at `scale`. */
export function decimalBytes(text: string, scale: number): Buffer {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!match || (match[3] ?? '').length > scale) {
    throw new RuntimeError('internal', `"${text}" is not a decimal with at most ${scale} decimal places`);
  }
  const unscaled = BigInt(`${match[2] ?? ''}${(match[3] ?? '').padEnd(scale, '0')}` || '0');
  return twosComplement(match[1] === '-' ? -unscaled : unscaled);
}

/** The shortest big-endian two's-complement bytes of `value`. */
function twosComplement(value: bigint): Buffer {
  let size = 1;
  while (value < -(1n << BigInt(size * 8 - 1)) || value >= 1n << BigInt(size * 8 - 1)) size++;
  let unsigned = BigInt.asUintN(size * 8, value);
  const out = Buffer.alloc(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(unsigned & 0xffn);
    unsigned >>= 8n;
  }
  return out;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as zlib computes it). */
export function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** An Avro block codec: its name in the file header and how a block's bytes are compressed. */
interface Codec {
  readonly name: string;
  compress(block: Buffer): Buffer;
}

type ZstdModule = typeof Zstd;
type SnappyModule = typeof Snappy;

// Codec libraries load when a table uses them (a connector writing parquet never does).
let zstd: Promise<ZstdModule> | undefined;
let zstdModule: ZstdModule | undefined;
let snappyModule: SnappyModule | undefined;

const CODECS = {
  null: { name: 'null', compress: (block) => block },
  // Avro's snappy codec: the snappy-compressed block, then the big-endian CRC-32 of the raw block.
  snappy: {
    name: 'snappy',
    compress: (block) => {
      const crc = Buffer.allocUnsafe(4);
      crc.writeUInt32BE(crc32(block));
      return Buffer.concat([snappyModule!.compress(block), crc]);
    },
  },
  zstandard: {
    name: 'zstandard',
    compress: (block) => {
      const out = zstdModule!.compress(block, 3);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
  },
  deflate: { name: 'deflate', compress: (block) => deflateRawSync(block) },
} satisfies Record<string, Codec>;

/** snappyjs, loaded once on first use (a CommonJS module: its exports are the namespace's default). */
export async function loadSnappy(): Promise<SnappyModule> {
  const m = (await import('snappyjs')) as SnappyModule & { default?: SnappyModule };
  return m.default ?? m;
}

/** The zstd wasm module, loaded and initialised once (a second init would reset its memory). */
export function loadZstd(): Promise<ZstdModule> {
  return (zstd ??= import('@bokuweb/zstd-wasm').then(async (m) => {
    await m.init();
    return m;
  }));
}

async function codecFor(compression: Compression | undefined): Promise<Codec> {
  switch (compression) {
    case undefined:
      return CODECS.null;
    case 'snappy':
      snappyModule ??= await loadSnappy();
      return CODECS.snappy;
    case 'zstd':
      zstdModule ??= await loadZstd();
      return CODECS.zstandard;
    case 'gzip':
      // The IR allows no gzip for avro; Avro's nearest codec is deflate (raw deflate, RFC 1951).
      return CODECS.deflate;
  }
}

/** The SELECT expression that hands a column's values over in the form its Avro type is written from. */
function avroExpression(column: Column): string {
  const name = quoteIdent(column.name);
  switch (column.physical.kind) {
    case 'timestamp':
      return `epoch_us(${name})`;
    case 'date':
      return `CAST(${name} - DATE '1970-01-01' AS INTEGER)`;
    case 'decimal':
      return `CAST(${name} AS VARCHAR)`;
    default:
      return name;
  }
}

type ValueWriter = (sink: AvroSink, value: unknown) => void;

function mismatch(column: Column, value: unknown): RuntimeError {
  const shown = value === null ? 'null' : typeof value;
  return new RuntimeError('internal', `avro: column "${column.name}" (${column.physical.kind}) got ${shown}`);
}

function valueWriter(column: Column): ValueWriter {
  const { physical } = column;
  let write: ValueWriter;
  switch (physical.kind) {
    case 'string':
    case 'json':
      write = (sink, v) => {
        if (typeof v !== 'string') throw mismatch(column, v);
        sink.string(v);
      };
      break;
    case 'int64':
    case 'timestamp':
      write = (sink, v) => {
        if (typeof v !== 'bigint') throw mismatch(column, v);
        sink.bigLong(v);
      };
      break;
    case 'float64':
      write = (sink, v) => {
        if (typeof v !== 'number') throw mismatch(column, v);
        sink.double(v);
      };
      break;
    case 'decimal':
      write = (sink, v) => {
        if (typeof v !== 'string') throw mismatch(column, v);
        sink.bytes(decimalBytes(v, physical.scale));
      };
      break;
    case 'boolean':
      write = (sink, v) => {
        if (typeof v !== 'boolean') throw mismatch(column, v);
        sink.byte(v ? 1 : 0);
      };
      break;
    case 'date':
      write = (sink, v) => {
        if (typeof v !== 'number') throw mismatch(column, v);
        sink.long(v);
      };
      break;
  }
  if (!column.nullable) return write;
  // Union ["null", T]: branch 0 is null, branch 1 the value.
  return (sink, v) => {
    if (v === null) sink.byte(0);
    else {
      sink.byte(2); // zig-zag 1
      write(sink, v);
    }
  };
}

/** The file header: magic, metadata (schema and codec) and the file's sync marker. */
function header(schema: object, codec: string, sync: Buffer): Buffer {
  const out = new AvroSink();
  out.long(2);
  out.string('avro.schema');
  out.bytes(Buffer.from(JSON.stringify(schema), 'utf8'));
  out.string('avro.codec');
  out.bytes(Buffer.from(codec, 'utf8'));
  out.long(0);
  return Buffer.concat([MAGIC, out.take(), sync]);
}

/** One object container file being written. */
class ContainerFile {
  bytes = 0;
  private readonly sync = randomBytes(16);

  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string, schema: object, codec: Codec): Promise<ContainerFile> {
    const file = new ContainerFile(await open(path, 'w'));
    try {
      await file.write(header(schema, codec.name, file.sync));
    } catch (error) {
      await file.close();
      throw error;
    }
    return file;
  }

  async writeBlock(count: number, data: Buffer, codec: Codec): Promise<void> {
    const compressed = codec.compress(data);
    const prefix = new AvroSink();
    prefix.long(count);
    prefix.long(compressed.length);
    await this.write(Buffer.concat([prefix.take(), compressed, this.sync]));
  }

  private async write(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
    this.bytes += data.length;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * Avro object container files (spec 1.11), written as DuckDB streams the rows, so memory holds one
 * block, not the batch. Types as in {@link avroSchemaFor}; the record is named {@link AVRO_RECORD_NAME}.
 * Compression is the file's block codec: snappy → `snappy` (with the CRC-32 the spec asks for), zstd →
 * `zstandard`, none → `null` (and gzip, which the IR rejects for avro, → `deflate`). Rows are ordered by
 * partition; each partition starts a new file, and a file rolls over once it passes the target size.
 */
export const avroEncoder: FormatEncoder = {
  extension: () => '.avro',
  async encode(request: EncodeRequest): Promise<EncodedFile[]> {
    const { columns } = request;
    const codec = await codecFor(request.compression);
    const schema = avroSchemaFor(columns, AVRO_RECORD_NAME);
    const writers = columns.map(valueWriter);
    const blockBytes = Math.max(1, Math.min(request.targetFileBytes, MAX_BLOCK_BYTES));
    const select =
      `SELECT ${columns.map((c, i) => `${avroExpression(c)} AS c${i}`).join(', ')}, ${PART} ` +
      `FROM (${request.query}) ORDER BY ${PART}`;

    const block = new AvroSink();
    let blockRows = 0;
    let file: ContainerFile | undefined;
    let part: number | undefined;
    let fileIndex = 0;

    const flushBlock = async (): Promise<void> => {
      if (blockRows === 0 || !file) return;
      await file.writeBlock(blockRows, block.take(), codec);
      blockRows = 0;
    };
    const closeFile = async (): Promise<void> => {
      const closing = file;
      file = undefined;
      await closing?.close();
    };

    try {
      const result = await request.connection.stream(select);
      for await (const rows of result.yieldRowsJs()) {
        for (const row of rows) {
          const rowPart = Number(row[columns.length]);
          if (!Number.isInteger(rowPart))
            throw new RuntimeError('internal', `avro: partition id ${String(row[columns.length])}`);
          if (rowPart !== part) {
            await flushBlock();
            await closeFile();
            part = rowPart;
            fileIndex = 0;
          }
          if (!file) {
            const folder = join(request.dir, `${PART}=${rowPart}`);
            await mkdir(folder, { recursive: true });
            file = await ContainerFile.create(join(folder, `${request.filePrefix}-${fileIndex++}.avro`), schema, codec);
          }
          for (let i = 0; i < writers.length; i++) writers[i]!(block, row[i]);
          blockRows++;
          if (block.length >= blockBytes) {
            await flushBlock();
            if (file.bytes >= request.targetFileBytes) await closeFile();
          }
        }
      }
      await flushBlock();
    } finally {
      await closeFile();
    }
    return listEncodedFiles(request.dir);
  },
};
