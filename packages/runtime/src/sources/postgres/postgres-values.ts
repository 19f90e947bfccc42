import pg from 'pg';
import type { CustomTypesConfig } from 'pg';
import type { FieldType } from '@connector-factory/ir';

/**
 * PostgreSQL text → canonical values, shared by the query path (type parsers), the COPY path and CDC
 * (pgoutput sends the same text). The text forms assume the session settings `connectPostgres` applies:
 * `DateStyle=ISO, YMD`, `TimeZone=UTC`, `IntervalStyle=iso_8601`, `bytea_output=hex`, `extra_float_digits=3`.
 *
 * Canonical forms (what `conform` accepts without loss):
 * - int2/int4/oid → number; int8 → decimal string (exact; `conform` turns it into int64)
 * - numeric → its exact text (also `NaN`/`Infinity`, which the lake then quarantines as not decimal)
 * - float4/float8 → number; `NaN`/`Infinity`/`-Infinity` stay text, so the lake quarantines them (counted)
 * - bool → boolean
 * - date → 'YYYY-MM-DD'; timestamptz → ISO 8601 with microseconds and `Z` (or the offset);
 *   timestamp (without time zone) → the same, taken as UTC (`Z` appended)
 * - `infinity`/`-infinity`, BC and 5-digit-year dates/timestamps → kept as PostgreSQL's text, so the lake
 *   quarantines them as not a date/timestamp (counted, never silently converted)
 * - bytea → base64 text
 * - json/jsonb → parsed (`JSON.parse`: numbers beyond 2^53 inside JSON lose precision, as in any JS reader)
 * - arrays → JS arrays (nested for multi-dimensional ones), elements converted as their type
 * - everything else (text, varchar, uuid, inet, money, time, interval, enums, xml, …) → the text
 */

/** Converts one non-null PostgreSQL text value. */
export type TextConverter = (text: string) => unknown;

/** Built-in type OIDs (stable across PostgreSQL versions). */
export const PG_OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  money: 790,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

/** Array type OID → element type OID, for the built-in types above. */
export const PG_ARRAY_ELEMENT_OID: Readonly<Record<number, number>> = {
  1000: PG_OID.bool,
  1001: PG_OID.bytea,
  1002: PG_OID.char,
  1003: PG_OID.name,
  1005: PG_OID.int2,
  1007: PG_OID.int4,
  1009: PG_OID.text,
  1014: PG_OID.bpchar,
  1015: PG_OID.varchar,
  1016: PG_OID.int8,
  1021: PG_OID.float4,
  1022: PG_OID.float8,
  1028: PG_OID.oid,
  1115: PG_OID.timestamp,
  1182: PG_OID.date,
  1183: PG_OID.time,
  1185: PG_OID.timestamptz,
  1187: PG_OID.interval,
  1231: PG_OID.numeric,
  1270: PG_OID.timetz,
  143: PG_OID.xml,
  199: PG_OID.json,
  791: PG_OID.money,
  2951: PG_OID.uuid,
  3807: PG_OID.jsonb,
};

const identity: TextConverter = (text) => text;

/** int2/int4/oid → number. */
export const pgSmallIntToValue: TextConverter = (text) => Number(text);

/** float4/float8 → number; non-finite values stay text (the lake quarantines them instead of storing null). */
export const pgFloatToValue: TextConverter = (text) => {
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
};

/** bool → boolean. */
export const pgBoolToValue: TextConverter = (text) => text === 't' || text === 'true';

/** json/jsonb → parsed value. */
export const pgJsonToValue: TextConverter = (text) => JSON.parse(text) as unknown;

const TIMESTAMP_TEXT =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?)?$/;

/** date → 'YYYY-MM-DD' (infinity, BC and 5-digit years stay PostgreSQL's text). */
export const pgDateToValue: TextConverter = (text) => text;

/**
 * timestamp/timestamptz text → ISO 8601 with six fractional digits: `2024-01-02T03:04:05.123456Z`, or with
 * the offset (`+05:30`) when it is not zero. Text without an offset (timestamp without time zone) is taken
 * as UTC. Text that is not an ISO timestamp (infinity, BC, years past 9999) is returned unchanged.
 */
