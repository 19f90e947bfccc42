import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Connection as CoreConnection, ConnectionOptions, SslOptions } from 'mysql2';
import type { Connection } from 'mysql2/promise';
import { RuntimeError } from '../../errors.js';
import { newRecord } from '../../records/record.js';
import type { Row } from '../../records/record.js';
import { redactUrl } from '../env.js';
import type {
  EntityRef,
  ReadMode,
  Source,
  SourceChunk,
  SourceColumn,
  SourceState,
  SqlConnectionOptions,
} from '../source.js';
import {
  comparable,
  converterFor,
  mapColumn,
  quoteIdent,
  selectExpression,
  sqlParameter,
  stateValue,
  temporal,
  type CatalogColumn,
  type Converter,
  type MysqlColumn,
  type StateValue,
} from './mysql-values.js';
import { classifyMysqlError } from './mysql-errors.js';
import type { MysqlOptions } from './mysql-options.js';

/**
 * A MySQL / MariaDB source (mysql2, text protocol).
 *
 * - full_refresh: one query streamed with backpressure (`query().stream()`) inside
 *   `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` (REPEATABLE READ), so the rows are one
 *   point in time; chunks of `chunkRows`, the last one with `{ strategy: 'full_refresh', completedAt }`.
 *   There is no mid-table resume: a full refresh that stops starts again from the beginning.
 * - incremental: keyset pages `WHERE (cursor, key…) > (last) AND cursor <= max ORDER BY cursor, key…
 *   LIMIT chunkRows`, each chunk with `{ cursor, key: [...] }` (values in their exact database form:
 *   numbers, decimal strings, 'YYYY-MM-DD HH:MM:SS.ffffff', binary as base64). Rows sharing a cursor value
 *   across a chunk boundary are read exactly once, because the key breaks the tie. `max` is the largest
 *   cursor when the read starts, so a read of a busy table ends. The key is `entity.primaryKey`, else the
 *   table's PRIMARY KEY; with neither, one streamed query by cursor alone, with a state only where all
 *   rows of a cursor value have been read. An index on (cursor, key…) keeps every page a range scan.
 * - Rows whose cursor is NULL are never read incrementally (as in other tools: NULL compares with
 *   nothing); make the cursor NOT NULL, or read the table with full_refresh.
 * - lookbackSeconds (date/datetime cursors): a resumed read starts again at `cursor - lookback`, so
 *   rows committed late with an older cursor are picked up; rows in that window are read again, so it
 *   is meant for writeMode `merge`. The state never moves back behind the one the read resumed from.
 * - cdc: not supported on MySQL/MariaDB yet (a config error).
 *
 * Every connection runs with `time_zone = '+00:00'` (TIMESTAMP is UTC; DATETIME is taken as UTC),
 * without NO_BACKSLASH_ESCAPES / ANSI_QUOTES (mysql2 escapes parameters with backslashes), and with a
 * long net_write_timeout so a slow lake write does not make the server drop a paused stream. The
 * password is never in an error or log: URLs are shown through `redactUrl`.
 */
export class MysqlSource implements Source {
  readonly #url: string;
  readonly #config: ConnectionOptions;
  readonly #password: string;
  readonly #chunkRows: number;
  #meta: Promise<Session> | undefined;
  readonly #open = new Set<Session>();
  #closed = false;

  constructor(options: MysqlOptions) {
    this.#url = redactUrl(options.url);
    const chunkRows = options.chunkRows ?? 10_000;
    if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) {
      throw new RuntimeError('config', `chunkRows must be a positive integer, got ${chunkRows}`);
    }
    this.#chunkRows = chunkRows;
    const { config, password } = connectionConfig(options, this.#url);
    this.#config = config;
    this.#password = password;
  }

  async check(): Promise<void> {
    const session = await this.#metaSession();
    await this.#query(session.connection, 'check the connection', 'SELECT 1');
  }

  async columns(entity: EntityRef): Promise<SourceColumn[]> {
    const session = await this.#metaSession();
    const table = await this.#resolve(session, entity.name);
    const columns = entity.fields.length === 0 ? table.columns : pick(table, entity.fields, entity.name);
    return columns.map((c) => c.source);
  }

