import { mkdir } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { PhysicalType } from '../lake/table-schema.js';

/** Limits for the embedded DuckDB that stages, encodes and merges batches. */
export interface EngineOptions {
  /** Folder for DuckDB's spill files; large batches spill here instead of growing the heap. */
  readonly tempDirectory: string;
  /** DuckDB's memory limit, e.g. '256MB'. */
  readonly memoryLimit?: string;
  readonly threads?: number;
}

/**
 * An in-memory DuckDB with a memory limit and a spill folder, so a writer's peak memory is bounded by
 * configuration, not by table size.
 */
export async function openEngine(options: EngineOptions): Promise<{ connection: DuckDBConnection; close: () => void }> {
  await mkdir(options.tempDirectory, { recursive: true });
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '256MB',
    threads: String(options.threads ?? 2),
    temp_directory: options.tempDirectory,
    preserve_insertion_order: 'false',
  });
  const connection = await instance.connect();
  try {
    // Text without an offset (a CSV timestamp, a partition value) means UTC, whatever the machine's
    // zone; ICU is loaded only once connected, so this cannot go in the instance options.
    // Hand freed memory back to the system early: DuckDB's allocator otherwise keeps up to 128 MB of
    // freed blocks per cache, and a long full refresh's peak RSS climbs (a 10 M-row refresh peaked at
    // 406 MB with the defaults, about 300 MB with these, in the same time).
    // No external file cache: DuckDB would keep the blocks of every file it reads (the stages' spools,
    // each read once and then deleted) in its buffer pool until the memory limit evicts them. A 10 M-row
    // PostgreSQL refresh peaked at 285–289 MB with it (9.5 s), 236–246 MB without (8.8–9.0 s).
    await connection.run(
      "SET TimeZone = 'UTC'; SET allocator_flush_threshold = '4MB'; SET allocator_bulk_deallocation_flush_threshold = '4MB'; " +
        'SET enable_external_file_cache = false',
    );
  } catch (error) {
    connection.closeSync();
    instance.closeSync();
    throw error;
  }
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** `"name"` with embedded quotes doubled: every identifier that reaches SQL goes through this. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `'text'` with embedded quotes doubled. */
export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** The DuckDB type of a physical type. */
export function duckdbType(physical: PhysicalType): string {
  switch (physical.kind) {
    case 'string':
    case 'json':
      return 'VARCHAR';
    case 'int64':
      return 'BIGINT';
    case 'float64':
      return 'DOUBLE';
    case 'decimal':
      return `DECIMAL(${physical.precision},${physical.scale})`;
    case 'boolean':
      return 'BOOLEAN';
    case 'date':
      return 'DATE';
    case 'timestamp':
      return 'TIMESTAMPTZ';
  }
}
