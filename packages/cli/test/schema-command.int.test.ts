/**
 * `connector-factory schema` against the real PostgreSQL and MariaDB of scripts/services.sh, in-process:
 * what it prints (a summary or JSON), how it infers the provider, and that it never prints the
 * password. The Schema Agent itself is tested in packages/factory/test/schema. Each run creates its own
 * schema / database and drops it afterwards. PG_URL and MARIADB_URL must be set.
 */
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FactoryError } from '@connector-factory/factory';
import { registerSchema } from '../src/commands/schema.js';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`${name} is not set: start the services (bash scripts/services.sh start) and source .services/env`);
  }
  return value;
}

const suffix = `${process.pid}_${randomBytes(4).toString('hex')}`;

/** The CLI's `schema` command in-process; returns exit code and everything it printed. */
async function runCli(args: string[]): Promise<{ exit: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  let exit = -1;
  const program = new Command('connector-factory').exitOverride().configureOutput({
    writeOut: (text) => out.push(text),
    writeErr: (text) => err.push(text),
  });
  registerSchema(program, { out: (text) => out.push(text), err: (text) => err.push(text) }, (code) => (exit = code));
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (error) {
    err.push(error instanceof FactoryError ? `error: ${error.message} ${error.details.join(' ')}` : String(error));
    exit = error instanceof FactoryError ? 1 : 2;
  }
  return { exit, out: out.join('\n'), err: err.join('\n') };
}

describe('schema on PostgreSQL', () => {
  const schema = `cf_cli_schema_${suffix}`;
  let url: string;
  let password: string;
  let admin: pg.Client;

  beforeAll(async () => {
    url = requireEnv('PG_URL');
    password = decodeURIComponent(new URL(url).password);
    expect(password).not.toBe('');
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await admin.query(`SET search_path TO "${schema}"`);
    await admin.query(`
      CREATE TABLE customers (
        id bigserial PRIMARY KEY,
        email text NOT NULL UNIQUE,
        name text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE orders (
        id bigserial PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES customers (id),
        total numeric(12,2) NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE tags (id serial PRIMARY KEY, label text NOT NULL UNIQUE);
      INSERT INTO customers (email, name) SELECT 'p' || g || '@example.net', 'Person ' || g FROM generate_series(1, 20) g;
      INSERT INTO orders (customer_id, total) SELECT id, 12.5 FROM customers;
      INSERT INTO tags (label) VALUES ('new'), ('sale');
    `);
  });

  afterAll(async () => {
    if (admin === undefined) return;
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await admin.end();
  });

  it('prints a summary or JSON, never the password; refuses a literal password', async () => {
    const human = await runCli([
      'schema',
      '--connection',
      '${PG_URL}',
      '--schema',
      schema,
      '--entities',
      'orders,customers',
      '--cdc',
    ]);
    expect(human.err).toBe('');
    expect(human.exit).toBe(0);
    expect(human.out).toMatch(/customers\s+4\s+id\s+email/);
    expect(human.out).toContain('customers.id → orders.customer_id (one_to_many)');
    expect(human.out).toContain('Update strategy: cdc (cursor lsn, log_position); merge keys id');
    const json = await runCli([
      'schema',
      '--connection',
      '${PG_URL}',
      '--schema',
      schema,
      '--entities',
      'tags',
      '--json',
    ]);
    expect(json.exit).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ updateStrategy: 'full_refresh', entities: [{ name: 'tags' }] });
    const literal = await runCli(['schema', '--connection', url, '--schema', schema]);
    expect(literal.exit).toBe(1);
    expect(literal.err).toContain('literal');
    for (const run of [human, json, literal]) expect(run.out + run.err).not.toContain(password);
  });
});

describe('schema on MariaDB', () => {
  const database = `cf_cli_schema_${suffix}`;
  let url: string;
  let password: string;
  let admin: mysql.Connection;

  beforeAll(async () => {
    const base = requireEnv('MARIADB_URL');
    password = decodeURIComponent(new URL(base).password);
    expect(password).not.toBe('');
    const withDatabase = new URL(base);
    withDatabase.pathname = `/${database}`;
    url = withDatabase.toString();
    admin = await mysql.createConnection({ uri: base, multipleStatements: true, charset: 'utf8mb4' });
    await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
    await admin.query(`USE \`${database}\``);
    await admin.query(`
      CREATE TABLE customers (
        id bigint NOT NULL AUTO_INCREMENT PRIMARY KEY,
        email varchar(255) NOT NULL UNIQUE,
        name varchar(200) NOT NULL,
        updated_at timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
      );
      INSERT INTO customers (email, name) VALUES ('a@example.net', 'A'), ('b@example.net', 'B');
    `);
  });

  afterAll(async () => {
    if (admin === undefined) return;
    await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
    await admin.end();
  });

  it('infers the provider from a mariadb:// URL and never prints the password', async () => {
    process.env.CLI_SCHEMA_TEST_MYSQL_URL = url.replace(/^mysql:/, 'mariadb:');
    try {
      const run = await runCli(['schema', '--connection', '${CLI_SCHEMA_TEST_MYSQL_URL}', '--entities', 'customers']);
      expect(run.err).toBe('');
      expect(run.exit).toBe(0);
      expect(run.out).toContain('Update strategy: incremental on updated_at; merge keys id');
      expect(run.out + run.err).not.toContain(password);
    } finally {
      delete process.env.CLI_SCHEMA_TEST_MYSQL_URL;
    }
  });
});
