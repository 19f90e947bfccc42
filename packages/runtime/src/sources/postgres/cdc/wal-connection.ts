import type pg from 'pg';
import type { SqlConnectionOptions } from '../../source.js';
import { quoteIdent } from '../postgres-connection.js';
import { RuntimeError } from '../../../errors.js';
import { formatLsn } from './lsn.js';
import { connectReplication } from './slots.js';

/**
 * The streaming replication protocol on `pg`'s replication connection (`replication: 'database'`):
 * `START_REPLICATION … LOGICAL` switches the connection to copy-both mode; CopyData frames from pg's own
 * protocol parser carry XLogData (a pgoutput message) and primary keepalives; standby status updates go
 * back. The socket can be paused for backpressure.
 */

/** Microseconds since 2000-01-01, PostgreSQL's epoch, are the protocol's timestamps. */
const PG_EPOCH_MS = 946_684_800_000n;

/** The parts of pg's internal Connection the replication stream uses. */
interface WireConnection {
  readonly stream: NodeJS.ReadableStream & NodeJS.WritableStream & { destroy?(): void };
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): unknown;
  once(event: 'replicationStart', listener: () => void): unknown;
  removeAllListeners(event: string): unknown;
  sendCopyFromChunk(chunk: Buffer): void;
}

export interface WireHandlers {
  /** XLogData: one pgoutput message; decoded synchronously (pg reuses the buffer). */
  readonly data: (payload: Buffer) => void;
  readonly keepalive: (walEnd: bigint, replyRequested: boolean) => void;
  readonly closed: (error: unknown) => void;
}

/** A replication connection in copy-both mode: CopyData frames in, standby status updates out. */
export class WalConnection {
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
      this.client.on('end', () => finish(new RuntimeError('source_unavailable', 'the replication connection ended')));
      const sql = `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(start)} (proto_version '1', publication_names '${publication}')`;
      this.client.query(sql).then(
        () => finish(new RuntimeError('source_unavailable', 'the server ended replication')),
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
