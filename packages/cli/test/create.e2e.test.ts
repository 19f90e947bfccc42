/**
 * `connector-factory create … --yes --json` through the real binary: the sentence becomes a connector
 * run by a background supervisor, which `serve --stop` stops and `serve` brings back on the same
 * health URL; `undeploy` stops it for good. PG_URL must be set (scripts/services.sh).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bin, factoryHome, health, requirePgUrl, sql, until, untilLakeRows } from './support/factory-home.js';

const url = requirePgUrl();
const { work, env, cli: run, serve } = factoryHome('cf-create-');
const cli = (...args: string[]) => run(args);

describe('connector-factory create --yes --json', () => {
  beforeAll(async () => {
    await sql('DROP TABLE IF EXISTS cli_orders');
    await sql(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'cf_connector_postgres_cli_orders%' AND NOT active`,
    );
    await sql('CREATE TABLE cli_orders (id int PRIMARY KEY, total numeric(10,2), placed_at timestamptz DEFAULT now())');
    await sql('INSERT INTO cli_orders SELECT g, g * 2 FROM generate_series(1, 250) g');
  });
  afterAll(async () => {
    cli('serve', '--stop');
    await sql(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'cf_connector_postgres_cli_orders%' AND NOT active`,
    ).catch(() => undefined);
    rmSync(work, { recursive: true, force: true });
  });

  it('prints one JSON summary and leaves the connector running, landing rows', async () => {
    const { code, stdout, stderr } = cli(
      'create',
      'Stream changes from cli_orders table in Postgres',
      '--connection',
      '${PG_URL}',
      '--lake',
      './lake/orders',
      '--env',
      'dev',
      '--yes',
      '--json',
    );
    expect(stderr).toContain('✓ sandboxed tests');
    expect(stderr).not.toContain(url);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as Record<string, string>;
    expect(summary).toMatchObject({
      connectorId: 'connector_postgres_cli_orders_v1',
      manifestPath: join(work, 'connectors/connector-postgres-cli-orders-v1/manifest.json'),
      packagePath: join(work, 'connectors/connector-postgres-cli-orders-v1'),
      lakeTablePath: join(work, 'lake/orders'),
      environment: 'dev',
    });
    expect(summary.deploymentId).toMatch(/^dep_\d{14}_[0-9a-f]{8}$/);
    expect(await health(summary.healthUrl!)).toBe(200);
    await untilLakeRows('rows in the lake', summary.lakeTablePath!, 250);

    const listed = JSON.parse(cli('deployments', '--json').stdout) as {
      id: string;
      status: string;
      instance: { state: string };
    }[];
    expect(listed).toMatchObject([{ id: summary.deploymentId, status: 'healthy', instance: { state: 'running' } }]);
    expect(cli('audit', 'verify').code).toBe(0);
    const logs = JSON.parse(cli('logs', 'connector_postgres_cli_orders_v1', '--json').stdout) as { msg?: string }[];
    expect(logs.some((line) => line.msg === 'batch committed')).toBe(true);

    // The Monitor's view, through the commands.
    const looked = cli('monitor', '--once', '--json');
    expect(looked.code).toBe(0);
    expect(JSON.parse(looked.stdout)).toMatchObject([
      { deploymentId: summary.deploymentId, healthy: true, certification: 'MONITORING' },
    ]);
    const status = JSON.parse(cli('status', 'connector_postgres_cli_orders_v1', '--json').stdout) as Record<
      string,
      unknown
    >;
    expect(status).toMatchObject({
      status: 'healthy',
      health: 'ok',
      slos: 'met',
      certification: 'MONITORING',
      firingAlerts: [],
    });
    const metrics = JSON.parse(cli('metrics', 'connector_postgres_cli_orders_v1', '--json').stdout) as Record<
      string,
      unknown
    >;
    expect(metrics).toMatchObject({ deploymentId: summary.deploymentId, recordsProcessed: 250, errorCount: 0 });
    const review = cli('certify', 'connector_postgres_cli_orders_v1', 'approve');
    expect(review.code).toBe(1);
    expect(review.stderr).toContain('its certification is MONITORING, not REVIEW');

    // Stopping the supervisor stops the connector; the next `serve` restores it on the same health URL.
    expect(cli('serve', '--stop').code).toBe(0);
    expect(await health(summary.healthUrl!)).toBe(0);
    const stopServe = serve();
    try {
      await until('the restored connector', async () => (await health(summary.healthUrl!)) === 200);
      await sql('INSERT INTO cli_orders SELECT g, g FROM generate_series(251, 260) g');
      await untilLakeRows('rows after the restore', summary.lakeTablePath!, 260);
      const undeployed = cli('undeploy', 'connector_postgres_cli_orders_v1');
      expect(undeployed.stdout).toContain(`stopped ${summary.deploymentId}`);
      expect(await health(summary.healthUrl!)).toBe(0);
    } finally {
      await stopServe();
    }
  });

  it('stops with one clear line when a variable the connector needs is not set', () => {
    const missing = spawnSync(
      process.execPath,
      [bin, 'deploy', join(work, 'connectors/connector-postgres-cli-orders-v1'), '--env', 'dev'],
      { cwd: work, env: { ...env, PG_URL: '' }, encoding: 'utf8' },
    );
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(
      'error: connector_postgres_cli_orders_v1 reads PG_URL, which neither the environment nor the secret store holds: ' +
        'run `export PG_URL=…` or `connector-factory secrets set PG_URL`\n',
    );
  });
});
