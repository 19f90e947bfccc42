import type { ColumnType } from 'kysely';

/**
 * The tables of the state store as Kysely sees them. Both dialects share them: timestamps are ISO-8601
 * UTC text (which sorts in time order), JSON values are text, so SQLite and PostgreSQL hold the same bytes.
 */
export interface StateDatabase {
  cf_deployments: DeploymentsTable;
  cf_approvals: ApprovalsTable;
  cf_approval_votes: ApprovalVotesTable;
  cf_audit_receipts: AuditReceiptsTable;
  cf_audit_head: AuditHeadTable;
  cf_health_checks: HealthChecksTable;
  cf_metric_snapshots: MetricSnapshotsTable;
  cf_alerts: AlertsTable;
  cf_drift_reports: DriftReportsTable;
  cf_certifications: CertificationsTable;
  cf_connector_registry: ConnectorRegistryTable;
}

export interface DeploymentsTable {
  id: string;
  connector_id: string;
  version: string;
  environment: string;
  target: string;
  status: string;
  package_dir: string;
  working_dir: string;
  package_digest: string;
  manifest_digest: string;
  /** JSON array of names */
  env_names: string;
  instance_id: string | null;
  endpoint: string | null;
  health_url: string | null;
  previous_deployment_id: string | null;
  actor: string;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface ApprovalsTable {
  id: string;
  action: string;
  resource: string;
  risk_level: string;
  /** JSON object */
  evidence: string;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  status: string;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
}

export interface ApprovalVotesTable {
  approval_id: string;
  actor: string;
  voted_at: string;
  reason: string | null;
}

export interface AuditReceiptsTable {
  seq: number;
  time: string;
  prev_hash: string;
  hash: string;
  action: string;
  agent: string;
  actor: string;
  resource: string;
  risk_level: string;
  /** JSON object of digests */
  inputs: string;
  outputs: string;
  result: string;
  /** JSON object, or null when the receipt has no details */
  details: string | null;
  signature: string | null;
  key_id: string | null;
}

/** One row (id 1): seq and hash of the last receipt; seq 0 and the genesis hash for an empty log. */
export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface HealthChecksTable {
  deployment_id: string;
  time: string;
  /** 1 healthy, 0 not (an integer in both dialects) */
  healthy: number;
  latency_ms: number;
  reason: string | null;
}

export interface MetricSnapshotsTable {
  deployment_id: string;
  time: string;
  /** JSON object */
  metrics: string;
}

export interface AlertsTable {
  id: string;
  deployment_id: string;
  connector_id: string;
  key: string;
  severity: string;
  state: string;
  message: string;
  /** JSON object */
  details: string;
  first_at: string;
  last_at: string;
  resolved_at: string | null;
}

export interface DriftReportsTable {
  id: string;
  connector_id: string;
  deployment_id: string;
  time: string;
  classification: string;
  /** JSON array of objects */
  changes: string;
  action: string;
  proposed_version: string | null;
  proposed_manifest_path: string | null;
}

export interface CertificationsTable {
  deployment_id: string;
  connector_id: string;
  version: string;
  state: string;
  /** bigint: SQLite returns a number, PostgreSQL a string */
  window_ms: ColumnType<number | string, number, number>;
  monitoring_since: string | null;
  reason: string | null;
  decided_by: string | null;
  updated_at: string;
}

/** Primary key (connector_id, version). */
export interface ConnectorRegistryTable {
  connector_id: string;
  version: string;
  deployment_id: string;
  manifest_digest: string;
  /** JSON object */
  evidence: string;
  certifier: string;
  certified_at: string;
}
