import { describe, expect, it } from 'vitest';
import { evaluateSlos, type SloInputs } from '../../src/agents/monitor/slo.js';
import type { HealthCheckRecord } from '../../src/records/index.js';

const now = new Date('2026-11-26T12:00:00Z');
const check = (secondsAgo: number, healthy: boolean): HealthCheckRecord => ({
  deploymentId: 'dep_1',
  time: new Date(now.getTime() - secondsAgo * 1000).toISOString(),
  healthy,
  latencyMs: 3,
  reason: healthy ? null : 'down',
});
const base: SloInputs = {
  slo: { freshnessMinutes: 5, availabilityPercent: 99, errorRatePercent: 10 },
  schedule: { type: 'continuous' },
  now,
  windowMs: 3_600_000,
  checks: [],
  lastHealthyAt: null,
  deployedAt: new Date(now.getTime() - 600_000).toISOString(),
  lastSuccessfulRun: null,
  runsInWindow: null,
};
const byName = (inputs: Partial<SloInputs>) =>
  Object.fromEntries(evaluateSlos({ ...base, ...inputs }).map((r) => [r.name, r]));

describe('evaluateSlos', () => {
  it('does not judge availability on fewer checks than the minimum (a restart’s first look)', () => {
    expect(byName({ checks: [check(1, false)] }).availability).toMatchObject({ measured: null, breached: false });
    expect(byName({ checks: [check(1, false)], minChecks: 1 }).availability).toMatchObject({
      measured: 0,
      breached: true,
      severity: 'critical',
    });
  });

  it('measures availability as the share of passing checks, critical beyond twice the allowance', () => {
    const checks = Array.from({ length: 100 }, (_, i) => check(100 - i, i !== 50));
    expect(byName({ checks }).availability).toMatchObject({ measured: 99, breached: false });
    const worse = Array.from({ length: 100 }, (_, i) => check(100 - i, i % 50 !== 0));
    expect(byName({ checks: worse }).availability).toMatchObject({ measured: 98, breached: true, severity: 'warning' });
    const worst = Array.from({ length: 100 }, (_, i) => check(100 - i, i % 20 !== 0));
    expect(byName({ checks: worst }).availability).toMatchObject({
      measured: 95,
      breached: true,
      severity: 'critical',
    });
  });

  it('counts a healthy stream as fresh, and a stream down since its last healthy look as behind', () => {
    const healthy = [check(30, true), check(20, true), check(10, true)];
    expect(byName({ checks: healthy, lastHealthyAt: healthy[2]!.time }).freshness).toMatchObject({
      measured: 0,
      breached: false,
    });
    const down = [check(30, false), check(20, false), check(10, false)];
    const lastHealthyAt = new Date(now.getTime() - 6 * 60_000).toISOString();
    expect(byName({ checks: down, lastHealthyAt }).freshness).toMatchObject({
      measured: 6,
      breached: true,
      severity: 'warning',
    });
    const longAgo = new Date(now.getTime() - 11 * 60_000).toISOString();
    expect(byName({ checks: down, lastHealthyAt: longAgo }).freshness).toMatchObject({
      measured: 11,
      severity: 'critical',
    });
  });

  it('judges scheduled connectors by their last successful run and their failed runs in the window', () => {
    const scheduled = { schedule: { type: 'cron' as const, expression: '0 */5 * * * *' } };
    const lastSuccessfulRun = new Date(now.getTime() - 2 * 60_000).toISOString();
    const result = byName({ ...scheduled, lastSuccessfulRun, runsInWindow: { runs: 10, errors: 3 } });
    expect(result.freshness).toMatchObject({ measured: 2, breached: false });
    expect(result.error_rate).toMatchObject({ measured: 30, breached: true, severity: 'critical' });
    expect(byName({ ...scheduled, runsInWindow: { runs: 10, errors: 1 } }).error_rate).toMatchObject({
      breached: false,
    });
    // A continuous stream has no error-rate objective of its own (its failures show in availability).
    expect(byName({}).error_rate).toBeUndefined();
  });
});
