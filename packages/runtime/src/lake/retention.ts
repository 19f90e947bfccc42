import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConnectorManifest, LakeFormat } from '@connector-factory/ir';
import { tablePathOf } from '../connector/run-connector.js';
import { openStore } from '../stores/open-store.js';
import { EXTRACTED_AT } from '../transform/transformer.js';
import { openEngine, quoteIdent, quoteLiteral } from '../engine/duckdb-engine.js';
import { RuntimeError } from '../errors.js';
import type { ObjectStore } from '../stores/object-store.js';
import { parquetFileStats } from './file-stats.js';
import { avroEncoder, loadZstd } from './formats/avro/avro-encoder.js';
import { avroCsvColumn, avroFileToCsv, readAvroColumns } from './formats/avro/avro-reader.js';
import {
  decodeDeltaPath,
  encodeDeltaPath,
  parseSchemaString,
  statsString,
  type DeltaAction,
  type DeltaField,
} from './formats/delta/delta-actions.js';
import { DeltaLog, tombstoneRetention } from './formats/delta/delta-log.js';
import { NULL_PARTITION } from './partitioning.js';
import { PlainLog } from './plain/plain-log.js';
import { isoMicros } from './spool/row-values.js';
import { PART } from './stage.js';
import type { FileStats, TableFile } from './table-log.js';
import type { Column, PhysicalType } from './table-schema.js';

/** The writer id retention commits carry in a plain table's log (Delta's DELETE commits carry none). */
export const RETENTION_APP_ID = 'connector-factory-retention';

const DAY = 86_400_000;
/** Plans and commits a retention this many times when concurrent commits keep removing the same files. */
const CONFLICT_ATTEMPTS = 3;

/** What one enforcement is asked to do. */
export interface RetentionOptions {
  /** The table's store (its root is the table root). */
  readonly store: ObjectStore;
  readonly format: LakeFormat;
  /** governance.retentionDays: rows whose date is older than this many days leave the table. */
  readonly retentionDays: number;
  /** The column that dates a row: the incremental key when it is a date/datetime, else `_extracted_at`. */
  readonly dateColumn: string;
  /**
   * Whether the table's `dt` partition is the runtime-derived one (the row's date, from the same
   * column as `dateColumn`): its partition values then date whole files without reading them.
   */
  readonly derivedDt?: boolean;
  /** Say what would go, change nothing. */
  readonly dryRun?: boolean;
  /** The clock (default: now). */
  readonly now?: Date;
  /**
   * Delta: how long a removed file stays in storage after its `remove` commit before it is deleted
   * (time travel and readers of older versions still use it). Default: the table's
   * `delta.deletedFileRetentionDuration`, else 7 days, as Delta's VACUUM.
   */
  readonly vacuumDelayMs?: number;
  /** Local scratch folder (default: a new temp folder, removed after). */
  readonly workDir?: string;
}

/** A data file retention removes or rewrites. */
export interface RetentionFile {
  readonly path: string;
  readonly size: number;
  readonly rowsExpired: number;
  /** Rows that stay (in the rewritten file); 0 for a file removed whole. */
  readonly rowsKept: number;
}

/** What one enforcement did (or, in a dry run, would do). */
export interface RetentionReport {
  readonly location: string;
  readonly format: LakeFormat;
  readonly dateColumn: string;
  readonly retentionDays: number;
  /** Rows dated before this instant expire. */
  readonly cutoff: string;
  readonly dryRun: boolean;
  /** The table version after enforcement (the version read in a dry run); -1 when there is no table. */
  readonly tableVersion: number;
  /** Whether a commit was made. */
  readonly committed: boolean;
  readonly rowsExpired: number;
  /** Files all of whose rows expired: removed whole. */
  readonly filesRemoved: readonly RetentionFile[];
  /** Files holding expired and kept rows: replaced by a file of the kept rows in the same commit. */
  readonly filesRewritten: readonly RetentionFile[];
  /** The new files of the kept rows. */
  readonly filesAdded: readonly string[];
  /** Partition folders (e.g. `dt=2024-01-31/`) none of whose files remain. */
  readonly partitionsDropped: readonly string[];
  readonly quarantine: { readonly files: readonly string[]; readonly rows: number };
  /** Delta: removed files deleted from storage once their vacuum delay passed (plain tables delete at commit). */
  readonly vacuum: {
    readonly delayMs: number;
    readonly deleted: readonly string[];
    readonly bytes: number;
    /** Removed files still inside the delay (deleted by a later enforcement). */
    readonly waiting: number;
  };
}

