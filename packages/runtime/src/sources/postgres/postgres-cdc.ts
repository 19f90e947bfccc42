import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { copyTextChunks } from './copy-chunks.js';
import { startCopyOut } from './copy-out.js';
import { RuntimeError } from '../../errors.js';
import { newRecord } from '../../lake/record.js';
import type { Row } from '../../lake/stage.js';
import { redactUrl } from '../env.js';
import type { EntityRef, ReadMode, SourceChunk, SourceState, SqlConnectionOptions } from '../source.js';
import { connectPostgres, pgError, quoteIdent } from './postgres-connection.js';
import {
  checkPublishes,
  checkReplicaIdentity,
  connectReplication,
  createSlotWithSnapshot,
  dropSlot,
  ensurePublication,
  formatLsn,
  loadCdcColumns,
  parseLsn,
  publicationState,
  resolveCdcTable,
  selectCdcFields,
  slotInfo,
  terminateSlotHolder,
  validateReplicationName,
  type CdcColumn,
  type CdcTable,
} from './postgres-cdc-slots.js';
import { converterForOid, rawTextPgTypes, type TextConverter } from './postgres-values.js';

export { dropReplication, formatLsn, parseLsn } from './postgres-cdc-slots.js';

/**
 * PostgreSQL change data capture with logical replication (pgoutput), for `mode.strategy === 'cdc'`.
 *
 * Set-up. The publication `mode.publication` is created `FOR TABLE <entity>` when absent (the table is
 * added when the publication exists without it), before the slot, so that the slot decodes with it.
 * The logical slot `mode.slot` uses pgoutput. Names are lower-case identifiers of at most 63 characters.
 * The table must have REPLICA IDENTITY DEFAULT with a primary key, USING INDEX, or FULL, covering the
 * entity's key; the reader never alters a user's table and fails with the fix otherwise.
 *
 * Partitioned tables (relkind p, PostgreSQL 13+). The publication publishes via the partition root
 * (`publish_via_partition_root = true`, set when it is created, or on an existing one that lacks it when
 * no other partitioned table in it relies on the old setting): every partition's changes arrive under the
 * parent's relation, partitions attached while streaming included; a detached partition is another table
 * from then on, so its later changes are not read (its rows stay in the lake: a detach logs no deletes,
 * and rows a table held before it was attached log no inserts; likewise PostgreSQL publishes no TRUNCATE of
 * a single partition via the root, while a TRUNCATE of the parent fails the read as above). The snapshot
 * copies the parent, i.e. all partitions. A row moving between partitions arrives as a delete and an insert. Each leaf logs with its
 * own replica identity; leaves whose updates or deletes would carry no key are refused at set-up.
 *
 * Initial snapshot (state undefined, or without `snapshotDone`). A left-over slot (a snapshot that never
 * finished) is dropped; the slot is created on a replication connection with
 * `CREATE_REPLICATION_SLOT … LOGICAL pgoutput EXPORT_SNAPSHOT`; the table is copied (`COPY … TO STDOUT`,
 * streamed with backpressure, chunks of `chunkRows`, `_op: 'r'`) in a REPEATABLE READ transaction that
 * imported that snapshot (`SET TRANSACTION SNAPSHOT`), so the copy holds exactly the transactions that
 * committed before the slot's consistent point and the stream holds exactly the others. Only the last
 * snapshot chunk carries a state, `{ lsn: <consistent point>, snapshotDone: true }`: a crash mid-snapshot
 * starts the snapshot over.
 *
 * Streaming. `START_REPLICATION SLOT … LOGICAL <lsn> (proto_version '1', publication_names '…')`, decoded
 * here (see "Why not pg-logical-replication" below). Rows carry the entity's fields and `_op`: `c`
 * insert, `u` update, `d` delete (the replica identity's key columns; every field with REPLICA IDENTITY
 * FULL). An update that changes the key is emitted as a delete of the old key followed by the update.
 * Values are converted from pgoutput's text with the postgres source's converters (postgres-values.ts;
 * the replication session gets the same DateStyle/TimeZone/… settings). Consecutive small transactions
 * share a chunk; a chunk that ends a transaction carries `{ lsn: <commit end LSN>, snapshotDone: true }`,
 * and a transaction's changes are never split across a state: a big one comes in several chunks of which
 * only the last carries the state. Transactions that committed before the resume LSN are skipped (the
 * server may replay them after a crash, as confirmed positions are persisted lazily). TRUNCATE of the
 * table fails the read with a clear error (rows cannot express it; take a new snapshot). Transactions of
 * other tables in the same publication are skipped.
 *
 * Unchanged TOAST values. An update that does not touch a large (TOASTed) value sends it as "unchanged"
 * with no data. With REPLICA IDENTITY FULL the old row carries it and it is filled in from there.
 * Otherwise (`unchangedToast: 'fetch'`, the default) it is read back from the table by the replica
 * identity key just before the chunk is handed over. That value can be newer than the update (eventual
 * consistency: any later change of that column arrives later in the stream and overwrites it; a row
 * deleted meanwhile gets no value, and its delete follows). `unchangedToast: 'omit'` leaves the field
 * out of the row instead: cheaper, but the lake writer replaces whole rows, so it stores null for a
 * nullable column (and quarantines the row for a NOT NULL one) — only for writers that merge partial rows.
 *
 * Acknowledgement and heartbeats. `acknowledge(state)` (the caller calls it after the lake committed up
 * to `state`) sends a standby status update with flush = `state.lsn`; nothing earlier is ever confirmed.
 * Keepalives that request a reply are answered at once, and every `heartbeatSeconds` (default 10; keep it
 * below the server's wal_sender_timeout) a status update repeats the confirmed position, also while the
 * consumer is busy and the socket is paused. When idle — no transaction open, nothing buffered or handed
 * over without state, and everything handed over acknowledged — the position confirmed is advanced to the
 * server's latest keepalive WAL end (or the end of the latest skipped transaction), as pg_recvlogical
 * does: everything before it has been decoded and nothing of it is pending, so an idle slot (or one whose
 * publication only sees other tables' changes) does not pin WAL. The replication connection stays open
 * after the iteration ends (so acknowledge() can confirm the last state) until close() or the next read().
 *
 * `stopWhenCaughtUp` ends the iteration once the stream has reached the server's WAL insert position
 * captured when streaming started (`pg_current_wal_insert_lsn()`: it also covers asynchronous commits
 * not flushed yet) — a commit or keepalive at or beyond it with no transaction open; keepalives are
 * requested while waiting — or after `caughtUpIdleMs` without any message as a fallback.
 *
 * Reconnection. If the replication connection drops (server restart, network), the reader reconnects with
 * exponential backoff (`reconnectAttempts`, default 10, from `reconnectDelayMs` 250 up to
 * `reconnectMaxDelayMs` 10 000; abortable with the signal) and resumes from the last decoded commit: the
 * slot keeps everything not confirmed. Rows of a transaction already handed over without state before the
 * drop are skipped when it is replayed, so nothing is handed over twice or lost. A stale walsender of
 * this reader still holding the slot (after a network failure) is terminated; another one is not.
 *
 * Why not pg-logical-replication. Its service acknowledges the last *received* LSN on a timer even with
 * `auto: false` (unless the timer is disabled), adds one to every acknowledged LSN, has no backpressure
 * unless its flow-control queue is on, and its pgoutput parser converts values with pg's global type
 * parsers (timestamps to Date, losing microseconds) and cannot tell an unchanged TOAST value from a
 * missing one. The protocol is small, so it is implemented here on `pg`'s replication connection
 * (`replication: 'database'`), reading CopyData frames from pg's own protocol parser: exact LSNs, manual
 * confirmation only, the socket paused while too many rows are buffered.
 *
 * xmin fallback (servers without logical replication: wal_level below logical, no REPLICATION role, or a
 * managed service that offers neither). `readByXmin` reads rows whose inserting/updating transaction id is
 * newer than the last one read: `WHERE xmin::text::bigint > $1` ordered by it, up to the snapshot's oldest
 * running transaction (so a transaction still running, which may have a smaller id than committed ones,
 * is read next time instead of being skipped), with state `{ xmin }`. Limits: deletes are never seen
 * (only a full refresh removes them); xmin is a 32-bit counter that wraps around every ~4 billion
 * transactions (and is compared modulo 2^32, so a saved position is only meaningful within ~2 billion
 * transactions: the reader fails when it detects the wrap, and a full refresh is then needed); an update
 * gives the row a new xmin, so updated rows are read again (good) but a row's position says nothing about
 * when it was first inserted; VACUUM FREEZE (or aggressive autovacuum) makes old rows show the frozen
 * xmin 2, so a row frozen before it was read is never read (not safe across freezing: keep runs far more
 * frequent than vacuum_freeze_min_age transactions); the scan cannot use an index, so every run reads the
 * whole table; rows are read again after a crash within a chunk (at least once, use a merge write).
 */

