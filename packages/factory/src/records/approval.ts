import type { RiskLevel } from './risk-level.js';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalRecord {
  /** `apr_<time>_<random>` */
  readonly id: string;
  readonly action: string;
  readonly resource: string;
  readonly riskLevel: RiskLevel;
  /** What a reviewer needs: test results, package digest, diff against the running version … (no secrets). */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** Stored status; a pending request past expiresAt reads as 'expired'. */
  readonly status: ApprovalStatus;
  readonly decidedBy: string | null;
  readonly decidedAt: string | null;
  readonly reason: string | null;
}

/** One approver's vote on a request; a request is approved when it has as many as its risk level needs. */
export interface ApprovalVote {
  readonly actor: string;
  readonly votedAt: string;
  readonly reason: string | null;
}
