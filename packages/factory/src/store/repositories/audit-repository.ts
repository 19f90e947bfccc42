import type { Selectable, Transaction } from 'kysely';
import { canonicalJson } from '../../audit/canonical-json.js';
import { receiptHash, type ReceiptBody } from '../../audit/receipt-hash.js';
import { FactoryError } from '../../errors.js';
import type { AuditReceipt, ReceiptInput } from '../../records/audit.js';
import type { RiskLevel } from '../../records/risk-level.js';
import type { AuditReceiptsTable, StateDatabase } from '../database.js';
import { now, type StoreContext } from '../store-context.js';

/** Signs a receipt's hash: a base64 ed25519 signature and the key's fingerprint. */
export type ReceiptSigner = (hash: string) => { signature: string; keyId: string };

/** The hash-chained audit log (`cf_audit_receipts`, its head in `cf_audit_head`). */
export interface AuditRepository {
  /** Appends one receipt under a lock: reads the head, chains, signs with `sign`, writes row and head. */
  append(input: ReceiptInput, sign?: ReceiptSigner): Promise<AuditReceipt>;
  /** Every receipt in seq order, as stored. */
  all(): Promise<AuditReceipt[]>;
  /** The recorded head (seq and hash of the last receipt), or undefined for an empty log. */
  head(): Promise<{ seq: number; hash: string } | undefined>;
}

export function auditRepository(ctx: StoreContext): AuditRepository {
  const { db, guard } = ctx;
  return {
    append: guard('append audit receipt', (input: ReceiptInput, sign?: ReceiptSigner) =>
      ctx.write(() => db.transaction().execute((trx) => appendIn(ctx, trx, input, sign))),
    ),
    all: guard('read audit log', async () => {
      const rows = await db.selectFrom('cf_audit_receipts').selectAll().orderBy('seq').execute();
      return rows.map(auditReceipt);
    }),
    head: guard('read audit head', async () => {
      const row = await db.selectFrom('cf_audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
      return row && row.seq > 0 ? { seq: row.seq, hash: row.hash } : undefined;
    }),
  };
}

/** Chains one receipt to the head inside a transaction that holds the head (row lock or file lock). */
async function appendIn(
  ctx: StoreContext,
  trx: Transaction<StateDatabase>,
  input: ReceiptInput,
  sign: ReceiptSigner | undefined,
): Promise<AuditReceipt> {
  let query = trx.selectFrom('cf_audit_head').select(['seq', 'hash']).where('id', '=', 1);
  if (ctx.dialect === 'postgres') query = query.forUpdate();
  const head = await query.executeTakeFirst();
  if (!head) {
    throw new FactoryError(
      'internal',
      `state store ${ctx.location}: the audit head row is missing, so receipts cannot be chained; run \`connector-factory audit verify\``,
    );
  }
  // Round-trip details through canonical JSON so the receipt returned is exactly what a reader gets back.
  const details =
    input.details === undefined ? undefined : (JSON.parse(canonicalJson(input.details)) as Record<string, unknown>);
  const body: ReceiptBody = {
    seq: head.seq + 1,
    time: now(),
    prevHash: head.hash,
    action: input.action,
    agent: input.agent,
    actor: input.actor,
    resource: input.resource,
    riskLevel: input.riskLevel,
    inputs: { ...input.inputs },
    outputs: { ...input.outputs },
    result: input.result,
    ...(details !== undefined ? { details } : {}),
  };
  const hash = receiptHash(body);
  const signed = sign?.(hash);
  const receipt: AuditReceipt = { ...body, hash, signature: signed?.signature ?? null, keyId: signed?.keyId ?? null };
  await trx.insertInto('cf_audit_receipts').values(auditRow(receipt)).execute();
  await trx.updateTable('cf_audit_head').set({ seq: receipt.seq, hash }).where('id', '=', 1).execute();
  return receipt;
}

function auditRow(receipt: AuditReceipt): AuditReceiptsTable {
  return {
    seq: receipt.seq,
    time: receipt.time,
    prev_hash: receipt.prevHash,
    hash: receipt.hash,
    action: receipt.action,
    agent: receipt.agent,
    actor: receipt.actor,
    resource: receipt.resource,
    risk_level: receipt.riskLevel,
    inputs: canonicalJson(receipt.inputs),
    outputs: canonicalJson(receipt.outputs),
    result: receipt.result,
    details: receipt.details === undefined ? null : canonicalJson(receipt.details),
    signature: receipt.signature,
    key_id: receipt.keyId,
  };
}

/**
 * A JSON column of a receipt. The log is read to be verified, so text that is no longer JSON (edited by
 * hand) must not stop the reading: it comes back as `{ unparseable: text }`, which fails its hash.
 */
function receiptJson<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    return { unparseable: text } as T;
  }
}

function auditReceipt(row: Selectable<AuditReceiptsTable>): AuditReceipt {
  const details = row.details === null ? undefined : receiptJson<Record<string, unknown>>(row.details);
  return {
    seq: Number(row.seq),
    time: row.time,
    prevHash: row.prev_hash,
    hash: row.hash,
    action: row.action,
    agent: row.agent,
    actor: row.actor,
    resource: row.resource,
    riskLevel: row.risk_level as RiskLevel,
    inputs: receiptJson<Record<string, string>>(row.inputs),
    outputs: receiptJson<Record<string, string>>(row.outputs),
    result: row.result as AuditReceipt['result'],
    ...(details !== undefined ? { details } : {}),
    signature: row.signature,
    keyId: row.key_id,
  };
}
