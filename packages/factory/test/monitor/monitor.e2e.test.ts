/**
 * The Monitor agent and the certification workflow against a real connector on the real PostgreSQL:
 * a sentence to CERTIFIED with a short window; an SLO breach (the source refuses the connector's login)
 * → one alert per condition on a real webhook receiver, FAILED, a pause when critical, and back to
 * PENDING after the fix; a new column → non-breaking drift and a proposed version; a dropped column →
 * breaking drift and the connector paused. PG_URL must be set (scripts/services.sh).
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFactoryContext } from '../support/factory-context.js';
import { requirePgUrl, sql, until } from '../support/live-postgres.js';
import { validateManifest } from '@connector-factory/ir';
import { resolveActor, type Actor } from '../../src/cars/actor.js';
import { CertificationWorkflow } from '../../src/agents/certification/certification.js';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import type { LocalSupervisor } from '../../src/agents/deploy/local/local-supervisor.js';
import { resumeDeployment } from '../../src/agents/deploy/resume.js';
import type { AlertEvent } from '../../src/agents/monitor/alert-sinks.js';
import { lineSink, webhookSink } from '../../src/agents/monitor/alert-sinks.js';
import { Monitor, type MonitorOptions } from '../../src/agents/monitor/monitor.js';
import { createConnector, type CreateSummary } from '../../src/orchestrator/create-connector.js';
import { loadProviderRegistry } from '../../src/registry/provider-registry.js';
import type { StateStore } from '../../src/store/state-store.js';

const url = requirePgUrl();
const ROLE = 'cf_monitor_test';
const TABLE = 'mon_orders';

describe('monitor and certification', () => {
  let work: string;
  let store: StateStore;
  let supervisor: LocalSupervisor;
  let context: DeployContext;
  let factory: Awaited<ReturnType<typeof openFactoryContext>>;
  let alice: Actor;
  let created: CreateSummary;
  let receiver: Server;
  let webhook: string;
  const events: AlertEvent[] = [];
  const lines: string[] = [];
  const env: NodeJS.ProcessEnv = { ...process.env };

  const monitor = (overrides: Partial<MonitorOptions> = {}) =>
    new Monitor({
      store,
      target: supervisor,
      audit: context.audit,
      riskOf: (action) => context.cars.riskOf(action),
      home: work,
      sinks: [lineSink((line) => lines.push(line)), webhookSink(webhook)],
      env,
      sloWindowMs: 4000,
      driftEveryMs: 0,
      startupGraceMs: 1000,
      ...overrides,
    });
  const certification = () =>
    new CertificationWorkflow({ store, audit: context.audit, riskOf: (a) => context.cars.riskOf(a) });
  const stateOf = async () => (await store.certifications.get(created.deploymentId))!.state;
  const firing = (key: string) => events.filter((e) => e.event === 'firing' && e.alert.key === key);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cf-monitor-'));
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        events.push(JSON.parse(body) as AlertEvent);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    webhook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/alerts`;
    await sql(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql(
      `DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN EXECUTE 'DROP OWNED BY ${ROLE}'; EXECUTE 'DROP ROLE ${ROLE}'; END IF; END $$`,
    );
    await sql(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'monitor_pw'`);
    await sql(
      `CREATE TABLE ${TABLE} (id int PRIMARY KEY, total numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await sql(`INSERT INTO ${TABLE} SELECT g, g FROM generate_series(1, 100) g`);
    await sql(`GRANT SELECT ON ${TABLE} TO ${ROLE}`);
    const target = new URL(url);
    target.username = ROLE;
    target.password = 'monitor_pw';
    env.MONITOR_PG_URL = target.toString();
    factory = await openFactoryContext(work, {
      policy: 'roles:\n  ops: operator\n  alice: admin\ndefaultRole: viewer\n',
      restart: { initialMs: 200, maxMs: 1000, resetAfterMs: 60_000 },
    });
    ({ store, supervisor, context } = factory);
    alice = resolveActor({ flag: 'alice', policy: factory.policy });
  }, 120_000);

  afterAll(async () => {
    await factory?.close();
    await new Promise((resolve) => receiver?.close(resolve));
    await sql(`DROP TABLE IF EXISTS ${TABLE}`).catch(() => undefined);
    await sql(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it('fails certification on an SLO breach, alerts once per condition, pauses when critical, and goes back to PENDING after a fix', async () => {
    created = await createConnector(
      {
        description: `Copy ${TABLE} table from Postgres every 2 seconds`,
        connection: '${MONITOR_PG_URL}',
        lake: join(work, 'lake') + '/',
        environment: 'dev',
        outDir: join(work, 'connectors'),
        registry: await loadProviderRegistry(),
        env,
        workingDir: work,
        certifyAfterMs: 8000,
      },
      context,
    );
    expect(await stateOf()).toBe('PENDING');
    const watch = monitor({ pauseOnCritical: false });
    await until('MONITORING', async () => (await watch.tick(), (await stateOf()) === 'MONITORING'));

    // The source stops accepting the connector's login.
    await sql(`ALTER ROLE ${ROLE} NOLOGIN`);
    await sql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${ROLE}'`);
    await until('the alerts', async () => {
      await watch.tick();
      return firing('slo:availability').length > 0 && firing('auth').length > 0;
    });
    for (let i = 0; i < 4; i++) await watch.tick();
    // The conditions held over several more looks: still one firing event each.
    expect(firing('slo:availability')).toHaveLength(1);
    expect(firing('auth')).toHaveLength(1);
    expect(firing('auth')[0]!.alert.message).toMatch(/refused the connector's credentials .*refresh MONITOR_PG_URL/);
    expect(JSON.stringify(events)).not.toContain('monitor_pw');
    expect(await stateOf()).toBe('FAILED');
    expect((await store.certifications.get(created.deploymentId))!.reason).toMatch(/^SLO breach: availability/);
    expect(lines.some((line) => line.startsWith(`ALERT CRITICAL ${created.connectorId} slo:availability`))).toBe(true);

    // Critical: a monitor that pauses (the default) pauses it.
    const reports = await monitor().tick();
    expect(reports.find((r) => r.deploymentId === created.deploymentId)?.paused).toBe(true);
    expect((await store.deployments.get(created.deploymentId))!.status).toBe('paused');
    expect(await supervisor.status(created.deploymentId)).toBeUndefined();

    // The fix: the login works again; resume, and the alerts resolve once the window is clean.
    await sql(`ALTER ROLE ${ROLE} LOGIN`);
    await resumeDeployment(created.connectorId, context, { env });
    await until('resolved alerts', async () => {
      await watch.tick();
      return (
        events.some((e) => e.event === 'resolved' && e.alert.key === 'slo:availability') &&
        events.some((e) => e.event === 'resolved' && e.alert.key === 'auth')
      );
    });
    expect(await store.alerts.list({ deploymentId: created.deploymentId, state: 'firing' })).toEqual([]);
    expect((await certification().retry(created.deploymentId, context.actor)).state).toBe('PENDING');
  });

  it('certifies after a clean window: REVIEW, then an admin to CERTIFIED and the connector registry', async () => {
    const watch = monitor();
    await until('REVIEW', async () => (await watch.tick(), (await stateOf()) === 'REVIEW'), 90_000);
    const metrics = await store.monitor.latestMetrics(created.deploymentId);
    // The resumed process's own counters: its health checks passed, nothing failed.
    expect(metrics?.metrics).toMatchObject({ errorCount: 0, uptimePercent: 100 });

    // Only an admin certifies.
    const deployment = (await store.deployments.get(created.deploymentId))!;
    await expect(certification().approve(deployment, context.actor, {})).rejects.toMatchObject({ code: 'forbidden' });
    const { certification: certified, entry } = await certification().approve(deployment, alice, {
      metrics: metrics!.metrics,
    });
    expect(certified.state).toBe('CERTIFIED');
    expect(entry).toMatchObject({
      connectorId: created.connectorId,
      version: '1.0.0',
      certifier: 'alice',
      manifestDigest: deployment.manifestDigest,
    });
    expect(await store.registry.get(created.connectorId, '1.0.0')).toMatchObject({ certifier: 'alice' });
    const transitions = (await store.audit.all())
      .filter((r) => r.action === 'certify')
      .map((r) => (r.details as { to: string }).to);
    expect(transitions).toEqual(['PENDING', 'MONITORING', 'FAILED', 'PENDING', 'MONITORING', 'REVIEW', 'CERTIFIED']);
  });

  it('proposes a new version for a new column, and pauses the connector when a column is dropped', async () => {
    await sql(`ALTER TABLE ${TABLE} ADD COLUMN note text`);
    const watch = monitor();
    const deployment = (await store.deployments.get(created.deploymentId))!;
    const added = await watch.checkDrift(deployment);
    expect(added).toMatchObject({ classification: 'non_breaking', action: 'proposed', proposedVersion: '1.1.0' });
    expect(added.changes).toEqual([expect.objectContaining({ field: 'note', change: 'field_added', breaking: false })]);
    const proposal = JSON.parse(await readFile(added.proposedManifestPath!, 'utf8')) as unknown;
    const valid = validateManifest(proposal);
    expect(valid.ok).toBe(true);
    expect(valid.ok && valid.manifest.schema.entities[0]!.fields.map((f) => f.name)).toContain('note');
    expect(firing('drift:non_breaking')).toHaveLength(1);
    expect((await store.deployments.get(created.deploymentId))!.status).not.toBe('paused');

    await sql(`ALTER TABLE ${TABLE} DROP COLUMN total`);
    const dropped = await watch.checkDrift(deployment);
    expect(dropped).toMatchObject({ classification: 'breaking', action: 'paused' });
    expect(dropped.changes).toContainEqual(
      expect.objectContaining({ field: 'total', change: 'field_removed', breaking: true }),
    );
    expect((await store.deployments.get(created.deploymentId))!.status).toBe('paused');
    expect(await supervisor.status(created.deploymentId)).toBeUndefined();
    expect(firing('drift:breaking')[0]!.alert.severity).toBe('critical');
    expect((await store.drift.list({ connectorId: created.connectorId }))[0]!.id).toBe(dropped.id);
    expect((await context.audit.verify()).ok).toBe(true);
  });
});
