import type { CursorMention } from './mentions.js';
import type { Scanner } from './scanner.js';
import { STOP_WORDS } from './vocabulary.js';

/** The cursor column the words name: "incremental on modified_at", "using modified_at as the cursor", "by modified_at". */

/** A column name, maybe quoted; never the name before "table" ("incremental on the orders table" names no cursor). */
const COLUMN = String.raw`["'\u0060]?([A-Za-z_][\w$]*)["'\u0060]?(?![\w$])(?!\s+tables?\b)`;
const CURSOR_PATTERNS: ReadonlyArray<{ re: RegExp; column: number; claimFrom: number }> = [
  // "incremental on modified_at", "incrementally by updated_at", "cursor on x": the intent word stays an intent.
  {
    re: new RegExp(
      String.raw`\b(?:incremental(?:ly)?|sync(?:ed)?|cursor|watermark)(\s+(?:on|by|using|over)\s+(?:the\s+)?(?:column\s+)?${COLUMN}(?:\s+column)?)`,
      'gi',
    ),
    column: 2,
    claimFrom: 1,
  },
  // "using modified_at as the cursor", "with updated_at as incremental key".
  {
    re: new RegExp(
      String.raw`\b(?:using|with)\s+(?:the\s+)?(?:column\s+)?${COLUMN}(?:\s+column)?\s+as\s+(?:the\s+|an?\s+)?(?:cursor|incremental\s+(?:key|column|cursor|field)|watermark|high[\s-]water[\s-]?mark)(?:\s+(?:column|field))?`,
      'gi',
    ),
    column: 1,
    claimFrom: 0,
  },
  // "cursor column modified_at", "cursor: modified_at", "the cursor is modified_at".
  {
    re: new RegExp(String.raw`\bcursor(?:\s+(?:column|field))?(?:\s+is|\s*[:=])?\s+${COLUMN}`, 'gi'),
    column: 1,
    claimFrom: 0,
  },
];
/** "by <column>": only a column-shaped word (snake_case, or a time/version name), and not "partitioned by". */
const BY_COLUMN_RE = new RegExp(
  String.raw`(?<!\b(?:partition(?:ed)?|group(?:ed)?|cluster(?:ed)?|split)\s+)\bby\s+${COLUMN}`,
  'gi',
);
const COLUMN_SHAPE = /_|(?:at|date|time|timestamp|ts|stamp|version|seq|sequence|modified|updated|changed)$/i;

/** Reads the cursor column phrases; the first is kept, any other is a warning. */
export function parseCursor(scanner: Scanner, warnings: string[]): CursorMention | undefined {
  const found: Array<CursorMention & { end: number; claimStart: number }> = [];
  const take = (match: RegExpMatchArray, start: number, end: number, column: number, claimFrom: number) => {
    const name = match[column]!;
    if (STOP_WORDS.has(name.toLowerCase()) && !COLUMN_SHAPE.test(name)) return;
    const claimStart = claimFrom === 0 ? start : start + match[0].indexOf(match[claimFrom]!);
    found.push({ column: name, words: match[0].trim(), start, end, claimStart });
  };
  for (const { re, column, claimFrom } of CURSOR_PATTERNS) {
    for (const { match, start, end } of scanner.find(re)) {
      take(match, start, end, column, claimFrom);
      const last = found[found.length - 1];
      if (last !== undefined && last.start === start) scanner.claim(last.claimStart, end);
    }
  }
  for (const { match, start, end } of scanner.find(BY_COLUMN_RE)) {
    if (!COLUMN_SHAPE.test(match[1]!)) continue;
    take(match, start, end, 1, 0);
    scanner.claim(start, end);
  }
  found.sort((a, b) => a.start - b.start);
  const columns = [...new Set(found.map((f) => f.column))];
  if (columns.length > 1) {
    warnings.push(
      `used the cursor column ${columns[0]}; ignored ${columns.slice(1).join(', ')} (a connector has one cursor)`,
    );
  }
  const first = found[0];
  return first === undefined ? undefined : { column: first.column, words: first.words, start: first.start };
}
