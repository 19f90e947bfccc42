import pg from 'pg';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Row } from '../../src/records/record.js';
import type { SourceChunk, SourceState } from '../../src/sources/source.js';
import { PostgresCdcReader, type PostgresCdcOptions } from '../../src/sources/postgres/cdc/index.js';

// Shared by the CDC tests on the PostgreSQL from scripts/services.sh (wal_level=logical). Without PG_URL
// every test fails (never skips).

export function pgUrl(): string {
  const url = process.env.PG_URL;
  if (!url) {
    throw new Error(
      'PG_URL is not set: run the suite with `npm test` (it starts the services), or `bash scripts/services.sh start pg && set -a && source .services/env && set +a` first',
    );
  }
  return url;
}

export interface CdcHarness {
  /** A superuser connection, open for the whole file. */
  readonly admin: pg.Client;
  /** Runs `drop` after the current test (last registered first); a failure is logged, not thrown. */
  cleanup(drop: () => Promise<void>): void;
  /** A reader on PG_URL, closed after the current test. */
  reader(options?: Partial<PostgresCdcOptions>): PostgresCdcReader;
}

/** Registers the file's hooks: an admin connection, and after each test its readers closed and its cleanups run. */
export function useCdcHarness(): CdcHarness {
  let admin: pg.Client | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  const readers: PostgresCdcReader[] = [];
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl() });
    await admin.connect();
  });
  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.close().catch(() => undefined);
    for (const cleanup of cleanups.splice(0).reverse())
      await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
  });
  afterAll(async () => {
    await admin?.end();
  });
  return {
    get admin() {
      if (!admin) throw new Error('the admin connection opens in beforeAll');
      return admin;
    },
    cleanup: (drop) => void cleanups.push(drop),
    reader: (options = {}) => {
      const r = new PostgresCdcReader({ url: pgUrl(), ...options });
      readers.push(r);
      return r;
    },
  };
}

/** Pulls chunks until `done(rows so far)` holds; fails after `timeoutMs`. */
export class Puller {
  readonly chunks: SourceChunk[] = [];
  private readonly iterator: AsyncIterator<SourceChunk>;
  ended = false;

  constructor(iterable: AsyncIterable<SourceChunk>) {
    this.iterator = iterable[Symbol.asyncIterator]();
  }

  get rows(): Row[] {
    return this.chunks.flatMap((c) => [...c.rows]);
  }

  get lastState(): SourceState | undefined {
    return this.chunks.findLast((c) => c.state !== undefined)?.state;
  }

  async next(timeoutMs = 30_000): Promise<SourceChunk | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no chunk within ${timeoutMs} ms (have ${this.rows.length} rows)`)),
        timeoutMs,
      );
    });
    try {
      const result = await Promise.race([this.iterator.next(), timeout]);
      if (result.done) {
        this.ended = true;
        return undefined;
      }
      this.chunks.push(result.value);
      return result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Pulls until `done` holds for the rows pulled since the call (the chunk ending a transaction included). */
  async until(done: (rows: Row[]) => boolean, timeoutMs = 30_000): Promise<Row[]> {
    const from = this.chunks.length;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = this.chunks.slice(from).flatMap((c) => [...c.rows]);
      if (done(rows) && this.chunks.length > from && this.chunks[this.chunks.length - 1]!.state !== undefined)
        return rows;
      const chunk = await this.next(Math.max(deadline - Date.now(), 1));
      if (!chunk) throw new Error(`the iteration ended with ${rows.length} rows`);
    }
  }

  async drain(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) await this.next(Math.max(deadline - Date.now(), 1));
  }

  async return(): Promise<void> {
    await this.iterator.return?.();
  }
}
