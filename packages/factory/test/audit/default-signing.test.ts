import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuditLog,
  configHome,
  createAuditSigner,
  defaultAuditKeyFile,
  FactoryError,
  generateAuditKey,
  keyIdOf,
  loadAuditSigner,
  loadPublicKey,
  parseAuditAnchor,
  type AuditReceipt,
} from '@connector-factory/factory';
import { receiptHash } from '../../src/audit/receipt-hash.js';
import { closeFreshLogs, freshLog, receiptInput } from '../support/audit-log.js';

// Signing by default: the key is made on first use in the user's config folder (here always a temporary
// one), receipts name it, and a log rewritten without it — or behind a head kept elsewhere — fails verify.

afterEach(closeFreshLogs);

const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));
const configEnv = () => ({ CONNECTOR_FACTORY_CONFIG: join(tempDir('cf-config-'), 'connector-factory') });
const input = (n: number) => receiptInput(n);

async function receipts(log: AuditLog, count: number) {
  for (let n = 1; n <= count; n++) await log.record(input(n));
}

/**
 * Rewrites the log from `from` on, as someone who can write the state database but holds no key would:
 * receipt `from` gets other details, every hash from there is recomputed and the head follows.
 * Signatures are left as they were, or stripped.
 */
function rewrite(file: string, all: AuditReceipt[], from: number, signatures: 'keep' | 'strip') {
  const db = new Database(file);
  try {
    let prevHash = all[from - 2]?.hash ?? '0'.repeat(64);
    const update = db.prepare(
      'update cf_audit_receipts set details = ?, prev_hash = ?, hash = ?, signature = ?, key_id = ? where seq = ?',
    );
    for (const receipt of all.slice(from - 1)) {
      const details = receipt.seq === from ? { files: 999 } : receipt.details;
      const hash = receiptHash({ ...receipt, details, prevHash });
      const strip = signatures === 'strip';
      update.run(
        JSON.stringify(details),
        prevHash,
        hash,
        strip ? null : receipt.signature,
        strip ? null : receipt.keyId,
        receipt.seq,
      );
      prevHash = hash;
    }
    db.prepare('update cf_audit_head set hash = ? where id = 1').run(prevHash);
  } finally {
    db.close();
  }
}

const privateKeyOf = (file: string) => createPrivateKey(readFileSync(file, 'utf8'));

const findings = async (log: AuditLog, ...args: Parameters<AuditLog['verify']>) =>
  (await log.verify(...args)).problems.map((p) => [p.seq, p.kind]);

