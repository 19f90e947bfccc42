import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomFillSync,
  type KeyObject,
} from 'node:crypto';
import type { FieldType, PiiHandling } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import { parseTimestampMicros } from '../lake/conform.js';

/**
 * PII handling for fields marked `pii: true`, one mode per manifest (`governance.piiHandling`):
 *
 * - `mask`: a deterministic, shape-keeping mask (`john.doe@example.com` → `j***@e***.com`).
 * - `hash`: HMAC-SHA256 (hex) of the value's canonical text, keyed by `CF_PII_HASH_KEY`; the same
 *   value hashes the same in every run and every table, so hashed columns still join.
 * - `encrypt`: AES-256-GCM under `CF_PII_ENCRYPTION_KEY`, a random 12-byte IV per value, stored as
 *   `enc:v1:<base64(iv | ciphertext | tag)>` (`enc:v1:<kid>:…` when `CF_PII_ENCRYPTION_KEY_ID` is set).
 * - `exclude`: the field is dropped (see the transformer); nothing here.
 *
 * Whatever the field's type, a masked, hashed or encrypted column is a `string` column in the lake.
 * Null stays null. Keys are held as KeyObjects (which print no key material) and never appear in errors.
 */

/** Environment variable holding the HMAC key for `hash` (any secret of 16 characters or more). */
export const HASH_KEY_ENV = 'CF_PII_HASH_KEY';
/** Environment variable holding the AES-256 key for `encrypt` (32 bytes, base64 or hex). */
export const ENCRYPTION_KEY_ENV = 'CF_PII_ENCRYPTION_KEY';
/** Optional environment variable: an id for the encryption key, written into every encrypted value. */
export const ENCRYPTION_KEY_ID_ENV = 'CF_PII_ENCRYPTION_KEY_ID';
/** Prefix of an encrypted value. */
export const ENCRYPTED_PREFIX = 'enc:v1:';

/** A masked string shows at most this many characters (first character plus stars). */
export const MASK_MAX_LENGTH = 16;

const MIN_HASH_KEY_LENGTH = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The HMAC key of `hash`. */
export interface HashKey {
  readonly key: KeyObject;
}

/** The AES-256-GCM key of `encrypt`, with its optional id. */
export interface EncryptionKey {
  readonly key: KeyObject;
  readonly id?: string;
}

/** A PII function of one column: takes a present value (not undefined), returns its lake text or null. */
export type PiiFunction = (value: unknown) => string | null;

// ---------------------------------------------------------------------------------------------
// Canonical text
// ---------------------------------------------------------------------------------------------

/** Plain decimal text without exponent, sign of zero, or leading/trailing zeros; undefined if not a number. */
export function plainDecimal(text: string): string | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text);
  if (!match) return undefined;
  const whole = match[2] ?? '';
  const frac = match[3] ?? '';
  if (whole === '' && frac === '') return undefined;
  const exponent = Number(match[4] ?? 0);
  if (Math.abs(exponent) > 400) return undefined;
  let digits = whole + frac;
  let point = whole.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  digits = digits.padEnd(point, '0');
  const integer = digits.slice(0, point).replace(/^0+/, '') || '0';
  const fraction = digits.slice(point).replace(/0+$/, '');
  const negative = match[1] === '-' && /[1-9]/.test(integer + fraction);
  return `${negative ? '-' : ''}${integer}${fraction === '' ? '' : `.${fraction}`}`;
}

function isBytes(value: object): value is Uint8Array {
  return value instanceof Uint8Array;
}

/**
 * JSON with object keys sorted, bigints as strings, Dates as ISO text, bytes as base64, Maps as
 * objects, Sets as arrays and cycles as "[Circular]", so equal values always give equal text.
 */
