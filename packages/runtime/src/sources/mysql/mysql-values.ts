import type { FieldType } from '@connector-factory/ir';
import { RuntimeError } from '../../errors.js';
import type { SourceColumn } from '../source.js';

/**
 * MySQL / MariaDB catalog types → Connector IR types, and values as mysql2 hands them over (text
 * protocol; options `dateStrings`, `supportBigNumbers` + `bigNumberStrings`, `decimalNumbers: false`,
 * `jsonStrings`, rows as arrays) → the canonical values the lake writer's `conform` takes.
 *
 * | MySQL / MariaDB                          | IR type  | numberHint    | value                                  |
 * | ---------------------------------------- | -------- | ------------- | -------------------------------------- |
 * | tinyint(1) [unsigned] (BOOL)             | boolean  |               | `true` / `false` (any non-zero is true) |
 * | tinyint, smallint, mediumint, int [uns.] | number   | int64         | JS number (always exact)               |
 * | bigint                                   | number   | int64         | decimal string (exact beyond 2^53)     |
 * | bigint unsigned                          | number   | decimal(20,0) | decimal string                         |
 * | decimal(p,s), p ≤ 38                     | number   | decimal(p,s)  | decimal string, as the server prints it |
 * | decimal(p,s), p > 38                     | string   |               | decimal string (no lake decimal fits)  |
 * | float                                    | number   | float64       | JS number, shortest float32 text (3.14) |
 * | double                                   | number   | float64       | JS number                              |
 * | bit(n), n ≤ 63                           | number   | int64         | JS number (n ≤ 53) or decimal string   |
 * | bit(64)                                  | number   | decimal(20,0) | decimal string                         |
 * | date                                     | date     |               | 'YYYY-MM-DD'; zero dates → null        |
 * | datetime(n), timestamp(n)                | datetime |               | 'YYYY-MM-DDTHH:MM:SS[.ffffff]Z'        |
 * | time(n)                                  | string   |               | '[-]HHH:MM:SS[.ffffff]' (a duration)   |
 * | year                                     | string   |               | 'YYYY'                                 |
 * | char, varchar, *text, enum, set, uuid, inet4/6 | string |         | string; set → 'a,b'                    |
 * | json (MySQL), longtext + CHECK json_valid (MariaDB) | json |      | parsed JSON value                      |
 * | binary, varbinary, *blob                 | string   |               | base64                                 |
 * | geometry, point, …                       | string   |               | WKT (`ST_AsText`)                      |
 * | anything else                            | string   |               | text (binary → base64)                 |
 *
 * DATETIME has no time zone: it is taken as UTC. TIMESTAMP is read in a session with
 * `time_zone = '+00:00'`, so both come out as UTC instants with all their microseconds.
 */
export type ValueKind =
  | 'boolean'
  | 'int'
  | 'bigint'
  | 'decimal'
  | 'float'
  | 'double'
  | 'bit'
  | 'date'
  | 'datetime'
  | 'time'
  | 'year'
  | 'string'
  | 'json'
  | 'binary'
  | 'spatial';

/** One row of information_schema.COLUMNS (the fields this module reads). */
export interface CatalogColumn {
  readonly name: string;
  /** DATA_TYPE, e.g. `int`, `decimal`, `longtext`. */
  readonly dataType: string;
  /** COLUMN_TYPE, e.g. `int(10) unsigned`, `decimal(12,2)`, `enum('a','b')`. */
  readonly columnType: string;
  readonly nullable: boolean;
  readonly numericPrecision: number | null;
  readonly numericScale: number | null;
  /** MariaDB: a column-level `CHECK (json_valid(col))`, i.e. a column declared `JSON`. */
  readonly jsonChecked: boolean;
}

/** A column with what reading it needs: the IR view, how to select it, convert it and compare with it. */
export interface MysqlColumn {
  readonly source: SourceColumn;
  readonly kind: ValueKind;
  readonly unsigned: boolean;
  readonly precision: number;
  readonly scale: number;
  /** Bits of a `bit(n)` column. */
  readonly bits: number;
}

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer']);
const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);
const BINARY_TYPES = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);
const SPATIAL_TYPES = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

/**
 * Quotes an identifier (schema, table or column) for MySQL/MariaDB: backticks, inner backticks doubled.
 * The only place identifiers are put into SQL.
 */
