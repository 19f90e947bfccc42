import { cronError, type ScheduleSpec } from '@connector-factory/ir';
import type { ScheduleMention } from './mentions.js';
import type { Scanner } from './scanner.js';

/** Schedules in words ("every 15 minutes", "nightly", "weekdays at 6am") as a cron expression or an interval. */

type Unit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month';
const UNIT_SECONDS: Readonly<Record<Unit, number>> = {
  second: 1,
  minute: 60,
  hour: 3600,
  day: 86_400,
  week: 604_800,
  month: 2_592_000,
};
const NUMBER_WORDS: Readonly<Record<string, number>> = {
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fifteen: 15,
  twenty: 20,
  thirty: 30,
  'forty five': 45,
  'forty-five': 45,
  sixty: 60,
  ninety: 90,
  other: 2,
};
const NUM = String.raw`\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty[\s-]five|sixty|ninety|other`;
const FRACTION_RE = /\b(?:every|each)\s+(half|quarter)(?:\s+of)?(?:\s+an?)?\s+hours?\b/gi;
const TIMES_RE =
  /\b(once|twice|(\d+|two|three|four|six|twelve)\s+times)\s+(?:an?|per|each|every)\s+(minute|hour|day|week|month)\b/gi;
const EVERY_RE = new RegExp(
  String.raw`\b(?:every|each)\s+(?:(${NUM})\s*)?(seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|s|m|h|d)\b`,
  'gi',
);
const ADVERB_RE =
  /\b(hourly|daily|nightly|weekly|monthly|twice\s+daily|(?:every|each)\s+(?:night|morning|evening)|per\s+(?:hour|day))\b/gi;
const WEEKDAY_RE =
  /\b(?:(?:on|every|each)\s+)?(mondays?|tuesdays?|wednesdays?|thursdays?|fridays?|saturdays?|sundays?|weekdays?|weekends?|business\s+days|working\s+days)\b/gi;
