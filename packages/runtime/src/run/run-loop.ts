import { RuntimeError } from '../errors.js';
import type { ColumnarPage } from '../lake/columnar-page.js';
import type { CsvPage } from '../lake/csv-page.js';
import type { BatchResult, LakeWriter, Page } from '../lake/lake-writer.js';
import type { Row } from '../records/record.js';
import { chunkRows } from '../sources/source.js';
import type {
  ColumnarRows,
  CsvRows,
  EntityRef,
  ReadMode,
  Source,
  SourceChunk,
  SourceState,
} from '../sources/source.js';
import type { CheckpointStore } from './checkpoint-store.js';

/** Turns source rows into lake rows (coercion happens in the writer; this adds metadata, handles PII). */
export interface RowTransformer {
  apply(rows: readonly Row[], extractedAt: Date): Row[];
  /** Wraps CSV rows of the source for the writer (needed when the read mode asks for CSV). */
  csvPage?(csv: CsvRows, extractedAt: Date): CsvPage;
  /** Wraps columnar rows of the source for the writer (needed when the read mode asks for them). */
  columnarPage?(columnar: ColumnarRows, extractedAt: Date): ColumnarPage;
}

/** What one committed batch did, for metrics and logs. */
export interface BatchReport {
  readonly result: BatchResult;
  readonly rowsRead: number;
  readonly state: SourceState;
  readonly durationMs: number;
}

export interface RunOptions {
  readonly connectorId: string;
  readonly source: Source;
  readonly entity: EntityRef;
  readonly mode: ReadMode;
  readonly transformer: RowTransformer;
  readonly writer: LakeWriter;
  readonly checkpoints: CheckpointStore;
  /** Cut a batch (at a state boundary) once it has this many rows (default 100 000). */
  readonly batchRows?: number;
  /** Cut a batch (at a state boundary) once it is this old, e.g. 1 s for CDC (default: no time cut). */
  readonly flushIntervalMs?: number;
  readonly signal?: AbortSignal;
  readonly onBatch?: (report: BatchReport) => void;
  /**
   * Called at most every `progressEveryMs` (default 10 s) while a batch is read, with the rows read in
   * this sync so far: a full refresh is one batch however big, and would otherwise say nothing until
   * it commits.
   */
  readonly onProgress?: (progress: { readonly rowsRead: number; readonly elapsedMs: number }) => void;
  readonly progressEveryMs?: number;
  /**
   * Fail a batch when more than this share (0..1) of its rows goes to the quarantine: nothing of it is
   * committed, the checkpoint stays and the source is not acknowledged, so the next run reads the same
   * rows again; the run throws a RuntimeError 'quality'. Default: no limit.
   */
  readonly maxQuarantineShare?: number;
}

export interface RunSummary {
  readonly batches: number;
  readonly rowsRead: number;
  readonly rowsWritten: number;
  readonly rowsQuarantined: number;
  readonly bytesWritten: number;
  /** The checkpoint the run started from and the one it ended at. */
  readonly from: number;
  readonly to: number;
}

/**
 * The run loop: extract → transform → write → commit → checkpoint. A batch ends only where the source
 * can resume (a chunk with a state); its state is committed with the data, then saved to the
 * checkpoint store, then acknowledged to the source (a CDC slot). A crash anywhere loses nothing —
 * the next run resumes from the newest of the lake's and the store's checkpoint — and a replay
 * duplicates nothing: a batch sequence the lake already has is skipped.
 */
