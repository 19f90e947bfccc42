import { setTimeout as delay } from 'node:timers/promises';
import type { AuditLog } from '../audit/audit-log.js';
import { digestOf } from '../audit/canonical-json.js';
import { assertNoSecrets, literalSecretPaths } from '../audit/secret-guard.js';
import { FactoryError, type FactoryErrorCode } from '../errors.js';
import { newRecordId } from '../store/record-id.js';
import type { ApprovalRecord, Environment, RiskLevel } from '../records/index.js';
import type { StateStore } from '../store/state-store.js';
import { osUser, type Actor } from './actor.js';
import { riskOf, type LevelRequirement, type Policy } from './policy.js';

/** What an agent asks CARS to approve. */
export interface ApprovalRequest {
  readonly action: string;
  readonly resource: string;
  readonly riskLevel: RiskLevel;
  /** What a reviewer needs to decide; stored and shown as is, so never a secret. */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly requestedBy: string;
}

export interface WaitOptions {
  /** Give up after this long; default: until the request expires. */
  readonly timeoutMs?: number;
  /** How often the store is read; default 1 s. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * CARS, the risk gate: the risk of an action, the approvals its level needs, and the requests that
 * collect them. Nobody approves their own request; only the level's approver roles approve; an expired
 * request cannot be approved; every request, vote, rejection and refusal is an audit receipt.
 */
export class Cars {
  constructor(
    private readonly store: StateStore,
    readonly policy: Policy,
    private readonly audit: AuditLog,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** The risk level of `action` (in `environment`, for deploy, undeploy and rollback) under the policy. */
  riskOf(action: string, environment?: Environment): RiskLevel {
    return riskOf(this.policy, action, environment);
  }

  /** What the policy asks for at `level`. */
  requirementFor(level: RiskLevel): LevelRequirement {
    return this.policy.levels[level];
  }

  /**
   * Opens an approval request, or returns null when the level needs no approval. The same requester
   * asking again for the same action, resource and evidence gets the pending request back.
   */
  async requestApproval(request: ApprovalRequest): Promise<ApprovalRecord | null> {
    const requirement = this.requirementFor(request.riskLevel);
    if (requirement.approvals === 0) return null;
    const { action, resource, riskLevel, evidence, requestedBy } = request;
    assertNoSecrets(evidence, `the evidence for approving ${action} of ${resource}`);
    const evidenceDigest = digestOf(evidence);
    const pending = await this.store.approvals.list({ status: 'pending', resource });
    const same = pending.find(
      (r) => r.action === action && r.requestedBy === requestedBy && digestOf(r.evidence) === evidenceDigest,
    );
    if (same) return same;

    const now = this.clock();
    const record: ApprovalRecord = {
      id: newRecordId('apr', now),
      action,
      resource,
      riskLevel,
      evidence,
      requestedBy,
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + requirement.expiresAfterMs).toISOString(),
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      reason: null,
    };
    await this.store.approvals.insert(record);
    await this.audit.record({
      action: 'request_approval',
      agent: 'cars',
      actor: requestedBy,
      resource,
      riskLevel,
      inputs: { evidence: evidenceDigest },
      outputs: {},
      result: 'success',
      details: {
        approvalId: record.id,
        for: action,
        approvals: requirement.approvals,
        approverRoles: [...requirement.approverRoles],
        expiresAt: record.expiresAt,
      },
    });
    return record;
  }

