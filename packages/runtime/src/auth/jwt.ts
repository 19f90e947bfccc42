import { createPrivateKey, sign } from 'node:crypto';
import { RuntimeError } from '../errors.js';

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** A compact JWS signed with RS256 (RFC 7515/7518), as RFC 7523's JWT bearer grant sends it. */
export function signJwtRs256(claims: Readonly<Record<string, unknown>>, privateKeyPem: string): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    // The key's text never goes into the message.
    throw new RuntimeError('config', 'the JWT signing key is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new RuntimeError(
      'config',
      `the JWT signing key is ${key.asymmetricKeyType ?? 'not asymmetric'}, RS256 needs an RSA key`,
    );
  const input = `${base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${base64url(sign('RSA-SHA256', Buffer.from(input), key))}`;
}
