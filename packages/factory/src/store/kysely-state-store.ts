import { alertRepository, type AlertRepository } from './repositories/alert-repository.js';
import { approvalRepository, type ApprovalRepository } from './repositories/approval-repository.js';
import { auditRepository, type AuditRepository } from './repositories/audit-repository.js';
import { certificationRepository, type CertificationRepository } from './repositories/certification-repository.js';
import { deploymentRepository, type DeploymentRepository } from './repositories/deployment-repository.js';
import { driftRepository, type DriftRepository } from './repositories/drift-repository.js';
import { monitorRepository, type MonitorRepository } from './repositories/monitor-repository.js';
import { registryRepository, type RegistryRepository } from './repositories/registry-repository.js';
import type { StateStore } from './state-store.js';
import type { StoreBackend } from './store-backend.js';
import { storeContext } from './store-context.js';

/**
 * The state store over Kysely: one implementation for SQLite and PostgreSQL. It composes the eight
 * repositories over one context (the database, serialised writes, error wrapping); the backend is
 * opened and migrated by `openStateStore`.
 */
export class KyselyStateStore implements StateStore {
  readonly location: string;
  readonly deployments: DeploymentRepository;
  readonly approvals: ApprovalRepository;
  readonly audit: AuditRepository;
  readonly monitor: MonitorRepository;
  readonly alerts: AlertRepository;
  readonly drift: DriftRepository;
  readonly certifications: CertificationRepository;
  readonly registry: RegistryRepository;

  constructor(private readonly backend: StoreBackend) {
    this.location = backend.location;
    const context = storeContext(backend);
    this.deployments = deploymentRepository(context);
    this.approvals = approvalRepository(context);
    this.audit = auditRepository(context);
    this.monitor = monitorRepository(context);
    this.alerts = alertRepository(context);
    this.drift = driftRepository(context);
    this.certifications = certificationRepository(context);
    this.registry = registryRepository(context);
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