/** How many rows of a file expire, when that is known without reading it. */
interface Count {
  readonly total: number;
  readonly expired: number;
}

/** Milliseconds of a date or timestamp as a file's statistics, partition path or JSON line writes it. */
function instantMillis(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value === '' || value === NULL_PARTITION) return undefined;
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return Date.parse(`${value}T00:00:00Z`);
  // Partition text "2025-01-31 12:00:00.000000" (UTC), stats and JSON "2025-01-31T12:00:00.123456Z".
  const iso =
    /^\d{4}-\d{2}-\d{2} \d/.test(value) && !/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? `${value.replace(' ', 'T')}Z` : value;
  const micros = isoMicros(iso);
  if (micros !== undefined) return Math.floor(micros / 1000);
  const parsed = Date.parse(iso);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/** The date column's physical type from a Delta schema field, for the stats of rewritten files. */
function physicalOf(field: DeltaField): PhysicalType {
  const type = field.type;
  if (typeof type !== 'string') return { kind: 'json' };
  const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(type);
  if (decimal) return { kind: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) };
  switch (type as string) {
    case 'long':
    case 'integer':
    case 'short':
    case 'byte':
      return { kind: 'int64' };
    case 'double':
    case 'float':
      return { kind: 'float64' };
    case 'boolean':
      return { kind: 'boolean' };
    case 'date':
      return { kind: 'date' };
    case 'timestamp':
    case 'timestamp_ntz':
      return { kind: 'timestamp' };
    case 'string':
      return { kind: 'string' };
    default:
      return { kind: 'json' };
  }
}

/** The partition folder of a file (`dt=2025-01-31/region=eu/`), or '' at the root. */
function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash + 1);
}

/**
 * Removes from a lake table, through a normal commit, the rows whose date is older than the
 * retention, deletes quarantine files past it, and (Delta) deletes files removed longer ago than the
 * vacuum delay. Delta: one commit of `remove` actions (and `add`s of rewritten files); plain tables:
 * one log entry whose removed files are deleted at publish, as an overwrite does. A dry run reads
 * only and reports the same counts.
 */
export async function enforceRetention(options: RetentionOptions): Promise<RetentionReport> {
  if (!Number.isInteger(options.retentionDays) || options.retentionDays <= 0) {
    throw new RuntimeError('config', `retentionDays must be a positive whole number, not ${options.retentionDays}`);
  }
  const now = options.now ?? new Date();
  const cutoff = now.getTime() - options.retentionDays * DAY;
  const ownWorkDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'cf-retention-')));
  await mkdir(workDir, { recursive: true });
  const run = new RetentionRun(options, now, cutoff, workDir);
  try {
    return await run.enforce();
  } finally {
    run.close();
    if (ownWorkDir) await rm(workDir, { recursive: true, force: true });
  }
}

