import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AuditLog,
  canonicalJson,
  createAuditSigner,
  digestOf,
  FactoryError,
  generateAuditKey,
  loadAuditSigner,
  loadPublicKey,
} from '@connector-factory/factory';
import { receiptHash } from '../../src/audit/receipt-hash.js';
import { closeFreshLogs, freshLog, receiptInput } from '../support/audit-log.js';

afterEach(closeFreshLogs);

const input = (n: number) => receiptInput(n, { files: n, durationMs: 1200 + n });

async function fiveReceipts(signer?: ReturnType<typeof createAuditSigner>) {
  const fixture = await freshLog(signer);
  for (let n = 1; n <= 5; n++) await fixture.log.record(input(n));
  return fixture;
}

/** Edits the database behind the store's back, as someone with file access would. */
function tamper(file: string, statements: string) {
  const db = new Database(file);
  try {
    db.exec(statements);
  } finally {
    db.close();
  }
}

const findings = async (log: AuditLog, keys?: Parameters<AuditLog['verify']>[0]) =>
  (await log.verify(keys)).problems.map((p) => [p.seq, p.kind]);

describe('canonical JSON and digests', () => {
  it('sorts keys at every depth, drops undefined members, and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: undefined }], c: 'é' }, u: undefined })).toBe(
      '{"a":{"c":"é","d":[3,{"y":1}]},"b":1}',
    );
    expect(canonicalJson({ '10': 1, '9': 2, a: 3 })).toBe('{"10":1,"9":2,"a":3}');
    expect(canonicalJson({ at: new Date('2026-01-01T00:00:00Z') })).toBe('{"at":"2026-01-01T00:00:00.000Z"}');
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
  });

  it('digests objects by canonical JSON, and strings and bytes as their bytes', () => {
    expect(digestOf({ a: 1, b: [1, 2] })).toBe(digestOf({ b: [1, 2], a: 1 }));
    expect(digestOf({ a: 1 })).not.toBe(digestOf({ a: 2 }));
    expect(digestOf('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(digestOf(new TextEncoder().encode('abc'))).toBe(digestOf('abc'));
  });
});

describe('AuditLog.record', () => {
  it('chains receipts and verifies an untouched log', async () => {
    const { log, store } = await fiveReceipts();
    const all = await store.audit.all();
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]!.hash).toBe(receiptHash(all[0]!));
    expect(await log.verify()).toMatchObject({ ok: true, receipts: 5, signed: false, problems: [] });
  });

  it('refuses a receipt whose details hold a secret, without echoing it or appending anything', async () => {
    const { log, store } = await freshLog();
    const attempts: Array<Record<string, unknown>> = [
      { error: 'connect to postgresql://app:hunter2@db:5432/shop failed' },
      { connection: 'host=db user=app password=hunter2' },
      { header: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXN0dWZm' },
      { nested: [{ apiKey: 'hunter2hunter2' }] },
    ];
    for (const details of attempts) {
      const error = await log.record({ ...input(1), details }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FactoryError);
      expect((error as FactoryError).code).toBe('internal');
      expect((error as FactoryError).message).toMatch(/refusing to store the generate receipt: details\./);
      expect((error as FactoryError).message).not.toContain('hunter2');
    }
    await expect(log.record({ ...input(1), inputs: { manifest: 'the whole manifest' } })).rejects.toThrow(
      /inputs\.manifest is not a sha256:<hex> digest/,
    );
    expect(await store.audit.head()).toBeUndefined();
    // Env-var names and digests are fine.
    await log.record({
      ...input(1),
      details: {
        envNames: ['PG_URL'],
        passwordEnvVar: 'PG_PASSWORD',
        connection: 'postgresql://app:${PG_PASSWORD}@db/shop',
        healthUrl: 'http://127.0.0.1:8080/health',
      },
    });
  });
});

