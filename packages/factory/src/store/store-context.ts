import type { Kysely } from 'kysely';
import { FactoryError } from '../errors.js';
import type { StateDatabase } from './database.js';
import type { StoreBackend } from './store-backend.js';

/** What every repository of the state store shares: the database, its writes and how failures read. */
export interface StoreContext {
  readonly db: Kysely<StateDatabase>;
  readonly dialect: StoreBackend['dialect'];
  /** `sqlite:<path>` or the URL with its password redacted: for messages. */
  readonly location: string;
  /** Runs a write; SQLite serialises the writes of one process to one file (see sqlite-backend.ts). */
  write<T>(work: () => Promise<T>): Promise<T>;
  /** Database failures become FactoryErrors that name the store and `what` failed; a FactoryError passes through. */
  guard<A extends unknown[], R>(what: string, run: (...args: A) => Promise<R>): (...args: A) => Promise<R>;
}

/** ISO-8601 UTC, the way the store writes every time. */
export const now = (): string => new Date().toISOString();

export function storeContext(backend: StoreBackend): StoreContext {
  const { location } = backend;
  return {
    db: backend.db,
    dialect: backend.dialect,
    location,
    write: (work) => backend.write(work),
    guard:
      <A extends unknown[], R>(what: string, run: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        try {
          return await run(...args);
        } catch (error) {
          if (error instanceof FactoryError) throw error;
          const message = (error as Error).message;
          const hint = /database is locked|SQLITE_BUSY/.test(message)
            ? ' (another process held the state store too long; try again)'
            : '';
          throw new FactoryError('internal', `state store ${location}: ${what} failed: ${message}${hint}`, [], {
            cause: error,
          });
        }
      },
  };
}
