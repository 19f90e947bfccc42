import { inspect } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { RuntimeError } from '../../src/errors.js';
import { conformValue } from '../../src/lake/conform.js';
import { columnOf } from '../../src/lake/table-schema.js';
import type { Row } from '../../src/records/record.js';
import { chunkRows } from '../../src/sources/source.js';
import type { EntityRef, ReadMode, Source, SourceChunk, SourceState } from '../../src/sources/source.js';

/**
 * The behaviour every source kind owes the connector, run over each kind against its real server (as
 * Hono runs one router test set over every router and Kysely one test over every dialect). A kind's
 * integration test calls `sourceContract` with how to open its source and how to create tables; a case
 * the kind cannot do yet is skipped by name, with the reason.
 */

/** The column types the contract seeds, in the kind's own DDL (the `seed` callback maps them). */
export type ContractType = 'int32' | 'int64' | 'decimal' | 'float64' | 'boolean' | 'text' | 'date' | 'timestamp';

export interface ContractColumn {
  readonly name: string;
  readonly type: ContractType;
  readonly nullable: boolean;
}

/** A table for the kind to create and fill. Values are canonical: int64 and decimal as strings, dates ISO. */
export interface ContractTable {
  /**
   * The table name (may hold quotes and spaces): create it with this name in a namespace of the test's own
   * (a schema, or a unique prefix kept verbatim: the server is shared).
   */
  readonly name: string;
  readonly columns: readonly ContractColumn[];
  readonly primaryKey: readonly string[];
  /** Rows as value arrays in column order, in batches (large tables come as many batches). */
  readonly rows: () => Iterable<readonly unknown[][]>;
}

export type ContractCase =
  'canonical types' | 'hostile identifiers' | 'ties exactly once' | 'abort' | 'bounded memory' | 'credentials';

export interface SourceContractOptions {
  /** The kind's name, for the test titles. */
  readonly name: string;
  /** A new source on the test server; `password` replaces the URL's password (a wrong one). */
  open(options: { chunkRows?: number; password?: string }): Source;
  /** Creates and fills a table; returns the entity name the source reads it by. */
  seed(table: ContractTable): Promise<string>;
  /** Sessions on the server still running a query or holding a transaction on the table `entity`. */
  busySessions(entity: string): Promise<number>;
  /** Drops what `seed` created (called once, at the end). */
  cleanup(): Promise<void>;
  /** What the kind's error for a wrong password says (the server's refusal, e.g. /password authentication failed/). */
  readonly wrongPassword: RegExp;
  /** The test server's real password: never in an error, nor in an inspected source. */
  readonly realPassword: string;
  /** Cases the kind skips, with the reason. */
  readonly skip?: Partial<Record<ContractCase, string>>;
}

const collect = async (iterable: AsyncIterable<SourceChunk>): Promise<SourceChunk[]> => {
  const chunks: SourceChunk[] = [];
  for await (const chunk of iterable) chunks.push(chunk);
  return chunks;
};

const rowsOf = (chunks: readonly SourceChunk[]): Row[] =>
  chunks.flatMap((c) => (c.kind === 'csv' || c.kind === 'columnar' ? [] : c.rows));

