import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { MysqlSource } from '../../src/sources/mysql/mysql-source.js';
import { PostgresSource } from '../../src/sources/postgres/postgres-source.js';
import type { EntityRef, Source } from '../../src/sources/source.js';

// Each source kind classifies its driver's errors into the runtime's codes with the SQLSTATE: the errors
// here are the real servers' own (a wrong password, a missing grant, a closed port, a missing table).

const PG_URL = process.env.PG_URL;
const MARIADB_URL = process.env.MARIADB_URL;
const suffix = randomBytes(4).toString('hex');
const PASSWORD = `Pw${randomBytes(8).toString('hex')}`;

/** A port nothing listens on: bound by the OS, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function withCredentials(url: string, user: string, password: string, port?: number): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  if (port !== undefined) u.port = String(port);
  return u.toString();
}

/** The error a source's first read throws. */
async function readError(source: Source, entity: EntityRef): Promise<unknown> {
  try {
    const chunks = source.read(entity, { strategy: 'full_refresh' }, undefined)[Symbol.asyncIterator]();
    while (!(await chunks.next()).done);
  } catch (error) {
    return error;
  } finally {
    await source.close();
  }
  return undefined;
}

async function failure(action: () => Promise<unknown>): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectCoded(error: unknown, code: string, sqlstate: string | undefined, retryable: boolean): void {
  expect(error).toBeInstanceOf(RuntimeError);
  const e = error as RuntimeError;
  expect({ code: e.code, sqlstate: e.data.sqlstate, retryable: e.retryable }).toEqual({
    code,
    sqlstate,
    retryable,
  });
  expect(e.message).not.toContain(PASSWORD);
}

describe.runIf(PG_URL)('postgres source errors', () => {
  const role = `cf_err_role_${suffix}`;
  const table = `cf_err_table_${suffix}`;
  let admin: pg.Client;
  const entity: EntityRef = { name: `public.${table}`, fields: ['id'], primaryKey: ['id'] };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('a wrong password is source_auth with SQLSTATE 28P01, not retried', async () => {
    const source = new PostgresSource({ url: withCredentials(PG_URL!, role, `${PASSWORD}x`) });
    const error = await failure(() => source.check());
    await source.close();
    expectCoded(error, 'source_auth', '28P01', false);
  });

  it('a missing grant is source_permission with SQLSTATE 42501', async () => {
    const source = new PostgresSource({ url: withCredentials(PG_URL!, role, PASSWORD) });
    expectCoded(await readError(source, entity), 'source_permission', '42501', false);
  });

  it('a closed port is source_unavailable and retryable', async () => {
    const source = new PostgresSource({ url: withCredentials(PG_URL!, role, PASSWORD, await closedPort()) });
    const error = await failure(() => source.check());
    await source.close();
    expectCoded(error, 'source_unavailable', undefined, true);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('a missing table stays a config error', async () => {
    const source = new PostgresSource({ url: PG_URL! });
    const error = await failure(() => source.columns({ ...entity, name: `public.${table}_missing` }));
    await source.close();
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('config');
  });
});

describe.runIf(MARIADB_URL)('mysql source errors', () => {
  const user = `cf_err_${suffix}`;
  const table = `cf_err_table_${suffix}`;
  const database = new URL(MARIADB_URL ?? 'mysql://x/cf').pathname.slice(1) || 'cf';
  let admin: Awaited<ReturnType<typeof createConnection>>;
  const entity: EntityRef = { name: table, fields: ['id'], primaryKey: ['id'] };

  beforeAll(async () => {
    admin = await createConnection(MARIADB_URL!);
    await admin.query(`CREATE TABLE \`${table}\` (id int PRIMARY KEY)`);
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${PASSWORD}'`);
  });
  afterAll(async () => {
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.query(`DROP TABLE IF EXISTS \`${table}\``);
    await admin.end();
  });

  it('a wrong password is source_auth (ER_ACCESS_DENIED_ERROR, SQLSTATE 28000)', async () => {
    const source = new MysqlSource({ url: withCredentials(MARIADB_URL!, user, `${PASSWORD}x`) });
    const error = await failure(() => source.check());
    await source.close();
    expectCoded(error, 'source_auth', '28000', false);
    expect((error as Error).message).toContain('ER_ACCESS_DENIED_ERROR');
  });

  it('a missing grant is source_permission (ER_DBACCESS_DENIED_ERROR, SQLSTATE 42000)', async () => {
    // The user has no grant on the connection's database: the server refuses the connection to it.
    const source = new MysqlSource({ url: withCredentials(MARIADB_URL!, user, PASSWORD) });
    const error = await failure(() => source.check());
    await source.close();
    expectCoded(error, 'source_permission', '42000', false);
    expect((error as Error).message).toContain(`ER_DBACCESS_DENIED_ERROR`);
    expect((error as Error).message).toContain(database);
  });

  it('a closed port is source_unavailable and retryable', async () => {
    const source = new MysqlSource({ url: withCredentials(MARIADB_URL!, user, PASSWORD, await closedPort()) });
    const error = await failure(() => source.check());
    await source.close();
    expectCoded(error, 'source_unavailable', undefined, true);
    expect((error as Error).message).toContain('ECONNREFUSED');
  });

  it('a missing table stays a config error', async () => {
    const source = new MysqlSource({ url: MARIADB_URL! });
    const error = await failure(() => source.columns({ ...entity, name: `${table}_missing` }));
    await source.close();
    expect(error).toBeInstanceOf(RuntimeError);
    expect((error as RuntimeError).code).toBe('config');
  });
});
