import type { Io } from './io.js';

/** A step of a long command, as the factory reports it. */
export interface StepEvent {
  readonly step: string;
  readonly state: 'start' | 'done' | 'failed';
  readonly report?: { readonly durationMs: number; readonly detail?: string };
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);

/**
 * The step list a long command prints on stderr (stdout stays for the result and --json): one line as
 * a step starts, one with its timing as it ends.
 */
export function stepPrinter(io: Io): (event: StepEvent) => void {
  return (event) => {
    if (event.state === 'start') {
      io.err(`  … ${event.step}`);
      return;
    }
    const mark = event.state === 'done' ? '✓' : '✗';
    const timing = event.report ? ` (${seconds(event.report.durationMs)})` : '';
    const detail = event.report?.detail ? `: ${event.report.detail.split('\n')[0]}` : '';
    io.err(`  ${mark} ${event.step}${timing}${detail}`);
  };
}
