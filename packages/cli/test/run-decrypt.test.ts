import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encryptText, parseEncryptionKey } from '../../runtime/src/transform/pii.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}, input?: string) => {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    ...(input !== undefined ? { input } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('connector-factory decrypt', () => {
  const keyText = randomBytes(32).toString('base64');
  const key = parseEncryptionKey(keyText);
  const secret = encryptText('jane.doe@example.com', key);

  it('decrypts values from arguments and standard input with the key from the environment', () => {
    expect(cli(['decrypt', secret], { CF_PII_ENCRYPTION_KEY: keyText })).toMatchObject({
      code: 0,
      stdout: 'jane.doe@example.com\n',
    });
    expect(cli(['decrypt', '--json'], { CF_PII_ENCRYPTION_KEY: keyText }, `${secret}\n${secret}\n`).stdout).toBe(
      `${JSON.stringify(['jane.doe@example.com', 'jane.doe@example.com'], null, 2)}\n`,
    );
  });

  it('refuses without the key, with a wrong key, or for a tampered value', () => {
    expect(cli(['decrypt', secret], { CF_PII_ENCRYPTION_KEY: '' }).stderr).toMatch(/CF_PII_ENCRYPTION_KEY/);
    const wrong = cli(['decrypt', secret], { CF_PII_ENCRYPTION_KEY: randomBytes(32).toString('base64') });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).not.toContain('jane');
    const tampered = secret.slice(0, -4) + (secret.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect(cli(['decrypt', tampered], { CF_PII_ENCRYPTION_KEY: keyText }).code).toBe(1);
  });
});

describe('connector-factory run', () => {
  it('rejects an invalid manifest with its problems and exit 1', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cf-run-')), 'bad.json');
    writeFileSync(file, '{"id": "nope"}');
    const r = cli(['run', file, '--once']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.json:1:\d+: error: id:/);
  });

  it('names the missing environment variable, and never prints a credential', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'examples/postgres-orders-cdc.json'), 'utf8'));
    manifest.destination.lakePath = mkdtempSync(join(tmpdir(), 'cf-lake-'));
    const file = join(mkdtempSync(join(tmpdir(), 'cf-run-')), 'orders.json');
    writeFileSync(file, JSON.stringify(manifest));
    const r = cli(['run', file, '--once'], { POSTGRES_CONNECTION_STRING: '' });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'error: connector_postgres_orders_v1 reads POSTGRES_CONNECTION_STRING, which neither the environment nor the secret store holds: run `export POSTGRES_CONNECTION_STRING=…` or `connector-factory secrets set POSTGRES_CONNECTION_STRING`',
    );
  });
});
