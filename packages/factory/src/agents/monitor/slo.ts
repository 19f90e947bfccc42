import type { ScheduleSpec, Slo } from '@connector-factory/ir';
import type { AlertSeverity, HealthCheckRecord } from '../../records/index.js';

export type SloName = 'freshness' | 'availability' | 'error_rate';

/** One objective of `governance.contract.slo`, measured over a window. */
export interface SloResult {
  readonly name: SloName;
  /** The objective: minutes (freshness) or percent. */
  readonly objective: number;
  /** What was measured, in the objective's unit; null when there was nothing to measure yet. */
  readonly measured: number | null;
  readonly breached: boolean;
  /** A breach beyond twice the objective's allowance is critical. */
  readonly severity: AlertSeverity | null;
  readonly windowMs: number;
  /** How it was measured, in words (for alerts and reviewers). */
  readonly basis: string;
}

export interface SloInputs {
  readonly slo: Slo;
  readonly schedule: ScheduleSpec;
  readonly now: Date;
  readonly windowMs: number;
  /** Health checks inside the window, oldest first. */
  readonly checks: readonly HealthCheckRecord[];
  /** Fewer checks than this in the window are not enough to judge availability (a restart's first look). Default 3. */
  readonly minChecks?: number;
  /** The newest healthy check ever seen (may be before the window). */
  readonly lastHealthyAt: string | null;
  /** When the deployment was made (the clock starts there before any check). */
  readonly deployedAt: string;
  /** Scheduled connectors: their last successful run, from their metrics. */
  readonly lastSuccessfulRun: string | null;
  /** Scheduled connectors: runs and failed runs inside the window (counter deltas); null without two snapshots. */
  readonly runsInWindow: { readonly runs: number; readonly errors: number } | null;
}

const minutesBetween = (from: string, now: Date) => Math.max(0, (now.getTime() - Date.parse(from)) / 60_000);
const round = (value: number) => Math.round(value * 100) / 100;

function judge(breached: boolean, critical: boolean): AlertSeverity | null {
  return breached ? (critical ? 'critical' : 'warning') : null;
}

/**
 * Evaluates a connector's SLOs over a window:
 * - availability: the share of the window's health checks that passed;
 * - freshness: minutes the lake may be behind — for continuous and event-driven connectors the time
 *   since the connector was last seen healthy (a healthy stream is current), for scheduled ones the
 *   time since the last successful run;
 * - error rate: failed runs over runs in the window, for scheduled and event-driven connectors (a
 *   continuous stream has one endless run, so its failures count against availability instead).
 * Critical means the breach is more than twice the allowance (lag over 2× the objective; shortfall or
 * error rate over twice the allowed share).
 */
export function evaluateSlos(inputs: SloInputs): SloResult[] {
  const { slo, now, windowMs, checks } = inputs;
  const results: SloResult[] = [];

  if (checks.length < (inputs.minChecks ?? 3)) {
    results.push({
      name: 'availability',
      objective: slo.availabilityPercent,
      measured: null,
      breached: false,
      severity: null,
      windowMs,
      basis: `${checks.length} health check(s) in the window: not enough to judge yet`,
    });
  } else {
    const passed = checks.filter((check) => check.healthy).length;
    const measured = round((100 * passed) / checks.length);
    const allowance = 100 - slo.availabilityPercent;
    const breached = measured < slo.availabilityPercent;
    results.push({
      name: 'availability',
      objective: slo.availabilityPercent,
      measured,
      breached,
      severity: judge(breached, 100 - measured > 2 * allowance),
      windowMs,
      basis: `${passed} of ${checks.length} health checks passed`,
    });
  }

  const streaming = inputs.schedule.type === 'continuous' || inputs.schedule.type === 'event';
  const since = streaming
    ? (inputs.lastHealthyAt ?? inputs.deployedAt)
    : (inputs.lastSuccessfulRun ?? inputs.deployedAt);
  const latest = checks.at(-1);
  const lag = streaming && latest?.healthy === true ? 0 : round(minutesBetween(since, now));
  const stale = lag > slo.freshnessMinutes;
  results.push({
    name: 'freshness',
    objective: slo.freshnessMinutes,
    measured: lag,
    breached: stale,
    severity: judge(stale, lag > 2 * slo.freshnessMinutes),
    windowMs,
    basis: streaming
      ? latest?.healthy === true
        ? 'the stream is healthy now'
        : `last seen healthy ${inputs.lastHealthyAt ?? 'never (since the deployment)'}`
      : `last successful run ${inputs.lastSuccessfulRun ?? 'none yet (since the deployment)'}`,
  });

  if (inputs.schedule.type !== 'continuous') {
    const runs = inputs.runsInWindow;
    if (runs === null || runs.runs === 0) {
      results.push({
        name: 'error_rate',
        objective: slo.errorRatePercent,
        measured: null,
        breached: false,
        severity: null,
        windowMs,
        basis: 'no run finished in the window',
      });
    } else {
      const measured = round((100 * runs.errors) / runs.runs);
      const breached = measured > slo.errorRatePercent;
      results.push({
        name: 'error_rate',
        objective: slo.errorRatePercent,
        measured,
        breached,
        severity: judge(breached, measured > 2 * Math.max(slo.errorRatePercent, 0.5)),
        windowMs,
        basis: `${runs.errors} of ${runs.runs} runs failed`,
      });
    }
  }
  return results;
}
