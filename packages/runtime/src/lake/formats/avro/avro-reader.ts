import { open, readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { duckdbType } from '../../../engine/duckdb-engine.js';
import { RuntimeError } from '../../../errors.js';
import { formatCsvRow } from '../../csv-page.js';
import type { Column, PhysicalType } from '../../table-schema.js';
import { loadSnappy, loadZstd, ORIGINAL_NAME_ATTRIBUTE } from './avro-encoder.js';

// Reads back the object container files avro-encoder.ts writes, so that a merge can rewrite them:
// DuckDB's avro extension is a download, which a connector cannot count on.

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

/** A cursor over Avro's binary encoding. */
class AvroSource {
  pos = 0;
  constructor(
    readonly data: Buffer,
    readonly what: string,
  ) {}

  private need(bytes: number): void {
    if (this.pos + bytes > this.data.length)
      throw new RuntimeError('corrupt', `${this.what}: ends in the middle of a value`);
  }

  /** A zig-zag varint as a bigint (exact for every 64-bit value). */
  bigLong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      this.need(1);
      const byte = this.data[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new RuntimeError('corrupt', `${this.what}: a varint longer than 10 bytes`);
    }
    return (result >> 1n) ^ -(result & 1n);
  }

  /** A zig-zag varint as a number (counts, sizes, dates: small by construction). */
  long(): number {
    return Number(this.bigLong());
  }

  bytes(): Buffer {
    const size = this.long();
    if (size < 0) throw new RuntimeError('corrupt', `${this.what}: a negative length`);
    this.need(size);
    const out = this.data.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }

  string(): string {
    return this.bytes().toString('utf8');
  }

  double(): number {
    this.need(8);
    const value = this.data.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  byte(): number {
    this.need(1);
    return this.data[this.pos++]!;
  }
}

/** A decimal's unscaled two's-complement bytes as text with `scale` places. */
export function decimalText(bytes: Uint8Array, scale: number): string {
  let unscaled = 0n;
  for (const byte of bytes) unscaled = (unscaled << 8n) | BigInt(byte);
  if (bytes.length > 0 && (bytes[0]! & 0x80) !== 0) unscaled -= 1n << BigInt(bytes.length * 8);
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** A value as CSV text in the form loadAvroCsv's column types read: see avroCsvType. */
type FieldReader = (source: AvroSource) => string | null;

function fieldReader(column: Column): FieldReader {
  const { physical } = column;
  let read: (source: AvroSource) => string;
  switch (physical.kind) {
    case 'string':
    case 'json':
      read = (s) => s.string();
      break;
    case 'int64':
    case 'timestamp':
      read = (s) => s.bigLong().toString();
      break;
    case 'float64':
      read = (s) => String(s.double());
      break;
    case 'decimal':
      read = (s) => decimalText(s.bytes(), physical.scale);
      break;
    case 'boolean':
      read = (s) => (s.byte() === 0 ? 'false' : 'true');
      break;
    case 'date':
      read = (s) => String(s.long());
      break;
  }
  if (!column.nullable) return read;
  return (s) => (s.long() === 0 ? null : read(s));
}

/**
 * The type loadAvroCsv reads a column's CSV text as, and the SQL turning it into the column's value:
 * timestamps travel as epoch microseconds, dates as days since 1970-01-01.
 */
export function avroCsvColumn(column: Column, ref: string): { readonly type: string; readonly value: string } {
  switch (column.physical.kind) {
    case 'timestamp':
      return { type: 'BIGINT', value: `make_timestamptz(${ref})` };
    case 'date':
      return { type: 'INTEGER', value: `DATE '1970-01-01' + ${ref}` };
    default:
      return { type: duckdbType(column.physical), value: ref };
  }
}

async function decompress(codec: string, block: Buffer, what: string): Promise<Buffer> {
  switch (codec) {
    case 'null':
      return block;
    case 'deflate':
      return inflateRawSync(block);
    case 'snappy': {
      // The snappy block, then the big-endian CRC-32 of the raw block.
      const out = (await loadSnappy()).uncompress(block.subarray(0, block.length - 4));
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    case 'zstandard': {
      const out = (await loadZstd()).decompress(block);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    default:
      throw new RuntimeError('corrupt', `${what}: unknown avro codec "${codec}"`);
  }
}

interface AvroHeader {
  readonly codec: string;
  readonly schema: { readonly fields?: ReadonlyArray<Record<string, unknown>> };
  readonly sync: Buffer;
}

/** Reads an object container file's header (magic, metadata map, sync marker); leaves `source` at the first block. */
function readHeader(source: AvroSource): AvroHeader {
  if (!source.data.subarray(0, 4).equals(MAGIC))
    throw new RuntimeError('corrupt', `${source.what}: not an Avro object container file`);
  source.pos = 4;
  const meta = new Map<string, Buffer>();
  for (let count = source.long(); count !== 0; count = source.long()) {
    if (count < 0) source.long(); // the block's byte size, not needed
    for (let i = 0; i < Math.abs(count); i++) meta.set(source.string(), source.bytes());
  }
  const sync = source.data.subarray(source.pos, source.pos + 16);
  source.pos += 16;
  return {
    codec: meta.get('avro.codec')?.toString('utf8') ?? 'null',
    schema: JSON.parse(meta.get('avro.schema')?.toString('utf8') ?? '{}') as AvroHeader['schema'],
    sync,
  };
}

/** The physical type avro-encoder.ts wrote as this Avro type. */
function avroPhysical(type: string | Record<string, unknown>): PhysicalType {
  if (typeof type === 'string') {
    switch (type) {
      case 'long':
      case 'int':
        return { kind: 'int64' };
      case 'double':
      case 'float':
        return { kind: 'float64' };
      case 'boolean':
        return { kind: 'boolean' };
      default:
        return { kind: 'string' };
    }
  }
  switch (type.logicalType) {
    case 'decimal':
      return { kind: 'decimal', precision: Number(type.precision), scale: Number(type.scale ?? 0) };
    case 'date':
      return { kind: 'date' };
    case 'timestamp-micros':
    case 'timestamp-millis':
      return { kind: 'timestamp' };
    default:
      return typeof type.type === 'string' ? avroPhysical(type.type) : { kind: 'string' };
  }
}

/**
 * The columns and codec of an Avro object container file, from its own schema (as avro-encoder.ts
 * wrote it: original names in an attribute, nullable fields as a union with null).
 */
export async function readAvroColumns(file: string): Promise<{ columns: Column[]; codec: string }> {
  const { codec, schema } = readHeader(new AvroSource(await readFile(file), `avro file ${file}`));
  const columns = (schema.fields ?? []).map((field): Column => {
    const declared = field.type;
    const nullable = Array.isArray(declared) && declared.includes('null');
    const type = (Array.isArray(declared) ? declared.find((t) => t !== 'null') : declared) as
      string | Record<string, unknown>;
    return {
      name: String(field[ORIGINAL_NAME_ATTRIBUTE] ?? field.name),
      type: 'string',
      nullable,
      physical: avroPhysical(type),
    };
  });
  return { columns, codec };
}

/**
 * Decodes an Avro object container file of a table with these columns (as avro-encoder.ts wrote it:
 * fields in column order, matched by name) into a CSV file of the columns' values (see avroCsvColumn).
 * Returns the number of records.
 */
export async function avroFileToCsv(file: string, columns: readonly Column[], csvFile: string): Promise<number> {
  const what = `avro file ${file}`;
  const source = new AvroSource(await readFile(file), what);
  const { codec, schema, sync } = readHeader(source);
  const names = (schema.fields ?? []).map((f) => String(f[ORIGINAL_NAME_ATTRIBUTE] ?? f.name));
  if (names.join('\u0000') !== columns.map((c) => c.name).join('\u0000')) {
    throw new RuntimeError(
      'corrupt',
      `${what}: its fields (${names.join(', ')}) are not the table's columns (${columns.map((c) => c.name).join(', ')})`,
    );
  }
  const readers = columns.map(fieldReader);
  let records = 0;
  // Written a block at a time: a whole file's text could pass the longest string V8 can hold.
  const out = await open(csvFile, 'w');
  try {
    while (source.pos < source.data.length) {
      const count = source.long();
      const block = new AvroSource(await decompress(codec, source.bytes(), what), what);
      let text = '';
      for (let r = 0; r < count; r++) text += formatCsvRow(readers.map((read) => read(block)));
      await out.write(text);
      records += count;
      if (!source.data.subarray(source.pos, source.pos + 16).equals(sync))
        throw new RuntimeError('corrupt', `${what}: a block without the file's sync marker`);
      source.pos += 16;
    }
  } finally {
    await out.close();
  }
  return records;
}