/** The garbage collector, for measuring live memory rather than what the collector has not reached yet. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The contract suite: call it at the top level of a kind's integration test file. */
export function sourceContract(options: SourceContractOptions): void {
  const opened: Source[] = [];
  const open = (o: { chunkRows?: number; password?: string } = {}) => {
    const source = options.open(o);
    opened.push(source);
    return source;
  };
  const test = (name: ContractCase, fn: () => Promise<void>, timeout?: number) => {
    const reason = options.skip?.[name];
    if (reason !== undefined) it.skip(`${name} (skipped: ${reason})`, fn);
    else it(name, fn, timeout);
  };

  describe(`source contract: ${options.name}`, () => {
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      await options.cleanup();
    });

    test('canonical types', async () => {
      const columns: ContractColumn[] = [
        { name: 'id', type: 'int32', nullable: false },
        { name: 'c_int64', type: 'int64', nullable: true },
        { name: 'c_decimal', type: 'decimal', nullable: true },
        { name: 'c_float', type: 'float64', nullable: true },
        { name: 'c_bool', type: 'boolean', nullable: true },
        { name: 'c_text', type: 'text', nullable: true },
        { name: 'c_date', type: 'date', nullable: true },
        { name: 'c_ts', type: 'timestamp', nullable: true },
      ];
      const values: unknown[][] = [
        [
          1,
          '9223372036854775807',
          '1234567890.12',
          2.5,
          true,
          'héllo\tworld\n"quoted" \\ 数量',
          '2024-02-29',
          '2024-03-01T12:34:56.789012Z',
        ],
        [2, '-9223372036854775808', '-0.01', -1e-3, false, '', '1970-01-01', '1999-12-31T23:59:59.000000Z'],
        [3, null, null, null, null, null, null, null],
      ];
      const name = await options.seed({ name: 'canon', columns, primaryKey: ['id'], rows: () => [values] });
      const source = open();
      const entity: EntityRef = { name, fields: columns.map((c) => c.name), primaryKey: ['id'] };
      const catalog = await source.columns(entity);
      expect(catalog.map((c) => c.name)).toEqual(entity.fields);
      const expectedType: Record<ContractType, string> = {
        int32: 'number',
        int64: 'number',
        decimal: 'number',
        float64: 'number',
        boolean: 'boolean',
        text: 'string',
        date: 'date',
        timestamp: 'datetime',
      };
      expect(catalog.map((c) => c.type)).toEqual(columns.map((c) => expectedType[c.type]));
      const lake = catalog.map((c) => columnOf(c, c.numberHint));
      const canonical = (row: readonly unknown[]) =>
        lake.map((column, i) => {
          const conformed = conformValue(row[i], column);
          expect(conformed, `${column.name} = ${String(row[i])}`).toMatchObject({ ok: true });
          return conformed.ok ? conformed.value : undefined;
        });
      for (const mode of [
        { strategy: 'full_refresh' },
        { strategy: 'incremental', cursor: 'id' },
      ] satisfies ReadMode[]) {
        const rows = rowsOf(await collect(source.read(entity, mode, undefined)));
        expect(rows.map((r) => canonical(entity.fields.map((f) => r[f])))).toEqual(values.map(canonical));
      }
    });

    test('hostile identifiers', async () => {
      const hostile = ['we"ird', "it's", 'with space', '__proto__', 'constructor', 'select', 'order', 'toString'];
      const columns: ContractColumn[] = [
        { name: 'key "id"', type: 'int32', nullable: false },
        { name: 'updated at', type: 'int64', nullable: false },
        ...hostile.map((name) => ({ name, type: 'text' as const, nullable: true })),
      ];
      const values = Array.from({ length: 7 }, (_, i) => [
        i + 1,
        String(Math.floor(i / 3)),
        ...hostile.map((h) => `${h}=${i}`),
      ]);
      const name = await options.seed({
        name: `t"a'b le select`,
        columns,
        primaryKey: ['key "id"'],
        rows: () => [values],
      });
      const source = open({ chunkRows: 2 });
      const entity: EntityRef = { name, fields: columns.map((c) => c.name), primaryKey: ['key "id"'] };
      expect((await source.columns(entity)).map((c) => c.name)).toEqual(entity.fields);
      for (const mode of [
        { strategy: 'full_refresh' },
        { strategy: 'incremental', cursor: 'updated at' },
      ] satisfies ReadMode[]) {
        const rows = rowsOf(await collect(source.read(entity, mode, undefined)));
        expect(rows).toHaveLength(values.length);
        for (const [i, row] of rows.entries()) {
          expect(Object.keys(row)).toEqual(entity.fields);
          // Every name is an own field: `__proto__` is data, not the record's prototype.
          for (const h of hostile) expect(Object.getOwnPropertyDescriptor(row, h)?.value).toBe(`${h}=${i}`);
        }
      }
    });

    test('ties exactly once', async () => {
      const columns: ContractColumn[] = [
        { name: 'id', type: 'int32', nullable: false },
        { name: 'cursor', type: 'int64', nullable: false },
        { name: 'v', type: 'text', nullable: true },
      ];
      // Ties of 3, 17 and 5 rows: with 4 rows a chunk, every chunk boundary but one falls inside a tie.
      const cursorOf = (id: number) => (id <= 3 ? '10' : id <= 20 ? '20' : '30');
      const ids = Array.from({ length: 25 }, (_, i) => i + 1);
      const name = await options.seed({
        name: 'ties',
        columns,
        primaryKey: ['id'],
        rows: () => [ids.map((id) => [id, cursorOf(id), `v${id}`])],
      });
      const source = open({ chunkRows: 4 });
      const entity: EntityRef = { name, fields: ['id', 'cursor', 'v'], primaryKey: ['id'] };
      const mode: ReadMode = { strategy: 'incremental', cursor: 'cursor' };

      // One read: every row once, in cursor order.
      const chunks = await collect(source.read(entity, mode, undefined));
      expect(rowsOf(chunks).map((r) => Number(r.id))).toEqual(ids);
      expect(Math.max(...chunks.map(chunkRows))).toBeLessThanOrEqual(4);

      // Resumed reads, one chunk with a state each: every row once across the resumes.
      const seen: number[] = [];
      let state: SourceState | undefined;
      for (let reads = 0; ; reads++) {
        expect(reads).toBeLessThan(50);
        let resumedFrom: SourceState | undefined;
        for await (const chunk of source.read(entity, mode, state)) {
          seen.push(...rowsOf([chunk]).map((r) => Number(r.id)));
          if (chunk.state) {
            resumedFrom = chunk.state;
            break; // stop here: the next read starts from this state
          }
        }
        if (!resumedFrom) break;
        expect(JSON.parse(JSON.stringify(resumedFrom))).toEqual(resumedFrom);
        state = resumedFrom;
      }
      expect(seen).toEqual(ids);
      // From the last state there is nothing more to read.
      expect(rowsOf(await collect(source.read(entity, mode, state)))).toEqual([]);
    });

    test('abort', async () => {
      const columns: ContractColumn[] = [
        { name: 'id', type: 'int32', nullable: false },
        { name: 'v', type: 'text', nullable: true },
      ];
      const name = await options.seed({
        name: 'abort',
        columns,
        primaryKey: ['id'],
        rows: function* () {
          for (let b = 0; b < 20; b++) yield Array.from({ length: 1000 }, (_, i) => [b * 1000 + i + 1, `row ${i}`]);
        },
      });
      const source = open({ chunkRows: 100 });
      const entity: EntityRef = { name, fields: ['id', 'v'], primaryKey: ['id'] };
      // A consumer that stops early (a `break`) releases the read's connection too.
      let seen = 0;
      for await (const chunk of source.read(entity, { strategy: 'full_refresh' }, undefined)) {
        seen += chunkRows(chunk);
        if (seen >= 300) break;
      }
      expect(seen).toBe(300);
      await expect.poll(() => options.busySessions(name), { timeout: 10_000, interval: 100 }).toBe(0);
      for (const mode of [
        { strategy: 'full_refresh' },
        { strategy: 'incremental', cursor: 'id' },
      ] satisfies ReadMode[]) {
        const controller = new AbortController();
        let chunks = 0;
        let after = 0;
        try {
          for await (const chunk of source.read(entity, mode, undefined, controller.signal)) {
            if (controller.signal.aborted) after += chunkRows(chunk);
            if (++chunks === 2) controller.abort();
          }
        } catch (error) {
          // An aborted read may end with an abort error, never with another failure.
          expect(controller.signal.aborted).toBe(true);
          expect(String(error)).toMatch(/abort/i);
        }
        // Promptly: at most one chunk already on its way, not the rest of the 20 000 rows.
        expect(after).toBeLessThanOrEqual(100);
        // The read's connection is released: no session still reads the table or holds its transaction.
        await expect.poll(() => options.busySessions(name), { timeout: 10_000, interval: 100 }).toBe(0);
        // And the source goes on working.
        await source.check();
      }
    }, 60_000);

    test('bounded memory', async () => {
      const gc = collector();
      const columns: ContractColumn[] = [
        { name: 'id', type: 'int32', nullable: false },
        { name: 'pad', type: 'text', nullable: false },
      ];
      const total = 60_000;
      const pad = (id: number) => `${id}:`.padEnd(1000, 'x');
      const name = await options.seed({
        name: 'big',
        columns,
        primaryKey: ['id'],
        rows: function* () {
          for (let start = 1; start <= total; start += 500)
            yield Array.from({ length: 500 }, (_, i) => [start + i, pad(start + i)]);
        },
      });
      const bound = 1000;
      const source = open({ chunkRows: bound });
      const entity: EntityRef = { name, fields: ['id', 'pad'], primaryKey: ['id'] };
      // The table is ~60 MB of text: a source holding it (or reading far ahead of a slow consumer) shows.
      for (const mode of [
        { strategy: 'full_refresh' },
        { strategy: 'incremental', cursor: 'id' },
      ] satisfies ReadMode[]) {
        let count = 0;
        let largest = 0;
        let peak = 0;
        let base = 0;
        let chunks = 0;
        for await (const chunk of source.read(entity, mode, undefined)) {
          const n = chunkRows(chunk);
          largest = Math.max(largest, n);
          count += n;
          chunks++;
          if (chunks === 1) {
            gc();
            base = process.memoryUsage().heapUsed;
          } else if (chunks % 10 === 0) {
            // A slow consumer: the source must wait for it, not buffer the table meanwhile.
            await new Promise((resolve) => setTimeout(resolve, 50));
            gc();
            peak = Math.max(peak, process.memoryUsage().heapUsed - base);
          }
        }
        expect(count).toBe(total);
        expect(largest).toBeLessThanOrEqual(bound);
        expect(peak / 1024 / 1024, `live heap growth in MB (${mode.strategy})`).toBeLessThan(24);
      }
    }, 120_000);

    test('credentials', async () => {
      const secret = `Wr0ng-${Math.random().toString(36).slice(2)}-pw`;
      const source = open({ password: secret });
      const error = await source.check().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RuntimeError);
      const e = error as RuntimeError;
      // One clear line: the source refused the credentials (no retry helps), the server's refusal with its
      // SQLSTATE, the URL with its password masked.
      expect(e.code).toBe('source_auth');
      expect(e.retryable).toBe(false);
      expect(e.data.sqlstate).toMatch(/^28/);
      expect(e.message).toMatch(options.wrongPassword);
      expect(e.message).toContain(':***@');
      for (const text of [
        e.message,
        String(e.stack),
        JSON.stringify(e.data ?? null),
        inspect(e, { depth: 8 }),
        inspect(source, { depth: 8 }),
      ]) {
        expect(text).not.toContain(secret);
        if (options.realPassword !== '') expect(text).not.toContain(options.realPassword);
      }
      // A read fails the same way.
      const read = await collect(
        source.read({ name: 'anything', fields: [], primaryKey: [] }, { strategy: 'full_refresh' }, undefined),
      ).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(read).toBeInstanceOf(RuntimeError);
      expect(String((read as Error).message)).not.toContain(secret);
      expect(String((read as Error).stack)).not.toContain(secret);
    });
  });
}