describe('AuditLog.verify names what was done to the log', () => {
  it('an edited receipt', async () => {
    const { file, log } = await fiveReceipts();
    tamper(file, `update cf_audit_receipts set actor = 'mallory' where seq = 3`);
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { seq: 3, kind: 'edited', message: 'receipt 3 was edited: its content does not match its hash' },
    ]);
  });

  it('an edited receipt whose hash was recomputed: the next one no longer chains to it', async () => {
    const { file, log, store } = await fiveReceipts();
    const third = (await store.audit.all())[2]!;
    const forged = receiptHash({ ...third, actor: 'mallory' });
    tamper(file, `update cf_audit_receipts set actor = 'mallory', hash = '${forged}' where seq = 3`);
    expect(await findings(log)).toEqual([[4, 'chain_broken']]);
  });

  it('an edit that breaks the JSON of a column', async () => {
    const { file, log } = await fiveReceipts();
    tamper(file, `update cf_audit_receipts set details = '{"files": ' where seq = 2`);
    expect(await findings(log)).toEqual([[2, 'edited']]);
  });

  it('a deleted receipt in the middle', async () => {
    const { file, log } = await fiveReceipts();
    tamper(file, 'delete from cf_audit_receipts where seq = 3');
    const result = await log.verify();
    expect(result.problems).toEqual([
      { seq: 3, kind: 'missing', message: 'receipt 3 is missing (deleted): receipt 4 follows receipt 2' },
    ]);
  });

  it('deleted receipts at the end, against the recorded head', async () => {
    const { file, log } = await fiveReceipts();
    tamper(file, 'delete from cf_audit_receipts where seq = 5');
    expect((await log.verify()).problems).toEqual([
      { seq: 5, kind: 'missing', message: 'receipt 5 is missing (deleted): the recorded head is receipt 5' },
    ]);
    tamper(file, 'delete from cf_audit_receipts where seq >= 4');
    expect((await log.verify()).problems[0]?.message).toBe(
      'receipts 4–5 are missing (deleted): the recorded head is receipt 5',
    );
  });

  it('a replaced last receipt, and receipts added outside the log', async () => {
    const { file, log, store } = await fiveReceipts();
    const fifth = (await store.audit.all())[4]!;
    const forged = receiptHash({ ...fifth, result: 'failure' });
    tamper(file, `update cf_audit_receipts set result = 'failure', hash = '${forged}' where seq = 5`);
    expect(await findings(log)).toEqual([[5, 'head_mismatch']]);
    tamper(file, `update cf_audit_head set seq = 4`);
    expect((await log.verify()).problems.map((p) => p.message)).toContain(
      'receipt 5 comes after the recorded head (receipt 4): added outside the log',
    );
  });

  it('a reordered receipt (two receipts swapped places)', async () => {
    const { file, log } = await fiveReceipts();
    tamper(
      file,
      `update cf_audit_receipts set seq = -1 where seq = 2;
       update cf_audit_receipts set seq = 2 where seq = 3;
       update cf_audit_receipts set seq = 3 where seq = -1;`,
    );
    const result = await log.verify();
    expect(result.problems).toEqual([
      { seq: 2, kind: 'out_of_order', message: 'receipt 2 is out of order: it was recorded as receipt 3' },
      { seq: 3, kind: 'out_of_order', message: 'receipt 3 is out of order: it was recorded as receipt 2' },
    ]);
  });

  it('a rewritten chain: receipts swapped with seq, hashes and links recomputed', async () => {
    const { file, log, store } = await fiveReceipts();
    const [r1, r2, r3] = await store.audit.all();
    // Receipt 3's content moved to seq 2 with a fresh hash; receipt 4 still links to the old receipt 3.
    const moved = { ...r3!, seq: 2, prevHash: r1!.hash };
    const movedHash = receiptHash(moved);
    const back = { ...r2!, seq: 3, prevHash: movedHash };
    tamper(
      file,
      `update cf_audit_receipts set seq = -1 where seq = 2;
       update cf_audit_receipts set seq = 2, prev_hash = '${r1!.hash}', hash = '${movedHash}' where seq = 3;
       update cf_audit_receipts set seq = 3, prev_hash = '${movedHash}', hash = '${receiptHash(back)}' where seq = -1;`,
    );
    expect(await findings(log)).toEqual([[4, 'chain_broken']]);
  });
});