  read(
    entity: EntityRef,
    mode: ReadMode,
    state: SourceState | undefined,
    signal?: AbortSignal,
  ): AsyncIterable<SourceChunk> {
    if (mode.strategy === 'log') {
      throw new RuntimeError(
        'config',
        `entity "${entity.name}": cdc on MySQL/MariaDB is not supported yet: use incremental with a cursor column (an updated_at, or an auto-increment id for append-only tables) and writeMode merge, or full_refresh`,
      );
    }
    return mode.strategy === 'full_refresh'
      ? this.#fullRefresh(entity, signal)
      : this.#incremental(entity, mode, state, signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const meta = this.#meta;
    this.#meta = undefined;
    for (const session of this.#open) {
      session.broken = true;
      session.interrupt?.();
      hardClose(session.connection);
    }
    this.#open.clear();
    if (meta) {
      const session = await meta.catch(() => undefined);
      await session?.connection.end().catch(() => hardClose(session.connection));
    }
  }

  // ---- reads ----------------------------------------------------------------------------------------

  async *#fullRefresh(entity: EntityRef, signal: AbortSignal | undefined): AsyncGenerator<SourceChunk> {
    if (signal?.aborted) return;
    const session = await this.#session();
    try {
      const table = await this.#resolve(session, entity.name);
      const columns = entity.fields.length === 0 ? table.columns : pick(table, entity.fields, entity.name);
      const build = rowBuilder(columns);
      const sql = `SELECT ${columns.map(selectAs).join(', ')} FROM ${table.quoted}`;
      const { connection } = session;
      await this.#query(connection, 'start a snapshot', 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await this.#query(connection, 'start a snapshot', 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      let pending: Row[] | undefined;
      let rows: Row[] = [];
      for await (const batch of this.#stream(session, sql, [], signal)) {
        for (const raw of batch) {
          rows.push(build(raw));
          if (rows.length >= this.#chunkRows) {
            // A batch can hold many chunks: an aborted read stops at the next one, not at the batch's end.
            if (signal?.aborted) return;
            // Hold one full chunk back, so the last chunk with rows is the one that carries the state.
            if (pending) yield { kind: 'rows', rows: pending };
            pending = rows;
            rows = [];
          }
        }
      }
      if (signal?.aborted) return;
      await this.#query(connection, 'end the snapshot', 'COMMIT');
      const done: SourceState = { strategy: 'full_refresh', completedAt: new Date().toISOString() };
      if (rows.length > 0) {
        if (pending) yield { kind: 'rows', rows: pending };
        yield { kind: 'rows', rows, state: done };
      } else {
        yield { kind: 'rows', rows: pending ?? [], state: done };
      }
    } finally {
      this.#release(session);
    }
  }

  async *#incremental(
    entity: EntityRef,
    mode: Extract<ReadMode, { strategy: 'incremental' }>,
    state: SourceState | undefined,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (signal?.aborted) return;
    const session = await this.#session();
    try {
      const plan = await this.#incrementalPlan(session, entity, mode, state);
      if (!plan.keyed) yield* this.#incrementalByCursor(session, plan, signal);
      else yield* this.#incrementalPages(session, plan, signal);
    } finally {
      this.#release(session);
    }
  }

  async #incrementalPlan(
    session: Session,
    entity: EntityRef,
    mode: Extract<ReadMode, { strategy: 'incremental' }>,
    state: SourceState | undefined,
  ): Promise<IncrementalPlan> {
    const where = `entity "${entity.name}"`;
    const table = await this.#resolve(session, entity.name);
    const fields = entity.fields.length === 0 ? table.columns : pick(table, entity.fields, entity.name);
    const [cursor] = pick(table, [mode.cursor], entity.name);
    if (!cursor) throw new RuntimeError('internal', `${where}: cursor column lookup failed`);
    if (!comparable(cursor)) {
      throw new RuntimeError(
        'config',
        `${where}: cursor column "${cursor.source.name}" (${cursor.source.sourceType}) cannot be compared; use a date, datetime, number or string column`,
      );
    }
    const keyNames = entity.primaryKey.length > 0 ? entity.primaryKey : table.primaryKey;
    const keys = pick(table, keyNames, entity.name).filter((k) => k.source.name !== cursor.source.name);
    for (const key of keys) {
      if (key.source.nullable) {
        throw new RuntimeError(
          'config',
          `${where}: key column "${key.source.name}" is nullable; keyset pagination needs a NOT NULL key`,
        );
      }
      if (!comparable(key))
        throw new RuntimeError(
          'config',
          `${where}: key column "${key.source.name}" (${key.source.sourceType}) cannot be compared`,
        );
    }
    const lookback = mode.lookbackSeconds ?? 0;
    if (!Number.isFinite(lookback) || lookback < 0)
      throw new RuntimeError('config', `${where}: lookbackSeconds must be a non-negative number`);
    if (lookback > 0 && !temporal(cursor)) {
      throw new RuntimeError(
        'config',
        `${where}: lookbackSeconds needs a date or datetime cursor; "${cursor.source.name}" is ${cursor.source.sourceType}`,
      );
    }
    if (keyNames.length === 0 && (cursor.kind === 'string' || cursor.kind === 'json')) {
      // Without a key, rows are grouped by cursor value on this side, which cannot follow a collation ('a' = 'A ').
      throw new RuntimeError(
        'config',
        `${where}: a text cursor ("${cursor.source.name}") needs a primary key; the table has none and the entity names none`,
      );
    }
    const resume = resumePosition(state, keys.length, where);
    // Everything selected: the fields, then the cursor and key columns the state needs.
    const selected = [...fields];
    const indexOf = (column: MysqlColumn): number => {
      const at = selected.findIndex((c) => c.source.name === column.source.name);
      if (at >= 0) return at;
      selected.push(column);
      return selected.length - 1;
    };
    const cursorIndex = indexOf(cursor);
    const keyIndexes = keys.map(indexOf);
    const max = await this.#query(
      session.connection,
      `read the largest ${cursor.source.name}`,
      `SELECT MAX(${selectExpression(cursor)}) FROM ${table.quoted}`,
    );
    return {
      table,
      fields,
      selected,
      cursor,
      keys,
      keyed: keyNames.length > 0,
      cursorIndex,
      keyIndexes,
      resume,
      lookbackMicros: Math.round(lookback * 1_000_000),
      max: stateValue(max[0]?.[0]),
      build: rowBuilder(fields),
    };
  }

  /** Keyset pages on (cursor, key…). */
  async *#incrementalPages(
    session: Session,
    plan: IncrementalPlan,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (plan.max === null) return; // no row with a cursor
    const order = [plan.cursor, ...plan.keys];
    const orderBy = order.map((c) => quoteIdent(c.source.name)).join(', ');
    const selectList = plan.selected.map(selectAs);
    const lookingBack = plan.resume !== undefined && plan.lookbackMicros > 0;
    // While re-reading the lookback window, whether a row is past the position the read resumed from.
    const past = lookingBack && plan.resume ? after(order, [plan.resume.cursor, ...plan.resume.key]) : undefined;
    if (past) selectList.push(`(${past.sql})`);
    const upper = sqlParameter(plan.cursor, plan.max);
    const cursorSql = quoteIdent(plan.cursor.source.name);
    let position: Position | undefined = lookingBack ? undefined : plan.resume;
    let emitted: Position | undefined = plan.resume;
    for (;;) {
      if (signal?.aborted) return;
      const conditions = [`${cursorSql} IS NOT NULL`, `${cursorSql} <= ${upper.sql}`];
      const params: unknown[] = [...(past?.params ?? []), upper.value];
      if (position) {
        const next = after(order, [position.cursor, ...position.key]);
        conditions.push(next.sql);
        params.push(...next.params);
      } else if (lookingBack && plan.resume) {
        const from = sqlParameter(plan.cursor, plan.resume.cursor);
        conditions.push(`${cursorSql} >= ${from.sql} - INTERVAL ? MICROSECOND`);
        params.push(from.value, plan.lookbackMicros);
      }
      const sql = `SELECT ${selectList.join(', ')} FROM ${plan.table.quoted} WHERE ${conditions.join(' AND ')} ORDER BY ${orderBy} LIMIT ${this.#chunkRows}`;
      const page = await this.#query(session.connection, `read ${plan.table.display}`, sql, params);
      if (signal?.aborted) return;
      if (page.length === 0) return;
      const last = page[page.length - 1] as unknown[];
      position = { cursor: stateValue(last[plan.cursorIndex]), key: plan.keyIndexes.map((i) => stateValue(last[i])) };
      // Inside the lookback window the state stays where the read resumed from: it never moves back.
      if (!past || Number(last[plan.selected.length]) === 1) emitted = position;
      yield { kind: 'rows', rows: page.map(plan.build), ...(emitted ? { state: positionState(emitted) } : {}) };
      if (page.length < this.#chunkRows) return;
    }
  }

  /** No key: one query ordered by cursor; a state only once every row of a cursor value has been read. */
  async *#incrementalByCursor(
    session: Session,
    plan: IncrementalPlan,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceChunk> {
    if (plan.max === null) return;
    const cursorSql = quoteIdent(plan.cursor.source.name);
    const upper = sqlParameter(plan.cursor, plan.max);
    const selectList = plan.selected.map(selectAs);
    const conditions = [`${cursorSql} IS NOT NULL`, `${cursorSql} <= ${upper.sql}`];
    const params: unknown[] = [];
    let past: { sql: string; params: unknown[] } | undefined;
    if (plan.resume) {
      const from = sqlParameter(plan.cursor, plan.resume.cursor);
      if (plan.lookbackMicros > 0) {
        past = { sql: `${cursorSql} > ${from.sql}`, params: [from.value] };
        selectList.push(`(${past.sql})`);
        conditions.push(`${cursorSql} >= ${from.sql} - INTERVAL ? MICROSECOND`);
        params.push(from.value, plan.lookbackMicros);
      } else {
        conditions.push(`${cursorSql} > ${from.sql}`);
        params.push(from.value);
      }
    }
    const sql = `SELECT ${selectList.join(', ')} FROM ${plan.table.quoted} WHERE ${conditions.join(' AND ')} ORDER BY ${cursorSql}`;
    const pastIndex = plan.selected.length;
    // Rows of the chunk being built; `groupStart` is where the rows of the cursor value being read begin.
    let rows: Row[] = [];
    let groupStart = 0;
    let current: { value: StateValue; past: boolean } | undefined;
    let previous: { value: StateValue; past: boolean } | undefined; // the last complete cursor value
    for await (const batch of this.#stream(session, sql, [...(past?.params ?? []), upper.value, ...params], signal)) {
      for (const raw of batch) {
        const value = stateValue(raw[plan.cursorIndex]);
        if (current?.value !== value) {
          previous = current;
          groupStart = rows.length;
          current = { value, past: !past || Number(raw[pastIndex]) === 1 };
        }
        rows.push(plan.build(raw));
        if (rows.length >= this.#chunkRows) {
          if (signal?.aborted) return;
          if (groupStart > 0) {
            // Up to the cursor value being read, with a state; its rows start the next chunk.
            const state = previous?.past ? { state: { cursor: previous.value, key: [] } } : {};
            yield { kind: 'rows', rows: rows.slice(0, groupStart), ...state };
            rows = rows.slice(groupStart);
            groupStart = 0;
          } else {
            // A cursor value with more rows than a chunk: no state until all its rows are read.
            yield { kind: 'rows', rows };
            rows = [];
          }
        }
      }
    }
    if (signal?.aborted) return;
    if (current?.past) yield { kind: 'rows', rows, state: { cursor: current.value, key: [] } };
    else if (rows.length > 0) yield { kind: 'rows', rows };
  }

  /** Rows of a query as arrays, in batches, streamed with backpressure; ends early (no error) when the signal aborts. */
  async *#stream(
    session: Session,
    sql: string,
    params: unknown[],
    signal: AbortSignal | undefined,
  ): AsyncGenerator<unknown[][]> {
    const core = coreOf(session.connection);
    const stream: Readable = core
      .query({ sql, values: params, rowsAsArray: true })
      .stream({ highWaterMark: Math.min(this.#chunkRows, 1000) });
    const onAbort = () => {
      session.broken = true;
      stream.destroy();
      hardClose(session.connection);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    session.interrupt = () => stream.destroy();
    try {
      // Whatever the stream holds, in one batch: an await per row would cost more than reading it.
      for (;;) {
        const batch: unknown[][] = [];
        for (let row: unknown; (row = stream.read() as unknown) !== null;) batch.push(row as unknown[]);
        if (batch.length > 0) {
          yield batch;
          continue;
        }
        if (stream.errored) throw stream.errored;
        if (stream.readableEnded) break;
        if (stream.destroyed) throw new Error('the connection was closed during the read');
        await readableOrDone(stream);
      }
    } catch (error) {
      if (signal?.aborted) return;
      session.broken = true;
      throw this.#error(`read ${sql.length > 200 ? `${sql.slice(0, 200)}…` : sql}`, error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
      delete session.interrupt;
      // A query abandoned before its end leaves rows on the wire: the connection cannot be reused.
      if (!stream.readableEnded) {
        session.broken = true;
        stream.destroy();
      }
    }
  }

  // ---- catalog ----------------------------------------------------------------------------------------

  /** The table an entity name means: `db.table` (or, if there is no such table, a table named so in the URL's database), or `table`. */
  async #resolve(session: Session, name: string): Promise<Table> {
    const dot = name.indexOf('.');
    const candidates: { schema: string | null; table: string }[] = [];
    if (dot > 0 && dot < name.length - 1) candidates.push({ schema: name.slice(0, dot), table: name.slice(dot + 1) });
    candidates.push({ schema: null, table: name });
    const found = await this.#query(
      session.connection,
      `look up table ${name}`,
      `SELECT TABLE_SCHEMA, TABLE_NAME, DATABASE() FROM information_schema.TABLES WHERE (TABLE_SCHEMA = ? AND TABLE_NAME = ?) OR (TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?)`,
      [candidates[0]?.schema ?? null, candidates[0]?.table ?? name, name],
    );
    let schema: string | undefined;
    let tableName: string | undefined;
    for (const candidate of candidates) {
      // information_schema may compare case-insensitively: an exact match first, then a unique loose one
      // (servers with lower_case_table_names store names in lower case).
      const matches = found.filter((r) =>
        candidate.schema === null ? r[0] === r[2] : String(r[0]).toLowerCase() === candidate.schema.toLowerCase(),
      );
      const exact = matches.filter(
        (r) => r[1] === candidate.table && (candidate.schema === null || r[0] === candidate.schema),
      );
      const loose = matches.filter((r) => String(r[1]).toLowerCase() === candidate.table.toLowerCase());
      const row = exact.length === 1 ? exact[0] : loose.length === 1 ? loose[0] : undefined;
      if (row) {
        schema = String(row[0]);
        tableName = String(row[1]);
        break;
      }
    }
    if (schema === undefined || tableName === undefined) {
      const current = await this.#query(session.connection, 'read the current database', 'SELECT DATABASE()');
      const database = current[0]?.[0];
      const hint =
        dot < 0 && (database === null || database === undefined)
          ? ' (the URL names no database: qualify the table as db.table)'
          : '';
      throw new RuntimeError(
        'config',
        `MySQL ${this.#url}: table ${JSON.stringify(name)} not found, or no privilege on it${hint}`,
      );
    }
    const columnRows = await this.#query(
      session.connection,
      `read the columns of ${name}`,
      `SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, NUMERIC_PRECISION, NUMERIC_SCALE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [schema, tableName],
    );
    const jsonChecked =
      session.mariadb && columnRows.some((r) => String(r[1]).toLowerCase() === 'longtext')
        ? await this.#jsonColumns(session, schema, tableName)
        : new Set<string>();
    const columns = columnRows.map((r) => {
      const info: CatalogColumn = {
        name: String(r[0]),
        dataType: String(r[1]),
        columnType: String(r[2]),
        nullable: r[3] === 'YES',
        numericPrecision: r[4] === null || r[4] === undefined ? null : Number(r[4]),
        numericScale: r[5] === null || r[5] === undefined ? null : Number(r[5]),
        jsonChecked: jsonChecked.has(String(r[0])),
      };
      return mapColumn(info);
    });
    const keyRows = await this.#query(
      session.connection,
      `read the primary key of ${name}`,
      `SELECT COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`,
      [schema, tableName],
    );
    return {
      display: JSON.stringify(name),
      quoted: `${quoteIdent(schema)}.${quoteIdent(tableName)}`,
      columns,
      primaryKey: keyRows.map((r) => String(r[0])),
    };
  }

  /**
   * MariaDB stores `JSON` as LONGTEXT with a column-level `CHECK (json_valid(col))`; those columns are json.
   * Servers without information_schema.CHECK_CONSTRAINTS (before 10.2) show them as plain text.
   */
  async #jsonColumns(session: Session, schema: string, table: string): Promise<Set<string>> {
    let rows: unknown[][];
    try {
      rows = await this.#query(
        session.connection,
        'read check constraints',
        `SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND LEVEL = 'Column'`,
        [schema, table],
      );
    } catch {
      return new Set();
    }
    const names = new Set<string>();
    for (const [name, clause] of rows) {
      if (
        typeof name === 'string' &&
        typeof clause === 'string' &&
        clause.trim().toLowerCase() === `json_valid(${quoteIdent(name)})`.toLowerCase()
      )
        names.add(name);
    }
    return names;
  }

  // ---- connections --------------------------------------------------------------------------------------

  /** The connection for catalog queries and check(), opened once and reopened after a failure. */
  #metaSession(): Promise<Session> {
    if (this.#closed) throw new RuntimeError('internal', `MySQL ${this.#url}: the source is closed`);
    if (!this.#meta) {
      const opening = this.#connect();
      this.#meta = opening;
      const forget = () => {
        if (this.#meta === opening) this.#meta = undefined;
      };
      // A lost connection (a server restart, wait_timeout) is replaced on the next call.
      opening.then((session) => session.connection.on('error', forget).on('end', forget)).catch(forget);
    }
    return this.#meta;
  }

  /** A connection of its own for one read (a snapshot, a stream), released by #release. */
  async #session(): Promise<Session> {
    if (this.#closed) throw new RuntimeError('internal', `MySQL ${this.#url}: the source is closed`);
    const session = await this.#connect();
    session.connection.on('error', () => (session.broken = true));
    this.#open.add(session);
    return session;
  }

  /** Ends a read's connection: politely when it is idle, at once when a result may still be on the wire. */
  #release(session: Session): void {
    this.#open.delete(session);
    if (session.broken) hardClose(session.connection);
    else session.connection.end().catch(() => hardClose(session.connection));
  }

  async #connect(): Promise<Session> {
    let connection: Connection;
    try {
      // mysql2 loads on first use: a PostgreSQL connector does not pay its start-up time.
      const { createConnection } = await import('mysql2/promise');
      connection = await createConnection(this.#config);
    } catch (error) {
      throw this.#error('cannot connect', error);
    }
    // Without a listener a connection lost while idle would be an uncaught 'error' event.
    connection.on('error', () => undefined);
    try {
      const [info] = await this.#query(connection, 'set up the session', 'SELECT @@SESSION.sql_mode, VERSION()');
      const modes = String(info?.[0] ?? '')
        .split(',')
        .filter((m) => m !== '' && m !== 'NO_BACKSLASH_ESCAPES' && m !== 'ANSI_QUOTES');
      await this.#query(
        connection,
        'set up the session',
        `SET SESSION time_zone = '+00:00', SESSION sql_mode = ?, SESSION net_write_timeout = ?`,
        [modes.join(','), NET_WRITE_TIMEOUT_SECONDS],
      );
      return { connection, mariadb: /mariadb/i.test(String(info?.[1] ?? '')), broken: false };
    } catch (error) {
      hardClose(connection);
      throw error;
    }
  }

  async #query(connection: Connection, action: string, sql: string, params: unknown[] = []): Promise<unknown[][]> {
    try {
      const [rows] = await connection.query({ sql, values: params, rowsAsArray: true });
      return Array.isArray(rows) ? (rows as unknown as unknown[][]) : [];
    } catch (error) {
      throw this.#error(action, error);
    }
  }

  #error(action: string, error: unknown): RuntimeError {
    if (error instanceof RuntimeError) return error;
    const { code: kind, sqlstate, driverCode: code } = classifyMysqlError(error);
    let message = (error as { message?: unknown })?.message;
    if (typeof message !== 'string' || message === '') {
      message =
        error instanceof AggregateError
          ? error.errors.map((inner: unknown) => (inner instanceof Error ? inner.message : String(inner))).join('; ')
          : String(error);
    }
    if (this.#password.length >= 4) message = (message as string).split(this.#password).join('***');
    return new RuntimeError(kind, `MySQL ${this.#url}: ${action}: ${message as string}${code ? ` (${code})` : ''}`, {
      cause: error,
      data: sqlstate !== undefined ? { sqlstate } : {},
    });
  }
}