/** Options of the CDC reader: the SQL connection options plus the knobs below. */
export interface PostgresCdcOptions extends SqlConnectionOptions {
  /** Unchanged TOAST values of updates without the old row: read back (default) or leave the field out. */
  readonly unchangedToast?: 'fetch' | 'omit';
  /** Reconnection attempts after the replication connection drops (default 10). */
  readonly reconnectAttempts?: number;
  /** First reconnection delay; doubles per attempt (default 250 ms). */
  readonly reconnectDelayMs?: number;
  /** Longest reconnection delay (default 10 000 ms). */
  readonly reconnectMaxDelayMs?: number;
  /** With stopWhenCaughtUp: end after this long without any message from the server (default 5000 ms). */
  readonly caughtUpIdleMs?: number;
  /** Rows decoded ahead of the consumer before the socket is paused (default 4 × chunkRows). */
  readonly maxBufferedRows?: number;
}

type CdcMode = Extract<ReadMode, { strategy: 'cdc' }>;
type MutableRow = Record<string, unknown>;

/** The state of a CDC read: where to resume and whether the initial snapshot finished. */
export interface CdcState extends SourceState {
  readonly lsn: string;
  readonly snapshotDone: true;
}

const PG_EPOCH_MS = 946_684_800_000n;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** A saved state's resume LSN, or undefined when no snapshot finished (then a new snapshot is taken). */
function savedLsn(state: SourceState | undefined): bigint | undefined {
  if (state === undefined || state.snapshotDone !== true) return undefined;
  return parseLsn(state.lsn, 'the saved state lsn');
}

function cdcState(lsn: bigint): CdcState {
  return { lsn: formatLsn(lsn), snapshotDone: true };
}

/** Sets a field of a row made by `newRecord` (no Object.prototype: `__proto__` is an own field too). */
function setField(row: MutableRow, name: string, value: unknown): void {
  row[name] = value;
}

// ---------------------------------------------------------------------------------------------- errors

/** SQLSTATEs and socket errors worth a reconnection: the server is restarting, overloaded or unreachable. */
const TRANSIENT_CODES = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, in recovery)
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
  '55006', // object_in_use: the slot is still held by a walsender that has not exited yet
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** The SQLSTATE or socket error code (a RuntimeError from pgError carries it as its cause). */
function errorCode(error: unknown): string | undefined {
  const err = error as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (error instanceof RuntimeError) return typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  return typeof err?.code === 'string' ? err.code : undefined;
}

function isTransient(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && TRANSIENT_CODES.has(code)) return true;
  const message = String((error as { message?: unknown })?.message ?? error);
  return /connection terminated|terminating connection|server closed the connection|socket hang up|timeout expired|connection ended|not queryable|ended replication/i.test(
    message,
  );
}

// ---------------------------------------------------------------------------------------------- wire

/** The parts of pg's internal Connection the replication stream uses. */
interface WireConnection {
  readonly stream: NodeJS.ReadableStream & NodeJS.WritableStream & { destroy?(): void };
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): unknown;
  once(event: 'replicationStart', listener: () => void): unknown;
  removeAllListeners(event: string): unknown;
  sendCopyFromChunk(chunk: Buffer): void;
}

interface WireHandlers {
  /** XLogData: one pgoutput message; decoded synchronously (pg reuses the buffer). */
  readonly data: (payload: Buffer) => void;
  readonly keepalive: (walEnd: bigint, replyRequested: boolean) => void;
  readonly closed: (error: unknown) => void;
}

/** A replication connection in copy-both mode: CopyData frames in, standby status updates out. */
class WalConnection {
  private streaming = false;
  private ended = false;
  private paused = false;

  private constructor(
    readonly client: pg.Client,
    private readonly handlers: WireHandlers,
  ) {}

  private get wire(): WireConnection {
    return this.client.connection as unknown as WireConnection;
  }

  get open(): boolean {
    return this.streaming && !this.ended;
  }

  /** Connects and starts streaming from `start`; resolves once the server switched to copy-both mode. */
  static async start(
    options: SqlConnectionOptions,
    applicationName: string,
    slot: string,
    publication: string,
    start: bigint,
    handlers: WireHandlers,
  ): Promise<WalConnection> {
    const client = await connectReplication(options, applicationName);
    const wal = new WalConnection(client, handlers);
    try {
      await wal.begin(slot, publication, start);
    } catch (error) {
      await wal.end();
      throw error;
    }
    return wal;
  }

