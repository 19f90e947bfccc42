import { describe, expect, it } from 'vitest';
import type { DeployTarget, InstanceSpec, InstanceStatus } from '../../src/agents/deploy/deploy-target.js';
import { supervisorApi } from '../../src/agents/deploy/local/supervisor-api.js';

/** A target that records calls: the routes are tested in process, without a server (Hono's app.request). */
function recordingTarget() {
  const started: InstanceSpec[] = [];
  const stopped: string[] = [];
  const status = (spec: InstanceSpec): InstanceStatus => ({
    deploymentId: spec.deploymentId,
    connectorId: spec.connectorId,
    version: spec.version,
    instanceId: `local-${spec.deploymentId}`,
    state: 'running',
    pid: 1,
    restarts: 0,
    endpoint: 'http://127.0.0.1:1',
    healthUrl: 'http://127.0.0.1:1/health',
    metricsUrl: 'http://127.0.0.1:1/metrics',
    startedAt: '2026-12-08T00:00:00.000Z',
    lastExit: null,
    lastError: null,
  });
  const target: DeployTarget = {
    name: 'local',
    start: async (spec) => (started.push(spec), status(spec)),
    stop: async (id) => void stopped.push(id),
    status: async (id) => started.filter((s) => s.deploymentId === id).map(status)[0],
    list: async () => started.map(status),
    logs: async (_id, lines = 50) => Array.from({ length: lines }, (_, i) => `line ${i}`),
  };
  return { target, started, stopped };
}

const TOKEN = 'test-token-123';
const auth = { authorization: `Bearer ${TOKEN}` };
const spec: InstanceSpec = {
  deploymentId: 'dep_1',
  connectorId: 'connector_x_v1',
  version: '1.0.0',
  environment: 'dev',
  packageDir: '/pkg',
  workingDir: '/work',
  env: { PG_URL: 'postgres://u:p@h/db' },
  port: 8123,
};

describe('supervisor control API', () => {
  it('answers /health without a token', async () => {
    const app = supervisorApi(recordingTarget().target, TOKEN);
    const response = await app.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', instances: 0 });
  });

  it('refuses every instance route without the right token', async () => {
    const app = supervisorApi(recordingTarget().target, TOKEN);
    for (const [method, path] of [
      ['GET', '/instances'],
      ['POST', '/instances'],
      ['GET', '/instances/dep_1'],
      ['DELETE', '/instances/dep_1'],
      ['GET', '/instances/dep_1/logs'],
    ] as const) {
      expect((await app.request(path, { method })).status).toBe(401);
      expect((await app.request(path, { method, headers: { authorization: 'Bearer wrong-token-12' } })).status).toBe(
        401,
      );
    }
  });

  it('starts an instance from a valid spec, its values passed as sent', async () => {
    const { target, started } = recordingTarget();
    const app = supervisorApi(target, TOKEN);
    const response = await app.request('/instances', {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    expect(response.status).toBe(201);
    expect(started).toEqual([spec]);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('says which field of a spec is wrong', async () => {
    const app = supervisorApi(recordingTarget().target, TOKEN);
    const post = (body: string) => app.request('/instances', { method: 'POST', headers: auth, body });
    const bad = await post(JSON.stringify({ ...spec, environment: 'production' }));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/^the body is not an instance spec: environment: /);
    const env = await post(JSON.stringify({ ...spec, env: { A: 1 } }));
    expect(((await env.json()) as { error: string }).error).toMatch(/env\.A/);
    expect((await post('{not json')).status).toBe(400);
    expect((await post(JSON.stringify({ ...spec, extra: true }))).status).toBe(400);
  });

  it('refuses a body over 1 MiB', async () => {
    const app = supervisorApi(recordingTarget().target, TOKEN);
    const body = JSON.stringify({ ...spec, env: { BIG: 'x'.repeat(1024 * 1024) } });
    const response = await app.request('/instances', {
      method: 'POST',
      headers: { ...auth, 'content-length': String(body.length) },
      body,
    });
    expect(response.status).toBe(413);
  });

  it('reads status, logs, and stops', async () => {
    const { target, stopped } = recordingTarget();
    const app = supervisorApi(target, TOKEN);
    await app.request('/instances', { method: 'POST', headers: auth, body: JSON.stringify(spec) });
    expect(
      ((await (await app.request('/instances/dep_1', { headers: auth })).json()) as InstanceStatus).instanceId,
    ).toBe('local-dep_1');
    expect((await app.request('/instances/nope', { headers: auth })).status).toBe(404);
    expect(await (await app.request('/instances/dep_1/logs?lines=3', { headers: auth })).json()).toEqual([
      'line 0',
      'line 1',
      'line 2',
    ]);
    expect(await (await app.request('/instances/dep_1/logs?lines=-1', { headers: auth })).json()).toHaveLength(50);
    expect((await app.request('/instances/dep_1', { method: 'DELETE', headers: auth })).status).toBe(204);
    expect(stopped).toEqual(['dep_1']);
    expect((await app.request('/nowhere', { headers: auth })).status).toBe(404);
  });

  it('decodes a deployment id in the path', async () => {
    const { target, stopped } = recordingTarget();
    const app = supervisorApi(target, TOKEN);
    await app.request(`/instances/${encodeURIComponent('dep a/b')}`, { method: 'DELETE', headers: auth });
    expect(stopped).toEqual(['dep a/b']);
  });
});