  /**
   * Adds `actor`'s approval to a pending request; the request is approved once it has as many distinct
   * approvers as its level needs. Refusals throw FactoryError: `forbidden` (own request, wrong role) or
   * `invalid_input` (decided, expired, already approved by this actor); they are audited too.
   */
  async approve(id: string, actor: Actor, reason?: string): Promise<ApprovalRecord> {
    checkReason(reason);
    const record = await this.get(id);
    const requirement = this.requirementFor(record.riskLevel);
    const receipt = this.receipt('approve', record, actor, reason);
    const refuse = (code: FactoryErrorCode, refusal: string, message: string) =>
      receipt('refused', { refusal }).then(() => Promise.reject(new FactoryError(code, message)));

    const at = this.clock().toISOString();
    const closed = closedMessage(record, at);
    if (closed) return refuse('invalid_input', record.status === 'pending' ? 'expired' : record.status, closed);
    if (actor.name === record.requestedBy) {
      return refuse(
        'forbidden',
        'own_request',
        `${actor.name} requested ${id} and cannot approve it: another ${roleList(requirement)} must`,
      );
    }
    if (!requirement.approverRoles.includes(actor.role)) {
      return refuse(
        'forbidden',
        'role',
        `approving ${record.riskLevel}-risk ${record.action} needs the ${roleList(requirement)} role; ${actor.name} is ${actor.role} (from the ${actor.roleSource})`,
      );
    }
    if (!(await this.store.approvals.vote(id, { actor: actor.name, votedAt: at, reason: reason ?? null }))) {
      const now = await this.get(id);
      const again = closedMessage(now, at);
      if (again) return refuse('invalid_input', now.status, again);
      return refuse(
        'invalid_input',
        'duplicate',
        `${actor.name} has already approved ${id}; ${missing(requirement, await this.store.approvals.votes(id))}`,
      );
    }
    const votes = await this.store.approvals.votes(id);
    if (votes.length >= requirement.approvals) {
      const decided = await this.store.approvals.decide(id, {
        status: 'approved',
        decidedBy: votes.map((vote) => vote.actor).join(', '),
        decidedAt: at,
        reason: reason ?? null,
      });
      const now = await this.get(id);
      // Not decided here: another approver completed it at the same moment (fine), or it was rejected.
      if (!decided && now.status !== 'approved') {
        return refuse('invalid_input', now.status, closedMessage(now, at) ?? `${id} is ${now.status}`);
      }
    }
    await receipt('success', { approvals: votes.length, required: requirement.approvals });
    return this.get(id);
  }

  /**
   * Rejects a pending request: an approver of its level may, and so may its requester (withdrawing it).
   * Refusals throw and are audited as in approve.
   */
  async reject(id: string, actor: Actor, reason?: string): Promise<ApprovalRecord> {
    checkReason(reason);
    const record = await this.get(id);
    const requirement = this.requirementFor(record.riskLevel);
    const receipt = this.receipt('reject', record, actor, reason);
    const refuse = (code: FactoryErrorCode, refusal: string, message: string) =>
      receipt('refused', { refusal }).then(() => Promise.reject(new FactoryError(code, message)));

    const at = this.clock().toISOString();
    const closed = closedMessage(record, at);
    if (closed) return refuse('invalid_input', record.status === 'pending' ? 'expired' : record.status, closed);
    if (actor.name !== record.requestedBy && !requirement.approverRoles.includes(actor.role)) {
      return refuse(
        'forbidden',
        'role',
        `rejecting ${record.riskLevel}-risk ${record.action} needs the ${roleList(requirement)} role (or being its requester); ${actor.name} is ${actor.role} (from the ${actor.roleSource})`,
      );
    }
    const decided = await this.store.approvals.decide(id, {
      status: 'rejected',
      decidedBy: actor.name,
      decidedAt: at,
      reason: reason ?? null,
    });
    if (!decided) {
      const now = await this.get(id);
      return refuse('invalid_input', now.status, closedMessage(now, at) ?? `${id} is ${now.status}`);
    }
    await receipt('success', {});
    return this.get(id);
  }

  /**
   * Waits until a request is approved and returns it. Throws FactoryError('approval_required') when it is
   * rejected, expires, is still pending after `timeoutMs`, or the wait is aborted.
   */
  async waitForApproval(id: string, options: WaitOptions = {}): Promise<ApprovalRecord> {
    const started = Date.now();
    const pollMs = options.pollMs ?? 1_000;
    for (;;) {
      const record = await this.get(id);
      if (record.status === 'approved') return record;
      const closed = closedMessage(record, this.clock().toISOString());
      if (closed) throw new FactoryError('approval_required', closed);
      const waited = Date.now() - started;
      if (options.timeoutMs !== undefined && waited >= options.timeoutMs) {
        throw new FactoryError(
          'approval_required',
          `approval ${id} is still pending after ${formatDuration(options.timeoutMs)}: ` +
            `an approver runs \`connector-factory approvals approve ${id}\`, then run the action again`,
        );
      }
      const left = options.timeoutMs !== undefined ? options.timeoutMs - waited : pollMs;
      try {
        await delay(Math.max(1, Math.min(pollMs, left)), undefined, options.signal ? { signal: options.signal } : {});
      } catch (error) {
        throw new FactoryError('approval_required', `stopped waiting for approval ${id}: the wait was cancelled`, [], {
          cause: error,
        });
      }
    }
  }

