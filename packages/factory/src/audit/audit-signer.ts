import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { FactoryError } from '../errors.js';

/** Signs receipt hashes with an ed25519 key; `keyId` names the key in every receipt it signs. */
export interface AuditSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(hash: string): { signature: string; keyId: string };
}

/** `sha256:<hex>` of the DER (SPKI) encoding of a public key: the key's fingerprint. */
export function keyIdOf(publicKey: KeyObject): string {
  return `sha256:${createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;
}

/** A signer over an ed25519 private key. */
export function createAuditSigner(privateKey: KeyObject): AuditSigner {
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new FactoryError(
      'invalid_input',
      `the audit signing key is ${privateKey.asymmetricKeyType ?? 'not an asymmetric key'}, not ed25519; create one with \`connector-factory audit keygen --out <file>\``,
    );
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKey,
    sign: (hash) => ({ signature: sign(null, Buffer.from(hash, 'utf8'), privateKey).toString('base64'), keyId }),
  };
}

/** True when `signature` (base64) is `publicKey`'s ed25519 signature over `hash`. */
export function verifySignature(hash: string, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(hash, 'utf8'), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * The signer configured by `CONNECTOR_FACTORY_AUDIT_KEY` (the path of a PKCS8 PEM ed25519 private key),
 * or undefined when it is not set: receipts are then chained but unsigned.
 */
export function loadAuditSigner(env: NodeJS.ProcessEnv = process.env): AuditSigner | undefined {
  const file = env['CONNECTOR_FACTORY_AUDIT_KEY'];
  if (file === undefined || file === '') return undefined;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FactoryError('invalid_input', `CONNECTOR_FACTORY_AUDIT_KEY: cannot read ${file}: ${reason(error)}`, [], {
      cause: error,
    });
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error) {
    throw new FactoryError(
      'invalid_input',
      `CONNECTOR_FACTORY_AUDIT_KEY: ${file} is not a PEM private key; create one with \`connector-factory audit keygen --out <file>\``,
      [],
      { cause: error },
    );
  }
  return createAuditSigner(key);
}

/**
 * The ed25519 public key in a PEM file, to verify signatures with. A private key file is accepted too
 * (its public half is used), so the signing key itself can verify.
 */
export async function loadPublicKey(file: string): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (error) {
    throw new FactoryError('not_found', `${file}: cannot read the public key: ${reason(error)}`, [], { cause: error });
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    throw new FactoryError(
      'invalid_input',
      `${file} is not a PEM public key (expected -----BEGIN PUBLIC KEY-----)`,
      [],
      {
        cause: error,
      },
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FactoryError(
      'invalid_input',
      `${file} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key, not ed25519`,
    );
  }
  return key;
}

/**
 * Writes a new ed25519 key pair: the PKCS8 PEM private key to `out` (mode 0600, never over an existing
 * file; its folder is created) and the SPKI PEM public key beside it as `<out>.pub`. Returns both
 * absolute paths and the key id.
 */
export async function generateAuditKey(
  out: string,
): Promise<{ privateKeyFile: string; publicKeyFile: string; keyId: string }> {
  const file = resolve(out);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicKeyFile = `${file}.pub`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeNew(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 0o600);
  try {
    await writeNew(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }).toString(), 0o644);
  } catch (error) {
    await rm(file, { force: true }); // half a key pair is of no use
    throw error;
  }
  return { privateKeyFile: file, publicKeyFile, keyId: keyIdOf(publicKey) };
}

/** Creates `file` with `mode` from the start (no window where a private key is readable by others). */
async function writeNew(file: string, text: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(file, 'wx', mode);
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
    throw new FactoryError(
      'invalid_input',
      exists
        ? `${file} already exists; choose another --out (an audit key is never overwritten)`
        : `cannot write ${file}: ${reason(error)}`,
      [],
      { cause: error },
    );
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // exactly this mode, whatever the umask
  } finally {
    await handle.close();
  }
}

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  return (error as Error).message;
}