export function pgTimestampToIso(text: string): string {
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match) return text;
  const [, date = '', time = '', frac = '', sign, hh = '00', mm = '00', ss] = match;
  const micros = frac.padEnd(6, '0');
  if (sign === undefined || (hh === '00' && mm === '00' && (ss === undefined || ss === '00'))) {
    return `${date}T${time}.${micros}Z`;
  }
  if (ss === undefined || ss === '00') return `${date}T${time}.${micros}${sign}${hh}:${mm}`;
  // An offset with seconds (historic local mean time): convert to UTC, which ISO 8601 can express.
  const local = Date.parse(`${date}T${time}Z`);
  if (Number.isNaN(local)) return text;
  const offsetMs = (sign === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm) * 60 + Number(ss)) * 1000;
  const utc = new Date(local - offsetMs);
  if (utc.getUTCFullYear() < 1 || utc.getUTCFullYear() > 9999) return text;
  return `${utc.toISOString().slice(0, 19)}.${micros}Z`;
}

/** bytea (hex `\x…` or escape format) → base64. */
export function pgByteaToBase64(text: string): string {
  if (text.startsWith('\\x')) return Buffer.from(text.slice(2), 'hex').toString('base64');
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c && text[i + 1] === '\\') {
      bytes.push(0x5c);
      i++;
    } else if (ch === 0x5c && /^[0-3][0-7]{2}$/.test(text.slice(i + 1, i + 4))) {
      bytes.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(ch & 0xff);
    }
  }
  return Buffer.from(bytes).toString('base64');
}

/**
 * Parses PostgreSQL's array text (`{1,2,NULL}`, `{{"a b","c\"d"},{e,f}}`, `[0:1]={x,y}`) into nested JS
 * arrays, converting each non-null element with `element`. `delimiter` is the element type's typdelim
 * (`,` for every built-in type except box).
 */
export function parsePgArray(text: string, element: TextConverter, delimiter = ','): unknown[] {
  let i = 0;
  if (text[0] === '[') {
    const eq = text.indexOf('=');
    if (eq < 0) throw new Error(`malformed array literal: ${text.slice(0, 40)}`);
    i = eq + 1;
  }
  const fail = (): never => {
    throw new Error(`malformed array literal: ${text.slice(0, 40)}`);
  };
  const parseLevel = (): unknown[] => {
    if (text[i] !== '{') fail();
    i++;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      while (text[i] === ' ') i++;
      if (text[i] === '{') {
        out.push(parseLevel());
      } else if (text[i] === '"') {
        i++;
        let value = '';
        for (;;) {
          const ch = text[i];
          if (ch === undefined) fail();
          if (ch === '\\') {
            value += text[i + 1] ?? '';
            i += 2;
          } else if (ch === '"') {
            i++;
            break;
          } else {
            value += ch;
            i++;
          }
        }
        out.push(element(value));
      } else {
        let value = '';
        let escaped = false;
        for (;;) {
          const ch = text[i];
          if (ch === undefined) fail();
          if (ch === delimiter || ch === '}') break;
          if (ch === '\\') {
            value += text[i + 1] ?? '';
            escaped = true;
            i += 2;
          } else {
            value += ch;
            i++;
          }
        }
        value = value.trim();
        out.push(!escaped && value.toUpperCase() === 'NULL' ? null : element(value));
      }
      while (text[i] === ' ') i++;
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      fail();
    }
  };
  return parseLevel();
}

/** What the converters need to know about a column's type (from pg_type; domains resolved to their base). */
export interface PgTypeInfo {
  /** The base type's name (`typname`), e.g. `int8`, `_int4`, `mood`. */
  readonly name: string;
  /** `typcategory`: `A` array, `E` enum, `N` numeric, `D` date/time, `S` string, … */
  readonly category: string;
  /** For arrays: the element type. */
  readonly element?: PgTypeInfo;
  /** The element delimiter (`typdelim` of the element type) for arrays. */
  readonly delimiter?: string;
}

/** The converter of a scalar built-in type by name; undefined when the text itself is canonical. */
function scalarConverter(name: string): TextConverter | undefined {
  switch (name) {
    case 'int2':
    case 'int4':
    case 'oid':
      return pgSmallIntToValue;
    case 'float4':
    case 'float8':
      return pgFloatToValue;
    case 'bool':
      return pgBoolToValue;
    case 'timestamp':
    case 'timestamptz':
      return pgTimestampToIso;
    case 'bytea':
      return pgByteaToBase64;
    case 'json':
    case 'jsonb':
      return pgJsonToValue;
    default:
      // int8, numeric, money, date, time, interval, text types, uuid, inet, enums, xml, …
      return undefined;
  }
}

