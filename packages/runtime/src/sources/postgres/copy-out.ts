import type pg from 'pg';
import { RuntimeError } from '../../errors.js';

/** Whole rows of a `COPY … TO STDOUT`, as the server sent them (CSV or text format), one after the other. */
export interface CopyBlock {
  readonly data: Buffer;
  readonly rows: number;
  /** Bytes of the longest row, its newline included. */
  readonly longestRow: number;
  /** The block the COPY ended with (possibly empty): the one to carry a sync's state. */
  readonly last: boolean;
}

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const COPY_OUT_RESPONSE = 0x48; // 'H'
const ERROR_RESPONSE = 0x45; // 'E'
// Messages the server may send in the middle of a COPY (protocol-flow.html#PROTOCOL-COPY): skipped.
const NOTICE = 0x4e; // 'N'
const PARAMETER_STATUS = 0x53; // 'S'
const NOTIFICATION = 0x41; // 'A'

/** Blocks stop growing past this many bytes even below `chunkRows` rows (wide rows). */
const MAX_BLOCK_BYTES = 8 * 1024 * 1024;
/** Blocks read ahead of the consumer before the socket is left unread (the server then waits). */
const READ_AHEAD_BLOCKS = 2;

/**
 * `COPY … TO STDOUT` read straight off a pg client's socket, handed over as blocks of whole rows.
 *
 * In copy-out mode PostgreSQL sends every row as one CopyData message (protocol-flow.html: "always one
 * per row"), so rows are found from the message lengths: nothing scans the bytes for quotes or
 * newlines. A socket buffer of whole CopyData messages is copied into the block in one piece and the
 * 5-byte message headers are then squeezed out in place (`copyWithin`, no allocation per row); a
 * message cut by a buffer boundary is copied in its parts. The server's `COPY n` count is checked
 * against the rows handed over.
 *
 * Like pg-copy-streams, it takes pg's `data` listener off the socket while the COPY runs and gives
 * the socket back, with the bytes after CopyDone (or from an ErrorResponse on), to pg's parser, which
 * then finishes the query (CommandComplete, ReadyForQuery) or reports the error.
 *
 * In binary format (`binary`), the header comes with the first block's first row and the end marker
 * ends the last block: neither counts as a row.
 *
 * Usage: `client.query(copy)`, then `for await (const block of copy.blocks())`. A consumer that stops
 * early (or `destroy()`) leaves the connection unusable: end the client afterwards.
 */
export class CopyOut implements pg.Submittable {
  readonly text: string;
  /**
   * Set by pg when the query was given one, or to clear its `query_timeout` timer: called once, when the
   * query ends.
   */
  callback: ((error: Error | null) => void) | undefined;
  private readonly chunkRows: number;
  /** Binary format: the header and the end marker are not rows. */
  private readonly binary: boolean;
  private firstMessage = true;
  private formatChecked = false;
  private connection: pg.Connection | undefined;
  private pgData: ((chunk: Buffer) => void) | undefined;
  private reading = false;
  private attached = false;

  // The message being read: its code, and payload bytes still to come.
  private code = 0;
  private remaining = 0;
  private inMessage = false;
  // A message header cut by a socket buffer boundary.
  private readonly head = Buffer.alloc(5);
  private headLength = 0;

  // The block being filled: whole rows up to `rowEnd`, the row being read from there to `filled`.
  private block = Buffer.allocUnsafe(0);
  private filled = 0;
  private rowEnd = 0;
  private rows = 0;
  private longest = 0;
  private rowsHandedOver = 0;
  private capacityHint = 64 * 1024;

  private readonly ready: CopyBlock[] = [];
  private done = false;
  private copyDone = false;
  private serverRows: number | undefined;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(text: string, options: { chunkRows: number; binary?: boolean }) {
    if (!Number.isInteger(options.chunkRows) || options.chunkRows < 1) {
      throw new RuntimeError('internal', `chunkRows must be a positive integer, not ${options.chunkRows}`);
    }
    this.text = text;
    this.chunkRows = options.chunkRows;
    this.binary = options.binary ?? false;
  }

  // ------------------------------------------------------------------------------- pg's Submittable

  /** Called by pg when the query's turn comes: takes the socket, sends the query. */
  submit(connection: pg.Connection): void {
    this.connection = connection;
    const stream = connection.stream;
    const listeners = stream.listeners('data') as ((chunk: Buffer) => void)[];
    if (listeners.length !== 1) {
      throw new RuntimeError(
        'internal',
        `postgres COPY: expected pg's one data listener on the socket, found ${listeners.length}`,
      );
    }
    this.pgData = listeners[0];
    stream.removeListener('data', this.pgData!);
    stream.pause();
    stream.on('readable', this.onReadable);
    this.attached = true;
    connection.query(this.text);
  }

