import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine, quoteLiteral } from '../../../engine/duckdb-engine.js';
import { RuntimeError } from '../../../errors.js';
import type { ObjectStore } from '../../../stores/object-store.js';
import type {
  Add,
  CommitInfo,
  DeltaAction,
  DeltaField,
  DeltaType,
  Metadata,
  Protocol,
  Remove,
  Txn,
} from './delta-actions.js';
import { READER_VERSION, WRITER_VERSION, parseAction, parseSchemaString } from './delta-actions.js';

const LOG = '_delta_log/';
const LAST_CHECKPOINT = `${LOG}_last_checkpoint`;
const ENGINE_INFO = 'connector-factory-runtime';

/** `_delta_log/00000000000000000042.json`: versions are zero-padded to 20 digits so keys sort by version. */
export function commitKey(version: number): string {
  return `${LOG}${String(version).padStart(20, '0')}.json`;
}

/** The classic single-file checkpoint of a version. */
export function checkpointKey(version: number): string {
  return `${LOG}${String(version).padStart(20, '0')}.checkpoint.parquet`;
}

/** The table at one version, after action reconciliation. */
export interface DeltaSnapshot {
  /** -1 for a table that does not exist yet (no commit). */
  readonly version: number;
  /** Undefined only when version is -1. */
  readonly protocol: Protocol | undefined;
  readonly metadata: Metadata | undefined;
  /** Live data files by their (URI-encoded) path. */
  readonly files: Map<string, Add>;
  /** Removed files not yet expired (what VACUUM may delete), by path. */
  readonly tombstones: Map<string, Remove>;
  /** appId → the last committed txn version of that application. */
  readonly txns: Map<string, number>;
}

/** How a DeltaLog commits and checkpoints. */
export interface DeltaLogOptions {
  /** Write a checkpoint after each commit whose version is a multiple of this; 0 disables. Default 10. */
  readonly checkpointInterval?: number;
  /** How many times a commit that lost a race without a logical conflict is retried. Default 10. */
  readonly maxRetries?: number;
  /** Parent folder of temporary checkpoint files. Default: the OS temp folder. */
  readonly tempDirectory?: string;
  /**
   * Called when the automatic checkpoint after a commit fails. The commit itself is durable by then,
   * so failing it would make the caller retry a write that happened; the default emits a process warning.
   */
  readonly onCheckpointError?: (error: unknown, version: number) => void;
}

/** What a commit records about itself (commitInfo) and where it started from. */
export interface DeltaCommitOptions {
  /** e.g. 'WRITE', 'MERGE', 'CREATE TABLE'. */
  readonly operation: string;
  /** Recorded as strings (non-strings as JSON), as Spark and delta-rs history readers expect. */
  readonly operationParameters?: Readonly<Record<string, unknown>>;
  /** The snapshot version the actions were computed from; -1 to create the table. */
  readonly readVersion: number;
  /**
   * True when the commit only adds files and did not read the table. A commit that is not a blind
   * append read the whole table, so a concurrent commit that added data conflicts with it.
   */
  readonly isBlindAppend: boolean;
  /** Overrides DeltaLogOptions.maxRetries for this commit. */
  readonly maxRetries?: number;
  /**
   * True when the commit depends only on the files it removes, not on the rest of the table (a
   * retention DELETE: what it removes is decided per file): data a concurrent commit added does not
   * conflict with it; a concurrent removal of one of its files still does.
   */
  readonly readsOnlyRemovedFiles?: boolean;
}

/** Internal replay state; published states are never mutated (snapshot() hands out copies). */
interface LogState {
  version: number;
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  files: Map<string, Add>;
  tombstones: Map<string, Remove>;
  txns: Map<string, Txn>;
}

const emptyState = (): LogState => ({
  version: -1,
  protocol: undefined,
  metadata: undefined,
  files: new Map(),
  tombstones: new Map(),
  txns: new Map(),
});

const cloneState = (s: LogState): LogState => ({
  ...s,
  files: new Map(s.files),
  tombstones: new Map(s.tombstones),
  txns: new Map(s.txns),
});

