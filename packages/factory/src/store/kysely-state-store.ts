import type { Selectable, Transaction } from 'kysely';
import { receiptHash, type ReceiptBody } from '../audit/receipt-hash.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { FactoryError } from '../errors.js';
import type { ApprovalsTable, AuditReceiptsTable, DeploymentsTable, StateDatabase } from './database.js';
import type {
  ApprovalRecord,
  ApprovalStatus,
  ApprovalVote,
  AuditReceipt,
  DeploymentPatch,
  DeploymentRecord,
  DeploymentStatus,
  Environment,
  ReceiptInput,
  RiskLevel,
  StateStore,
} from './state-store.js';
import type { StoreBackend } from './store-backend.js';

const now = () => new Date().toISOString();

/** The state store over Kysely: one implementation for SQLite and PostgreSQL. */
export class KyselyStateStore implements StateStore {
  readonly location: string;
  readonly deployments: StateStore['deployments'];
  readonly approvals: StateStore['approvals'];
  readonly audit: StateStore['audit'];

  constructor(private readonly backend: StoreBackend) {
    this.location = backend.location;
    const { db } = backend;
    const guard = <A extends unknown[], R>(what: string, run: (...args: A) => Promise<R>) => this.guard(what, run);

    this.deployments = {
      insert: guard('insert deployment', (record: DeploymentRecord) =>
        backend.write(async () => {
          await db.insertInto('cf_deployments').values(deploymentRow(record)).execute();
        }),
      ),
      get: guard('read deployment', async (id: string) => {
        const row = await db.selectFrom('cf_deployments').selectAll().where('id', '=', id).executeTakeFirst();
        return row && deploymentRecord(row);
      }),
      update: guard('update deployment', (id: string, patch: DeploymentPatch) =>
        backend.write(async () => {
          const row = await db
            .updateTable('cf_deployments')
            .set({ ...deploymentPatchRow(patch), updated_at: now() })
            .where('id', '=', id)
            .returningAll()
            .executeTakeFirst();
          if (!row) throw new FactoryError('not_found', `no deployment ${id} in state store ${this.location}`);
          return deploymentRecord(row);
        }),
      ),
      list: guard(
        'list deployments',
        async (
          filter: { connectorId?: string; statuses?: readonly DeploymentStatus[]; environment?: Environment } = {},
        ) => {
          let query = db.selectFrom('cf_deployments').selectAll();
          if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
          if (filter.statuses !== undefined) {
            if (filter.statuses.length === 0) return [];
            query = query.where('status', 'in', [...filter.statuses]);
          }
          if (filter.environment !== undefined) query = query.where('environment', '=', filter.environment);
          const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
          return rows.map(deploymentRecord);
        },
      ),
    };

    this.approvals = {
      insert: guard('insert approval', (record: ApprovalRecord) =>
        backend.write(async () => {
          await db.insertInto('cf_approvals').values(approvalRow(record)).execute();
        }),
      ),
      get: guard('read approval', async (id: string) => {
        const row = await db.selectFrom('cf_approvals').selectAll().where('id', '=', id).executeTakeFirst();
        return row && approvalRecord(row, now());
      }),
      list: guard('list approvals', async (filter: { status?: ApprovalStatus; resource?: string } = {}) => {
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
      decide: guard('decide approval', (id: string, decision) =>
        backend.write(async () => {
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
        backend.write(async () => {
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

    this.audit = {
      append: guard(
        'append audit receipt',
        (input: ReceiptInput, sign?: (hash: string) => { signature: string; keyId: string }) =>
          backend.write(() => db.transaction().execute((trx) => this.appendIn(trx, input, sign))),
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

  close(): Promise<void> {
    return this.backend.close();
  }

  /** Chains one receipt to the head inside a transaction that holds the head (row lock or file lock). */
  private async appendIn(
    trx: Transaction<StateDatabase>,
    input: ReceiptInput,
    sign: ((hash: string) => { signature: string; keyId: string }) | undefined,
  ): Promise<AuditReceipt> {
    let query = trx.selectFrom('cf_audit_head').select(['seq', 'hash']).where('id', '=', 1);
    if (this.backend.dialect === 'postgres') query = query.forUpdate();
    const head = await query.executeTakeFirst();
    if (!head) {
      throw new FactoryError(
        'internal',
        `state store ${this.location}: the audit head row is missing, so receipts cannot be chained; run \`connector-factory audit verify\``,
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

  /** Database failures become FactoryErrors that name the store; a FactoryError passes through. */
  private guard<A extends unknown[], R>(what: string, run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      try {
        return await run(...args);
      } catch (error) {
        if (error instanceof FactoryError) throw error;
        const message = (error as Error).message;
        const hint = /database is locked|SQLITE_BUSY/.test(message)
          ? ' (another process held the state store too long; try again)'
          : '';
        throw new FactoryError('internal', `state store ${this.location}: ${what} failed: ${message}${hint}`, [], {
          cause: error,
        });
      }
    };
  }
}

function deploymentRow(record: DeploymentRecord): DeploymentsTable {
  return {
    id: record.id,
    connector_id: record.connectorId,
    version: record.version,
    environment: record.environment,
    target: record.target,
    status: record.status,
    package_dir: record.packageDir,
    working_dir: record.workingDir,
    package_digest: record.packageDigest,
    manifest_digest: record.manifestDigest,
    env_names: JSON.stringify(record.envNames),
    instance_id: record.instanceId,
    endpoint: record.endpoint,
    health_url: record.healthUrl,
    previous_deployment_id: record.previousDeploymentId,
    actor: record.actor,
    last_error: record.lastError,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
  };
}

function deploymentPatchRow(patch: DeploymentPatch): Partial<DeploymentsTable> {
  const row: Partial<DeploymentsTable> = {};
  if (patch.status !== undefined) row.status = patch.status;
  if (patch.instanceId !== undefined) row.instance_id = patch.instanceId;
  if (patch.endpoint !== undefined) row.endpoint = patch.endpoint;
  if (patch.healthUrl !== undefined) row.health_url = patch.healthUrl;
  if (patch.lastError !== undefined) row.last_error = patch.lastError;
  if (patch.previousDeploymentId !== undefined) row.previous_deployment_id = patch.previousDeploymentId;
  if (patch.packageDir !== undefined) row.package_dir = patch.packageDir;
  if (patch.packageDigest !== undefined) row.package_digest = patch.packageDigest;
  if (patch.manifestDigest !== undefined) row.manifest_digest = patch.manifestDigest;
  return row;
}

function deploymentRecord(row: Selectable<DeploymentsTable>): DeploymentRecord {
  return {
    id: row.id,
    connectorId: row.connector_id,
    version: row.version,
    environment: row.environment as Environment,
    target: row.target,
    status: row.status as DeploymentStatus,
    packageDir: row.package_dir,
    workingDir: row.working_dir,
    packageDigest: row.package_digest,
    manifestDigest: row.manifest_digest,
    envNames: JSON.parse(row.env_names) as string[],
    instanceId: row.instance_id,
    endpoint: row.endpoint,
    healthUrl: row.health_url,
    previousDeploymentId: row.previous_deployment_id,
    actor: row.actor,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
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
