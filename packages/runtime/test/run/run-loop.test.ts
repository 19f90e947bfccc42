import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { openLakeWriter } from '../../src/lake/open-lake-writer.js';
import { columnOf, type TableSchema } from '../../src/lake/table-schema.js';
import { FileCheckpointStore, type Checkpoint, type CheckpointStore } from '../../src/run/checkpoint-store.js';
import { runSync, type RunOptions } from '../../src/run/run-loop.js';
import type { EntityRef, ReadMode, Source, SourceChunk, SourceState } from '../../src/sources/source.js';
import type { Row } from '../../src/lake/stage.js';

// The run loop against an in-process scripted source (the real PostgreSQL and MariaDB sources are
// tested against real servers in test/sources); the lake writer and checkpoint store are real.

const schema: TableSchema = {
  columns: [
    columnOf({ name: 'id', type: 'number', nullable: false }, 'int64'),
    columnOf({ name: 'v', type: 'string', nullable: true }),
  ],
  partitionBy: [],
  mergeKeys: ['id'],
};
const entity: EntityRef = { name: 'items', fields: ['id', 'v'], primaryKey: ['id'] };
const identity = { apply: (rows: readonly Row[]) => [...rows] };

/** A source replaying a script of chunks from a position (its state is the index of the next chunk). */
class ScriptedSource implements Source {
  acknowledged: SourceState[] = [];
  reads: Array<SourceState | undefined> = [];
  constructor(
    private readonly script: SourceChunk[],
    private readonly failAt?: number,
  ) {}
  async check() {}
  async columns() {
    return [];
  }
  async *read(_e: EntityRef, _m: ReadMode, state: SourceState | undefined): AsyncIterable<SourceChunk> {
    this.reads.push(state);
    for (let i = state ? Number(state.next) : 0; i < this.script.length; i++) {
      if (i === this.failAt) throw new Error('source connection lost');
      yield this.script[i]!;
    }
  }
  async acknowledge(state: SourceState) {
    this.acknowledged.push(state);
  }
  async close() {}
}

/** Chunks of `per` rows; every `stateEvery`-th chunk ends at a resumable point. */
function script(chunks: number, per: number, stateEvery = 1): SourceChunk[] {
  return Array.from({ length: chunks }, (_, c) => ({
    kind: 'rows' as const,
    rows: Array.from({ length: per }, (_, i) => ({ id: c * per + i, v: `c${c}` })),
    ...((c + 1) % stateEvery === 0 || c === chunks - 1 ? { state: { next: c + 1 } } : {}),
  }));
}

async function ids(path: string): Promise<number[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const r = await c.runAndReadAll(`SELECT id FROM read_parquet('${path}/**/*.parquet') ORDER BY id`);
  const out = r.getRowObjectsJS().map((row) => Number(row.id));
  c.closeSync();
  db.closeSync();
  return out;
}

async function run(
  path: string,
  source: Source,
  checkpoints: CheckpointStore,
  extra: Partial<Pick<RunOptions, 'batchRows' | 'flushIntervalMs' | 'mode' | 'onProgress' | 'progressEveryMs'>> = {},
) {
  const writer = await openLakeWriter({
    lakePath: path,
    format: 'parquet',
    writeMode: 'append',
    schema,
    appId: 'connector_t_items_v1',
  });
  try {
    return await runSync({
      connectorId: 'connector_t_items_v1',
      source,
      entity,
      mode: { strategy: 'incremental', cursor: 'id' },
      transformer: identity,
      writer,
      checkpoints,
      ...extra,
    });
  } finally {
    await writer.close();
  }
}

