import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { describe, expect, it } from 'vitest';

// The real services scripts/services.sh starts; `npm test` exports their URLs from .services/env.
const root = fileURLToPath(new URL('../', import.meta.url));

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the suite with \`npm test\` (it starts the services)`);
  return value;
}

describe('PostgreSQL test service', () => {
  it('runs with wal_level=logical on loopback and can create a pgoutput slot', async () => {
    const url = new URL(requireEnv('PG_URL'));
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).toBe('54329');
    const client = new pg.Client({ connectionString: url.toString() });
    await client.connect();
    try {
      const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
      expect(rows[0]!.wal_level).toBe('logical');
      const slot = `cf_services_test_${process.pid}`;
      await client.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
      const slots = await client.query('SELECT plugin FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      expect(slots.rows[0]).toEqual({ plugin: 'pgoutput' });
      await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
    } finally {
      await client.end();
    }
  });
});

describe('MariaDB test service', () => {
  it('runs on loopback and accepts the test user', async () => {
    const url = new URL(requireEnv('MARIADB_URL'));
    expect(url.port).toBe('33069');
    const connection = await mysql.createConnection(url.toString());
    try {
      const [rows] = await connection.query('SELECT VERSION() AS version');
      expect((rows as Array<{ version: string }>)[0]!.version).toMatch(/MariaDB/);
    } finally {
      await connection.end();
    }
  });
});

describe('scripts/services.sh', () => {
  it('is idempotent: start on running services succeeds and reports them running', () => {
    execFileSync('bash', ['scripts/services.sh', 'start'], { cwd: root, stdio: 'pipe' });
    const status = execFileSync('bash', ['scripts/services.sh', 'status'], { cwd: root, encoding: 'utf8' });
    expect(status).toMatch(/postgres.*running.*54329/);
    expect(status).toMatch(/mariadb.*running.*33069/);
  });
});
