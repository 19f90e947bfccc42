import type { ConnectorManifest } from '@connector-factory/ir';
import { RuntimeError } from '../errors.js';
import type { Row } from '../lake/stage.js';
import {
  ENCRYPTION_KEY_ENV,
  ENCRYPTION_KEY_ID_ENV,
  decryptValue,
  parseEncryptionKey,
  type EncryptionKey,
} from './pii.js';

/**
 * Helpers for the CLI's `decrypt` command: values written under piiHandling encrypt
 * (`enc:v1:[<kid>:]<base64(iv | ciphertext | tag)>`, AES-256-GCM) back to the text the source sent.
 */

export { decryptValue, encryptedKeyId, isEncryptedValue, parseEncryptionKey } from './pii.js';

/** Options of the decrypt helpers. */
export interface DecryptOptions {
  /** The key's id: values naming another id fail with a clear error instead of an authentication failure. */
  readonly keyId?: string;
}

function keyOf(keyText: string, options: DecryptOptions): EncryptionKey {
  return parseEncryptionKey(keyText, options.keyId !== undefined ? { id: options.keyId } : {});
}

/** A RuntimeError that says where it happened, keeping the code and the cause. */
function located(error: unknown, where: string): unknown {
  return error instanceof RuntimeError
    ? new RuntimeError(error.code, `${where}: ${error.message}`, { cause: error })
    : error;
}

/**
 * Decrypts a column's values with one key (32 bytes, base64 or hex). Fails on the first value that
 * does not decrypt (wrong key, altered value, not encrypted), saying which one by position; the error
 * carries no key and no plaintext.
 */
export function decryptColumnValues(
  values: readonly string[],
  keyText: string,
  options: DecryptOptions = {},
): string[] {
  const key = keyOf(keyText, options);
  const out = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    try {
      out[i] = decryptValue(values[i]!, key);
    } catch (error) {
      throw located(error, `value ${i + 1} of ${values.length}`);
    }
  }
  return out;
}

/**
 * Copies rows with the named columns decrypted. Null and missing values stay as they are; any other
 * value must be an encrypted string.
 */
export function decryptRows(
  rows: readonly Row[],
  columns: readonly string[],
  keyText: string,
  options: DecryptOptions = {},
): Row[] {
  const key = keyOf(keyText, options);
  return rows.map((row, r) => {
    const copy: Record<string, unknown> = { ...row };
    for (const column of columns) {
      const value = row[column];
      if (value === null || value === undefined) continue;
      const where = `row ${r + 1}, column "${column}"`;
      if (typeof value !== 'string')
        throw new RuntimeError('corrupt', `${where}: not an encrypted value (a ${typeof value})`);
      try {
        copy[column] = decryptValue(value, key);
      } catch (error) {
        throw located(error, where);
      }
    }
    return copy;
  });
}

/** The columns of an entity that hold ciphertext: its PII fields when governance.piiHandling is encrypt. */
export function encryptedColumnsFor(manifest: ConnectorManifest, entityName: string): string[] {
  const entity = manifest.schema.entities.find((e) => e.name === entityName);
  if (!entity) throw new RuntimeError('config', `manifest ${manifest.id} has no entity "${entityName}"`);
  if (manifest.governance.piiHandling !== 'encrypt') return [];
  return entity.fields.filter((f) => f.pii === true).map((f) => f.name);
}

/** The key text and optional key id from CF_PII_ENCRYPTION_KEY / CF_PII_ENCRYPTION_KEY_ID. */
export function decryptionKeyFromEnv(env: NodeJS.ProcessEnv = process.env): {
  keyText: string;
  options: DecryptOptions;
} {
  const keyText = env[ENCRYPTION_KEY_ENV];
  if (keyText === undefined || keyText.trim() === '') {
    throw new RuntimeError(
      'config',
      `environment variable ${ENCRYPTION_KEY_ENV} is not set: decrypting needs the key the values were encrypted with`,
    );
  }
  const keyId = env[ENCRYPTION_KEY_ID_ENV];
  return { keyText, options: keyId !== undefined && keyId !== '' ? { keyId } : {} };
}