describe('the default audit signing key', () => {
  it('is created on first use in the config folder, mode 0600, with its public key beside it', () => {
    const env = configEnv();
    const file = defaultAuditKeyFile(env);
    expect(file).toBe(join(env.CONNECTOR_FACTORY_CONFIG, 'audit-key.pem'));
    expect(existsSync(file)).toBe(false);
    const signer = loadAuditSigner(env);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(`${file}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(signer.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(signer.signingSince).toBeInstanceOf(Date);
    // The next use reads the same key; nothing is left behind from writing it.
    expect(loadAuditSigner(env).keyId).toBe(signer.keyId);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('lives in $XDG_CONFIG_HOME, else ~/.config; CONNECTOR_FACTORY_AUDIT_KEY wins over all', async () => {
    const xdg = tempDir('cf-xdg-');
    const home = tempDir('cf-home-');
    expect(configHome({ XDG_CONFIG_HOME: xdg, HOME: home })).toBe(join(xdg, 'connector-factory'));
    expect(configHome({ HOME: home })).toBe(join(home, '.config', 'connector-factory'));
    const signer = loadAuditSigner({ HOME: home });
    const file = join(home, '.config', 'connector-factory', 'audit-key.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(createAuditSigner(privateKeyOf(file)).keyId).toBe(signer.keyId);
    expect(keyIdOf(await loadPublicKey(`${file}.pub`))).toBe(signer.keyId);

    const key = await generateAuditKey(join(tempDir('cf-key-'), 'audit.pem'));
    const env = { ...configEnv(), CONNECTOR_FACTORY_AUDIT_KEY: key.privateKeyFile };
    expect(loadAuditSigner(env).keyId).toBe(key.keyId);
    expect(existsSync(defaultAuditKeyFile(env))).toBe(false);
  });

  it('says where it cannot be created, and how to choose another place', () => {
    // A file where the folder should be: nobody, root included, can create a key under it.
    const notAFolder = join(tempDir('cf-blocked-'), 'not-a-folder');
    writeFileSync(notAFolder, '');
    const config = join(notAFolder, 'connector-factory');
    expect(() => loadAuditSigner({ CONNECTOR_FACTORY_CONFIG: config })).toThrow(
      new FactoryError(
        'invalid_input',
        `cannot create the audit signing key ${join(config, 'audit-key.pem')}: not a directory; set ` +
          'CONNECTOR_FACTORY_CONFIG to a writable folder, or CONNECTOR_FACTORY_AUDIT_KEY to a key `audit keygen` made',
      ),
    );
  });

  it('signs every receipt, naming the key, and verify checks the signatures', async () => {
    const signer = loadAuditSigner(configEnv());
    const { log, store } = await freshLog(signer);
    await receipts(log, 3);
    const all = await store.audit.all();
    expect(all.map((r) => r.keyId)).toEqual([signer.keyId, signer.keyId, signer.keyId]);
    expect(all.every((r) => r.signature !== null)).toBe(true);
    expect(await log.verify()).toMatchObject({ ok: true, signed: true, signaturesChecked: true });
  });
});

describe('a log rewritten without the key', () => {
  it('fails verify when the signatures are kept: they no longer match the fresh hashes', async () => {
    const signer = loadAuditSigner(configEnv());
    const { file, log, store } = await freshLog(signer);
    await receipts(log, 5);
    rewrite(file, await store.audit.all(), 3, 'keep');
    expect(await findings(log)).toEqual([
      [3, 'bad_signature'],
      [4, 'bad_signature'],
      [5, 'bad_signature'],
    ]);
  });

  it('fails verify when every signature is stripped: the receipts came after signing began', async () => {
    const signer = loadAuditSigner(configEnv());
    const { file, log, store } = await freshLog(signer);
    await receipts(log, 5);
    rewrite(file, await store.audit.all(), 1, 'strip');
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      expect.objectContaining({
        seq: 1,
        kind: 'unsigned',
        message: expect.stringMatching(/rewritten without the signing key/),
      }),
    ]);
  });

  it('still verifies a log recorded before signing began, and names where signing started', async () => {
    const { store } = await freshLog();
    await receipts(new AuditLog(store), 3);
    await new Promise((done) => setTimeout(done, 20));
    const log = new AuditLog(store, loadAuditSigner(configEnv()));
    expect(await log.verify()).toMatchObject({ ok: true, signed: false, signaturesChecked: true, problems: [] });
    await log.record(input(4));
    expect(await log.verify()).toMatchObject({ ok: true, signed: true, signedFrom: 4, problems: [] });
  });
});

describe('verify --head', () => {
  it('proves nothing was rewritten up to a head kept elsewhere, and catches a rewrite even without keys', async () => {
    const { file, log, store } = await freshLog();
    await receipts(log, 5);
    const kept = (await store.audit.all())[3]!;
    expect(await log.verify(undefined, { head: { hash: kept.hash } })).toMatchObject({
      ok: true,
      anchor: { hash: kept.hash, seq: 4, found: true },
    });

    // Receipt 2 rewritten with fresh hashes all the way: the chain alone looks intact.
    rewrite(file, await store.audit.all(), 2, 'strip');
    expect((await log.verify()).ok).toBe(true);
    const result = await log.verify(undefined, { head: { seq: 4, hash: kept.hash } });
    expect(result).toMatchObject({ ok: false, anchor: { hash: kept.hash, seq: null, found: false } });
    expect(result.problems).toEqual([
      {
        seq: 4,
        kind: 'rewritten',
        message: `the head you kept (receipt 4, ${kept.hash.slice(0, 12)}…) is no longer in the log: the receipts up to it were rewritten or deleted`,
      },
    ]);
  });

  it('catches a kept head that is no longer at its place', async () => {
    const { log, store } = await freshLog();
    await receipts(log, 3);
    const third = (await store.audit.all())[2]!;
    expect(await findings(log, undefined, { head: { seq: 2, hash: third.hash } })).toEqual([[3, 'rewritten']]);
    expect(await findings(log, undefined, { head: { seq: 3, hash: third.hash } })).toEqual([]);
  });

  it('reads the head as `audit head` prints it', () => {
    const hash = 'ab'.repeat(32);
    expect(parseAuditAnchor(hash)).toEqual({ hash });
    expect(parseAuditAnchor(`7:${hash.toUpperCase()}`)).toEqual({ seq: 7, hash });
    expect(parseAuditAnchor(`sha256:${hash}`)).toEqual({ hash });
    expect(parseAuditAnchor('abc')).toBeUndefined();
  });
});

describe('explicit keys', () => {
  it('a key given to verify is strict: an unsigned log fails it', async () => {
    const { log } = await freshLog();
    await receipts(log, 2);
    const { publicKey } = generateKeyPairSync('ed25519');
    expect(await findings(log, [publicKey])).toEqual([[2, 'unsigned']]);
    expect(createAuditSigner(generateKeyPairSync('ed25519').privateKey).signingSince).toBeUndefined();
  });
});
