import { randomUUID } from 'node:crypto';
import { RuntimeError } from '../../../errors.js';

// The actions of Delta Lake's transaction log (PROTOCOL.md, "Actions"), the schema serialization
// format they embed, and the string forms of partition values. Everything here is pure: reading and
// writing the log lives in delta-log.ts.

/** The protocol versions this runtime reads and writes: reader 1 (no column mapping), writer 2. */
export const READER_VERSION = 1;
export const WRITER_VERSION = 2;

/** Which Delta readers and writers may touch the table; tables we create pin (1, 2). */
export interface Protocol {
  readonly minReaderVersion: number;
  readonly minWriterVersion: number;
  /** Only on reader version 3 tables; kept so an unsupported table is reported, not misread. */
  readonly readerFeatures?: readonly string[];
  /** Only on writer version 7 tables. */
  readonly writerFeatures?: readonly string[];
}

/** The table's identity, schema and partitioning; the latest one in the log wins. */
export interface Metadata {
  /** A GUID fixed at table creation. */
  readonly id: string;
  readonly name?: string;
  readonly description?: string;
  readonly format: { readonly provider: string; readonly options: Readonly<Record<string, string>> };
  /** The schema as JSON text (see `schemaString`). */
  readonly schemaString: string;
  readonly partitionColumns: readonly string[];
  readonly configuration: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch. */
  readonly createdTime?: number;
}

