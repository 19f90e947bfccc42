import type { FieldType } from '@connector-factory/ir';
import type { Column, RowSink } from '../columnar/columnar.js';
import type { RejectedRow, Row } from '../records/record.js';

/** Where a source resumes from: JSON-serialisable (a cursor value and key, an LSN, a binlog position). */
export type SourceState = Readonly<Record<string, unknown>>;

/** One table (or query) of a source, as the manifest names it. */
export interface EntityRef {
  /** Table name, optionally schema-qualified (`public.orders`); used verbatim as an identifier. */
  readonly name: string;
  /** Fields to read, in order (the manifest's fields minus excluded PII). */
  readonly fields: readonly string[];
  readonly primaryKey: readonly string[];
}

/**
 * How to read an entity: the manifest's update strategy, the same for every kind. What a kind needs
 * beyond it (PostgreSQL's publication and slot, a heartbeat, when to stop) is in the kind's options
 * (`sources/<kind>/<kind>-options.ts`), given to the kind when the source is created.
 */
export type ReadMode = FullRefreshMode | IncrementalMode | LogMode;

export interface FullRefreshMode {
  readonly strategy: 'full_refresh';
  /**
   * Hand rows over as CSV text (chunks of kind `csv`) where the source can: the caller passes them
   * to the lake writer without making objects of them. A source that cannot sends `rows`.
   */
  readonly csv?: boolean;
  /**
   * The lake columns of the entity's fields: a source with a binary export that can write every one
   * of them hands rows over in that form (chunks of kind `columnar`), before CSV or rows.
   */
  readonly columnar?: readonly Column[];
}

export interface IncrementalMode {
  readonly strategy: 'incremental';
  /** The cursor column (the manifest's incrementalKey). */
  readonly cursor: string;
  /** Re-read rows whose cursor is up to this many seconds behind the last one (late commits). */
  readonly lookbackSeconds?: number;
}

/** Read the source's change log (the manifest's `cdc`): a snapshot, then every change after it. */
export interface LogMode {
  readonly strategy: 'log';
  /** Where to start in the log when there is no state; absent: a snapshot, then the changes after it. */
  readonly position?: SourceState;
  /** End the read once caught up with the log's current end (a `--once` run, tests), rather than follow it. */
  readonly stopWhenCaughtUp?: boolean;
}

/** A column as the source's catalog describes it. */
export interface SourceColumn {
  readonly name: string;
  readonly type: FieldType;
  readonly nullable: boolean;
  /** For numbers: `int64`, `float64` or `decimal(p,s)`; the lake writer's physical type. */
  readonly numberHint?: string;
  /** The source's own type name, e.g. `numeric(12,2)`, `timestamptz`, `varchar(40)`. */
  readonly sourceType: string;
}

/** Complete rows as CSV text (see the lake writer's CsvPage). */
export interface CsvRows {
  readonly data: Buffer;
  readonly rows: number;
  /** The fields of a row, in order. */
  readonly fields: readonly string[];
  /** Bytes of the longest row. */
  readonly longestRow?: number;
}

/** Complete rows in the source's binary form, with the decoder that writes them (see the lake writer's ColumnarPage). */
export interface ColumnarRows {
  readonly rows: number;
  /** The fields of a row, in order. */
  readonly fields: readonly string[];
  fill(sink: RowSink): RejectedRow[];
}

/** What every chunk has: `state`, when present, is a point the source can resume from after its rows. */
interface ChunkBase {
  readonly state?: SourceState;
}

/** Rows as records, read in order. */
export interface RowsChunk extends ChunkBase {
  readonly kind: 'rows';
  readonly rows: readonly Row[];
}

/** Rows as CSV text, for a full refresh that asked for `csv`. */
export interface CsvChunk extends ChunkBase {
  readonly kind: 'csv';
  readonly csv: CsvRows;
  /** None: the rows are in `csv` (so `chunk.rows` reads undefined here rather than failing to compile). */
  readonly rows?: never;
}

/** Rows in the source's binary form, for a full refresh that asked for `columnar`. */
export interface ColumnarChunk extends ChunkBase {
  readonly kind: 'columnar';
  readonly columnar: ColumnarRows;
  /** None: the rows are in `columnar`. */
  readonly rows?: never;
}

/** Rows read in order, in one of three forms. */
export type SourceChunk = RowsChunk | CsvChunk | ColumnarChunk;

/** The number of rows in a chunk, whatever its kind. */
export function chunkRows(chunk: SourceChunk): number {
  switch (chunk.kind) {
    case 'csv':
      return chunk.csv.rows;
    case 'columnar':
      return chunk.columnar.rows;
    case 'rows':
      return chunk.rows.length;
  }
}

/**
 * A data source (one per source kind: `jdbc` → postgres and mysql today; rest, graphql, file, stream,
 * webhook later). Rows are plain objects keyed by field name; CDC rows carry `_op`: `r` (snapshot read),
 * `c` (insert), `u` (update), `d` (delete; key fields are enough).
 */
export interface Source {
  /** Connects and checks the credentials and permissions the read needs; throws a clear error otherwise. */
  check(): Promise<void>;
  /** The entity's columns as the catalog has them (types, nullability, number precision). */
  columns(entity: EntityRef): Promise<SourceColumn[]>;
  /**
   * Reads the entity from `state` (undefined: from the start); ends when done, or with the signal
   * (an aborted read ends promptly and releases its connection).
   */
  read(
    entity: EntityRef,
    mode: ReadMode,
    state: SourceState | undefined,
    signal?: AbortSignal,
  ): AsyncIterable<SourceChunk>;
  /** Called after the lake committed everything up to `state` (CDC: confirm the LSN to the slot). */
  acknowledge?(state: SourceState): Promise<void>;
  close(): Promise<void>;
}

/** Connection settings common to SQL sources; credentials come only from the environment. */
export interface SqlConnectionOptions {
  /** A connection URL; `${NAME}` references are expanded from the environment by the caller. */
  readonly url: string;
  readonly tls?: {
    readonly mode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
    /** PEM file paths. */
    readonly caFile?: string;
    readonly certFile?: string;
    readonly keyFile?: string;
  };
  /** Rows per fetch / chunk (default 10 000). */
  readonly chunkRows?: number;
}
