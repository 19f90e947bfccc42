import type { Selectable } from 'kysely';
import { canonicalJson } from '../../audit/canonical-json.js';
import type { ApprovalRecord, ApprovalStatus, ApprovalVote } from '../../records/approval.js';
import type { RiskLevel } from '../../records/risk-level.js';
import type { ApprovalsTable } from '../database.js';
import { now, type StoreContext } from '../store-context.js';

export interface ApprovalFilter {
  status?: ApprovalStatus;
  resource?: string;
}

export interface ApprovalDecision {
  status: 'approved' | 'rejected';
  decidedBy: string;
  decidedAt: string;
  reason: string | null;
}

/** CARS approval requests and their votes (`cf_approvals`, `cf_approval_votes`). */
export interface ApprovalRepository {
  insert(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  list(filter?: ApprovalFilter): Promise<ApprovalRecord[]>;
  /** Sets a pending request's decision; returns false when it was no longer pending (a race). */
  decide(id: string, decision: ApprovalDecision): Promise<boolean>;
  /** Adds one approver's vote to a pending, unexpired request; false when it was not pending or that approver already voted. */
  vote(id: string, vote: ApprovalVote): Promise<boolean>;
  /** The votes on a request, oldest first. */
  votes(id: string): Promise<ApprovalVote[]>;
}

export function approvalRepository(ctx: StoreContext): ApprovalRepository {
  const { db, guard } = ctx;
  return {
    insert: guard('insert approval', (record: ApprovalRecord) =>
      ctx.write(async () => {
        await db.insertInto('cf_approvals').values(approvalRow(record)).execute();
      }),
    ),
    get: guard('read approval', async (id: string) => {
      const row = await db.selectFrom('cf_approvals').selectAll().where('id', '=', id).executeTakeFirst();
      return row && approvalRecord(row, now());
    }),
    list: guard('list approvals', async (filter: ApprovalFilter = {}) => {
      const at = now();
      let query = db.selectFrom('cf_approvals').selectAll();
      if (filter.resource !== undefined) query = query.where('resource', '=', filter.resource);
      // A pending request past its expiry reads as expired, in the filter as in the record.
      if (filter.status === 'pending') {
        query = query.where('status', '=', 'pending').where('expires_at', '>', at);
      } else if (filter.status === 'expired') {
        query = query.where((eb) =>
          eb.or([eb('status', '=', 'expired'), eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', at)])]),
        );
      } else if (filter.status !== undefined) {
        query = query.where('status', '=', filter.status);
      }
      const rows = await query.orderBy('requested_at', 'desc').orderBy('id', 'desc').execute();
      return rows.map((row) => approvalRecord(row, at));
    }),
    decide: guard('decide approval', (id: string, decision: ApprovalDecision) =>
      ctx.write(async () => {
        const result = await db
          .updateTable('cf_approvals')
          .set({
            status: decision.status,
            decided_by: decision.decidedBy,
            decided_at: decision.decidedAt,
            reason: decision.reason,
          })
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .where('expires_at', '>', decision.decidedAt)
          .executeTakeFirst();
        return result.numUpdatedRows > 0n;
      }),
    ),
    vote: guard('record approval vote', (id: string, vote: ApprovalVote) =>
      ctx.write(async () => {
        // One statement: the vote counts only while the request is pending and unexpired, and an
        // approver's second vote is a no-op (primary key), so concurrent approvers cannot double-count.
        const result = await db
          .insertInto('cf_approval_votes')
          .columns(['approval_id', 'actor', 'voted_at', 'reason'])
          .expression((eb) =>
            eb
              .selectFrom('cf_approvals')
              .select([
                'id',
                // Typed, so PostgreSQL need not infer the parameters' types in a select list.
                eb.cast<string>(eb.val(vote.actor), 'text').as('actor'),
                eb.cast<string>(eb.val(vote.votedAt), 'text').as('voted_at'),
                eb.cast<string | null>(eb.val(vote.reason), 'text').as('reason'),
              ])
              .where('id', '=', id)
              .where('status', '=', 'pending')
              .where('expires_at', '>', vote.votedAt),
          )
          .onConflict((oc) => oc.columns(['approval_id', 'actor']).doNothing())
          .executeTakeFirst();
        return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
      }),
    ),
    votes: guard('read approval votes', async (id: string) => {
      const rows = await db
        .selectFrom('cf_approval_votes')
        .selectAll()
        .where('approval_id', '=', id)
        .orderBy('voted_at')
        .orderBy('actor')
        .execute();
      return rows.map((row) => ({ actor: row.actor, votedAt: row.voted_at, reason: row.reason }));
    }),
  };
}

function approvalRow(record: ApprovalRecord): ApprovalsTable {
  return {
    id: record.id,
    action: record.action,
    resource: record.resource,
    risk_level: record.riskLevel,
    evidence: canonicalJson(record.evidence),
    requested_by: record.requestedBy,
    requested_at: record.requestedAt,
    expires_at: record.expiresAt,
    status: record.status,
    decided_by: record.decidedBy,
    decided_at: record.decidedAt,
    reason: record.reason,
  };
}

function approvalRecord(row: Selectable<ApprovalsTable>, at: string): ApprovalRecord {
  const status = row.status === 'pending' && row.expires_at <= at ? 'expired' : (row.status as ApprovalStatus);
  return {
    id: row.id,
    action: row.action,
    resource: row.resource,
    riskLevel: row.risk_level as RiskLevel,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    reason: row.reason,
  };
}
