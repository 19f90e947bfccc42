import { createHash } from 'node:crypto';
import type { AuditReceipt } from '../records/index.js';
import { canonicalJson } from './canonical-json.js';

/** The prevHash of the first receipt. */
export const GENESIS_HASH = '0'.repeat(64);

/** What a receipt's hash covers: everything but the hash itself and the signature over it. */
export type ReceiptBody = Omit<AuditReceipt, 'hash' | 'signature' | 'keyId'>;

/**
 * The chained hash of one receipt: sha256 hex of the canonical JSON of seq, time, prevHash and the
 * receipt's content (details as null when absent). The store computes it when appending and the audit
 * log recomputes it when verifying, so both must use this one function.
 */
export function receiptHash(body: ReceiptBody): string {
  const covered = {
    seq: body.seq,
    time: body.time,
    prevHash: body.prevHash,
    action: body.action,
    agent: body.agent,
    actor: body.actor,
    resource: body.resource,
    riskLevel: body.riskLevel,
    inputs: body.inputs,
    outputs: body.outputs,
    result: body.result,
    details: body.details ?? null,
  };
  return createHash('sha256').update(canonicalJson(covered)).digest('hex');
}
