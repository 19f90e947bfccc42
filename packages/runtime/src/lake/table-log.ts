/** Min/max/null statistics of one data file, by column (Delta's per-file stats). */
export interface FileStats {
  readonly numRecords: number;
  readonly minValues: Readonly<Record<string, unknown>>;
  readonly maxValues: Readonly<Record<string, unknown>>;
  readonly nullCount: Readonly<Record<string, number>>;
}

/** One data file of a table, as its log knows it. */
export interface TableFile {
  /** Key relative to the table root, e.g. `dt=2025-01-31/part-….parquet`. */
  readonly path: string;
  readonly size: number;
  readonly partitionValues: Readonly<Record<string, string | null>>;
  readonly stats?: FileStats;
}

/** A table at one version: its live files and the last batch each writer committed. */
export interface TableSnapshot {
  /** -1 for a table that does not exist yet. */
  readonly version: number;
  readonly files: ReadonlyMap<string, TableFile>;
  /** appId → last committed batch sequence (exactly-once). */
  readonly txns: ReadonlyMap<string, number>;
}

/** One atomic change: files added and removed, stamped with the batch that made it. */
export interface TableChange {
  readonly readVersion: number;
  readonly operation: 'WRITE' | 'MERGE' | 'CREATE OR REPLACE TABLE' | 'DELETE';
  readonly appId: string;
  readonly sequence: number;
  readonly add: readonly TableFile[];
  readonly remove: readonly TableFile[];
  readonly dataChange: boolean;
  readonly parameters?: Readonly<Record<string, string>>;
  /** Where the source resumes after this batch; stored in the commit, atomically with the data. */
  readonly state?: unknown;
}

/** The last batch a writer committed and the source state stored with it. */
export interface CommittedBatch {
  readonly sequence: number;
  readonly state: unknown;
}

/**
 * A table's commit log: Delta's `_delta_log` or the plain formats' `_cf_log`. A commit is atomic
 * (the log entry is created only if absent) and carries the batch id, so a replayed batch is a no-op.
 */
export interface TableLog {
  snapshot(): Promise<TableSnapshot>;
  /**
   * Where a writer uploads a new file before the commit. Delta: the file's own path (a file no log
   * entry names is invisible). Plain formats: a hidden staging key that the commit then publishes.
   */
  uploadKey(path: string, token: string): string;
  /**
   * Commits a change whose new files were uploaded under `token`; returns the new version. Fails with a
   * 'conflict' RuntimeError when a concurrent commit makes it impossible.
   */
  commit(change: TableChange, token: string): Promise<number>;
  /** The last batch `appId` committed, with its source state; undefined when it never committed. */
  lastCommit(appId: string): Promise<CommittedBatch | undefined>;
  /**
   * Finishes what a crashed writer of `appId` left half done and removes its uncommitted uploads
   * (their names start with `part-<ownedPrefix>` or their staging token with `ownedPrefix`).
   */
  recover(ownedPrefix: string, appId: string): Promise<void>;
}
