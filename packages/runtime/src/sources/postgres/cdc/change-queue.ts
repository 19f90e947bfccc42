import type { Row } from '../../../records/record.js';

/** Rows handed over together; `lsn` when they end a transaction, `partialOf` when they are part of an open one. */
export interface Block {
  readonly rows: Row[];
  readonly lsn?: bigint;
  readonly partialOf?: bigint;
}

/**
 * Decoded rows waiting for the consumer. Rows of completed transactions are handed over up to the last
 * commit boundary with that commit's LSN; rows of a transaction still open are handed over (without
 * state) only in full chunks.
 */
export class ChangeQueue {
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
