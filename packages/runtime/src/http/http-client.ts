import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { RuntimeError, type RuntimeErrorCode } from '../errors.js';
import type { Authenticator, OutgoingRequest } from './authenticator.js';
import type { TokenBucket } from './rate-limiter.js';
import { DEFAULT_RETRY_POLICY, backoffDelay, formatWait, requestedWait, type RetryPolicy } from './retry-policy.js';
import { redactSecrets } from '@connector-factory/ir';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
  readonly method?: HttpMethod;
  /** An absolute URL, or a path resolved against the client's baseUrl. */
  readonly url: string;
  /** Added to the URL's query (undefined values are left out). */
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly signal?: AbortSignal;
  /** Non-2xx statuses the caller handles itself instead of getting an error (e.g. 404 for "deleted"). */
  readonly accept?: readonly number[];
}

export interface HttpResponse {
  readonly status: number;
  /** The URL that answered (after resolution against baseUrl). */
  readonly url: URL;
  /** Header names in lower case; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, decoded from gzip, deflate or br. */
  readonly body: Buffer;
  text(): string;
  /** The body as JSON; a body that is not JSON (an HTML error page, a cut-off page) is a source_protocol error. */
  json(): unknown;
}

/** One attempt's outcome, for logs and metrics. */
export interface HttpAttempt {
  readonly method: string;
  /** Origin and path, never the query (it may hold a key or a cursor). */
  readonly target: string;
  readonly attempt: number;
  readonly status?: number;
  readonly error?: string;
  /** Set when the client waits before the next attempt (undefined: it gives up). */
  readonly waitMs?: number | undefined;
  readonly durationMs: number;
}

export interface ProxySettings {
  readonly httpProxy?: string;
  readonly httpsProxy?: string;
  readonly noProxy?: string;
}

export interface HttpClientOptions {
  readonly baseUrl?: string;
  readonly auth?: Authenticator;
  readonly rateLimiter?: TokenBucket;
  readonly retry?: Partial<RetryPolicy>;
  /** Time to the response headers, and between body chunks (default 60 s each). */
  readonly timeoutMs?: number;
  /** A larger body fails the request (default 256 MiB). */
  readonly maxBodyBytes?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Proxies, resolved from the environment at start-up (HTTP_PROXY, HTTPS_PROXY, NO_PROXY). */
  readonly proxy?: ProxySettings;
  /** Connections kept open per origin (default 8). */
  readonly connections?: number;
  readonly dispatcher?: Dispatcher;
  readonly observe?: (attempt: HttpAttempt) => void;
  /** For tests: the clock and the jitter. */
  readonly now?: () => number;
  readonly random?: () => number;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const DECODERS: Readonly<Record<string, (data: Buffer) => Promise<Buffer>>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/**
 * The HTTP client every HTTP-based source kind uses: pooled keep-alive connections (undici), the
 * connector's rate limit, credentials from its authenticator (refreshed once on a 401), and retries with
 * exponential backoff that obey Retry-After. Failures are RuntimeErrors with a source code and the HTTP
 * status; their messages never carry a query string or a secret the authenticator holds.
 */
export class HttpClient {
  /** Made on the first request: undici loads only in connectors that speak HTTP. */
  private dispatcher: Promise<Dispatcher> | undefined;
  private readonly policy: RetryPolicy;
  private readonly now: () => number;

  constructor(private readonly options: HttpClientOptions = {}) {
    if (options.dispatcher) this.dispatcher = Promise.resolve(options.dispatcher);
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.now = options.now ?? Date.now;
  }