/** How long the server waits on a paused stream (the lake writer busy with a chunk) before dropping it. */
const NET_WRITE_TIMEOUT_SECONDS = 3600;

interface Session {
  readonly connection: Connection;
  /** Ends the result being streamed, if any (close() under a running read). */
  interrupt?: () => void;
  readonly mariadb: boolean;
  /** The connection cannot be reused (an abandoned result, a lost connection). */
  broken: boolean;
}

interface Table {
  /** The entity name, for messages. */
  readonly display: string;
  /** `schema`.`table`, quoted. */
  readonly quoted: string;
  readonly columns: readonly MysqlColumn[];
  readonly primaryKey: readonly string[];
}

interface Position {
  readonly cursor: StateValue;
  readonly key: readonly StateValue[];
}

interface IncrementalPlan {
  readonly table: Table;
  readonly fields: readonly MysqlColumn[];
  /** The fields, then cursor and key columns that are not fields. */
  readonly selected: readonly MysqlColumn[];
  readonly cursor: MysqlColumn;
  /** The key columns other than the cursor (none when the cursor is the key). */
  readonly keys: readonly MysqlColumn[];
  /** (cursor, keys…) is unique: keyset pages; otherwise one stream by cursor. */
  readonly keyed: boolean;
  readonly cursorIndex: number;
  readonly keyIndexes: readonly number[];
  readonly resume: Position | undefined;
  readonly lookbackMicros: number;
  /** The largest cursor when the read started (state form); null when no row has one. */
  readonly max: StateValue;
  readonly build: (raw: unknown[]) => Row;
}