  /**
   * The newest approved, unexpired request for `action` on `resource` — when `evidenceDigest` is given,
   * one whose evidence carries it (as a value, such as a package digest, or as the digest of the whole
   * evidence) — so a re-run of an approved action goes ahead without a new request.
   */
  async findApproved(action: string, resource: string, evidenceDigest?: string): Promise<ApprovalRecord | undefined> {
    const now = this.clock().toISOString();
    const approved = await this.store.approvals.list({ status: 'approved', resource });
    return approved.find(
      (record) =>
        record.action === action &&
        record.expiresAt > now &&
        (evidenceDigest === undefined || carries(record.evidence, evidenceDigest)),
    );
  }

  private async get(id: string): Promise<ApprovalRecord> {
    const record = await this.store.approvals.get(id);
    if (!record) {
      throw new FactoryError(
        'not_found',
        `no approval request ${id} in ${this.store.location}; \`connector-factory approvals list\` shows them`,
      );
    }
    return record;
  }

  /** Records the decision (or refusal) of `actor` on `record` as an audit receipt. */
  private receipt(action: 'approve' | 'reject', record: ApprovalRecord, actor: Actor, reason: string | undefined) {
    return (result: 'success' | 'refused', details: Record<string, unknown>) =>
      this.audit.record({
        action,
        agent: 'cars',
        actor: actor.name,
        resource: record.resource,
        riskLevel: record.riskLevel,
        inputs: { evidence: digestOf(record.evidence) },
        outputs: {},
        result,
        details: {
          approvalId: record.id,
          for: record.action,
          ...details,
          ...(reason !== undefined ? { reason } : {}),
          // The actor name is claimed; the OS user beside it shows who claimed it.
          actorSource: actor.source,
          osUser: osUser(),
        },
      });
  }
}

/** Why a request can no longer be decided, or undefined while it is pending and unexpired at `at`. */
function closedMessage(record: ApprovalRecord, at: string): string | undefined {
  if (record.status === 'approved') return `approval ${record.id} was already approved by ${record.decidedBy ?? '?'}`;
  if (record.status === 'rejected') {
    const reason = record.reason !== null ? `: ${record.reason}` : '';
    return `approval ${record.id} was rejected by ${record.decidedBy ?? '?'}${reason}; nothing was done`;
  }
  if (record.status === 'expired' || record.expiresAt <= at) {
    return `approval ${record.id} expired at ${record.expiresAt} without the approvals it needed; run ${record.action} again to request a new one`;
  }
  return undefined;
}

/** A reason is stored and shown to everyone: a credential pasted into it is refused before anything happens. */
function checkReason(reason: string | undefined): void {
  if (reason !== undefined && literalSecretPaths({ reason }).length > 0) {
    throw new FactoryError(
      'invalid_input',
      'the reason looks like it holds a credential; it is stored and shown to everyone',
    );
  }
}

function roleList(requirement: LevelRequirement): string {
  return requirement.approverRoles.join(' or ');
}

function missing(requirement: LevelRequirement, votes: readonly unknown[]): string {
  const left = requirement.approvals - votes.length;
  return left > 0 ? `it needs ${left} more from another ${roleList(requirement)}` : 'it has all the approvals it needs';
}

function carries(evidence: unknown, digest: string): boolean {
  if (digestOf(evidence) === digest) return true;
  const visit = (value: unknown): boolean =>
    value === digest ||
    (Array.isArray(value)
      ? value.some(visit)
      : value !== null && typeof value === 'object' && Object.values(value).some(visit));
  return visit(evidence);
}

function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms < 1000 ? `${ms}ms` : `${Math.round(ms / 1000)}s`;
}
