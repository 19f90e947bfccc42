import { afterEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../src/auth/create-authenticator.js';
import { ApiKeyAuth } from '../../src/auth/static-auth.js';
import { RuntimeError } from '../../src/errors.js';
import { HttpClient } from '../../src/http/http-client.js';
import type { Authenticator } from '../../src/http/authenticator.js';
import { localServer, sendJson } from '../http/local-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function seen(auth: Authenticator) {
  const server = await localServer((_req, res) => sendJson(res, 200, {}));
  const client = new HttpClient({ baseUrl: server.url, auth });
  closers.push(server.close, () => client.close());
  await client.getJson('/items', { limit: 5 });
  return server.received[0]!;
}

describe('api_key, bearer, basic, none from a manifest', () => {
  const env = { API_KEY: 'k-123456', TOKEN: 'tok-abcdef', DB_USER: 'ålice', DB_PASS: 'p@ss:wörd' };

  it('api_key goes in the named header', async () => {
    const r = await seen(
      createAuthenticator({ method: 'api_key', config: { headerName: 'X-Api-Token', apiKeyEnvVar: 'API_KEY' } }, env),
    );
    expect(r.headers['x-api-token']).toBe('k-123456');
  });

  it('api_key can go in a query parameter, beside the request query', async () => {
    const r = await seen(new ApiKeyAuth('k-1', { queryParam: 'api_key' }));
    expect(r.url.searchParams.get('api_key')).toBe('k-1');
    expect(r.url.searchParams.get('limit')).toBe('5');
  });

  it('bearer', async () => {
    const r = await seen(createAuthenticator({ method: 'bearer', config: { tokenEnvVar: 'TOKEN' } }, env));
    expect(r.headers.authorization).toBe('Bearer tok-abcdef');
  });

  it('basic, UTF-8', async () => {
    const r = await seen(
      createAuthenticator({ method: 'basic', config: { usernameEnvVar: 'DB_USER', passwordEnvVar: 'DB_PASS' } }, env),
    );
    expect(Buffer.from(r.headers.authorization!.slice(6), 'base64').toString('utf8')).toBe('ålice:p@ss:wörd');
  });

  it('none sends no credentials', async () => {
    const r = await seen(createAuthenticator({ method: 'none', config: {} }, env));
    expect(r.headers.authorization).toBeUndefined();
  });

  it('names every missing variable at once, and never a value', () => {
    let error: unknown;
    try {
      createAuthenticator(
        {
          method: 'oauth2',
          config: { tokenUrl: 'https://x.test/token', clientIdEnvVar: 'SF_ID', clientSecretEnvVar: 'SF_SECRET' },
        },
        { SF_ID: '' },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('config');
    expect((error as RuntimeError).message).toBe(
      "oauth2 auth needs SF_ID, SF_SECRET: set them in the connector's environment",
    );
  });

  it('a variable named like an Object.prototype member is not found on the prototype', () => {
    expect(() => createAuthenticator({ method: 'bearer', config: { tokenEnvVar: 'constructor' } }, {})).toThrow(
      /needs constructor/,
    );
  });
});
