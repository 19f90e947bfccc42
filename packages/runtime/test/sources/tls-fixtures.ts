import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The test CA that signed the test servers' certificates (scripts/services.sh). */
export function testCaFile(): string {
  const ca = process.env.TEST_TLS_CA;
  if (!ca) throw new Error('TEST_TLS_CA is not set: run the suite with `npm test` (scripts/services.sh makes it)');
  return ca;
}

/** A CA certificate that signed nothing the test servers present (a fresh self-signed one). */
export function otherCaFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-other-ca-'));
  const file = join(dir, 'other-ca.pem');
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=another CA'];
  execFileSync('openssl', [...args, '-keyout', join(dir, 'key.pem'), '-out', file], { stdio: 'ignore' });
  return file;
}