  handleError(error: Error): void {
    this.failure ??= error;
    this.finish(error);
    if (this.attached) this.detach(Buffer.alloc(0));
    this.done = true;
    this.notify();
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)$/.exec(message.text ?? '');
    if (match) this.serverRows = Number(match[1]);
  }

  /** Calls pg's callback once (see `callback`). */
  private finish(error: Error | null): void {
    const callback = this.callback;
    this.callback = undefined;
    callback?.(error);
  }

  handleReadyForQuery(): void {
    if (!this.failure && !this.copyDone)
      this.failure = new RuntimeError('internal', 'postgres COPY: the server ended the query without CopyDone');
    if (!this.failure && this.serverRows !== undefined && this.serverRows !== this.rowsHandedOver + this.rows) {
      this.failure = new RuntimeError(
        'internal',
        `postgres COPY: the server sent ${this.serverRows} rows, ${this.rowsHandedOver + this.rows} were read`,
      );
    }
    if (!this.failure) this.emit(true);
    this.done = true;
    this.finish(this.failure ?? null);
    this.notify();
  }

  // ------------------------------------------------------------------------------------- consumer

  /**
   * The COPY's rows in blocks of `chunkRows` rows (fewer when a block passes 8 MB; the last one fewer,
   * or none).
   */
  async *blocks(signal?: AbortSignal): AsyncGenerator<CopyBlock> {
    const onAbort = () => this.notify();
    signal?.addEventListener('abort', onAbort, { once: true });
    let finished = false;
    try {
      for (;;) {
        if (signal?.aborted) return;
        const block = this.ready.shift();
        if (block) {
          this.pump();
          if (block.last) finished = true;
          yield block;
          if (block.last) return;
          continue;
        }
        if (this.failure) throw this.failure;
        if (this.done) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!finished) this.destroy();
    }
  }

  /** Stops reading and drops the connection (the server rolls back): the client must be ended. */
  destroy(): void {
    if (this.done) return;
    this.done = true;
    this.connection?.stream.destroy();
    this.notify();
  }

  // ------------------------------------------------------------------------------------ internals

  private readonly onReadable = (): void => this.pump();

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Reads the socket while the consumer is at most READ_AHEAD_BLOCKS blocks behind. */
  private pump(): void {
    if (this.reading || !this.attached) return;
    this.reading = true;
    try {
      let chunk: Buffer | null;
      while (
        this.attached &&
        this.ready.length < READ_AHEAD_BLOCKS &&
        (chunk = this.connection!.stream.read() as Buffer | null) !== null
      ) {
        this.parse(chunk);
      }
    } catch (error) {
      this.failure ??= error as Error;
      this.destroy();
    } finally {
      this.reading = false;
    }
  }

  /** Gives the socket back to pg, `rest` (bytes after the COPY's last message) first. */
  private detach(rest: Buffer): void {
    const stream = this.connection!.stream;
    this.attached = false;
    stream.removeListener('readable', this.onReadable);
    stream.on('data', this.pgData!);
    if (rest.length > 0) this.pgData!(rest);
    // pg's parser sees the rest of the socket's data as it arrives.
    process.nextTick(() => stream.resume());
  }

  private parse(chunk: Buffer): void {
    const end = chunk.length;
    let at = 0;
    while (at < end) {
      if (!this.inMessage) {
        // Fast path: a run of whole CopyData messages, copied in one piece and squeezed in place.
        if (this.headLength === 0) {
          const after = this.copyRun(chunk, at);
          if (after !== at) {
            at = after;
            continue;
          }
        }
        // A message header, possibly cut by the buffer's end.
        let code: number;
        let length: number;
        if (this.headLength === 0 && end - at >= 5) {
          code = chunk[at]!;
          length = chunk.readUInt32BE(at + 1) - 4;
          at += 5;
        } else {
          while (this.headLength < 5 && at < end) this.head[this.headLength++] = chunk[at++]!;
          if (this.headLength < 5) return;
          code = this.head[0]!;
          length = this.head.readUInt32BE(1) - 4;
          this.headLength = 0;
        }
        if (
          code === ERROR_RESPONSE ||
          (code !== COPY_DATA &&
            code !== COPY_DONE &&
            code !== COPY_OUT_RESPONSE &&
            code !== NOTICE &&
            code !== PARAMETER_STATUS &&
            code !== NOTIFICATION)
        ) {
          // pg's parser reads the error (or whatever else this is) and reports it.
          const header = Buffer.alloc(5);
          header[0] = code;
          header.writeUInt32BE(length + 4, 1);
          this.detach(Buffer.concat([header, chunk.subarray(at)]));
          return;
        }
        this.code = code;
        this.remaining = length;
        this.inMessage = true;
        if (length < 0) throw new RuntimeError('internal', `postgres COPY: a message with a length of ${length + 4}`);
        if (code === COPY_DATA) {
          this.emitIfFull();
          this.reserve(length);
        }
      }
      const take = Math.min(this.remaining, end - at);
      // CopyOutResponse's first byte is the overall format (wherever the buffer cut the message).
      if (this.code === COPY_OUT_RESPONSE && take > 0 && !this.formatChecked) {
        this.formatChecked = true;
        if (chunk[at] !== (this.binary ? 1 : 0)) {
          throw new RuntimeError(
            'internal',
            `postgres COPY: the server answered in ${chunk[at] === 1 ? 'binary' : 'text'} format`,
          );
        }
      }
      if (this.code === COPY_DATA && take > 0) {
        chunk.copy(this.block, this.filled, at, at + take);
        this.filled += take;
      }
      at += take;
      this.remaining -= take;
      if (this.remaining > 0) return;
      this.inMessage = false;
      if (this.code === COPY_DATA) {
        this.rowEnds(this.filled - this.rowEnd);
      } else if (this.code === COPY_DONE) {
        this.copyDone = true;
        this.detach(chunk.subarray(at));
        return;
      }
    }
  }

  /**
   * Whole CopyData messages from `start` on: copied into the block, headers squeezed out. Returns where
   * the run ended (`start` when the message there is not a whole CopyData one).
   */
  private copyRun(chunk: Buffer, start: number): number {
    const end = chunk.length;
    if (end - start < 5 || chunk[start] !== COPY_DATA) return start;
    this.emitIfFull();
    let at = start;
    let rowsLeft = this.chunkRows - this.rows;
    while (rowsLeft > 0 && end - at >= 5 && chunk[at] === COPY_DATA) {
      const next = at + 1 + chunk.readUInt32BE(at + 1);
      if (next > end) break;
      at = next;
      rowsLeft--;
    }
    if (at === start) return start;
    this.reserve(at - start);
    const base = this.filled;
    chunk.copy(this.block, base, start, at);
    const block = this.block;
    let read = base;
    let write = base;
    const stop = base + (at - start);
    while (read < stop) {
      const length =
        ((block[read + 1]! << 24) | (block[read + 2]! << 16) | (block[read + 3]! << 8) | block[read + 4]!) - 4;
      block.copyWithin(write, read + 5, read + 5 + length);
      read += 5 + length;
      write += length;
      this.filled = write;
      this.rowEnds(length);
    }
    return at;
  }

  /**
   * Hands the block over once it is full, when the next message begins: so the last block, handed over
   * when the COPY ends, holds rows — unless the table has none, or (binary) only the end marker was
   * left for it.
   */
  private emitIfFull(): void {
    if (this.rows >= this.chunkRows || this.rowEnd >= MAX_BLOCK_BYTES) this.emit(false);
  }

  private rowEnds(length: number): void {
    if (length > this.longest) this.longest = length;
    this.rowEnd = this.filled;
    if (this.binary ? this.binaryRow(length) : true) this.rows++;
    this.firstMessage = false;
  }

  /**
   * Whether the binary message just read holds a row: not the end marker (a field count of -1), nor
   * the header on its own or with the end marker (PostgreSQL sends the header with the first row, or
   * with the end marker of an empty table).
   */
  private binaryRow(length: number): boolean {
    const block = this.block;
    const end = this.filled;
    const endMarker = length >= 2 && block[end - 2] === 0xff && block[end - 1] === 0xff;
    if (length === 2 && endMarker) return false;
    if (!this.firstMessage || length < 19) return true;
    const header = 19 + block.readUInt32BE(end - length + 15);
    return !(length === header || (length === header + 2 && endMarker));
  }

  /** Room in the block for `bytes` more; a bigger block keeps the row being read. */
  private reserve(bytes: number): void {
    if (this.filled + bytes <= this.block.length) return;
    const size = Math.max(this.capacityHint, 2 * this.block.length, this.filled + bytes);
    const bigger = Buffer.allocUnsafe(size);
    this.block.copy(bigger, 0, 0, this.filled);
    this.block = bigger;
  }

  /** Hands over the whole rows read so far; the row being read starts the next block. */
  private emit(last: boolean): void {
    const data = this.block.subarray(0, this.rowEnd);
    const partial = this.filled - this.rowEnd;
    // The next block is sized like this one (the rows of a table are alike), so it rarely grows.
    this.capacityHint = Math.max(
      this.capacityHint,
      Math.min(MAX_BLOCK_BYTES, this.rowEnd + (this.rowEnd >> 3)) + partial,
    );
    const next = Buffer.allocUnsafe(last ? 0 : Math.max(this.capacityHint, partial));
    if (partial > 0) this.block.copy(next, 0, this.rowEnd, this.filled);
    this.ready.push({ data, rows: this.rows, longestRow: this.longest, last });
    this.rowsHandedOver += this.rows;
    this.block = next;
    this.filled = partial;
    this.rowEnd = 0;
    this.rows = 0;
    this.longest = 0;
    this.notify();
  }
}

/** Runs `copy` on `client` (pg queues it like any query). */
export function startCopyOut(
  client: pg.Client,
  sql: string,
  chunkRows: number,
  options: { binary?: boolean } = {},
): CopyOut {
  const copy = new CopyOut(sql, { chunkRows, ...options });
  client.query(copy);
  return copy;
}
