/**
 * What the Schema Agent checks before it picks change data capture, on the real PostgreSQL at PG_URL:
 * the relation's kind (ordinary, partitioned, view), its replica identity and primary key, the leaf
 * partitions' replica identity, and the user's privileges (table ownership for the publication, SELECT).
 * Each verdict comes with its reason in the entity's strategy, so a connector that cannot stream is never
 * generated as CDC and found out by a failing deploy. Runs in a schema and role of its own, dropped after.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractSchema } from '../../src/agents/schema/index.js';
import { FactoryError } from '../../src/errors.js';

function pgUrl(): string {
  const url = process.env.PG_URL;
  if (!url) throw new Error('PG_URL is not set: source .services/env first (see README)');
  return url;
}

const suffix = randomBytes(4).toString('hex');
const schema = `cf_cdcready_${suffix}`;
const role = `cf_cdcready_role_${suffix}`;
const rolePassword = `Pw_${randomBytes(12).toString('hex')}`;
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: pgUrl() });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.query(`SET search_path TO ${schema}`);
  await admin.query(`
    CREATE TABLE payments (id bigint NOT NULL, paid_at date NOT NULL, amount numeric(12,2), updated_at timestamptz NOT NULL,
      PRIMARY KEY (id, paid_at)) PARTITION BY RANGE (paid_at);
    CREATE TABLE payments_q1 PARTITION OF payments FOR VALUES FROM ('2024-01-01') TO ('2024-04-01');
    CREATE TABLE payments_q2 PARTITION OF payments FOR VALUES FROM ('2024-04-01') TO ('2024-07-01');
    CREATE TABLE payments_q3 PARTITION OF payments FOR VALUES FROM ('2024-07-01') TO ('2024-10-01');
    INSERT INTO payments VALUES (1, '2024-02-02', 10, now()), (2, '2024-05-05', 20, now()), (3, '2024-08-08', 30, now());
    CREATE VIEW payment_totals AS SELECT paid_at, sum(amount) AS total, max(updated_at) AS updated_at FROM payments GROUP BY paid_at;
    CREATE TABLE keyless_events (id bigint, kind text, updated_at timestamptz NOT NULL);
    CREATE TABLE silent_events (id bigint PRIMARY KEY, kind text, updated_at timestamptz NOT NULL);
    ALTER TABLE silent_events REPLICA IDENTITY NOTHING;
    CREATE TABLE readings (sensor int NOT NULL, at date NOT NULL, value float8, updated_at timestamptz NOT NULL)
      PARTITION BY RANGE (at);
    CREATE TABLE readings_a PARTITION OF readings FOR VALUES FROM ('2024-01-01') TO ('2024-07-01');
    CREATE TABLE readings_b PARTITION OF readings FOR VALUES FROM ('2024-07-01') TO ('2025-01-01');
    ALTER TABLE readings REPLICA IDENTITY FULL;
    ALTER TABLE readings_a REPLICA IDENTITY FULL;
    CREATE UNIQUE INDEX readings_key ON readings (sensor, at);
    CREATE TABLE secrets (id bigint PRIMARY KEY, value text);
  `);
  // May replicate and read payments, but owns nothing (so cannot publish) and may not read secrets.
  await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${rolePassword}' REPLICATION`);
  await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  await admin.query(`GRANT SELECT ON payments, payments_q1, payments_q2, payments_q3 TO ${role}`);
});

afterAll(async () => {
  if (admin === undefined) return;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
  await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  await admin.end();
});

const source = { type: 'jdbc', provider: 'postgres', connectionString: '${PG_URL}' } as const;

async function strategyOf(entity: string, env?: NodeJS.ProcessEnv) {
  const definition = await extractSchema(env ? { ...source, connectionString: '${ROLE_URL}' } : source, {
    schema,
    entities: [entity],
    wantCdc: true,
    ...(env ? { env } : {}),
  });
  return { definition, why: definition.strategies[0]?.why ?? '' };
}

function roleEnv(): NodeJS.ProcessEnv {
  const url = new URL(pgUrl());
  url.username = role;
  url.password = rolePassword;
  return { ...process.env, ROLE_URL: url.toString() };
}

describe('Schema Agent: what CDC needs, checked before generating', () => {
  it('accepts a range-partitioned parent for cdc, saying it is published via its root', async () => {
    const { definition, why } = await strategyOf('payments');
    expect(definition).toMatchObject({ updateStrategy: 'cdc', mergeKeys: ['id', 'paid_at'] });
    expect(why).toMatch(/partitioned table with 3 partitions.*publish_via_partition_root/);
    expect(why).toMatch(/attached later/);
  });

  it('refuses cdc for REPLICA IDENTITY NOTHING, with the fix, and falls back to incremental', async () => {
    const { definition, why } = await strategyOf('silent_events');
    expect(definition).toMatchObject({ updateStrategy: 'incremental', incrementalKey: 'updated_at' });
    expect(why).toMatch(
      /REPLICA IDENTITY NOTHING.*updates and deletes cannot be captured.*ALTER TABLE .*silent_events.* REPLICA IDENTITY DEFAULT.*falling back to incremental/,
    );
  });

  it('refuses cdc for a table without a primary key, explaining the replica identity', async () => {
    const { definition, why } = await strategyOf('keyless_events');
    expect(definition.updateStrategy).toBe('incremental');
    expect(why).toMatch(
      /no primary key.*REPLICA IDENTITY DEFAULT.*updates and deletes carry no key.*add a primary key/,
    );
  });

  it('refuses cdc for a view: it has no change log', async () => {
    const { definition, why } = await strategyOf('payment_totals');
    expect(definition.updateStrategy).toBe('incremental');
    expect(why).toMatch(/payment_totals is a view, which has no change log/);
  });

  it('refuses cdc for a partitioned table with a partition whose deletes would carry no key, naming it', async () => {
    const { definition, why } = await strategyOf('readings');
    expect(definition.updateStrategy).not.toBe('cdc');
    expect(why).toMatch(/readings_b \(REPLICA IDENTITY DEFAULT without a primary key\)/);
  });

  it('refuses cdc for a user who may replicate but does not own the table (no publication possible)', async () => {
    const { definition, why } = await strategyOf('payments', roleEnv());
    expect(definition.updateStrategy).toBe('incremental');
    expect(why).toMatch(new RegExp(`user "${role}" does not own .*payments.*CREATE PUBLICATION`));
    expect(JSON.stringify(definition)).not.toContain(rolePassword);
  });

  it('fails clearly when the user may not read the table at all', async () => {
    const failure = await strategyOf('secrets', roleEnv()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(FactoryError);
    expect((failure as FactoryError).code).toBe('source_permission');
    expect((failure as FactoryError).message).toMatch(
      new RegExp(
        `user "${role}" may not read .*secrets.* \\(no SELECT privilege\\).*GRANT SELECT ON .*secrets.* TO "${role}"`,
      ),
    );
  });
});
