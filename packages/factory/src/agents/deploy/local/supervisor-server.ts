import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceSpec } from '../deploy-target.js';
import type { LocalSupervisor } from './local-supervisor.js';

/** `<home>/supervisor.json`: how a CLI finds the running supervisor (mode 0600: it holds the token). */
export interface SupervisorInfo {
  readonly pid: number;
  readonly url: string;
  readonly token: string;
  readonly startedAt: string;
}

export const supervisorInfoPath = (home: string): string => join(home, 'supervisor.json');

export interface SupervisorServer {
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

async function readJson(request: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

function isSpec(value: unknown): value is InstanceSpec {
  const v = value as Record<string, unknown> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    ['deploymentId', 'connectorId', 'version', 'environment', 'packageDir', 'workingDir'].every(
      (key) => typeof v[key] === 'string',
    ) &&
    typeof v.env === 'object' &&
    v.env !== null &&
    Object.values(v.env).every((x) => typeof x === 'string')
  );
}

/**
 * The control API of `connector-factory serve` on 127.0.0.1: the local target's calls over HTTP, for
 * CLI commands in other processes. Every route but `GET /health` needs the bearer token written to
 * `<home>/supervisor.json`; variable values arrive in POST bodies and are held only in memory.
 */
export async function startSupervisorServer(
  supervisor: LocalSupervisor,
  options: { readonly home: string; readonly port?: number },
): Promise<SupervisorServer> {
  const token = randomBytes(24).toString('base64url');
  const expected = Buffer.from(`Bearer ${token}`);
  const authorized = (request: IncomingMessage) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const send = (response: ServerResponse, status: number, body?: unknown) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  };
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://supervisor');
    const parts = url.pathname.split('/').filter(Boolean);
    if (request.method === 'GET' && url.pathname === '/health') {
      return send(response, 200, { status: 'ok', pid: process.pid, instances: (await supervisor.list()).length });
    }
    if (!authorized(request)) return send(response, 401, { error: 'missing or wrong bearer token' });
    if (parts[0] !== 'instances') return send(response, 404, { error: `no route ${url.pathname}` });
    const id = parts[1] !== undefined ? decodeURIComponent(parts[1]) : undefined;
    if (id === undefined) {
      if (request.method === 'GET') return send(response, 200, await supervisor.list());
      if (request.method === 'POST') {
        const spec = await readJson(request).catch(() => undefined);
        if (!isSpec(spec)) return send(response, 400, { error: 'the body is not an instance spec' });
        return send(response, 201, await supervisor.start(spec));
      }
      return send(response, 405, { error: `${request.method} is not allowed here` });
    }
    if (parts[2] === 'logs' && request.method === 'GET') {
      const lines = Number(url.searchParams.get('lines') ?? '50');
      return send(response, 200, await supervisor.logs(id, Number.isInteger(lines) && lines > 0 ? lines : 50));
    }
    if (parts.length !== 2) return send(response, 404, { error: `no route ${url.pathname}` });
    if (request.method === 'GET') {
      const status = await supervisor.status(id);
      return status ? send(response, 200, status) : send(response, 404, { error: `no instance ${id}` });
    }
    if (request.method === 'DELETE') {
      await supervisor.stop(id);
      return send(response, 204);
    }
    return send(response, 405, { error: `${request.method} is not allowed here` });
  };
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { error: (error as Error).message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const infoPath = supervisorInfoPath(options.home);
  await mkdir(options.home, { recursive: true });
  const info: SupervisorInfo = { pid: process.pid, url, token, startedAt: new Date().toISOString() };
  await writeFile(infoPath, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return {
    url,
    async close() {
      await rm(infoPath, { force: true });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
