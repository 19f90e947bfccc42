import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RuntimeError } from '../errors.js';
import type { ConnectorMetricsRecorder } from './connector-metrics.js';
import type { Logger } from './logger.js';

/** What a connector says about its own health; `details` are added to the /health body (redacted). */
export type HealthReport =
  | { readonly ok: true; readonly details?: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly reason: string; readonly details?: Readonly<Record<string, unknown>> };

export interface HealthServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default 127.0.0.1; a container exposes it with 0.0.0.0. */
  readonly host?: string;
  readonly metrics: ConnectorMetricsRecorder;
  readonly health: () => HealthReport | Promise<HealthReport>;
  readonly ready: () => boolean | Promise<boolean>;
  /** A health or readiness check that takes longer fails. Default 5000 ms. */
  readonly checkTimeoutMs?: number;
  /** Where failures of the server itself are reported (never request contents). */
  readonly logger?: Logger;
  /**
   * Event-driven connectors: `POST /trigger` calls this to start a sync (202), or answers 409 when it
   * returns false (a sync is already queued). Without it the route does not exist.
   */
  readonly trigger?: () => boolean;
}

export interface HealthServer {
  /** `http://host:port`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Serves a connector's probes and metrics with node:http:
 * `GET /health` → 200 `{status:'ok', …details}` or 503 `{status:'failing', reason, …details}` (each
 * answer counted as a passed or failed health check), `GET /ready` → 200 `{status:'ready'}` or 503
 * `{status:'not_ready'}`, `GET /metrics` → the Prometheus exposition; HEAD answers the same without a
 * body, other methods 405, other paths 404, all errors as JSON.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const host = options.host ?? '127.0.0.1';
  const timeoutMs = options.checkTimeoutMs ?? 5000;
  const { metrics } = options;
  const redactor = metrics.redactor;

  const check = async <T>(what: string, run: () => T | Promise<T>): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(run), timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const health = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
    let report: HealthReport;
    try {
      report = await check('the health check', options.health);
      if (typeof report !== 'object' || report === null) {
        report = { ok: false, reason: 'the health check returned no report' };
      }
    } catch (error) {
      report = { ok: false, reason: metrics.errorMessage(error) };
    }
    metrics.recordHealthCheck(report.ok === true);
    const details = (report.details === undefined ? {} : redactor.value(report.details)) as Record<string, unknown>;
    if (report.ok === true) return { status: 200, body: { ...details, status: 'ok' } };
    const reason = typeof report.reason === 'string' && report.reason !== '' ? report.reason : 'unhealthy';
    return { status: 503, body: { ...details, status: 'failing', reason: metrics.errorMessage(reason) } };
  };

  const ready = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
    try {
      const isReady = await check('the readiness check', options.ready);
      return isReady === true
        ? { status: 200, body: { status: 'ready' } }
        : { status: 503, body: { status: 'not_ready' } };
    } catch (error) {
      return { status: 503, body: { status: 'not_ready', reason: metrics.errorMessage(error) } };
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://localhost').pathname;
    } catch {
      return send(res, method, 400, JSON_TYPE, json({ error: 'bad request' }));
    }
    if (path === '/trigger' && options.trigger) {
      if (method !== 'POST') {
        res.setHeader('Allow', 'POST');
        return send(res, method, 405, JSON_TYPE, json({ error: 'method not allowed' }));
      }
      // The body (the event itself) is not needed: an event only says "there is something to sync".
      req.resume();
      return options.trigger()
        ? send(res, method, 202, JSON_TYPE, json({ status: 'accepted' }))
        : send(res, method, 409, JSON_TYPE, json({ status: 'already_queued' }));
    }
    const route = ROUTES.has(path) ? path : undefined;
    if (route === undefined) return send(res, method, 404, JSON_TYPE, json({ error: 'not found' }));
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, method, 405, JSON_TYPE, json({ error: 'method not allowed' }));
    }
    if (route === '/metrics') {
      const text = await metrics.metricsText();
      return send(res, method, 200, metrics.contentType, text);
    }
    const answer = route === '/health' ? await health() : await ready();
    return send(res, method, answer.status, JSON_TYPE, json(answer.body));
  };

  const server = createServer((req, res) => {
    // Never let a request (or a failing check) take the connector down.
    handle(req, res).catch((error: unknown) => {
      options.logger?.error('health server request failed', { error });
      if (res.headersSent) res.destroy();
      else send(res, req.method ?? 'GET', 500, JSON_TYPE, json({ error: 'internal error' }));
    });
  });
  server.on('clientError', (_error, socket) => {
    // Malformed HTTP: answer 400 if the socket can still take it, then drop it.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new RuntimeError('config', `cannot serve health and metrics on ${host}:${options.port}: ${error.message}`, {
          cause: error,
        }),
      );
    };
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => options.logger?.error('health server error', { error }));

  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

const ROUTES = new Set(['/health', '/ready', '/metrics']);

function json(body: Record<string, unknown>): string {
  return JSON.stringify(body);
}

function send(res: ServerResponse, method: string, status: number, contentType: string, body: string): void {
  const bytes = Buffer.from(body, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', bytes.length);
  res.setHeader('Cache-Control', 'no-store');
  res.end(method === 'HEAD' ? undefined : bytes);
}
