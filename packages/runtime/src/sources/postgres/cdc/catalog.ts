import type pg from 'pg';
import { canonicalPgTypes } from '../postgres-values.js';

/** A catalog query with the canonical type parsers, whatever the client's own (numbers, booleans typed). */
export async function catalog<R extends pg.QueryResultRow>(
  client: pg.Client,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  return (await client.query<R>({ text, values, types: canonicalPgTypes })).rows;
}
