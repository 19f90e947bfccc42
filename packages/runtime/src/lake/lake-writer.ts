import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Compression, LakeFormat, WriteMode } from '@connector-factory/ir';
import { duckdbType, openEngine, quoteIdent, quoteLiteral } from '../engine/duckdb-engine.js';
import { RuntimeError } from '../errors.js';
import type { ObjectStore } from '../stores/object-store.js';
import type { FormatEncoder } from './format-encoder.js';
import { parquetFileStats } from './file-stats.js';
import { partitionPath } from './partitioning.js';
import { isColumnarPage, type ColumnarPage } from './columnar-page.js';
import { isCsvPage, type CsvPage } from './csv-page.js';
import { avroCsvColumn, avroFileToCsv } from './formats/avro/avro-reader.js';
import { failedQuarantineKey, writeQuarantine } from './quarantine.js';
import { DELETED, PART, SEQ, Stage, type RejectedRow, type Row, type SpoolRead } from './stage.js';
import type { CommittedBatch, TableChange, TableFile, TableLog, TableSnapshot } from './table-log.js';
import { checkTableSchema, type Column, type TableSchema } from './table-schema.js';

/** How a writer is set up; `openLakeWriter` fills these from a manifest's destination. */
export interface LakeWriterOptions {
  readonly store: ObjectStore;
  readonly log: TableLog;
  readonly encoder: FormatEncoder;
  readonly format: LakeFormat;
  readonly schema: TableSchema;
  readonly writeMode: WriteMode;
  readonly compression?: Compression;
  /** Identity of the writer for exactly-once commits: the connector id. */
  readonly appId: string;
  /** Local scratch folder (encoded files, DuckDB spill files); removed on close. */
  readonly workDir: string;
  /** Roll data files at about this size (default 128 MiB). */
  readonly targetFileBytes?: number;
  /** Parquet row groups close at about this much of DuckDB's in-memory data (default 4 MiB; see ROW_GROUP_BYTES). */
  readonly rowGroupBytes?: number;
  /** Encode staged rows every this many rows (append/overwrite), bounding memory (default 250 000). */
  readonly flushRows?: number;
  /** DuckDB memory limit (default 256MB); beyond it DuckDB spills to workDir. */
  readonly memoryLimit?: string;
  /** Marks CDC delete events (default: `_op` is `d` or `delete`). */
  readonly isDelete?: (row: Row) => boolean;
}

/** What one batch did. */
export interface BatchResult {
  readonly batchId: string;
  /** False when the batch had been committed before: the call was a no-op. */
  readonly committed: boolean;
  readonly tableVersion: number;
  readonly rowsWritten: number;
  readonly rowsQuarantined: number;
  readonly filesAdded: number;
  readonly filesRemoved: number;
  readonly bytesWritten: number;
  readonly quarantineKey?: string;
  /** Nulls and fields among rows that came as CSV or columnar pages (object rows are counted by the caller). */
  readonly bulkNulls?: { readonly nulls: number; readonly fields: number };
}

/** A share as people read it: 80 %, 1 %, 0.5 %, 0.01 %. */
function percent(share: number): string {
  const value = share * 100;
  return `${value >= 10 ? Math.round(value) : Number(value.toPrecision(2))} %`;
}

/**
 * The columns rejected rows did not fit, most first, with the column's type: `"tags" (string) 80000
 * rows`. Names only, never a value: the message goes to logs, metrics and alerts.
 */
