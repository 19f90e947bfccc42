/**
 * The Deploy agent against the real PostgreSQL and a real local supervisor: a sentence becomes a
 * running CDC connector landing rows; a crash is restarted; a version that never gets healthy is rolled
 * back; prod needs an approval (not the requester's own, not an expired one) before anything starts.
 * PG_URL must be set (scripts/services.sh); without it these tests fail.
 */
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePgUrl, sql, until } from '../support/live-postgres.js';
import type { ConnectorManifest } from '@connector-factory/ir';
import { AuditLog } from '../../src/audit/audit-log.js';
import { resolveActor, type Actor } from '../../src/cars/actor.js';
import { Cars } from '../../src/cars/cars.js';
import { parsePolicy, type Policy } from '../../src/cars/policy.js';
import { generate, writePackage } from '../../src/agents/codegen/generate.js';
import { deployConnector, type DeployContext, type DeploymentReceipt } from '../../src/agents/deploy/deploy.js';
import { LocalSupervisor } from '../../src/agents/deploy/local/local-supervisor.js';
import { lineSink } from '../../src/agents/monitor/alert-sinks.js';
import { Monitor } from '../../src/agents/monitor/monitor.js';
import { undeployConnector } from '../../src/agents/deploy/undeploy.js';
import { probeHealth, waitForHealthy } from '../../src/agents/deploy/wait-for-healthy.js';
import { FactoryError } from '../../src/errors.js';
import { createConnector, type CreateSummary } from '../../src/orchestrator/create-connector.js';
import { loadProviderRegistry } from '../../src/registry/provider-registry.js';
import { lakeRowCount } from '../../src/runtime.js';
import { openStateStore } from '../../src/store/open-state-store.js';
import type { StateStore } from '../../src/store/state-store.js';

const url = requirePgUrl();
const TABLE = 'deploy_orders';
const POLICY = `roles:\n  ops: operator\n  alice: admin\n  vic: viewer\ndefaultRole: viewer\n`;