/** The work of one enforcement: one DuckDB (opened on first need) and one scratch folder. */
class RetentionRun {
  private engine: { connection: DuckDBConnection; close: () => void } | undefined;
  private counter = 0;
  private readonly token = `retention-${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly options: RetentionOptions,
    private readonly now: Date,
    private readonly cutoff: number,
    private readonly workDir: string,
  ) {}

  close(): void {
    this.engine?.close();
    this.engine = undefined;
  }

  private async connection(): Promise<DuckDBConnection> {
    this.engine ??= await openEngine({ tempDirectory: join(this.workDir, 'spill') });
    return this.engine.connection;
  }

  private get expiredSql(): string {
    return `${quoteIdent(this.options.dateColumn)} < CAST(${quoteLiteral(new Date(this.cutoff).toISOString())} AS TIMESTAMPTZ)`;
  }

  async enforce(): Promise<RetentionReport> {
    const { store, format, dryRun } = this.options;
    const base = {
      location: store.url,
      format,
      dateColumn: this.options.dateColumn,
      retentionDays: this.options.retentionDays,
      cutoff: new Date(this.cutoff).toISOString(),
      dryRun: dryRun === true,
    };
    // A concurrent commit that removed one of the same files (a merge, an overwrite): plan again on top of it.
    let table: Awaited<ReturnType<RetentionRun['delta']>> | undefined;
    for (let attempt = 1; table === undefined; attempt++) {
      try {
        table = format === 'delta' ? await this.delta() : await this.plain();
      } catch (error) {
        if (!(error instanceof RuntimeError && error.code === 'conflict') || attempt >= CONFLICT_ATTEMPTS) throw error;
      }
    }
    const quarantine = await this.quarantine();
    const rowsExpired = [...table.filesRemoved, ...table.filesRewritten].reduce((sum, f) => sum + f.rowsExpired, 0);
    return { ...base, ...table, rowsExpired, quarantine };
  }

  /** Whether a file's rows all expire, none do, or it must be read: by partition value, then by statistics. */
  private countWithoutReading(file: TableFile): Count | undefined {
    const { dateColumn, derivedDt } = this.options;
    const rows = file.stats?.numRecords;
    for (const [key, value] of Object.entries(file.partitionValues)) {
      if (key !== dateColumn && !(key === 'dt' && derivedDt)) continue;
      const day = instantMillis(value ?? undefined);
      if (day === undefined) return undefined;
      // A derived `dt` is a whole day; a partition on the column itself is the exact value.
      const end = key === 'dt' && key !== dateColumn ? day + DAY : day + 1;
      if (end <= this.cutoff) return rows === undefined ? undefined : { total: rows, expired: rows };
      if (day >= this.cutoff) return { total: rows ?? 0, expired: 0 };
      return undefined;
    }
    const stats = file.stats;
    if (!stats) return undefined;
    if (stats.numRecords === 0) return { total: 0, expired: 0 };
    const lo = instantMillis(stats.minValues[dateColumn]);
    const hi = instantMillis(stats.maxValues[dateColumn]);
    const nulls = stats.nullCount[dateColumn];
    if (nulls === stats.numRecords) return { total: stats.numRecords, expired: 0 };
    if (lo !== undefined && lo >= this.cutoff) return { total: stats.numRecords, expired: 0 };
    // Millisecond statistics: the true maximum may be up to 999 µs later.
    if (hi !== undefined && hi + 1 <= this.cutoff && nulls === 0) {
      return { total: stats.numRecords, expired: stats.numRecords };
    }
    return undefined;
  }

  private async download(path: string): Promise<string> {
    const local = join(this.workDir, `${this.counter++}-${path.split('/').pop()!}`);
    if (!(await this.options.store.download(path, local))) {
      throw new RuntimeError(
        'corrupt',
        `${this.options.store.url}${path} is in the table log but missing from the store`,
      );
    }
    return local;
  }

  /** Counts (and unless a dry run, writes the kept rows of) a parquet file; `out` undefined = count only. */
  private async parquet(local: string, out: string | undefined): Promise<Count> {
    const connection = await this.connection();
    const source = `read_parquet(${quoteLiteral(local)})`;
    const counted = await connection.runAndReadAll(
      `SELECT count(*) AS total, count(*) FILTER (WHERE ${this.expiredSql}) AS expired FROM ${source}`,
    );
    const row = counted.getRowObjectsJS()[0]!;
    const count = { total: Number(row.total), expired: Number(row.expired) };
    if (out !== undefined && count.expired > 0 && count.expired < count.total) {
      const codec = await connection.runAndReadAll(
        `SELECT compression FROM parquet_metadata(${quoteLiteral(local)}) LIMIT 1`,
      );
      const compression = String(codec.getRowObjectsJS()[0]?.compression ?? 'SNAPPY').toLowerCase();
      await connection.run(
        `COPY (SELECT * FROM ${source} WHERE NOT coalesce(${this.expiredSql}, false)) TO ${quoteLiteral(out)} ` +
          `(FORMAT parquet, COMPRESSION ${['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'brotli'].includes(compression) ? compression : 'snappy'})`,
      );
    }
    return count;
  }

