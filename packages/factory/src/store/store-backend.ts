import type { Kysely } from 'kysely';
import type { StateDatabase } from './database.js';

/** One database the state store runs on: the Kysely instance and what differs between dialects. */
export interface StoreBackend {
  readonly dialect: 'sqlite' | 'postgres';
  /** For messages: `sqlite:<path>` or the URL with its password redacted. */
  readonly location: string;
  readonly db: Kysely<StateDatabase>;
  /** The PostgreSQL schema the tables live in; undefined for SQLite. */
  readonly schema?: string;
  /** Runs a write; SQLite serialises the writes of one process to one file (see sqlite-backend.ts). */
  write<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
