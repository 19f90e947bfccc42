import { RuntimeError } from '../../errors.js';
import type { ObjectStore } from '../../stores/object-store.js';
import type { CommittedBatch, TableChange, TableFile, TableLog, TableSnapshot } from '../table-log.js';

const LOG = '_cf_log/';
const STAGING = '_cf_staging/';
const MAX_ATTEMPTS = 10;

/** One entry of a plain table's log (`_cf_log/NNNNNNNNNNNNNNNNNNNN.json`). */
interface PlainLogEntry {
  readonly version: number;
  readonly timestamp: number;
  readonly operation: string;
  readonly appId: string;
  readonly sequence: number;
  readonly token: string;
  readonly add: readonly TableFile[];
  readonly remove: readonly string[];
  readonly state?: unknown;
}

const entryKey = (version: number) => `${LOG}${String(version).padStart(20, '0')}.json`;

/**
 * The commit log of a parquet, json or avro table. Readers that list folders (DuckDB, pyarrow, Spark)
 * skip `_`-prefixed names, so new files wait in `_cf_staging/<token>/` until the log entry that names
 * them exists; the entry is the commit point, and publishing its files is a roll-forward step that
 * `recover` repeats after a crash. Overwrite and merge delete replaced files after publishing the new
 * ones: log-aware readers switch atomically; a folder-listing reader may see both for that moment
 * (Delta tables have no such window).
 */
export class PlainLog implements TableLog {
  private cache: { version: number; entries: PlainLogEntry[] } = { version: -1, entries: [] };

  constructor(private readonly store: ObjectStore) {}

  uploadKey(path: string, token: string): string {
    return `${STAGING}${token}/${path}`;
  }

  private async entries(): Promise<PlainLogEntry[]> {
    const keys = (await this.store.list(LOG)).map((o) => o.key).filter((k) => /^_cf_log\/\d{20}\.json$/.test(k));
    for (const key of keys) {
      const version = Number(key.slice(LOG.length, LOG.length + 20));
      if (version <= this.cache.version) continue;
      const bytes = await this.store.get(key);
      if (!bytes) continue;
      let entry: PlainLogEntry;
      try {
        entry = JSON.parse(Buffer.from(bytes).toString('utf8')) as PlainLogEntry;
      } catch (error) {
        throw new RuntimeError('corrupt', `${this.store.url}${key}: unreadable log entry`, { cause: error });
      }
      if (version !== this.cache.version + 1) {
        throw new RuntimeError('corrupt', `${this.store.url}${LOG}: version ${this.cache.version + 1} is missing`);
      }
      this.cache = { version, entries: [...this.cache.entries, entry] };
    }
    return this.cache.entries;
  }

  async snapshot(): Promise<TableSnapshot> {
    const entries = await this.entries();
    const files = new Map<string, TableFile>();
    const txns = new Map<string, number>();
    for (const entry of entries) {
      for (const path of entry.remove) files.delete(path);
      for (const file of entry.add) files.set(file.path, file);
      txns.set(entry.appId, Math.max(entry.sequence, txns.get(entry.appId) ?? -1));
    }
    return { version: entries.length - 1, files, txns };
  }

  async lastCommit(appId: string): Promise<CommittedBatch | undefined> {
    const entries = await this.entries();
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i]!;
      if (entry.appId === appId) return { sequence: entry.sequence, state: entry.state ?? null };
    }
    return undefined;
  }

  async commit(change: TableChange, token: string): Promise<number> {
    let readVersion = change.readVersion;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const entry: PlainLogEntry = {
        version: readVersion + 1,
        timestamp: Date.now(),
        operation: change.operation,
        appId: change.appId,
        sequence: change.sequence,
        token,
        add: change.add,
        remove: change.remove.map((f) => f.path),
        ...(change.state !== undefined ? { state: change.state } : {}),
      };
      if (await this.store.putIfAbsent(entryKey(entry.version), JSON.stringify(entry))) {
        await this.apply(entry);
        return entry.version;
      }
      // Someone else committed first: retry on top of them unless their change touches ours.
      const snapshot = await this.snapshot();
      if ((snapshot.txns.get(change.appId) ?? -1) >= change.sequence) {
        throw new RuntimeError('conflict', `batch ${change.appId}@${change.sequence} was committed by another writer`);
      }
      const lost = change.remove.find((f) => !snapshot.files.has(f.path));
      if (lost)
        throw new RuntimeError(
          'conflict',
          `a concurrent commit removed ${lost.path}, which this ${change.operation} replaces; rerun the batch`,
        );
      readVersion = snapshot.version;
    }
    throw new RuntimeError(
      'conflict',
      `could not commit to ${this.store.url} after ${MAX_ATTEMPTS} attempts: too many concurrent writers`,
    );
  }

  /** Publishes an entry's staged files and deletes the files it replaced; safe to repeat. */
  private async apply(entry: PlainLogEntry): Promise<void> {
    // One listing of the batch's staging folder; files already moved (a repeat after a crash) are skipped.
    const staged = new Set((await this.store.list(`${STAGING}${entry.token}/`)).map((o) => o.key));
    for (const file of entry.add) {
      const key = this.uploadKey(file.path, entry.token);
      if (staged.delete(key)) await moveObject(this.store, key, file.path);
    }
    await this.store.delete(entry.remove);
    await this.store.delete([...staged]);
  }

  async recover(ownedPrefix: string): Promise<void> {
    const entries = await this.entries();
    const last = entries[entries.length - 1];
    if (last) await this.apply(last);
    // Uploads of batches that never committed (their token is not in the log).
    const committed = new Set(entries.map((e) => e.token));
    const leftovers = (await this.store.list(`${STAGING}${ownedPrefix}`)).filter(
      (o) => !committed.has(o.key.slice(STAGING.length).split('/')[0]!),
    );
    await this.store.delete(leftovers.map((o) => o.key));
  }
}

/** Moves an object within a store, by the store's own move where it has one. */
async function moveObject(store: ObjectStore, from: string, to: string): Promise<void> {
  if (store.rename) {
    await store.rename(from, to);
    return;
  }
  // A store that cannot move objects: copy through this process.
  const bytes = await store.get(from);
  if (bytes === undefined) return;
  await store.put(to, bytes);
  await store.delete([from]);
}