  /** JSON lines: the kept lines as they were written, recompressed the same way. */
  private async json(local: string, out: string | undefined): Promise<Count> {
    const raw = await readFile(local);
    const zstd = local.endsWith('.zst') ? await loadZstd() : undefined;
    const text = local.endsWith('.gz')
      ? gunzipSync(raw).toString('utf8')
      : zstd
        ? Buffer.from(zstd.decompress(raw)).toString('utf8')
        : raw.toString('utf8');
    const kept: string[] = [];
    let total = 0;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      total++;
      const value = (JSON.parse(line) as Record<string, unknown>)[this.options.dateColumn];
      const at = instantMillis(value);
      if (at === undefined || at >= this.cutoff) kept.push(line);
    }
    const count = { total, expired: total - kept.length };
    if (out !== undefined && count.expired > 0 && kept.length > 0) {
      const body = Buffer.from(`${kept.join('\n')}\n`, 'utf8');
      await writeFile(out, local.endsWith('.gz') ? gzipSync(body) : zstd ? zstd.compress(body, 3) : body);
    }
    return count;
  }

  /** Avro: decoded with the file's own schema, the kept rows encoded again with the file's codec. */
  private async avro(local: string, out: string | undefined): Promise<Count> {
    const { columns, codec } = await readAvroColumns(local);
    const csv = `${local}.csv`;
    await avroFileToCsv(local, columns, csv);
    const connection = await this.connection();
    const typed = columns.map((c) => ({ column: c, ...avroCsvColumn(c, quoteIdent(c.name)) }));
    const types = typed.map((t) => `${quoteLiteral(t.column.name)}: ${quoteLiteral(t.type)}`).join(', ');
    const values = typed.map((t) => `${t.value} AS ${quoteIdent(t.column.name)}`).join(', ');
    const source =
      `(SELECT ${values} FROM read_csv(${quoteLiteral(csv)}, header = false, delim = ',', quote = '"', escape = '"', ` +
      `nullstr = '', allow_quoted_nulls = false, auto_detect = false, columns = {${types}}))`;
    const counted = await connection.runAndReadAll(
      `SELECT count(*) AS total, count(*) FILTER (WHERE ${this.expiredSql}) AS expired FROM ${source}`,
    );
    const row = counted.getRowObjectsJS()[0]!;
    const count = { total: Number(row.total), expired: Number(row.expired) };
    if (out !== undefined && count.expired > 0 && count.expired < count.total) {
      const dir = join(this.workDir, `avro-${this.counter++}`);
      const files = await avroEncoder.encode({
        connection,
        query: `SELECT *, 0 AS ${PART} FROM ${source} WHERE NOT coalesce(${this.expiredSql}, false)`,
        columns,
        dir,
        filePrefix: 'kept',
        ...(codec === 'snappy' ? { compression: 'snappy' } : codec === 'zstandard' ? { compression: 'zstd' } : {}),
        ...(codec === 'deflate' ? { compression: 'gzip' } : {}),
        targetFileBytes: Number.MAX_SAFE_INTEGER,
        parts: [0],
      });
      if (files.length !== 1) throw new RuntimeError('internal', `rewriting ${local} gave ${files.length} files`);
      await writeFile(out, await readFile(files[0]!.localPath));
    }
    await rm(csv, { force: true });
    return count;
  }

  /** Reads a file: how many rows expire and, unless a dry run, where its kept rows now are (if any). */
  private async readFile(file: TableFile): Promise<Count & { kept?: string }> {
    const local = await this.download(file.path);
    const out = this.options.dryRun ? undefined : `${local}.kept`;
    const format = this.options.format;
    const count =
      format === 'json'
        ? await this.json(local, out)
        : format === 'avro'
          ? await this.avro(local, out)
          : await this.parquet(local, out);
    await rm(local, { force: true });
    return out !== undefined && count.expired > 0 && count.expired < count.total ? { ...count, kept: out } : count;
  }

  /** A new file's path beside the file it replaces, named as this format's files are. */
  private keptPath(file: TableFile): string {
    const name = file.path.split('/').pop()!;
    const ending = /(\.[a-z]+(\.(gz|zst))?)$/.exec(name)?.[1] ?? '';
    return `${folderOf(file.path)}part-${this.token}-${this.counter++}${ending}`;
  }

  /** Sorts a table's files into untouched, removed whole and rewritten; uploads rewritten ones. */
  private async plan(
    files: Iterable<TableFile>,
    upload: (path: string, local: string) => Promise<void>,
    statsOf?: (local: string) => Promise<FileStats | undefined>,
  ): Promise<{ removed: RetentionFile[]; rewritten: RetentionFile[]; added: TableFile[]; remaining: Set<string> }> {
    const removed: RetentionFile[] = [];
    const rewritten: RetentionFile[] = [];
    const added: TableFile[] = [];
    const remaining = new Set<string>();
    for (const file of files) {
      const known = this.countWithoutReading(file);
      const count = known ?? (await this.readFile(file));
      if (count.expired === 0) {
        remaining.add(folderOf(file.path));
        continue;
      }
      const entry = {
        path: file.path,
        size: file.size,
        rowsExpired: count.expired,
        rowsKept: count.total - count.expired,
      };
      if (count.expired >= count.total) {
        removed.push(entry);
        continue;
      }
      rewritten.push(entry);
      remaining.add(folderOf(file.path));
      const kept = (count as { kept?: string }).kept;
      if (kept === undefined) continue;
      const path = this.keptPath(file);
      await upload(path, kept);
      const stats = await statsOf?.(kept);
      added.push({
        path,
        size: (await stat(kept)).size,
        partitionValues: file.partitionValues,
        ...(stats ? { stats } : {}),
      });
      await rm(kept, { force: true });
    }
    return { removed, rewritten, added, remaining };
  }

  private partitionsDropped(removed: readonly RetentionFile[], remaining: ReadonlySet<string>): string[] {
    const folders = new Set(removed.map((f) => folderOf(f.path)).filter((f) => f !== '' && !remaining.has(f)));
    return [...folders].sort();
  }

  private async delta(): Promise<Omit<RetentionReport, 'quarantine' | 'rowsExpired' | keyof ReportBase>> {
    const { store, dryRun } = this.options;
    const log = await DeltaLog.open(store, { tempDirectory: this.workDir });
    const snapshot = await log.snapshot();
    const delayMs = this.options.vacuumDelayMs ?? tombstoneRetention(snapshot.metadata);
    if (snapshot.version < 0 || !snapshot.metadata) {
      return {
        tableVersion: -1,
        committed: false,
        filesRemoved: [],
        filesRewritten: [],
        filesAdded: [],
        partitionsDropped: [],
        vacuum: { delayMs, deleted: [], bytes: 0, waiting: 0 },
      };
    }
    const fields = parseSchemaString(snapshot.metadata.schemaString);
    const partitionColumns = new Set(snapshot.metadata.partitionColumns);
    if (!fields.some((f) => f.name === this.options.dateColumn)) {
      throw new RuntimeError(
        'config',
        `${store.url}: the table has no column "${this.options.dateColumn}" to date its rows for retention`,
      );
    }
    const dataColumns: Column[] = fields
      .filter((f) => !partitionColumns.has(f.name))
      .map((f) => ({ name: f.name, type: 'string', nullable: f.nullable, physical: physicalOf(f) }));
    const files: TableFile[] = [...snapshot.files.values()].map((add) => {
      let stats: Partial<FileStats> | undefined;
      try {
        stats = add.stats ? (JSON.parse(add.stats) as Partial<FileStats>) : undefined;
      } catch {
        stats = undefined;
      }
      return {
        path: decodeDeltaPath(add.path),
        size: add.size,
        partitionValues: add.partitionValues,
        ...(stats && typeof stats.numRecords === 'number'
          ? {
              stats: {
                numRecords: stats.numRecords,
                minValues: stats.minValues ?? {},
                maxValues: stats.maxValues ?? {},
                nullCount: stats.nullCount ?? {},
              },
            }
          : {}),
      };
    });
    const uploaded: string[] = [];
    const plan = await this.plan(
      files,
      async (path, local) => {
        uploaded.push(path);
        await store.putFile(path, local);
      },
      async (local) => (await parquetFileStats(await this.connection(), [local], dataColumns)).get(local),
    );
    let version = snapshot.version;
    let committed = false;
    const at = this.now.getTime();
    if (!dryRun && (plan.removed.length > 0 || plan.rewritten.length > 0)) {
      const actions: DeltaAction[] = [];
      for (const gone of [...plan.removed, ...plan.rewritten]) {
        const add = snapshot.files.get(encodeDeltaPath(gone.path)) ?? snapshot.files.get(gone.path);
        actions.push({
          remove: {
            path: encodeDeltaPath(gone.path),
            deletionTimestamp: at,
            dataChange: true,
            extendedFileMetadata: true,
            partitionValues: add?.partitionValues ?? {},
            size: gone.size,
          },
        });
      }
      for (const file of plan.added) {
        actions.push({
          add: {
            path: encodeDeltaPath(file.path),
            partitionValues: file.partitionValues,
            size: file.size,
            modificationTime: at,
            dataChange: true,
            ...(file.stats ? { stats: statsString(file.stats) } : {}),
          },
        });
      }
      try {
        version = await log.commit(actions, {
          operation: 'DELETE',
          operationParameters: {
            predicate: `${this.options.dateColumn} < '${new Date(this.cutoff).toISOString()}'`,
            retentionDays: this.options.retentionDays,
          },
          readVersion: snapshot.version,
          isBlindAppend: false,
          readsOnlyRemovedFiles: true,
        });
        committed = true;
      } catch (error) {
        // A concurrent commit won: the rewritten files were never named by a commit.
        await store.delete(uploaded);
        throw error;
      }
    }
    const vacuum = await this.vacuum(log, delayMs);
    return {
      tableVersion: version,
      committed,
      filesRemoved: plan.removed,
      filesRewritten: plan.rewritten,
      filesAdded: plan.added.map((f) => f.path),
      partitionsDropped: this.partitionsDropped(plan.removed, plan.remaining),
      vacuum,
    };
  }

  /**
   * Delta's VACUUM: deletes data files no live version names that were removed (or, never committed,
   * written) longer ago than the delay. Files of `_`- and `.`-prefixed folders (the log, quarantine)
   * are not data files.
   */
  private async vacuum(log: DeltaLog, delayMs: number): Promise<RetentionReport['vacuum']> {
    const { store, dryRun } = this.options;
    const snapshot = await log.snapshot();
    const horizon = this.now.getTime() - delayMs;
    const live = new Set([...snapshot.files.keys()].map(decodeDeltaPath));
    const recent = new Set(
      [...snapshot.tombstones.values()]
        .filter((t) => (t.deletionTimestamp ?? 0) > horizon)
        .map((t) => decodeDeltaPath(t.path)),
    );
    const deleted: string[] = [];
    let bytes = 0;
    let waiting = 0;
    for (const object of await store.list('')) {
      if (object.key.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'))) continue;
      if (live.has(object.key)) continue;
      if (recent.has(object.key) || object.lastModified.getTime() > horizon) {
        waiting++;
        continue;
      }
      deleted.push(object.key);
      bytes += object.size;
    }
    if (!dryRun) await store.delete(deleted);
    return { delayMs, deleted, bytes, waiting };
  }

  private async plain(): Promise<Omit<RetentionReport, 'quarantine' | 'rowsExpired' | keyof ReportBase>> {
    const { store, dryRun } = this.options;
    const log = new PlainLog(store);
    const snapshot = await log.snapshot();
    const token = `${this.token}-${this.counter++}`;
    const uploaded: string[] = [];
    const plan = await this.plan(snapshot.files.values(), async (path, local) => {
      uploaded.push(log.uploadKey(path, token));
      await store.putFile(log.uploadKey(path, token), local);
    });
    let version = snapshot.version;
    let committed = false;
    if (!dryRun && (plan.removed.length > 0 || plan.rewritten.length > 0)) {
      const gone = new Set([...plan.removed, ...plan.rewritten].map((f) => f.path));
      version = await log
        .commit(
          {
            readVersion: snapshot.version,
            operation: 'DELETE',
            appId: RETENTION_APP_ID,
            sequence: (snapshot.txns.get(RETENTION_APP_ID) ?? -1) + 1,
            add: plan.added,
            remove: [...snapshot.files.values()].filter((f) => gone.has(f.path)),
            dataChange: true,
            parameters: { retentionDays: String(this.options.retentionDays), dateColumn: this.options.dateColumn },
          },
          token,
        )
        .catch(async (error: unknown) => {
          // Not committed: the staged rewrites are nobody's.
          await store.delete(uploaded);
          throw error;
        });
      committed = true;
    }
    return {
      tableVersion: version,
      committed,
      filesRemoved: plan.removed,
      filesRewritten: plan.rewritten,
      filesAdded: plan.added.map((f) => f.path),
      partitionsDropped: this.partitionsDropped(plan.removed, plan.remaining),
      vacuum: { delayMs: 0, deleted: [], bytes: 0, waiting: 0 },
    };
  }

  /** Quarantine files (one per batch) whose batch was extracted before the cutoff. */
  private async quarantine(): Promise<RetentionReport['quarantine']> {
    const { store, dryRun } = this.options;
    const files: string[] = [];
    let rows = 0;
    for (const object of await store.list('_quarantine/')) {
      if (!object.key.endsWith('.jsonl')) continue;
      const bytes = await store.get(object.key);
      if (bytes === undefined) continue;
      const lines = Buffer.from(bytes)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      let at: number | undefined;
      try {
        at = instantMillis((JSON.parse(lines[0] ?? '{}') as { rejectedAt?: unknown }).rejectedAt);
      } catch {
        at = undefined;
      }
      if ((at ?? object.lastModified.getTime()) >= this.cutoff) continue;
      files.push(object.key);
      rows += lines.length;
    }
    if (!dryRun) await store.delete(files);
    return { files, rows };
  }
}

