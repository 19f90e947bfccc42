import { isAbsolute, join, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import { FactoryError } from '../errors.js';
import { factoryHome } from '../home.js';
import { KyselyStateStore } from './kysely-state-store.js';
import type { StateStore } from './state-store.js';
import type { StoreBackend } from './store-backend.js';

/**
 * Where the state store lives when no location is given: `CONNECTOR_FACTORY_STATE`, else
 * `<factory home>/state.db`.
 */
export function defaultStateLocation(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['CONNECTOR_FACTORY_STATE'];
  return configured !== undefined && configured !== '' ? configured : join(factoryHome(env), 'state.db');
}

/**
 * Opens the state store and migrates it to the latest schema. `location` is a file path or
 * `sqlite:<path>` (an embedded SQLite file, created with its folder), or a `postgres://` /
 * `postgresql://` URL (`?schema=<name>` to keep the tables in their own schema). Close it when done.
 */
export async function openStateStore(location: string = defaultStateLocation()): Promise<StateStore> {
  const backend = await openBackend(location);
  try {
    const { migrateToLatest } = await import('./migrations.js');
    // Migrations see the database as it is, not as the current table types say.
    await migrateToLatest(backend.db as unknown as Kysely<unknown>, backend.location, {
      ...(backend.schema !== undefined ? { schema: backend.schema } : {}),
    });
  } catch (error) {
    await backend.close();
    throw error;
  }
  return new KyselyStateStore(backend);
}

async function openBackend(location: string): Promise<StoreBackend> {
  if (location.trim() === '') throw new FactoryError('usage', 'the state store location is empty');
  // The drivers load on first use: commands that never open the store do not pay for them.
  if (/^postgres(?:ql)?:\/\//i.test(location)) {
    const { openPostgresBackend } = await import('./postgres-backend.js');
    return openPostgresBackend(location);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location);
  if (scheme && scheme[1]!.toLowerCase() !== 'sqlite') {
    throw new FactoryError(
      'invalid_input',
      `unsupported state store location "${scheme[1]}://…"; use a file path, sqlite:<path> or a postgres:// URL`,
    );
  }
  const path = location.replace(/^sqlite:(?:\/\/)?/i, '');
  if (path === '') throw new FactoryError('usage', `the state store location "${location}" has no file path`);
  const { openSqliteBackend } = await import('./sqlite-backend.js');
  return openSqliteBackend(isAbsolute(path) ? path : resolve(path));
}
