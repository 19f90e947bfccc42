import { CompiledQuery, Kysely, PostgresDialect, sql } from 'kysely';
import { redactSecrets } from '@connector-factory/ir';
import pg from 'pg';
import { FactoryError } from '../errors.js';
import type { StateDatabase } from './database.js';
import type { StoreBackend } from './store-backend.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The URL with its password replaced by `***`, for messages. */
export function redactUrl(url: URL): string {
  return redactSecrets(url.toString());
}

/**
 * Connects to PostgreSQL from a `postgres://` or `postgresql://` URL. `?schema=<name>` puts the tables
 * in that schema (created if missing; default `public`), so teams and tests can share one database.
 */
export async function openPostgresBackend(url: string): Promise<StoreBackend> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new FactoryError(
      'invalid_input',
      'the state store URL is not a valid URL (expected postgres://user@host/db)',
      [],
      {
        cause: error,
      },
    );
  }
  const schema = parsed.searchParams.get('schema') ?? 'public';
  const location = redactUrl(parsed);
  if (!IDENTIFIER.test(schema)) {
    throw new FactoryError(
      'invalid_input',
      `state store ${location}: schema ${JSON.stringify(schema)} is not a plain identifier (letters, digits and _, not starting with a digit)`,
    );
  }
  const connection = new URL(parsed.toString());
  connection.searchParams.delete('schema');
  const pool = new pg.Pool({ connectionString: connection.toString(), max: 4 });
  // An idle connection that the server drops emits 'error' on the pool; the next query reports it instead.
  pool.on('error', () => undefined);
  const db = new Kysely<StateDatabase>({
    dialect: new PostgresDialect({
      pool,
      onCreateConnection: async (conn) => {
        await conn.executeQuery(CompiledQuery.raw(`set search_path to "${schema}"`));
      },
    }),
  });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw new FactoryError(
      'invalid_input',
      `cannot connect to state store ${location}: ${(error as Error).message}`,
      [],
      {
        cause: error,
      },
    );
  }
  return {
    dialect: 'postgres',
    location,
    db,
    schema,
    write: (work) => work(),
    close: () => db.destroy(),
  };
}
