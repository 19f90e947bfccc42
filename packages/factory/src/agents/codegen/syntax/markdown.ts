/**
 * Markdown blocks for generated READMEs. Names from a source go through `inlineCode` or `escapeText`,
 * so a backtick, a `<script>` or a newline in a column name renders as text and breaks no structure.
 */

const LINE_BREAKS = /[\r\n\u2028\u2029]+/g;

/** Inline text with the Markdown and HTML characters that could start markup escaped, on one line. */
export function escapeText(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(/[\\`*_{}[\]<>&|~!#]/g, (ch) => `\\${ch}`);
}

/**
 * A code span that shows `text` exactly: control characters as JSON escapes, delimited by more
 * backticks than any run inside it.
 */
export function inlineCode(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is escaped here
  const visible = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (ch) => JSON.stringify(ch).slice(1, -1));
  const longest = Math.max(0, ...[...visible.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  // CommonMark strips one space from each end, so content that starts or ends with a backtick is padded.
  const pad = visible.startsWith('`') || visible.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${visible}${pad}${fence}`;
}

export const heading = (level: 1 | 2 | 3, text: string): string => `${'#'.repeat(level)} ${text}`;

export const paragraph = (...sentences: readonly string[]): string => sentences.join(' ');

export const list = (items: readonly string[]): string => items.map((item) => `- ${item}`).join('\n');

/** A fenced code block (the fence outgrows any backtick run in the code). */
export function codeBlock(language: string, lines: readonly string[]): string {
  const body = lines.join('\n');
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${body}\n${fence}`;
}

/** A table of rendered inline Markdown cells; a pipe not already escaped is escaped so it splits no cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/(?<!\\)\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A document: blocks separated by blank lines. */
export const document = (blocks: readonly string[]): string => `${blocks.join('\n\n')}\n`;