  /** Sends a request, retrying what may succeed later; resolves with a 2xx (or an accepted) response. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const method = request.method ?? 'GET';
    const url = this.resolve(request);
    const target = `${url.origin}${url.pathname}`;
    let waited = 0;
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      await this.options.rateLimiter?.take(request.signal);
      const started = this.now();
      const outgoing: OutgoingRequest = {
        method,
        url: new URL(url),
        headers: {
          'accept-encoding': 'gzip, deflate, br',
          ...lowerCaseKeys(this.options.headers),
          ...lowerCaseKeys(request.headers),
        },
        body: request.body,
      };
      let response: HttpResponse;
      try {
        await this.options.auth?.authorize(outgoing, request.signal);
        response = await this.exchange(outgoing, request.signal);
      } catch (error) {
        if (request.signal?.aborted || error instanceof RuntimeError) throw error;
        const reason = networkReason(error);
        const wait = this.nextWait(attempt, waited, undefined);
        this.observe({ method, target, attempt, error: reason, waitMs: wait, started });
        if (wait === undefined)
          throw new RuntimeError('source_unavailable', `${method} ${target}: ${reason} (${attempt} attempts)`, {
            cause: error,
          });
        waited += wait;
        await delay(wait, undefined, request.signal ? { signal: request.signal } : {});
        continue;
      }
      const { status } = response;
      if ((status >= 200 && status < 300) || request.accept?.includes(status)) {
        this.observe({ method, target, attempt, status, started });
        return response;
      }
      if (status === 401 && !refreshed && this.options.auth?.refresh) {
        this.observe({ method, target, attempt, status, waitMs: 0, started });
        refreshed = await this.options.auth.refresh(request.signal);
        if (refreshed) continue;
      }
      if (!RETRYABLE_STATUS.has(status)) {
        this.observe({ method, target, attempt, status, started });
        throw this.failure(method, target, response, attempt);
      }
      const asked = requestedWait(response.headers, this.now());
      if (asked !== undefined && status === 429) this.options.rateLimiter?.pause(asked);
      const wait = this.nextWait(attempt, waited, asked);
      this.observe({ method, target, attempt, status, waitMs: wait, started });
      if (wait === undefined) throw this.failure(method, target, response, attempt, asked);
      waited += wait;
      await delay(wait, undefined, request.signal ? { signal: request.signal } : {});
    }
  }

  /** GETs a URL and parses its body as JSON. */
  async getJson(url: string, query?: Readonly<Record<string, QueryValue>>, signal?: AbortSignal): Promise<unknown> {
    return (await this.send({ url, ...(query ? { query } : {}), ...(signal ? { signal } : {}) })).json();
  }

  async close(): Promise<void> {
    if (this.dispatcher && !this.options.dispatcher) await (await this.dispatcher).close();
  }

  /**
   * Masks every secret the authenticator holds (a token echoed in an error body, say), then whatever else
   * looks like a credential, by the IR's redactor.
   */
  redact(text: string): string {
    let out = text;
    for (const secret of this.options.auth?.secrets() ?? [])
      if (secret.length >= 4) out = out.split(secret).join('***');
    return redactSecrets(out);
  }

  private resolve(request: HttpRequest): URL {
    let url: URL;
    try {
      url = new URL(request.url, this.options.baseUrl);
    } catch {
      throw new RuntimeError('config', `not a URL: ${JSON.stringify(request.url.slice(0, 200))}`);
    }
    for (const [name, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    return url;
  }

  private async exchange(outgoing: OutgoingRequest, signal: AbortSignal | undefined): Promise<HttpResponse> {
    this.dispatcher ??= openDispatcher(this.options);
    const { statusCode, headers, body } = await (
      await this.dispatcher
    ).request({
      origin: outgoing.url.origin,
      path: `${outgoing.url.pathname}${outgoing.url.search}`,
      method: outgoing.method as Dispatcher.HttpMethod,
      headers: outgoing.headers,
      body: outgoing.body ?? null,
      signal: signal ?? null,
    });
    const limit = this.options.maxBodyBytes ?? 256 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        body.destroy();
        throw new RuntimeError(
          'source_protocol',
          `${outgoing.method} ${outgoing.url.origin}${outgoing.url.pathname}: the response body passed ${limit} bytes`,
        );
      }
      chunks.push(chunk as Buffer);
    }
    const flat = flattenHeaders(headers);
    const raw = Buffer.concat(chunks, size);
    const encoding = flat['content-encoding']?.trim().toLowerCase();
    const decoder = encoding && encoding !== 'identity' ? DECODERS[encoding] : undefined;
    if (encoding && encoding !== 'identity' && !decoder)
      throw new RuntimeError(
        'source_protocol',
        `${outgoing.url.origin}${outgoing.url.pathname}: unknown content-encoding ${encoding}`,
      );
    let decoded: Buffer;
    try {
      decoded = decoder ? await decoder(raw) : raw;
    } catch (error) {
      throw new RuntimeError(
        'source_protocol',
        `${outgoing.method} ${outgoing.url.origin}${outgoing.url.pathname}: a ${encoding} body that does not decode (cut off?)`,
        { cause: error },
      );
    }
    return makeResponse(statusCode, outgoing.url, flat, decoded, outgoing.method);
  }

