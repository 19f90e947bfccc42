import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import {
  canonicalText,
  decryptValue,
  encryptedKeyId,
  encryptionKeyFromEnv,
  encryptText,
  encryptValue,
  hashKeyFromEnv,
  hashValue,
  maskString,
  maskText,
  maskValue,
  parseEncryptionKey,
  parseHashKey,
  plainDecimal,
} from '../../src/transform/pii.js';
import { ENCRYPTION_KEY, ENCRYPTION_KEY_HEX, HASH_KEY, OTHER_ENCRYPTION_KEY } from './fixtures.js';

function thrown(fn: () => unknown): RuntimeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return error as RuntimeError;
  }
  throw new Error('expected a RuntimeError');
}

/** Re-encodes an encrypted value after changing its decoded bytes. */
function tamper(text: string, change: (bytes: Buffer) => void): string {
  const prefix = 'enc:v1:';
  const bytes = Buffer.from(text.slice(prefix.length), 'base64');
  change(bytes);
  return prefix + bytes.toString('base64');
}

describe('mask', () => {
  it('keeps the shape of emails', () => {
    expect(maskString('john.doe@example.com')).toBe('j***@e***.com');
    expect(maskString('Alice+news@mail.example.co.uk')).toBe('A***@m***.uk');
    expect(maskString('ñoño@dominio.es')).toBe('ñ***@d***.es');
    expect(maskString('x@y.io')).toBe('x***@y***.io');
    // Not emails: masked as text.
    expect(maskString('user@localhost')).toBe('u*************');
    expect(maskString('a@b@c.com')).toBe('a********');
  });

  it('keeps separators and the last two digits of phone numbers', () => {
    expect(maskString('+1 (555) 123-4567')).toBe('+* (***) ***-**67');
    expect(maskString('555-123-4567')).toBe('***-***-**67');
    expect(maskString('+44 20 7946 0958')).toBe('+** ** **** **58');
    expect(maskString('0612345678')).toBe('********78');
    expect(maskString('06.12.34.56.78')).toBe('**.**.**.**.78');
    // Too few or too many digits for a phone number: masked as text.
    expect(maskString('12345')).toBe('1****');
    expect(maskString('1234567890123456')).toBe('1***************');
  });

  it('keeps the first character and the length of other text, capped', () => {
    expect(maskString('Alice')).toBe('A****');
    expect(maskString('John Smith')).toBe('J*********');
    expect(maskString('Bob')).toBe('B**');
    expect(maskString('a very long street address, 42, Springfield')).toBe(`a${'*'.repeat(15)}`);
    expect(maskText('x'.repeat(10_000))).toHaveLength(16);
  });

  it('stars short strings completely', () => {
    expect(maskString('')).toBe('');
    expect(maskString('A')).toBe('*');
    expect(maskString('Al')).toBe('**');
  });

  it('counts unicode code points, not UTF-16 units', () => {
    expect(maskString('Ünïcødé')).toBe('Ü******');
    expect(maskString('山田太郎')).toBe('山***');
    expect(maskString('😀😀😀😀')).toBe('😀***');
    expect(maskString('😀'.repeat(40))).toBe(`😀${'*'.repeat(15)}`);
    expect(maskString('é')).toBe('*');
  });

  it('masks numbers, dates, booleans and json as strings', () => {
    expect(maskValue(1234.5, 'number')).toBe('****.*');
    expect(maskValue(-42, 'number')).toBe('-**');
    expect(maskValue(12345678901234567890n, 'number')).toBe('*'.repeat(20));
    expect(maskValue('12.50', 'number')).toBe('**.*');
    expect(maskValue(1e21, 'number')).toBe('*'.repeat(22));
    expect(maskValue('1984-02-29', 'date')).toBe('****-**-**');
    expect(maskValue(new Date('1984-02-29T00:00:00Z'), 'date')).toBe('****-**-**');
    expect(maskValue('2025-01-31T12:00:00+01:00', 'datetime')).toBe('****-**-**T**:**:**.******Z');
    expect(maskValue(true, 'boolean')).toBe('*');
    expect(maskValue(false, 'boolean')).toBe('*');
    expect(maskValue({ b: 1, a: 'x' }, 'json')).toBe(`{${'*'.repeat(14)}`);
    expect(maskValue(42, 'string')).toBe('**');
  });

  it('masks values that do not fit their type as text, leaking nothing verbatim', () => {
    expect(maskValue('n/a', 'number')).toBe('n**');
    expect(maskValue('soon', 'date')).toBe('s***');
    expect(maskValue('yes', 'boolean')).toBe('y**');
    expect(maskValue(Number.NaN, 'number')).toBe('N**');
  });

  it('keeps null and is deterministic', () => {
    expect(maskValue(null, 'string')).toBeNull();
    expect(maskValue(null, 'number')).toBeNull();
    expect(maskString('john.doe@example.com')).toBe(maskString('john.doe@example.com'));
  });
});

