import type { AlertSeverity, AlertState, CertificationRecord } from '../records/index.js';
import type { StateStore } from '../store/state-store.js';

/** What a reviewer sees before certifying a deployment, and what the registry entry keeps as evidence. */
export interface CertificationEvidence {
  readonly metrics: Readonly<Record<string, unknown>> | null;
  readonly alerts: readonly {
    readonly key: string;
    readonly severity: AlertSeverity;
    readonly state: AlertState;
    readonly firstAt: string;
    readonly resolvedAt: string | null;
  }[];
  readonly certification: CertificationRecord | null;
}

/** The evidence of one deployment: its last metrics, every alert it had, its certification record. */
export async function certificationEvidence(store: StateStore, deploymentId: string): Promise<CertificationEvidence> {
  const [snapshot, alerts, certification] = await Promise.all([
    store.monitor.latestMetrics(deploymentId),
    store.alerts.list({ deploymentId }),
    store.certifications.get(deploymentId),
  ]);
  return {
    metrics: snapshot?.metrics ?? null,
    alerts: alerts.map(({ key, severity, state, firstAt, resolvedAt }) => ({
      key,
      severity,
      state,
      firstAt,
      resolvedAt,
    })),
    certification: certification ?? null,
  };
}
