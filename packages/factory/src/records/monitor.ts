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
