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
  close(): Promise<void>;
}
