import type { FieldType } from '@connector-factory/ir';

/**
 * The columnar hand-over's vocabulary, shared by the sources that decode a binary export and the lake
 * writer that stores it: a lake column and its physical type, the sink a source's decoder writes rows
 * into, and the error a value that does not fit its column raises. Types and one class, no behaviour:
 * `sources/` and `lake/` both import this module, neither imports the other for it.
 */

/**
 * How a column is stored. The IR's `number` carries no precision, so the source says which one it is
 * (PostgreSQL int8 → int64, numeric(12,2) → decimal, float8 → float64); without a hint a number is a
 * float64, which holds every JSON number a REST API can send.
 */
export type PhysicalType =
  | { readonly kind: 'string' }
  | { readonly kind: 'int64' }
  | { readonly kind: 'float64' }
  | { readonly kind: 'decimal'; readonly precision: number; readonly scale: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'date' }
  | { readonly kind: 'timestamp' }
  | { readonly kind: 'json' };

/** One column of a lake table. */
export interface Column {
  readonly name: string;
  readonly type: FieldType;
  readonly nullable: boolean;
  readonly physical: PhysicalType;
}

/** Writes one value of a column (not null) the way the row path does: what fits is stored, the rest throws a Misfit. */
export type ColumnWriter = (value: unknown) => void;

/**
 * Where a columnar page writes its rows: the stage's spool, a row at a time, each value straight in
 * its column's binary form (the column order is the page's `fields`). The typed writes are fast paths
 * for values the page has already checked against the column's type; anything else goes through
 * `writer(i)`, the row path's own conformance (lake/conform.ts), which writes what fits and throws a
 * Misfit for what does not.
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

/** Thrown by a column writer for a value that does not fit; carries the reason to the quarantine. */
export class Misfit {
  constructor(readonly reason: string) {}
}
