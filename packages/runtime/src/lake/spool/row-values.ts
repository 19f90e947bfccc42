/**
 * Parsers for the value shapes sources usually send, fast enough for the hot path of a batch: no
 * Date, no regular expression, no allocation. Each declines (undefined) what it does not know, and
 * the reference rules in conform.ts decide.
 */

export { Misfit } from '../../columnar/columnar.js';

const DIGIT_0 = 48;
const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
const POWERS_OF_TEN = Array.from({ length: 19 }, (_v, i) => 10 ** i);

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

const isLeap = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeap(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a (valid) proleptic Gregorian date. */
function civilDays(year: number, month: number, day: number): number {
  const y = year - 1;
  return (
    y * 365 +
    Math.floor(y / 4) -
    Math.floor(y / 100) +
    Math.floor(y / 400) +
    CUMULATIVE_DAYS[month - 1]! +
    (month > 2 && isLeap(year) ? 1 : 0) +
    day -
    1 -
    719_162
  );
}

/** Days since the epoch of `YYYY-MM-DD` (years 0–9999), or undefined. */
export function isoDays(text: string): number | undefined {
  if (text.length !== 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return civilDays(year, month, day);
}

/**
 * Microseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.ffffff](Z|±HH:MM)` — the shape sources send —
 * without a Date or a regular expression on the hot path; undefined for anything else (the full
 * parser in conform.ts then decides).
 */
export function isoMicros(text: string): number | undefined {
  const n = text.length;
  if (
    n < 20 ||
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  )
    return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (
    year < 1 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59
  )
    return undefined;
  if (day > daysInMonth(year, month)) return undefined;
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
  const seconds = civilDays(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return seconds * 1_000_000 + micros;
}

/** Plain `-?digits[.digits]` within precision and scale, as the scaled integer when it is safe; else undefined. */
export function plainDecimal(text: string, precision: number, scale: number): number | undefined {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const negative = i === 1;
  let intDigits = 0;
  let significant = false;
  let value = 0;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) break;
    if (d !== 0) significant = true;
    if (significant) intDigits++;
    value = value * 10 + d;
  }
  if (i === (negative ? 1 : 0) || intDigits > precision - scale) return undefined;
  let places = 0;
  if (i < n) {
    if (text.charCodeAt(i) !== 46) return undefined;
    i++;
    for (; i < n; i++) {
      const d = text.charCodeAt(i) - DIGIT_0;
      if (d < 0 || d > 9) return undefined;
      value = value * 10 + d;
      places++;
    }
    if (places === 0 || places > scale) return undefined;
  }
  value *= POWERS_OF_TEN[scale - places]!;
  if (!Number.isSafeInteger(value)) return undefined;
  return negative ? -value : value;
}