function misfits(rejected: readonly RejectedRow[], schema: TableSchema): string {
  // Longest names first: a reason names its column as `column "<name>"`, and a name may hold quotes.
  const columns = [...schema.columns].sort((a, b) => b.name.length - a.name.length);
  const counts = new Map<string, number>();
  for (const { reason } of rejected) {
    const column = columns.find((c) => reason.startsWith(`column "${c.name}"`));
    const label = column ? `${JSON.stringify(column.name)} (${column.type})` : 'the row as a whole';
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const top = [...counts].sort((a, b) => b[1] - a[1]);
  const listed = top.slice(0, 3).map(([label, n]) => `${label} ${n} ${n === 1 ? 'row' : 'rows'}`);
  return `${listed.join(', ')}${top.length > 3 ? `, ${top.length - 3} more columns` : ''}`;
}

/**
 * A batch sent more of its rows to the quarantine than the table's limit allows; nothing of it was
 * committed. The message is one line naming the batch, the counts, the limit, the columns the rows
 * did not fit (names, never values) and the quarantine file that holds the rows and reasons.
 */
export class QuarantineLimitError extends RuntimeError {
  constructor(
    readonly batchId: string,
    readonly rowsQuarantined: number,
    readonly rows: number,
    readonly maxQuarantineShare: number,
    readonly columns: string,
    readonly quarantineKey: string,
  ) {
    super(
      'quality',
      `batch ${batchId}: ${rowsQuarantined} of ${rows} rows (${percent(rowsQuarantined / Math.max(rows, 1))}) did not fit ` +
        `the table schema and went to the quarantine, above quality.maxQuarantineShare ${percent(maxQuarantineShare)}; ` +
        `nothing of the batch was committed (did not fit: ${columns}; the rows and reasons: ${quarantineKey})`,
    );
  }
}

/** A page: rows as objects, or (append and overwrite) rows as CSV text or in a source's binary form. */
export type Page = readonly Row[] | CsvPage | ColumnarPage;

/** Pages of rows, as a source yields them. */
export type Pages = AsyncIterable<Page> | Iterable<Page>;

/**
 * Parquet row groups of about 4 MiB of DuckDB's in-memory data (ROW_GROUP_SIZE_BYTES), not DuckDB's
 * 122 880 rows whatever their width: each encoding thread holds its open row group and the pages it
 * prepares from it, so with a row count the encoder's memory follows the table's width. A 10 M-row
 * PostgreSQL refresh of the bench's orders (30 720 rows a group at 4 MiB) peaked at 236–246 MB
 * against 343–349 MB, no slower (8.8–9.0 s against 9.0–10.5 s); its files were 8 % larger (75.2
 * against 69.4 MB: the bench's synthetic columns repeat every 50 000 to 100 000 rows, which only
 * larger groups catch). Narrow tables still get groups of up to 122 880 rows.
 */
const ROW_GROUP_BYTES = 4 << 20;

const defaultIsDelete = (row: Row) => row._op === 'd' || row._op === 'delete';

/** The SQL text of a partition value, matching partitionText() in partitioning.ts. */
function partitionTextSql(column: Column, alias = ''): string {
  const name = `${alias}${quoteIdent(column.name)}`;
  switch (column.physical.kind) {
    case 'date':
      return `strftime(${name}, '%Y-%m-%d')`;
    case 'timestamp':
      return `strftime(${name}, '%Y-%m-%d %H:%M:%S.%f')`;
    case 'boolean':
      return `CASE WHEN ${name} THEN 'true' WHEN NOT ${name} THEN 'false' END`;
    default:
      return `CAST(${name} AS VARCHAR)`;
  }
}

/** A SQL expression turning a partition value's text back into its column's type. */
function partitionValueSql(column: Column, text: string | null): string {
  if (text === null) return 'NULL';
  const literal = quoteLiteral(text);
  switch (column.physical.kind) {
    case 'timestamp':
      return `CAST(${literal} || '+00' AS TIMESTAMPTZ)`;
    case 'json':
    case 'string':
      return literal;
    default:
      return `CAST(${literal} AS ${duckdbType(column.physical)})`;
  }
}

/**
 * Writes record batches into one lake table with exactly-once commits: each batch is staged in DuckDB,
 * encoded into files that roll at a target size, uploaded, and committed in one log entry stamped with
 * `<appId>@<sequence>`; a batch already in the log is skipped.
 */
export class LakeWriter {
  private readonly dataColumns: readonly Column[];
  private readonly partitionColumns: readonly Column[];
  private readonly ownedPrefix: string;
  private counter = 0;

  private constructor(
    private readonly options: LakeWriterOptions,
    private readonly connection: DuckDBConnection,
    private readonly closeEngine: () => void,
    private readonly stageColumns: readonly Column[],
  ) {
    const partitionBy = new Set(options.schema.partitionBy);
    this.dataColumns = stageColumns.filter((c) => !partitionBy.has(c.name));
    this.partitionColumns = options.schema.partitionBy.map((name) => stageColumns.find((c) => c.name === name)!);
    this.ownedPrefix = `${createHash('sha256').update(options.appId).digest('hex').slice(0, 10)}-`;
  }

  /** Opens a writer and finishes whatever a crashed predecessor left half done. */
  static async open(options: LakeWriterOptions): Promise<LakeWriter> {
    checkTableSchema(options.schema);
    await mkdir(options.workDir, { recursive: true });
    const engine = await openEngine({
      tempDirectory: join(options.workDir, 'spill'),
      ...(options.memoryLimit ? { memoryLimit: options.memoryLimit } : {}),
    });
    const probe = await Stage.create(engine.connection, options.schema, '__cf_probe', options.workDir);
    await probe.drop();
    const writer = new LakeWriter(options, engine.connection, engine.close, probe.columns);
    await options.store.cleanUp?.();
    await options.log.recover(writer.ownedPrefix, options.appId);
    return writer;
  }

  /** The last batch sequence this writer's appId committed, or undefined. */
  async lastCommittedSequence(): Promise<number | undefined> {
    return (await this.options.log.snapshot()).txns.get(this.options.appId);
  }

  /** The last batch this writer's appId committed and the source state stored with it. */
  async lastCommit(): Promise<CommittedBatch | undefined> {
    return this.options.log.lastCommit(this.options.appId);
  }

  /**
   * Writes and commits one batch; a no-op returning `committed: false` if the batch is already in.
   * `state` (where the source resumes after this batch) is committed with the data; pass a function
   * when the state is only known once the pages are consumed. With `maxQuarantineShare`, a batch
   * whose quarantined rows are more than that share of its rows is not committed: its rejected rows
   * go to `failedQuarantineKey` (to look at; a retry of the batch replaces it) and a RuntimeError 'quality'
   * (a QuarantineLimitError) is thrown, so the table and the caller's checkpoint stay where they were.
   */
  async writeBatch(
    sequence: number,
    pages: Pages,
    options: { extractedAt?: Date; state?: unknown; stateAfter?: () => unknown; maxQuarantineShare?: number } = {},
  ): Promise<BatchResult> {
    const extractedAt = options.extractedAt ?? new Date();
    const { appId, log, schema, writeMode } = this.options;
    const batchId = `${appId}@${sequence}`;
    const snapshot = await log.snapshot();
    const done = snapshot.txns.get(appId);
    if (done !== undefined && done >= sequence) {
      return {
        batchId,
        committed: false,
        tableVersion: snapshot.version,
        rowsWritten: 0,
        rowsQuarantined: 0,
        filesAdded: 0,
        filesRemoved: 0,
        bytesWritten: 0,
      };
    }
    const token = `${this.ownedPrefix}${sequence}-${randomBytes(4).toString('hex')}`;
    const batchDir = join(this.options.workDir, token);
    await mkdir(batchDir, { recursive: true });
    const stage = await Stage.create(this.connection, schema, `stage_${token.replace(/-/g, '_')}`, batchDir, {
      changes: writeMode === 'merge',
    });
    const rejected: RejectedRow[] = [];
    let rowsIn = 0;
    const added: TableFile[] = [];
    let removed: TableFile[] = [];
    let rowsWritten = 0;
    // While DuckDB loads and encodes one chunk (on its own threads), JS spools the next.
    let pending: Promise<void> | undefined;
    // A spool of one kind only (records, CSV or columnar pages) of an unpartitioned parquet or delta
    // table goes straight into the data files (no table in between); the files' statistics count the
    // rows and their nulls.
    const direct =
      this.partitionColumns.length === 0 && (this.options.format === 'parquet' || this.options.format === 'delta');
    const encodeRead = async (read: SpoolRead) => {
      try {
        const files = await this.encodeAndUpload(await read.query(), batchDir, token);
        added.push(...files);
        const loaded = files.reduce((sum, f) => sum + (f.stats?.numRecords ?? 0), 0);
        const nulls = files.reduce(
          (sum, f) => sum + Object.values(f.stats?.nullCount ?? {}).reduce((a, b) => a + b, 0),
          0,
        );
        await read.settle(loaded, nulls);
        rowsWritten += loaded;
      } finally {
        await read.discard();
      }
    };
    const encodeLoaded = async () => {
      const read = direct ? stage.takeOnlyRead() : undefined;
      if (read) return encodeRead(read);
      rowsWritten += await stage.load();
      if (stage.rowCount > 0)
        added.push(...(await this.encodeAndUpload(`SELECT * FROM ${stage.table}`, batchDir, token)));
      await stage.clear();
    };
    // Direct: while DuckDB encodes one spool the next one keeps growing (on disk, up to eight chunks),
    // and is taken when DuckDB is free: the source is not held up, and the slower DuckDB is, the fewer
    // and larger the statements and files.
    let encoding = false;
    // The first failure of such an encode: the batch stops at the next page instead of reading the
    // rest of the source onto disk for nothing.
    let failure: unknown;
    try {
      const flushRows = this.options.flushRows ?? 250_000;
      // Delete events only mean something to a merge; elsewhere they are rows like any other.
      const isDelete = writeMode === 'merge' ? (this.options.isDelete ?? defaultIsDelete) : undefined;
      for await (const page of pages) {
        if (failure !== undefined) throw failure;
        const bulk = isCsvPage(page) || isColumnarPage(page);
        if (bulk && writeMode === 'merge') {
          throw new RuntimeError('internal', 'bulk pages cannot be merged (their rows carry no arrival order)');
        }
        rowsIn += bulk ? page.rows : page.length;
        if (isCsvPage(page)) stage.appendCsv(page, extractedAt);
        else if (isColumnarPage(page)) rejected.push(...(await stage.appendColumnar(page, extractedAt)));
        else rejected.push(...(await stage.append(page, extractedAt, isDelete)));
        if (writeMode === 'merge' || stage.spooledRows < flushRows) continue;
        if (direct && stage.onlyKind !== undefined) {
          // Disk is bounded too: past eight chunks the source waits for DuckDB.
          if (encoding && stage.spooledRows < 8 * flushRows) continue;
          await pending;
          encoding = true;
          pending = encodeRead(stage.takeOnlyRead()!).then(
            () => {
              encoding = false;
            },
            (error: unknown) => {
              failure ??= error;
              throw error;
            },
          );
        } else {
          await pending;
          pending = encodeLoaded();
        }
        // Handled when awaited; this only keeps an early failure from being reported as unhandled.
        pending.catch(() => undefined);
      }
      await pending;
      pending = undefined;
      if (writeMode === 'merge') {
        await stage.load();
        const merged = await this.merge(stage, snapshot, batchDir, token);
        added.push(...merged.added);
        removed = merged.removed;
        rowsWritten += merged.upserts;
      } else {
        await encodeLoaded();
        if (writeMode === 'overwrite') removed = [...snapshot.files.values()];
      }
      rejected.push(...stage.takeCsvRejected());
      const limit = options.maxQuarantineShare;
      if (limit !== undefined && rejected.length > 0 && rejected.length > limit * rowsIn) {
        const failedKey = failedQuarantineKey(appId, sequence);
        await writeQuarantine(this.options.store, appId, sequence, rejected, extractedAt, failedKey);
        throw new QuarantineLimitError(batchId, rejected.length, rowsIn, limit, misfits(rejected, schema), failedKey);
      }
      const quarantineKey = await writeQuarantine(this.options.store, appId, sequence, rejected, extractedAt);
      const change: TableChange = {
        readVersion: snapshot.version,
        operation: writeMode === 'merge' ? 'MERGE' : writeMode === 'overwrite' ? 'CREATE OR REPLACE TABLE' : 'WRITE',
        appId,
        sequence,
        add: added,
        remove: removed,
        dataChange: true,
        parameters: { mode: writeMode, batchId },
        ...(options.stateAfter
          ? { state: options.stateAfter() }
          : options.state !== undefined
            ? { state: options.state }
            : {}),
      };
      const tableVersion = await log.commit(change, token);
      return {
        batchId,
        committed: true,
        tableVersion,
        rowsWritten,
        rowsQuarantined: rejected.length,
        filesAdded: added.length,
        filesRemoved: removed.length,
        bytesWritten: added.reduce((sum, f) => sum + f.size, 0),
        ...(quarantineKey ? { quarantineKey } : {}),
        ...(stage.bulkNulls.fields > 0 ? { bulkNulls: { ...stage.bulkNulls } } : {}),
      };
    } finally {
      await pending?.catch(() => undefined);
      await stage.drop();
      await rm(batchDir, { recursive: true, force: true });
    }
  }

  /**
   * Encodes the rows of `source` (a query with the stage's columns) into files, uploads them where the
   * log wants new files, and describes them for the commit.
   */
  private async encodeAndUpload(source: string, batchDir: string, token: string): Promise<TableFile[]> {
    const { encoder, compression, store, log, format } = this.options;
    const partCols = this.partitionColumns;
    const dir = join(batchDir, `enc-${this.counter++}`);
    // Partition ids from the distinct partition tuples of this chunk, decided in SQL (no per-row JS work).
    const parts = new Map<number, (string | null)[]>();
    let query: string;
    const dataSelect = this.dataColumns.map((c) => `s.${quoteIdent(c.name)}`).join(', ');
    if (partCols.length === 0) {
      parts.set(0, []);
      query = `SELECT ${dataSelect}, 0 AS ${PART} FROM (${source}) s`;
    } else {
      const texts = partCols.map((c, i) => `${partitionTextSql(c, 's.')} AS p${i}`).join(', ');
      const partsTable = `parts_${token.replace(/-/g, '_')}_${this.counter}`;
      await this.connection.run(
        `CREATE OR REPLACE TEMP TABLE ${partsTable} AS SELECT p.*, (row_number() OVER ()) - 1 AS ${PART} FROM (SELECT DISTINCT ${texts} FROM (${source}) s) p`,
      );
      const reader = await this.connection.runAndReadAll(`SELECT * FROM ${partsTable}`);
      for (const row of reader.getRowObjectsJS()) {
        parts.set(
          Number(row[PART]),
          partCols.map((_c, i) => (row[`p${i}`] === null ? null : String(row[`p${i}`]))),
        );
      }
      const join = partCols.map((c, i) => `${partitionTextSql(c, 's.')} IS NOT DISTINCT FROM p.p${i}`).join(' AND ');
      query = `SELECT ${dataSelect}, p.${PART} FROM (${source}) s JOIN ${partsTable} p ON ${join}`;
    }
    const files = await encoder.encode({
      connection: this.connection,
      query,
      columns: this.dataColumns,
      dir,
      filePrefix: `part-${token}-${this.counter}`,
      ...(compression ? { compression } : {}),
      targetFileBytes: this.options.targetFileBytes ?? 128 * 1024 * 1024,
      rowGroupBytes: this.options.rowGroupBytes ?? ROW_GROUP_BYTES,
      parts: [...parts.keys()],
    });
    const unread = files.filter((f) => f.stats === undefined).map((f) => f.localPath);
    const stats =
      format === 'parquet' || format === 'delta'
        ? await parquetFileStats(this.connection, unread, this.dataColumns)
        : new Map();
    const out: TableFile[] = [];
    for (const file of files) {
      const values = parts.get(file.part) ?? [];
      const path = `${partitionPath(
        partCols.map((c) => c.name),
        values,
      )}${file.name}`;
      await store.putFile(log.uploadKey(path, token), file.localPath);
      const fileStats = file.stats ?? stats.get(file.localPath);
      out.push({
        path,
        size: (await stat(file.localPath)).size,
        partitionValues: Object.fromEntries(partCols.map((c, i) => [c.name, values[i] ?? null])),
        ...(fileStats ? { stats: fileStats } : {}),
      });
      await rm(file.localPath, { force: true });
    }
    return out;
  }

  /**
   * Merge on the merge keys: the last change per key in the batch wins; deletes remove the row. The
   * files that may hold a batch key (by their key statistics, else all) are read, rewritten without the
   * changed keys plus the upserts, and swapped in one commit.
   */
  private async merge(
    stage: Stage,
    snapshot: TableSnapshot,
    batchDir: string,
    token: string,
  ): Promise<{ added: TableFile[]; removed: TableFile[]; upserts: number }> {
    const keys = this.options.schema.mergeKeys;
    if (keys.length === 0)
      throw new RuntimeError('config', 'writeMode merge needs mergeKeys (or primary keys on the entity)');
    const keyList = keys.map(quoteIdent).join(', ');
    const latest = `latest_${token.replace(/-/g, '_')}`;
    await this.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${latest} AS SELECT * EXCLUDE (__cf_rn) FROM (SELECT *, row_number() OVER (PARTITION BY ${keyList} ORDER BY ${SEQ} DESC) AS __cf_rn FROM ${stage.table}) WHERE __cf_rn = 1`,
    );
    const candidates = await this.mergeCandidates(latest, snapshot);
    const existing = await this.loadFiles(candidates, batchDir);
    const stageCols = this.stageColumns.map((c) => quoteIdent(c.name)).join(', ');
    const keyMatch = keys.map((k) => `l.${quoteIdent(k)} IS NOT DISTINCT FROM e.${quoteIdent(k)}`).join(' AND ');
    const kept = existing
      ? `SELECT ${stageCols} FROM ${existing} e WHERE NOT EXISTS (SELECT 1 FROM ${latest} l WHERE ${keyMatch})`
      : undefined;
    const upserts = `SELECT ${stageCols} FROM ${latest} WHERE NOT ${DELETED}`;
    const source = kept ? `${kept} UNION ALL ${upserts}` : upserts;
    const countReader = await this.connection.runAndReadAll(`SELECT count(*) AS n FROM ${latest} WHERE NOT ${DELETED}`);
    const upsertCount = Number(countReader.getRowObjectsJS()[0]!.n);
    const added = await this.encodeAndUpload(source, batchDir, token);
    await this.connection.run(`DROP TABLE IF EXISTS ${latest}`);
    if (existing) await this.connection.run(`DROP TABLE IF EXISTS ${existing}`);
    return { added, removed: candidates, upserts: upsertCount };
  }

  /** Files whose key range may contain a key of the batch; all files when there are no statistics. */
  private async mergeCandidates(latest: string, snapshot: TableSnapshot): Promise<TableFile[]> {
    const files = [...snapshot.files.values()];
    const keys = this.options.schema.mergeKeys;
    const key = keys.length === 1 ? this.stageColumns.find((c) => c.name === keys[0]) : undefined;
    if (!key || !['int64', 'float64', 'decimal', 'string', 'date'].includes(key.physical.kind)) return files;
    const reader = await this.connection.runAndReadAll(`SELECT ${quoteIdent(key.name)} AS k FROM ${latest} ORDER BY 1`);
    const batchKeys = reader.getRowObjectsJS().map((r) => r.k);
    const compare = (a: unknown, b: unknown) =>
      typeof a === 'bigint' || typeof b === 'bigint' ? Number(a) - Number(b) : a! < b! ? -1 : a! > b! ? 1 : 0;
    return files.filter((file) => {
      const lo = file.stats?.minValues[key.name];
      const hi = file.stats?.maxValues[key.name];
      if (lo === undefined || hi === undefined || file.stats?.nullCount[key.name]) return true;
      // Any batch key within [lo, hi]? Binary search in the sorted keys.
      let left = 0;
      let right = batchKeys.length;
      while (left < right) {
        const mid = (left + right) >> 1;
        if (compare(batchKeys[mid], lo) < 0) left = mid + 1;
        else right = mid;
      }
      return left < batchKeys.length && compare(batchKeys[left], hi) <= 0;
    });
  }

  /** Downloads files and loads their rows (partition columns restored) into a temp table. */
  private async loadFiles(files: readonly TableFile[], batchDir: string): Promise<string | undefined> {
    if (files.length === 0) return undefined;
    const { format } = this.options;
    const dir = join(batchDir, 'existing');
    await mkdir(dir, { recursive: true });
    const table = `existing_${this.counter++}_${randomBytes(3).toString('hex')}`;
    const locals: string[] = [];
    for (const [i, file] of files.entries()) {
      // Keep the file's own ending: DuckDB picks json compression from it.
      const local = join(dir, `${i}-${file.path.split('/').pop()!}`);
      if (!(await this.options.store.download(file.path, local))) {
        throw new RuntimeError(
          'corrupt',
          `${this.options.store.url}${file.path} is in the table log but missing from the store`,
        );
      }
      if (format === 'avro') {
        // Decoded here into CSV (DuckDB's avro reader is an extension download).
        const csv = `${local}.csv`;
        await avroFileToCsv(local, this.dataColumns, csv);
        locals.push(csv);
      } else locals.push(local);
    }
    const partSelect = this.partitionColumns.length
      ? `, ${this.partitionColumns.map((c) => `CASE ${files.map((f, i) => `WHEN filename = ${quoteLiteral(locals[i]!)} THEN ${partitionValueSql(c, f.partitionValues[c.name] ?? null)}`).join(' ')} END AS ${quoteIdent(c.name)}`).join(', ')}`
      : '';
    const list = `[${locals.map(quoteLiteral).join(', ')}]`;
    let source: string;
    if (format === 'avro') {
      const typed = this.dataColumns.map((c) => ({ column: c, ...avroCsvColumn(c, quoteIdent(c.name)) }));
      const columns = typed.map((t) => `${quoteLiteral(t.column.name)}: ${quoteLiteral(t.type)}`).join(', ');
      const values = typed.map((t) => `${t.value} AS ${quoteIdent(t.column.name)}`).join(', ');
      source =
        `(SELECT ${values}, filename FROM read_csv(${list}, header = false, delim = ',', quote = '"', escape = '"', nullstr = '', ` +
        `allow_quoted_nulls = false, auto_detect = false, filename = true, columns = {${columns}}))`;
    } else if (format === 'json') {
      // Every column as text, then cast: the JSON encoder wrote decimals and timestamps as strings.
      const columns = this.dataColumns.map((c) => `${quoteLiteral(c.name)}: 'VARCHAR'`).join(', ');
      const casts = this.dataColumns
        .map((c) => `CAST(${quoteIdent(c.name)} AS ${duckdbType(c.physical)}) AS ${quoteIdent(c.name)}`)
        .join(', ');
      source = `(SELECT ${casts}, filename FROM read_json(${list}, format = 'newline_delimited', columns = {${columns}}, filename = true))`;
    } else {
      source = `read_parquet(${list}, filename = true, hive_partitioning = false, union_by_name = true)`;
    }
    await this.connection.run(
      `CREATE OR REPLACE TEMP TABLE ${table} AS SELECT * EXCLUDE (filename)${partSelect} FROM ${source}`,
    );
    return table;
  }

  /** Releases DuckDB and the scratch folder. */
  async close(): Promise<void> {
    this.closeEngine();
    await rm(this.options.workDir, { recursive: true, force: true });
  }
}
