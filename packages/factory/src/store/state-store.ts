/**
 * The factory's own state: deployments, approvals and the audit log. One interface, two backends
 * (an embedded SQLite file by default, PostgreSQL from a URL for teams) with the same schema and the
 * same migrations. Agents receive a store; nothing holds one globally.
 */

export type Environment = 'dev' | 'staging' | 'prod';
export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';

export type DeploymentStatus =
  | 'building' // install, typecheck, bundle, sandboxed tests
  | 'awaiting_approval' // a CARS gate holds it
  | 'starting' // handed to the target, not healthy yet
  | 'healthy'
  | 'unhealthy' // running, failing its health check
  | 'failed' // never became healthy (build, tests, health) and was not rolled back to
  | 'rolled_back' // failed and the previous version runs again
  | 'superseded' // a newer version of the connector replaced it
  | 'paused' // stopped on purpose, may be resumed (monitor: breaking drift, critical SLO breach)
  | 'stopped'; // undeployed

export interface DeploymentRecord {
  /** `dep_<time>_<random>` */
  readonly id: string;
  readonly connectorId: string;
  readonly version: string;
  readonly environment: Environment;
  readonly target: string; // 'local' | 'kubernetes'
  readonly status: DeploymentStatus;
  /** The deployed copy of the built package (local target); never the user's working copy. */
  readonly packageDir: string;
  /** Folder the connector runs in (relative lake paths resolve against it). */
  readonly workingDir: string;
  /** sha256 of the package's files (path + bytes, sorted), `sha256:<hex>`. */
  readonly packageDigest: string;
  readonly manifestDigest: string;
  /** Names (never values) of the environment variables the connector is given. */
  readonly envNames: readonly string[];
  readonly instanceId: string | null;
  readonly endpoint: string | null;
  readonly healthUrl: string | null;
  readonly previousDeploymentId: string | null;
  readonly actor: string;
  readonly lastError: string | null;
  /** ISO-8601 UTC */
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type DeploymentPatch = Partial<
  Pick<
    DeploymentRecord,
    | 'status'
    | 'instanceId'
    | 'endpoint'
    | 'healthUrl'
    | 'lastError'
    | 'previousDeploymentId'
    | 'packageDir'
    | 'packageDigest'
    | 'manifestDigest'
  >
>;

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

/** One evidence receipt, as an agent hands it to the audit log (the log adds seq, time, hashes, signature). */
export interface ReceiptInput {
  readonly action: string; // 'discover' | 'extract_schema' | 'generate' | 'deploy' | 'approve' | …
  readonly agent: string; // 'discovery' | 'schema' | 'codegen' | 'deploy' | 'cars' | 'monitor' | 'certification' | 'cli'
  readonly actor: string;
  readonly resource: string; // usually the connector id
  readonly riskLevel: RiskLevel;
  /** `sha256:<hex>` digests by name, e.g. { manifest: 'sha256:…', package: 'sha256:…' } */
  readonly inputs: Readonly<Record<string, string>>;
  readonly outputs: Readonly<Record<string, string>>;
  readonly result: 'success' | 'failure' | 'refused';
  /** Short, secret-free facts (a deployment id, an error line, a duration). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditReceipt extends ReceiptInput {
  readonly seq: number;
  readonly time: string;
  readonly prevHash: string;
  readonly hash: string;
  /** base64 ed25519 signature over `hash`, when a signing key is configured. */
  readonly signature: string | null;
  /** sha256 fingerprint of the signing public key. */
  readonly keyId: string | null;
}

/** One health check of a deployment by the Monitor agent. */
export interface HealthCheckRecord {
  readonly deploymentId: string;
  /** ISO-8601 UTC */
  readonly time: string;
  readonly healthy: boolean;
  readonly latencyMs: number;
  /** Why it failed (the connector's /health reason, or why it did not answer); null when healthy. */
  readonly reason: string | null;
}

/** The ConnectorMetrics the Monitor scraped from a deployment at one time (JSON as the monitor shapes it). */
export interface MetricsSnapshot {
  readonly deploymentId: string;
  readonly time: string;
  readonly metrics: Readonly<Record<string, unknown>>;
}

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertState = 'firing' | 'resolved';

/** One alert: a condition (its key) on one deployment, open while it holds, resolved when it clears. */
export interface AlertRecord {
  /** `alr_<time>_<random>` */
  readonly id: string;
  readonly deploymentId: string;
  readonly connectorId: string;
  /** What the condition is, e.g. `slo:freshness`, `auth`, `drift:breaking`, `deploy:rolled_back`. */
  readonly key: string;
  readonly severity: AlertSeverity;
  readonly state: AlertState;
  readonly message: string;
  /** Facts behind it (measured value, objective, window …); never a secret. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly resolvedAt: string | null;
}

export type AlertPatch = Partial<
  Pick<AlertRecord, 'severity' | 'state' | 'message' | 'details' | 'lastAt' | 'resolvedAt'>
>;

export type DriftClassification = 'none' | 'non_breaking' | 'breaking';

/** What the Monitor found when it re-ran the Schema agent against a running connector's source. */
export interface DriftReport {
  /** `drf_<time>_<random>` */
  readonly id: string;
  readonly connectorId: string;
  readonly deploymentId: string;
  readonly time: string;
  readonly classification: DriftClassification;
  /** Each change: { entity, field, change, from, to, breaking, why }. */
  readonly changes: readonly Readonly<Record<string, unknown>>[];
  /** 'paused' (breaking), 'proposed' (a new version was written), 'none'. */
  readonly action: 'paused' | 'proposed' | 'none';
  /** The proposed manifest's version and where it was written, when action is 'proposed'. */
  readonly proposedVersion: string | null;
  readonly proposedManifestPath: string | null;
}

export type CertificationState = 'PENDING' | 'MONITORING' | 'REVIEW' | 'CERTIFIED' | 'FAILED';

/** Where one deployment stands on its way to certification. */
export interface CertificationRecord {
  /** One per deployment. */
  readonly deploymentId: string;
  readonly connectorId: string;
  readonly version: string;
  readonly state: CertificationState;
  /** How long it must run without an SLO breach (default 24 h). */
  readonly windowMs: number;
  /** When MONITORING began (null before). */
  readonly monitoringSince: string | null;
  /** Why it is in this state (the breach that failed it, the reviewer's reason …). */
  readonly reason: string | null;
  readonly decidedBy: string | null;
  readonly updatedAt: string;
}

export type CertificationPatch = Partial<
  Pick<CertificationRecord, 'state' | 'monitoringSince' | 'reason' | 'decidedBy' | 'updatedAt'>
>;

/** The connector registry's entry for a certified version. */
export interface RegistryEntry {
  readonly connectorId: string;
  readonly version: string;
  readonly deploymentId: string;
  readonly manifestDigest: string;
  /** The metrics and SLO results the certifier saw. */
  readonly evidence: Readonly<Record<string, unknown>>;
  readonly certifier: string;
  readonly certifiedAt: string;
}

export interface StateStore {
  /** `sqlite:<path>` or `postgres://…` with the password redacted: for messages. */
  readonly location: string;
  readonly deployments: {
    insert(record: DeploymentRecord): Promise<void>;
    get(id: string): Promise<DeploymentRecord | undefined>;
    update(id: string, patch: DeploymentPatch): Promise<DeploymentRecord>;
    /** Newest first; filtered by connector and/or statuses when given. */
    list(filter?: {
      connectorId?: string;
      statuses?: readonly DeploymentStatus[];
      environment?: Environment;
    }): Promise<DeploymentRecord[]>;
  };
  readonly approvals: {
    insert(record: ApprovalRecord): Promise<void>;
    get(id: string): Promise<ApprovalRecord | undefined>;
    list(filter?: { status?: ApprovalStatus; resource?: string }): Promise<ApprovalRecord[]>;
    /** Sets a pending request's decision; returns false when it was no longer pending (a race). */
    decide(
      id: string,
      decision: { status: 'approved' | 'rejected'; decidedBy: string; decidedAt: string; reason: string | null },
    ): Promise<boolean>;
    /** Adds one approver's vote to a pending, unexpired request; false when it was not pending or that approver already voted. */
    vote(id: string, vote: ApprovalVote): Promise<boolean>;
    /** The votes on a request, oldest first. */
    votes(id: string): Promise<ApprovalVote[]>;
  };
  readonly audit: {
    /** Appends one receipt under a lock: reads the head, chains, signs with `sign`, writes row and head. */
    append(input: ReceiptInput, sign?: (hash: string) => { signature: string; keyId: string }): Promise<AuditReceipt>;
    /** Every receipt in seq order, as stored. */
    all(): Promise<AuditReceipt[]>;
    /** The recorded head (seq and hash of the last receipt), or undefined for an empty log. */
    head(): Promise<{ seq: number; hash: string } | undefined>;
  };
  readonly monitor: {
    recordCheck(check: HealthCheckRecord): Promise<void>;
    /** Checks of a deployment at or after `since`, oldest first. */
    checks(deploymentId: string, since: string): Promise<HealthCheckRecord[]>;
    saveMetrics(snapshot: MetricsSnapshot): Promise<void>;
    /** The newest snapshot of a deployment. */
    latestMetrics(deploymentId: string): Promise<MetricsSnapshot | undefined>;
    /** Snapshots at or after `since`, oldest first (error rates over a window are counter deltas). */
    metricsSince(deploymentId: string, since: string): Promise<MetricsSnapshot[]>;
  };
  readonly alerts: {
    /** Refused when another alert of the deployment with this key is already firing. */
    insert(record: AlertRecord): Promise<void>;
    /** Returns the updated alert; a FactoryError 'not_found' when there is no alert `id`. */
    update(id: string, patch: AlertPatch): Promise<AlertRecord>;
    /** The firing alert of a deployment with this key, if any (at most one fires per key). */
    firing(deploymentId: string, key: string): Promise<AlertRecord | undefined>;
    /** Newest first (by firstAt). */
    list(filter?: { deploymentId?: string; connectorId?: string; state?: AlertState }): Promise<AlertRecord[]>;
  };
  readonly drift: {
    insert(report: DriftReport): Promise<void>;
    /** Newest first (by time). */
    list(filter?: { connectorId?: string; deploymentId?: string }): Promise<DriftReport[]>;
  };
  readonly certifications: {
    insert(record: CertificationRecord): Promise<void>;
    get(deploymentId: string): Promise<CertificationRecord | undefined>;
    /**
     * Returns the updated record, its updatedAt the patch's or else the time of the update; a
     * FactoryError 'not_found' when the deployment has no certification record.
     */
    update(deploymentId: string, patch: CertificationPatch): Promise<CertificationRecord>;
    /** Newest first (by updatedAt). */
    list(filter?: { connectorId?: string; state?: CertificationState }): Promise<CertificationRecord[]>;
  };
  readonly registry: {
    /** Adds (or replaces) the entry of a certified connector version. */
    put(entry: RegistryEntry): Promise<void>;
    get(connectorId: string, version: string): Promise<RegistryEntry | undefined>;
    /** Newest first (by certifiedAt). */
    list(connectorId?: string): Promise<RegistryEntry[]>;
  };
  close(): Promise<void>;
}