describe('runSync', () => {
  it('cuts batches only at resumable states, commits, then checkpoints and acknowledges', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-run-'));
    const checkpoints = new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cf-cp-')));
    const source = new ScriptedSource(script(10, 100, 3));
    const summary = await run(path, source, checkpoints, { batchRows: 250 });
    // States after chunks 3, 6, 9 and 10; 250 rows are reached at chunk 3 → batches of 300, 300, 300, 100.
    expect(summary).toMatchObject({ batches: 4, rowsRead: 1000, rowsWritten: 1000, from: 0, to: 4 });
    expect(source.acknowledged).toEqual([{ next: 3 }, { next: 6 }, { next: 9 }, { next: 10 }]);
    expect(await checkpoints.load('connector_t_items_v1')).toMatchObject({ sequence: 4, state: { next: 10 } });
    expect(await ids(path)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('reports progress while a long batch is read, before it commits', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-run-'));
    const checkpoints = new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cf-cp-')));
    // One resumable state, at the end: a single batch, like a full refresh.
    const chunks = script(6, 50, 6);
    const slow: Source = Object.assign(new ScriptedSource(chunks), {
      async *read() {
        for (const chunk of chunks) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          yield chunk;
        }
      },
    });
    const progress: number[] = [];
    const summary = await run(path, slow, checkpoints, {
      mode: { strategy: 'full_refresh' },
      progressEveryMs: 20,
      onProgress: (p) => progress.push(p.rowsRead),
    });
    expect(summary).toMatchObject({ batches: 1, rowsRead: 300 });
    // Several reports, rising, all before the one commit (which holds all 300 rows).
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect([...progress].sort((a, b) => a - b)).toEqual(progress);
    expect(progress.every((n) => n > 0 && n <= 300)).toBe(true);
  });

  it('loses and duplicates nothing when the source fails mid-batch and the run is repeated', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-run-'));
    const checkpoints = new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cf-cp-')));
    const chunks = script(10, 100, 2);
    await expect(run(path, new ScriptedSource(chunks, 5), checkpoints, { batchRows: 150 })).rejects.toThrow(
      'source connection lost',
    );
    expect(await checkpoints.load('connector_t_items_v1')).toMatchObject({ sequence: 2, state: { next: 4 } });
    const again = new ScriptedSource(chunks);
    await run(path, again, checkpoints, { batchRows: 150 });
    expect(again.reads).toEqual([{ next: 4 }]);
    expect(await ids(path)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('resumes from the lake when the checkpoint store missed the last commit', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-run-'));
    const saved: Checkpoint[] = [];
    let failNextSave = false;
    const flaky: CheckpointStore = {
      load: async () => saved.at(-1),
      save: async (_id, checkpoint) => {
        if (failNextSave) {
          failNextSave = false;
          throw new Error('disk full');
        }
        saved.push(checkpoint);
      },
    };
    const chunks = script(4, 50);
    failNextSave = true;
    await expect(run(path, new ScriptedSource(chunks), flaky, { batchRows: 100 })).rejects.toThrow('disk full');
    // The lake has batch 1 (state next=2) but the store has nothing.
    const again = new ScriptedSource(chunks);
    await run(path, again, flaky, { batchRows: 100 });
    expect(again.reads).toEqual([{ next: 2 }]);
    expect(again.acknowledged[0]).toEqual({ next: 2 });
    expect(await ids(path)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('advances past row-less progress without writing to the lake', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-run-'));
    const checkpoints = new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cf-cp-')));
    const source = new ScriptedSource([
      { kind: 'rows', rows: [], state: { next: 1 } },
      { kind: 'rows', rows: [{ id: 1, v: 'x' }], state: { next: 2 } },
      { kind: 'rows', rows: [], state: { next: 3 } },
    ]);
    const summary = await run(path, source, checkpoints);
    expect(summary.batches).toBe(1);
    // The trailing progress rides along with the batch it follows.
    expect(source.acknowledged).toEqual([{ next: 1 }, { next: 3 }]);
    expect(await checkpoints.load('connector_t_items_v1')).toMatchObject({ sequence: 1, state: { next: 3 } });
  });

  it('cuts a batch after the flush interval when the source goes quiet at a state', async () => {
    const path = mkdtempSync(join(tmpdir(), 'cf-run-'));
    const checkpoints = new FileCheckpointStore(mkdtempSync(join(tmpdir(), 'cf-cp-')));
    const committedBeforeSecondChunk: number[] = [];
    const source: Source = {
      check: async () => {},
      columns: async () => [],
      close: async () => {},
      async *read() {
        yield { kind: 'rows', rows: [{ id: 1, v: 'a' }], state: { next: 1 } };
        await new Promise((r) => setTimeout(r, 400));
        committedBeforeSecondChunk.push((await ids(path)).length);
        yield { kind: 'rows', rows: [{ id: 2, v: 'b' }], state: { next: 2 } };
      },
    };
    const summary = await run(path, source, checkpoints, { flushIntervalMs: 100 });
    expect(summary.batches).toBe(2);
    expect(committedBeforeSecondChunk).toEqual([1]);
  });
});
