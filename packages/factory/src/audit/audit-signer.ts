import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FactoryError } from '../errors.js';

/** Signs receipt hashes with an ed25519 key; `keyId` names the key in every receipt it signs. */
export interface AuditSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  /**
   * When the default key was created, so signing began: a log with no signature at all but receipts
   * recorded after this had its signatures stripped. Undefined for a key from CONNECTOR_FACTORY_AUDIT_KEY.
   */
  readonly signingSince?: Date;
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
 * The folder of the user's own factory settings, outside any state store: `CONNECTOR_FACTORY_CONFIG`,
 * else `$XDG_CONFIG_HOME/connector-factory`, else `~/.config/connector-factory`.
 */
export function configHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['CONNECTOR_FACTORY_CONFIG'];
  if (configured !== undefined && configured !== '') return resolve(configured);
  const xdg = env['XDG_CONFIG_HOME'];
  if (xdg !== undefined && xdg !== '') return resolve(xdg, 'connector-factory');
  const home = env['HOME'];
  return resolve(home !== undefined && home !== '' ? home : homedir(), '.config', 'connector-factory');
}

/** Where the default audit signing key lives: `audit-key.pem` in configHome (its public half beside it, `.pub`). */
export function defaultAuditKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configHome(env), 'audit-key.pem');
}

/**
 * The signer of the audit log. `CONNECTOR_FACTORY_AUDIT_KEY` (the path of a PKCS8 PEM ed25519 private
 * key) wins; else the default key in the user's config folder (defaultAuditKeyFile), created on first
 * use: mode 0600, written whole before it appears under its name, so concurrent first uses agree on
 * one key. Its public half is kept beside it as `audit-key.pem.pub`, for verifying elsewhere.
 */
export function loadAuditSigner(env: NodeJS.ProcessEnv = process.env): AuditSigner {
  const file = env['CONNECTOR_FACTORY_AUDIT_KEY'];
  if (file !== undefined && file !== '')
    return createAuditSigner(readPrivateKey(file, 'CONNECTOR_FACTORY_AUDIT_KEY: '));
  const defaultFile = defaultAuditKeyFile(env);
  const where = `the audit signing key ${defaultFile}`;
  const fix =
    'set CONNECTOR_FACTORY_CONFIG to a writable folder, or CONNECTOR_FACTORY_AUDIT_KEY to a key `audit keygen` made';
  try {
    mkdirSync(dirname(defaultFile), { recursive: true, mode: 0o700 });
    linkNew(defaultFile, 0o600, () =>
      generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    );
  } catch (error) {
    throw new FactoryError('invalid_input', `cannot create ${where}: ${reason(error)}; ${fix}`, [], { cause: error });
  }
  const signer = createAuditSigner(readPrivateKey(defaultFile, ''));
  try {
    linkNew(`${defaultFile}.pub`, 0o644, () => signer.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  } catch {
    // The public half is a convenience (`audit verify --public-key` elsewhere); a read-only folder may lack it.
  }
  return { ...signer, signingSince: statSync(defaultFile).mtime };
}

/**
 * Writes `text()` to `file` unless it exists: into a fresh temporary file first (mode set, flushed), then
 * linked under its name, which fails when another process got there first (its file is kept).
 */
function linkNew(file: string, mode: number, text: () => string): void {
  try {
    statSync(file);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', mode);
  try {
    try {
      writeFileSync(fd, text());
      fchmodSync(fd, mode); // exactly this mode, whatever the umask
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function readPrivateKey(file: string, label: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new FactoryError('invalid_input', `${label}cannot read ${file}: ${reason(error)}`, [], {
      cause: error,
    });
  }
  try {
    return createPrivateKey(pem);
  } catch (error) {
    throw new FactoryError(
      'invalid_input',
      `${label}${file} is not a PEM private key; create one with \`connector-factory audit keygen --out <file>\``,
      [],
      { cause: error },
    );
  }
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
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'not a directory';
  if (code === 'EROFS') return 'read-only file system';
  return (error as Error).message;
}
