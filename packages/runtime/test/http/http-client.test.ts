import { gzipSync, brotliCompressSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { HttpClient, type HttpAttempt } from '../../src/http/http-client.js';
import { BearerAuth } from '../../src/auth/static-auth.js';
import type { Authenticator, OutgoingRequest } from '../../src/http/authenticator.js';
import { localServer, sendJson } from './local-server.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(handler: Parameters<typeof localServer>[0]) {
  const server = await localServer(handler);
  closers.push(server.close);
  return server;
}

function client(options: ConstructorParameters<typeof HttpClient>[0] = {}) {
  const c = new HttpClient({ retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...options });
  closers.push(() => c.close());
  return c;
}

async function failure(promise: Promise<unknown>): Promise<RuntimeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return error as RuntimeError;
  }
  throw new Error('expected a failure');
}

describe('HttpClient', () => {
  it('keeps connections alive across requests (one socket for sequential requests)', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, { ok: true }));
    const c = client({ baseUrl: server.url });
    for (let i = 0; i < 20; i++) expect(await c.getJson('/x', { i })).toEqual({ ok: true });
    expect(server.received.map((r) => Number(r.url.searchParams.get('i')))).toEqual([...Array(20).keys()]);
    // The second request may leave before undici has put the first socket back; after that, one is reused.
    expect(new Set(server.received.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
  });

  it('retries 503 and 429 and obeys Retry-After in seconds', async () => {
    let calls = 0;
    const server = await serve((_req, res) => {
      calls++;
      if (calls === 1) return sendJson(res, 503, { message: 'down' });
      if (calls === 2) return sendJson(res, 429, { message: 'slow down' }, { 'retry-after': '1' });
      sendJson(res, 200, { done: true });
    });
    const attempts: HttpAttempt[] = [];
    const c = client({ baseUrl: server.url, observe: (a) => attempts.push(a) });
    expect(await c.getJson('/items')).toEqual({ done: true });
    expect(attempts.map((a) => a.status)).toEqual([503, 429, 200]);
    expect(attempts[1]!.waitMs).toBe(1000);
    const gap = server.received[2]!.at - server.received[1]!.at;
    expect(gap).toBeGreaterThanOrEqual(950);
  });

  it('obeys Retry-After as an HTTP date', async () => {
    let calls = 0;
    const server = await serve((_req, res) => {
      calls++;
      if (calls === 1) return sendJson(res, 503, {}, { 'retry-after': new Date(Date.now() + 1500).toUTCString() });
      sendJson(res, 200, []);
    });
    const attempts: HttpAttempt[] = [];
    await client({ baseUrl: server.url, observe: (a) => attempts.push(a) }).getJson('/');
    // An HTTP date has whole seconds: the wait is between 0.5 and 1.5 s.
    expect(attempts[0]!.waitMs).toBeGreaterThan(400);
    expect(attempts[0]!.waitMs).toBeLessThanOrEqual(1500);
  });

  it('fails at once, with the wait named, when Retry-After is longer than a request waits', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 429, { message: 'quota' }, { 'retry-after': String(7 * 86400) }),
    );
    const error = await failure(client({ baseUrl: server.url }).getJson('/things'));
    expect(error.code).toBe('source_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.data).toMatchObject({ httpStatus: 429, retryAfterMs: 7 * 86400 * 1000 });
    expect(error.message).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/things: HTTP 429 .*asked to wait 7 d/);
    expect(server.received).toHaveLength(1);
  });

  it('gives up after maxAttempts with the last status', async () => {
    const server = await serve((_req, res) => sendJson(res, 502, { error: 'bad gateway' }));
    const error = await failure(
      client({ baseUrl: server.url, retry: { maxAttempts: 3, baseDelayMs: 1 } }).getJson('/'),
    );
    expect(server.received).toHaveLength(3);
    expect(error.code).toBe('source_unavailable');
    expect(error.message).toContain('after 3 attempts');
  });

  it('maps 401, 403 and 404 to source codes without retrying', async () => {
    const server = await serve((req, res) => sendJson(res, Number(req.url.pathname.slice(1)), { message: 'no' }));
    const c = client({ baseUrl: server.url });
    expect((await failure(c.getJson('/401'))).code).toBe('source_auth');
    expect((await failure(c.getJson('/403'))).code).toBe('source_permission');
    const notFound = await failure(c.getJson('/404'));
    expect(notFound.code).toBe('source_protocol');
    expect(notFound.data.httpStatus).toBe(404);
    expect(server.received).toHaveLength(3);
  });

  it('lets a caller accept a status itself', async () => {
    const server = await serve((_req, res) => sendJson(res, 404, { gone: true }));
    const response = await client({ baseUrl: server.url }).send({ url: '/x', accept: [404] });
    expect(response.status).toBe(404);
    expect(response.json()).toEqual({ gone: true });
  });

  it('refreshes credentials once on a 401 and retries', async () => {
    let token = 'old-token-1';
    let refreshes = 0;
    const auth: Authenticator = {
      method: 'oauth2',
      async authorize(request: OutgoingRequest) {
        request.headers['authorization'] = `Bearer ${token}`;
      },
      async refresh() {
        refreshes++;
        token = 'new-token-2';
        return true;
      },
      secrets: () => [token],
    };
    const server = await serve((req, res) =>
      req.headers.authorization === 'Bearer new-token-2'
        ? sendJson(res, 200, { ok: 1 })
        : sendJson(res, 401, [{ errorCode: 'INVALID_SESSION_ID' }]),
    );
    expect(await client({ baseUrl: server.url, auth }).getJson('/')).toEqual({ ok: 1 });
    expect(refreshes).toBe(1);
    // A second 401 after the refresh is final.
    token = 'revoked';
    auth.refresh = async () => {
      refreshes++;
      return true;
    };
    const error = await failure(client({ baseUrl: server.url, auth }).getJson('/'));
    expect(error.code).toBe('source_auth');
    expect(refreshes).toBe(2);
  });

  it('never puts the query string or a held secret in an error message', async () => {
    const secret = 'sk_live_abcdefghijklmnop';
    const server = await serve((_req, res) => sendJson(res, 400, { message: `bad key ${secret}` }));
    const error = await failure(
      client({ baseUrl: server.url, auth: new BearerAuth(secret) }).send({
        url: '/charges',
        query: { api_key: 'q-secret-123' },
      }),
    );
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('q-secret-123');
    expect(error.message).toContain('bad key ***');
    expect(server.received[0]!.headers.authorization).toBe(`Bearer ${secret}`);
  });

  it('hides a credential it does not hold when an error body echoes one', async () => {
    const server = await serve((_req, res) =>
      sendJson(res, 400, {
        message: 'cannot reach postgres://app:db-pass-77@db/shop',
        client_secret: 'cs-secret-88',
        token: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      }),
    );
    const error = await failure(client({ baseUrl: server.url }).getJson('/'));
    expect(error.message).toContain('postgres://app:***@db/shop');
    for (const secret of ['db-pass-77', 'cs-secret-88', 'ghp_abcdef']) expect(error.message).not.toContain(secret);
  });

  it('decodes gzip and br bodies', async () => {
    const server = await serve((req, res) => {
      const body = JSON.stringify({ encoding: req.url.pathname.slice(1) });
      const encoding = req.url.pathname.slice(1);
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': encoding });
      res.end(encoding === 'gzip' ? gzipSync(body) : brotliCompressSync(body));
    });
    const c = client({ baseUrl: server.url });
    expect(await c.getJson('/gzip')).toEqual({ encoding: 'gzip' });
    expect(await c.getJson('/br')).toEqual({ encoding: 'br' });
    expect(server.received[0]!.headers['accept-encoding']).toContain('gzip');
  });

  it('says an HTML page is not JSON', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Maintenance</body></html>');
    });
    const error = await failure(client({ baseUrl: server.url }).getJson('/api/items'));
    expect(error.code).toBe('source_protocol');
    expect(error.message).toMatch(/\/api\/items: expected JSON, got an HTML page \(HTTP 200\)/);
  });

  it('says a truncated JSON page is not JSON', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data":[{"id":1},{"id"');
    });
    const error = await failure(client({ baseUrl: server.url }).getJson('/p'));
    expect(error.code).toBe('source_protocol');
    expect(error.message).toContain('expected JSON');
  });

  it('retries a refused connection, then fails with source_unavailable', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, {}));
    const url = server.url;
    await server.close();
    closers.pop();
    const attempts: HttpAttempt[] = [];
    const error = await failure(
      client({ baseUrl: url, retry: { maxAttempts: 2, baseDelayMs: 1 }, observe: (a) => attempts.push(a) }).getJson(
        '/',
      ),
    );
    expect(error.code).toBe('source_unavailable');
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(attempts).toHaveLength(2);
  });

  it('stops waiting when aborted', async () => {
    const server = await serve((_req, res) => sendJson(res, 503, {}, { 'retry-after': '30' }));
    const controller = new AbortController();
    const pending = client({ baseUrl: server.url }).send({ url: '/', signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('fails a body over the size limit', async () => {
    const server = await serve((_req, res) => sendJson(res, 200, { data: 'x'.repeat(10_000) }));
    const error = await failure(client({ baseUrl: server.url, maxBodyBytes: 1000 }).getJson('/big'));
    expect(error.code).toBe('source_protocol');
    expect(error.message).toContain('passed 1000 bytes');
  });
});
