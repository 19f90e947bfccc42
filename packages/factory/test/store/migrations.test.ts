import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely, type Migration } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openStateStore } from '@connector-factory/factory';
import { STATE_MIGRATIONS, migrateToLatest } from '../../src/store/migrations.js';
import { openSqliteBackend } from '../../src/store/sqlite-backend.js';

const freshFile = () => join(mkdtempSync(join(tmpdir(), 'cf-migrate-')), 'state.db');

/** The store's own SQLite connection (immediate, transactional migrations), without migrating it. */
function kysely(file: string): Kysely<unknown> {
  return openSqliteBackend(file).db as unknown as Kysely<unknown>;
}

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
      expect(rows.map((r) => r.name)).toEqual(['0001-initial']);
    } finally {
      await db.destroy();
    }
  });

  it('applies a migration added to the list to an existing store', async () => {
    const file = freshFile();
    await (await openStateStore(file)).close();
    const db = kysely(file);
    try {
      expect(await migrateToLatest(db, file, { migrations: { ...STATE_MIGRATIONS, '0002-notes': addNotes } })).toEqual([
        '0002-notes',
      ]);
      await sql`insert into cf_notes (text) values ('applied')`.execute(db);
    } finally {
      await db.destroy();
    }
    // This version does not know 0002: the store says a newer version migrated it, instead of guessing.
    await expect(openStateStore(file)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringMatching(
        /state store sqlite:.*state\.db was migrated by a newer connector-factory \(it has migration 0002-notes/,
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
        migrateToLatest(db, file, { migrations: { ...STATE_MIGRATIONS, '0002-broken': failing } }),
      ).rejects.toMatchObject({ code: 'internal', message: expect.stringMatching(/migration 0002-broken failed: /) });
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
