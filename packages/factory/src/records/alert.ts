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
