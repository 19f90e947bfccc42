import { generateKeyPairSync, verify } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { OAuth2Auth } from '../../src/auth/oauth2-auth.js';
import { RuntimeError } from '../../src/errors.js';
import { HttpClient } from '../../src/http/http-client.js';
import { localServer, sendJson, type Received } from '../http/local-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const form = (r: Received) => Object.fromEntries(new URLSearchParams(r.body));

/** A token endpoint and an API behind it that takes only the last token issued. */
async function authServer(token: (r: Received, n: number) => { status: number; body: unknown }) {
  let issued = 0;
  let current = '';
  const server = await localServer((req, res) => {
    if (req.url.pathname === '/oauth/token') {
      const answer = token(req, ++issued);
      const body = answer.body as { access_token?: string };
      if (answer.status === 200 && body.access_token) current = body.access_token;
      return sendJson(res, answer.status, answer.body);
    }
    if (req.headers.authorization === `Bearer ${current}`) return sendJson(res, 200, { ok: true });
    sendJson(res, 401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  });
  closers.push(server.close);
  return server;
}

function api(server: { url: string }, auth: OAuth2Auth) {
  const client = new HttpClient({ baseUrl: server.url, auth, retry: { maxAttempts: 1 } });
  closers.push(() => client.close());
  return client;
}

describe('OAuth2Auth', () => {
  it('client credentials in the body; the token is cached until it nearly expires', async () => {
    let now = 1_000_000;
    const server = await authServer((_r, n) => ({
      status: 200,
      body: {
        access_token: `tok-${n}`,
        token_type: 'Bearer',
        expires_in: 3600,
        instance_url: 'https://acme.my.salesforce.com',
      },
    }));
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'client_credentials', clientId: 'cid', clientSecret: 'csecret-value' },
      scopes: ['api', 'refresh_token'],
      now: () => now,
    });
    const client = api(server, auth);
    await client.getJson('/data');
    await client.getJson('/data');
    const tokenCalls = () => server.received.filter((r) => r.url.pathname === '/oauth/token');
    expect(tokenCalls()).toHaveLength(1);
    expect(form(tokenCalls()[0]!)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'cid',
      client_secret: 'csecret-value',
      scope: 'api refresh_token',
    });
    expect(auth.tokenResponse).toMatchObject({ instance_url: 'https://acme.my.salesforce.com' });
    expect(auth.tokenResponse).not.toHaveProperty('access_token');
    now += 3600_000 - 30_000; // within the 60 s skew: renewed before use
    await client.getJson('/data');
    expect(tokenCalls()).toHaveLength(2);
  });

  it('client_secret_basic sends the id and secret form-encoded in Basic', async () => {
    const server = await authServer(() => ({ status: 200, body: { access_token: 'a', expires_in: 60 } }));
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'client_credentials', clientId: 'id:with colon', clientSecret: 's&cret', clientAuth: 'basic' },
    });
    await api(server, auth).getJson('/');
    const call = server.received[0]!;
    expect(call.headers.authorization).toBe(`Basic ${Buffer.from('id%3Awith%20colon:s%26cret').toString('base64')}`);
    expect(form(call)).toEqual({ grant_type: 'client_credentials' });
  });

  it('concurrent requests share one token request', async () => {
    const server = await authServer((_r, n) => ({ status: 200, body: { access_token: `t${n}`, expires_in: 600 } }));
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'client_credentials', clientId: 'c', clientSecret: 'sssss' },
    });
    const client = api(server, auth);
    await Promise.all(Array.from({ length: 8 }, () => client.getJson('/x')));
    expect(server.received.filter((r) => r.url.pathname === '/oauth/token')).toHaveLength(1);
  });

  it('a token without expires_in is kept until the API refuses it, then renewed once', async () => {
    const server = await authServer((_r, n) => ({ status: 200, body: { access_token: `t${n}` } }));
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'client_credentials', clientId: 'c', clientSecret: 'sssss' },
    });
    const client = api(server, auth);
    await client.getJson('/x');
    // The server forgets the token (revoked): the client gets a 401, refreshes, and succeeds.
    const other = await fetch(`${server.url}/oauth/token`, { method: 'POST', body: '' });
    await other.text();
    await client.getJson('/x');
    expect(server.received.filter((r) => r.url.pathname === '/oauth/token')).toHaveLength(3);
  });

  it('refresh token grant: a rotated refresh token is used next and handed to the connector', async () => {
    const rotated: string[] = [];
    const server = await authServer((r, n) => ({
      status: 200,
      body: { access_token: `t${n}`, refresh_token: `rt-${n}`, expires_in: 1 },
    }));
    let now = 0;
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'refresh_token', clientId: 'c', refreshToken: 'rt-0', onRotate: (t) => void rotated.push(t) },
      skewMs: 0,
      now: () => now,
    });
    const client = api(server, auth);
    await client.getJson('/x');
    now += 2000;
    await client.getJson('/x');
    const sent = server.received.filter((r) => r.url.pathname === '/oauth/token').map((r) => form(r)['refresh_token']);
    expect(sent).toEqual(['rt-0', 'rt-1']);
    expect(rotated).toEqual(['rt-1', 'rt-2']);
    expect(auth.secrets()).toEqual(expect.arrayContaining(['rt-0', 'rt-1', 'rt-2', 't1', 't2']));
  });

  it('JWT bearer grant (RFC 7523): an RS256 assertion the server verifies with the public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = await authServer((r) => {
      const { grant_type, assertion } = form(r);
      const [header, claims, signature] = assertion!.split('.');
      const valid = verify(
        'RSA-SHA256',
        Buffer.from(`${header}.${claims}`),
        publicKey,
        Buffer.from(signature!, 'base64url'),
      );
      const body = JSON.parse(Buffer.from(claims!, 'base64url').toString());
      const ok =
        grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
        valid &&
        JSON.parse(Buffer.from(header!, 'base64url').toString()).alg === 'RS256' &&
        body.iss === 'client-123' &&
        body.sub === 'etl@acme.com' &&
        body.aud === 'https://login.salesforce.com' &&
        body.exp > Date.now() / 1000;
      return ok
        ? { status: 200, body: { access_token: 'jwt-tok', instance_url: 'https://acme.my.salesforce.com' } }
        : { status: 400, body: { error: 'invalid_grant' } };
    });
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: {
        type: 'jwt_bearer',
        clientId: 'client-123',
        subject: 'etl@acme.com',
        audience: 'https://login.salesforce.com',
        privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
    });
    expect(await api(server, auth).getJson('/x')).toEqual({ ok: true });
  });

  it('a refused client is source_auth with the server error, never the secret', async () => {
    const server = await authServer(() => ({
      status: 400,
      body: { error: 'invalid_client', error_description: 'client secret topsecret-999 is wrong' },
    }));
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'client_credentials', clientId: 'c', clientSecret: 'topsecret-999' },
    });
    const error = (await api(server, auth)
      .getJson('/x')
      .catch((e: unknown) => e)) as RuntimeError;
    expect(error).toBeInstanceOf(RuntimeError);
    expect(error.code).toBe('source_auth');
    expect(error.message).toMatch(
      /oauth2 token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth\/token refused the credentials: HTTP 400 invalid_client/,
    );
    expect(error.message).not.toContain('topsecret-999');
  });

  it('a token answer without access_token is source_protocol', async () => {
    const server = await authServer(() => ({ status: 200, body: { token_type: 'bearer' } }));
    const auth = new OAuth2Auth({
      tokenUrl: `${server.url}/oauth/token`,
      grant: { type: 'client_credentials', clientId: 'c', clientSecret: 'sssss' },
    });
    const error = (await api(server, auth)
      .getJson('/x')
      .catch((e: unknown) => e)) as RuntimeError;
    expect(error.code).toBe('source_protocol');
    expect(error.message).toContain('no access_token');
  });
});
