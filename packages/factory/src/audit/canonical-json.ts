import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted (by UTF-16 code units) and no whitespace, so equal values always give
 * equal text and equal digests. Follows JSON.stringify otherwise: `toJSON` is honoured, undefined object
 * members are left out, undefined array items and non-finite numbers become null. A bigint has no JSON
 * form and is refused rather than guessed at.
 */
export function canonicalJson(value: unknown): string {
  const text = serialize(value);
  return text ?? 'null';
}

function serialize(value: unknown): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return serialize((value as { toJSON: () => unknown }).toJSON());
  }
  if (typeof value === 'bigint') throw new TypeError('canonicalJson: a bigint has no JSON form; pass it as a string');
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item) ?? 'null').join(',')}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const text = serialize((value as Record<string, unknown>)[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(',')}}`;
}

/**
 * `sha256:<hex>` of a value, for the inputs and outputs of a receipt: bytes and strings are hashed as
 * they are (a string as UTF-8, so the digest of a file's text equals that of its bytes), anything else
 * as its canonical JSON.
 */
export function digestOf(value: unknown): string {
  const bytes = value instanceof Uint8Array || typeof value === 'string' ? value : canonicalJson(value);
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A `sha256:<hex>` digest as digestOf makes it. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