type ReportBase = Pick<RetentionReport, 'location' | 'format' | 'dateColumn' | 'retentionDays' | 'cutoff' | 'dryRun'>;

/**
 * The column that dates an entity's rows: the incremental key when it is a date or datetime field
 * (the same column the derived `dt` partition comes from), else the extraction time `_extracted_at`.
 */
export function retentionDateColumn(manifest: ConnectorManifest, entityName: string): string {
  const entity = manifest.schema.entities.find((e) => e.name === entityName);
  const key = manifest.schema.incrementalKey;
  const field = key === undefined ? undefined : entity?.fields.find((f) => f.name === key);
  return field && (field.type === 'date' || field.type === 'datetime') ? field.name : EXTRACTED_AT;
}

/** What enforcing a connector's retention is asked to do. */
export interface ConnectorRetentionOptions {
  readonly manifest: ConnectorManifest;
  /** Where `${VAR}` references in the lake path and the S3 settings come from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly dryRun?: boolean;
  readonly now?: Date;
  readonly vacuumDelayMs?: number;
  /** The folder the connector runs in: a relative lake path is relative to it (default: the current folder). */
  readonly workingDir?: string;
  /** A store per table location (default: openStore). */
  readonly openStore?: (location: string) => ObjectStore;
}

/**
 * Enforces governance.retentionDays on every entity table of a connector (see enforceRetention);
 * one report per table.
 */
export async function enforceConnectorRetention(options: ConnectorRetentionOptions): Promise<RetentionReport[]> {
  const { manifest } = options;
  const env = options.env ?? process.env;
  const reports: RetentionReport[] = [];
  for (const entity of manifest.schema.entities) {
    const path = tablePathOf(manifest, entity.name, env);
    const relative = !/^[a-zA-Z][a-zA-Z0-9+.-]+:/.test(path) && !isAbsolute(path);
    const location = relative && options.workingDir !== undefined ? resolve(options.workingDir, path) : path;
    const store = options.openStore ? options.openStore(location) : openStore(location);
    reports.push(
      await enforceRetention({
        store,
        format: manifest.destination.format,
        retentionDays: manifest.governance.retentionDays,
        dateColumn: retentionDateColumn(manifest, entity.name),
        derivedDt: manifest.destination.partitionBy.includes('dt') && !entity.fields.some((f) => f.name === 'dt'),
        ...(options.dryRun ? { dryRun: true } : {}),
        ...(options.now ? { now: options.now } : {}),
        ...(options.vacuumDelayMs !== undefined ? { vacuumDelayMs: options.vacuumDelayMs } : {}),
      }),
    );
  }
  return reports;
}
