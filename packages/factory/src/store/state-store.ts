/**
 * The factory's own state: deployments, approvals, the audit log and what the Monitor and certifier
 * record. One interface of eight repositories (each in `repositories/`), two backends (an embedded SQLite
 * file by default, PostgreSQL from a URL for teams) with the same schema and the same migrations. Agents
 * receive a store; nothing holds one globally. The records it keeps are defined in `records/`, which
 * knows nothing of persistence; they are re-exported here for the store's callers.
 */
import type { AlertRepository } from './repositories/alert-repository.js';
import type { ApprovalRepository } from './repositories/approval-repository.js';
import type { AuditRepository } from './repositories/audit-repository.js';
import type { CertificationRepository } from './repositories/certification-repository.js';
import type { DeploymentRepository } from './repositories/deployment-repository.js';
import type { DriftRepository } from './repositories/drift-repository.js';
import type { MonitorRepository } from './repositories/monitor-repository.js';
import type { RegistryRepository } from './repositories/registry-repository.js';

export type * from '../records/index.js';
export type { AlertFilter, AlertRepository } from './repositories/alert-repository.js';
export type { ApprovalDecision, ApprovalFilter, ApprovalRepository } from './repositories/approval-repository.js';
export type { AuditRepository, ReceiptSigner } from './repositories/audit-repository.js';
export type { CertificationFilter, CertificationRepository } from './repositories/certification-repository.js';
export type { DeploymentFilter, DeploymentRepository } from './repositories/deployment-repository.js';
export type { DriftFilter, DriftRepository } from './repositories/drift-repository.js';
export type { MonitorRepository } from './repositories/monitor-repository.js';
export type { RegistryRepository } from './repositories/registry-repository.js';

export interface StateStore {
  /** `sqlite:<path>` or `postgres://…` with the password redacted: for messages. */
  readonly location: string;
  readonly deployments: DeploymentRepository;
  readonly approvals: ApprovalRepository;
  readonly audit: AuditRepository;
  readonly monitor: MonitorRepository;
  readonly alerts: AlertRepository;
  readonly drift: DriftRepository;
  readonly certifications: CertificationRepository;
  readonly registry: RegistryRepository;
  close(): Promise<void>;
}
