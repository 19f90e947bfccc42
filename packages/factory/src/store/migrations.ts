import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { FactoryError } from '../errors.js';
import { initial } from './migrations/0001-initial.js';
import { monitorCertification } from './migrations/0002-monitor-certification.js';

/** Every migration of the state store, by name; names sort in the order they apply. Append, never edit. */
export const STATE_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-initial': initial,
  '0002-monitor-certification': monitorCertification,
};

/** Kysely's bookkeeping tables, named like ours so that a shared PostgreSQL schema stays readable. */
const MIGRATION_TABLE = 'cf_migrations';
const MIGRATION_LOCK_TABLE = 'cf_migration_lock';

/** Migrations defined in code: nothing is read from the file system, so a bundled CLI migrates the same. */
class InCodeMigrationProvider implements MigrationProvider {
  constructor(private readonly migrations: Readonly<Record<string, Migration>>) {}
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve({ ...this.migrations });
  }
}

/**
 * Brings the database up to the latest of `migrations` and returns the names it applied. Safe to run
 * from several processes at once (Kysely takes a lock on PostgreSQL; SQLite runs it in an immediate
 * transaction). A database that has a migration this code does not know was written by a newer version.
 */
export async function migrateToLatest(
  // The migrations run against whatever the database is at each step, not the current table types.
  db: Kysely<unknown>,
  location: string,
  options: { migrations?: Readonly<Record<string, Migration>>; schema?: string } = {},
): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: new InCodeMigrationProvider(options.migrations ?? STATE_MIGRATIONS),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
    ...(options.schema !== undefined ? { migrationTableSchema: options.schema } : {}),
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const message = error instanceof Error ? error.message : String(error);
    const missing = /previously executed migration (\S+) is missing/.exec(message);
    if (missing) {
      throw new FactoryError(
        'invalid_input',
        `state store ${location} was migrated by a newer connector-factory (it has migration ${missing[1]}, which this version does not know); upgrade connector-factory or point --state elsewhere`,
        [],
        { cause: error },
      );
    }
    const failed = results.find((result) => result.status === 'Error');
    throw new FactoryError(
      'internal',
      `state store ${location}: migration ${failed?.migrationName ?? '(setup)'} failed: ${message}`,
      [],
      { cause: error },
    );
  }
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
