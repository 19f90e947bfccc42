import type { Column, PhysicalType } from './table-schema.js';

/**
 * Canonical in-memory values, one per physical type, that every format encoder understands:
 * string → string, int64 → bigint, float64 → number, decimal → canonical decimal text,
 * boolean → boolean, date → 'YYYY-MM-DD', timestamp → bigint microseconds since the epoch (UTC),
 * json → JSON text. `null` is null.
 */
export type CanonicalValue = string | bigint | number | boolean | null;

export type Conformed =
  { readonly ok: true; readonly value: CanonicalValue } | { readonly ok: false; readonly reason: string };

const ok = (value: CanonicalValue): Conformed => ({ ok: true, value });
const bad = (reason: string): Conformed => ({ ok: false, reason });

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

function toInt64(value: unknown): Conformed {
  let big: bigint;
  if (typeof value === 'bigint') big = value;
  else if (typeof value === 'number') {
    if (!Number.isInteger(value)) return bad(`${value} is not a whole number`);
    if (!Number.isSafeInteger(value))
      return bad(`${value} is beyond 2^53 and may have lost precision; pass it as a bigint or string`);
    big = BigInt(value);
  } else if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) big = BigInt(value.trim());
  else return bad(`${describe(value)} is not an integer`);
  if (big < INT64_MIN || big > INT64_MAX) return bad(`${big} does not fit in 64 bits`);
  return ok(big);
}

function toFloat64(value: unknown): Conformed {
  if (typeof value === 'number') return Number.isFinite(value) ? ok(value) : bad(`${value} is not a finite number`);
  if (typeof value === 'bigint') return ok(Number(value));
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return ok(Number(value));
  return bad(`${describe(value)} is not a number`);
}

function toDecimal(value: unknown, precision: number, scale: number): Conformed {
  const text =
    typeof value === 'number'
      ? Number.isFinite(value)
        ? String(value)
        : ''
      : typeof value === 'bigint'
        ? value.toString()
        : typeof value === 'string'
          ? value.trim()
          : '';
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) return bad(`${describe(value)} is not a decimal number`);
  let digits = (match[2] ?? '') + (match[3] ?? '');
  let point = (match[2] ?? '').length + Number(match[4] ?? 0);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  digits = digits.padEnd(point, '0');
  let integer = digits.slice(0, point).replace(/^0+/, '');
  let fraction = digits.slice(point).replace(/0+$/, '');
  if (fraction.length > scale) return bad(`${text} has more than ${scale} decimal places`);
  fraction = fraction.padEnd(scale, '0');
  if (integer.length > precision - scale) return bad(`${text} does not fit decimal(${precision},${scale})`);
  integer ||= '0';
  const negative = match[1] === '-' && /[1-9]/.test(integer + fraction);
  return ok(`${negative ? '-' : ''}${integer}${scale > 0 ? `.${fraction}` : ''}`);
}

function toBoolean(value: unknown): Conformed {
  if (typeof value === 'boolean') return ok(value);
  if (value === 0 || value === 1) return ok(value === 1);
  if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (['t', 'true', 'y', 'yes', '1'].includes(text)) return ok(true);
    if (['f', 'false', 'n', 'no', '0'].includes(text)) return ok(false);
  }
  return bad(`${describe(value)} is not a boolean`);
}

function validDate(year: number, month: number, day: number): boolean {
  // setUTCFullYear, because Date.UTC maps years 0-99 to 1900-1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/** Microseconds since the epoch, keeping the digits a Date would lose. */
export function parseTimestampMicros(value: unknown): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : BigInt(value.getTime()) * 1000n;
  if (typeof value !== 'string') return undefined;
  const match = ISO_TIMESTAMP.exec(value.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (!validDate(year, month, day) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  const start = new Date(0);
  start.setUTCFullYear(year, month - 1, day);
  start.setUTCHours(Number(h), Number(mi), Number(s), 0);
  const millis = start.getTime() - offsetMinutes * 60_000;
  return BigInt(millis) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6));
}

function toTimestamp(value: unknown): Conformed {
  const micros = parseTimestampMicros(value);
  return micros === undefined ? bad(`${describe(value)} is not a timestamp`) : ok(micros);
}

function toDate(value: unknown): Conformed {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? bad('invalid Date') : ok(value.toISOString().slice(0, 10));
  if (typeof value === 'string') {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
    if (match && validDate(Number(match[1]), Number(match[2]), Number(match[3]))) return ok(value.trim());
  }
  return bad(`${describe(value)} is not a date (YYYY-MM-DD)`);
}

/**
 * A json column's value is the parsed JSON value (sources parse JSON text): a JS string is a JSON
 * string, so `"123"` stays the string "123" and never turns into the number 123.
 */
function toJson(value: unknown): Conformed {
  try {
    const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    return text === undefined ? bad(`${describe(value)} is not JSON`) : ok(text);
  } catch (error) {
    return bad(`not serialisable as JSON: ${(error as Error).message}`);
  }
}

function toString(value: unknown): Conformed {
  if (typeof value === 'string') return ok(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return ok(String(value));
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? bad('invalid Date') : ok(value.toISOString());
  return bad(`${describe(value)} is not a string`);
}

function conformPhysical(value: unknown, physical: PhysicalType): Conformed {
  switch (physical.kind) {
    case 'string':
      return toString(value);
    case 'int64':
      return toInt64(value);
    case 'float64':
      return toFloat64(value);
    case 'decimal':
      return toDecimal(value, physical.precision, physical.scale);
    case 'boolean':
      return toBoolean(value);
    case 'date':
      return toDate(value);
    case 'timestamp':
      return toTimestamp(value);
    case 'json':
      return toJson(value);
  }
}

/** Coerces one value to its column's canonical form, or says why it does not fit. */
export function conformValue(value: unknown, column: Column): Conformed {
  if (value === null || value === undefined) {
    return column.nullable
      ? ok(null)
      : bad(`column "${column.name}" is not nullable but the value is ${value === null ? 'null' : 'missing'}`);
  }
  const result = conformPhysical(value, column.physical);
  return result.ok ? result : bad(`column "${column.name}": ${result.reason}`);
}
