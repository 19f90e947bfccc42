import type { Insertable, Selectable, Transaction } from 'kysely';
import { receiptHash, type ReceiptBody } from '../audit/receipt-hash.js';
import { canonicalJson } from '../audit/canonical-json.js';
import { FactoryError } from '../errors.js';
import type {
  AlertsTable,
  ApprovalsTable,
  AuditReceiptsTable,
  CertificationsTable,
  ConnectorRegistryTable,
  DeploymentsTable,
  DriftReportsTable,
  HealthChecksTable,
  MetricSnapshotsTable,
  StateDatabase,
} from './database.js';
import type {
  AlertPatch,
  AlertRecord,
  AlertSeverity,
  AlertState,
  ApprovalRecord,
  ApprovalStatus,
  ApprovalVote,
  AuditReceipt,
  CertificationPatch,
  CertificationRecord,
  CertificationState,
  DeploymentPatch,
  DeploymentRecord,
  DeploymentStatus,
  DriftClassification,
  DriftReport,
  Environment,
  HealthCheckRecord,
  MetricsSnapshot,
  ReceiptInput,
  RegistryEntry,
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
  readonly monitor: StateStore['monitor'];
  readonly alerts: StateStore['alerts'];
  readonly drift: StateStore['drift'];
  readonly certifications: StateStore['certifications'];
  readonly registry: StateStore['registry'];

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

    this.monitor = {
      recordCheck: guard('record health check', (check: HealthCheckRecord) =>
        backend.write(async () => {
          await db.insertInto('cf_health_checks').values(healthCheckRow(check)).execute();
        }),
      ),
      checks: guard('read health checks', async (deploymentId: string, since: string) => {
        const rows = await db
          .selectFrom('cf_health_checks')
          .selectAll()
          .where('deployment_id', '=', deploymentId)
          .where('time', '>=', since)
          .orderBy('time')
          .execute();
        return rows.map(healthCheckRecord);
      }),
      saveMetrics: guard('save metrics snapshot', (snapshot: MetricsSnapshot) =>
        backend.write(async () => {
          await db.insertInto('cf_metric_snapshots').values(metricsRow(snapshot)).execute();
        }),
      ),
      latestMetrics: guard('read latest metrics', async (deploymentId: string) => {
        const row = await db
          .selectFrom('cf_metric_snapshots')
          .selectAll()
          .where('deployment_id', '=', deploymentId)
          .orderBy('time', 'desc')
          .limit(1)
          .executeTakeFirst();
        return row && metricsSnapshot(row);
      }),
      metricsSince: guard('read metrics', async (deploymentId: string, since: string) => {
        const rows = await db
          .selectFrom('cf_metric_snapshots')
          .selectAll()
          .where('deployment_id', '=', deploymentId)
          .where('time', '>=', since)
          .orderBy('time')
          .execute();
        return rows.map(metricsSnapshot);
      }),
    };

    this.alerts = {
      insert: guard('insert alert', (record: AlertRecord) =>
        backend.write(async () => {
          await db.insertInto('cf_alerts').values(alertRow(record)).execute();
        }),
      ),
      update: guard('update alert', (id: string, patch: AlertPatch) =>
        backend.write(async () => {
          const set = alertPatchRow(patch);
          // An empty patch still answers with the record (and still fails for a missing id).
          const row =
            Object.keys(set).length === 0
              ? await db.selectFrom('cf_alerts').selectAll().where('id', '=', id).executeTakeFirst()
              : await db.updateTable('cf_alerts').set(set).where('id', '=', id).returningAll().executeTakeFirst();
          if (!row) throw new FactoryError('not_found', `no alert ${id} in state store ${this.location}`);
          return alertRecord(row);
        }),
      ),
      firing: guard('read firing alert', async (deploymentId: string, key: string) => {
        const row = await db
          .selectFrom('cf_alerts')
          .selectAll()
          .where('deployment_id', '=', deploymentId)
          .where('key', '=', key)
          .where('state', '=', 'firing')
          .orderBy('first_at', 'desc')
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        return row && alertRecord(row);
      }),
      list: guard(
        'list alerts',
        async (filter: { deploymentId?: string; connectorId?: string; state?: AlertState } = {}) => {
          let query = db.selectFrom('cf_alerts').selectAll();
          if (filter.deploymentId !== undefined) query = query.where('deployment_id', '=', filter.deploymentId);
          if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
          if (filter.state !== undefined) query = query.where('state', '=', filter.state);
          const rows = await query.orderBy('first_at', 'desc').orderBy('id', 'desc').execute();
          return rows.map(alertRecord);
        },
      ),
    };

    this.drift = {
      insert: guard('insert drift report', (report: DriftReport) =>
        backend.write(async () => {
          await db.insertInto('cf_drift_reports').values(driftRow(report)).execute();
        }),
      ),
      list: guard('list drift reports', async (filter: { connectorId?: string; deploymentId?: string } = {}) => {
        let query = db.selectFrom('cf_drift_reports').selectAll();
        if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
        if (filter.deploymentId !== undefined) query = query.where('deployment_id', '=', filter.deploymentId);
        const rows = await query.orderBy('time', 'desc').orderBy('id', 'desc').execute();
        return rows.map(driftReport);
      }),
    };

    this.certifications = {
      insert: guard('insert certification', (record: CertificationRecord) =>
        backend.write(async () => {
          await db.insertInto('cf_certifications').values(certificationRow(record)).execute();
        }),
      ),
      get: guard('read certification', async (deploymentId: string) => {
        const row = await db
          .selectFrom('cf_certifications')
          .selectAll()
          .where('deployment_id', '=', deploymentId)
          .executeTakeFirst();
        return row && certificationRecord(row);
      }),
      update: guard('update certification', (deploymentId: string, patch: CertificationPatch) =>
        backend.write(async () => {
          // Like a deployment, an updated certification gets a new updatedAt unless the patch sets one.
          const row = await db
            .updateTable('cf_certifications')
            .set({ ...certificationPatchRow(patch), updated_at: patch.updatedAt ?? now() })
            .where('deployment_id', '=', deploymentId)
            .returningAll()
            .executeTakeFirst();
          if (!row) {
            throw new FactoryError(
              'not_found',
              `no certification of deployment ${deploymentId} in state store ${this.location}`,
            );
          }
          return certificationRecord(row);
        }),
      ),
      list: guard('list certifications', async (filter: { connectorId?: string; state?: CertificationState } = {}) => {
        let query = db.selectFrom('cf_certifications').selectAll();
        if (filter.connectorId !== undefined) query = query.where('connector_id', '=', filter.connectorId);
        if (filter.state !== undefined) query = query.where('state', '=', filter.state);
        const rows = await query.orderBy('updated_at', 'desc').orderBy('deployment_id', 'desc').execute();
        return rows.map(certificationRecord);
      }),
    };

    this.registry = {
      put: guard('put registry entry', (entry: RegistryEntry) =>
        backend.write(async () => {
          const row = registryRow(entry);
          await db
            .insertInto('cf_connector_registry')
            .values(row)
            .onConflict((oc) =>
              oc.columns(['connector_id', 'version']).doUpdateSet({
                deployment_id: row.deployment_id,
                manifest_digest: row.manifest_digest,
                evidence: row.evidence,
                certifier: row.certifier,
                certified_at: row.certified_at,
              }),
            )
            .execute();
        }),
      ),
      get: guard('read registry entry', async (connectorId: string, version: string) => {
        const row = await db
          .selectFrom('cf_connector_registry')
          .selectAll()
          .where('connector_id', '=', connectorId)
          .where('version', '=', version)
          .executeTakeFirst();
        return row && registryEntry(row);
      }),
      list: guard('list registry entries', async (connectorId?: string) => {
        let query = db.selectFrom('cf_connector_registry').selectAll();
        if (connectorId !== undefined) query = query.where('connector_id', '=', connectorId);
        const rows = await query
          .orderBy('certified_at', 'desc')
          .orderBy('connector_id', 'desc')
          .orderBy('version', 'desc')
          .execute();
        return rows.map(registryEntry);
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

function healthCheckRow(check: HealthCheckRecord): HealthChecksTable {
  return {
    deployment_id: check.deploymentId,
    time: check.time,
    healthy: check.healthy ? 1 : 0,
    latency_ms: check.latencyMs,
    reason: check.reason,
  };
}

function healthCheckRecord(row: Selectable<HealthChecksTable>): HealthCheckRecord {
  return {
    deploymentId: row.deployment_id,
    time: row.time,
    healthy: Number(row.healthy) === 1,
    latencyMs: Number(row.latency_ms),
    reason: row.reason,
  };
}

function metricsRow(snapshot: MetricsSnapshot): MetricSnapshotsTable {
  return { deployment_id: snapshot.deploymentId, time: snapshot.time, metrics: canonicalJson(snapshot.metrics) };
}

function metricsSnapshot(row: Selectable<MetricSnapshotsTable>): MetricsSnapshot {
  return {
    deploymentId: row.deployment_id,
    time: row.time,
    metrics: JSON.parse(row.metrics) as Record<string, unknown>,
  };
}

function alertRow(record: AlertRecord): AlertsTable {
  return {
    id: record.id,
    deployment_id: record.deploymentId,
    connector_id: record.connectorId,
    key: record.key,
    severity: record.severity,
    state: record.state,
    message: record.message,
    details: canonicalJson(record.details),
    first_at: record.firstAt,
    last_at: record.lastAt,
    resolved_at: record.resolvedAt,
  };
}

function alertPatchRow(patch: AlertPatch): Partial<AlertsTable> {
  const row: Partial<AlertsTable> = {};
  if (patch.severity !== undefined) row.severity = patch.severity;
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.message !== undefined) row.message = patch.message;
  if (patch.details !== undefined) row.details = canonicalJson(patch.details);
  if (patch.lastAt !== undefined) row.last_at = patch.lastAt;
  if (patch.resolvedAt !== undefined) row.resolved_at = patch.resolvedAt;
  return row;
}

function alertRecord(row: Selectable<AlertsTable>): AlertRecord {
  return {
    id: row.id,
    deploymentId: row.deployment_id,
    connectorId: row.connector_id,
    key: row.key,
    severity: row.severity as AlertSeverity,
    state: row.state as AlertState,
    message: row.message,
    details: JSON.parse(row.details) as Record<string, unknown>,
    firstAt: row.first_at,
    lastAt: row.last_at,
    resolvedAt: row.resolved_at,
  };
}

function driftRow(report: DriftReport): DriftReportsTable {
  return {
    id: report.id,
    connector_id: report.connectorId,
    deployment_id: report.deploymentId,
    time: report.time,
    classification: report.classification,
    changes: canonicalJson(report.changes),
    action: report.action,
    proposed_version: report.proposedVersion,
    proposed_manifest_path: report.proposedManifestPath,
  };
}

function driftReport(row: Selectable<DriftReportsTable>): DriftReport {
  return {
    id: row.id,
    connectorId: row.connector_id,
    deploymentId: row.deployment_id,
    time: row.time,
    classification: row.classification as DriftClassification,
    changes: JSON.parse(row.changes) as Record<string, unknown>[],
    action: row.action as DriftReport['action'],
    proposedVersion: row.proposed_version,
    proposedManifestPath: row.proposed_manifest_path,
  };
}

function certificationRow(record: CertificationRecord): Insertable<CertificationsTable> {
  return {
    deployment_id: record.deploymentId,
    connector_id: record.connectorId,
    version: record.version,
    state: record.state,
    window_ms: record.windowMs,
    monitoring_since: record.monitoringSince,
    reason: record.reason,
    decided_by: record.decidedBy,
    updated_at: record.updatedAt,
  };
}

/** The patch's columns except updated_at, which update sets itself. */
function certificationPatchRow(
  patch: CertificationPatch,
): Partial<Omit<Insertable<CertificationsTable>, 'updated_at'>> {
  const row: Partial<Omit<Insertable<CertificationsTable>, 'updated_at'>> = {};
  if (patch.state !== undefined) row.state = patch.state;
  if (patch.monitoringSince !== undefined) row.monitoring_since = patch.monitoringSince;
  if (patch.reason !== undefined) row.reason = patch.reason;
  if (patch.decidedBy !== undefined) row.decided_by = patch.decidedBy;
  return row;
}

function certificationRecord(row: Selectable<CertificationsTable>): CertificationRecord {
  return {
    deploymentId: row.deployment_id,
    connectorId: row.connector_id,
    version: row.version,
    state: row.state as CertificationState,
    windowMs: Number(row.window_ms),
    monitoringSince: row.monitoring_since,
    reason: row.reason,
    decidedBy: row.decided_by,
    updatedAt: row.updated_at,
  };
}

function registryRow(entry: RegistryEntry): ConnectorRegistryTable {
  return {
    connector_id: entry.connectorId,
    version: entry.version,
    deployment_id: entry.deploymentId,
    manifest_digest: entry.manifestDigest,
    evidence: canonicalJson(entry.evidence),
    certifier: entry.certifier,
    certified_at: entry.certifiedAt,
  };
}

function registryEntry(row: Selectable<ConnectorRegistryTable>): RegistryEntry {
  return {
    connectorId: row.connector_id,
    version: row.version,
    deploymentId: row.deployment_id,
    manifestDigest: row.manifest_digest,
    evidence: JSON.parse(row.evidence) as Record<string, unknown>,
    certifier: row.certifier,
    certifiedAt: row.certified_at,
  };
}