describe('canonical text', () => {
  it('normalises numbers, dates and timestamps so equal values give equal text', () => {
    expect(plainDecimal('1.25e1')).toBe('12.5');
    expect(plainDecimal('-0.000')).toBe('0');
    expect(plainDecimal('007')).toBe('7');
    expect(plainDecimal('1e-7')).toBe('0.0000001');
    expect(plainDecimal('abc')).toBeUndefined();
    expect(canonicalText(12.5, 'number')).toBe('12.5');
    expect(canonicalText('12.50', 'number')).toBe('12.5');
    expect(canonicalText(42n, 'number')).toBe('42');
    expect(canonicalText(new Date('2025-01-31T12:00:00.123Z'), 'datetime')).toBe('2025-01-31T12:00:00.123000Z');
    expect(canonicalText('2025-01-31 13:00:00.123+01:00', 'datetime')).toBe('2025-01-31T12:00:00.123000Z');
    expect(canonicalText(new Date('2025-01-31T23:00:00Z'), 'date')).toBe('2025-01-31');
    expect(canonicalText({ b: [1, 2n], a: null }, 'json')).toBe('{"a":null,"b":[1,"2"]}');
    expect(canonicalText(' padded ', 'string')).toBe(' padded ');
  });

  it('never throws, even for cycles and odd objects', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(canonicalText(cyclic, 'json')).toBe('{"a":1,"self":"[Circular]"}');
    expect(canonicalText(Object.create(null), 'string')).toBe('{}');
    expect(canonicalText(new Date(Number.NaN), 'datetime')).toBe('Invalid Date');
    expect(canonicalText(Symbol('s'), 'string')).toBe('Symbol(s)');
    expect(canonicalText(new Uint8Array([1, 2, 3]), 'string')).toBe('AQID');
    const throwing = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    expect(canonicalText(throwing, 'json')).toBe('[unserialisable]');
  });
});

