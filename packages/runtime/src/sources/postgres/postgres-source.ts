import type pg from 'pg';
import { CSV_BC_MARK, formatCsvRow, parseCsvRow, splitCsvRows } from '../../records/csv-text.js';
import { copyTextChunks } from './copy-chunks.js';
import { binaryPlan, binaryRowsStart, fillBinaryRows } from './binary-rows.js';
import { startCopyOut } from './copy-out.js';
import { RuntimeError } from '../../errors.js';
import { newRecord } from '../../records/record.js';
import type { Row } from '../../records/record.js';
import type { EntityRef, ColumnarRows, ReadMode, Source, SourceChunk, SourceColumn, SourceState } from '../source.js';
import { replicationOf, type PostgresOptions } from './postgres-options.js';
import { PostgresCdcReader, type PostgresCdcSettings } from './cdc/index.js';
import { connectPostgres, pgError, quoteIdent } from './postgres-connection.js';
import {
  converterFor,
  csvPassesThrough,
  loadPgTypes,
  mapPgType,
  rawTextPgTypes,
  type PgTypeInfo,
  type TextConverter,
} from './postgres-values.js';

/**
 * PostgreSQL source (`jdbc` with a postgres URL).
 *
 * - full_refresh: `COPY (SELECT …) TO STDOUT` in one REPEATABLE READ READ ONLY transaction (a consistent
 *   snapshot), parsed from COPY's text format as it streams, with backpressure (the socket is read only
 *   while the consumer asks for more). No state until the last chunk, which carries
 *   `{ strategy: 'full_refresh', completedAt }`.
 * - incremental: keyset pagination on (cursor, primary key...) with row-value comparison, one query of
 *   `chunkRows` rows per chunk; each chunk carries `{ cursor, key }` (PostgreSQL's text of the last row's
 *   cursor and key values). Rows whose cursor is NULL are never read incrementally (only by a full refresh).
 *   `lookbackSeconds` (date/timestamp cursors only) restarts each read that far before the saved cursor, so
 *   late commits are picked up; those rows are read again, so use it with writeMode merge.
 * - Values: see postgres-values.ts (int8 and numeric as exact text, timestamps as ISO text with
 *   microseconds, bytea as base64, arrays and json parsed; infinity dates stay text and are quarantined).
 *
 * `entity.name` is a table, view, materialized view or foreign table, taken verbatim: either one name
 * found with the search_path, or `schema.table` split at a dot (names may contain dots; when several
 * readings exist the name is ambiguous and rejected), or, failing those, SQL syntax (`"My Schema".orders`,
 * unquoted names folded to lower case).
 */
export class PostgresSource implements Source {
  private cdc: PostgresCdcReader | undefined;
  private readonly chunkRows: number;
  private readonly clients = new Set<pg.Client>();
  private meta: Promise<pg.Client> | undefined;
  private closed = false;

  /** The settings, the URL's password with them: a private field, so inspecting the source does not show it. */
  readonly #options: PostgresOptions;

  constructor(options: PostgresOptions) {
    this.#options = options;
    const chunkRows = options.chunkRows ?? 10_000;
    if (!Number.isInteger(chunkRows) || chunkRows < 1)
      throw new RuntimeError('config', `chunkRows must be a positive integer, not ${chunkRows}`);
    this.chunkRows = chunkRows;
  }

