import { RuntimeError } from '../../errors.js';
import { Misfit, type Column, type RowSink } from '../../columnar/columnar.js';
import type { RejectedRow, Row } from '../../records/record.js';
import type { PgTypeInfo } from './postgres-values.js';

/**
 * Rows of `COPY … TO STDOUT (FORMAT binary)` written straight into the lake writer's spool (a RowSink),
 * never becoming JS objects: PostgreSQL sends integers, floats, timestamps and dates as binary numbers
 * and text as UTF-8 bytes, so most values are a byte copy, and the server skips its text output
 * functions (about a quarter of its work for a COPY).
 *
 * Each field has a fast path for the values its lake column holds as they are (an int8 into an int64,
 * a timestamp within years 1857–2142, a numeric that scales exactly into the decimal, …). Anything
 * else takes the row path: the value's PostgreSQL text, the row path's converter, then the column's
 * reference writer (conform.ts), so a value fits, or is quarantined with the same reason, exactly as
 * when the table is read as rows. A rejected row goes to the quarantine as the row path builds it.
 *
 * The binary format (sql-copy.html, "Binary Format"): an 11-byte signature, a flags word and a header
 * extension, then per row a 16-bit field count and per field a 32-bit length (-1: null) and the
 * value in the type's send format; a field count of -1 ends the data.
 */

/** A column as the source reads it: its name, catalog type, and the row path's text → value converter. */
export interface BinaryColumn {
  readonly name: string;
  readonly type: PgTypeInfo;
  readonly convert: (text: string) => unknown;
}

/** Writes one value (`length` bytes at `at`) into column `index` of the sink, or throws a Misfit. */
type Decode = (sink: RowSink, index: number, data: Buffer, at: number, length: number) => void;
/** PostgreSQL's text output of one binary value (session TimeZone UTC, DateStyle ISO). */
type Text = (data: Buffer, at: number, length: number) => string;

interface Field {
  readonly name: string;
  readonly nullable: boolean;
  readonly decode: Decode;
  readonly text: Text;
}