describe('signed audit logs', () => {
  const keyPair = () => generateKeyPairSync('ed25519');

  it('signs every receipt and verifies with the configured key or its public key', async () => {
    const { privateKey, publicKey } = keyPair();
    const signer = createAuditSigner(privateKey);
    expect(signer.keyId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const { log, store } = await fiveReceipts(signer);
    expect((await store.audit.all()).every((r) => r.signature !== null && r.keyId === signer.keyId)).toBe(true);
    expect(await log.verify()).toMatchObject({ ok: true, signed: true, signaturesChecked: true });
    // A verifier that holds only the public key, and one that holds none.
    const reader = new AuditLog(store);
    expect(await reader.verify([publicKey])).toMatchObject({ ok: true, signed: true, keyIds: [signer.keyId] });
    expect(await reader.verify()).toMatchObject({ ok: true, signed: true, signaturesChecked: false });
    expect(await findings(reader, [keyPair().publicKey])).toEqual([1, 2, 3, 4, 5].map((n) => [n, 'unknown_key']));
  });

  it('detects a tampered, a removed and stripped signatures', async () => {
    const signer = createAuditSigner(keyPair().privateKey);
    const { file, log, store } = await fiveReceipts(signer);
    const other = sign(null, Buffer.from('0'.repeat(64)), keyPair().privateKey).toString('base64');
    tamper(file, `update cf_audit_receipts set signature = '${other}' where seq = 2`);
    expect(await findings(log)).toEqual([[2, 'bad_signature']]);
    const second = (await store.audit.all())[1]!;
    const good = signer.sign(second.hash).signature;
    tamper(file, `update cf_audit_receipts set signature = '${good}' where seq = 2`);
    expect(await findings(log)).toEqual([]);
    tamper(file, 'update cf_audit_receipts set signature = null, key_id = null where seq = 4');
    expect((await log.verify()).problems).toEqual([
      { seq: 4, kind: 'unsigned', message: 'receipt 4 has no signature, though the receipts from 1 on are signed' },
    ]);
    tamper(file, 'update cf_audit_receipts set signature = null, key_id = null');
    expect(await findings(log)).toEqual([[5, 'unsigned']]);
    // Without a key nothing says the log was ever signed: that is what configuring the key is for.
    expect((await new AuditLog(store).verify()).ok).toBe(true);
  });

  it('accepts an unsigned beginning from before the key was configured', async () => {
    const { store } = await fiveReceipts();
    const signer = createAuditSigner(keyPair().privateKey);
    const log = new AuditLog(store, signer);
    await log.record(input(6));
    expect(await log.verify()).toMatchObject({ ok: true, signed: true, signedFrom: 6 });
  });

  it('keygen writes a 0600 PKCS8 key that loadAuditSigner and loadPublicKey read, and never overwrites', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-key-'));
    const key = await generateAuditKey(join(dir, 'keys', 'audit.pem'));
    expect(statSync(key.privateKeyFile).mode & 0o777).toBe(0o600);
    const signer = loadAuditSigner({ CONNECTOR_FACTORY_AUDIT_KEY: key.privateKeyFile });
    expect(signer?.keyId).toBe(key.keyId);
    const { log, store } = await fiveReceipts(signer);
    expect(await new AuditLog(store).verify([await loadPublicKey(key.publicKeyFile)])).toMatchObject({ ok: true });
    expect((await log.verify([await loadPublicKey(key.privateKeyFile)])).ok).toBe(true);
    await expect(generateAuditKey(key.privateKeyFile)).rejects.toThrow(/already exists/);
  });

  it('names a missing or wrong key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-key-'));
    expect(() => loadAuditSigner({ CONNECTOR_FACTORY_AUDIT_KEY: join(dir, 'none.pem') })).toThrow(
      /CONNECTOR_FACTORY_AUDIT_KEY: cannot read .*none\.pem: no such file/,
    );
    writeFileSync(
      join(dir, 'rsa.pem'),
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    expect(() => loadAuditSigner({ CONNECTOR_FACTORY_AUDIT_KEY: join(dir, 'rsa.pem') })).toThrow(/rsa, not ed25519/);
    writeFileSync(join(dir, 'junk.pem'), 'not a key');
    await expect(loadPublicKey(join(dir, 'junk.pem'))).rejects.toThrow(/is not a PEM public key/);
  });
});
