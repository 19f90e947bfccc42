import { RuntimeError } from '../errors.js';
import { duckdbType, quoteLiteral } from '../engine/duckdb-engine.js';
import { conformValue } from './conform.js';
import type { Column, PhysicalType, TableSchema } from './table-schema.js';

export { CSV_BC_MARK, csvRowObject, formatCsvRow, parseCsvRow, splitCsvRows } from '../records/csv-text.js';

/**
 * Rows handed over as CSV text instead of objects: the columnar hand-over of a bulk read. A source
 * whose own export is CSV (PostgreSQL's `COPY … (FORMAT csv)`) passes the bytes through; the writer
 * spools them and DuckDB's parallel CSV reader parses and casts them, so no row ever becomes a JS
 * object. Rows are RFC 4180: comma-separated, `"` quotes (doubled inside), an unquoted empty field is
 * null and `""` the empty string; `data` holds complete rows only. Values are in the forms DuckDB
 * casts: dates `YYYY-MM-DD`, timestamps in UTC (`2025-01-31 12:00:00.5`, optionally with `+00`: the
 * reader drops any other offset), booleans `t`/`f`/`true`/`false`. DuckDB's CSV reader ignores what
 * follows a date (`0044-03-15 BC` reads as the year 44 AD), so a source must send anything else in a
 * form that fails the cast: a BC value gets CSV_BC_MARK in front (the quarantine shows it without).
 */
export interface CsvPage {
  readonly kind: 'csv';
  readonly data: Buffer;
  /** How many rows `data` holds. */
  readonly rows: number;
  /** The table columns the fields of a row fill, in order. */
  readonly fields: readonly string[];
  /** Values of the table's other columns, the same for every row (the metadata columns). */
  readonly constants: Readonly<Record<string, unknown>>;
  /** Bytes of the longest row, when the source knows (else the page's size is assumed). */
  readonly longestRow?: number;
}

export function isCsvPage(page: unknown): page is CsvPage {
  return typeof page === 'object' && page !== null && (page as { kind?: unknown }).kind === 'csv';
}

/**
 * Column kinds whose CSV text DuckDB casts exactly as the row path conforms the same text. A json
 * column is not one: the row path writes a source's text as a JSON string (`"text"`), DuckDB would
 * keep the text itself.
 */
const CSV_KINDS: ReadonlySet<PhysicalType['kind']> = new Set([
  'string',
  'int64',
  'float64',
  'decimal',
  'boolean',
  'date',
  'timestamp',
]);

/** Whether the named columns of a table can be handed over as CSV (every one of a kind above). */
export function csvCompatible(schema: TableSchema, fields: readonly string[]): boolean {
  return fields.every((name) => {
    const column = schema.columns.find((c) => c.name === name);
    return column !== undefined && CSV_KINDS.has(column.physical.kind);
  });
}

/**
 * The type DuckDB's CSV reader parses a field of this column as. Timestamps are read as TIMESTAMP
 * (UTC) and cast in SQL (csvValueSql): as TIMESTAMPTZ the reader turns text it cannot parse into NULL
 * instead of rejecting the row.
 */
export function csvReadType(physical: PhysicalType): string {
  return physical.kind === 'timestamp' ? 'TIMESTAMP' : duckdbType(physical);
}

/** The SQL value of CSV field `ref` (as read with csvReadType) in its column's type. */
export function csvValueSql(column: Column, ref: string): string {
  return column.physical.kind === 'timestamp' ? `CAST(${ref} AS TIMESTAMPTZ)` : ref;
}

/**
 * The rules the row path applies that a CSV cast does not: a non-nullable column holds no null, a
 * float is finite, a date or timestamp is finite with a four-digit year. Returns SQL conditions on the
 * field, each with the reason a failing row goes to the quarantine (worded as conform.ts words it).
 * Each is true or false, never NULL: a NULL would drop the row from both the table (WHERE NOT …) and
 * the quarantine.
 */
export function csvRowRules(column: Column, ref: string): Array<{ readonly failing: string; readonly reason: string }> {
  const rules: Array<{ failing: string; reason: string }> = [];
  if (!column.nullable)
    rules.push({ failing: `${ref} IS NULL`, reason: `column "${column.name}" is not nullable but the value is null` });
  switch (column.physical.kind) {
    case 'float64':
      rules.push({
        failing: `(${ref} IS NOT NULL AND NOT isfinite(${ref}))`,
        reason: `column "${column.name}": the value is not a finite number`,
      });
      break;
    case 'date':
    case 'timestamp':
      rules.push({
        failing: `(${ref} IS NOT NULL AND (NOT isfinite(${ref}) OR year(${ref}) NOT BETWEEN 1 AND 9999))`,
        reason: `column "${column.name}": the value is not a ${column.physical.kind} between the years 1 and 9999`,
      });
      break;
    default:
      break;
  }
  return rules;
}

/** A SQL literal of a constant column value, conformed like any row value. */
export function constantSql(column: Column, value: unknown): string {
  const result = conformValue(value, column);
  if (!result.ok) throw new RuntimeError('internal', `constant for ${result.reason}`);
  const canonical = result.value;
  if (canonical === null) return `CAST(NULL AS ${duckdbType(column.physical)})`;
  switch (column.physical.kind) {
    case 'timestamp':
      return `make_timestamptz(${String(canonical)})`;
    case 'string':
    case 'json':
      return quoteLiteral(String(canonical));
    default:
      return `CAST(${quoteLiteral(String(canonical))} AS ${duckdbType(column.physical)})`;
  }
}
