import { InvalidArgumentError } from 'commander';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `90s`, `5m`, `24h`, `2d` or a bare number of seconds into milliseconds (a commander parser). */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`"${text}" is not a duration (such as 90s, 5m, 24h)`);
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}
