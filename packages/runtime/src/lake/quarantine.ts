import type { ObjectStore } from '../stores/object-store.js';
import type { RejectedRow } from './stage.js';

/** Where a batch's rejected records go, next to the table; `_` keeps folder-listing readers out. */
export function quarantineKey(appId: string, sequence: number): string {
  return `_quarantine/${encodeURIComponent(appId)}/${String(sequence).padStart(20, '0')}.jsonl`;
}

/**
 * Where the rejected records of a batch that was not committed (too much of it went to the
 * quarantine) go: beside the batch's own file, so a later run that commits the batch never finds
 * its rows counted twice.
 */
export function failedQuarantineKey(appId: string, sequence: number): string {
  return quarantineKey(appId, sequence).replace(/\.jsonl$/, '.failed.jsonl');
}

/**
 * Writes rejected records with their reasons as JSON lines. The key is fixed per batch, so a rerun of
 * the same batch replaces the file instead of adding a second copy.
 */
export async function writeQuarantine(
  store: ObjectStore,
  appId: string,
  sequence: number,
  rejected: readonly RejectedRow[],
  at: Date,
  key: string = quarantineKey(appId, sequence),
): Promise<string | undefined> {
  if (rejected.length === 0) return undefined;
  const lines = rejected.map((r) =>
    JSON.stringify(
      { batchId: `${appId}@${sequence}`, rejectedAt: at.toISOString(), reason: r.reason, record: r.row },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  );
  await store.put(key, `${lines.join('\n')}\n`);
  return key;
}
