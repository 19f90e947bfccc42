import { newRecord, type Row } from './record.js';

/**
 * CSV text as PostgreSQL's COPY writes it and the lake writer's CSV pages read it: RFC 4180 with an empty
 * unquoted field for NULL and a quoted empty string for ''.
 */

/** What a source puts before a date or timestamp it cannot write as DuckDB reads it (a BC value). */
export const CSV_BC_MARK = 'BC:';

/** The fields of one CSV row: for the quarantine copy of a row DuckDB rejected. */
export function parseCsvRow(line: string): (string | null)[] {
  const fields: (string | null)[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = line.indexOf('"', i);
        if (close < 0) {
          value += line.slice(i);
          i = line.length;
          break;
        }
        value += line.slice(i, close);
        if (line[close + 1] === '"') {
          value += '"';
          i = close + 2;
        } else {
          i = close + 1;
          break;
        }
      }
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma < 0 ? line.length : comma;
      fields.push(end === i ? null : line.slice(i, end));
      i = end;
    }
    if (line[i] !== ',') return fields;
    i++;
  }
}

/** One CSV row (as CsvPage reads them) of fields, with its newline. */
export function formatCsvRow(values: readonly (string | null)[]): string {
  const field = (v: string | null) =>
    v === null ? '' : v === '' || /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
  return `${values.map(field).join(',')}\n`;
}

/** Splits CSV text into rows (without their newlines) at newlines outside quotes. */
export function splitCsvRows(text: string): string[] {
  const rows: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) quoted = !quoted;
    else if (ch === 0x0a && !quoted) {
      rows.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (start < text.length) rows.push(text.slice(start));
  return rows;
}

/** A row object from CSV fields, by field name. */
export function csvRowObject(fields: readonly string[], values: readonly (string | null)[]): Row {
  const row = newRecord();
  fields.forEach((name, i) => (row[name] = values[i] ?? null));
  return row;
}
