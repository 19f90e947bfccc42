import type { CanonicalValue } from './conform.js';
import type { Column, TableSchema } from './table-schema.js';
import { isDerivedPartition } from './table-schema.js';

/** Hive's name for a null partition value. */
export const NULL_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * Escapes a partition value for a path segment the way Hive and Spark do (percent-encoding of
 * control characters, `"#%'*\/:=?\\{[]^` and DEL), so any value, even `../x` or `a/b=c`, stays inside
 * one folder name and readers decode it back.
 */
export function escapePartitionValue(value: string): string {
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || '"#%\'*/:=?\\{[]^'.includes(ch)) {
      out += `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    } else out += ch;
  }
  // A bare "." or ".." segment would mean the current or parent folder.
  if (out === '.' || out === '..') out = out.replace(/\./g, '%2E');
  return out;
}

/** Inverse of escapePartitionValue. */
export function unescapePartitionValue(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The text a canonical value has in a partition path and in Delta's partitionValues. */
export function partitionText(value: CanonicalValue, column: Column | undefined): string | null {
  if (value === null) return null;
  if (column?.physical.kind === 'timestamp' && typeof value === 'bigint') {
    // Delta's partition-value format for timestamps: "YYYY-MM-DD HH:MM:SS.ffffff" (UTC).
    const millis = Number(value / 1000n);
    const micros = ((value % 1_000_000n) + 1_000_000n) % 1_000_000n;
    return `${new Date(millis).toISOString().slice(0, 19).replace('T', ' ')}.${micros.toString().padStart(6, '0')}`;
  }
  return String(value);
}

/** `dt=2025-01-31/region=eu/` for these partition values (null → Hive's default partition). */
export function partitionPath(columns: readonly string[], values: readonly (string | null)[]): string {
  return columns
    .map(
      (name, i) =>
        `${escapePartitionValue(name)}=${values[i] === null ? NULL_PARTITION : escapePartitionValue(values[i]!)}/`,
    )
    .join('');
}

/** The UTC date of a canonical date/timestamp value, for the derived `dt` partition. */
export function utcDate(value: CanonicalValue, column: Column): string | null {
  if (value === null) return null;
  if (column.physical.kind === 'date' && typeof value === 'string') return value;
  if (column.physical.kind === 'timestamp' && typeof value === 'bigint') {
    return new Date(Number(value / 1000n)).toISOString().slice(0, 10);
  }
  return null;
}

/**
 * How a writer computes `dt` for a row: from the incremental key when it is a date or timestamp
 * column (the row's own date), else from the extraction time of the batch (UTC).
 */
export function dtSource(schema: TableSchema): Column | undefined {
  if (!schema.partitionBy.some((p) => isDerivedPartition(schema, p))) return undefined;
  const key = schema.columns.find((c) => c.name === schema.incrementalKey);
  return key && (key.physical.kind === 'date' || key.physical.kind === 'timestamp') ? key : undefined;
}