/** `(c0, c1, …) > (v0, v1, …)` written out, so the server can use an index on the columns. */
function after(columns: readonly MysqlColumn[], values: readonly StateValue[]): { sql: string; params: unknown[] } {
  const build = (i: number): { sql: string; params: unknown[] } => {
    const column = columns[i];
    if (!column) throw new RuntimeError('internal', 'keyset position has more values than columns');
    const name = quoteIdent(column.source.name);
    const p = sqlParameter(column, values[i] ?? null);
    if (i === columns.length - 1) return { sql: `${name} > ${p.sql}`, params: [p.value] };
    const inner = build(i + 1);
    return {
      sql: `(${name} > ${p.sql} OR (${name} = ${p.sql} AND ${inner.sql}))`,
      params: [p.value, p.value, ...inner.params],
    };
  };
  return build(0);
}

function positionState(position: Position): SourceState {
  return { cursor: position.cursor, key: [...position.key] };
}

/** The position an incremental state holds; undefined for no state or another strategy's state. */
function resumePosition(state: SourceState | undefined, keyCount: number, where: string): Position | undefined {
  if (state === undefined || state.strategy === 'full_refresh') return undefined;
  const { cursor, key } = state;
  const valid = (v: unknown): v is StateValue =>
    typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (!valid(cursor) || !Array.isArray(key) || !key.every(valid)) {
    throw new RuntimeError('config', `${where}: the saved state is not an incremental position { cursor, key: [...] }`);
  }
  if (key.length !== keyCount) {
    throw new RuntimeError(
      'config',
      `${where}: the saved state has ${key.length} key values but the key has ${keyCount} columns (did the primary key change? reset the state to read again)`,
    );
  }
  return { cursor, key };
}

