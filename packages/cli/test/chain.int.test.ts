import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { readLake } from '../../runtime/test/lake/readers.js';

// The chain through the real command: discover → schema → generate, then the connector runs
// against real PostgreSQL and MariaDB and the lake is compared with the source.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = join(root, 'packages/cli/bin/connector-factory.js');
const suffix = randomBytes(3).toString('hex');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function chain(description: string, connection: string, env: NodeJS.ProcessEnv) {
  const work = mkdtempSync(join(tmpdir(), 'cf-chain-'));
  const discovered = cli(['discover', description, '--connection', connection, '--json'], env);
  expect(discovered.code, discovered.stderr).toBe(0);
  const sourceFile = join(work, 'source.json');
  writeFileSync(sourceFile, discovered.stdout);
  const lake = join(work, 'lake');
  const manifestFile = join(work, 'manifest.json');
  const schema = cli(['schema', '--discovery', sourceFile, '--manifest', manifestFile, '--lake', lake], env);
  expect(schema.code, schema.stderr).toBe(0);
  const generated = cli(['generate', manifestFile, '--out', join(work, 'package')], env);
  expect(generated.code, generated.stderr).toBe(0);
  for (const file of [
    'src/index.ts',
    'src/client.ts',
    'tests/integration.test.ts',
    'Dockerfile',
    'k8s/cronjob.yaml',
    'manifest.json',
  ]) {
    expect(existsSync(join(work, 'package', file)), file).toBe(true);
  }
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const run = cli(['run', manifestFile, '--once', '--state-dir', join(work, 'state')], env);
  expect(run.code, run.stderr).toBe(0);
  return { manifest, lake, sourceText: discovered.stdout + schema.stdout + schema.stderr + generated.stdout };
}

const pgTable = `orders_chain_${suffix}`;
const hostile = `weird "orders" ${suffix}`;
const myTable = `customers_chain_${suffix}`;
let pgClient: pg.Client | undefined;
let myConn: mysql.Connection | undefined;

afterAll(async () => {
  if (pgClient) {
    // Only this test's slot and publication: other tests share the server.
    const name = `cf_connector_postgres_${pgTable}_v1`;
    await pgClient.query(
      `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`,
      [name],
    );
    await pgClient.query(`DROP PUBLICATION IF EXISTS ${name}`);
    for (const t of [pgTable, hostile]) await pgClient.query(`DROP TABLE IF EXISTS "${t.replace(/"/g, '""')}"`);
    await pgClient.end();
  }
  if (myConn) {
    await myConn.query(`DROP TABLE IF EXISTS \`${myTable}\``);
    await myConn.end();
  }
});

describe('discover → schema → generate → run', () => {
  it('PostgreSQL: "Stream changes from orders table in Postgres" lands the orders in Delta', async () => {
    const url = process.env.PG_URL;
    if (!url) throw new Error('PG_URL is not set: run the suite with `npm test`');
    pgClient = new pg.Client({ connectionString: url });
    await pgClient.connect();
    await pgClient.query(
      `CREATE TABLE ${pgTable} (id bigint PRIMARY KEY, customer_email text NOT NULL, total numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL)`,
    );
    await pgClient.query(
      `INSERT INTO ${pgTable} SELECT i, 'c' || i || '@example.com', i * 2.5, now() FROM generate_series(1, 300) i`,
    );
    const { manifest, lake, sourceText } = chain(`Stream changes from ${pgTable} table in Postgres`, '${PG_URL}', {});
    expect(manifest).toMatchObject({
      source: { provider: 'postgres', connectionString: '${PG_URL}' },
      schema: { updateStrategy: 'cdc' },
      destination: { format: 'delta', writeMode: 'merge' },
    });
    expect(manifest.schema.entities[0].fields.find((f: { name: string }) => f.name === 'customer_email').pii).toBe(
      true,
    );
    const doc = await readLake('delta', lake);
    expect(doc.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 300 }, (_, i) => i + 1),
    );
    expect(doc.rows.every((r) => /^c\*\*\*@e\*\*\*\.com$/.test(String(r.customer_email)))).toBe(true);
    expect(sourceText).not.toContain(new URL(url).password);
  });

  it('PostgreSQL: a table with a hostile name works the same way', async () => {
    await pgClient!.query(
      `CREATE TABLE "${hostile.replace(/"/g, '""')}" (id int PRIMARY KEY, "select" text, "naïve value" numeric(6,1), updated_at timestamptz NOT NULL DEFAULT now())`,
    );
    await pgClient!.query(
      `INSERT INTO "${hostile.replace(/"/g, '""')}" SELECT i, 'v' || i, i / 2.0, now() FROM generate_series(1, 50) i`,
    );
    const discovered = cli([
      'discover',
      'Sync a table from Postgres incrementally',
      '--connection',
      '${PG_URL}',
      '--json',
    ]);
    expect(discovered.code, discovered.stderr).toBe(0);
    const work = mkdtempSync(join(tmpdir(), 'cf-chain-'));
    const sourceFile = join(work, 'source.json');
    writeFileSync(sourceFile, discovered.stdout);
    const manifestFile = join(work, 'manifest.json');
    const lake = join(work, 'lake');
    const schema = cli([
      'schema',
      '--discovery',
      sourceFile,
      '--entities',
      hostile,
      '--manifest',
      manifestFile,
      '--lake',
      lake,
    ]);
    expect(schema.code, schema.stderr).toBe(0);
    expect(cli(['generate', manifestFile, '--out', join(work, 'package')]).code).toBe(0);
    const run = cli(['run', manifestFile, '--once', '--state-dir', join(work, 'state')]);
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    const doc = await readLake(manifest.destination.format, lake);
    expect(doc.rows).toHaveLength(50);
    expect(doc.rows.map((r) => r['naïve value'] !== undefined)).toContain(true);
  });

  it('MariaDB: customers by incremental sync land in the lake', async () => {
    const url = process.env.MARIADB_URL;
    if (!url) throw new Error('MARIADB_URL is not set: run the suite with `npm test`');
    myConn = await mysql.createConnection(url);
    await myConn.query(
      `CREATE TABLE \`${myTable}\` (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, balance DECIMAL(10,2), updated_at DATETIME(6) NOT NULL)`,
    );
    const values = Array.from(
      { length: 200 },
      (_, i) => `(${i + 1}, 'Customer ${i + 1}', ${(i * 1.25).toFixed(2)}, '2025-01-0${1 + (i % 9)} 10:00:00.123456')`,
    );
    await myConn.query(`INSERT INTO \`${myTable}\` VALUES ${values.join(', ')}`);
    const { manifest, lake } = chain(`Copy the ${myTable} table from MariaDB every hour`, '${MARIADB_URL}', {});
    expect(manifest).toMatchObject({
      source: { provider: 'mysql' },
      schema: { updateStrategy: 'incremental', incrementalKey: 'updated_at' },
    });
    const doc = await readLake(manifest.destination.format, lake);
    const [rows] = await myConn.query(`SELECT id, balance FROM \`${myTable}\` ORDER BY id`);
    const source = (rows as Array<{ id: number; balance: string }>).map(
      (r) => `${r.id}:${Number(r.balance).toFixed(2)}`,
    );
    expect(doc.rows.map((r) => `${Number(r.id)}:${Number(r.balance).toFixed(2)}`).sort()).toEqual(source.sort());
  });
});
