import { lakeRowCount } from '../../src/runtime.js';
import { until } from './live-postgres.js';

/** Waits until the Delta table at `tablePath` holds exactly `rows` rows, or fails naming `what`. */
export async function untilLakeRows(what: string, tablePath: string, rows: number, ms?: number): Promise<void> {
  await until(what, async () => (await lakeRowCount(tablePath, 'delta')) === rows, ms);
}