/** A data file that joins the table. */
export interface Add {
  /** Relative to the table root and URI-encoded (see `encodeDeltaPath`). */
  readonly path: string;
  /** Partition column → serialized value (see `serializePartitionValue`); null for a null value. */
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly size: number;
  /** Milliseconds since the epoch. */
  readonly modificationTime: number;
  /** False when the file only rearranges data already in the table (compaction). */
  readonly dataChange: boolean;
  /** Per-file statistics as a JSON string (see `statsString`). */
  readonly stats?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** A data file that leaves the table; it stays as a tombstone (for VACUUM) until it expires. */
export interface Remove {
  readonly path: string;
  /** Milliseconds since the epoch; tombstones expire relative to it. */
  readonly deletionTimestamp?: number;
  readonly dataChange: boolean;
  /** True when partitionValues and size are present. */
  readonly extendedFileMetadata?: boolean;
  readonly partitionValues?: Readonly<Record<string, string | null>>;
  readonly size?: number;
}

/** The last batch an application committed, so that a replayed batch can be skipped (exactly-once). */
export interface Txn {
  readonly appId: string;
  readonly version: number;
  readonly lastUpdated?: number;
}

/** Provenance of one commit; free-form beyond the fields below, never part of a snapshot. */
export interface CommitInfo {
  readonly timestamp: number;
  readonly operation: string;
  readonly operationParameters: Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

/** One line of a commit file, exactly as it is serialized: an object with a single action key. */
export type DeltaAction =
  | { readonly protocol: Protocol }
  | { readonly metaData: Metadata }
  | { readonly add: Add }
  | { readonly remove: Remove }
  | { readonly txn: Txn }
  | { readonly commitInfo: CommitInfo };

// ---------------------------------------------------------------------------------------------------
// Schema serialization (PROTOCOL.md, "Schema Serialization Format": a subset of Spark's JSON schema)

/** A primitive Delta type; decimals carry precision and scale in the name, e.g. `decimal(12,2)`. */
export type DeltaPrimitiveType =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'double'
  | 'float'
  | 'boolean'
  | 'date'
  | 'timestamp'
  | 'binary'
  | `decimal(${number},${number})`;

/** A nested struct column, or the table schema itself. */
export interface DeltaStructType {
  readonly type: 'struct';
  readonly fields: readonly DeltaField[];
}

/** A list column. */
export interface DeltaArrayType {
  readonly type: 'array';
  readonly elementType: DeltaType;
  readonly containsNull: boolean;
}

/** A map column. */
export interface DeltaMapType {
  readonly type: 'map';
  readonly keyType: DeltaType;
  readonly valueType: DeltaType;
  readonly valueContainsNull: boolean;
}

/** Any Delta column type. */
export type DeltaType = DeltaPrimitiveType | DeltaStructType | DeltaArrayType | DeltaMapType;

/** One column; `metadata` holds column properties such as `delta.invariants` (empty when omitted). */
export interface DeltaField {
  readonly name: string;
  readonly type: DeltaType;
  readonly nullable: boolean;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

const PRIMITIVES: ReadonlySet<string> = new Set([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'double',
  'float',
  'boolean',
  'date',
  'timestamp',
  'binary',
]);
const DECIMAL = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/;

/** The `decimal(p,s)` type, checked against Delta's limit of 38 digits. */
export function decimalType(precision: number, scale: number): DeltaPrimitiveType {
  if (
    !Number.isInteger(precision) ||
    !Number.isInteger(scale) ||
    precision < 1 ||
    precision > 38 ||
    scale < 0 ||
    scale > precision
  ) {
    throw new RuntimeError(
      'config',
      `decimal(${precision},${scale}) is not a Delta type: precision 1..38, scale 0..precision`,
    );
  }
  return `decimal(${precision},${scale})`;
}

/** The precision and scale of a decimal type name, or undefined for any other type. */
export function decimalParts(type: DeltaType): { precision: number; scale: number } | undefined {
  if (typeof type !== 'string') return undefined;
  const match = DECIMAL.exec(type);
  return match ? { precision: Number(match[1]), scale: Number(match[2]) } : undefined;
}

/**
 * The `schemaString` of a metaData action for these top-level columns. Column names must be unique
 * regardless of case (the protocol requires it: Spark resolves names case-insensitively).
 */
export function schemaString(fields: readonly DeltaField[]): string {
  const seen = new Set<string>();
  for (const field of fields) {
    const folded = field.name.toLowerCase();
    if (seen.has(folded))
      throw new RuntimeError(
        'config',
        `Delta schema: column "${field.name}" appears twice (names are case-insensitive)`,
      );
    seen.add(folded);
  }
  return JSON.stringify(serializeType({ type: 'struct', fields }));
}

function serializeType(type: DeltaType): unknown {
  if (typeof type === 'string') {
    const decimal = decimalParts(type);
    if (decimal) return decimalType(decimal.precision, decimal.scale);
    if (!PRIMITIVES.has(type)) throw new RuntimeError('config', `Delta schema: unknown type "${type}"`);
    return type;
  }
  switch (type.type) {
    case 'struct':
      return {
        type: 'struct',
        fields: type.fields.map((f) => ({
          name: f.name,
          type: serializeType(f.type),
          nullable: f.nullable,
          metadata: f.metadata ?? {},
        })),
      };
    case 'array':
      return { type: 'array', elementType: serializeType(type.elementType), containsNull: type.containsNull };
    case 'map':
      return {
        type: 'map',
        keyType: serializeType(type.keyType),
        valueType: serializeType(type.valueType),
        valueContainsNull: type.valueContainsNull,
      };
  }
}

/** The top-level columns of a `schemaString`; every field gets a `metadata` object. */
export function parseSchemaString(text: string): DeltaField[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new RuntimeError('corrupt', `Delta schemaString is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const root = parseType(json, 'schema');
  if (typeof root === 'string' || root.type !== 'struct')
    throw new RuntimeError('corrupt', 'Delta schemaString is not a struct type');
  return [...root.fields];
}

function parseType(json: unknown, where: string): DeltaType {
  if (typeof json === 'string') {
    const decimal = DECIMAL.exec(json);
    if (decimal) return `decimal(${Number(decimal[1])},${Number(decimal[2])})`;
    // Tables written by newer engines may use types we do not model (timestamp_ntz, variant): they
    // require reader/writer versions above ours, which the log reports and commit() refuses.
    if (!PRIMITIVES.has(json))
      throw new RuntimeError('corrupt', `Delta schema: ${where} has unsupported type "${json}"`);
    return json as DeltaPrimitiveType;
  }
  const obj = asRecord(json, `Delta schema: ${where}`);
  switch (obj.type) {
    case 'struct': {
      if (!Array.isArray(obj.fields)) throw new RuntimeError('corrupt', `Delta schema: ${where} has no fields array`);
      const fields = obj.fields.map((raw: unknown, i): DeltaField => {
        const field = asRecord(raw, `Delta schema: ${where}.fields[${i}]`);
        const name = field.name;
        if (typeof name !== 'string')
          throw new RuntimeError('corrupt', `Delta schema: ${where}.fields[${i}] has no name`);
        const metadata =
          field.metadata === undefined || field.metadata === null
            ? {}
            : asRecord(field.metadata, `Delta schema: ${name} metadata`);
        return { name, type: parseType(field.type, name), nullable: field.nullable !== false, metadata };
      });
      return { type: 'struct', fields };
    }
    case 'array':
      return {
        type: 'array',
        elementType: parseType(obj.elementType, `${where}.element`),
        containsNull: obj.containsNull !== false,
      };
    case 'map':
      return {
        type: 'map',
        keyType: parseType(obj.keyType, `${where}.key`),
        valueType: parseType(obj.valueType, `${where}.value`),
        valueContainsNull: obj.valueContainsNull !== false,
      };
    default:
      throw new RuntimeError('corrupt', `Delta schema: ${where} has unknown type ${JSON.stringify(obj.type)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Partition values (PROTOCOL.md, "Partition Value Serialization")

/** A value of a partition column, as the writer holds it before serialization. */
export type PartitionInput = string | number | bigint | boolean | Date | Uint8Array | null | undefined;

/** A parsed partition value: date → 'YYYY-MM-DD', timestamp → microseconds since the epoch (UTC), long → bigint, decimal → its digits. */
export type PartitionValue = string | number | bigint | boolean | Uint8Array | null;

const pad = (n: number | bigint, width: number) => n.toString().padStart(width, '0');

/** 'YYYY-MM-DD' of a UTC instant. */
function utcDay(date: Date): string {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
}

/** 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) of microseconds since the epoch. */
function timestampText(micros: bigint): string {
  const subSecond = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const seconds = (micros - subSecond) / 1_000_000n;
  const date = new Date(Number(seconds) * 1000);
  const time = `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  return `${utcDay(date)} ${time}.${pad(subSecond, 6)}`;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;

/** Microseconds since the epoch of a Delta or ISO 8601 timestamp text; a text without zone is UTC. */
function parseTimestamp(text: string): bigint | undefined {
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, day, hh, mm, ss, fraction = '', zone = 'Z'] = match;
  const offset = zone === 'Z' ? '+00:00' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const millis = Date.parse(`${day}T${hh}:${mm}:${ss}${offset}`);
  if (Number.isNaN(millis)) return undefined;
  return BigInt(millis) * 1000n + BigInt((fraction + '000000').slice(0, 6));
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function badValue(value: unknown, type: DeltaPrimitiveType): RuntimeError {
  const shown = value instanceof Uint8Array ? 'bytes' : typeof value === 'bigint' ? `${value}n` : JSON.stringify(value);
  return new RuntimeError(
    'internal',
    `partition value ${shown} (${typeof value}) cannot be serialized as Delta type ${type}`,
  );
}

/**
 * The string a partition value has in `partitionValues`: dates 'YYYY-MM-DD', timestamps
 * 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC (Date, or bigint microseconds since the epoch), numbers and
 * booleans as their text, binary as one character per byte. Null, undefined and '' become null: the
 * protocol reads an empty string as null, so writing one would silently change the value.
 */
export function serializePartitionValue(value: PartitionInput, type: DeltaPrimitiveType): string | null {
  if (value === null || value === undefined || value === '') return null;
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      break;
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
      if (typeof value === 'string' && /^[+-]?\d+$/.test(value)) return BigInt(value).toString();
      break;
    case 'double':
    case 'float':
      if (typeof value === 'number') return String(value);
      if (typeof value === 'string' && (NUMERIC.test(value) || ['NaN', 'Infinity', '-Infinity'].includes(value)))
        return value;
      break;
    case 'boolean':
      if (typeof value === 'boolean') return String(value);
      if (value === 'true' || value === 'false') return value;
      break;
    case 'date':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return utcDay(value);
      if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) return value;
      break;
    case 'timestamp':
      if (value instanceof Date && !Number.isNaN(value.getTime()))
        return timestampText(BigInt(value.getTime()) * 1000n);
      if (typeof value === 'bigint') return timestampText(value);
      if (typeof value === 'string') {
        const micros = parseTimestamp(value);
        if (micros !== undefined) return timestampText(micros);
      }
      break;
    case 'binary':
      if (value instanceof Uint8Array) return String.fromCharCode(...value);
      break;
    default:
      // decimal(p,s): the plain digits, as Java's BigDecimal prints them.
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'string' && NUMERIC.test(value)) return value;
  }
  throw badValue(value, type);
}

/** The typed value of a serialized partition value (see `PartitionValue` for the JS forms). */
export function parsePartitionValue(text: string | null | undefined, type: DeltaPrimitiveType): PartitionValue {
  if (text === null || text === undefined || text === '') return null;
  const fail = () => new RuntimeError('corrupt', `Delta partition value "${text}" is not a valid ${type}`);
  switch (type) {
    case 'string':
      return text;
    case 'long':
      if (!/^[+-]?\d+$/.test(text)) throw fail();
      return BigInt(text);
    case 'integer':
    case 'short':
    case 'byte': {
      const n = Number(text);
      if (!Number.isInteger(n)) throw fail();
      return n;
    }
    case 'double':
    case 'float': {
      const n = Number(text);
      if (Number.isNaN(n) && text !== 'NaN') throw fail();
      return n;
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw fail();
      return text === 'true';
    case 'date':
      if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw fail();
      return text;
    case 'timestamp': {
      const micros = parseTimestamp(text);
      if (micros === undefined) throw fail();
      return micros;
    }
    case 'binary':
      return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
    default:
      if (!NUMERIC.test(text)) throw fail();
      return text;
  }
}

// ---------------------------------------------------------------------------------------------------
// Paths and statistics

/**
 * The `path` of an add/remove action for an object key: the protocol stores paths as RFC 2396 URIs,
 * so every byte outside [A-Za-z0-9-._~/=] is percent-encoded (a Hive-escaped `%3A` in a partition
 * folder becomes `%253A`; a `:` in a relative path would otherwise read as a URI scheme).
 */
export function encodeDeltaPath(key: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(key)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~/=]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The object key (relative to the table root) of an action's URI-encoded `path`. */
export function decodeDeltaPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch (error) {
    throw new RuntimeError('corrupt', `Delta file path "${path}" is not a valid URI path`, { cause: error });
  }
}

/** Per-file statistics (PROTOCOL.md, "Per-file Statistics"); values mirror the data's columns. */
export interface DeltaStats {
  readonly numRecords: number;
  readonly minValues?: Readonly<Record<string, unknown>>;
  readonly maxValues?: Readonly<Record<string, unknown>>;
  readonly nullCount?: Readonly<Record<string, unknown>>;
  readonly tightBounds?: boolean;
}

/** JSON text of a value where bigints are written as exact JSON numbers (JSON.stringify rejects them). */
function jsonText(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v: unknown) => (v === undefined ? 'null' : jsonText(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const [key, v] of Object.entries(value))
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${jsonText(v)}`);
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The `stats` string of an add action (bigint min/max values are kept exact). */
export function statsString(stats: DeltaStats): string {
  return jsonText(stats);
}

/** A fresh metaData action for a new parquet table (new GUID, creation time now). */
export function newMetadata(options: {
  fields: readonly DeltaField[];
  partitionColumns?: readonly string[];
  configuration?: Readonly<Record<string, string>>;
  name?: string;
  description?: string;
}): Metadata {
  const partitionColumns = options.partitionColumns ?? [];
  const names = new Set(options.fields.map((f) => f.name));
  for (const column of partitionColumns) {
    if (!names.has(column))
      throw new RuntimeError('config', `Delta partition column "${column}" is not a column of the schema`);
  }
  return {
    id: randomUUID(),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.description !== undefined ? { description: options.description } : {}),
    format: { provider: 'parquet', options: {} },
    schemaString: schemaString(options.fields),
    partitionColumns: [...partitionColumns],
    configuration: { ...(options.configuration ?? {}) },
    createdTime: Date.now(),
  };
}

/** The protocol action of the tables this runtime creates. */
export function newProtocol(): Protocol {
  return { minReaderVersion: READER_VERSION, minWriterVersion: WRITER_VERSION };
}

// ---------------------------------------------------------------------------------------------------
// Parsing actions read from JSON commits or checkpoints (untrusted: written by any engine)

function asRecord(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RuntimeError('corrupt', `${where} is not an object`);
  return value as Record<string, unknown>;
}

/** Field readers that fail with 'corrupt' naming the action and field; null counts as absent. */
class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly where: string,
  ) {}
  private fail(key: string, expected: string): RuntimeError {
    return new RuntimeError(
      'corrupt',
      `${this.where}: field "${key}" should be ${expected}, got ${JSON.stringify(this.obj[key])}`,
    );
  }
  present(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }
  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string') throw this.fail(key, 'a string');
    return v;
  }
  number(key: string): number {
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw this.fail(key, 'a number');
    return v;
  }
  boolean(key: string): boolean {
    const v = this.obj[key];
    if (typeof v !== 'boolean') throw this.fail(key, 'a boolean');
    return v;
  }
  strings(key: string): string[] {
    const v = this.obj[key];
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw this.fail(key, 'an array of strings');
    return v as string[];
  }
  map(key: string, nullValues: boolean): Record<string, string | null> {
    const v = this.obj[key];
    const out: Record<string, string | null> = {};
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw this.fail(key, 'a string map');
    for (const [k, value] of Object.entries(v)) {
      if (typeof value === 'string' || (value === null && nullValues)) out[k] = value;
      else if (value !== null) throw this.fail(key, 'a string map');
    }
    return out;
  }
  stringMap(key: string): Record<string, string> {
    return this.map(key, false) as Record<string, string>;
  }
}

/**
 * A typed action from one parsed JSON line or checkpoint row; undefined for action kinds this
 * runtime does not use (cdc, domainMetadata, …: the protocol says to ignore unknown actions).
 * Throws 'corrupt' when a known action lacks a required field.
 */
export function parseAction(json: unknown, where: string): DeltaAction | undefined {
  const line = asRecord(json, where);
  if (line.add !== undefined && line.add !== null) {
    const f = new Fields(asRecord(line.add, `${where} add`), `${where} add`);
    return {
      add: {
        path: f.string('path'),
        partitionValues: f.present('partitionValues') ? f.map('partitionValues', true) : {},
        size: f.number('size'),
        modificationTime: f.number('modificationTime'),
        dataChange: f.present('dataChange') ? f.boolean('dataChange') : true,
        ...(f.present('stats') ? { stats: f.string('stats') } : {}),
        ...(f.present('tags') ? { tags: f.stringMap('tags') } : {}),
      },
    };
  }
  if (line.remove !== undefined && line.remove !== null) {
    const f = new Fields(asRecord(line.remove, `${where} remove`), `${where} remove`);
    return {
      remove: {
        path: f.string('path'),
        dataChange: f.present('dataChange') ? f.boolean('dataChange') : true,
        ...(f.present('deletionTimestamp') ? { deletionTimestamp: f.number('deletionTimestamp') } : {}),
        ...(f.present('extendedFileMetadata') ? { extendedFileMetadata: f.boolean('extendedFileMetadata') } : {}),
        ...(f.present('partitionValues') ? { partitionValues: f.map('partitionValues', true) } : {}),
        ...(f.present('size') ? { size: f.number('size') } : {}),
      },
    };
  }
  if (line.metaData !== undefined && line.metaData !== null) {
    const meta = asRecord(line.metaData, `${where} metaData`);
    const f = new Fields(meta, `${where} metaData`);
    const format = new Fields(asRecord(meta.format, `${where} metaData.format`), `${where} metaData.format`);
    return {
      metaData: {
        id: f.string('id'),
        ...(f.present('name') ? { name: f.string('name') } : {}),
        ...(f.present('description') ? { description: f.string('description') } : {}),
        format: {
          provider: format.string('provider'),
          options: format.present('options') ? format.stringMap('options') : {},
        },
        schemaString: f.string('schemaString'),
        partitionColumns: f.present('partitionColumns') ? f.strings('partitionColumns') : [],
        configuration: f.present('configuration') ? f.stringMap('configuration') : {},
        ...(f.present('createdTime') ? { createdTime: f.number('createdTime') } : {}),
      },
    };
  }
  if (line.protocol !== undefined && line.protocol !== null) {
    const f = new Fields(asRecord(line.protocol, `${where} protocol`), `${where} protocol`);
    return {
      protocol: {
        minReaderVersion: f.number('minReaderVersion'),
        minWriterVersion: f.number('minWriterVersion'),
        ...(f.present('readerFeatures') ? { readerFeatures: f.strings('readerFeatures') } : {}),
        ...(f.present('writerFeatures') ? { writerFeatures: f.strings('writerFeatures') } : {}),
      },
    };
  }
  if (line.txn !== undefined && line.txn !== null) {
    const f = new Fields(asRecord(line.txn, `${where} txn`), `${where} txn`);
    return {
      txn: {
        appId: f.string('appId'),
        version: f.number('version'),
        ...(f.present('lastUpdated') ? { lastUpdated: f.number('lastUpdated') } : {}),
      },
    };
  }
  if (line.commitInfo !== undefined && line.commitInfo !== null) {
    const info = asRecord(line.commitInfo, `${where} commitInfo`);
    // Free-form by protocol: keep it as written, defaulting the fields our type promises.
    return {
      commitInfo: {
        ...info,
        timestamp: typeof info.timestamp === 'number' ? info.timestamp : 0,
        operation: typeof info.operation === 'string' ? info.operation : '',
        operationParameters:
          info.operationParameters !== null && typeof info.operationParameters === 'object'
            ? (info.operationParameters as Record<string, unknown>)
            : {},
      },
    };
  }
  return undefined;
}
