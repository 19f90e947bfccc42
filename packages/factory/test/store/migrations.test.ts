import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely, type Migration } from 'kysely';
import { describe, expect, it } from 'vitest';
import { AuditLog, openStateStore } from '@connector-factory/factory';
import { STATE_MIGRATIONS, migrateToLatest } from '../../src/store/migrations.js';
import { KyselyStateStore } from '../../src/store/kysely-state-store.js';
import { openSqliteBackend } from '../../src/store/sqlite-backend.js';
import { alert, approval, certification, deployment, registryEntry } from './state-store-contract.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'cf-migrate-')), 'state.db');

/** The store's own SQLite connection (immediate, transactional migrations), without migrating it. */
function kysely(file: string): Kysely<unknown> {
  return openSqliteBackend(file).db as unknown as Kysely<unknown>;
}

/** A store on the file as it is, not migrated: writes rows the way an older release did. */
function unmigratedStore(file: string): KyselyStateStore {
  return new KyselyStateStore(openSqliteBackend(file));
}

/** Sorts after every real migration, so it always comes last. */
const addNotes: Migration = {
  async up(db) {
    await db.schema.createTable('cf_notes').addColumn('text', 'text').execute();
  },
};

describe('state store migrations', () => {
  it('applies the migrations once and records them', async () => {
    const file = freshFile();
    const db = kysely(file);
    try {
      expect(await migrateToLatest(db, file)).toEqual(Object.keys(STATE_MIGRATIONS));
      expect(await migrateToLatest(db, file)).toEqual([]);
      const { rows } = await sql<{ name: string }>`select name from cf_migrations order by name`.execute(db);
      expect(rows.map((r) => r.name)).toEqual(['0001-initial', '0002-monitor-certification']);
    } finally {
      await db.destroy();
    }
  });

  it('brings a store created at 0001 up to date and keeps its rows', async () => {
    const file = freshFile();
    // The state a store written by the first release is in: only 0001 applied, with rows in it.
    const db = kysely(file);
    try {
      expect(
        await migrateToLatest(db, file, { migrations: { '0001-initial': STATE_MIGRATIONS['0001-initial']! } }),
      ).toEqual(['0001-initial']);
    } finally {
      await db.destroy();
    }
    const first = unmigratedStore(file);
    await first.deployments.insert(deployment('dep_old', { status: 'healthy' }));
    await first.approvals.insert(approval('apr_old'));
    const appended = await first.audit.append({
      action: 'deploy',
      agent: 'deploy',
      actor: 'alice',
      resource: 'connector_postgres_orders_v1',
      riskLevel: 'medium',
      inputs: {},
      outputs: {},
      result: 'success',
    });
    await first.close();

    const store = await openStateStore(file);
    try {
      expect(await store.deployments.get('dep_old')).toEqual(deployment('dep_old', { status: 'healthy' }));
      expect((await store.approvals.get('apr_old'))?.status).toBe('pending');
      expect(await store.audit.all()).toEqual([appended]);
      expect(await new AuditLog(store).verify()).toMatchObject({ ok: true, receipts: 1 });
      // The tables of 0002 are there and work.
      await store.alerts.insert(alert('alr_1', { deploymentId: 'dep_old' }));
      await store.certifications.insert(certification('dep_old'));
      await store.registry.put(registryEntry('1.0.0', { deploymentId: 'dep_old' }));
      await store.monitor.recordCheck({
        deploymentId: 'dep_old',
        time: '2026-01-01T00:00:00.000Z',
        healthy: true,
        latencyMs: 3,
        reason: null,
      });
      expect((await store.alerts.firing('dep_old', 'slo:freshness'))?.id).toBe('alr_1');
      expect((await store.certifications.get('dep_old'))?.state).toBe('PENDING');
      expect(await store.registry.list()).toHaveLength(1);
      expect(await store.monitor.checks('dep_old', '2026-01-01T00:00:00.000Z')).toHaveLength(1);
    } finally {
      await store.close();
    }
    const check = kysely(file);
    try {
      const { rows } = await sql<{ name: string }>`select name from cf_migrations order by name`.execute(check);
      expect(rows.map((r) => r.name)).toEqual(['0001-initial', '0002-monitor-certification']);
      // Opening again applies nothing more.
      expect(await migrateToLatest(check, file)).toEqual([]);
    } finally {
      await check.destroy();
    }
  });

  it('applies a migration added to the list to an existing store', async () => {
    const file = freshFile();
    await (await openStateStore(file)).close();
    const db = kysely(file);
    try {
      expect(await migrateToLatest(db, file, { migrations: { ...STATE_MIGRATIONS, '9999-notes': addNotes } })).toEqual([
        '9999-notes',
      ]);
      await sql`insert into cf_notes (text) values ('applied')`.execute(db);
    } finally {
      await db.destroy();
    }
    // This version does not know 9999-notes: the store says a newer version migrated it, instead of guessing.
    await expect(openStateStore(file)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(
        /state store sqlite:.*state\.db was migrated by a newer connector-factory \(it has migration 9999-notes/,
      ),
    });
  });

  it('reports a failing migration by name and leaves nothing half-applied', async () => {
    const file = freshFile();
    const failing: Migration = {
      async up(db) {
        await db.schema.createTable('cf_half').addColumn('x', 'text').execute();
        await sql`select * from no_such_table`.execute(db);
      },
    };
    const db = kysely(file);
    try {
      await migrateToLatest(db, file);
      await expect(
        migrateToLatest(db, file, { migrations: { ...STATE_MIGRATIONS, '9999-broken': failing } }),
      ).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/migration 9999-broken failed: /) });
    } finally {
      await db.destroy();
    }
    const tables = new Database(file)
      .prepare(`select name from sqlite_master where type = 'table' and name = 'cf_half'`)
      .all();
    expect(tables).toEqual([]);
  });
});

describe('state store locations', () => {
  it('takes a path, sqlite:<path>, and refuses other schemes', async () => {
    const file = freshFile();
    const store = await openStateStore(`sqlite:${file}`);
    expect(store.location).toBe(`sqlite:${file}`);
    await store.close();
    await expect(openStateStore('mysql://app:secret@db/x')).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.not.stringContaining('secret'),
    });
    await expect(openStateStore(join(file, 'under-a-file', 'state.db'))).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(/^cannot open state store sqlite:/),
    });
  });
});
