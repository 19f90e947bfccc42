import { timingSafeEqual } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { DeployTarget, InstanceSpec } from '../deploy-target.js';

/** The body of `POST /instances`: an InstanceSpec, checked field by field. */
export const InstanceSpecBody = z.strictObject({
  deploymentId: z.string().min(1),
  connectorId: z.string().min(1),
  version: z.string().min(1),
  environment: z.enum(['dev', 'staging', 'prod']),
  packageDir: z.string().min(1),
  workingDir: z.string().min(1),
  env: z.record(z.string(), z.string()),
  port: z.number().int().min(1).max(65_535).optional(),
});

/**
 * The local target's calls as HTTP routes, for CLI commands in other processes. Every route but
 * `GET /health` needs the bearer token; variable values arrive in POST bodies and are held in memory only.
 */
export function supervisorApi(target: DeployTarget, token: string): Hono {
  const expected = Buffer.from(`Bearer ${token}`);
  const app = new Hono();
  app.onError((error, c) => c.json({ error: error.message }, 500));
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  app.get('/health', async (c) => c.json({ status: 'ok', pid: process.pid, instances: (await target.list()).length }));

  const requireToken: MiddlewareHandler = async (c, next) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return c.json({ error: 'missing or wrong bearer token' }, 401);
    c.header('cache-control', 'no-store');
    await next();
  };
  app.use('/instances', requireToken);
  app.use('/instances/*', requireToken);

  app.get('/instances', async (c) => c.json(await target.list()));
  app.post(
    '/instances',
    bodyLimit({ maxSize: 1024 * 1024, onError: (c) => c.json({ error: 'the body is over 1 MiB' }, 413) }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'the body is not JSON' }, 400);
      }
      const parsed = InstanceSpecBody.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        return c.json(
          { error: `the body is not an instance spec: ${issue.path.join('.') || '(root)'}: ${issue.message}` },
          400,
        );
      }
      const { port, ...rest } = parsed.data;
      const spec: InstanceSpec = { ...rest, ...(port !== undefined ? { port } : {}) };
      return c.json(await target.start(spec), 201);
    },
  );
  app.get('/instances/:id', async (c) => {
    const status = await target.status(c.req.param('id'));
    return status ? c.json(status) : c.json({ error: `no instance ${c.req.param('id')}` }, 404);
  });
  app.get('/instances/:id/logs', async (c) => {
    const lines = Number(c.req.query('lines') ?? '50');
    return c.json(await target.logs(c.req.param('id'), Number.isInteger(lines) && lines > 0 ? lines : 50));
  });
  app.delete('/instances/:id', async (c) => {
    await target.stop(c.req.param('id'));
    return c.body(null, 204);
  });
  return app;
}