/**
 * Whether a column's CSV text can go to the lake writer as it is: the text the row path would
 * convert to the same value. Arrays (→ JSON arrays), bytea (→ base64) and json/jsonb (→ parsed
 * values) need their converter, so a table with one of them is read as rows.
 */
export function csvPassesThrough(type: PgTypeInfo): boolean {
  return (
    type.element === undefined &&
    type.category !== 'A' &&
    type.name !== 'bytea' &&
    type.name !== 'json' &&
    type.name !== 'jsonb'
  );
}

/** The text → value converter for a column of this type. */
export function converterFor(type: PgTypeInfo): TextConverter {
  if (type.element !== undefined) {
    const element = converterFor(type.element);
    const delimiter = type.delimiter ?? ',';
    return (text) => {
      try {
        return parsePgArray(text, element, delimiter);
      } catch {
        return text; // not array text after all (an extension type): keep it
      }
    };
  }
  return scalarConverter(type.name) ?? identity;
}

/** The converter of a built-in type by OID (arrays of built-ins included); undefined for other OIDs. */
export function converterForOid(oid: number): TextConverter | undefined {
  const elementOid = PG_ARRAY_ELEMENT_OID[oid];
  if (elementOid !== undefined) {
    const element = converterForOid(elementOid) ?? identity;
    return (text) => parsePgArray(text, element);
  }
  const name = Object.entries(PG_OID).find(([, value]) => value === oid)?.[0];
  return name === undefined ? undefined : (scalarConverter(name) ?? identity);
}

const textParsers = new Map<number, TextConverter>();
for (const oid of [...Object.values(PG_OID), ...Object.keys(PG_ARRAY_ELEMENT_OID).map(Number)]) {
  textParsers.set(oid, converterForOid(oid) ?? identity);
}

/**
 * Per-client type parsers giving the canonical values above (pass as `types` to a pg Client or query;
 * pg's global parsers are left alone). Unknown OIDs (enums, domains, extension types, their arrays) arrive
 * as text; binary-format results fall back to pg's own parsers.
 */
export const canonicalPgTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format === 'binary') return pg.types.getTypeParser(oid, 'binary');
    return textParsers.get(oid) ?? identity;
  }) as CustomTypesConfig['getTypeParser'],
};

/** Type parsers that hand every text value over unchanged (the source converts by catalog type). */
export const rawTextPgTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : identity) as CustomTypesConfig['getTypeParser'],
};

/** A column's type in the IR and, for numbers, the lake's physical number type. */
export interface MappedType {
  readonly type: FieldType;
  readonly numberHint?: string;
}

/**
 * The IR type of a PostgreSQL column. `typmod` is `atttypmod` (numeric precision/scale; -1 when
 * unconstrained). Unconstrained numeric is a string (its exact text): it can hold up to 131072 digits
 * before the point, beyond any decimal(p,s) the lake writes.
 */
export function mapPgType(type: Pick<PgTypeInfo, 'name' | 'category' | 'element'>, typmod: number): MappedType {
  if (type.element !== undefined || type.category === 'A') return { type: 'json' };
  switch (type.name) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
      return { type: 'number', numberHint: 'int64' };
    case 'float4':
    case 'float8':
      return { type: 'number', numberHint: 'float64' };
    case 'numeric': {
      if (typmod < 4) return { type: 'string' };
      const precision = ((typmod - 4) >> 16) & 0xffff;
      // PostgreSQL 15+ allows a negative scale or one above the precision: stored as an 11-bit signed value.
      let scale = (typmod - 4) & 0x7ff;
      if (scale > 1023) scale -= 2048;
      if (precision > 38 || scale < 0 || scale > precision) return { type: 'string' };
      return { type: 'number', numberHint: `decimal(${precision},${scale})` };
    }
    case 'bool':
      return { type: 'boolean' };
    case 'date':
      return { type: 'date' };
    case 'timestamp':
    case 'timestamptz':
      return { type: 'datetime' };
    case 'json':
    case 'jsonb':
      return { type: 'json' };
    default:
      return { type: 'string' };
  }
}

/**
 * Splits one row of COPY's text format (without its newline) into fields: tab-separated, `\N` is null,
 * backslash escapes `\b \f \n \r \t \v \\`, octal `\NNN`, hex `\xHH`, and `\` before any other character
 * stands for that character.
 */