  /** The wait before the next attempt, or undefined when there is none to make. */
  private nextWait(attempt: number, waited: number, asked: number | undefined): number | undefined {
    if (attempt >= this.policy.maxAttempts) return undefined;
    const wait = asked ?? backoffDelay(attempt, this.policy, this.options.random);
    return waited + wait > this.policy.maxTotalWaitMs ? undefined : wait;
  }

  private failure(
    method: string,
    target: string,
    response: HttpResponse,
    attempts: number,
    asked?: number,
  ): RuntimeError {
    const { status } = response;
    const code: RuntimeErrorCode =
      status === 401
        ? 'source_auth'
        : status === 403
          ? 'source_permission'
          : RETRYABLE_STATUS.has(status)
            ? 'source_unavailable'
            : 'source_protocol';
    const detail = this.redact(bodyExcerpt(response));
    const waitNote =
      asked !== undefined && asked > this.policy.maxTotalWaitMs
        ? `; the server asked to wait ${formatWait(asked)}, more than the ${formatWait(this.policy.maxTotalWaitMs)} a request waits`
        : attempts > 1
          ? ` after ${attempts} attempts`
          : '';
    return new RuntimeError(code, `${method} ${target}: HTTP ${status}${detail ? ` ${detail}` : ''}${waitNote}`, {
      data: { httpStatus: status, ...(asked !== undefined ? { retryAfterMs: asked } : {}) },
    });
  }

  private observe(event: Omit<HttpAttempt, 'durationMs'> & { started: number }): void {
    if (!this.options.observe) return;
    const { started, ...rest } = event;
    this.options.observe({
      ...rest,
      ...(rest.error ? { error: this.redact(rest.error) } : {}),
      durationMs: this.now() - started,
    });
  }
}

function makeResponse(
  status: number,
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  method: string,
): HttpResponse {
  return {
    status,
    url,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: () => {
      try {
        return JSON.parse(body.toString('utf8'));
      } catch {
        const type = headers['content-type'] ?? 'no content-type';
        const what =
          body.length === 0 ? 'an empty body' : /html/i.test(type) ? 'an HTML page' : `${type}, ${body.length} bytes`;
        throw new RuntimeError(
          'source_protocol',
          `${method} ${url.origin}${url.pathname}: expected JSON, got ${what} (HTTP ${status})`,
          { data: { httpStatus: status } },
        );
      }
    },
  };
}

/** The start of an error body, for the message: a JSON API's message, or the first line of text. */
function bodyExcerpt(response: HttpResponse): string {
  const text = response.body.subarray(0, 2048).toString('utf8').trim();
  if (!text || /html/i.test(response.headers['content-type'] ?? '')) return '';
  const line = text.replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function networkReason(error: unknown): string {
  const err = error as { code?: unknown; cause?: { code?: unknown; message?: unknown }; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : typeof err.cause?.code === 'string' ? err.cause.code : '';
  const message = typeof err.message === 'string' ? err.message : String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

function lowerCaseKeys(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

/** A pooled keep-alive agent (through the proxies when there are any). */
async function openDispatcher(options: HttpClientOptions): Promise<Dispatcher> {
  const { Agent, EnvHttpProxyAgent } = await import('undici');
  const timeout = options.timeoutMs ?? 60_000;
  const agentOptions = {
    connections: options.connections ?? 8,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  };
  const proxy = options.proxy;
  return proxy?.httpProxy || proxy?.httpsProxy
    ? new EnvHttpProxyAgent({ ...agentOptions, ...definedProxy(proxy) })
    : new Agent(agentOptions);
}

function definedProxy(proxy: ProxySettings): { httpProxy?: string; httpsProxy?: string; noProxy?: string } {
  return {
    ...(proxy.httpProxy ? { httpProxy: proxy.httpProxy } : {}),
    ...(proxy.httpsProxy ? { httpsProxy: proxy.httpsProxy } : {}),
    ...(proxy.noProxy ? { noProxy: proxy.noProxy } : {}),
  };
}