function canonicalJson(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      return JSON.stringify(value.toString());
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      // undefined, functions and symbols, as JSON.stringify writes them inside arrays.
      return 'null';
  }
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : JSON.stringify(value.toISOString());
  if (isBytes(value))
    return JSON.stringify(Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'));
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return canonicalJson(value.valueOf(), ancestors);
  }
  if (ancestors.includes(value)) return '"[Circular]"';
  ancestors.push(value);
  let text: string;
  if (Array.isArray(value) || value instanceof Set) {
    const items: string[] = [];
    for (const item of value as Iterable<unknown>) items.push(canonicalJson(item, ancestors));
    text = `[${items.join(',')}]`;
  } else {
    const entries: Array<[string, unknown]> =
      value instanceof Map
        ? Array.from(value as Map<unknown, unknown>, ([k, v]) => [String(k), v])
        : Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
    entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const parts: string[] = [];
    for (const [k, v] of entries) {
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(`${JSON.stringify(k)}:${canonicalJson(v, ancestors)}`);
    }
    text = `{${parts.join(',')}}`;
  }
  ancestors.pop();
  return text;
}

/** Text of a value whatever the field type says. */
function genericText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'object':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      if (value !== null && isBytes(value)) {
        return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
      }
      return canonicalJson(value, []);
    default:
      return canonicalJson(value, []);
  }
}