/** Action reconciliation (PROTOCOL.md): the latest protocol/metaData win, the newest reference to a path wins. */
function apply(state: LogState, actions: readonly DeltaAction[]): void {
  for (const action of actions) {
    if ('add' in action) {
      state.files.set(action.add.path, action.add);
      state.tombstones.delete(action.add.path);
    } else if ('remove' in action) {
      state.files.delete(action.remove.path);
      state.tombstones.set(action.remove.path, action.remove);
    } else if ('txn' in action) state.txns.set(action.txn.appId, action.txn);
    else if ('metaData' in action) state.metadata = action.metaData;
    else if ('protocol' in action) state.protocol = action.protocol;
  }
}

/** Runs a store call, reporting anything but a RuntimeError as a 'store' failure naming the key. */
async function storeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError('store', `${what} failed: ${(error as Error).message ?? String(error)}`, { cause: error });
  }
}

function parseCommit(bytes: Uint8Array, key: string): DeltaAction[] {
  const actions: DeltaAction[] = [];
  const lines = new TextDecoder().decode(bytes).split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      throw new RuntimeError('corrupt', `${key} line ${i + 1} is not JSON: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const action = parseAction(json, `${key} line ${i + 1}`);
    if (action) actions.push(action);
  });
  return actions;
}

/** Milliseconds of `delta.deletedFileRetentionDuration` ("interval 1 week"); one week when absent or unreadable. */
export function tombstoneRetention(metadata: Metadata | undefined): number {
  const week = 7 * 24 * 3600 * 1000;
  const text = metadata?.configuration['delta.deletedFileRetentionDuration'];
  const match = text === undefined ? null : /^\s*interval\s+(\d+)\s+([a-z]+?)s?\s*$/i.exec(text);
  if (!match) return week;
  const unit: Record<string, number> = {
    millisecond: 1,
    second: 1000,
    minute: 60_000,
    hour: 3_600_000,
    day: 86_400_000,
    week,
  };
  const ms = unit[match[2]!.toLowerCase()];
  return ms === undefined ? week : Number(match[1]) * ms;
}

function fieldsWithInvariants(fields: readonly DeltaField[], prefix = ''): string[] {
  const found: string[] = [];
  const visit = (type: DeltaType, path: string) => {
    if (typeof type === 'string') return;
    if (type.type === 'struct') found.push(...fieldsWithInvariants(type.fields, `${path}.`));
    else if (type.type === 'array') visit(type.elementType, path);
    else {
      visit(type.keyType, path);
      visit(type.valueType, path);
    }
  };
  for (const field of fields) {
    if (field.metadata?.['delta.invariants'] !== undefined) found.push(prefix + field.name);
    visit(field.type, prefix + field.name);
  }
  return found;
}

/** What a commit's own actions touch, for validation and conflict checks. */
interface CommitFootprint {
  protocol: Protocol | undefined;
  metadata: Metadata | undefined;
  adds: Map<string, Add>;
  removes: Map<string, Remove>;
  txns: Map<string, number>;
}

function footprint(actions: readonly DeltaAction[], isBlindAppend: boolean): CommitFootprint {
  const fp: CommitFootprint = {
    protocol: undefined,
    metadata: undefined,
    adds: new Map(),
    removes: new Map(),
    txns: new Map(),
  };
  const misuse = (message: string) => new RuntimeError('internal', `invalid Delta commit: ${message}`);
  for (const action of actions) {
    if ('commitInfo' in action) throw misuse('commitInfo is written by DeltaLog.commit itself');
    if ('protocol' in action) {
      if (fp.protocol) throw misuse('more than one protocol action');
      fp.protocol = action.protocol;
    } else if ('metaData' in action) {
      if (fp.metadata) throw misuse('more than one metaData action');
      fp.metadata = action.metaData;
    } else if ('add' in action) {
      if (fp.adds.has(action.add.path)) throw misuse(`file ${action.add.path} is added twice`);
      fp.adds.set(action.add.path, action.add);
    } else if ('remove' in action) {
      if (fp.removes.has(action.remove.path)) throw misuse(`file ${action.remove.path} is removed twice`);
      fp.removes.set(action.remove.path, action.remove);
    } else if ('txn' in action) {
      if (fp.txns.has(action.txn.appId)) throw misuse(`two txn actions for app ${action.txn.appId}`);
      fp.txns.set(action.txn.appId, action.txn.version);
    }
  }
  for (const path of fp.adds.keys()) if (fp.removes.has(path)) throw misuse(`file ${path} is both added and removed`);
  if (isBlindAppend && (fp.removes.size > 0 || fp.metadata || fp.protocol)) {
    throw misuse(
      'a blind append may only add files (isBlindAppend is true but the commit removes files or changes metadata)',
    );
  }
  return fp;
}

/**
 * The `_delta_log` of one Delta table (protocol reader 1 / writer 2) over an object store rooted at the
 * table. Reads snapshots by replaying the latest checkpoint and the JSON commits after it; commits
 * with optimistic concurrency (a commit file is created only if absent, a lost race is retried at the
 * next version unless the winning commits conflict logically); writes classic parquet checkpoints.
 */
export class DeltaLog {
  private latest: LogState | undefined;
  private readonly checkpointInterval: number;
  private readonly maxRetries: number;
  private readonly tempParent: string;
  private readonly onCheckpointError: (error: unknown, version: number) => void;

  private constructor(
    readonly store: ObjectStore,
    options: DeltaLogOptions,
  ) {
    this.checkpointInterval = options.checkpointInterval ?? 10;
    this.maxRetries = options.maxRetries ?? 10;
    this.tempParent = options.tempDirectory ?? tmpdir();
    this.onCheckpointError =
      options.onCheckpointError ??
      ((error, version) =>
        process.emitWarning(
          `Delta checkpoint of ${store.url} at version ${version} failed (${(error as Error).message ?? String(error)}); ` +
            'the table stays readable from its JSON commits and the next checkpoint retries',
        ));
  }

  /** Opens the log of the table at the store's root and reads its latest state (version -1 when absent). */
  static async open(store: ObjectStore, options: DeltaLogOptions = {}): Promise<DeltaLog> {
    const log = new DeltaLog(store, options);
    await log.latestState();
    return log;
  }

  /** The table at `version` (default: the latest); a missing table is version -1 with no files. */
  async snapshot(version?: number): Promise<DeltaSnapshot> {
    const state = await this.state(version);
    return {
      version: state.version,
      protocol: state.protocol,
      metadata: state.metadata,
      files: new Map(state.files),
      tombstones: new Map(state.tombstones),
      txns: new Map([...state.txns].map(([appId, txn]) => [appId, txn.version])),
    };
  }

  /** The last committed txn version of an application: a batch with a version <= it was already written. */
  async txnVersion(appId: string): Promise<number | undefined> {
    return (await this.latestState()).txns.get(appId)?.version;
  }

  /**
   * Commits `actions` as the next version after `readVersion` and returns the version it got. When
   * another writer took that version first, the winning commits are checked: one that changed the
   * protocol or metadata, removed a file this commit removes, recorded a txn version >= ours for one
   * of our app ids, or (unless this is a blind append) added data, fails the commit with 'conflict';
   * otherwise the commit is retried at the next free version, up to maxRetries times.
   */
  async commit(actions: readonly DeltaAction[], options: DeltaCommitOptions): Promise<number> {
    const ours = footprint(actions, options.isBlindAppend);
    const base = await this.latestState();
    if (options.readVersion > base.version) {
      throw new RuntimeError(
        'internal',
        `Delta commit read version ${options.readVersion} is ahead of the table ${this.store.url} (latest version ${base.version})`,
      );
    }
    if (options.readVersion < 0 && (!ours.protocol || !ours.metadata)) {
      throw new RuntimeError(
        'internal',
        'creating a Delta table (readVersion -1) needs a protocol and a metaData action',
      );
    }
    this.checkWritable(ours.protocol ?? base.protocol, ours.metadata ?? base.metadata, ours);

    const operationParameters = Object.fromEntries(
      Object.entries(options.operationParameters ?? {}).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    );
    const maxRetries = options.maxRetries ?? this.maxRetries;
    let version = options.readVersion + 1;
    for (let attempt = 0; ; attempt++) {
      const commitInfo: CommitInfo = {
        timestamp: Date.now(),
        operation: options.operation,
        operationParameters,
        ...(options.readVersion >= 0 ? { readVersion: options.readVersion } : {}),
        isolationLevel: 'Serializable',
        isBlindAppend: options.isBlindAppend,
        engineInfo: ENGINE_INFO,
      };
      const committed = [{ commitInfo }, ...actions];
      const body = committed.map((a) => JSON.stringify(a)).join('\n') + '\n';
      const key = commitKey(version);
      if (await storeCall(`writing ${this.store.url}${key}`, () => this.store.putIfAbsent(key, body))) {
        await this.published(version, committed);
        return version;
      }
      if (attempt >= maxRetries) {
        throw new RuntimeError(
          'conflict',
          `Delta commit "${options.operation}" to ${this.store.url} lost the race for versions ${options.readVersion + 1}..${version} ` +
            `to concurrent writers ${attempt + 1} times (maxRetries ${maxRetries}); run the operation again when the table is less busy`,
        );
      }
      // Someone else took `version`: read every commit from there on and see whether ours still applies.
      let next = version;
      for (;;) {
        const winner = await this.readCommit(next);
        if (!winner) break;
        this.checkConflict(winner, next, ours, options);
        next++;
      }
      // `next === version` only when the store said the key exists but did not return it yet
      // (eventual consistency): try the same version again rather than leave a gap in the log.
      version = next;
    }
  }

  /**
   * Writes the classic parquet checkpoint of `version` (default: the latest) and points
   * `_last_checkpoint` at it. Called automatically every checkpointInterval commits.
   */
  async checkpoint(version?: number): Promise<void> {
    const state = await this.state(version);
    if (state.version < 0)
      throw new RuntimeError('internal', `cannot checkpoint ${this.store.url}: the table has no commits`);
    this.checkWritable(state.protocol, state.metadata, undefined);
    const cutoff = Date.now() - tombstoneRetention(state.metadata);
    const rows: DeltaAction[] = [{ protocol: state.protocol! }, { metaData: state.metadata! }];
    for (const txn of state.txns.values()) rows.push({ txn });
    for (const add of state.files.values()) rows.push({ add });
    // Expired tombstones are dropped (Spark counts a missing deletionTimestamp as 0, i.e. expired).
    for (const remove of state.tombstones.values()) if ((remove.deletionTimestamp ?? 0) > cutoff) rows.push({ remove });

    const temp = await mkdtemp(join(this.tempParent, 'delta-checkpoint-'));
    try {
      const input = join(temp, 'actions.json');
      const output = join(temp, 'checkpoint.parquet');
      await writeFile(input, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
      const engine = await openEngine({ tempDirectory: join(temp, 'spill') });
      try {
        await engine.connection.run(
          `COPY (SELECT ${CHECKPOINT_COLUMNS.map(([name]) => `"${name}"`).join(', ')} FROM read_json(${quoteLiteral(input)}, ` +
            `format = 'newline_delimited', columns = {${CHECKPOINT_COLUMNS.map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`).join(', ')}})) ` +
            `TO ${quoteLiteral(output)} (FORMAT parquet, COMPRESSION snappy)`,
        );
      } finally {
        engine.close();
      }
      const key = checkpointKey(state.version);
      await storeCall(`uploading ${this.store.url}${key}`, () => this.store.putFile(key, output));
      // Checkpointing an old version must not move the pointer of a newer checkpoint back.
      const previous = await this.lastCheckpoint();
      if (!previous || previous.version <= state.version) {
        const last = {
          version: state.version,
          size: rows.length,
          sizeInBytes: (await stat(output)).size,
          numOfAddFiles: state.files.size,
        };
        await storeCall(`writing ${this.store.url}${LAST_CHECKPOINT}`, () =>
          this.store.put(LAST_CHECKPOINT, JSON.stringify(last)),
        );
      }
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }

  // -------------------------------------------------------------------------------------------------

  /** Refuses to write a table whose protocol or schema asks for more than writer version 2 can honor. */
  private checkWritable(
    protocol: Protocol | undefined,
    metadata: Metadata | undefined,
    ours: CommitFootprint | undefined,
  ): void {
    const where = this.store.url;
    if (!protocol || !metadata)
      throw new RuntimeError('corrupt', `Delta table ${where} has no protocol or metaData action`);
    if (protocol.minReaderVersion > READER_VERSION || protocol.minWriterVersion > WRITER_VERSION) {
      const features = [...(protocol.readerFeatures ?? []), ...(protocol.writerFeatures ?? [])];
      throw new RuntimeError(
        'config',
        `Delta table ${where} requires reader version ${protocol.minReaderVersion} / writer version ${protocol.minWriterVersion}` +
          `${features.length ? ` (features: ${[...new Set(features)].join(', ')})` : ''}; this runtime writes reader 1 / writer 2 tables: ` +
          'write to a new table or one created by this runtime',
      );
    }
    if (metadata.format.provider !== 'parquet') {
      throw new RuntimeError(
        'config',
        `Delta table ${where} stores ${metadata.format.provider} files; this runtime writes parquet tables only`,
      );
    }
    const invariants = fieldsWithInvariants(parseSchemaString(metadata.schemaString));
    if (invariants.length > 0) {
      throw new RuntimeError(
        'config',
        `Delta table ${where} has column invariants on ${invariants.join(', ')}, which this runtime cannot enforce; drop them or write to another table`,
      );
    }
    if (!ours) return;
    // Readers build partition columns from partitionValues alone: every file must name every one.
    const partitioning = [...metadata.partitionColumns].sort();
    for (const add of ours.adds.values()) {
      const named = Object.keys(add.partitionValues).sort();
      if (named.join('\u0000') !== partitioning.join('\u0000')) {
        throw new RuntimeError(
          'internal',
          `invalid Delta commit: file ${add.path} has partition values for [${named.join(', ')}] but ${where} is partitioned by [${partitioning.join(', ')}]`,
        );
      }
    }
    if (metadata.configuration['delta.appendOnly'] === 'true') {
      const removal = [...ours.removes.values()].find((r) => r.dataChange);
      if (removal) {
        throw new RuntimeError(
          'config',
          `Delta table ${where} is append-only (delta.appendOnly=true) but the commit removes ${removal.path}`,
        );
      }
    }
  }

  private checkConflict(
    winner: readonly DeltaAction[],
    version: number,
    ours: CommitFootprint,
    options: DeltaCommitOptions,
  ): void {
    const conflict = (what: string) =>
      new RuntimeError(
        'conflict',
        `Delta commit "${options.operation}" to ${this.store.url} (read at version ${options.readVersion}) conflicts with concurrent version ${version}: ` +
          `${what}; re-read the table and run the operation again`,
      );
    if (options.readVersion < 0) throw conflict('the table was created concurrently');
    for (const action of winner) {
      if ('protocol' in action) throw conflict('it changed the table protocol');
      if ('metaData' in action) throw conflict('it changed the table metadata (schema, partitioning or properties)');
      if ('remove' in action && ours.removes.has(action.remove.path))
        throw conflict(`it also removed file ${action.remove.path}`);
      if ('txn' in action) {
        const mine = ours.txns.get(action.txn.appId);
        if (mine !== undefined && action.txn.version >= mine) {
          throw conflict(
            `application ${action.txn.appId} already committed txn version ${action.txn.version} (this commit carries ${mine})`,
          );
        }
      }
      if ('add' in action && action.add.dataChange && !options.isBlindAppend && !options.readsOnlyRemovedFiles) {
        throw conflict(`it added data (${action.add.path}) that this commit, which read the table, did not see`);
      }
    }
  }

  /** Advances the cached latest state past our own commit, then checkpoints when it is due. */
  private async published(version: number, committed: readonly DeltaAction[]): Promise<void> {
    if (this.latest && this.latest.version === version - 1) {
      const next = cloneState(this.latest);
      apply(next, committed);
      next.version = version;
      this.latest = next;
    }
    if (this.checkpointInterval > 0 && version > 0 && version % this.checkpointInterval === 0) {
      try {
        await this.checkpoint(version);
      } catch (error) {
        this.onCheckpointError(error, version);
      }
    }
  }

  /** The actions of one commit file, or undefined when that version does not exist. */
  async readCommit(version: number): Promise<DeltaAction[] | undefined> {
    const key = commitKey(version);
    const bytes = await storeCall(`reading ${this.store.url}${key}`, () => this.store.get(key));
    return bytes === undefined ? undefined : parseCommit(bytes, key);
  }

  /** `state` with the commits after it applied, up to `until` (default: as far as they go). */
  private async advance(state: LogState, until = Number.POSITIVE_INFINITY): Promise<LogState> {
    let next: LogState | undefined;
    while ((next ?? state).version < until) {
      const version = (next ?? state).version + 1;
      const actions = await this.readCommit(version);
      if (!actions) break;
      next ??= cloneState(state);
      apply(next, actions);
      next.version = version;
    }
    return next ?? state;
  }

  private remember(state: LogState): LogState {
    if (!this.latest || state.version >= this.latest.version) this.latest = state;
    return state;
  }

  private async latestState(): Promise<LogState> {
    if (this.latest) return this.remember(await this.advance(this.latest));
    const hint = await this.lastCheckpoint();
    if (hint) {
      const fromCheckpoint = await this.readCheckpoint(hint.version, hint.keys);
      if (fromCheckpoint) return this.remember(await this.advance(fromCheckpoint));
    }
    return this.remember(await this.fromListing(undefined));
  }

  private async state(version: number | undefined): Promise<LogState> {
    if (version === undefined) return this.latestState();
    if (!Number.isInteger(version) || version < -1)
      throw new RuntimeError('internal', `Delta version ${version} is not a version number`);
    const cached = this.latest;
    if (cached && cached.version <= version) {
      const state = await this.advance(cached, version);
      if (state.version !== version) {
        throw new RuntimeError(
          'config',
          `Delta table ${this.store.url} has no version ${version} (latest is ${state.version})`,
        );
      }
      return this.remember(state);
    }
    return this.fromListing(version);
  }

  /** `_last_checkpoint`, when present and readable (it is only a hint: a bad one means listing the log). */
  private async lastCheckpoint(): Promise<{ version: number; keys: string[] } | undefined> {
    const bytes = await storeCall(`reading ${this.store.url}${LAST_CHECKPOINT}`, () => this.store.get(LAST_CHECKPOINT));
    if (!bytes) return undefined;
    try {
      const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
      if (json === null || typeof json !== 'object') return undefined;
      const { version, parts } = json as Record<string, unknown>;
      if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) return undefined;
      if (typeof parts === 'number' && parts > 1) return { version, keys: multipartKeys(version, parts) };
      return { version, keys: [checkpointKey(version)] };
    } catch {
      return undefined;
    }
  }

  /** Replays from the newest complete checkpoint at or before `target` (default: the latest version). */
  private async fromListing(target: number | undefined): Promise<LogState> {
    const objects = await storeCall(`listing ${this.store.url}${LOG}`, () => this.store.list(LOG));
    const commits = new Set<number>();
    const classic = new Set<number>();
    const parts = new Map<string, { version: number; total: number; seen: Set<number> }>();
    for (const { key } of objects) {
      const name = key.slice(LOG.length);
      let m = /^(\d{20})\.json$/.exec(name);
      if (m) {
        commits.add(Number(m[1]));
        continue;
      }
      m = /^(\d{20})\.checkpoint\.parquet$/.exec(name);
      if (m) {
        classic.add(Number(m[1]));
        continue;
      }
      m = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/.exec(name);
      if (m) {
        const id = `${m[1]}/${m[3]}`;
        const entry = parts.get(id) ?? { version: Number(m[1]), total: Number(m[3]), seen: new Set<number>() };
        entry.seen.add(Number(m[2]));
        parts.set(id, entry);
      }
    }
    // Checkpoints by version; a multi-part one counts only when every part is there.
    const checkpoints = new Map<number, string[]>();
    for (const { version, total, seen } of parts.values())
      if (seen.size === total) checkpoints.set(version, multipartKeys(version, total));
    for (const version of classic) checkpoints.set(version, [checkpointKey(version)]);

    const latest = Math.max(-1, ...commits, ...checkpoints.keys());
    const wanted = target ?? latest;
    if (wanted > latest)
      throw new RuntimeError('config', `Delta table ${this.store.url} has no version ${wanted} (latest is ${latest})`);
    if (wanted < 0) return emptyState();

    const usable = [...checkpoints.keys()].filter((v) => v <= wanted).sort((a, b) => b - a);
    let state: LogState | undefined;
    for (const version of usable) {
      state = await this.readCheckpoint(version, checkpoints.get(version)!);
      if (state) break;
    }
    state ??= emptyState();
    for (let version = state.version + 1; version <= wanted; version++) {
      if (!commits.has(version)) {
        throw new RuntimeError(
          'corrupt',
          `Delta log of ${this.store.url} has no commit ${commitKey(version)} and no checkpoint to start after it; version ${wanted} cannot be rebuilt`,
        );
      }
      const actions = await this.readCommit(version);
      if (!actions)
        throw new RuntimeError(
          'corrupt',
          `Delta commit ${commitKey(version)} of ${this.store.url} vanished while it was read`,
        );
      apply(state, actions);
      state.version = version;
    }
    return state;
  }

  /** The state stored in a checkpoint, or undefined when one of its files is missing. */
  private async readCheckpoint(version: number, keys: readonly string[]): Promise<LogState | undefined> {
    const temp = await mkdtemp(join(this.tempParent, 'delta-checkpoint-'));
    try {
      const files: string[] = [];
      for (const [i, key] of keys.entries()) {
        const file = join(temp, `part-${i}.parquet`);
        if (!(await storeCall(`downloading ${this.store.url}${key}`, () => this.store.download(key, file))))
          return undefined;
        files.push(file);
      }
      const engine = await openEngine({ tempDirectory: join(temp, 'spill') });
      let rows: unknown[][];
      try {
        // Every row to JSON: the struct and map columns become objects whatever schema the writer used.
        const reader = await engine.connection.runAndReadAll(
          `SELECT to_json(cp) FROM read_parquet([${files.map(quoteLiteral).join(', ')}], union_by_name = true) AS cp`,
        );
        rows = reader.getRowsJson();
      } catch (error) {
        throw new RuntimeError(
          'corrupt',
          `Delta checkpoint ${keys.join(', ')} of ${this.store.url} cannot be read: ${(error as Error).message}`,
          { cause: error },
        );
      } finally {
        engine.close();
      }
      const state = emptyState();
      state.version = version;
      const where = `${this.store.url}${keys[0]}`;
      for (const [i, row] of rows.entries()) {
        const text = row[0];
        if (typeof text !== 'string')
          throw new RuntimeError('corrupt', `Delta checkpoint ${where} row ${i} did not convert to JSON`);
        const json = JSON.parse(text) as Record<string, unknown>;
        if (json.sidecar !== undefined && json.sidecar !== null) {
          throw new RuntimeError(
            'config',
            `Delta checkpoint ${where} is a V2 checkpoint with sidecar files, which this runtime cannot read`,
          );
        }
        const add = json.add;
        if (add !== null && typeof add === 'object') {
          // Engines that write stats only as a struct (writeStatsAsJson=false) still give us the numbers.
          const fields = add as Record<string, unknown>;
          if (
            (fields.stats === undefined || fields.stats === null) &&
            fields.stats_parsed !== undefined &&
            fields.stats_parsed !== null
          ) {
            fields.stats = JSON.stringify(fields.stats_parsed);
          }
        }
        const action = parseAction(json, `${where} row ${i}`);
        if (action) apply(state, [action]);
      }
      if (!state.protocol || !state.metadata)
        throw new RuntimeError('corrupt', `Delta checkpoint ${where} has no protocol or metaData row`);
      return state;
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
  }
}

function multipartKeys(version: number, total: number): string[] {
  const prefix = `${LOG}${String(version).padStart(20, '0')}.checkpoint`;
  return Array.from(
    { length: total },
    (_, i) => `${prefix}.${String(i + 1).padStart(10, '0')}.${String(total).padStart(10, '0')}.parquet`,
  );
}

/**
 * The parquet schema of a checkpoint (PROTOCOL.md, "Checkpoint Schema"), as DuckDB types: one struct
 * column per action; maps are MAP(VARCHAR, VARCHAR), stats a JSON string.
 */
const MAP = 'MAP(VARCHAR, VARCHAR)';
const CHECKPOINT_COLUMNS: readonly (readonly [string, string])[] = [
  ['txn', 'STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)'],
  [
    'add',
    `STRUCT(path VARCHAR, partitionValues ${MAP}, size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags ${MAP})`,
  ],
  [
    'remove',
    `STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues ${MAP}, size BIGINT)`,
  ],
  [
    'metaData',
    `STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, options ${MAP}), schemaString VARCHAR, ` +
      `partitionColumns VARCHAR[], createdTime BIGINT, configuration ${MAP})`,
  ],
  ['protocol', 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)'],
];
