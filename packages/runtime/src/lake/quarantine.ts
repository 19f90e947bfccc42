import type { ObjectStore } from '../stores/object-store.js';
import type { RejectedRow } from './stage.js';

/** Where a batch's rejected records go, next to the table; `_` keeps folder-listing readers out. */
export function quarantineKey(appId: string, sequence: number): string {
  return `_quarantine/${encodeURIComponent(appId)}/${String(sequence).padStart(20, '0')}.jsonl`;
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
): Promise<string | undefined> {
  if (rejected.length === 0) return undefined;
  const key = quarantineKey(appId, sequence);
  const lines = rejected.map((r) =>
    JSON.stringify(
      { batchId: `${appId}@${sequence}`, rejectedAt: at.toISOString(), reason: r.reason, record: r.row },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
    ),
  );
  await store.put(key, `${lines.join('\n')}\n`);
  return key;
}
