import type { KeyObject } from 'node:crypto';
import { FactoryError } from '../errors.js';
import type { AuditReceipt, ReceiptInput, StateStore } from '../store/state-store.js';
import { keyIdOf, verifySignature, type AuditSigner } from './audit-signer.js';
import { DIGEST } from './canonical-json.js';
import { GENESIS_HASH, receiptHash } from './receipt-hash.js';
import { assertNoSecrets } from './secret-guard.js';

/** What is wrong with one receipt (or, for `missing`, the receipt that is not there). */
export type AuditProblemKind =
  | 'edited' // its content does not match its hash
  | 'missing' // deleted: a gap in seq, or the log ends before the recorded head
  | 'out_of_order' // its hash or prevHash places it elsewhere in the chain
  | 'chain_broken' // its prevHash is not the previous receipt's hash
  | 'head_mismatch' // the last receipt is not the one the head records
  | 'unsigned' // no signature where one is expected
  | 'bad_signature'
  | 'unknown_key'; // signed by a key other than the verification keys

export interface AuditProblem {
  readonly seq: number;
  readonly kind: AuditProblemKind;
  readonly message: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  readonly receipts: number;
  /** Some receipt carries a signature. */
  readonly signed: boolean;
  /** Signatures were checked against a public key (else only their presence was). */
  readonly signaturesChecked: boolean;
  /** The first signed receipt, when receipts before it (recorded before signing was configured) are not. */
  readonly signedFrom: number | null;
  readonly keyIds: readonly string[];
  /** The recorded head: keep it elsewhere to notice later that the newest receipts were cut off with it. */
  readonly head: { readonly seq: number; readonly hash: string } | null;
  readonly problems: readonly AuditProblem[];
}

/**
 * The evidence log of every agent action: receipts chained by hash, signed when a key is configured, and
 * verifiable end to end. Receipts are refused when they would carry a secret.
 */
export class AuditLog {
  constructor(
    private readonly store: StateStore,
    private readonly signer?: AuditSigner,
  ) {}

  /** Appends one receipt: the store chains it to the head, this log signs it when it has a key. */
  async record(input: ReceiptInput): Promise<AuditReceipt> {
    for (const [side, digests] of [
      ['inputs', input.inputs],
      ['outputs', input.outputs],
    ] as const) {
      for (const [name, value] of Object.entries(digests)) {
        if (typeof value !== 'string' || !DIGEST.test(value)) {
          throw new FactoryError(
            'internal',
            `refusing to store the ${input.action} receipt: ${side}.${name} is not a sha256:<hex> digest (use digestOf)`,
          );
        }
      }
    }
    const { action, agent, actor, resource, details } = input;
    assertNoSecrets({ action, agent, actor, resource, details }, `the ${action} receipt`);
    const signer = this.signer;
    return this.store.audit.append(input, signer && ((hash) => signer.sign(hash)));
  }

