import type { SourceState } from '../../source.js';
import { formatLsn, parseLsn } from './lsn.js';

/** The state of a CDC read: where to resume and whether the initial snapshot finished. */
export interface CdcState extends SourceState {
  readonly lsn: string;
  readonly snapshotDone: true;
}

/** A saved state's resume LSN, or undefined when no snapshot finished (then a new snapshot is taken). */
export function savedLsn(state: SourceState | undefined): bigint | undefined {
  if (state === undefined || state.snapshotDone !== true) return undefined;
  return parseLsn(state.lsn, 'the saved state lsn');
}

/** The state handed over with a chunk that ends at `lsn`. */
export function cdcState(lsn: bigint): CdcState {
  return { lsn: formatLsn(lsn), snapshotDone: true };
}
