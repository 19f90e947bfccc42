import type pg from 'pg';
import { RuntimeError } from '../../../errors.js';
import { redactUrl } from '../../env.js';
import type { SourceChunk } from '../../source.js';
import { pgError } from '../postgres-connection.js';
import { ChangeQueue } from './change-queue.js';
import type { PostgresCdcOptions } from './cdc-options.js';
import type { MutableRow } from './cdc-rows.js';
import { cdcState } from './cdc-state.js';
import type { TableShape } from './cdc-table.js';
import { formatLsn, parseLsn } from './lsn.js';
import { PgoutputDecoder, type DecoderSink, type ToastGap } from './pgoutput-decoder.js';
import { terminateSlotHolder } from './slots.js';
import { isSlotInUse, isTransient } from './transient-errors.js';
import { sleep } from '../../../sleep.js';
import { UnchangedToast } from './unchanged-toast.js';
import { WalConnection, type WireHandlers } from './wal-connection.js';

/**
 * One streaming read of a CDC reader: the replication connection (reconnected with backoff when it
 * drops), the decoder, the change queue with its backpressure, heartbeats and confirmed positions, and
 * the end condition of `stopWhenCaughtUp`. The reader creates one per read and keeps it after the
 * iteration ends, so that acknowledge() can still confirm the last state.
 */

export interface SessionSettings {
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
export class CdcSession implements DecoderSink {
  private wal: WalConnection | undefined;
  private readonly decoder: PgoutputDecoder;
  private readonly queue: ChangeQueue;
  private readonly toast = new UnchangedToast();
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
    if (gap) this.toast.add(row, gap);
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
      this.disconnected = error ?? new RuntimeError('source_unavailable', 'the replication connection closed');
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
          // Every failure was a transient one (others are thrown at once): the server is still away.
          const sqlstate = lastError instanceof RuntimeError ? lastError.data.sqlstate : undefined;
          throw new RuntimeError(
            'source_unavailable',
            `postgres cdc: the replication connection to ${redactUrl(options.url)} (slot ${this.settings.slot}) failed ${this.consecutiveFailures} times in a row; last error: ${(lastError as Error)?.message ?? String(lastError)}`,
            { cause: lastError, ...(sqlstate !== undefined ? { data: { sqlstate } } : {}) },
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
        if (isSlotInUse(error)) {
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
          if (this.toast.pending) {
            await this.toast.fill(block.rows, this.settings.shape, this.settings.admin, this.settings.options.url);
          }
          if (block.lsn !== undefined) {
            this.handedOpen = undefined;
            if (block.lsn > this.handedUpTo) this.handedUpTo = block.lsn;
            yield { kind: 'rows', rows: block.rows, state: cdcState(block.lsn) };
          } else {
            const finalLsn = block.partialOf!;
            const before = this.handedOpen?.finalLsn === finalLsn ? this.handedOpen.rows : 0;
            this.handedOpen = { finalLsn, rows: before + block.rows.length };
            yield { kind: 'rows', rows: block.rows };
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