const TIME_RE =
  /\b(?:at\s+)?(?:(noon|midnight)|(\d{1,2}):(\d{2})(?:\s*(am|pm)\b)?|(\d{1,2})\s*(am|pm|o'?clock)\b)(?:\s*utc\b)?/gi;
const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function unitOf(word: string): Unit | undefined {
  const w = word.toLowerCase();
  if (/^(s|secs?|seconds?)$/.test(w)) return 'second';
  if (/^(m|mins?|minutes?)$/.test(w)) return 'minute';
  if (/^(h|hrs?|hours?)$/.test(w)) return 'hour';
  if (/^(d|days?)$/.test(w)) return 'day';
  if (/^weeks?$/.test(w)) return 'week';
  if (/^months?$/.test(w)) return 'month';
  return undefined;
}

function numberOf(word: string | undefined): number | undefined {
  if (word === undefined) return 1;
  if (/^\d+$/.test(word)) return Number(word);
  return NUMBER_WORDS[word.toLowerCase().replace(/\s+/, ' ')];
}

interface SchedulePieces {
  seconds?: number;
  monthly?: number;
  defaultTime?: readonly [number, number];
  weekdays: string[];
  time?: readonly [number, number];
  words: Array<{ start: number; end: number }>;
  extra: string[];
}

function parseTime(match: RegExpMatchArray): readonly [number, number] | undefined {
  const [, named, hh, mm, hhSuffix, h, suffix] = match;
  if (named !== undefined) return named.toLowerCase() === 'noon' ? [12, 0] : [0, 0];
  let hour = Number(hh ?? h);
  const minute = mm !== undefined ? Number(mm) : 0;
  const half = (hhSuffix ?? suffix)?.toLowerCase();
  if (half === 'am' || half === 'pm') {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half === 'pm' ? 12 : 0);
  }
  return hour <= 23 && minute <= 59 ? [hour, minute] : undefined;
}

function cronFor(p: SchedulePieces): { spec: ScheduleSpec; note?: string } | undefined {
  const [hour, minute] = p.time ?? p.defaultTime ?? [0, 0];
  const dow = p.weekdays.length > 0 ? [...new Set(p.weekdays)].join(',') : '*';
  if (p.monthly !== undefined) {
    const months = p.monthly === 1 ? '*' : `*/${p.monthly}`;
    return { spec: { type: 'cron', expression: `0 ${minute} ${hour} 1 ${months} *` } };
  }
  let seconds = p.seconds;
  if (seconds === undefined) seconds = p.weekdays.length > 0 ? UNIT_SECONDS.week : UNIT_SECONDS.day;
  const cron = (expression: string) => ({ spec: { type: 'cron' as const, expression } });
  const step = (n: number) => (n === 1 ? '*' : `*/${n}`);
  const timeIgnored =
    p.time !== undefined && seconds < UNIT_SECONDS.day ? 'a time of day does not apply to this frequency' : undefined;
  const withNote = (value: { spec: ScheduleSpec }) =>
    timeIgnored !== undefined ? { ...value, note: timeIgnored } : value;
  if (seconds < 60 && 60 % seconds === 0) return withNote(cron(`${step(seconds)} * * * * ${dow}`));
  if (seconds < 3600 && seconds % 60 === 0 && 60 % (seconds / 60) === 0)
    return withNote(cron(`0 ${step(seconds / 60)} * * * ${dow}`));
  if (seconds < 86_400 && seconds % 3600 === 0 && 24 % (seconds / 3600) === 0) {
    return withNote(cron(`0 0 ${step(seconds / 3600)} * * ${dow}`));
  }
  if (seconds % 86_400 === 0 && seconds < UNIT_SECONDS.week) {
    return cron(`0 ${minute} ${hour} ${step(seconds / 86_400)} * ${dow}`);
  }
  if (seconds === UNIT_SECONDS.week) return cron(`0 ${minute} ${hour} * * ${dow === '*' ? '0' : dow}`);
  if (!Number.isInteger(seconds) || seconds <= 0) return undefined;
  return {
    spec: { type: 'interval', intervalSeconds: seconds },
    note: 'cron cannot repeat at that step exactly, so it is an interval',
  };
}

export function parseSchedule(scanner: Scanner, warnings: string[]): ScheduleMention | undefined {
  const p: SchedulePieces = { weekdays: [], words: [], extra: [] };
  const take = (start: number, end: number) => {
    scanner.claim(start, end);
    p.words.push({ start, end });
  };
  const setFrequency = (seconds: number, start: number, end: number, defaultTime?: readonly [number, number]) => {
    if (p.seconds !== undefined || p.monthly !== undefined) {
      p.extra.push(scanner.words(start, end));
      scanner.claim(start, end);
      return;
    }
    p.seconds = seconds;
    if (defaultTime) p.defaultTime = defaultTime;
    take(start, end);
  };
  for (const { match, start, end } of scanner.find(FRACTION_RE)) {
    setFrequency(match[1]!.toLowerCase() === 'half' ? 1800 : 900, start, end);
  }
  for (const { match, start, end } of scanner.find(TIMES_RE)) {
    const count = match[1]!.toLowerCase() === 'once' ? 1 : match[1]!.toLowerCase() === 'twice' ? 2 : numberOf(match[2]);
    const unit = unitOf(match[3]!)!;
    if (count === undefined || count === 0) continue;
    if (unit === 'month') {
      if (count === 1 && p.monthly === undefined) {
        p.monthly = 1;
        take(start, end);
      }
      continue;
    }
    setFrequency(UNIT_SECONDS[unit] / count, start, end);
  }
  for (const { match, start, end } of scanner.find(EVERY_RE)) {
    const unitWord = match[2]!;
    if (match[1] === undefined && unitWord.length === 1) continue;
    const n = numberOf(match[1]);
    const unit = unitOf(unitWord);
    if (n === undefined || n === 0 || unit === undefined) continue;
    if (unit === 'month') {
      if (p.monthly === undefined && p.seconds === undefined) {
        p.monthly = n;
        take(start, end);
      }
      continue;
    }
    setFrequency(UNIT_SECONDS[unit] * n, start, end);
  }
  for (const { match, start, end } of scanner.find(ADVERB_RE)) {
    const word = match[1]!.toLowerCase().replace(/\s+/g, ' ');
    if (word === 'monthly') {
      if (p.monthly === undefined && p.seconds === undefined) {
        p.monthly = 1;
        take(start, end);
      }
      continue;
    }
    if (word === 'hourly' || word === 'per hour') setFrequency(3600, start, end);
    else if (word === 'weekly') setFrequency(UNIT_SECONDS.week, start, end);
    else if (word === 'twice daily') setFrequency(43_200, start, end);
    else if (word === 'nightly' || word.endsWith('night')) setFrequency(86_400, start, end, [2, 0]);
    else if (word.endsWith('morning')) setFrequency(86_400, start, end, [6, 0]);
    else if (word.endsWith('evening')) setFrequency(86_400, start, end, [18, 0]);
    else setFrequency(86_400, start, end);
  }
  for (const { match, start, end } of scanner.find(WEEKDAY_RE)) {
    const word = match[1]!.toLowerCase();
    if (word.startsWith('weekday') || word.startsWith('business') || word.startsWith('working')) p.weekdays.push('1-5');
    else if (word.startsWith('weekend')) p.weekdays.push('0,6');
    else p.weekdays.push(String(DAY_NAMES.indexOf(word.replace(/s$/, ''))));
    take(start, end);
  }
  for (const { match, start, end } of scanner.find(TIME_RE)) {
    // A bare "5:00"-style time counts only next to another schedule word, or after "at".
    const time = parseTime(match);
    if (time === undefined) {
      if (/^at\s/i.test(match[0])) warnings.push(`ignored "${match[0].trim()}": not a time of day`);
      continue;
    }
    if (p.time !== undefined) {
      p.extra.push(match[0].trim());
      scanner.claim(start, end);
      continue;
    }
    p.time = time;
    take(start, end);
  }
  if (p.words.length === 0) return undefined;
  if (p.extra.length > 0)
    warnings.push(`used the first schedule only; ignored ${p.extra.map((e) => `"${e}"`).join(', ')}`);
  p.words.sort((a, b) => a.start - b.start);
  const words = p.words.map((w) => scanner.words(w.start, w.end)).join(' ');
  const start = p.words[0]!.start;
  const result = cronFor(p);
  if (result === undefined) {
    warnings.push(`could not turn "${words}" into a schedule`);
    return undefined;
  }
  if (result.spec.type === 'cron') {
    const error = cronError(result.spec.expression);
    if (error !== undefined) {
      warnings.push(`could not turn "${words}" into a schedule: ${error}`);
      return undefined;
    }
  }
  const rendered =
    result.spec.type === 'cron'
      ? result.spec.expression
      : result.spec.type === 'interval'
        ? `every ${result.spec.intervalSeconds} seconds`
        : result.spec.type;
  const reason = `"${words}" → ${result.spec.type} ${rendered}${result.note !== undefined ? ` (${result.note})` : ''}`;
  return { spec: result.spec, reason, words, start };
}
