/**
 * `create` with a sentence that asks for change data capture on a table that cannot stream (REPLICA
 * IDENTITY NOTHING) or a view: the schema step says why it falls back before anything is generated; a partitioned table streams and the step says how. Runs in a database of its
 * own on the PostgreSQL at PG_URL, dropped afterwards; stops before code generation.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeployContext } from '../../src/agents/deploy/deploy.js';
import { loadProviderRegistry } from '../../src/registry/provider-registry.js';
import { createUntilGenerate } from '../support/create-until.js';
import { openFactoryContext } from '../support/factory-context.js';
import { databaseUrl, sql, sqlOn } from '../support/live-postgres.js';

const database = `cf_cdcfall_${randomBytes(4).toString('hex')}`;
const VARIABLE = 'PG_CDC_FALLBACK_URL';
const dbUrl = databaseUrl(database);
const env = { ...process.env, [VARIABLE]: dbUrl };

let work: string;
let factory: Awaited<ReturnType<typeof openFactoryContext>>;
let context: DeployContext;

beforeAll(async () => {
  await sql(`CREATE DATABASE ${database}`);
  await sqlOn(
    dbUrl,
    `CREATE TABLE silent_events (id bigint PRIMARY KEY, kind text, updated_at timestamptz NOT NULL);
     ALTER TABLE silent_events REPLICA IDENTITY NOTHING;
     CREATE TABLE payments (id bigint NOT NULL, paid_at date NOT NULL, amount numeric(12,2), PRIMARY KEY (id, paid_at))
       PARTITION BY RANGE (paid_at);
     CREATE TABLE payments_h1 PARTITION OF payments FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');
     CREATE TABLE payments_h2 PARTITION OF payments FOR VALUES FROM ('2024-07-01') TO ('2025-01-01');
     CREATE VIEW big_payments AS SELECT id, paid_at, amount FROM payments WHERE amount > 100;`,
  );
  work = await mkdtemp(join(tmpdir(), 'cf-cdcfall-'));
  factory = await openFactoryContext(work);
  context = factory.context;
}, 60_000);

afterAll(async () => {
  await factory?.close();
  await rm(work, { recursive: true, force: true });
  await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
});

/** Runs `create` up to the schema step; the step's report. */
async function schemaStep(description: string): Promise<{ detail: string }> {
  const { report, error } = await createUntilGenerate(
    {
      description,
      connection: `\${${VARIABLE}}`,
      environment: 'dev',
      outDir: join(work, 'connectors'),
      registry: await loadProviderRegistry(),
      env,
      workingDir: work,
    },
    context,
  );
  if (error) throw error;
  if (report?.detail === undefined) throw new Error('no schema step');
  return { detail: report.detail };
}

describe('create: CDC asked for, checked at the schema step', () => {
  it('says why a table with REPLICA IDENTITY NOTHING is polled instead', async () => {
    const { detail } = await schemaStep('Stream changes from silent_events table in Postgres');
    expect(detail).toMatch(/^silent_events \(3 fields\); incremental /);
    expect(detail).toMatch(/REPLICA IDENTITY NOTHING.*updates and deletes cannot be captured/);
  });

  it('says why a view is polled instead', async () => {
    const { detail } = await schemaStep('Stream changes from big_payments table in Postgres');
    expect(detail).toMatch(/big_payments is a view, which has no change log/);
  });

  it('streams a partitioned table and says how', async () => {
    const { detail } = await schemaStep('Stream changes from payments table in Postgres');
    expect(detail).toMatch(/^payments \(3 fields\); cdc /);
    expect(detail).toMatch(/partitioned table with 2 partitions.*publish_via_partition_root/);
  });
});
