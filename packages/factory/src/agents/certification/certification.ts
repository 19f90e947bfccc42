import type {
  CertificationRecord,
  CertificationState,
  DeploymentRecord,
  ReceiptInput,
  RegistryEntry,
  RiskLevel,
} from '../../records/index.js';
import type { StateStore } from '../../store/state-store.js';
import { requireRole, type Actor } from '../../cars/actor.js';
import { FactoryError } from '../../errors.js';

/** The default monitoring window before a connector can be reviewed (the spec's 24 hours). */
export const DEFAULT_CERTIFY_AFTER_MS = 24 * 3_600_000;

export interface CertificationContext {
  readonly store: StateStore;
  readonly audit: { record(input: ReceiptInput): Promise<unknown> };
  readonly riskOf: (action: string) => RiskLevel;
  readonly clock?: () => Date;
}

/** What the Monitor tells the workflow at each look at a deployment. */
export interface Observation {
  readonly healthy: boolean;
  /** The SLOs breached now, e.g. ['availability'] with what was measured. */
  readonly breaches: readonly { readonly name: string; readonly measured: number | null; readonly objective: number }[];
}

/**
 * The certification workflow of the spec: PENDING (deployed) → MONITORING (first healthy look) →
 * REVIEW (the window passed with no SLO breach) → CERTIFIED (an admin approves; the connector
 * registry gets an entry); an SLO breach before certification → FAILED, and a retry after the fix →
 * PENDING. Every transition is an audit receipt.
 */
export class CertificationWorkflow {
  private readonly clock: () => Date;

  constructor(private readonly context: CertificationContext) {
    this.clock = context.clock ?? (() => new Date());
  }

  /** Starts certification for a deployment that became healthy. */
  async begin(deployment: DeploymentRecord, windowMs: number, actor: string): Promise<CertificationRecord> {
    const record: CertificationRecord = {
      deploymentId: deployment.id,
      connectorId: deployment.connectorId,
      version: deployment.version,
      state: 'PENDING',
      windowMs,
      monitoringSince: null,
      reason: `deployed; ${Math.round(windowMs / 1000)} s of monitoring without an SLO breach before review`,
      decidedBy: null,
      updatedAt: this.clock().toISOString(),
    };
    await this.context.store.certifications.insert(record);
    await this.receipt(record, null, 'PENDING', actor, 'monitor', { windowMs });
    return record;
  }

  /** Advances a deployment's certification from what the Monitor saw; returns it when it changed. */
  async observe(deploymentId: string, observation: Observation): Promise<CertificationRecord | undefined> {
    const record = await this.context.store.certifications.get(deploymentId);
    if (!record) return undefined;
    const now = this.clock();
    const breach = observation.breaches[0];
    if (breach && (record.state === 'PENDING' || record.state === 'MONITORING' || record.state === 'REVIEW')) {
      const reason = `SLO breach: ${observation.breaches.map((b) => `${b.name} ${b.measured ?? '?'} against ${b.objective}`).join(', ')}`;
      return this.move(record, 'FAILED', 'monitor', 'monitor', { reason });
    }
    if (record.state === 'PENDING' && observation.healthy) {
      return this.move(record, 'MONITORING', 'monitor', 'monitor', {
        monitoringSince: now.toISOString(),
        reason: 'healthy: the monitoring window runs',
      });
    }
    if (record.state === 'MONITORING' && record.monitoringSince !== null) {
      if (now.getTime() - Date.parse(record.monitoringSince) >= record.windowMs) {
        return this.move(record, 'REVIEW', 'monitor', 'monitor', {
          reason: `no SLO breach in ${Math.round(record.windowMs / 1000)} s: an admin reviews it (\`connector-factory certify ${record.connectorId} review\`)`,
        });
      }
    }
    return undefined;
  }

  /** REVIEW → CERTIFIED by an admin, with the evidence they saw; writes the connector registry entry. */
  async approve(
    deployment: DeploymentRecord,
    actor: Actor,
    evidence: Readonly<Record<string, unknown>>,
  ): Promise<{ certification: CertificationRecord; entry: RegistryEntry }> {
    requireRole(actor, 'admin', 'certifying a connector');
    const record = await this.expect(deployment.id, 'REVIEW', 'approve');
    const entry: RegistryEntry = {
      connectorId: deployment.connectorId,
      version: deployment.version,
      deploymentId: deployment.id,
      manifestDigest: deployment.manifestDigest,
      evidence,
      certifier: actor.name,
      certifiedAt: this.clock().toISOString(),
    };
    await this.context.store.registry.put(entry);
    const certification = await this.move(record, 'CERTIFIED', actor.name, 'certification', {
      decidedBy: actor.name,
      reason: 'certified: entered in the connector registry',
    });
    return { certification, entry };
  }

  /** REVIEW → FAILED by an admin, with their reason. */
  async reject(deploymentId: string, actor: Actor, reason: string): Promise<CertificationRecord> {
    requireRole(actor, 'admin', 'rejecting a certification');
    const record = await this.expect(deploymentId, 'REVIEW', 'reject');
    return this.move(record, 'FAILED', actor.name, 'certification', {
      decidedBy: actor.name,
      reason: `rejected: ${reason}`,
    });
  }

  /** FAILED → PENDING once the cause is fixed: monitoring starts over. */
  async retry(deploymentId: string, actor: Actor): Promise<CertificationRecord> {
    requireRole(actor, 'operator', 'retrying a certification');
    const record = await this.expect(deploymentId, 'FAILED', 'retry');
    return this.move(record, 'PENDING', actor.name, 'certification', {
      monitoringSince: null,
      decidedBy: null,
      reason: 'retry after a fix: monitoring starts over once it is healthy',
    });
  }

  private async expect(deploymentId: string, state: CertificationState, what: string): Promise<CertificationRecord> {
    const record = await this.context.store.certifications.get(deploymentId);
    if (!record)
      throw new FactoryError('not_found', `${deploymentId} has no certification: it was never deployed healthy`);
    if (record.state !== state) {
      throw new FactoryError(
        'invalid_input',
        `cannot ${what} ${record.connectorId} ${record.version}: its certification is ${record.state}, not ${state}`,
      );
    }
    return record;
  }

  private async move(
    record: CertificationRecord,
    to: CertificationState,
    actor: string,
    agent: string,
    patch: { monitoringSince?: string | null; reason?: string; decidedBy?: string | null },
  ): Promise<CertificationRecord> {
    const updated = await this.context.store.certifications.update(record.deploymentId, {
      state: to,
      updatedAt: this.clock().toISOString(),
      ...patch,
    });
    await this.receipt(updated, record.state, to, actor, agent, { reason: patch.reason ?? null });
    return updated;
  }

  private async receipt(
    record: CertificationRecord,
    from: CertificationState | null,
    to: CertificationState,
    actor: string,
    agent: string,
    details: Record<string, unknown>,
  ): Promise<void> {
    await this.context.audit.record({
      action: 'certify',
      agent,
      actor,
      resource: record.connectorId,
      riskLevel: this.context.riskOf(agent === 'monitor' ? 'monitor' : 'certify'),
      inputs: {},
      outputs: {},
      result: 'success',
      details: { deploymentId: record.deploymentId, version: record.version, from, to, ...details },
    });
  }
}
