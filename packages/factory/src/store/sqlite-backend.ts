import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDialectConfig,
} from 'kysely';
import { FactoryError } from '../errors.js';
import type { StateDatabase } from './database.js';
import type { StoreBackend } from './store-backend.js';

/** How long a writer waits for another process's write transaction before giving up. */
const BUSY_TIMEOUT_MS = 15_000;

/**
 * Transactions take the write lock when they begin (`BEGIN IMMEDIATE`), not at their first write: a
 * transaction that reads the audit head and then appends can never interleave with another process's,
 * and never fails with SQLITE_BUSY half-way (a deferred transaction that read first cannot wait for the lock).
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite's DDL is transactional; with it, Kysely runs the migrations in one immediate transaction. */
class TransactionalSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class FactorySqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalSqliteAdapter();
  }
}

/**
 * better-sqlite3 waits for a lock synchronously. Two stores of one process on one file would deadlock:
 * the waiting one blocks the event loop the holder needs to finish its transaction. So the writes of a
 * process to a file take turns here; other processes wait on the file lock with busy_timeout.
 */
const turns = new Map<string, Promise<unknown>>();

function inTurn<T>(file: string, work: () => Promise<T>): Promise<T> {
  const run = (turns.get(file) ?? Promise.resolve()).then(work, work);
  const settled = run.catch(() => undefined);
  turns.set(file, settled);
  void settled.then(() => {
    if (turns.get(file) === settled) turns.delete(file);
  });
  return run;
}

/** Opens (creating it and its folder) the SQLite file at `file`, an absolute path, in WAL mode. */
export function openSqliteBackend(file: string): StoreBackend {
  const location = `sqlite:${file}`;
  let database: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true });
    database = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    // WAL: readers never wait for the writer, so a CLI can list while a supervisor appends.
    database.pragma('journal_mode = WAL');
    database.pragma('foreign_keys = ON');
  } catch (error) {
    throw new FactoryError('invalid_input', `cannot open state store ${location}: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
  const db = new Kysely<StateDatabase>({ dialect: new FactorySqliteDialect({ database }) });
  return {
    dialect: 'sqlite',
    location,
    db,
    write: (work) => inTurn(file, work),
    close: () => db.destroy(),
  };
}
