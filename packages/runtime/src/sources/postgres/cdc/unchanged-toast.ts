import type pg from 'pg';
import type { Row } from '../../../records/record.js';
import { pgError, quoteIdent } from '../postgres-connection.js';
import { rawTextPgTypes } from '../postgres-values.js';
import { setField, type MutableRow } from './cdc-rows.js';
import type { TableShape } from './cdc-table.js';
import type { ToastGap } from './pgoutput-decoder.js';
import { isTransient, retry } from './transient-errors.js';

/**
 * Updates whose unchanged TOAST values pgoutput did not send (no old row: REPLICA IDENTITY other than
 * FULL), with `unchangedToast: 'fetch'`: the values are read back from the table by the replica identity
 * key just before the rows are handed over, in one query per set of missing columns.
 */
export class UnchangedToast {
  private readonly gaps = new WeakMap<Row, ToastGap>();
  private count = 0;

  /** Rows still waiting for values. */
  get pending(): boolean {
    return this.count > 0;
  }

  add(row: Row, gap: ToastGap): void {
    this.gaps.set(row, gap);
    this.count++;
  }

  /** Reads the missing values of `rows` back from the table by the replica identity key. */
  async fill(rows: readonly Row[], shape: TableShape, admin: () => Promise<pg.Client>, url: string): Promise<void> {
    const groups = new Map<
      string,
      { missing: readonly string[]; keyNames: readonly string[]; items: { row: MutableRow; key: readonly string[] }[] }
    >();
    for (const row of rows) {
      const gap = this.gaps.get(row);
      if (!gap) continue;
      this.gaps.delete(row);
      this.count--;
      const id = `${gap.missing.join('\u0000')}\u0001${gap.keyNames.join('\u0000')}`;
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { missing: gap.missing, keyNames: gap.keyNames, items: [] }));
      group.items.push({ row: row as MutableRow, key: gap.key });
    }
    if (groups.size === 0) return;
    // The shared connection comes back after a server restart: retry transient failures a few times.
    const query = async (config: pg.QueryArrayConfig): Promise<unknown[][]> => {
      try {
        return await retry(async () => (await (await admin()).query(config)).rows, {
          retries: 5,
          retryable: isTransient,
          delayMs: (attempt) => 250 * 2 ** attempt,
        });
      } catch (error) {
        throw pgError(error, url, `reading unchanged TOAST values of ${shape.table.sql}`);
      }
    };
    for (const { missing, keyNames, items } of groups.values()) {
      const keyColumns = keyNames.map((name) => shape.columns.get(name)!);
      const columns = missing.map((name) => shape.columns.get(name)!);
      const keyList = keyColumns.map((_, i) => `$${i + 1}::text[]`).join(', ');
      const aliases = keyColumns.map((_, i) => `k${i}`).join(', ');
      const join = keyColumns.map((c, i) => `t.${quoteIdent(c.name)} = k.k${i}::${c.castType}`).join(' AND ');
      const sql = `SELECT k.ord, ${columns.map((c) => `t.${quoteIdent(c.name)}`).join(', ')}
                     FROM ${shape.table.sql} t JOIN unnest(${keyList}) WITH ORDINALITY AS k(${aliases}, ord) ON ${join}`;
      for (let start = 0; start < items.length; start += 1000) {
        const batch = items.slice(start, start + 1000);
        const params = keyColumns.map((_, i) => batch.map((item) => item.key[i]!));
        const found = await query({ text: sql, values: params, rowMode: 'array', types: rawTextPgTypes });
        for (const values of found) {
          const item = batch[Number(values[0]) - 1];
          if (!item) continue;
          columns.forEach((column, i) => {
            const text = values[i + 1] as string | null;
            setField(item.row, column.name, text === null ? null : column.convert(text));
          });
        }
      }
    }
  }
}