function timestampText(micros: bigint): string | undefined {
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const date = new Date(Number(millis));
  if (Number.isNaN(date.getTime())) return undefined;
  const fraction = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${date.toISOString().slice(0, -5)}.${fraction.toString().padStart(6, '0')}Z`;
}

function canonicalUnsafe(value: unknown, type: FieldType): string {
  switch (type) {
    case 'string':
      return genericText(value);
    case 'number':
      if (typeof value === 'number')
        return Number.isFinite(value) ? (plainDecimal(String(value)) ?? String(value)) : String(value);
      if (typeof value === 'bigint') return value.toString();
      if (typeof value === 'string') return plainDecimal(value.trim()) ?? value;
      return genericText(value);
    case 'boolean':
      return genericText(value);
    case 'date':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString().slice(0, 10);
      if (typeof value === 'string' && /^\s*\d{4}-\d{2}-\d{2}\s*$/.test(value)) return value.trim();
      return genericText(value);
    case 'datetime': {
      const micros = parseTimestampMicros(value);
      return (micros !== undefined ? timestampText(micros) : undefined) ?? genericText(value);
    }
    case 'json':
      // JSON text is taken as is: parsing and re-serialising would round big numbers, and two values
      // would then hash the same.
      return typeof value === 'string' ? value : canonicalJson(value, []);
  }
}

/**
 * The canonical text of a value of a field: what `hash` hashes (and `encrypt` encrypts for values
 * that are not strings), so that the same logical value from different sources gives the same text.
 * Strings of a string field are taken exactly (no trimming or case folding).
 *
 * - string: the string (other values: numbers, booleans as `String()`, Dates as ISO, objects as JSON);
 * - number: plain decimal without exponent or redundant zeros (`12.50`, `1.25e1` → `12.5`; bigint digits);
 * - date: `YYYY-MM-DD` (a Date: its UTC date);
 * - datetime: UTC ISO with microseconds, `2025-01-31T12:00:00.123456Z` (any offset or Date);
 * - boolean: `true` / `false`;
 * - json: a string as is (JSON text from the source); other values as JSON with sorted object keys.
 *
 * Values that do not fit their type fall back to the string rules. Never throws.
 */
export function canonicalText(value: unknown, type: FieldType): string {
  try {
    return canonicalUnsafe(value, type);
  } catch {
    // A value with throwing getters or nesting deep enough to exhaust the stack.
    return '[unserialisable]';
  }
}

// ---------------------------------------------------------------------------------------------
// mask
// ---------------------------------------------------------------------------------------------

const EMAIL = /^([^\s@]+)@([^\s@.]+(?:\.[^\s@.]+)+)$/;
const PHONE = /^\+?\(?\d[\d ().\-/]*$/;

function firstCodePoint(text: string): string {
  return String.fromCodePoint(text.codePointAt(0)!);
}

/** Code points of `text`, counting no further than `limit`. */
function codePointLength(text: string, limit: number): number {
  // A string of n UTF-16 units holds at least n/2 code points.
  if (text.length >= limit * 2) return limit;
  let count = 0;
  for (let i = 0; i < text.length && count < limit; count++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return count;
}

function maskEmail(local: string, domain: string): string {
  const labels = domain.split('.');
  const tld = labels[labels.length - 1]!;
  return `${firstCodePoint(local)}***@${firstCodePoint(labels[0]!)}***.${tld}`;
}

function maskPhone(text: string): string | undefined {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits++;
  }
  if (digits < 7 || digits > 15) return undefined;
  let out = '';
  let seen = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) out += ++seen > digits - 2 ? text[i] : '*';
    else out += text[i];
  }
  return out;
}

/**
 * Masks any text: the first character then one `*` per further character, at most MASK_MAX_LENGTH
 * characters in all; text of one or two characters becomes all stars (keeping a character would
 * show half of it). Counts code points, so `Ünïcødé` → `Ü******`.
 */
export function maskText(text: string): string {
  const length = codePointLength(text, MASK_MAX_LENGTH);
  if (length <= 2) return '*'.repeat(length);
  return firstCodePoint(text) + '*'.repeat(length - 1);
}

/**
 * Masks a string by its shape: emails keep the first character of the local part and of the
 * domain, and the top-level domain (`john.doe@example.com` → `j***@e***.com`); phone numbers (7 to 15
 * digits with `+ ( ) - . /` and spaces) keep their separators and last two digits
 * (`+1 (555) 123-4567` → `+* (***) ***-**67`); anything else goes through maskText.
 */
export function maskString(text: string): string {
  const email = EMAIL.exec(text);
  if (email) return maskEmail(email[1]!, email[2]!);
  if (PHONE.test(text)) {
    const phone = maskPhone(text);
    if (phone !== undefined) return phone;
  }
  return maskText(text);
}

/** Replaces every ASCII digit with `*`, keeping signs, points and separators. */
function starDigits(text: string): string {
  return text.replace(/\d/g, '*');
}

const MASKED_NUMBER = /^-?\d+(?:\.\d+)?$/;
const MASKED_DATE = /^\d{4}-\d{2}-\d{2}$/;
const MASKED_DATETIME = /^[+-]?\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * The mask of a value of a field (deterministic; null stays null):
 * - string (and text values of other types): maskString;
 * - number: digits become `*` (`-1234.5` → `-****.*`);
 * - date / datetime: digits become `*` (`****-**-**`, `****-**-**T**:**:**.******Z`);
 * - boolean: `*`;
 * - json: maskText of the canonical JSON.
 * A value that does not fit its type is masked as text, so nothing of it leaks unmasked.
 */
export function maskValue(value: unknown, type: FieldType): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && type === 'string') return maskString(value);
  const text = canonicalText(value, type);
  switch (type) {
    case 'string':
      return maskString(text);
    case 'number':
      return MASKED_NUMBER.test(text) ? starDigits(text) : maskText(text);
    case 'date':
      return MASKED_DATE.test(text) ? starDigits(text) : maskText(text);
    case 'datetime':
      return MASKED_DATETIME.test(text) ? starDigits(text) : maskText(text);
    case 'boolean':
      return typeof value === 'boolean' ? '*' : maskText(text);
    case 'json':
      return maskText(text);
  }
}

// ---------------------------------------------------------------------------------------------
// hash
// ---------------------------------------------------------------------------------------------

/** A hash key from its text (UTF-8, surrounding whitespace trimmed). */
export function parseHashKey(text: string, name: string = HASH_KEY_ENV): HashKey {
  const trimmed = text.trim();
  if (trimmed.length < MIN_HASH_KEY_LENGTH) {
    throw new RuntimeError(
      'config',
      `${name} is too short: use a random secret of at least ${MIN_HASH_KEY_LENGTH} characters (e.g. the output of \`openssl rand -hex 32\`)`,
    );
  }
  return { key: createSecretKey(Buffer.from(trimmed, 'utf8')) };
}

/** The hash key from CF_PII_HASH_KEY; a config error naming the variable when it is unset or too short. */
export function hashKeyFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  reason = 'governance.piiHandling is hash',
): HashKey {
  const text = env[HASH_KEY_ENV];
  if (text === undefined || text.trim() === '') {
    throw new RuntimeError(
      'config',
      `environment variable ${HASH_KEY_ENV} is not set (${reason}); set it to a random secret of at least ${MIN_HASH_KEY_LENGTH} characters, the same in every run so hashed values stay joinable`,
    );
  }
  return parseHashKey(text);
}