export async function runSync(options: RunOptions): Promise<RunSummary> {
  const { connectorId, source, writer, checkpoints, signal } = options;
  const stored = await checkpoints.load(connectorId);
  const committed = await writer.lastCommit();
  let sequence = Math.max(stored?.sequence ?? 0, committed?.sequence ?? 0);
  let state = (committed && committed.sequence >= (stored?.sequence ?? 0) ? committed.state : stored?.state) as
    SourceState | undefined;
  if (committed && committed.sequence > (stored?.sequence ?? 0)) {
    // The lake committed a batch whose checkpoint never reached the store (a crash in between).
    await checkpoints.save(connectorId, { sequence, state, updatedAt: new Date().toISOString() });
    if (state) await source.acknowledge?.(state);
  }
  const from = sequence;
  const summary = { batches: 0, rowsRead: 0, rowsWritten: 0, rowsQuarantined: 0, bytesWritten: 0 };
  const iterator = source.read(options.entity, options.mode, state ?? undefined, signal)[Symbol.asyncIterator]();
  const batchRows = options.batchRows ?? 100_000;
  const syncStarted = Date.now();
  const progressEveryMs = options.progressEveryMs ?? 10_000;
  let lastProgress = syncStarted;
  let pendingNext: Promise<IteratorResult<SourceChunk>> | undefined;
  let exhausted = false;
  const next = () => (pendingNext ??= iterator.next());
  try {
    while (!exhausted) {
      signal?.throwIfAborted();
      // Wait for the first chunk of the next batch before opening one (an idle CDC stream waits here).
      const first = await next();
      if (first.done) break;
      if (chunkRows(first.value) === 0 && first.value.state && options.mode.strategy !== 'full_refresh') {
        // Progress without rows (a CDC heartbeat past unrelated WAL): nothing to commit to the lake.
        pendingNext = undefined;
        state = first.value.state;
        await checkpoints.save(connectorId, { sequence, state, updatedAt: new Date().toISOString() });
        await source.acknowledge?.(state);
        continue;
      }
      const started = Date.now();
      const extractedAt = new Date();
      let rowsRead = 0;
      let rowsSinceState = 0;
      let batchState: SourceState | undefined;
      const pages = async function* (this: void): AsyncGenerator<Page> {
        for (;;) {
          const result = await nextOrFlush();
          if (result === 'flush') return;
          pendingNext = undefined;
          if (result.done) {
            exhausted = true;
            if (rowsSinceState > 0)
              throw new RuntimeError('internal', 'the source ended with rows after its last resumable state');
            return;
          }
          const chunk = result.value;
          const count = chunkRows(chunk);
          rowsRead += count;
          if (options.onProgress && Date.now() - lastProgress >= progressEveryMs) {
            lastProgress = Date.now();
            options.onProgress({ rowsRead: summary.rowsRead + rowsRead, elapsedMs: lastProgress - syncStarted });
          }
          rowsSinceState = chunk.state ? 0 : rowsSinceState + count;
          if (count > 0) yield pageOf(chunk, options.transformer, extractedAt);
          if (chunk.state) {
            batchState = chunk.state;
            if (
              rowsRead >= batchRows ||
              (options.flushIntervalMs !== undefined && Date.now() - started >= options.flushIntervalMs)
            )
              return;
          }
        }
      };
      // With a flush interval, a batch that sits at a state boundary is cut when the source goes quiet.
      const nextOrFlush = async (): Promise<IteratorResult<SourceChunk> | 'flush'> => {
        const pending = next();
        // Only at a state boundary: rows of an unfinished transaction never end a batch.
        if (options.flushIntervalMs === undefined || batchState === undefined || rowsSinceState > 0) return pending;
        const remaining = Math.max(0, options.flushIntervalMs - (Date.now() - started));
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'flush'>((resolve) => (timer = setTimeout(() => resolve('flush'), remaining)));
        try {
          return await Promise.race([pending, timeout]);
        } finally {
          clearTimeout(timer);
        }
      };
      let result: BatchResult;
      try {
        result = await writer.writeBatch(sequence + 1, pages(), {
          extractedAt,
          stateAfter: () => {
            if (batchState === undefined)
              throw new RuntimeError('internal', 'the source ended a batch without a resumable state');
            return batchState;
          },
          ...(options.maxQuarantineShare !== undefined ? { maxQuarantineShare: options.maxQuarantineShare } : {}),
        });
      } catch (error) {
        // Nothing of the batch is in the lake: the checkpoint and the source's position stay.
        if (error instanceof RuntimeError && error.code === 'quality')
          throw new RuntimeError('quality', `${error.message}; the checkpoint stays at ${sequence}`, { cause: error });
        throw error;
      }
      sequence += 1;
      state = batchState!;
      await checkpoints.save(connectorId, { sequence, state, updatedAt: new Date().toISOString() });
      await source.acknowledge?.(state);
      summary.batches++;
      summary.rowsRead += rowsRead;
      summary.rowsWritten += result.rowsWritten;
      summary.rowsQuarantined += result.rowsQuarantined;
      summary.bytesWritten += result.bytesWritten;
      options.onBatch?.({ result, rowsRead, state, durationMs: Date.now() - started });
    }
  } finally {
    await iterator.return?.();
  }
  return { ...summary, from, to: sequence };
}

/** The lake writer's page for a chunk of any kind: records through the transformer, CSV and columnar rows wrapped. */
function pageOf(chunk: SourceChunk, transformer: RowTransformer, extractedAt: Date): Page {
  switch (chunk.kind) {
    case 'csv':
      if (!transformer.csvPage)
        throw new RuntimeError('internal', 'the source sent CSV rows the transformer cannot pass on');
      return transformer.csvPage(chunk.csv, extractedAt);
    case 'columnar':
      if (!transformer.columnarPage)
        throw new RuntimeError('internal', 'the source sent columnar rows the transformer cannot pass on');
      return transformer.columnarPage(chunk.columnar, extractedAt);
    default:
      return transformer.apply(chunk.rows, extractedAt);
  }
}
