import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { ConnectorMetricsRecorder, parseConnectorMetrics } from '../../src/observe/connector-metrics.js';
import { startHealthServer, type HealthReport, type HealthServer } from '../../src/observe/health-server.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(
  health: () => HealthReport | Promise<HealthReport>,
  ready: () => boolean | Promise<boolean> = () => true,
  secrets: readonly string[] = [],
) {
  const metrics = new ConnectorMetricsRecorder({ connectorId: 'connector_pg_orders_v1', version: '1.0.0', secrets });
  const server = await startHealthServer({ port: 0, metrics, health, ready, checkTimeoutMs: 300 });
  servers.push(server);
  return { metrics, server };
}

/** Sends raw bytes and returns whatever the server answers before it closes the socket. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('startHealthServer', () => {
  it('serves /health, /ready and /metrics over HTTP on an ephemeral port', async () => {
    const { metrics, server } = await start(() => ({ ok: true, details: { lastBatch: 41, source: 'postgres' } }));
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await health.json()).toEqual({ status: 'ok', lastBatch: 41, source: 'postgres' });

    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });

    metrics.recordBatch({ records: 7, bytes: 70, durationMs: 5 });
    const scrape = await fetch(`${server.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await scrape.text();
    expect(text).toContain('# TYPE connector_records_total counter');
    const parsed = parseConnectorMetrics(text);
    expect(parsed).toMatchObject({
      recordsProcessed: 7,
      bytesProcessed: 70,
      healthChecksPassed: 1,
      healthChecksFailed: 0,
    });
    expect(parsed).toEqual(metrics.snapshot());
  });

  it('answers 503 for failing health, counts it, and redacts the reason', async () => {
    let healthy = false;
    const { metrics, server } = await start(
      () => (healthy ? { ok: true } : { ok: false, reason: 'cannot reach postgres://app:pw-123456@db/orders' }),
      () => healthy,
    );
    const failing = await fetch(`${server.url}/health`);
    expect(failing.status).toBe(503);
    expect(await failing.json()).toEqual({ status: 'failing', reason: 'cannot reach postgres://app:***@db/orders' });
    const notReady = await fetch(`${server.url}/ready`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not_ready' });

    healthy = true;
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
    expect(metrics.snapshot()).toMatchObject({ healthChecksPassed: 1, healthChecksFailed: 1, uptimePercent: 50 });
    const scraped = parseConnectorMetrics(await (await fetch(`${server.url}/metrics`)).text());
    expect(scraped).toMatchObject({ healthChecksPassed: 1, healthChecksFailed: 1, uptimePercent: 50 });
  });

  it('turns a throwing, hanging or malformed check into a failing answer, never a crash', async () => {
    let mode: 'throw' | 'hang' | 'garbage' = 'throw';
    const { metrics, server } = await start(
      () => {
        if (mode === 'throw') throw new RuntimeError('store', 'bucket gone, token=abc123456');
        if (mode === 'hang') return new Promise<HealthReport>(() => {});
        return undefined as unknown as HealthReport;
      },
      () => Promise.reject(new Error('not yet')),
    );
    const thrown = await fetch(`${server.url}/health`);
    expect(thrown.status).toBe(503);
    expect(await thrown.json()).toEqual({ status: 'failing', reason: 'bucket gone, token=***' });
    mode = 'hang';
    const hung = await fetch(`${server.url}/health`);
    expect(hung.status).toBe(503);
    expect(((await hung.json()) as { reason: string }).reason).toMatch(/did not answer within 300 ms/);
    mode = 'garbage';
    expect((await fetch(`${server.url}/health`)).status).toBe(503);
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'not yet' });
    expect(metrics.snapshot().healthChecksFailed).toBe(3);
  });

  it('answers 404 and 405 as JSON, supports HEAD, and survives malformed requests', async () => {
    const { metrics, server } = await start(() => ({ ok: true }));
    const missing = await fetch(`${server.url}/nope?x=1`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await missing.json()).toEqual({ error: 'not found' });

    const post = await fetch(`${server.url}/health`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toEqual({ error: 'method not allowed' });

    for (const path of ['/health', '/ready', '/metrics']) {
      const head = await fetch(`${server.url}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(200);
      expect(Number(head.headers.get('content-length')), path).toBeGreaterThan(0);
      expect(await head.text(), path).toBe('');
    }
    expect(metrics.snapshot().healthChecksPassed).toBe(1); // HEAD /health is a check too

    expect(await raw(server.port, 'GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await raw(server.port, 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n')).toMatch(
      /^HTTP\/1\.1 400/,
    );
    const odd = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path: '//%%zz/../health', method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect([400, 404]).toContain(odd);
    // Still serving.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('rejects a port in use with a config error, and closes idempotently', async () => {
    const { server, metrics } = await start(() => ({ ok: true }));
    await expect(
      startHealthServer({ port: server.port, metrics, health: () => ({ ok: true }), ready: () => true }),
    ).rejects.toThrow(RuntimeError);
    const keepAlive = await fetch(`${server.url}/ready`);
    await keepAlive.text();
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/ready`)).rejects.toThrow();
  });
});

describe('POST /trigger (event-driven connectors)', () => {
  it('exists only with a trigger, accepts POST, and says when a sync is already queued', async () => {
    const metrics = new ConnectorMetricsRecorder({ connectorId: 'connector_t_x_v1', version: '1.0.0' });
    let queued = false;
    const withTrigger = await startHealthServer({
      port: 0,
      metrics,
      health: () => ({ ok: true }),
      ready: () => true,
      trigger: () => (queued ? false : (queued = true)),
    });
    const without = await startHealthServer({ port: 0, metrics, health: () => ({ ok: true }), ready: () => true });
    try {
      expect((await fetch(`${withTrigger.url}/trigger`, { method: 'POST', body: '{}' })).status).toBe(202);
      expect((await fetch(`${withTrigger.url}/trigger`, { method: 'POST', body: '{}' })).status).toBe(409);
      expect((await fetch(`${withTrigger.url}/trigger`)).status).toBe(405);
      expect((await fetch(`${without.url}/trigger`, { method: 'POST' })).status).toBe(404);
    } finally {
      await withTrigger.close();
      await without.close();
    }
  });
});