/** HMAC-SHA256, lower-case hex, of a text. */
export function hashText(text: string, key: HashKey): string {
  return createHmac('sha256', key.key).update(text, 'utf8').digest('hex');
}

/** HMAC-SHA256 (hex) of a value's canonical text; null stays null. */
export function hashValue(value: unknown, type: FieldType, key: HashKey): string | null {
  if (value === null || value === undefined) return null;
  return hashText(typeof value === 'string' && type === 'string' ? value : canonicalText(value, type), key);
}

// ---------------------------------------------------------------------------------------------
// encrypt
// ---------------------------------------------------------------------------------------------

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]+|[A-Za-z0-9_-]+)={0,2}$/;

/** An encryption key from its text: 32 bytes as base64 (standard or URL-safe) or hex. */
export function parseEncryptionKey(text: string, options: { id?: string; name?: string } = {}): EncryptionKey {
  const name = options.name ?? ENCRYPTION_KEY_ENV;
  const trimmed = text.trim();
  let bytes: Buffer | undefined;
  if (HEX_KEY.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (BASE64.test(trimmed)) bytes = Buffer.from(trimmed, 'base64');
  if (bytes?.length !== 32) {
    const got = bytes ? ` (it decodes to ${bytes.length} bytes)` : ' (it is neither base64 nor hex)';
    throw new RuntimeError(
      'config',
      `${name} must be a 32-byte AES-256 key, base64 (44 characters) or hex (64 characters)${got}; generate one with \`openssl rand -base64 32\``,
    );
  }
  if (options.id !== undefined && !KEY_ID.test(options.id)) {
    throw new RuntimeError('config', `${ENCRYPTION_KEY_ID_ENV} must be 1 to 64 characters of A-Z a-z 0-9 . _ -`);
  }
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return options.id !== undefined ? { key, id: options.id } : { key };
}

/** The encryption key from CF_PII_ENCRYPTION_KEY (and its id from CF_PII_ENCRYPTION_KEY_ID, if set). */
export function encryptionKeyFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  reason = 'governance.piiHandling is encrypt',
): EncryptionKey {
  const text = env[ENCRYPTION_KEY_ENV];
  if (text === undefined || text.trim() === '') {
    throw new RuntimeError(
      'config',
      `environment variable ${ENCRYPTION_KEY_ENV} is not set (${reason}); set it to a 32-byte key, base64 or hex, e.g. from \`openssl rand -base64 32\``,
    );
  }
  const id = env[ENCRYPTION_KEY_ID_ENV];
  return parseEncryptionKey(text, id !== undefined && id !== '' ? { id } : {});
}

/** Random IVs, drawn from the CSPRNG in blocks (one call per 512 values rather than one per value). */
const ivPool = { buffer: Buffer.alloc(IV_BYTES * 512), pos: IV_BYTES * 512 };

function nextIv(): Buffer {
  if (ivPool.pos + IV_BYTES > ivPool.buffer.length) {
    randomFillSync(ivPool.buffer);
    ivPool.pos = 0;
  }
  const iv = ivPool.buffer.subarray(ivPool.pos, ivPool.pos + IV_BYTES);
  ivPool.pos += IV_BYTES;
  return iv;
}

/**
 * Encrypts a text with AES-256-GCM under a fresh random 96-bit IV: `enc:v1:<base64(iv | ciphertext | tag)>`,
 * or `enc:v1:<kid>:<base64(…)>` for a key with an id. The same text encrypts differently every time.
 */
export function encryptText(text: string, key: EncryptionKey): string {
  const iv = nextIv();
  const cipher = createCipheriv('aes-256-gcm', key.key, iv, { authTagLength: TAG_BYTES });
  const body = cipher.update(text, 'utf8');
  const rest = cipher.final();
  const payload = Buffer.concat([iv, body, rest, cipher.getAuthTag()]).toString('base64');
  return key.id !== undefined ? `${ENCRYPTED_PREFIX}${key.id}:${payload}` : ENCRYPTED_PREFIX + payload;
}