describe('hash', () => {
  const key = parseHashKey(HASH_KEY);

  it('is HMAC-SHA256 hex of the canonical text, stable across keys parsed from the same secret', () => {
    const expected = createHmac('sha256', HASH_KEY).update('john.doe@example.com').digest('hex');
    expect(hashValue('john.doe@example.com', 'string', key)).toBe(expected);
    expect(hashValue('john.doe@example.com', 'string', parseHashKey(`${HASH_KEY}\n`))).toBe(expected);
    expect(hashValue('john.doe@example.com', 'string', key)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes equal values of different shapes alike, so hashed columns still join', () => {
    expect(hashValue(12.5, 'number', key)).toBe(hashValue('12.50', 'number', key));
    expect(hashValue(42n, 'number', key)).toBe(hashValue(42, 'number', key));
    expect(hashValue(new Date('2025-01-31T12:00:00Z'), 'datetime', key)).toBe(
      hashValue('2025-01-31T13:00:00+01:00', 'datetime', key),
    );
    expect(hashValue({ a: 1, b: 2 }, 'json', key)).toBe(hashValue({ b: 2, a: 1 }, 'json', key));
    expect(hashValue('a', 'string', key)).not.toBe(hashValue('A', 'string', key));
  });

  it('depends on the key', () => {
    const other = parseHashKey('another-secret-key-of-some-length');
    expect(hashValue('john', 'string', key)).not.toBe(hashValue('john', 'string', other));
  });

  it('keeps null', () => {
    expect(hashValue(null, 'string', key)).toBeNull();
  });

  it('needs CF_PII_HASH_KEY, and says so without showing any key', () => {
    const missing = thrown(() => hashKeyFromEnv({}));
    expect(missing.code).toBe('config');
    expect(missing.message).toContain('CF_PII_HASH_KEY');
    expect(thrown(() => hashKeyFromEnv({ CF_PII_HASH_KEY: '  ' })).message).toContain('CF_PII_HASH_KEY is not set');
    const short = thrown(() => hashKeyFromEnv({ CF_PII_HASH_KEY: 'short-secret' }));
    expect(short.code).toBe('config');
    expect(short.message).toContain('CF_PII_HASH_KEY');
    expect(short.message).not.toContain('short-secret');
    expect(hashKeyFromEnv({ CF_PII_HASH_KEY: HASH_KEY }).key.symmetricKeySize).toBe(HASH_KEY.length);
  });
});

describe('encrypt', () => {
  const key = parseEncryptionKey(ENCRYPTION_KEY);

  it('round-trips text, with a fresh random IV every time', () => {
    const a = encryptText('john.doe@example.com', key);
    const b = encryptText('john.doe@example.com', key);
    expect(a).toMatch(/^enc:v1:[A-Za-z0-9+/]+={0,2}$/);
    expect(a).not.toBe(b);
    expect(Buffer.from(a.slice(7), 'base64').subarray(0, 12)).not.toEqual(
      Buffer.from(b.slice(7), 'base64').subarray(0, 12),
    );
    expect(Buffer.from(a.slice(7), 'base64')).toHaveLength(12 + 'john.doe@example.com'.length + 16);
    expect(decryptValue(a, key)).toBe('john.doe@example.com');
    expect(decryptValue(b, ENCRYPTION_KEY)).toBe('john.doe@example.com');
  });

  it('round-trips unicode, empty text, source strings verbatim and canonical text of other values', () => {
    for (const text of ['', 'Ünïcødé 山田 😀', 'x'.repeat(100_000)])
      expect(decryptValue(encryptText(text, key), key)).toBe(text);
    expect(decryptValue(encryptValue('12.50', 'number', key)!, key)).toBe('12.50');
    expect(decryptValue(encryptValue(12.5, 'number', key)!, key)).toBe('12.5');
    expect(decryptValue(encryptValue(new Date('2025-01-31T12:00:00Z'), 'datetime', key)!, key)).toBe(
      '2025-01-31T12:00:00.000000Z',
    );
    expect(encryptValue(null, 'string', key)).toBeNull();
  });

  it('accepts the key as hex or base64 alike', () => {
    const value = encryptText('secret', parseEncryptionKey(ENCRYPTION_KEY_HEX));
    expect(decryptValue(value, ENCRYPTION_KEY)).toBe('secret');
    expect(decryptValue(value, ` ${ENCRYPTION_KEY}\n`)).toBe('secret');
    expect(decryptValue(value, ENCRYPTION_KEY.replace(/\+/g, '-').replace(/\//g, '_'))).toBe('secret');
  });

  it('rejects a wrong key', () => {
    const error = thrown(() => decryptValue(encryptText('secret', key), OTHER_ENCRYPTION_KEY));
    expect(error.code).toBe('corrupt');
    expect(error.message).toMatch(/wrong key.*altered/);
    expect(error.message).not.toContain('secret');
  });

  it('rejects tampered values: ciphertext, tag, IV, truncation, re-encoding', () => {
    const value = encryptText('pay 100 to alice', key);
    const flips: Array<(b: Buffer) => void> = [
      (b) => (b[0]! ^= 1), // IV
      (b) => (b[12]! ^= 0x80), // ciphertext
      (b) => (b[b.length - 1]! ^= 1), // tag
    ];
    for (const flip of flips) expect(thrown(() => decryptValue(tamper(value, flip), key)).code).toBe('corrupt');
    expect(thrown(() => decryptValue(value.slice(0, -4), key)).code).toBe('corrupt');
    expect(thrown(() => decryptValue(`${value}AAAA`, key)).code).toBe('corrupt');
    expect(thrown(() => decryptValue(value.replace('enc:v1:', 'enc:v1: '), key)).code).toBe('corrupt');
    expect(thrown(() => decryptValue('enc:v1:AAAA', key)).message).toContain('not an encrypted value');
    expect(thrown(() => decryptValue('plain text', key)).message).toContain('not an encrypted value');
  });

  it('rejects keys that are not 32 bytes, without showing them', () => {
    for (const bad of ['', 'not a key!', Buffer.alloc(16).toString('base64'), 'ab'.repeat(31)]) {
      const error = thrown(() => parseEncryptionKey(bad));
      expect(error.code).toBe('config');
      expect(error.message).toContain('CF_PII_ENCRYPTION_KEY must be a 32-byte');
      if (bad !== '') expect(error.message).not.toContain(bad);
    }
    const missing = thrown(() => encryptionKeyFromEnv({}));
    expect(missing.code).toBe('config');
    expect(missing.message).toContain('CF_PII_ENCRYPTION_KEY is not set');
  });

  it('writes the key id when CF_PII_ENCRYPTION_KEY_ID is set and checks it on decryption', () => {
    const withId = encryptionKeyFromEnv({ CF_PII_ENCRYPTION_KEY: ENCRYPTION_KEY, CF_PII_ENCRYPTION_KEY_ID: '2025-q1' });
    const value = encryptText('secret', withId);
    expect(value).toMatch(/^enc:v1:2025-q1:[A-Za-z0-9+/]+={0,2}$/);
    expect(encryptedKeyId(value)).toBe('2025-q1');
    expect(encryptedKeyId(encryptText('secret', key))).toBeUndefined();
    expect(decryptValue(value, withId)).toBe('secret');
    expect(decryptValue(value, key)).toBe('secret');
    const other = parseEncryptionKey(ENCRYPTION_KEY, { id: '2025-q2' });
    expect(thrown(() => decryptValue(value, other)).message).toContain('key id "2025-q1"');
    expect(thrown(() => parseEncryptionKey(ENCRYPTION_KEY, { id: 'bad id' })).code).toBe('config');
  });

  it('prints no key material', () => {
    expect(JSON.stringify(key)).not.toContain(ENCRYPTION_KEY);
    expect(String(key.key)).not.toContain(ENCRYPTION_KEY);
  });
});
