/**
 * A sentence about a range-partitioned PostgreSQL table becomes a CDC connector that gets healthy on the
 * local target, lands the rows of every partition, and follows changes, including a partition attached
 * while it runs. PG_URL must be set (scripts/services.sh); without it this test fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorManifest } from '@connector-factory/ir';
import { openFactoryContext } from '../support/factory-context.js';
import { untilLakeRows } from '../support/lake-rows.js';
import { requirePgUrl, sql } from '../support/live-postgres.js';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import { undeployConnector } from '../../src/agents/deploy/undeploy.js';
import { probeHealth } from '../../src/agents/deploy/wait-for-healthy.js';
import { createConnector } from '../../src/orchestrator/create-connector.js';
import { loadProviderRegistry } from '../../src/registry/provider-registry.js';
import { dropConnectorReplication } from '../../src/runtime.js';

requirePgUrl();
const TABLE = `part_pay_${randomBytes(3).toString('hex')}`;

describe('CDC of a partitioned table, deployed', () => {
  let work: string;
  let factory: Awaited<ReturnType<typeof openFactoryContext>>;
  let context: DeployContext;
  const env = { ...process.env };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cf-part-'));
    await sql(
      `CREATE TABLE ${TABLE} (id bigint NOT NULL, paid_at date NOT NULL, amount numeric(12,2) NOT NULL,
         PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at)`,
    );
    for (const [name, from, to] of [
      ['q1', '2024-01-01', '2024-04-01'],
      ['q2', '2024-04-01', '2024-07-01'],
      ['q3', '2024-07-01', '2024-10-01'],
    ] as const) {
      await sql(`CREATE TABLE ${TABLE}_${name} PARTITION OF ${TABLE} FOR VALUES FROM ('${from}') TO ('${to}')`);
    }
    await sql(`INSERT INTO ${TABLE} SELECT g, DATE '2024-01-01' + (g % 270), g * 1.5 FROM generate_series(1, 300) g`);
    factory = await openFactoryContext(work, { restart: { initialMs: 200, maxMs: 2000, resetAfterMs: 60_000 } });
    context = factory.context;
  }, 120_000);

  afterAll(async () => {
    await factory?.close();
    await sql(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_q4 CASCADE`).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  });

  it('becomes healthy, lands every partition and follows changes, a newly attached partition included', async () => {
    const created = await createConnector(
      {
        description: `Stream changes from ${TABLE} table in Postgres`,
        connection: '${PG_URL}',
        lake: join(work, 'lake', 'payments') + '/',
        environment: 'dev',
        outDir: join(work, 'connectors'),
        registry: await loadProviderRegistry(),
        env,
        workingDir: work,
      },
      context,
    );
    const manifest = JSON.parse(await readFile(created.manifestPath, 'utf8')) as ConnectorManifest;
    try {
      expect(manifest.schema.updateStrategy).toBe('cdc');
      expect(await probeHealth(created.healthUrl)).toBeUndefined();
      await untilLakeRows('the rows of every partition in the lake', created.lakeTablePath, 300);
      await sql(`CREATE TABLE ${TABLE}_q4 (LIKE ${TABLE} INCLUDING ALL)`);
      await sql(`ALTER TABLE ${TABLE} ATTACH PARTITION ${TABLE}_q4 FOR VALUES FROM ('2024-10-01') TO ('2025-01-01')`);
      await sql(`INSERT INTO ${TABLE} SELECT g, DATE '2024-10-01' + (g % 90), g FROM generate_series(301, 340) g`);
      await sql(`DELETE FROM ${TABLE} WHERE id <= 10`);
      await untilLakeRows('the changes in the lake', created.lakeTablePath, 330);
    } finally {
      await undeployConnector(created.connectorId, context, { environment: 'dev' }).catch(() => undefined);
      await dropConnectorReplication(manifest, env).catch(() => undefined);
    }
  }, 600_000);
});