/** The named columns of a table, in that order; a config error names the missing ones. */
function pick(table: Table, names: readonly string[], entity: string): MysqlColumn[] {
  const missing: string[] = [];
  const picked = names.flatMap((name) => {
    // Column names are case-insensitive in MySQL: an exact match first, then a unique case-insensitive one.
    let column = table.columns.find((c) => c.source.name === name);
    if (!column) {
      const loose = table.columns.filter((c) => c.source.name.toLowerCase() === name.toLowerCase());
      if (loose.length === 1) column = loose[0];
    }
    if (!column) missing.push(name);
    return column ? [{ ...column, source: { ...column.source, name } }] : [];
  });
  if (missing.length > 0) {
    throw new RuntimeError(
      'config',
      `entity "${entity}": no column ${missing.map((m) => JSON.stringify(m)).join(', ')} in table ${table.display} (columns: ${table.columns.map((c) => JSON.stringify(c.source.name)).join(', ')})`,
    );
  }
  return picked;
}

/** Builds a row object (field name → canonical value) from the first `columns.length` values of a raw row. */
function rowBuilder(columns: readonly MysqlColumn[]): (raw: unknown[]) => Row {
  const names = columns.map((c) => c.source.name);
  const converters: Converter[] = columns.map(converterFor);
  return (raw) => {
    // No Object.prototype in the chain: a column named __proto__ is an own field like any other.
    const row = newRecord();
    for (let i = 0; i < names.length; i++) row[names[i] as string] = (converters[i] as Converter)(raw[i]);
    return row;
  };
}

