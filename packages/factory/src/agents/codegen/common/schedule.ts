import type { ScheduleSpec } from '@connector-factory/ir';

/**
 * How Kubernetes runs a connector. A CronJob when the schedule is a whole-minute cron or an interval
 * that a cron repeats exactly; a Deployment whose process follows the manifest's schedule itself (the
 * runtime handles cron with seconds, any interval and continuous CDC) otherwise, and for event
 * schedules, where the process waits for `POST /trigger` calls from the event source.
 */
export type Workload =
  | {
      readonly kind: 'cronjob';
      /** Five fields, minute first, as Kubernetes reads it (UTC). */
      readonly schedule: string;
      /** Set when the manifest's schedule had to be adjusted (seconds rounded to the minute). */
      readonly note?: string;
    }
  | { readonly kind: 'deployment'; readonly reason: string };

/** The schedule of the suspended CronJob offered as an alternative to a Deployment: hourly catch-up runs. */
export const ALTERNATIVE_SCHEDULE = '0 * * * *';

/** Kubernetes (robfig/cron) knows day-of-week 0-6; croner and Vixie cron also take 7 for Sunday. */
function normaliseDayOfWeek(field: string): string {
  return field
    .split(',')
    .map((item) => {
      if (item === '7') return '0';
      const range = /^([0-6])-7$/.exec(item);
      return range ? `${range[1]}-6,0` : item;
    })
    .join(',');
}

function fromCron(expression: string): Workload {
  const parts = expression.trim().split(/\s+/);
  let minuteFields = parts;
  let note: string | undefined;
  if (parts.length === 6) {
    const seconds = parts[0]!;
    minuteFields = parts.slice(1);
    if (!/^\d+$/.test(seconds)) {
      return {
        kind: 'deployment',
        reason: `the cron expression "${expression}" fires more than once a minute (seconds field "${seconds}"), which a CronJob cannot; the connector follows it in-process`,
      };
    }
    if (Number(seconds) !== 0) {
      note = `the manifest's cron "${expression}" runs at second ${Number(seconds)}; Kubernetes schedules whole minutes, so the CronJob runs at second 0 of the same minutes`;
    }
  }
  const [minute, hour, dayOfMonth, month, dayOfWeek] = minuteFields as [string, string, string, string, string];
  const schedule = [minute, hour, dayOfMonth, month, normaliseDayOfWeek(dayOfWeek)].join(' ');
  return note === undefined ? { kind: 'cronjob', schedule } : { kind: 'cronjob', schedule, note };
}

function fromInterval(seconds: number): Workload {
  const inProcess = (why: string): Workload => ({
    kind: 'deployment',
    reason: `an interval of ${seconds} s ${why}; the connector follows it in-process`,
  });
  if (seconds < 60) return inProcess('is shorter than the one minute a CronJob can do');
  if (seconds % 60 !== 0) return inProcess('is not a whole number of minutes');
  const minutes = seconds / 60;
  if (minutes < 60) {
    if (60 % minutes !== 0) return inProcess('does not divide an hour, so no cron schedule repeats it exactly');
    return { kind: 'cronjob', schedule: minutes === 1 ? '* * * * *' : `*/${minutes} * * * *` };
  }
  if (minutes % 60 !== 0) return inProcess('is not a whole number of hours, so no cron schedule repeats it exactly');
  const hours = minutes / 60;
  if (hours === 24) return { kind: 'cronjob', schedule: '0 0 * * *' };
  if (hours > 24 || 24 % hours !== 0) return inProcess('does not divide a day, so no cron schedule repeats it exactly');
  return { kind: 'cronjob', schedule: hours === 1 ? '0 * * * *' : `0 */${hours} * * *` };
}

/** The workload for a (validated) schedule. */
export function workloadFor(schedule: ScheduleSpec): Workload {
  switch (schedule.type) {
    case 'cron':
      return fromCron(schedule.expression);
    case 'interval':
      return fromInterval(schedule.intervalSeconds);
    case 'continuous':
      return { kind: 'deployment', reason: 'the connector runs continuously' };
    case 'event':
      return {
        kind: 'deployment',
        reason: `the connector waits for events: ${schedule.eventSource} calls POST /trigger on the Service for each one`,
      };
  }
}
