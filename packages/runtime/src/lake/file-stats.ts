import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent, quoteLiteral } from '../engine/duckdb-engine.js';
import type { FileStats } from './table-log.js';
import { newRecord } from './record.js';
import { isoMicros } from './spool/row-values.js';
import type { Column } from './table-schema.js';

/** Columns with meaningful min/max for data skipping (not booleans, JSON or long strings). */
function hasMinMax(column: Column): boolean {
  return !['boolean', 'json'].includes(column.physical.kind);
}

/** Strings longer than this get no min/max: a truncated max would have to be rounded up. */
const MAX_STRING_STAT = 32;

function statExpression(column: Column, fn: 'min' | 'max'): string {
  const name = quoteIdent(column.name);
  switch (column.physical.kind) {
    case 'timestamp':
      // Delta stats carry timestamps as ISO-8601 UTC with milliseconds; round outward to stay a bound.
      return fn === 'min'
        ? `strftime(date_trunc('millisecond', ${fn}(${name})), '%Y-%m-%dT%H:%M:%S.%gZ')`
        : `strftime(date_trunc('millisecond', ${fn}(${name})) + CASE WHEN date_trunc('millisecond', ${fn}(${name})) = ${fn}(${name}) THEN INTERVAL 0 MICROSECOND ELSE INTERVAL 1 MILLISECOND END, '%Y-%m-%dT%H:%M:%S.%gZ')`;
    case 'date':
      return `strftime(${fn}(${name}), '%Y-%m-%d')`;
    case 'string':
      return `CASE WHEN length(${fn}(${name})) <= ${MAX_STRING_STAT} THEN ${fn}(${name}) END`;
    case 'int64':
    case 'decimal':
      // As text: exactNumber() decides whether a JSON number can carry it exactly.
      return `CAST(${fn}(${name}) AS VARCHAR)`;
    default:
      return `${fn}(${name})`;
  }
}

/**
 * Per-file statistics (record count, min, max and null count per column), computed by reading the
 * written parquet files back in one DuckDB pass.
 */
export async function parquetFileStats(
  connection: DuckDBConnection,
  files: readonly string[],
  columns: readonly Column[],
): Promise<Map<string, FileStats>> {
  const stats = new Map<string, FileStats>();
  if (files.length === 0) return stats;
  const selects = ['count(*) AS n'];
  columns.forEach((c, i) => {
    selects.push(`count(*) - count(${quoteIdent(c.name)}) AS n${i}`);
    if (hasMinMax(c)) selects.push(`${statExpression(c, 'min')} AS lo${i}`, `${statExpression(c, 'max')} AS hi${i}`);
  });
  const list = `[${files.map(quoteLiteral).join(', ')}]`;
  const reader = await connection.runAndReadAll(
    `SELECT filename, ${selects.join(', ')} FROM read_parquet(${list}, filename = true) GROUP BY filename`,
  );
  for (const row of reader.getRowObjectsJS()) {
    // Keyed by column name: no Object.prototype, so a column named `__proto__` gets its statistics.
    const minValues = newRecord();
    const maxValues = newRecord();
    const nullCount = newRecord() as Record<string, number>;
    columns.forEach((c, i) => {
      nullCount[c.name] = Number(row[`n${i}`]);
      // Integers and decimals only where a JSON number holds them exactly.
      const bound = (value: unknown) =>
        value === null || value === undefined
          ? undefined
          : c.physical.kind === 'int64' || c.physical.kind === 'decimal'
            ? exactNumber(String(value))
            : value;
      const min = bound(row[`lo${i}`]);
      const max = bound(row[`hi${i}`]);
      if (min !== undefined) minValues[c.name] = min;
      if (max !== undefined) maxValues[c.name] = max;
    });
    stats.set(String(row.filename), { numRecords: Number(row.n), minValues, maxValues, nullCount });
  }
  return stats;
}

/**
 * An integer or decimal statistic as a JSON number, only when the number says exactly that value:
 * at most 15 significant digits (a double keeps those through JSON). Beyond that the statistic is
 * left out — readers then scan the file — since a rounded bound could skip rows that match (and
 * readers refuse an int64 bound past 2^63 that rounding produced).
 */
export function exactNumber(text: string): number | undefined {
  const match = /^-?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!match) return undefined;
  const digits = `${match[1]}${match[2] ?? ''}`.replace(/^0+/, '').replace(/0+$/, '');
  return digits.length <= 15 ? Number(text) : undefined;
}

/** What `COPY … (RETURN_STATS true)` reports per column: quoted column name → statistic → text. */
export type CopyColumnStatistics = ReadonlyArray<{
  readonly key: string;
  readonly value: ReadonlyArray<{ readonly key: string; readonly value: string }>;
}>;

/** A statistic's text as Delta wants it (as statExpression computes it), or undefined to leave it out. */
function statValue(column: Column, text: string, fn: 'min' | 'max'): unknown {
  switch (column.physical.kind) {
    case 'timestamp': {
      // `2025-01-02 03:46:39.099999+00` (the engine's zone is UTC); rounded outward to milliseconds.
      const micros = isoMicros(text);
      if (micros === undefined) return undefined;
      const millis = fn === 'min' ? Math.floor(micros / 1000) : Math.ceil(micros / 1000);
      return new Date(millis).toISOString();
    }
    case 'date':
      return text;
    case 'string':
      // DuckDB cuts statistics at 256 characters; only short ones are exact (and useful).
      return text.length <= MAX_STRING_STAT ? text : undefined;
    case 'int64':
    case 'decimal':
      return exactNumber(text);
    case 'float64': {
      const value = Number(text);
      return Number.isFinite(value) ? value : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Per-file statistics from what DuckDB's COPY reported while writing the file, the same values
 * parquetFileStats reads back, without reading the file.
 */
export function fileStatsFromCopy(
  count: number,
  statistics: CopyColumnStatistics,
  columns: readonly Column[],
): FileStats {
  const byKey = new Map(statistics.map((entry) => [entry.key, new Map(entry.value.map((v) => [v.key, v.value]))]));
  const minValues = newRecord();
  const maxValues = newRecord();
  const nullCount = newRecord() as Record<string, number>;
  for (const column of columns) {
    const stats = byKey.get(quoteIdent(column.name)) ?? byKey.get(column.name);
    nullCount[column.name] = Number(stats?.get('null_count') ?? 0);
    if (!stats || !hasMinMax(column)) continue;
    const lo = stats.get('min');
    const hi = stats.get('max');
    const min = lo === undefined ? undefined : statValue(column, lo, 'min');
    const max = hi === undefined ? undefined : statValue(column, hi, 'max');
    if (min !== undefined) minValues[column.name] = min;
    if (max !== undefined) maxValues[column.name] = max;
  }
  return { numRecords: count, minValues, maxValues, nullCount };
}
