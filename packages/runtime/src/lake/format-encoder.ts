import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from '../engine/duckdb-engine.js';
import type { Compression } from '@connector-factory/ir';
import { PART } from './stage.js';
import { fileStatsFromCopy, type CopyColumnStatistics } from './file-stats.js';
import type { FileStats } from './table-log.js';
import type { Column } from './table-schema.js';

/** What an encoder turns into files. */
export interface EncodeRequest {
  readonly connection: DuckDBConnection;
  /** A SELECT whose columns are `columns` (in order) followed by the partition id `__cf_part`. */
  readonly query: string;
  /** The data columns of the files (partition columns live in the path, not in the files). */
  readonly columns: readonly Column[];
  /** Local folder to write into; files land in `<dir>/__cf_part=<id>/`. */
  readonly dir: string;
  /** File names start with this (unique per batch, so retries never collide with published files). */
  readonly filePrefix: string;
  readonly compression?: Compression;
  /** Roll to a new file when one reaches about this size. */
  readonly targetFileBytes: number;
  /**
   * Parquet: close a row group when DuckDB's in-memory copy of it reaches about this size (each of its
   * threads holds one open row group, so this bounds the encoder's memory whatever the table's width).
   */
  readonly rowGroupBytes?: number;
  /** The partition ids the query yields. */
  readonly parts: readonly number[];
}

/** One file an encoder wrote, and the partition it belongs to. */
export interface EncodedFile {
  readonly localPath: string;
  readonly part: number;
  readonly name: string;
  /** Statistics the encoder got while writing (parquet); otherwise the writer reads the file back. */
  readonly stats?: FileStats;
}

/** A lake file format: parquet, json or avro (delta tables are parquet files plus a log). */
export interface FormatEncoder {
  /** File name ending, e.g. `.parquet`, `.json.gz`, `.avro`. */
  extension(compression: Compression | undefined): string;
  encode(request: EncodeRequest): Promise<EncodedFile[]>;
}

/** Lists what an encoder wrote under `<dir>/__cf_part=<id>/`, in a stable order. */
export async function listEncodedFiles(dir: string): Promise<EncodedFile[]> {
  const files: EncodedFile[] = [];
  let folders: string[];
  try {
    folders = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  for (const folder of folders.sort()) {
    const match = new RegExp(`^${PART}=(\\d+)$`).exec(folder);
    if (!match) continue;
    for (const name of (await readdir(join(dir, folder))).sort()) {
      files.push({ localPath: join(dir, folder, name), part: Number(match[1]), name });
    }
  }
  return files;
}

/**
 * Runs DuckDB's COPY once per partition id with FILE_SIZE_BYTES, since DuckDB cannot combine
 * FILE_SIZE_BYTES with PARTITION_BY (and its JSON writer has no PARTITION_BY at all). The query is
 * materialised once so each partition is a cheap filtered scan.
 */
export async function copyPerPartition(
  request: EncodeRequest,
  select: string,
  formatOptions: string,
  options: { returnStats?: boolean } = {},
): Promise<EncodedFile[]> {
  const { connection, dir, filePrefix, targetFileBytes } = request;
  await mkdir(dir, { recursive: true });
  const stats = new Map<string, FileStats>();
  const copy = async (from: string, part: number) => {
    const result = await connection.runAndReadAll(
      `COPY (SELECT * EXCLUDE (${PART}) FROM ${from}) TO ${quoteLiteral(join(dir, `${PART}=${part}`))} ` +
        `(${formatOptions}, FILENAME_PATTERN ${quoteLiteral(`${filePrefix}-{i}`)}, FILE_SIZE_BYTES ${targetFileBytes}, OVERWRITE_OR_IGNORE true` +
        `${options.returnStats ? ', RETURN_STATS true' : ''})`,
    );
    if (!options.returnStats) return;
    // One row per file written: its path, row count and per-column statistics.
    for (const row of result.getRowObjectsJS()) {
      stats.set(
        String(row.filename),
        fileStatsFromCopy(Number(row.count), row.column_statistics as unknown as CopyColumnStatistics, request.columns),
      );
    }
  };
  const withStats = (files: EncodedFile[]) =>
    files.map((f) => {
      const fileStats = stats.get(f.localPath);
      return fileStats ? { ...f, stats: fileStats } : f;
    });
  if (request.parts.length === 1) {
    // One partition: stream the query straight into the files, nothing materialised.
    await copy(`(${select})`, request.parts[0]!);
    return withStats(await listEncodedFiles(dir));
  }
  const temp = `encode_${filePrefix.replace(/[^A-Za-z0-9]/g, '_')}`;
  await connection.run(`CREATE OR REPLACE TEMP TABLE ${temp} AS ${select}`);
  try {
    for (const part of request.parts) await copy(`(SELECT * FROM ${temp} WHERE ${PART} = ${part})`, part);
  } finally {
    await connection.run(`DROP TABLE IF EXISTS ${temp}`);
  }
  return withStats(await listEncodedFiles(dir));
}