  async check(): Promise<void> {
    const client = await this.connect();
    try {
      await client.query('SELECT 1');
    } catch (error) {
      throw pgError(error, this.#options.url, 'checking the connection');
    } finally {
      await this.release(client);
    }
  }

  /** Checks that the entity's table exists and that this user may SELECT the fields to read. */
  async checkTable(entity: EntityRef): Promise<void> {
    await this.withMeta(`checking ${entity.name}`, async (client) => {
      const table = await resolveTable(client, entity.name);
      const columns = selectColumns(await catalogColumns(client, table), entity);
      const { rows } = await client.query<{ attname: string; ok: boolean }>(
        `SELECT a.attname, has_column_privilege(a.attrelid, a.attnum, 'SELECT') AS ok
           FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum = ANY($2::int2[])`,
        [table.oid, columns.map((c) => c.attnum)],
      );
      const denied = rows.filter((r) => !r.ok).map((r) => r.attname);
      if (denied.length > 0) {
        throw new RuntimeError(
          'config',
          `postgres: the user may not SELECT ${denied.map((n) => JSON.stringify(n)).join(', ')} of ${table.display}`,
        );
      }
    });
  }

  /**
   * The entity's columns: its `fields` in that order, or every column of the table when `fields` is
   * empty. A field the table lacks is a config error.
   */
  async columns(entity: EntityRef): Promise<SourceColumn[]> {
    return await this.withMeta(`reading the columns of ${entity.name}`, async (client) => {
      const table = await resolveTable(client, entity.name);
      return selectColumns(await catalogColumns(client, table), entity).map((c) => c.column);
    });
  }

  read(
    entity: EntityRef,
    mode: ReadMode,
    state: SourceState | undefined,
    signal?: AbortSignal,
  ): AsyncIterable<SourceChunk> {
    switch (mode.strategy) {
      case 'full_refresh':
        return this.readFull(entity, mode, signal);
      case 'incremental':
        return this.readIncremental(entity, mode, state, signal);
      case 'log': {
        // Logical replication has its own connection and protocol: the CDC reader owns them.
        const { publication, slot } = replicationOf(this.#options, entity);
        const settings: PostgresCdcSettings = {
          publication,
          slot,
          heartbeatSeconds: this.#options.heartbeatSeconds ?? 10,
          ...(mode.stopWhenCaughtUp === true ? { stopWhenCaughtUp: true } : {}),
          ...(mode.position !== undefined ? { position: mode.position } : {}),
        };
        return this.cdcReader().read(entity, settings, state, signal);
      }
    }
  }

  private cdcReader(): PostgresCdcReader {
    const { url, tls, chunkRows } = this.#options;
    this.cdc ??= new PostgresCdcReader({
      url,
      ...(tls ? { tls } : {}),
      ...(chunkRows !== undefined ? { chunkRows } : {}),
    });
    return this.cdc;
  }

  /** Confirms a CDC position to the slot, once the lake has committed everything up to it. */
  async acknowledge(state: SourceState): Promise<void> {
    await this.cdc?.acknowledge(state);
  }

  async close(): Promise<void> {
    await this.cdc?.close();
    this.cdc = undefined;
    this.closed = true;
    this.meta = undefined;
    const clients = [...this.clients];
    this.clients.clear();
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) throw new RuntimeError('internal', 'postgres source is closed');
    const client = await connectPostgres(this.#options);
    this.clients.add(client);
    return client;
  }

  private async release(client: pg.Client): Promise<void> {
    this.clients.delete(client);
    await client.end().catch(() => undefined);
  }

  /** Runs catalog queries on a shared connection (reconnected when it broke). */
  private async withMeta<T>(doing: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    if (!this.meta) {
      const connecting = this.connect();
      this.meta = connecting;
      connecting.then(
        (client) => {
          const drop = () => {
            if (this.meta === connecting) this.meta = undefined;
            this.clients.delete(client);
          };
          client.once('error', drop);
          client.once('end', drop);
        },
        () => {
          if (this.meta === connecting) this.meta = undefined;
        },
      );
    }
    const client = await this.meta;
    try {
      return await fn(client);
    } catch (error) {
      throw pgError(error, this.#options.url, doing);
    }
  }

  private async *readFull(
    entity: EntityRef,
    mode: Extract<ReadMode, { strategy: 'full_refresh' }>,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (signal?.aborted) return;
    const client = await this.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const table = await resolveTable(client, entity.name, true);
      const columns = selectColumns(await catalogColumns(client, table), entity);
      const select = columns.map((c) => quoteIdent(c.column.name)).join(', ');
      const done = async (): Promise<SourceState> => {
        await client.query('COMMIT');
        return { strategy: 'full_refresh', completedAt: new Date().toISOString() };
      };
      const plan = mode.columnar
        ? binaryPlan(
            columns.map((c) => ({ name: c.column.name, type: c.type, convert: c.convert })),
            mode.columnar,
          )
        : undefined;
      if (plan) {
        // The binary hand-over: COPY's binary rows are decoded into the lake writer's spool.
        const copy = startCopyOut(
          client,
          `COPY (SELECT ${select} FROM ${table.sql}) TO STDOUT (FORMAT binary)`,
          this.chunkRows,
          { binary: true },
        );
        const fields = columns.map((c) => c.column.name);
        const build = rowBuilder(columns);
        let first = true;
        for await (const block of copy.blocks(signal)) {
          const { data } = block;
          const start = binaryRowsStart(data, first);
          first = false;
          const columnar: ColumnarRows = {
            rows: block.rows,
            fields,
            fill: (sink) => fillBinaryRows(plan, data, start, sink, build),
          };
          yield block.last ? { kind: 'columnar', columnar, state: await done() } : { kind: 'columnar', columnar };
        }
        return;
      }
      if (mode.csv === true && columns.every((c) => csvPassesThrough(c.type))) {
        // The columnar hand-over: COPY's CSV goes to the lake writer as bytes (the session's TimeZone
        // UTC and DateStyle ISO make its dates and timestamps what DuckDB reads).
        const copy = startCopyOut(
          client,
          `COPY (SELECT ${select} FROM ${table.sql}) TO STDOUT (FORMAT csv)`,
          this.chunkRows,
        );
        const fields = columns.map((c) => c.column.name);
        const temporal = columns.flatMap((c, i) =>
          ['date', 'timestamp', 'timestamptz'].includes(c.type.name) ? [i] : [],
        );
        for await (const block of copy.blocks(signal)) {
          const rows = {
            data: markBcValues(block.data, temporal),
            rows: block.rows,
            fields,
            longestRow: block.longestRow,
          };
          yield block.last ? { kind: 'csv', csv: rows, state: await done() } : { kind: 'csv', csv: rows };
        }
        return;
      }
      const build = rowBuilder(columns);
      const copy = startCopyOut(client, `COPY (SELECT ${select} FROM ${table.sql}) TO STDOUT`, this.chunkRows);
      for await (const chunk of copyTextChunks(copy.blocks(signal), build)) {
        yield chunk.last ? { kind: 'rows', rows: chunk.rows, state: await done() } : { kind: 'rows', rows: chunk.rows };
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw pgError(error, this.#options.url, `reading ${entity.name}`);
    } finally {
      // Ending a client with a COPY in flight (consumer stopped early) drops the connection: the server
      // rolls the read-only transaction back.
      await this.release(client);
    }
  }

  private async *readIncremental(
    entity: EntityRef,
    mode: Extract<ReadMode, { strategy: 'incremental' }>,
    state: SourceState | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (signal?.aborted) return;
    const client = await this.connect();
    try {
      const table = await resolveTable(client, entity.name);
      const all = await catalogColumns(client, table);
      const columns = selectColumns(all, entity);
      const build = rowBuilder(columns);
      const byName = new Map(all.map((c) => [c.column.name, c]));
      const cursor = byName.get(mode.cursor);
      if (!cursor)
        throw new RuntimeError(
          'config',
          `postgres: the cursor column ${JSON.stringify(mode.cursor)} is not a column of ${table.display}`,
        );
      const keyNames = entity.primaryKey.length > 0 ? entity.primaryKey : await primaryKeyOf(client, table);
      if (keyNames.length === 0) {
        throw new RuntimeError(
          'config',
          `postgres: incremental reads of ${table.display} need a primary key to order rows with the same ${JSON.stringify(mode.cursor)}; the table has none, so declare the entity's primaryKey`,
        );
      }
      const keys = keyNames.map((name) => {
        const column = byName.get(name);
        if (!column)
          throw new RuntimeError(
            'config',
            `postgres: the primary key column ${JSON.stringify(name)} is not a column of ${table.display}`,
          );
        return column;
      });
      const saved = parseState(state, keys.length, entity.name);
      const lookback = mode.lookbackSeconds ?? 0;
      if (lookback < 0 || !Number.isFinite(lookback))
        throw new RuntimeError('config', `postgres: lookbackSeconds must be ≥ 0, not ${lookback}`);
      if (lookback > 0 && !['timestamp', 'timestamptz', 'date'].includes(cursor.type.name)) {
        throw new RuntimeError(
          'config',
          `postgres: lookbackSeconds needs a date or timestamp cursor; ${JSON.stringify(mode.cursor)} is ${cursor.column.sourceType}`,
        );
      }

      // Columns are qualified with the table alias: ORDER BY would otherwise prefer the output columns.
      const ref = (c: CatalogColumn) => `t.${quoteIdent(c.column.name)}`;
      const order = [cursor, ...keys];
      const select = [...columns.map(ref), ...order.map((c) => `${ref(c)}::text`)].join(', ');
      const orderBy = order.map(ref).join(', ');
      const base = `SELECT ${select} FROM ${table.sql} AS t WHERE ${ref(cursor)} IS NOT NULL`;
      const limit = this.chunkRows;

      // The first page: from the start, from the saved position, or `lookback` seconds before it.
      let query: { text: string; values: unknown[] };
      if (!saved) {
        query = { text: `${base} ORDER BY ${orderBy} LIMIT $1`, values: [limit] };
      } else if (lookback > 0) {
        query = {
          text: `${base} AND ${ref(cursor)} >= ($1::${cursor.castType} - make_interval(secs => $2::float8)) ORDER BY ${orderBy} LIMIT $3`,
          values: [saved.cursor, lookback, limit],
        };
      } else {
        query = afterQuery(base, order, orderBy, [saved.cursor, ...saved.key], limit);
      }

      const width = columns.length;
      for (;;) {
        if (signal?.aborted) return;
        const result = await client.query<unknown[]>({ ...query, rowMode: 'array', types: rawTextPgTypes });
        const rows = result.rows;
        const last = rows[rows.length - 1];
        if (!last) return;
        const position = last.slice(width) as string[];
        const [lastCursor = '', ...lastKey] = position;
        yield {
          kind: 'rows',
          rows: rows.map((r) => build(r as (string | null)[])),
          state: { cursor: lastCursor, key: lastKey },
        };
        if (rows.length < limit) return;
        query = afterQuery(base, order, orderBy, position, limit);
      }
    } catch (error) {
      if (signal?.aborted) return;
      throw pgError(error, this.#options.url, `reading ${entity.name}`);
    } finally {
      await this.release(client);
    }
  }
}

/** The keyset page after a position: `(cursor, key...) > ($1, $2...)`. */
function afterQuery(
  base: string,
  order: readonly CatalogColumn[],
  orderBy: string,
  position: readonly string[],
  limit: number,
) {
  const params = order.map((c, i) => `$${i + 1}::${c.castType}`).join(', ');
  return {
    text: `${base} AND (${orderBy}) > (${params}) ORDER BY ${orderBy} LIMIT $${order.length + 1}`,
    values: [...position, limit] as unknown[],
  };
}

function parseState(
  state: SourceState | undefined,
  keyCount: number,
  entity: string,
): { cursor: string; key: string[] } | undefined {
  if (state === undefined || state.cursor === undefined) return undefined;
  const { cursor, key } = state;
  if (
    typeof cursor !== 'string' ||
    !Array.isArray(key) ||
    key.length !== keyCount ||
    !key.every((k) => typeof k === 'string')
  ) {
    throw new RuntimeError(
      'config',
      `postgres: the saved state of ${entity} is not an incremental position for a ${keyCount}-column key: ${JSON.stringify(state).slice(0, 200)}`,
    );
  }
  return { cursor, key: key as string[] };
}

/** A resolved relation. */
interface Table {
  readonly oid: number;
  /** Schema-qualified and quoted, for SQL text. */
  readonly sql: string;
  /** For messages. */
  readonly display: string;
}

const READABLE_KINDS = new Set(['r', 'p', 'v', 'm', 'f']);

/** Finds the relation `name` means (see the class comment); a config error when none or several match. */
async function resolveTable(client: pg.Client, name: string, inTransaction = false): Promise<Table> {
  const candidates = [quoteIdent(name)];
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) {
    candidates.push(`${quoteIdent(name.slice(0, i))}.${quoteIdent(name.slice(i + 1))}`);
  }
  const sql = `SELECT DISTINCT c.oid, n.nspname, c.relname, c.relkind
                 FROM unnest($1::text[]) AS cand(name)
                 JOIN pg_class c ON c.oid = to_regclass(cand.name)
                 JOIN pg_namespace n ON n.oid = c.relnamespace`;
  type Found = { oid: number; nspname: string; relname: string; relkind: string };
  let found = (await client.query<Found>(sql, [candidates])).rows;
  if (found.length === 0) {
    // SQL syntax (quoted parts, unquoted names folded to lower case); an error (too many dots, a
    // cross-database reference) just means "not found".
    if (inTransaction) await client.query('SAVEPOINT cf_resolve');
    try {
      found = (await client.query<Found>(sql, [[name]])).rows;
      if (inTransaction) await client.query('RELEASE SAVEPOINT cf_resolve');
    } catch {
      if (inTransaction) await client.query('ROLLBACK TO SAVEPOINT cf_resolve');
      found = [];
    }
  }
  const display = JSON.stringify(name);
  if (found.length === 0)
    throw new RuntimeError('config', `postgres: no table ${display} that this user can see (checked the search_path)`);
  if (found.length > 1) {
    const names = found.map((f) => `${quoteIdent(f.nspname)}.${quoteIdent(f.relname)}`).join(', ');
    throw new RuntimeError(
      'config',
      `postgres: the table name ${display} is ambiguous: it can mean ${names}; write it in SQL syntax with quotes`,
    );
  }
  const table = found[0]!;
  if (!READABLE_KINDS.has(table.relkind))
    throw new RuntimeError('config', `postgres: ${display} is not a table or view (relkind ${table.relkind})`);
  const qualified = `${quoteIdent(table.nspname)}.${quoteIdent(table.relname)}`;
  return { oid: table.oid, sql: qualified, display: qualified };
}

/** A column with what reading it needs. */
interface CatalogColumn {
  readonly attnum: number;
  readonly column: SourceColumn;
  readonly type: PgTypeInfo;
  /** The type name to cast parameters to (no typmod). */
  readonly castType: string;
  readonly convert: TextConverter;
}

async function catalogColumns(client: pg.Client, table: Table): Promise<CatalogColumn[]> {
  const { rows } = await client.query<{
    attnum: number;
    attname: string;
    attnotnull: boolean;
    atttypid: number;
    atttypmod: number;
    source_type: string;
    cast_type: string;
  }>(
    `SELECT a.attnum, a.attname, a.attnotnull, a.atttypid, a.atttypmod,
            format_type(a.atttypid, a.atttypmod) AS source_type, format_type(a.atttypid, NULL) AS cast_type
       FROM pg_attribute a
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [table.oid],
  );
  const types = await loadPgTypes(
    client,
    rows.map((r) => r.atttypid),
  );
  return rows.map((r) => {
    const resolved = types(r.atttypid);
    const typmod = r.atttypmod >= 0 ? r.atttypmod : resolved.typmod;
    const mapped = mapPgType(resolved.info, typmod);
    return {
      attnum: r.attnum,
      column: {
        name: r.attname,
        type: mapped.type,
        nullable: !r.attnotnull,
        ...(mapped.numberHint !== undefined ? { numberHint: mapped.numberHint } : {}),
        sourceType: r.source_type,
      },
      type: resolved.info,
      castType: r.cast_type,
      convert: converterFor(resolved.info),
    };
  });
}

async function primaryKeyOf(client: pg.Client, table: Table): Promise<string[]> {
  const { rows } = await client.query<{ attname: string }>(
    `SELECT a.attname
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary
      ORDER BY k.ord`,
    [table.oid],
  );
  return rows.map((r) => r.attname);
}

/** The entity's fields in order (all columns when it names none); a config error for a missing field. */
function selectColumns(columns: readonly CatalogColumn[], entity: EntityRef): CatalogColumn[] {
  if (entity.fields.length === 0) return [...columns];
  const byName = new Map(columns.map((c) => [c.column.name, c]));
  return entity.fields.map((field) => {
    const column = byName.get(field);
    if (!column) {
      const known = columns.map((c) => JSON.stringify(c.column.name)).join(', ');
      throw new RuntimeError(
        'config',
        `postgres: ${JSON.stringify(entity.name)} has no column ${JSON.stringify(field)} (it has ${known})`,
      );
    }
    return column;
  });
}

/**
 * PostgreSQL writes a date or timestamp before the year 1 with a ` BC` suffix, which DuckDB's CSV
 * reader would misread (see CsvPage): such values of the temporal columns get CSV_BC_MARK in front, so the
 * cast fails and the row goes to the quarantine like on the row path. Only chunks that contain ` BC`
 * at all are parsed, and in them only the rows that do.
 */
function markBcValues(data: Buffer, temporal: readonly number[]): Buffer {
  if (temporal.length === 0 || !hasBcValue(data)) return data;
  let changed = false;
  const rows = splitCsvRows(data.toString('utf8')).map((line) => {
    if (!line.includes(' BC')) return `${line}\n`;
    const values = parseCsvRow(line);
    for (const i of temporal) {
      const value = values[i];
      if (value?.endsWith(' BC')) {
        values[i] = `${CSV_BC_MARK}${value}`;
        changed = true;
      }
    }
    return formatCsvRow(values);
  });
  return changed ? Buffer.from(rows.join(''), 'utf8') : data;
}

const B = 0x42;
const C = 0x43;
const SPACE = 0x20;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

/**
 * Whether `data` holds ` BC,` or ` BC\n` (a temporal value is never quoted, so a BC one ends a field).
 * One memchr pass for the rare `B` instead of a string search for a pattern starting with a space.
 */
export function hasBcValue(data: Buffer): boolean {
  for (let at = data.indexOf(B); at >= 0; at = data.indexOf(B, at + 1)) {
    if (data[at + 1] === C && data[at - 1] === SPACE && (data[at + 2] === COMMA || data[at + 2] === NEWLINE))
      return true;
  }
  return false;
}

/** Builds a row object from text values in column order, converting each to its canonical value. */
function rowBuilder(columns: readonly CatalogColumn[]): (values: readonly (string | null)[]) => Row {
  const names = columns.map((c) => c.column.name);
  const converters = columns.map((c) => c.convert);
  return (values) => {
    if (values.length < names.length)
      throw new RuntimeError('internal', `postgres: a row has ${values.length} values for ${names.length} columns`);
    // No Object.prototype in the chain: a column named __proto__ is an own field like any other.
    const row = newRecord();
    for (let i = 0; i < names.length; i++) {
      const text = values[i];
      let value: unknown = null;
      if (text !== null && text !== undefined) {
        try {
          value = converters[i]!(text);
        } catch (error) {
          throw new RuntimeError(
            'internal',
            `postgres: cannot convert a value of column ${JSON.stringify(names[i])}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      row[names[i]!] = value;
    }
    return row;
  };
}