/**
 * Encrypts a value; null stays null. A string is encrypted exactly as the source sent it (decryption
 * gives it back unchanged); other values as their canonical text.
 */
export function encryptValue(value: unknown, type: FieldType, key: EncryptionKey): string | null {
  if (value === null || value === undefined) return null;
  return encryptText(typeof value === 'string' ? value : canonicalText(value, type), key);
}

/** Whether a value looks like the output of encryptText. */
export function isEncryptedValue(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(ENCRYPTED_PREFIX);
}

/** The key id an encrypted value names, if any. */
export function encryptedKeyId(text: string): string | undefined {
  if (!text.startsWith(ENCRYPTED_PREFIX)) return undefined;
  const rest = text.slice(ENCRYPTED_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? undefined : rest.slice(0, colon);
}

/**
 * Decrypts a value made by encryptText back to its (canonical) text. Throws RuntimeError('corrupt')
 * for text that is not an encrypted value, and when GCM authentication fails: a wrong key or an
 * altered value. Throws RuntimeError('config') when the value names a different key id than the key.
 */
export function decryptValue(text: string, key: EncryptionKey | string): string {
  const k = typeof key === 'string' ? parseEncryptionKey(key) : key;
  if (!text.startsWith(ENCRYPTED_PREFIX)) {
    throw new RuntimeError('corrupt', `not an encrypted value (it does not start with ${ENCRYPTED_PREFIX})`);
  }
  const rest = text.slice(ENCRYPTED_PREFIX.length);
  const colon = rest.indexOf(':');
  const kid = colon < 0 ? undefined : rest.slice(0, colon);
  const payload = colon < 0 ? rest : rest.slice(colon + 1);
  if (kid !== undefined && k.id !== undefined && kid !== k.id) {
    throw new RuntimeError('config', `the value was encrypted with key id "${kid}", not with the given key "${k.id}"`);
  }
  const bytes = Buffer.from(payload, 'base64');
  // Re-encoding must give the text back: base64 decoding skips stray characters and spare bits.
  if (bytes.length < IV_BYTES + TAG_BYTES || bytes.toString('base64') !== payload) {
    throw new RuntimeError('corrupt', 'not an encrypted value (the payload is not base64 of IV, ciphertext and tag)');
  }
  const decipher = createDecipheriv('aes-256-gcm', k.key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    const plain = Buffer.concat([
      decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return plain.toString('utf8');
  } catch (error) {
    throw new RuntimeError(
      'corrupt',
      'cannot decrypt: wrong key, or the value was altered (AES-GCM authentication failed)',
      {
        cause: error,
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Per-column functions
// ---------------------------------------------------------------------------------------------

/** Keys the handling needs; only the one for the manifest's handling must be present. */
export interface PiiKeys {
  readonly hash?: HashKey;
  readonly encryption?: EncryptionKey;
}

/**
 * The function that handles one PII column, built once per column so the hot path only calls it.
 * Undefined for `exclude` (the column is dropped). Missing keys are an internal error: the caller
 * loads them first (hashKeyFromEnv / encryptionKeyFromEnv) to give the user a config error.
 */
export function piiFunction(handling: PiiHandling, type: FieldType, keys: PiiKeys): PiiFunction | undefined {
  switch (handling) {
    case 'exclude':
      return undefined;
    case 'mask':
      return type === 'string'
        ? (v) => (typeof v === 'string' ? maskString(v) : maskValue(v, type))
        : (v) => maskValue(v, type);
    case 'hash': {
      const key = keys.hash;
      if (!key) throw new RuntimeError('internal', 'piiFunction: hash needs a hash key');
      return type === 'string'
        ? (v) => (typeof v === 'string' ? hashText(v, key) : hashValue(v, type, key))
        : (v) => hashValue(v, type, key);
    }
    case 'encrypt': {
      const key = keys.encryption;
      if (!key) throw new RuntimeError('internal', 'piiFunction: encrypt needs an encryption key');
      return (v) => (typeof v === 'string' ? encryptText(v, key) : encryptValue(v, type, key));
    }
  }
}
