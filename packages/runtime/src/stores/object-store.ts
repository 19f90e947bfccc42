/** One object of a store, with its key relative to the store's root. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

/**
 * Where a table's files live: a local folder or an S3 prefix. Keys are relative, `/`-separated paths
 * under the root (e.g. `dt=2025-01-31/part-0001.parquet`, `_delta_log/00000000000000000000.json`).
 * Every write is atomic: a reader sees the whole object or nothing.
 */
export interface ObjectStore {
  /** The root, as a URL: `file:///abs/path/` or `s3://bucket/prefix/`. */
  readonly url: string;
  /** Publishes a local file under `key`, replacing any object there. */
  putFile(key: string, localFile: string): Promise<void>;
  /** Writes bytes under `key`, replacing any object there. */
  put(key: string, data: Uint8Array | string): Promise<void>;
  /**
   * Writes bytes under `key` only if nothing is there yet; returns false (and writes nothing) when the
   * key exists. This is the primitive behind optimistic concurrency of table logs.
   */
  putIfAbsent(key: string, data: Uint8Array | string): Promise<boolean>;
  /** The object's bytes, or undefined when it does not exist. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Copies the object to a local file; false when it does not exist. */
  download(key: string, localFile: string): Promise<boolean>;
  /** Every object whose key starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /**
   * Moves an object; false (and nothing changed) when `from` does not exist. A local folder renames
   * atomically; S3 copies server-side, then deletes — no bytes pass through this process either way.
   */
  rename?(from: string, to: string): Promise<boolean>;
  /** Removes what crashed writers left outside any key (a local folder's temporary files). */
  cleanUp?(): Promise<void>;
  /** Deletes objects; missing keys are ignored. */
  delete(keys: readonly string[]): Promise<void>;
}