describe('deploy to the local target', () => {
  let work: string;
  let store: StateStore;
  let policy: Policy;
  let supervisor: LocalSupervisor;
  let ops: Actor;
  let alice: Actor;
  let audit: AuditLog;
  let context: DeployContext;
  let created: CreateSummary;
  const env = { ...process.env };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cf-deploy-'));
    await sql(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'cf_connector_postgres_deploy_orders%' AND NOT active`,
    );
    await sql(
      `CREATE TABLE ${TABLE} (id int PRIMARY KEY, total numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await sql(`INSERT INTO ${TABLE} SELECT g, g * 1.25 FROM generate_series(1, 300) g`);
    store = await openStateStore(join(work, 'state.db'));
    policy = parsePolicy(POLICY, join(work, 'policy.yaml'));
    ops = resolveActor({ flag: 'ops', policy });
    alice = resolveActor({ flag: 'alice', policy });
    audit = new AuditLog(store);
    supervisor = new LocalSupervisor({ home: work, restart: { initialMs: 200, maxMs: 2000, resetAfterMs: 60_000 } });
    context = { store, target: supervisor, cars: new Cars(store, policy, audit), audit, actor: ops, home: work };
  }, 120_000);

  afterAll(async () => {
    await supervisor?.close();
    await store?.close();
    await sql(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'cf_connector_postgres_deploy_orders%' AND NOT active`,
    ).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it('turns a sentence into a healthy local deployment that lands every row and follows changes', async () => {
    const steps: string[] = [];
    created = await createConnector(
      {
        description: `Stream changes from ${TABLE} table in Postgres`,
        connection: '${PG_URL}',
        lake: join(work, 'lake', 'orders') + '/',
        environment: 'dev',
        outDir: join(work, 'connectors'),
        registry: await loadProviderRegistry(),
        env,
        workingDir: work,
        progress: (event) => {
          if (event.state === 'done') steps.push(event.step);
        },
      },
      context,
    );
    expect(steps).toEqual([
      'discover',
      'schema',
      'generate',
      'install',
      'typecheck',
      'compile tests',
      'bundle',
      'sandboxed tests',
      'start',
      'healthy',
    ]);
    expect(created.deployment.tests).toMatchObject({ passed: true, fail: 0 });
    expect(created.deployment.tests.pass).toBeGreaterThan(5);
    expect(await probeHealth(created.healthUrl)).toBeUndefined();
    const record = await store.deployments.get(created.deploymentId);
    expect(record).toMatchObject({ status: 'healthy', environment: 'dev', envNames: ['PG_URL'], actor: 'ops' });
    expect(record!.packageDir.startsWith(join(work, 'packages', created.connectorId))).toBe(true);
    // The supervisor runs the bundle the build made (one file; DuckDB's addon stays in node_modules).
    const pid = (await supervisor.status(created.deploymentId))!.pid!;
    expect(await readFile(`/proc/${pid}/cmdline`, 'utf8')).toContain(
      join(record!.packageDir, 'bundle', 'connector.js'),
    );
    const manifest = JSON.parse(await readFile(created.manifestPath, 'utf8')) as ConnectorManifest;
    expect(manifest.schema.updateStrategy).toBe('cdc');
    expect(manifest.destination).toMatchObject({ format: 'delta', writeMode: 'merge' });
    await until(
      'the initial rows in the lake',
      async () => (await lakeRowCount(created.lakeTablePath, 'delta')) === 300,
    );
    await sql(`INSERT INTO ${TABLE} SELECT g, g FROM generate_series(301, 350) g`);
    await sql(`DELETE FROM ${TABLE} WHERE id <= 10`);
    await until('the changes in the lake', async () => (await lakeRowCount(created.lakeTablePath, 'delta')) === 340);
    // No value of a variable reaches the store or the audit log.
    const receipts = JSON.stringify(await store.audit.all());
    expect(receipts).not.toContain(url);
    expect((await store.audit.all()).map((r) => r.action)).toEqual([
      'discover',
      'extract_schema',
      'generate',
      'deploy',
      'certify',
    ]);
  });

  it('restarts a connector that crashes, and it carries on from its checkpoint', async () => {
    const before = await until('a pid', async () => (await supervisor.status(created.deploymentId))?.pid ?? undefined);
    process.kill(before, 'SIGKILL');
    await until('a restart', async () => {
      const status = await supervisor.status(created.deploymentId);
      return status !== undefined && status.restarts === 1 && status.pid !== null && status.pid !== before;
    });
    expect((await waitForHealthy(supervisor, created.deploymentId, { timeoutMs: 30_000 })).healthy).toBe(true);
    await sql(`INSERT INTO ${TABLE} SELECT g, g FROM generate_series(351, 400) g`);
    await until('rows after the restart', async () => (await lakeRowCount(created.lakeTablePath, 'delta')) === 390);
  });

  it('rolls back to the running version when a new one does not become healthy', async () => {
    // Version 1.1.0 writes to a lake path under a file: its sandboxed tests (with a lake of their own)
    // pass, and it fails as soon as it opens its real lake.
    const manifest = JSON.parse(await readFile(created.manifestPath, 'utf8')) as ConnectorManifest;
    await writeFile(join(work, 'blocker'), 'a file where a folder should be\n');
    const v2: ConnectorManifest = {
      ...manifest,
      version: '1.1.0',
      destination: { ...manifest.destination, lakePath: join(work, 'blocker', 'lake') + '/' },
    };
    const dir = await writePackage(await generate(v2), join(work, 'connectors', 'v2'));
    const error = await deployConnector(dir, context, {
      environment: 'dev',
      env,
      workingDir: work,
      healthTimeoutMs: 10_000,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FactoryError);
    expect((error as FactoryError).code).toBe('deploy_failed');
    expect((error as FactoryError).message).toMatch(/did not become healthy .*rolled back to 1\.0\.0/);
    const [latest] = await store.deployments.list({ connectorId: manifest.id, environment: 'dev' });
    expect(latest).toMatchObject({ version: '1.1.0', status: 'rolled_back' });
    expect(latest!.lastError).toContain('did not become healthy');
    expect(await store.deployments.get(created.deploymentId)).toMatchObject({ status: 'healthy' });
    expect(await supervisor.status(latest!.id)).toBeUndefined();
    expect((await waitForHealthy(supervisor, created.deploymentId, { timeoutMs: 30_000 })).healthy).toBe(true);
    // The Monitor turns the failed deploy into one alert (the spec: deploy failure → rollback, alert).
    const alerts: string[] = [];
    const watch = new Monitor({
      store,
      target: supervisor,
      audit,
      riskOf: (action) => context.cars.riskOf(action),
      home: work,
      sinks: [lineSink((line) => alerts.push(line))],
      driftEveryMs: 0,
    });
    await watch.tick();
    await watch.tick();
    expect(alerts.filter((line) => line.includes(' deploy: '))).toEqual([
      expect.stringMatching(
        /^ALERT WARNING connector_postgres_deploy_orders_v1 deploy: deploying 1\.1\.0 to dev failed and was rolled back/,
      ),
    ]);
    await sql(`INSERT INTO ${TABLE} SELECT g, g FROM generate_series(401, 410) g`);
    await until('rows after the rollback', async () => (await lakeRowCount(created.lakeTablePath, 'delta')) === 400);
  });

  it('refuses prod without an approval, a self-approval and an expired approval; deploys once an admin approves', async () => {
    const prod = () => deployConnector(created.packagePath, context, { environment: 'prod', env, workingDir: work });
    const refused = (await prod().catch((e: unknown) => e)) as FactoryError;
    expect(refused.code).toBe('approval_required');
    const [pending] = await store.approvals.list({ status: 'pending' });
    expect(pending).toMatchObject({ action: 'deploy', riskLevel: 'high', requestedBy: 'ops' });
    expect(refused.message).toContain(pending!.id);
    expect(pending!.evidence).toMatchObject({
      packageDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      tests: { passed: true, fail: 0 },
      running: null,
    });
    expect((await supervisor.list()).filter((s) => s.deploymentId !== created.deploymentId)).toEqual([]);
    const prodRecords = await store.deployments.list({ environment: 'prod' });
    expect(prodRecords.map((r) => r.status)).toEqual(['awaiting_approval']);

    // The requester cannot approve their own request.
    const self = (await context.cars.approve(pending!.id, ops).catch((e: unknown) => e)) as FactoryError;
    expect(self).toBeInstanceOf(FactoryError);
    expect((await store.approvals.get(pending!.id))!.status).toBe('pending');

    await context.cars.approve(pending!.id, alice, 'tests green');
    // An approval read 25 hours later has expired: the deploy asks again instead of going ahead.
    const later = new Cars(store, policy, audit, () => new Date(Date.now() + 25 * 3_600_000));
    const expired = (await deployConnector(
      created.packagePath,
      { ...context, cars: later },
      {
        environment: 'prod',
        env,
        workingDir: work,
      },
    ).catch((e: unknown) => e)) as FactoryError;
    expect(expired.code).toBe('approval_required');

    // Dev and prod share the source's replication slot here: stop dev before prod starts.
    await undeployConnector(created.connectorId, context, { environment: 'dev' });
    const receipt: DeploymentReceipt = await prod();
    expect(receipt).toMatchObject({
      environment: 'prod',
      status: 'healthy',
      approvalId: pending!.id,
      riskLevel: 'high',
    });
    expect(receipt.steps.find((s) => s.step === 'build')?.detail).toMatch(/^reused the build/);
    expect(await probeHealth(receipt.healthUrl)).toBeUndefined();

    // Undeploying prod is gated too.
    const gated = (await undeployConnector(created.connectorId, context, { environment: 'prod' }).catch(
      (e: unknown) => e,
    )) as FactoryError;
    expect(gated.code).toBe('approval_required');
    const undeployRequest = (await store.approvals.list({ status: 'pending' })).find((r) => r.action === 'undeploy');
    await context.cars.approve(undeployRequest!.id, alice);
    await undeployConnector(created.connectorId, context, { environment: 'prod' });
    expect(await supervisor.list()).toEqual([]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('a viewer may not deploy', async () => {
    const vic = resolveActor({ flag: 'vic', policy });
    const error = (await deployConnector(
      created.packagePath,
      { ...context, actor: vic },
      { environment: 'dev', env },
    ).catch((e: unknown) => e)) as FactoryError;
    expect(error.code).toBe('forbidden');
  });
});