export function quoteIdent(name: string): string {
  if (name === '' || name.includes('\0')) {
    throw new RuntimeError('config', `invalid MySQL identifier ${JSON.stringify(name)}: empty or containing NUL`);
  }
  return '`' + name.replace(/`/g, '``') + '`';
}

/** Maps a catalog column to its IR type, number hint and value kind. */
export function mapColumn(info: CatalogColumn): MysqlColumn {
  const dataType = info.dataType.toLowerCase();
  const columnType = info.columnType.toLowerCase();
  const unsigned = /\bunsigned\b/.test(columnType);
  const precision = info.numericPrecision ?? 0;
  const scale = info.numericScale ?? 0;
  const make = (
    kind: ValueKind,
    type: FieldType,
    numberHint?: string,
    sourceType = columnType,
    bits = 0,
  ): MysqlColumn => ({
    source: {
      name: info.name,
      type,
      nullable: info.nullable,
      ...(numberHint === undefined ? {} : { numberHint }),
      sourceType,
    },
    kind,
    unsigned,
    precision,
    scale,
    bits,
  });
  if (dataType === 'tinyint' && /^tinyint\(1\)/.test(columnType)) return make('boolean', 'boolean');
  if (INTEGER_TYPES.has(dataType)) return make('int', 'number', 'int64');
  if (dataType === 'bigint')
    return unsigned ? make('bigint', 'number', 'decimal(20,0)') : make('bigint', 'number', 'int64');
  if (dataType === 'decimal' || dataType === 'numeric') {
    return precision >= 1 && precision <= 38
      ? make('decimal', 'number', `decimal(${precision},${scale})`)
      : make('decimal', 'string');
  }
  if (dataType === 'float') return make('float', 'number', 'float64');
  if (dataType === 'double' || dataType === 'real' || dataType === 'double precision')
    return make('double', 'number', 'float64');
  if (dataType === 'bit') {
    const bits = precision || Number(/^bit\((\d+)\)/.exec(columnType)?.[1] ?? 1);
    return make('bit', 'number', bits >= 64 ? 'decimal(20,0)' : 'int64', columnType, bits);
  }
  if (dataType === 'date') return make('date', 'date');
  if (dataType === 'datetime' || dataType === 'timestamp') return make('datetime', 'datetime');
  if (dataType === 'time') return make('time', 'string');
  if (dataType === 'year') return make('year', 'string');
  if (dataType === 'json') return make('json', 'json');
  if (dataType === 'longtext' && info.jsonChecked) return make('json', 'json', undefined, 'json');
  if (STRING_TYPES.has(dataType)) return make('string', 'string');
  if (BINARY_TYPES.has(dataType)) return make('binary', 'string');
  if (SPATIAL_TYPES.has(dataType)) return make('spatial', 'string');
  return make('string', 'string');
}

/** The SELECT expression of a column. */
export function selectExpression(column: MysqlColumn): string {
  const quoted = quoteIdent(column.source.name);
  // FLOAT prints with 6 significant digits in the text protocol (123456789 → 123457000): widen it to
  // DOUBLE on the server, which prints every digit, and shorten it again on this side.
  if (column.kind === 'float') return `(${quoted} + 0E0)`;
  if (column.kind === 'spatial') return `ST_AsText(${quoted})`;
  return quoted;
}

/** The shortest decimal that reads back as the same float32 (3.14, not 3.140000104904175). */
function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function bufferOf(raw: unknown): Buffer | undefined {
  return Buffer.isBuffer(raw) ? raw : undefined;
}

function bitValue(raw: unknown, bits: number): number | string {
  const buffer = bufferOf(raw);
  const big = buffer ? (buffer.length === 0 ? 0n : BigInt(`0x${buffer.toString('hex')}`)) : BigInt(String(raw));
  return bits <= 53 ? Number(big) : big.toString();
}

/** A DATE or DATETIME with a zero year, month or day ('0000-00-00', '2024-00-10'), which no calendar has. */
function isZeroDate(text: string): boolean {
  return /^0000-|^\d{4}-00-|^\d{4}-\d{2}-00/.test(text);
}

function textOf(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  const buffer = bufferOf(raw);
  if (buffer) return buffer.toString('base64');
  if (typeof raw === 'object') return JSON.stringify(raw);
  return String(raw);
}

/** A converter from the raw mysql2 value of a column to its canonical value. */
export type Converter = (raw: unknown) => unknown;

/** The converter of a column (null stays null). */
export function converterFor(column: MysqlColumn): Converter {
  const nullSafe =
    (convert: Converter): Converter =>
    (raw) =>
      raw === null || raw === undefined ? null : convert(raw);
  switch (column.kind) {
    case 'boolean':
      return nullSafe((raw) => Number(raw) !== 0);
    case 'int':
      return nullSafe((raw) => (typeof raw === 'number' ? raw : Number(raw)));
    case 'bigint':
    case 'decimal':
      return nullSafe((raw) => String(raw));
    case 'float':
      return nullSafe((raw) => shortestFloat32(Math.fround(Number(raw))));
    case 'double':
      return nullSafe((raw) => (typeof raw === 'number' ? raw : Number(raw)));
    case 'bit':
      return nullSafe((raw) => bitValue(raw, column.bits));
    case 'date':
      return nullSafe((raw) => {
        const text = textOf(raw);
        return isZeroDate(text) ? null : text;
      });
    case 'datetime':
      return nullSafe((raw) => {
        const text = textOf(raw);
        if (isZeroDate(text)) return null;
        return text.length > 10 ? `${text.slice(0, 10)}T${text.slice(11)}Z` : `${text}T00:00:00Z`;
      });
    case 'year':
      return nullSafe((raw) => String(raw).padStart(4, '0'));
    case 'json':
      return nullSafe((raw) => {
        const text = bufferOf(raw)?.toString('utf8') ?? textOf(raw);
        try {
          return JSON.parse(text) as unknown;
        } catch {
          return text;
        }
      });
    case 'binary':
      return nullSafe((raw) => bufferOf(raw)?.toString('base64') ?? textOf(raw));
    case 'spatial':
      return nullSafe((raw) => bufferOf(raw)?.toString('utf8') ?? textOf(raw));
    case 'time':
    case 'string':
      return nullSafe(textOf);
  }
}

/** A value as it goes into a resume state: JSON-safe, exact, and back into SQL by `sqlParameter`. */
export type StateValue = string | number | boolean | null;

/** The state form of a raw value: the raw value itself, except binary (base64). */
export function stateValue(raw: unknown): StateValue {
  if (raw === null || raw === undefined) return null;
  const buffer = bufferOf(raw);
  if (buffer) return buffer.toString('base64');
  if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean') return raw;
  if (typeof raw === 'bigint') return raw.toString();
  return JSON.stringify(raw);
}

/**
 * A placeholder with the column's own type around it, and its value, so the server compares exactly:
 * a bare string against a BIGINT or DECIMAL column would be compared as a double.
 */
export function sqlParameter(column: MysqlColumn, value: StateValue): { sql: string; value: unknown } {
  switch (column.kind) {
    case 'boolean':
    case 'int':
    case 'bigint':
    case 'year':
      return { sql: column.unsigned ? 'CAST(? AS UNSIGNED)' : 'CAST(? AS SIGNED)', value };
    case 'decimal': {
      const precision = Math.min(Math.max(column.precision, 1), 65);
      const scale = Math.min(Math.max(column.scale, 0), 30, precision);
      return { sql: `CAST(? AS DECIMAL(${precision},${scale}))`, value };
    }
    case 'float':
    case 'double':
      return { sql: '(? + 0E0)', value };
    case 'date':
      return { sql: 'CAST(? AS DATE)', value };
    case 'datetime':
      return { sql: 'CAST(? AS DATETIME(6))', value };
    case 'time':
      return { sql: 'CAST(? AS TIME(6))', value };
    case 'bit':
    case 'binary':
      return { sql: '?', value: typeof value === 'string' ? Buffer.from(value, 'base64') : value };
    case 'string':
    case 'json':
    case 'spatial':
      return { sql: '?', value };
  }
}

/** Kinds a cursor or a key can be compared on exactly. */
export function comparable(column: MysqlColumn): boolean {
  return column.kind !== 'json' && column.kind !== 'spatial';
}

/** Kinds a lookback (`cursor - N seconds`) makes sense for. */
export function temporal(column: MysqlColumn): boolean {
  return column.kind === 'date' || column.kind === 'datetime';
}
