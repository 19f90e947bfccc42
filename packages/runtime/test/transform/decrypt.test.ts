import { describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import {
  decryptColumnValues,
  decryptionKeyFromEnv,
  decryptRows,
  encryptedColumnsFor,
} from '../../src/transform/decrypt.js';
import { encryptText, parseEncryptionKey } from '../../src/transform/pii.js';
import { createTransformer } from '../../src/transform/transformer.js';
import { ENCRYPTION_KEY, ENCRYPTION_KEY_HEX, OTHER_ENCRYPTION_KEY, env, manifest } from './fixtures.js';

const key = parseEncryptionKey(ENCRYPTION_KEY);

describe('decrypt helpers', () => {
  it('decrypts a column of values', () => {
    const plain = ['alice@example.com', 'Ünïcødé', ''];
    const values = plain.map((p) => encryptText(p, key));
    expect(decryptColumnValues(values, ENCRYPTION_KEY)).toEqual(plain);
    expect(decryptColumnValues(values, ENCRYPTION_KEY_HEX)).toEqual(plain);
    expect(decryptColumnValues([], ENCRYPTION_KEY)).toEqual([]);
  });

  it('says which value failed, with no key or plaintext in the message', () => {
    const values = [encryptText('first', key), 'not encrypted', encryptText('third', key)];
    expect(() => decryptColumnValues(values, ENCRYPTION_KEY)).toThrow(/^value 2 of 3: not an encrypted value/);
    try {
      decryptColumnValues([encryptText('first', key)], OTHER_ENCRYPTION_KEY);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('corrupt');
      expect((error as Error).message).toMatch(/^value 1 of 1: cannot decrypt: wrong key/);
      expect((error as Error).message).not.toContain('first');
      expect((error as Error).message).not.toContain(OTHER_ENCRYPTION_KEY);
    }
    expect(() => decryptColumnValues([], 'short')).toThrow(/must be a 32-byte/);
  });

  it('checks the key id when one is given', () => {
    const withId = parseEncryptionKey(ENCRYPTION_KEY, { id: 'k1' });
    const values = [encryptText('x', withId)];
    expect(decryptColumnValues(values, ENCRYPTION_KEY, { keyId: 'k1' })).toEqual(['x']);
    expect(() => decryptColumnValues(values, ENCRYPTION_KEY, { keyId: 'k2' })).toThrow(/key id "k1"/);
  });

  it('decrypts the encrypted columns of transformed rows back to the source values', () => {
    const m = manifest({ piiHandling: 'encrypt' });
    const columns = encryptedColumnsFor(m, 'customers');
    expect(columns).toEqual(['email', 'phone', 'name', 'salary', 'birth_date']);
    expect(encryptedColumnsFor(manifest({ piiHandling: 'hash' }), 'customers')).toEqual([]);
    const source = { id: 1, email: 'a@b.co', phone: null, name: 'Ann', salary: 10.5, birth_date: '1990-01-01' };
    const rows = createTransformer(m, 'customers', { env }).apply([source, { id: 2 }], new Date());
    const back = decryptRows(rows, columns, ENCRYPTION_KEY);
    expect(back[0]).toMatchObject({
      id: 1,
      email: 'a@b.co',
      phone: null,
      name: 'Ann',
      salary: '10.5',
      birth_date: '1990-01-01',
    });
    expect(back[1]).not.toHaveProperty('email');
    expect(rows[0]!.email).toMatch(/^enc:v1:/);
    expect(() => decryptRows([{ email: 42 }], ['email'], ENCRYPTION_KEY)).toThrow(
      /row 1, column "email": not an encrypted value/,
    );
  });

  it('reads the key from the environment', () => {
    expect(decryptionKeyFromEnv({ CF_PII_ENCRYPTION_KEY: ENCRYPTION_KEY })).toEqual({
      keyText: ENCRYPTION_KEY,
      options: {},
    });
    expect(
      decryptionKeyFromEnv({ CF_PII_ENCRYPTION_KEY: ENCRYPTION_KEY, CF_PII_ENCRYPTION_KEY_ID: 'k1' }).options,
    ).toEqual({
      keyId: 'k1',
    });
    expect(() => decryptionKeyFromEnv({})).toThrow(/CF_PII_ENCRYPTION_KEY is not set/);
  });
});
