import { randomBytes } from 'node:crypto';
import type { AlertRecord, AlertSeverity, DeploymentRecord } from '../../records/index.js';
import type { StateStore } from '../../store/state-store.js';
import type { AlertEvent, AlertSink } from './alert-sinks.js';

const RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, critical: 2 };

/** `alr_<yyyymmddhhmmss>_<hex>` */
function alertId(now: Date): string {
  return `alr_${now.toISOString().replace(/[-:T]/g, '').slice(0, 14)}_${randomBytes(4).toString('hex')}`;
}

/**
 * Alerts with memory: a condition (deployment + key) fires once and stays one open alert while it
 * holds — sinks hear of it again only when it gets more severe — and resolves, once, when it clears.
 * The open alerts live in the store, so a restarted monitor does not repeat them.
 */
export class AlertManager {
  constructor(
    private readonly store: StateStore,
    private readonly sinks: readonly AlertSink[],
    private readonly onSinkError: (message: string) => void = () => {},
  ) {}

  /** The condition holds: opens the alert, or refreshes the open one. */
  async raise(
    deployment: Pick<DeploymentRecord, 'id' | 'connectorId'>,
    key: string,
    severity: AlertSeverity,
    message: string,
    details: Record<string, unknown>,
    now: Date,
  ): Promise<AlertRecord> {
    const open = await this.store.alerts.firing(deployment.id, key);
    const time = now.toISOString();
    if (!open) {
      const alert: AlertRecord = {
        id: alertId(now),
        deploymentId: deployment.id,
        connectorId: deployment.connectorId,
        key,
        severity,
        state: 'firing',
        message,
        details,
        firstAt: time,
        lastAt: time,
        resolvedAt: null,
      };
      await this.store.alerts.insert(alert);
      await this.send({ event: 'firing', alert });
      return alert;
    }
    const escalated = RANK[severity] > RANK[open.severity];
    const updated = await this.store.alerts.update(open.id, {
      lastAt: time,
      details,
      ...(escalated ? { severity, message } : {}),
    });
    if (escalated) await this.send({ event: 'escalated', alert: updated });
    return updated;
  }

  /** The condition cleared: resolves the open alert, if any. */
  async clear(deploymentId: string, key: string, now: Date): Promise<AlertRecord | undefined> {
    const open = await this.store.alerts.firing(deploymentId, key);
    if (!open) return undefined;
    const time = now.toISOString();
    const resolved = await this.store.alerts.update(open.id, { state: 'resolved', resolvedAt: time, lastAt: time });
    await this.send({ event: 'resolved', alert: resolved });
    return resolved;
  }

  private async send(event: AlertEvent): Promise<void> {
    await Promise.all(
      this.sinks.map((sink) =>
        sink.notify(event).catch((error: unknown) => this.onSinkError(`${sink.name}: ${(error as Error).message}`)),
      ),
    );
  }
}