/** How to decode a table's binary rows into its lake columns. */
export interface BinaryPlan {
  readonly fields: readonly Field[];
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** Bytes of the header before its extension: the signature, the flags, the extension's length. */
const HEADER_BYTES = 19;
/** 2000-01-01, PostgreSQL's epoch, in days and microseconds since 1970-01-01. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MICROS = 946_684_800_000_000;
const TWO_32 = 4_294_967_296;
/** Days of 0001-01-01 and 9999-12-31 since 1970-01-01: dates the lake holds. */
const FIRST_DAY = -719_162;
const LAST_DAY = 2_932_896;

/**
 * The plan for these columns going into these lake columns (same order), or undefined when one of
 * them has no binary decoder here (the caller then reads CSV).
 */
export function binaryPlan(columns: readonly BinaryColumn[], lake: readonly Column[]): BinaryPlan | undefined {
  const fields: Field[] = [];
  for (let i = 0; i < columns.length; i++) {
    const column = columns[i]!;
    const target = lake[i];
    if (!target || target.name !== column.name) return undefined;
    const codec = codecFor(column.type, target, column.convert);
    if (!codec) return undefined;
    fields.push({ name: column.name, nullable: target.nullable, ...codec });
  }
  return { fields };
}

/** Where the rows of a block start: after the header in the first block. */
export function binaryRowsStart(data: Buffer, first: boolean): number {
  if (!first) return 0;
  if (data.length < HEADER_BYTES || !data.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new RuntimeError('internal', 'postgres COPY: the binary data does not start with its signature');
  }
  return HEADER_BYTES + data.readUInt32BE(15);
}

/**
 * Writes the rows of `data` (whole rows from `start`, possibly the end marker) into `sink`; returns
 * the rows that did not fit, built as the row path builds them (`build`, from the fields' text).
 */
export function fillBinaryRows(
  plan: BinaryPlan,
  data: Buffer,
  start: number,
  sink: RowSink,
  build: (values: (string | null)[]) => Row,
): RejectedRow[] {
  const { fields } = plan;
  const count = fields.length;
  const rejected: RejectedRow[] = [];
  let at = start;
  while (at < data.length) {
    const fieldCount = ((data[at]! << 24) >> 16) | data[at + 1]!;
    if (fieldCount === -1) break;
    if (fieldCount !== count)
      throw new RuntimeError('internal', `postgres COPY: a binary row has ${fieldCount} fields, expected ${count}`);
    const rowStart = at;
    at += 2;
    sink.beginRow();
    try {
      for (let i = 0; i < count; i++) {
        const length = (data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!;
        at += 4;
        if (length < 0) {
          const field = fields[i]!;
          if (!field.nullable) throw new Misfit(`column "${field.name}" is not nullable but the value is null`);
          sink.setNull(i);
          continue;
        }
        fields[i]!.decode(sink, i, data, at, length);
        at += length;
      }
      sink.commitRow();
    } catch (error) {
      if (!(error instanceof Misfit)) throw error;
      sink.discardRow();
      const values: (string | null)[] = [];
      at = readRow(plan, data, rowStart, values);
      rejected.push({ row: build(values), reason: error.reason });
    }
  }
  return rejected;
}

/** The text of each field of the row at `at` (null for nulls); returns where the next row starts. */
function readRow(plan: BinaryPlan, data: Buffer, at: number, into: (string | null)[]): number {
  at += 2;
  for (const field of plan.fields) {
    const length = data.readInt32BE(at);
    at += 4;
    if (length < 0) into.push(null);
    else {
      into.push(field.text(data, at, length));
      at += length;
    }
  }
  return at;
}

/**
 * Decoder and text of a PostgreSQL type into a lake column, when there is one. `convert` is the row
 * path's converter of the type's text: the slow path of a decoder writes what it makes of the text.
 */
function codecFor(
  type: PgTypeInfo,
  target: Column,
  convert: (text: string) => unknown,
): { decode: Decode; text: Text } | undefined {
  if (type.element !== undefined || type.category === 'A') return undefined;
  // The row path for one value: its text, converted, through the column's reference writer; a value
  // converted to null (json's `null`) is a null there, as in a row.
  const slow = (text: Text, sink: RowSink, index: number, data: Buffer, at: number, length: number) => {
    const value = convert(text(data, at, length));
    if (value !== null && value !== undefined) sink.writer(index)(value);
    else if (target.nullable) sink.setNull(index);
    else throw new Misfit(`column "${target.name}" is not nullable but the value is null`);
  };
  const kind = target.physical.kind;
  const name = type.name;
  if (
    kind === 'string' &&
    (name === 'text' ||
      name === 'varchar' ||
      name === 'bpchar' ||
      name === 'name' ||
      name === 'citext' ||
      type.category === 'E')
  ) {
    return {
      decode: (sink, i, data, at, length) => sink.bytes(i, data, at, length),
      text: (data, at, length) => data.toString('utf8', at, at + length),
    };
  }
  if (kind === 'string' && name === 'numeric') {
    // An unconstrained numeric is its exact text.
    return {
      decode: (sink, i, data, at) => {
        const text = Buffer.from(numericText(data, at), 'latin1');
        sink.bytes(i, text, 0, text.length);
      },
      text: numericText,
    };
  }
  if (kind === 'string' && name === 'uuid') {
    const scratch = Buffer.alloc(36);
    return {
      decode: (sink, i, data, at) => {
        scratch.write(uuidText(data, at), 0, 'latin1');
        sink.bytes(i, scratch, 0, 36);
      },
      text: (data, at) => uuidText(data, at),
    };
  }
  if (kind === 'int64') {
    switch (name) {
      case 'int8':
        return {
          decode: (sink, i, data, at) => sink.swap8(i, data, at),
          text: (data, at) => data.readBigInt64BE(at).toString(),
        };
      case 'int4':
        return {
          decode: (sink, i, data, at) => sink.int64(i, data.readInt32BE(at)),
          text: (data, at) => String(data.readInt32BE(at)),
        };
      case 'int2':
        return {
          decode: (sink, i, data, at) => sink.int64(i, data.readInt16BE(at)),
          text: (data, at) => String(data.readInt16BE(at)),
        };
      case 'oid':
        return {
          decode: (sink, i, data, at) => sink.int64(i, data.readUInt32BE(at)),
          text: (data, at) => String(data.readUInt32BE(at)),
        };
      default:
        return undefined;
    }
  }
  if (kind === 'float64' && name === 'float8') {
    const text: Text = (data, at) => floatText(data.readDoubleBE(at));
    return {
      text,
      decode: (sink: RowSink, i: number, data: Buffer, at: number, length: number) => {
        // Exponent bits all set: NaN or an infinity, which the reference writer refuses.
        if ((data[at]! & 0x7f) === 0x7f && (data[at + 1]! & 0xf0) === 0xf0) slow(text, sink, i, data, at, length);
        else sink.swap8(i, data, at);
      },
    };
  }
  if (kind === 'boolean' && name === 'bool') {
    return {
      decode: (sink, i, data, at) => sink.bit(i, data[at] !== 0),
      text: (data, at) => (data[at] !== 0 ? 't' : 'f'),
    };
  }
  if (kind === 'date' && name === 'date') {
    const text: Text = (data, at) => dateText(data.readInt32BE(at));
    return {
      text,
      decode: (sink, i, data, at, length) => {
        const days = data.readInt32BE(at) + PG_EPOCH_DAYS;
        if (days >= FIRST_DAY && days <= LAST_DAY) sink.int32(i, days);
        else slow(text, sink, i, data, at, length);
      },
    };
  }
  if (kind === 'timestamp' && (name === 'timestamptz' || name === 'timestamp')) {
    const zone = name === 'timestamptz' ? '+00' : '';
    const text: Text = (data, at) => timestampText(data.readBigInt64BE(at), zone);
    return {
      text,
      decode: (sink, i, data, at, length) => {
        const high = data.readInt32BE(at);
        // Within 2^52 µs of 2000 (years 1857–2142), the microseconds since 1970 are an exact number.
        if (high >= -0x100000 && high < 0x100000)
          sink.int64(i, high * TWO_32 + data.readUInt32BE(at + 4) + PG_EPOCH_MICROS);
        else slow(text, sink, i, data, at, length);
      },
    };
  }
  if (kind === 'float64' && name === 'float4') {
    // The row path reads PostgreSQL's text of a real (its shortest decimal) as a double: 1.1, not the
    // float's 1.100000023841858.
    const text: Text = (data, at) => float4Text(data.readFloatBE(at));
    return {
      text,
      decode: (sink, i, data, at, length) => {
        const value = data.readFloatBE(at);
        if (Number.isFinite(value)) sink.writer(i)(float4Decimal(value));
        else slow(text, sink, i, data, at, length);
      },
    };
  }
  // Types whose text the row path converts (json parsed, bytea to base64) or keeps (time): the text is
  // made from the binary value and goes the row path's way, into a lake column of any type.
  if (name === 'json' || name === 'jsonb') {
    const text: Text = name === 'json' ? (data, at, length) => data.toString('utf8', at, at + length) : jsonbText;
    return { text, decode: (sink, i, data, at, length) => slow(text, sink, i, data, at, length) };
  }
  if (name === 'bytea') {
    const text: Text = (data, at, length) => `\\x${data.toString('hex', at, at + length)}`;
    if (kind !== 'string')
      return { text, decode: (sink, i, data, at, length) => slow(text, sink, i, data, at, length) };
    // What the row path's converter makes of the hex text, without it.
    return { text, decode: (sink, i, data, at, length) => sink.writer(i)(data.toString('base64', at, at + length)) };
  }
  if (name === 'time') {
    const text: Text = (data, at) => timeText(data.readBigInt64BE(at));
    return { text, decode: (sink, i, data, at, length) => slow(text, sink, i, data, at, length) };
  }
  if (kind === 'decimal' && name === 'numeric') {
    const { precision, scale } = target.physical as { precision: number; scale: number };
    const limit = 10 ** Math.min(precision, 15);
    return {
      text: numericText,
      decode: (sink, i, data, at, length) => {
        const k = scaledNumeric(data, at, scale);
        if (k !== undefined && Math.abs(k) < limit) sink.scaled(i, k);
        else slow(numericText, sink, i, data, at, length);
      },
    };
  }
  return undefined;
}

/**
 * A numeric (binary: digit count, weight, sign, display scale, base-10000 digits) as an integer scaled
 * to `scale` places, when that is exact and a safe integer; undefined otherwise (NaN, infinities,
 * more places than `scale`, too many digits).
 */
function scaledNumeric(data: Buffer, at: number, scale: number): number | undefined {
  const digits = data.readUInt16BE(at);
  const weight = data.readInt16BE(at + 2);
  const sign = data.readUInt16BE(at + 4);
  if (sign !== 0 && sign !== 0x4000) return undefined;
  if (digits > 4) return undefined;
  let whole = 0;
  for (let d = 0; d < digits; d++) whole = whole * 10_000 + data.readUInt16BE(at + 8 + 2 * d);
  if (whole > Number.MAX_SAFE_INTEGER) return undefined;
  // The digits read as a whole number are the value times 10000^(digits - 1 - weight).
  const shift = scale + 4 * (weight - digits + 1);
  let k: number;
  if (digits === 0) k = 0;
  else if (shift >= 0) {
    if (shift > 15) return undefined;
    k = whole * 10 ** shift;
    if (k > Number.MAX_SAFE_INTEGER) return undefined;
  } else {
    if (shift < -15) return undefined;
    const divisor = 10 ** -shift;
    if (whole % divisor !== 0) return undefined;
    k = whole / divisor;
  }
  return sign === 0x4000 ? -k : k;
}

/** numeric_out: the value with `dscale` places, or NaN/Infinity/-Infinity. */
function numericText(data: Buffer, at: number): string {
  const digits = data.readUInt16BE(at);
  const weight = data.readInt16BE(at + 2);
  const sign = data.readUInt16BE(at + 4);
  const dscale = data.readUInt16BE(at + 6);
  if (sign === 0xc000) return 'NaN';
  if (sign === 0xd000) return 'Infinity';
  if (sign === 0xf000) return '-Infinity';
  const digit = (i: number) => (i >= 0 && i < digits ? data.readUInt16BE(at + 8 + 2 * i) : 0);
  let text = sign === 0x4000 ? '-' : '';
  if (weight < 0) text += '0';
  else for (let i = 0; i <= weight; i++) text += i === 0 ? String(digit(i)) : String(digit(i)).padStart(4, '0');
  if (dscale > 0) {
    let fraction = '';
    for (let i = weight + 1; fraction.length < dscale; i++) fraction += String(digit(i)).padStart(4, '0');
    text += `.${fraction.slice(0, dscale)}`;
  }
  return text;
}

/** float8out: the shortest text that reads back as the same double. */
function floatText(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return String(value);
}

/** A float4's bits, and the float4 of some bits. */
const FLOAT4 = new Float32Array(1);
const FLOAT4_BITS = new Uint32Array(FLOAT4.buffer);
const float4Bits = (value: number) => ((FLOAT4[0] = value), FLOAT4_BITS[0]!);
const float4OfBits = (bits: number) => ((FLOAT4_BITS[0] = bits), FLOAT4[0]!);

/** float4out's text of a float4, with extra_float_digits above 0 (the session's 3): see float4Decimal. */
function float4Text(value: number): string {
  if (Object.is(value, -0)) return '-0';
  return floatText(Number.isFinite(value) ? float4Decimal(value) : value);
}

/**
 * The number float4out's text of a finite float4 reads as (extra_float_digits above 0, the session's
 * 3): the shortest decimal strictly between the midpoints to the neighbouring float4s (PostgreSQL's
 * Ryu does not take a decimal on a midpoint, though a reader would round it to this float), the
 * nearest of those when there are several, the one with an even last digit on a tie. Per length, the
 * nearest decimal of that many digits or one a step either side of it (a float's interval is lopsided
 * at a power of two). Checked against float4out on 3 M random floats and every exponent's edge
 * mantissas; the property test checks it too.
 */
function float4Decimal(value: number): number {
  if (value === 0) return value;
  const magnitude = Math.abs(value);
  // Midpoints are exact doubles (a float4 has 24 bits); past the largest float4 the step above is the one below.
  const bits = float4Bits(magnitude);
  const below = float4OfBits(bits - 1);
  const above = float4OfBits(bits + 1);
  const low = (below + magnitude) / 2;
  const high = Number.isFinite(above) ? (magnitude + above) / 2 : magnitude + (magnitude - below) / 2;
  for (let digits = 1; digits <= 9; digits++) {
    const [mantissa = '', exponent = ''] = magnitude.toExponential(digits - 1).split('e');
    const nearest = BigInt(mantissa.replace('.', ''));
    const scale = Number(exponent) - digits + 1;
    let best: bigint | undefined;
    for (const m of [nearest - 1n, nearest, nearest + 1n]) {
      const candidate = Number(`${m}e${scale}`);
      if (!(candidate > low && candidate < high)) continue;
      if (best === undefined) {
        best = m;
        continue;
      }
      // Halfway between the two decimals, as the double nearest to it: above it m is nearer.
      const middle = Number(`${(best + m) * 5n}e${scale - 1}`);
      if (magnitude > middle || (magnitude === middle && m % 2n === 0n)) best = m;
    }
    if (best !== undefined) return Math.sign(value) * Number(`${best}e${scale}`);
  }
  // Not reached: one of the nearest nine-digit decimals lies strictly inside.
  return Number(value.toPrecision(9));
}

/** jsonb's binary form: a version byte (1), then the value's text. */
function jsonbText(data: Buffer, at: number, length: number): string {
  if (data[at] !== 1) {
    throw new RuntimeError('internal', `postgres COPY: a jsonb value of binary version ${data[at]}, expected 1`);
  }
  return data.toString('utf8', at + 1, at + length);
}

/** time_out: microseconds since midnight as HH:MM:SS and the fraction's significant digits. */
function timeText(micros: bigint): string {
  const total = Number(micros);
  const fraction = total % 1_000_000;
  const seconds = (total - fraction) / 1_000_000;
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(Math.floor(seconds / 3600))}:${two(Math.floor(seconds / 60) % 60)}:${two(seconds % 60)}`;
  return fraction === 0 ? clock : `${clock}.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`;
}

function uuidText(data: Buffer, at: number): string {
  const hex = data.toString('hex', at, at + 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Year, month, day of a day number since 1970-01-01 (proleptic Gregorian, astronomical years). */
function civil(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** A date as DateStyle ISO writes it: `YYYY-MM-DD`, ` BC` for years before 1. */
function dateOf(days: number): string {
  const [year, month, day] = civil(days);
  const bc = year < 1;
  return `${String(bc ? 1 - year : year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}${bc ? ' BC' : ''}`;
}

/** date_out (DateStyle ISO) of PostgreSQL's day number. */
function dateText(pgDays: number): string {
  if (pgDays === 0x7fffffff) return 'infinity';
  if (pgDays === -0x80000000) return '-infinity';
  return dateOf(pgDays + PG_EPOCH_DAYS);
}

/** timestamp(tz)_out (DateStyle ISO, TimeZone UTC) of PostgreSQL's microseconds since 2000. */
function timestampText(pgMicros: bigint, zone: string): string {
  if (pgMicros === 0x7fffffffffffffffn) return 'infinity';
  if (pgMicros === -0x8000000000000000n) return '-infinity';
  const micros = pgMicros + BigInt(PG_EPOCH_MICROS);
  const perDay = 86_400_000_000n;
  let days = micros / perDay;
  let rest = micros % perDay;
  if (rest < 0n) {
    rest += perDay;
    days -= 1n;
  }
  const date = dateOf(Number(days));
  const bc = date.endsWith(' BC');
  const of = Number(rest);
  const seconds = Math.floor(of / 1_000_000);
  const fraction = of % 1_000_000;
  const time = `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}${
    fraction > 0 ? `.${String(fraction).padStart(6, '0').replace(/0+$/, '')}` : ''
  }`;
  return `${bc ? date.slice(0, -3) : date} ${time}${zone}${bc ? ' BC' : ''}`;
}
