import { describeValue, shortText } from './problem.js';

/** A part of the expression as a message shows it: quoted, short, never a credential. */
const quoted = (text: string): string => describeValue(text);

/** A cron field: its name and the inclusive range of values it accepts. */
interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** `?` means "no specific value" in day-of-month / day-of-week (Quartz style). */
  readonly allowsQuestion?: boolean;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const SECOND: CronField = { name: 'second', min: 0, max: 59 };
const FIVE_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, allowsQuestion: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday too, as in Vixie cron and croner.
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, allowsQuestion: true },
];

/** Longer than every field listed value by value (0,1,2,…,59 for minutes is 170 characters). */
const MAX_CRON_LENGTH = 1024;

/**
 * Checks a cron expression of 5 fields (minute first) or 6 fields (seconds first, as in the spec's
 * "0 *\/15 * * * *"). Returns the reason it is invalid, or undefined when it is valid.
 */
export function cronError(expression: string): string | undefined {
  if (expression.length > MAX_CRON_LENGTH) return `a cron expression is at most ${MAX_CRON_LENGTH} characters`;
  const parts = expression.trim().split(/\s+/);
  let fields: readonly CronField[];
  if (parts.length === 5) fields = FIVE_FIELDS;
  else if (parts.length === 6) fields = [SECOND, ...FIVE_FIELDS];
  else return `a cron expression has 5 fields (or 6 with seconds first), this one has ${parts.length}`;
  for (let i = 0; i < fields.length; i++) {
    const error = fieldError(parts[i]!, fields[i]!);
    if (error !== undefined) return `${fields[i]!.name} field ${quoted(parts[i]!)}: ${error}`;
  }
  return undefined;
}

function fieldError(text: string, field: CronField): string | undefined {
  if (text === '?' && field.allowsQuestion) return undefined;
  for (const item of text.split(',')) {
    if (item === '') return 'empty list item';
    const [rangePart, stepPart, ...extra] = item.split('/');
    if (extra.length > 0) return 'more than one "/"';
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart) || Number(stepPart) === 0)
        return `step ${quoted(stepPart)} is not a positive integer`;
      if (Number(stepPart) > field.max) return `step ${stepPart} is larger than ${field.max}`;
    }
    if (rangePart === '*') continue;
    const bounds = rangePart!.split('-');
    if (bounds.length > 2) return `${quoted(rangePart!)} is not a value or a range`;
    const values: number[] = [];
    for (const bound of bounds) {
      const value = parseValue(bound, field);
      if (value === undefined) {
        return `${quoted(bound)} is not a number from ${field.min} to ${field.max}${field.names ? ` or a name (${field.names[0]}-${field.names[field.names.length - 1]})` : ''}`;
      }
      values.push(value);
    }
    if (values.length === 2 && values[0]! > values[1]!) return `range ${shortText(rangePart!)} runs backwards`;
  }
  return undefined;
}

function parseValue(text: string, field: CronField): number | undefined {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value >= field.min && value <= field.max ? value : undefined;
  }
  const index = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index < 0) return undefined;
  return field.names === MONTHS ? index + 1 : index;
}
