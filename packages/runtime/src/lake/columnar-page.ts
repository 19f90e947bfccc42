import type { RowSink } from '../columnar/columnar.js';
import type { RejectedRow } from './stage.js';

export type { RowSink } from '../columnar/columnar.js';

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