/**
 * Closes a connection at once. mysql2's destroy() only half-closes the socket: a server sending a result
 * into a paused socket would wait (net_write_timeout) holding its locks; a reset makes it stop now.
 */
function hardClose(connection: Connection): void {
  connection.destroy();
  (coreOf(connection) as unknown as { stream?: { destroy?: () => void } }).stream?.destroy?.();
}

/** mysql2's callback connection under a promise one (its typings omit the field). */
function coreOf(connection: Connection): CoreConnection {
  return (connection as unknown as { connection: CoreConnection }).connection;
}

/** mysql2 options from the URL and TLS settings; the password is kept apart for scrubbing messages. */
function connectionConfig(
  options: SqlConnectionOptions,
  shown: string,
): { config: ConnectionOptions; password: string } {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    // The parser's error carries the input, password included: not passed on.
    throw new RuntimeError('config', `invalid MySQL URL ${shown} (expected mysql://user:password@host:port/database)`);
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new RuntimeError('config', `invalid MySQL URL ${shown}: the scheme must be mysql:// or mariadb://`);
  }
  const params = [...url.searchParams.keys()];
  if (params.length > 0) {
    throw new RuntimeError(
      'config',
      `MySQL URL ${shown}: parameters are not supported (${params.join(', ')}); TLS is configured with the source's tls settings`,
    );
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw new RuntimeError('config', `invalid MySQL URL ${shown}: bad percent-encoding`);
    }
  };
  const password = decode(url.password);
  const database = decode(url.pathname.replace(/^\//, ''));
  const config: ConnectionOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: url.port ? Number(url.port) : 3306,
    user: decode(url.username),
    password,
    ...(database ? { database } : {}),
    charset: 'utf8mb4',
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    // Parsed by the source (mysql-values), the same way for MySQL's JSON and MariaDB's LONGTEXT JSON.
    jsonStrings: true,
    multipleStatements: false,
    enableKeepAlive: true,
    connectTimeout: 15_000,
  };
  const tls = options.tls;
  if (tls && tls.mode !== 'disable') {
    const read = (label: string, path: string | undefined): { [k: string]: Buffer } => {
      if (path === undefined) return {};
      try {
        return { [label]: readFileSync(path) };
      } catch (error) {
        throw new RuntimeError(
          'config',
          `MySQL ${shown}: cannot read the TLS ${label} file ${path}: ${(error as Error).message}`,
        );
      }
    };
    const verify = tls.mode === 'verify-ca' || tls.mode === 'verify-full';
    const ssl: SslOptions = {
      ...read('ca', tls.caFile),
      ...read('cert', tls.certFile),
      ...read('key', tls.keyFile),
      rejectUnauthorized: verify,
      verifyIdentity: tls.mode === 'verify-full',
    };
    config.ssl = ssl;
  }
  return { config, password };
}

/** Resolves when a stream has rows to read, has ended, or has failed (the caller then looks which). */
function readableOrDone(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('readable', done);
      stream.off('end', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('readable', done);
    stream.on('end', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

/**
 * A column of a row query, under a positional alias: rows are read as arrays, so the names the server
 * sends back are not needed, and mysql2 hangs on a result column named `__proto__`.
 */
function selectAs(column: MysqlColumn, index: number): string {
  return `${selectExpression(column)} AS ${quoteIdent(`_cf_col_${index}`)}`;
}
