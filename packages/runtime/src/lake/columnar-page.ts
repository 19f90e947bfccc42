import type { ColumnWriter } from './spool/parquet-spool.js';
import type { RejectedRow } from './stage.js';

/**
 * Where a columnar page writes its rows: the stage's spool, a row at a time, each value straight in
 * its column's binary form (the column order is the page's `fields`). The typed writes are fast paths
 * for values the page has already checked against the column's type; anything else goes through
 * `writer(i)`, the row path's own conformance (conform.ts), which writes what fits and throws a
 * Misfit (lake/spool/row-values.ts) for what does not.
 */
export interface RowSink {
  beginRow(): void;
  commitRow(): void;
  /** Undoes the row being written (a value did not fit): call before moving on. */
  discardRow(): void;
  /** Column `index` is null in this row (a nullable column only). */
  setNull(index: number): void;
  /** A safe integer into an int64 or timestamp (microseconds) column. */
  int64(index: number, value: number): void;
  /** Eight big-endian bytes of `source` from `at` (an int64, or a double's IEEE 754 bits), stored little-endian. */
  swap8(index: number, source: Uint8Array, at: number): void;
  /** Days since the epoch into a date column. */
  int32(index: number, value: number): void;
  bit(index: number, value: boolean): void;
  /** A decimal column's value scaled to its scale, as a safe integer. */
  scaled(index: number, value: number): void;
  /** UTF-8 bytes of `source` (`length` from `at`) into a string column. */
  bytes(index: number, source: Uint8Array, at: number, length: number): void;
  /** The reference path for any value of column `index` (see above). */
  writer(index: number): ColumnWriter;
}

/**
 * Rows handed over in a source's own binary form, written into the stage's spool by the source's
 * decoder (`fill`) without becoming JS objects: the columnar hand-over of a bulk read when the source
 * has a binary export (PostgreSQL's `COPY … (FORMAT binary)`). As with CsvPage, the metadata columns
 * are `constants`, added in SQL when the spool is read.
 */
export interface ColumnarPage {
  readonly kind: 'columnar';
  /** Rows the page holds (rejected ones included). */
  readonly rows: number;
  /** The table columns the fields of a row fill, in order. */
  readonly fields: readonly string[];
  /** Values of the table's other columns, the same for every row (the metadata columns). */
  readonly constants: Readonly<Record<string, unknown>>;
  /** Writes the rows into `sink`; returns those that did not fit, with the reason. */
  fill(sink: RowSink): RejectedRow[];
}

export function isColumnarPage(page: unknown): page is ColumnarPage {
  return typeof page === 'object' && page !== null && (page as { kind?: unknown }).kind === 'columnar';
}