export function parseCopyTextLine(line: string, into: (string | null)[] = []): (string | null)[] {
  into.length = 0;
  let start = 0;
  for (;;) {
    const tab = line.indexOf('\t', start);
    const field = tab < 0 ? line.slice(start) : line.slice(start, tab);
    into.push(field === '\\N' ? null : field.includes('\\') ? unescapeCopyText(field) : field);
    if (tab < 0) return into;
    start = tab + 1;
  }
}

const COPY_ESCAPES: Readonly<Record<string, string>> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Resolves COPY text-format backslash escapes in one field. */
export function unescapeCopyText(field: string): string {
  let out = '';
  let i = 0;
  while (i < field.length) {
    const slash = field.indexOf('\\', i);
    if (slash < 0 || slash === field.length - 1) {
      out += field.slice(i);
      break;
    }
    out += field.slice(i, slash);
    const next = field[slash + 1] ?? '';
    const named = COPY_ESCAPES[next];
    if (named !== undefined) {
      out += named;
      i = slash + 2;
    } else if (next >= '0' && next <= '7') {
      const octal = /^[0-7]{1,3}/.exec(field.slice(slash + 1))?.[0] ?? next;
      out += String.fromCharCode(parseInt(octal, 8) & 0xff);
      i = slash + 1 + octal.length;
    } else if (next === 'x' && /^[0-9a-fA-F]/.test(field[slash + 2] ?? '')) {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(field.slice(slash + 2))?.[0] ?? '';
      out += String.fromCharCode(parseInt(hex, 16));
      i = slash + 2 + hex.length;
    } else {
      out += next;
      i = slash + 2;
    }
  }
  return out;
}

interface PgTypeRow {
  oid: number;
  typname: string;
  typtype: string;
  typbasetype: number;
  typtypmod: number;
  typcategory: string;
  typelem: number;
  typlen: number;
  typdelim: string;
}

/** A column type resolved through domains: the base type and the typmod that applies (the domain's or -1). */
export interface ResolvedPgType {
  readonly info: PgTypeInfo;
  readonly typmod: number;
}

/**
 * Loads types by OID from pg_type, with their domains' base types and their arrays' element types, for
 * `converterFor` and `mapPgType`. An OID pg_type lacks resolves to a text type.
 */
export async function loadPgTypes(
  client: Pick<pg.ClientBase, 'query'>,
  oids: readonly number[],
): Promise<(oid: number) => ResolvedPgType> {
  const rows = new Map<number, PgTypeRow>();
  let wanted = [...new Set(oids)];
  while (wanted.length > 0) {
    const { rows: found } = await client.query<PgTypeRow>({
      text: `SELECT oid::int8, typname::text, typtype::text, typbasetype::int8, typtypmod, typcategory::text, typelem::int8, typlen, typdelim::text
               FROM pg_type WHERE oid = ANY($1::oid[])`,
      values: [wanted],
      types: canonicalPgTypes,
    });
    for (const row of found) {
      const typed: PgTypeRow = {
        ...row,
        oid: Number(row.oid),
        typbasetype: Number(row.typbasetype),
        typelem: Number(row.typelem),
      };
      rows.set(typed.oid, typed);
    }
    wanted = [
      ...new Set(
        [...rows.values()]
          .flatMap((r) => [r.typtype === 'd' ? r.typbasetype : 0, isArrayType(r) ? r.typelem : 0])
          .filter((o) => o !== 0 && !rows.has(o)),
      ),
    ];
    if (found.length === 0) break;
  }
  const resolve = (oid: number, depth = 0): ResolvedPgType => {
    const row = rows.get(oid);
    if (!row || depth > 20) return { info: { name: 'unknown', category: 'X' }, typmod: -1 };
    if (row.typtype === 'd') {
      const base = resolve(row.typbasetype, depth + 1);
      return { info: base.info, typmod: row.typtypmod >= 0 ? row.typtypmod : base.typmod };
    }
    if (isArrayType(row)) {
      const element = resolve(row.typelem, depth + 1).info;
      const delimiter = rows.get(row.typelem)?.typdelim ?? ',';
      return { info: { name: row.typname, category: row.typcategory, element, delimiter }, typmod: -1 };
    }
    return { info: { name: row.typname, category: row.typcategory }, typmod: -1 };
  };
  return (oid) => resolve(oid);
}

/** A true array type (not int2vector/oidvector-like types, which print space-separated). */
function isArrayType(row: PgTypeRow): boolean {
  return row.typcategory === 'A' && row.typelem !== 0 && row.typlen === -1 && row.typname.startsWith('_');
}