  /**
   * Checks the whole log: every hash, every link, no gap, the recorded head, and the signatures —
   * against `publicKeys`, else the configured signer's key. Every broken receipt is named.
   */
  async verify(publicKeys?: readonly KeyObject[]): Promise<AuditVerification> {
    const receipts = await this.store.audit.all();
    const head = await this.store.audit.head();
    const keys = new Map(
      (publicKeys ?? (this.signer ? [this.signer.publicKey] : [])).map((key) => [keyIdOf(key), key] as const),
    );
    const problems: AuditProblem[] = [];
    const problem = (seq: number, kind: AuditProblemKind, message: string) => problems.push({ seq, kind, message });
    const seqOfHash = new Map(receipts.map((r) => [r.hash, r.seq] as const));

    let expected = 1;
    let previous: AuditReceipt | undefined;
    let previousMoved = false;
    let signedFrom: number | null = null;
    for (const receipt of receipts) {
      const { seq } = receipt;
      let moved = false;
      if (receiptHash(receipt) !== receipt.hash) {
        const recordedAs = originalSeq(receipt, receipts.length);
        moved = recordedAs !== undefined;
        if (recordedAs !== undefined) {
          problem(seq, 'out_of_order', `receipt ${seq} is out of order: it was recorded as receipt ${recordedAs}`);
        } else {
          problem(seq, 'edited', `receipt ${seq} was edited: its content does not match its hash`);
        }
      }
      if (seq > expected) {
        const gap = seq - 1 === expected ? `receipt ${expected} is` : `receipts ${expected}–${seq - 1} are`;
        problem(expected, 'missing', `${gap} missing (deleted): receipt ${seq} follows receipt ${expected - 1}`);
      } else if (receipt.prevHash !== (previous?.hash ?? GENESIS_HASH) && !moved && !previousMoved) {
        // Where its prevHash points now: another receipt means the two were swapped, none means a rewrite.
        const predecessor = receipt.prevHash === GENESIS_HASH ? 0 : seqOfHash.get(receipt.prevHash);
        if (predecessor !== undefined) {
          problem(
            seq,
            'out_of_order',
            `receipt ${seq} is out of order: it chains to receipt ${predecessor}, not ${seq - 1}`,
          );
        } else {
          problem(
            seq,
            'chain_broken',
            `receipt ${seq} does not chain to receipt ${seq - 1}: its prevHash is not that receipt's hash ` +
              `(receipt ${seq - 1} was rewritten, or a receipt was removed or inserted between them)`,
          );
        }
      }

      if (receipt.signature !== null) {
        signedFrom ??= seq;
        if (keys.size > 0) {
          const key = receipt.keyId !== null ? keys.get(receipt.keyId) : undefined;
          if (!key) {
            problem(
              seq,
              'unknown_key',
              `receipt ${seq} is signed by ${receipt.keyId ?? 'no key id'}, not by the verification key`,
            );
          } else if (!verifySignature(receipt.hash, receipt.signature, key)) {
            problem(seq, 'bad_signature', `receipt ${seq} has a bad signature: it was not signed by ${receipt.keyId}`);
          }
        }
      } else if (signedFrom !== null) {
        problem(
          seq,
          'unsigned',
          `receipt ${seq} has no signature, though the receipts from ${signedFrom} on are signed`,
        );
      }
      previous = receipt;
      previousMoved = moved;
      expected = seq + 1;
    }

    const last = previous;
    if (keys.size > 0 && last && signedFrom === null) {
      problem(
        last.seq,
        'unsigned',
        `no receipt is signed, yet a verification key was given: the signatures were stripped, or the log was never signed`,
      );
    }
    if (head === undefined && last) {
      problem(last.seq, 'head_mismatch', `the recorded head is empty, but the log has ${receipts.length} receipts`);
    } else if (head && (!last || head.seq > last.seq)) {
      const gap =
        last?.seq === head.seq - 1 ? `receipt ${head.seq} is` : `receipts ${(last?.seq ?? 0) + 1}–${head.seq} are`;
      problem((last?.seq ?? 0) + 1, 'missing', `${gap} missing (deleted): the recorded head is receipt ${head.seq}`);
    } else if (head && last && (head.seq < last.seq || head.hash !== last.hash)) {
      problem(
        last.seq,
        'head_mismatch',
        head.seq < last.seq
          ? `${head.seq + 1 === last.seq ? `receipt ${last.seq} comes` : `receipts ${head.seq + 1}–${last.seq} come`} after the recorded head (receipt ${head.seq}): added outside the log`
          : `receipt ${last.seq} is not the receipt the head records (it was replaced)`,
      );
    }

    problems.sort((a, b) => a.seq - b.seq);
    return {
      ok: problems.length === 0,
      receipts: receipts.length,
      signed: signedFrom !== null,
      signaturesChecked: keys.size > 0,
      signedFrom: signedFrom !== null && signedFrom > (receipts[0]?.seq ?? 1) ? signedFrom : null,
      keyIds: [...keys.keys()],
      head: head ?? null,
      problems,
    };
  }
}

/** How far from its place a moved receipt is looked for: reordering is local, and the search costs a hash a step. */
const MOVE_SEARCH = 1000;

/** The seq a receipt whose hash no longer matches was recorded under, when only its seq was changed. */
function originalSeq(receipt: AuditReceipt, count: number): number | undefined {
  for (let distance = 1; distance <= Math.min(MOVE_SEARCH, count); distance++) {
    for (const seq of [receipt.seq - distance, receipt.seq + distance]) {
      if (seq >= 1 && receiptHash({ ...receipt, seq }) === receipt.hash) return seq;
    }
  }
  return undefined;
}
