import type { KeyObject } from 'node:crypto';
import { FactoryError } from '../errors.js';
import type { AuditReceipt, ReceiptInput } from '../records/index.js';
import type { StateStore } from '../store/state-store.js';
import { keyIdOf, verifySignature, type AuditSigner } from './audit-signer.js';
import { DIGEST } from './canonical-json.js';
import { GENESIS_HASH, receiptHash } from './receipt-hash.js';
import { assertNoSecrets, redactDetails } from './secret-guard.js';

/** What is wrong with one receipt (or, for `missing`, the receipt that is not there). */
export type AuditProblemKind =
  | 'edited' // its content does not match its hash
  | 'missing' // deleted: a gap in seq, or the log ends before the recorded head
  | 'out_of_order' // its hash or prevHash places it elsewhere in the chain
  | 'chain_broken' // its prevHash is not the previous receipt's hash
  | 'head_mismatch' // the last receipt is not the one the head records
  | 'unsigned' // no signature where one is expected
  | 'bad_signature'
  | 'unknown_key' // signed by a key other than the verification keys
  | 'rewritten'; // the head kept elsewhere (`verify --head`) is no longer in the log where it was

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
  /** The head kept elsewhere that this verification checked (`verify --head`), and whether it is still there. */
  readonly anchor: { readonly hash: string; readonly seq: number | null; readonly found: boolean } | null;
  readonly problems: readonly AuditProblem[];
}

/** A head an operator kept elsewhere (`audit head`): its hash, and the receipt's seq when known. */
export interface AuditAnchor {
  readonly hash: string;
  readonly seq?: number;
}

/** Parses `<hash>`, `sha256:<hash>` or `<seq>:<hash>` as `audit head` prints it; undefined when it is none of them. */
export function parseAuditAnchor(text: string): AuditAnchor | undefined {
  const match = /^(?:(\d+):)?(?:sha256:)?([0-9a-f]{64})$/i.exec(text.trim());
  if (!match) return undefined;
  return { hash: match[2]!.toLowerCase(), ...(match[1] !== undefined ? { seq: Number(match[1]) } : {}) };
}

/**
 * The evidence log of every agent action: receipts chained by hash, signed when a key is configured, and
 * verifiable end to end. A success's receipt is refused when it would carry a secret; a failure's
 * details are redacted, so every failed action leaves its receipt.
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
    // A failed or refused action is always recorded: its details (the error, which may quote a
    // connection string) are redacted rather than refused. A success's details are the agent's own
    // facts, and a secret there is a bug.
    const details =
      input.result === 'success' || input.details === undefined ? input.details : redactDetails(input.details);
    const { action, agent, actor, resource } = input;
    assertNoSecrets({ action, agent, actor, resource, details }, `the ${action} receipt`);
    const signer = this.signer;
    return this.store.audit.append(
      details === undefined ? input : { ...input, details },
      signer && ((hash) => signer.sign(hash)),
    );
  }

  /**
   * Checks the whole log: every hash, every link, no gap, the recorded head, and the signatures —
   * against `publicKeys`, else the configured signer's key. With `head` (a head kept elsewhere), also
   * that this receipt is still in the log at its place, so nothing up to it was rewritten. Every broken
   * receipt is named.
   */
  async verify(publicKeys?: readonly KeyObject[], options: { head?: AuditAnchor } = {}): Promise<AuditVerification> {
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
    const since = publicKeys === undefined ? this.signer?.signingSince : undefined;
    if (keys.size > 0 && last && signedFrom === null) {
      if (since === undefined) {
        problem(
          last.seq,
          'unsigned',
          `no receipt is signed, yet a verification key was given: the signatures were stripped, or the log was never signed`,
        );
      } else {
        // The default key: a log recorded before it existed is unsigned, and intact. A receipt recorded
        // after it was created carries a signature, unless someone rewrote the log without the key.
        const after = receipts.find((receipt) => Date.parse(receipt.time) > since.getTime());
        if (after) {
          problem(
            after.seq,
            'unsigned',
            `no receipt is signed, yet receipt ${after.seq} was recorded (${after.time}) after signing began ` +
              `(${since.toISOString()}): the log was rewritten without the signing key`,
          );
        }
      }
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

    let anchor: AuditVerification['anchor'] = null;
    if (options.head) {
      const kept = options.head;
      const found = receipts.find((receipt) => receipt.hash === kept.hash);
      const where = `the head you kept (${kept.seq !== undefined ? `receipt ${kept.seq}, ` : ''}${kept.hash.slice(0, 12)}…)`;
      if (!found) {
        problem(
          kept.seq ?? last?.seq ?? 0,
          'rewritten',
          `${where} is no longer in the log: the receipts up to it were rewritten or deleted`,
        );
      } else if (kept.seq !== undefined && found.seq !== kept.seq) {
        problem(found.seq, 'rewritten', `${where} is now receipt ${found.seq}: the log was renumbered`);
      }
      anchor = { hash: kept.hash, seq: found?.seq ?? null, found: found !== undefined };
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
      anchor,
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