  private begin(slot: string, publication: string, start: bigint): Promise<void> {
    const wire = this.wire;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (error: unknown) => {
        if (this.ended) return;
        this.ended = true;
        if (!settled) {
          settled = true;
          reject(error instanceof Error ? error : new Error(String(error)));
        } else {
          this.handlers.closed(error);
        }
      };
      wire.once('replicationStart', () => {
        this.streaming = true;
        settled = true;
        resolve();
      });
      wire.on('copyData', ({ chunk }) => {
        if (this.ended) return;
        try {
          this.frame(chunk);
        } catch (error) {
          finish(error);
        }
      });
      this.client.on('error', (error) => finish(error));
      this.client.on('end', () => finish(new Error('the replication connection ended')));
      const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(start)} (proto_version '1', publication_names '${publication}')`;
      this.client.query(sql).then(
        () => finish(new Error('the server ended replication')),
        (error: unknown) => finish(error),
      );
    });
  }

  private frame(chunk: Buffer): void {
    const kind = chunk[0];
    if (kind === 0x77) {
      // XLogData: Int64 start, Int64 walEnd, Int64 sendTime, then the pgoutput message.
      this.handlers.data(chunk.subarray(25));
    } else if (kind === 0x6b) {
      // Primary keepalive: Int64 walEnd, Int64 sendTime, Byte1 replyRequested.
      this.handlers.keepalive(chunk.readBigUInt64BE(1), chunk[17] === 1);
    }
  }

  /** Standby status update: written = flushed = applied = `flush`. */
  sendStatus(flush: bigint, replyRequested = false): boolean {
    if (!this.open) return false;
    const message = Buffer.alloc(34);
    message[0] = 0x72; // 'r'
    message.writeBigUInt64BE(flush, 1);
    message.writeBigUInt64BE(flush, 9);
    message.writeBigUInt64BE(flush, 17);
    message.writeBigInt64BE((BigInt(Date.now()) - PG_EPOCH_MS) * 1000n, 25);
    message[33] = replyRequested ? 1 : 0;
    try {
      this.wire.sendCopyFromChunk(message);
      return true;
    } catch {
      return false;
    }
  }

  pause(): void {
    if (this.paused || this.ended) return;
    this.paused = true;
    this.wire.stream.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.wire.stream.resume();
  }

  /** Ends the connection (the walsender exits and releases the slot); never throws. */
  async end(): Promise<void> {
    this.ended = true;
    this.streaming = false;
    this.wire.removeAllListeners('copyData');
    // A paused socket never reports its end: let it flow (frames are ignored now).
    this.paused = false;
    this.wire.stream.resume();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.client.end().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.wire.stream.destroy?.();
          resolve();
        }, 5000);
      }),
    ]);
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------- decoding

/** The entity as the decoder sees it. */
interface TableShape {
  readonly table: CdcTable;
  readonly fields: readonly CdcColumn[];
  readonly columns: ReadonlyMap<string, CdcColumn>;
  /** Columns that identify a row in the lake (key changes become delete + update). */
  readonly mergeKey: readonly string[];
  readonly unchangedToast: 'fetch' | 'omit';
}

/** A Relation message for the entity's table, with what building rows needs. */
interface Relation {
  readonly names: readonly string[];
  readonly converters: readonly TextConverter[];
  readonly isKey: readonly boolean[];
  /** Column index of each entity field. */
  readonly fieldIndex: readonly number[];
  /** Columns whose text is needed: fields and key columns. */
  readonly wanted: readonly boolean[];
  readonly mergeKeyIndex: readonly number[];
  /** The replica identity's columns (none for FULL: the old row is complete). */
  readonly identityIndex: readonly number[];
}

/** An update whose unchanged TOAST values must be read back from the table. */
interface ToastGap {
  readonly missing: readonly string[];
  /** The replica identity columns (as the Relation message flags them) and their texts. */
  readonly keyNames: readonly string[];
  readonly key: readonly string[];
}

/** What the decoder hands over. */
interface DecoderSink {
  begin(finalLsn: bigint): void;
  row(row: MutableRow, gap?: ToastGap): void;
  commit(endLsn: bigint): void;
  fail(error: RuntimeError): void;
}

/** A value of a tuple: text, null, or unchanged TOAST (undefined). */
type TupleValue = string | null | undefined;

/** Reads one pgoutput message at a time (protocol version 1) and turns changes of one table into rows. */
class PgoutputDecoder {
  private readonly relations = new Map<number, Relation | null>();
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private inTransaction = false;

  constructor(
    private readonly shape: TableShape,
    private readonly sink: DecoderSink,
  ) {}

  get transactionOpen(): boolean {
    return this.inTransaction;
  }

  /** Forgets the session's relations and any open transaction (a new connection starts over). */
  reset(): void {
    this.relations.clear();
    this.inTransaction = false;
  }

  decode(message: Buffer): void {
    this.buf = message;
    this.pos = 1;
    switch (message[0]) {
      case 0x42: {
        // Begin: Int64 final LSN, Int64 commit time, Int32 xid.
        const finalLsn = this.int64();
        this.inTransaction = true;
        this.sink.begin(finalLsn);
        return;
      }
      case 0x43: {
        // Commit: Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 time.
        this.pos += 1 + 8;
        const endLsn = this.int64();
        this.inTransaction = false;
        this.sink.commit(endLsn);
        return;
      }
      case 0x52:
        return this.relation();
      case 0x49: {
        // Insert: Int32 relation, 'N', TupleData.
        const relation = this.relationOf(this.int32());
        if (!relation) return;
        this.expect(0x4e);
        const values = this.tuple(relation);
        this.sink.row(this.build(relation, values, 'c'));
        return;
      }
      case 0x55:
        return this.update();
      case 0x44: {
        // Delete: Int32 relation, 'K' or 'O', TupleData.
        const relation = this.relationOf(this.int32());
        if (!relation) return;
        const kind = this.byte();
        const old = this.tuple(relation);
        this.sink.row(this.build(relation, old, 'd', kind === 0x4b ? relation.isKey : undefined));
        return;
      }
      case 0x54: {
        // Truncate: Int32 count, Int8 options, Int32 relation × count.
        const count = this.int32();
        this.pos += 1;
        for (let i = 0; i < count; i++) {
          if (this.int32() === this.shape.table.oid) {
            this.sink.fail(
              new RuntimeError(
                'config',
                `postgres cdc: ${this.shape.table.sql} was truncated; changes cannot express a TRUNCATE, so take a new snapshot (reset the connector's state for this entity)`,
              ),
            );
          }
        }
        return;
      }
      case 0x4f: // Origin
      case 0x59: // Type (custom types convert by the catalog's column types)
      case 0x4d: // Message (not requested)
        return;
      default:
        throw new RuntimeError(
          'internal',
          `postgres cdc: unknown pgoutput message ${JSON.stringify(String.fromCharCode(message[0] ?? 0))}`,
        );
    }
  }

  private update(): void {
    // Update: Int32 relation, optional 'K' or 'O' TupleData (old key / old row), 'N' TupleData.
    const relation = this.relationOf(this.int32());
    if (!relation) return;
    let kind = this.byte();
    let old: TupleValue[] | undefined;
    let oldIsKey = false;
    if (kind === 0x4b || kind === 0x4f) {
      oldIsKey = kind === 0x4b;
      old = this.tuple(relation);
      kind = this.byte();
    }
    if (kind !== 0x4e)
      throw new RuntimeError('internal', `postgres cdc: malformed pgoutput update (tuple kind ${kind})`);
    const values = this.tuple(relation);
    if (old && !oldIsKey) {
      for (let i = 0; i < values.length; i++) if (values[i] === undefined) values[i] = old[i];
    }
    if (old && relation.mergeKeyIndex.length > 0) {
      // The key changed: the lake must forget the old key.
      const changed = relation.mergeKeyIndex.some(
        (i) => values[i] !== undefined && old[i] !== undefined && values[i] !== old[i],
      );
      if (changed) this.sink.row(this.build(relation, old, 'd', oldIsKey ? relation.isKey : undefined));
    }
    let missing: string[] | undefined;
    const row = this.build(relation, values, 'u', undefined, (name) => (missing ??= []).push(name));
    if (!missing) return this.sink.row(row);
    if (this.shape.unchangedToast === 'fetch' && relation.identityIndex.length > 0) {
      const key = relation.identityIndex.map((i) => values[i]);
      const keyNames = relation.identityIndex.map((i) => relation.names[i]!);
      if (key.every((k): k is string => typeof k === 'string') && keyNames.every((n) => this.shape.columns.has(n))) {
        return this.sink.row(row, { missing, keyNames, key });
      }
    }
    this.sink.row(row);
  }

  private relation(): void {
    const oid = this.int32();
    this.string(); // namespace
    this.string(); // name
    const identity = String.fromCharCode(this.byte());
    const count = this.int16();
    const names: string[] = [];
    const typeOids: number[] = [];
    const isKey: boolean[] = [];
    for (let i = 0; i < count; i++) {
      isKey.push((this.byte() & 1) === 1);
      names.push(this.string());
      typeOids.push(this.int32());
      this.int32(); // typmod
    }
    if (oid !== this.shape.table.oid) {
      this.relations.set(oid, null);
      return;
    }
    const index = new Map(names.map((n, i) => [n, i]));
    const fieldIndex = this.shape.fields.map((f) => {
      const i = index.get(f.name);
      if (i === undefined) {
        throw new RuntimeError(
          'config',
          `postgres cdc: the column ${JSON.stringify(f.name)} of ${this.shape.table.sql} is not in the replication stream (dropped or renamed, or left out by the publication's column list)`,
        );
      }
      return i;
    });
    const converters = names.map((name, i) => {
      const column = this.shape.columns.get(name);
      if (column && column.typeOid === typeOids[i]) return column.convert;
      return converterForOid(typeOids[i]!) ?? ((text: string) => text);
    });
    const wanted = names.map((_, i) => isKey[i]! || fieldIndex.includes(i));
    const indexOf = (name: string) => index.get(name) ?? -1;
    this.relations.set(oid, {
      names,
      converters,
      isKey,
      fieldIndex,
      wanted,
      mergeKeyIndex: this.shape.mergeKey.map(indexOf).filter((i) => i >= 0),
      identityIndex: identity === 'f' ? [] : isKey.flatMap((key, i) => (key ? [i] : [])),
    });
  }

  private relationOf(oid: number): Relation | null {
    const relation = this.relations.get(oid);
    if (relation === undefined)
      throw new RuntimeError(
        'internal',
        `postgres cdc: pgoutput sent a change of relation ${oid} before its Relation message`,
      );
    return relation;
  }

  /** TupleData: the texts of the wanted columns (others null), `undefined` for unchanged TOAST. */
  private tuple(relation: Relation): TupleValue[] {
    const count = this.int16();
    const values: TupleValue[] = new Array<TupleValue>(count);
    for (let i = 0; i < count; i++) {
      const kind = this.byte();
      if (kind === 0x74 || kind === 0x62) {
        const length = this.int32();
        if (kind === 0x62)
          throw new RuntimeError(
            'internal',
            'postgres cdc: pgoutput sent a binary value (binary mode is not requested)',
          );
        values[i] = relation.wanted[i] ? this.buf.toString('utf8', this.pos, this.pos + length) : null;
        this.pos += length;
      } else if (kind === 0x6e) {
        values[i] = null;
      } else if (kind === 0x75) {
        values[i] = undefined;
      } else {
        throw new RuntimeError('internal', `postgres cdc: unknown pgoutput tuple value kind ${kind}`);
      }
    }
    return values;
  }

  /** A row of the entity's fields (only `only` columns when given: a key tuple) with `_op`. */
  private build(
    relation: Relation,
    values: TupleValue[],
    op: 'c' | 'u' | 'd',
    only?: readonly boolean[],
    unchanged?: (name: string) => void,
  ): MutableRow {
    const row: MutableRow = newRecord();
    const fields = this.shape.fields;
    for (let f = 0; f < fields.length; f++) {
      const i = relation.fieldIndex[f]!;
      if (only && !only[i]) continue;
      const text = values[i];
      const name = fields[f]!.name;
      if (text === undefined) {
        unchanged?.(name);
        continue;
      }
      let value: unknown = null;
      if (text !== null) {
        try {
          value = relation.converters[i]!(text);
        } catch (error) {
          throw new RuntimeError(
            'internal',
            `postgres cdc: cannot convert a value of column ${JSON.stringify(name)}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      setField(row, name, value);
    }
    row._op = op;
    return row;
  }

  private byte(): number {
    const value = this.buf[this.pos];
    if (value === undefined) throw new RuntimeError('internal', 'postgres cdc: truncated pgoutput message');
    this.pos += 1;
    return value;
  }

  private expect(kind: number): void {
    const got = this.byte();
    if (got !== kind)
      throw new RuntimeError(
        'internal',
        `postgres cdc: malformed pgoutput message (expected ${String.fromCharCode(kind)}, got ${got})`,
      );
  }

  private int16(): number {
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  private int32(): number {
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  private int64(): bigint {
    const value = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return value;
  }

  private string(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new RuntimeError('internal', 'postgres cdc: unterminated string in a pgoutput message');
    const value = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return value;
  }
}

// ---------------------------------------------------------------------------------------------- buffering

/** Rows handed over together; `lsn` when they end a transaction, `partialOf` when they are part of an open one. */
interface Block {
  readonly rows: Row[];
  readonly lsn?: bigint;
  readonly partialOf?: bigint;
}

/**
 * Decoded rows waiting for the consumer. Rows of completed transactions are handed over up to the last
 * commit boundary with that commit's LSN; rows of a transaction still open are handed over (without
 * state) only in full chunks.
 */
class ChangeQueue {
  private readonly blocks: Block[] = [];
  private current: Row[] = [];
  /** Rows of `current` that belong to completed transactions, and the last commit's end LSN. */
  private boundary = 0;
  private boundaryLsn = 0n;
  size = 0;

  constructor(private readonly chunkRows: number) {}

  get empty(): boolean {
    return this.size === 0;
  }

  /** Whether take() has a block to give: a sealed one, or committed rows it can seal. */
  get takeable(): boolean {
    return this.blocks.length > 0 || this.boundary > 0;
  }

  push(row: Row, openTransaction: bigint): void {
    // Seal before a block would exceed chunkRows, so that the open transaction always keeps at least its
    // last row here and its commit can carry the state.
    if (this.current.length >= this.chunkRows) {
      if (this.boundary > 0) this.sealBoundary();
      if (this.current.length >= this.chunkRows) {
        this.blocks.push({ rows: this.current, partialOf: openTransaction });
        this.current = [];
      }
    }
    this.current.push(row);
    this.size++;
  }

  /** A transaction committed: its rows (if any) end at `lsn`. */
  commit(lsn: bigint): boolean {
    if (this.current.length === 0) return false;
    this.boundary = this.current.length;
    this.boundaryLsn = lsn;
    return true;
  }

  /** The next block to hand over, or undefined when nothing complete is waiting. */
  take(): Block | undefined {
    if (this.blocks.length === 0 && this.boundary > 0) this.sealBoundary();
    const block = this.blocks.shift();
    if (block) this.size -= block.rows.length;
    return block;
  }

  /** The connection dropped mid-transaction: forget its rows not handed over yet (it will be replayed). */
  dropOpenTransaction(finalLsn: bigint): void {
    this.size -= this.current.length - this.boundary;
    this.current.length = this.boundary;
    while (this.blocks.length > 0 && this.blocks[this.blocks.length - 1]!.partialOf === finalLsn) {
      this.size -= this.blocks.pop()!.rows.length;
    }
  }

  private sealBoundary(): void {
    const rows = this.boundary === this.current.length ? this.current : this.current.slice(0, this.boundary);
    this.current = this.boundary === this.current.length ? [] : this.current.slice(this.boundary);
    this.blocks.push({ rows, lsn: this.boundaryLsn });
    this.boundary = 0;
  }
}

// ---------------------------------------------------------------------------------------------- session

interface SessionSettings {
  readonly options: PostgresCdcOptions;
  readonly shape: TableShape;
  readonly slot: string;
  readonly publication: string;
  readonly applicationName: string;
  readonly chunkRows: number;
  readonly heartbeatMs: number;
  readonly stopWhenCaughtUp: boolean;
  readonly admin: () => Promise<pg.Client>;
}

/** One streaming read: the replication connection (reconnected as needed), the decoder and the queue. */
class CdcSession implements DecoderSink {
  private wal: WalConnection | undefined;
  private readonly decoder: PgoutputDecoder;
  private readonly queue: ChangeQueue;
  private readonly gaps = new WeakMap<Row, ToastGap>();
  private gapCount = 0;
  private readonly maxBuffered: number;

  /** End LSN of the last decoded commit: replays before it are skipped; reconnections start there. */
  private decodedUpTo: bigint;
  /** The open transaction: its final LSN, whether it is skipped, rows still to skip (replay). */
  private txn: { finalLsn: bigint; skip: boolean; skipRows: number } | undefined;
  /** Rows of the open transaction already handed over without state (to skip when it is replayed). */
  private handedOpen: { finalLsn: bigint; rows: number } | undefined;
  private replay: { finalLsn: bigint; rows: number } | undefined;

  /** Highest state LSN handed over, and the confirmed positions. */
  private handedUpTo: bigint;
  acked: bigint;
  private sentFlush = 0n;
  /** Latest position known to have nothing pending (keepalive WAL end, end of a skipped transaction). */
  private quietUpTo = 0n;
  /** Highest position the stream is known to have passed (for stopWhenCaughtUp). */
  private reached = 0n;
  private target: bigint | undefined;
  private lastMessageAt = Date.now();
  private lastPingAt = 0;

  private failure: RuntimeError | undefined;
  private disconnected: unknown;
  private consecutiveFailures = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private detached = false;
  private ended = false;

  constructor(
    private readonly settings: SessionSettings,
    resume: bigint,
    acked: bigint,
    confirmed: bigint,
  ) {
    this.decoder = new PgoutputDecoder(settings.shape, this);
    this.queue = new ChangeQueue(settings.chunkRows);
    this.maxBuffered = Math.max(settings.options.maxBufferedRows ?? 4 * settings.chunkRows, settings.chunkRows);
    this.decodedUpTo = resume;
    this.handedUpTo = resume;
    this.acked = acked;
    // Never report less than the slot has confirmed already.
    this.sentFlush = confirmed;
  }

  // DecoderSink -----------------------------------------------------------------------------------

  begin(finalLsn: bigint): void {
    const skip = finalLsn < this.decodedUpTo;
    let skipRows = 0;
    if (!skip && this.replay) {
      if (this.replay.finalLsn !== finalLsn) {
        this.fail(
          new RuntimeError(
            'internal',
            `postgres cdc: after reconnecting, the server sent the transaction ending at ${formatLsn(finalLsn)} instead of replaying the one ending at ${formatLsn(this.replay.finalLsn)}, which was partly handed over`,
          ),
        );
        return;
      }
      skipRows = this.replay.rows;
    }
    if (!skip) this.replay = undefined;
    this.txn = { finalLsn, skip, skipRows };
  }

  row(row: MutableRow, gap?: ToastGap): void {
    const txn = this.txn;
    if (!txn || txn.skip || this.failure) return;
    if (txn.skipRows > 0) {
      txn.skipRows--;
      return;
    }
    if (gap) {
      this.gaps.set(row, gap);
      this.gapCount++;
    }
    this.queue.push(row, txn.finalLsn);
    this.flow();
    this.notify();
  }

  commit(endLsn: bigint): void {
    const txn = this.txn;
    this.txn = undefined;
    if (endLsn > this.reached) this.reached = endLsn;
    if (!txn || txn.skip || this.failure) return;
    this.decodedUpTo = endLsn;
    if (!this.queue.commit(endLsn)) this.quietUpTo = endLsn;
    this.notify();
  }

  fail(error: RuntimeError): void {
    this.failure ??= error;
    this.notify();
  }

  // connection ------------------------------------------------------------------------------------

  private handlers: WireHandlers = {
    data: (payload) => {
      this.lastMessageAt = Date.now();
      this.consecutiveFailures = 0;
      if (this.failure) return;
      try {
        this.decoder.decode(payload);
      } catch (error) {
        this.fail(
          error instanceof RuntimeError
            ? error
            : new RuntimeError('internal', `postgres cdc: ${(error as Error).message}`, { cause: error }),
        );
      }
    },
    keepalive: (walEnd, replyRequested) => {
      this.lastMessageAt = Date.now();
      this.consecutiveFailures = 0;
      if (!this.decoder.transactionOpen && !this.detached) {
        if (walEnd > this.quietUpTo) this.quietUpTo = walEnd;
        if (walEnd > this.reached) this.reached = walEnd;
      }
      if (replyRequested) this.sendStatus();
      this.notify();
    },
    closed: (error) => {
      this.disconnected = error ?? new Error('the replication connection closed');
      this.onDisconnect();
      this.notify();
    },
  };

  /** Forget what belongs to the interrupted transaction; it is replayed from its start. */
  private onDisconnect(): void {
    const txn = this.txn;
    if (txn && !txn.skip) {
      this.queue.dropOpenTransaction(txn.finalLsn);
      // Rows of it already handed over (without state) are skipped when the server replays it.
      if (this.handedOpen?.finalLsn === txn.finalLsn) this.replay = { ...this.handedOpen };
    }
    this.txn = undefined;
    this.decoder.reset();
  }

  private async connect(): Promise<void> {
    const { options, applicationName, slot, publication } = this.settings;
    const start = this.decodedUpTo > this.sentFlush ? this.decodedUpTo : this.sentFlush;
    this.wal = await WalConnection.start(options, applicationName, slot, publication, start, this.handlers);
    this.disconnected = undefined;
    this.lastMessageAt = Date.now();
    this.sendStatus();
    this.flow();
  }

  /**
   * Backpressure, in one place: the socket is paused only while the queue is full *and* holds a block
   * the consumer can take; otherwise it flows. (A chunk of an open transaction is sealed only when its
   * next row arrives: pausing on fullness alone, with the limit at one chunk, stalled the read for good
   * whenever a socket read ended right before that row.)
   */
  private flow(): void {
    if (this.detached) return;
    const size = this.queue.size;
    if (size >= this.maxBuffered && this.queue.takeable) this.wal?.pause();
    else if (size < this.maxBuffered / 2 || !this.queue.takeable) this.wal?.resume();
  }

  /** Connects (first time or again) with exponential backoff; false when aborted. */
  private async reconnect(signal: AbortSignal | undefined, first: boolean): Promise<boolean> {
    const { options } = this.settings;
    const attempts = options.reconnectAttempts ?? 10;
    const initial = options.reconnectDelayMs ?? 250;
    const max = options.reconnectMaxDelayMs ?? 10_000;
    let lastError: unknown = this.disconnected;
    for (;;) {
      if (signal?.aborted || this.ended) return false;
      if (!first || this.consecutiveFailures > 0) {
        if (this.consecutiveFailures >= attempts) {
          throw new RuntimeError(
            'internal',
            `postgres cdc: the replication connection to ${redactUrl(options.url)} (slot ${this.settings.slot}) failed ${this.consecutiveFailures} times in a row; last error: ${(lastError as Error)?.message ?? String(lastError)}`,
            { cause: lastError },
          );
        }
        await sleep(Math.min(initial * 2 ** this.consecutiveFailures, max), signal);
        if (signal?.aborted || this.ended) return false;
      }
      this.consecutiveFailures++;
      try {
        if (this.wal) await this.wal.end();
        this.wal = undefined;
        await this.connect();
        return true;
      } catch (error) {
        lastError = error;
        if (!isTransient(error))
          throw pgError(error, options.url, `starting replication from slot ${this.settings.slot}`);
        if (errorCode(error) === '55006') {
          // The slot is held: by our own previous connection after a network failure, release it.
          await this.settings
            .admin()
            .then((admin) => terminateSlotHolder(admin, this.settings.slot, this.settings.applicationName))
            .catch(() => undefined);
        }
      }
    }
  }

  // status ----------------------------------------------------------------------------------------

  /** Confirms `lsn` (the lake committed everything up to it). */
  acknowledge(lsn: bigint): void {
    if (lsn > this.acked) this.acked = lsn;
    this.sendStatus();
  }

  /** Sends the confirmed position (advanced over quiet WAL when nothing is pending). */
  sendStatus(replyRequested = false): void {
    let flush = this.acked;
    const idle =
      !this.detached &&
      this.acked >= this.handedUpTo &&
      this.queue.empty &&
      !this.decoder.transactionOpen &&
      this.replay === undefined &&
      this.handedOpen === undefined &&
      this.failure === undefined;
    if (idle && this.quietUpTo > flush) flush = this.quietUpTo;
    if (flush < this.sentFlush) flush = this.sentFlush;
    if (this.wal?.sendStatus(flush, replyRequested)) this.sentFlush = flush;
  }

  // iteration -------------------------------------------------------------------------------------

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private waitForEvent(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.wake === done) this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  async *run(signal: AbortSignal | undefined): AsyncGenerator<SourceChunk> {
    const { heartbeatMs, stopWhenCaughtUp, options } = this.settings;
    const idleLimit = options.caughtUpIdleMs ?? 5000;
    if (!(await this.reconnect(signal, true))) return;
    if (stopWhenCaughtUp) {
      // The insert position covers every commit so far, also asynchronous ones not flushed yet (the walsender
      // sends them once the WAL writer flushed them). Right after a page boundary it points past the page
      // header, where no record ends: then the boundary itself is the target.
      const admin = await this.settings.admin();
      const { rows } = await admin.query<{ lsn: string; page: number }>(
        `SELECT pg_current_wal_insert_lsn()::text AS lsn, current_setting('wal_block_size')::int AS page`,
      );
      const target = parseLsn(rows[0]!.lsn);
      const offset = target % BigInt(rows[0]!.page);
      this.target = offset <= 40n ? target - offset : target;
    }
    // Each heartbeat asks for a keepalive reply: its WAL end lets the next heartbeat confirm quiet WAL.
    this.heartbeat = setInterval(() => this.sendStatus(!this.detached), heartbeatMs);
    this.heartbeat.unref();
    try {
      for (;;) {
        if (signal?.aborted || this.ended) return;
        const block = this.queue.take();
        if (block) {
          this.flow();
          if (this.gapCount > 0) await this.fillGaps(block.rows);
          if (block.lsn !== undefined) {
            this.handedOpen = undefined;
            if (block.lsn > this.handedUpTo) this.handedUpTo = block.lsn;
            yield { rows: block.rows, state: cdcState(block.lsn) };
          } else {
            const finalLsn = block.partialOf!;
            const before = this.handedOpen?.finalLsn === finalLsn ? this.handedOpen.rows : 0;
            this.handedOpen = { finalLsn, rows: before + block.rows.length };
            yield { rows: block.rows };
          }
          // The consumer may have taken long: idleness counts from now.
          this.lastMessageAt = Date.now();
          continue;
        }
        if (this.failure) throw this.failure;
        if (stopWhenCaughtUp && !this.decoder.transactionOpen) {
          if (this.target !== undefined && this.reached >= this.target) return;
          if (Date.now() - this.lastMessageAt > idleLimit && this.disconnected === undefined) return;
        }
        if (this.disconnected !== undefined || !this.wal?.open) {
          if (this.disconnected !== undefined && !isTransient(this.disconnected)) {
            throw pgError(this.disconnected, options.url, `streaming from slot ${this.settings.slot}`);
          }
          if (!(await this.reconnect(signal, false))) return;
          continue;
        }
        if (stopWhenCaughtUp && !this.decoder.transactionOpen && Date.now() - this.lastPingAt > 250) {
          // Ask for a keepalive: it carries the position the walsender has decoded up to.
          this.lastPingAt = Date.now();
          this.sendStatus(true);
        }
        await this.waitForEvent(stopWhenCaughtUp ? 100 : 1000, signal);
      }
    } finally {
      if (this.failure || this.disconnected !== undefined) await this.end();
      else this.detach();
    }
  }

  /** The iteration ended: keep the connection (paused) so acknowledge() can still confirm. */
  private detach(): void {
    this.detached = true;
    this.wal?.pause();
  }

  /** Reads unchanged TOAST values back from the table by the replica identity key. */
  private async fillGaps(rows: readonly Row[]): Promise<void> {
    const groups = new Map<
      string,
      { missing: readonly string[]; keyNames: readonly string[]; items: { row: MutableRow; key: readonly string[] }[] }
    >();
    for (const row of rows) {
      const gap = this.gaps.get(row);
      if (!gap) continue;
      this.gaps.delete(row);
      this.gapCount--;
      const id = `${gap.missing.join('\u0000')}\u0001${gap.keyNames.join('\u0000')}`;
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { missing: gap.missing, keyNames: gap.keyNames, items: [] }));
      group.items.push({ row: row as MutableRow, key: gap.key });
    }
    if (groups.size === 0) return;
    const { shape, options } = this.settings;
    // The shared connection comes back after a server restart: retry transient failures a few times.
    const query = async (config: pg.QueryArrayConfig): Promise<unknown[][]> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return (await (await this.settings.admin()).query(config)).rows;
        } catch (error) {
          if (!isTransient(error) || attempt >= 5) {
            throw pgError(error, options.url, `reading unchanged TOAST values of ${shape.table.sql}`);
          }
          await sleep(250 * 2 ** attempt);
        }
      }
    };
    for (const { missing, keyNames, items } of groups.values()) {
      const keyColumns = keyNames.map((name) => shape.columns.get(name)!);
      const columns = missing.map((name) => shape.columns.get(name)!);
      const keyList = keyColumns.map((_, i) => `$${i + 1}::text[]`).join(', ');
      const aliases = keyColumns.map((_, i) => `k${i}`).join(', ');
      const join = keyColumns.map((c, i) => `t.${quoteIdent(c.name)} = k.k${i}::${c.castType}`).join(' AND ');
      const sql = `SELECT k.ord, ${columns.map((c) => `t.${quoteIdent(c.name)}`).join(', ')}
                     FROM ${shape.table.sql} t JOIN unnest(${keyList}) WITH ORDINALITY AS k(${aliases}, ord) ON ${join}`;
      for (let start = 0; start < items.length; start += 1000) {
        const batch = items.slice(start, start + 1000);
        const params = keyColumns.map((_, i) => batch.map((item) => item.key[i]!));
        const found = await query({ text: sql, values: params, rowMode: 'array', types: rawTextPgTypes });
        for (const values of found) {
          const item = batch[Number(values[0]) - 1];
          if (!item) continue;
          columns.forEach((column, i) => {
            const text = values[i + 1] as string | null;
            setField(item.row, column.name, text === null ? null : column.convert(text));
          });
        }
      }
    }
  }

  async end(): Promise<void> {
    this.ended = true;
    this.notify();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const wal = this.wal;
    this.wal = undefined;
    if (wal) {
      this.detached = true;
      wal.sendStatus(this.sentFlush > this.acked ? this.sentFlush : this.acked);
      await wal.end();
    }
  }

  /** Still able to confirm positions (now or after reconnecting). */
  get live(): boolean {
    return !this.ended;
  }
}

// ---------------------------------------------------------------------------------------------- reader

/**
 * Reads one table's changes through a logical replication slot (see the file header). One read at a
 * time; `acknowledge` confirms what the lake committed; `close` ends every connection.
 */
export class PostgresCdcReader {
  private readonly chunkRows: number;
  private readonly applicationName = `cf_cdc_${randomBytes(6).toString('hex')}`;
  private adminClient: Promise<pg.Client> | undefined;
  private session: CdcSession | undefined;
  private slot: string | undefined;
  private reading = false;
  private closed = false;

  constructor(private readonly options: PostgresCdcOptions) {
    const chunkRows = options.chunkRows ?? 10_000;
    if (!Number.isInteger(chunkRows) || chunkRows < 1)
      throw new RuntimeError('config', `chunkRows must be a positive integer, not ${chunkRows}`);
    this.chunkRows = chunkRows;
    if (
      options.unchangedToast !== undefined &&
      options.unchangedToast !== 'fetch' &&
      options.unchangedToast !== 'omit'
    ) {
      throw new RuntimeError(
        'config',
        `postgres cdc: unchangedToast must be 'fetch' or 'omit', not ${JSON.stringify(options.unchangedToast)}`,
      );
    }
  }

  read(
    entity: EntityRef,
    mode: ReadMode,
    state: SourceState | undefined,
    signal?: AbortSignal,
  ): AsyncIterable<SourceChunk> {
    if (mode.strategy !== 'cdc')
      throw new RuntimeError('config', `postgres cdc: the CDC reader reads strategy cdc, not ${mode.strategy}`);
    return this.run(entity, mode, state, signal);
  }

  /** Confirms `state.lsn` to the slot: the lake committed everything up to it. Never confirms more. */
  async acknowledge(state: SourceState): Promise<void> {
    if (this.closed) throw new RuntimeError('internal', 'postgres cdc: acknowledge() after close()');
    const lsn = parseLsn(state.lsn, 'the acknowledged state lsn');
    const session = this.session;
    if (session?.live) {
      // Sent now, or when the connection is back (streaming restarts at the confirmed position anyway).
      session.acknowledge(lsn);
      return;
    }
    // No replication connection (the snapshot's state, or after a failed read): advance the slot by SQL.
    if (!this.slot) return;
    await this.advanceSlot(this.slot, lsn);
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    await session?.end();
    const admin = this.adminClient;
    this.adminClient = undefined;
    if (admin) await admin.then((c) => c.end()).catch(() => undefined);
  }

  /** A shared connection for catalog queries and TOAST read-backs, reconnected when it broke. */
  private async admin(): Promise<pg.Client> {
    if (this.closed) throw new RuntimeError('internal', 'postgres cdc: the reader is closed');
    if (!this.adminClient) {
      const connecting = connectPostgres(this.options, { applicationName: `${this.applicationName}_admin` });
      this.adminClient = connecting;
      connecting.then(
        (client) => {
          const drop = () => {
            if (this.adminClient === connecting) this.adminClient = undefined;
          };
          client.once('error', drop);
          client.once('end', drop);
        },
        () => {
          if (this.adminClient === connecting) this.adminClient = undefined;
        },
      );
    }
    return await this.adminClient;
  }

  private async advanceSlot(slot: string, lsn: bigint): Promise<void> {
    const admin = await this.admin();
    for (let attempt = 0; ; attempt++) {
      try {
        const info = await slotInfo(admin, slot);
        if (!info || (info.confirmedFlush !== undefined && info.confirmedFlush >= lsn)) return;
        await admin.query('SELECT pg_replication_slot_advance($1, $2::pg_lsn)', [slot, formatLsn(lsn)]);
        return;
      } catch (error) {
        // The walsender of a connection just closed may not have released the slot yet.
        if (errorCode(error) === '55006' && attempt < 20) {
          await sleep(100);
          continue;
        }
        throw pgError(error, this.options.url, `confirming ${formatLsn(lsn)} to slot ${slot}`);
      }
    }
  }

  private async *run(
    entity: EntityRef,
    mode: CdcMode,
    state: SourceState | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (this.closed) throw new RuntimeError('internal', 'postgres cdc: the reader is closed');
    if (this.reading) throw new RuntimeError('internal', 'postgres cdc: one read at a time per reader');
    this.reading = true;
    try {
      const slot = validateReplicationName('slot', mode.slot);
      const publication = validateReplicationName('publication', mode.publication);
      const heartbeatSeconds = mode.heartbeatSeconds ?? 10;
      if (!(heartbeatSeconds > 0))
        throw new RuntimeError('config', `postgres cdc: heartbeatSeconds must be positive, not ${heartbeatSeconds}`);
      // A previous read's connection (kept for its acknowledgements) gives the slot up first.
      const previous = this.session;
      this.session = undefined;
      await previous?.end();
      this.slot = slot;
      if (signal?.aborted) return;

      const admin = await this.admin();
      const shape = await this.describe(admin, entity).catch((error: unknown) => {
        throw pgError(error, this.options.url, `preparing CDC of ${entity.name}`);
      });
      let resume = savedLsn(state);
      let acked = resume ?? 0n;
      let confirmed = 0n;
      if (resume === undefined) {
        const consistentPoint = yield* this.snapshot(admin, shape, slot, publication, signal);
        if (consistentPoint === undefined) return;
        resume = consistentPoint;
        acked = consistentPoint;
      } else {
        confirmed = await this.checkResumable(admin, shape, slot, publication, resume);
      }
      if (signal?.aborted) return;
      const session = new CdcSession(
        {
          options: this.options,
          shape,
          slot,
          publication,
          applicationName: this.applicationName,
          chunkRows: this.chunkRows,
          heartbeatMs: heartbeatSeconds * 1000,
          stopWhenCaughtUp: mode.stopWhenCaughtUp === true,
          admin: () => this.admin(),
        },
        resume,
        acked,
        confirmed,
      );
      this.session = session;
      try {
        yield* session.run(signal);
      } catch (error) {
        this.session = undefined;
        await session.end();
        throw error instanceof RuntimeError
          ? error
          : pgError(error, this.options.url, `streaming changes of ${entity.name}`);
      }
    } finally {
      this.reading = false;
    }
  }

  /** Resolves the table, its columns and key, and checks its replica identity. */
  private async describe(admin: pg.Client, entity: EntityRef): Promise<TableShape> {
    const table = await resolveCdcTable(admin, entity.name);
    checkReplicaIdentity(table, entity);
    const columns = await loadCdcColumns(admin, table);
    const fields = selectCdcFields(columns, entity, table);
    const mergeKey =
      entity.primaryKey.length > 0
        ? entity.primaryKey
        : table.primaryKey.length > 0
          ? table.primaryKey
          : table.replicaIdentity === 'i'
            ? table.identityColumns
            : [];
    return {
      table,
      fields,
      columns: new Map(columns.map((c) => [c.name, c])),
      mergeKey,
      unchangedToast: this.options.unchangedToast ?? 'fetch',
    };
  }

  /** A saved position can only be resumed if the slot still exists and the publication still has the table. */
  private async checkResumable(
    admin: pg.Client,
    shape: TableShape,
    slot: string,
    publication: string,
    resume: bigint,
  ): Promise<bigint> {
    const reset = "reset the connector's state for this entity to take a new snapshot";
    try {
      const info = await slotInfo(admin, slot);
      if (!info)
        throw new RuntimeError(
          'config',
          `postgres cdc: the replication slot ${slot} no longer exists, so changes since ${formatLsn(resume)} are lost; ${reset}`,
        );
      if (info.plugin !== 'pgoutput')
        throw new RuntimeError(
          'config',
          `postgres cdc: the replication slot ${slot} uses ${info.plugin ?? 'no plugin'}, not pgoutput; drop it and ${reset}`,
        );
      if (info.walStatus === 'lost')
        throw new RuntimeError(
          'config',
          `postgres cdc: the replication slot ${slot} lost required WAL (max_slot_wal_keep_size); ${reset}`,
        );
      // The slot may have confirmed beyond the saved state: only over quiet WAL (see the header).
      const confirmed = info.confirmedFlush ?? 0n;
      const pub = await publicationState(admin, publication, shape.table);
      if (pub.exists && shape.table.partitioned && !pub.viaRoot) {
        // Published by partition, the changes came under the partitions' names and were not read.
        throw new RuntimeError(
          'config',
          `postgres cdc: the publication ${publication} no longer publishes the partitioned table ${shape.table.sql} via its root (publish_via_partition_root), so changes may have been missed; run ALTER PUBLICATION ${publication} SET (publish_via_partition_root = true) and ${reset}`,
        );
      }
      if (!pub.exists || !pub.hasTable) {
        throw new RuntimeError(
          'config',
          `postgres cdc: the publication ${publication} ${pub.exists ? `no longer contains ${shape.table.sql}` : 'no longer exists'}, so changes may have been missed; ${reset}`,
        );
      }
      checkPublishes(pub, publication);
      return confirmed;
    } catch (error) {
      throw pgError(error, this.options.url, `resuming CDC of ${shape.table.sql}`);
    }
  }

  /**
   * Creates the publication and the slot, and copies the table as of the slot's consistent point. Returns
   * that point, or undefined when aborted.
   */
  private async *snapshot(
    admin: pg.Client,
    shape: TableShape,
    slot: string,
    publication: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk, bigint | undefined> {
    const { url } = this.options;
    let replication: pg.Client | undefined;
    let reader: pg.Client | undefined;
    try {
      try {
        await ensurePublication(admin, publication, shape.table);
        // A slot without a saved state is a snapshot that never finished: start over.
        await dropSlot(admin, slot);
        replication = await connectReplication(this.options, this.applicationName);
        const { consistentPoint, snapshotName } = await createSlotWithSnapshot(replication, slot);
        reader = await connectPostgres(this.options, {
          applicationName: `${this.applicationName}_snapshot`,
          types: rawTextPgTypes,
        });
        await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        await reader.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
        // Imported: the exporting connection is no longer needed (the slot persists).
        await replication.end().catch(() => undefined);
        replication = undefined;
        if (signal?.aborted) return undefined;

        const names = shape.fields.map((f) => f.name);
        const converters = shape.fields.map((f) => f.convert);
        const build = (values: (string | null)[]): Row => {
          const row: MutableRow = newRecord();
          for (let i = 0; i < names.length; i++) {
            const text = values[i];
            setField(row, names[i]!, text === null || text === undefined ? null : converters[i]!(text));
          }
          row._op = 'r';
          return row;
        };
        const select = shape.fields.map((f) => quoteIdent(f.name)).join(', ');
        const copy = startCopyOut(reader, `COPY (SELECT ${select} FROM ${shape.table.sql}) TO STDOUT`, this.chunkRows);
        let finished = false;
        for await (const chunk of copyTextChunks(copy.blocks(signal), build)) {
          if (!chunk.last) {
            yield { rows: chunk.rows };
            continue;
          }
          await reader.query('COMMIT');
          finished = true;
          yield { rows: chunk.rows, state: cdcState(consistentPoint) };
        }
        if (!finished) return undefined;
        return consistentPoint;
      } catch (error) {
        if (signal?.aborted) return undefined;
        throw pgError(error, url, `taking the initial snapshot of ${shape.table.sql}`);
      }
    } finally {
      await replication?.end().catch(() => undefined);
      await reader?.end().catch(() => undefined);
    }
  }
}

// ---------------------------------------------------------------------------------------------- xmin

/**
 * The xmin cursor fallback (see the file header): rows whose transaction id is above `lastXmin`, in
 * transaction id order, up to the oldest transaction still running. Chunks carry `{ xmin }` only where
 * every row with a smaller or equal xmin has been handed over; the last chunk carries the snapshot's
 * horizon minus one (everything below it has been read). Runs in its own REPEATABLE READ transaction on
 * `client`, which must not be in a transaction.
 */
export async function* readByXmin(
  client: pg.Client,
  entity: EntityRef,
  lastXmin: number | undefined,
  chunkRows = 10_000,
): AsyncGenerator<SourceChunk> {
  if (lastXmin !== undefined && (!Number.isInteger(lastXmin) || lastXmin < 0 || lastXmin >= 2 ** 32)) {
    throw new RuntimeError('config', `postgres xmin: the saved xmin ${lastXmin} is not a transaction id`);
  }
  const table = await resolveCdcTable(client, entity.name);
  const fields = selectCdcFields(await loadCdcColumns(client, table), entity, table, false);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  let open = true;
  try {
    const { rows: horizonRows } = await client.query<{ horizon: string }>(
      `SELECT (txid_snapshot_xmin(txid_current_snapshot()) % 4294967296)::text AS horizon`,
    );
    const horizon = Number(horizonRows[0]!.horizon);
    const from = lastXmin ?? 2; // 0-2 are special (invalid, bootstrap, frozen)
    if (from >= horizon) {
      throw new RuntimeError(
        'config',
        `postgres xmin: the saved xmin ${from} is not below the server's oldest running transaction (${horizon}): transaction ids wrapped around (or the state belongs to another server); take a full refresh`,
      );
    }
    const select = fields.map((f) => quoteIdent(f.name)).join(', ');
    await client.query(
      `DECLARE cf_xmin NO SCROLL CURSOR FOR
         SELECT xmin::text::bigint AS cf_xmin, ${select} FROM ${table.sql}
          WHERE xmin::text::bigint > ${from} AND xmin::text::bigint < ${horizon}
          ORDER BY 1`,
    );
    const converters = fields.map((f) => f.convert);
    for (;;) {
      const result = await client.query<(string | null)[]>({
        text: `FETCH FORWARD ${chunkRows} FROM cf_xmin`,
        rowMode: 'array',
        types: rawTextPgTypes,
      });
      const rows: Row[] = result.rows.map((values) => {
        const row: MutableRow = newRecord();
        fields.forEach((field, i) => {
          const text = values[i + 1];
          setField(row, field.name, text === null || text === undefined ? null : converters[i]!(text));
        });
        return row;
      });
      if (result.rows.length < chunkRows) {
        await client.query('COMMIT');
        open = false;
        yield { rows, state: { xmin: horizon - 1 } };
        return;
      }
      const last = Number(result.rows[result.rows.length - 1]![0]);
      // The last xmin's rows may continue in the next fetch: the state stops before them.
      let complete: number | undefined;
      for (let i = result.rows.length - 1; i >= 0; i--) {
        const xmin = Number(result.rows[i]![0]);
        if (xmin < last) {
          complete = xmin;
          break;
        }
      }
      yield complete === undefined ? { rows } : { rows, state: { xmin: complete } };
    }
  } finally {
    if (open) await client.query('ROLLBACK').catch(() => undefined);
  }
}
