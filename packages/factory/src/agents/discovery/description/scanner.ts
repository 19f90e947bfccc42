/** A URL or path without the sentence punctuation after it (and an unopened closing parenthesis). */
export function trimTrailingPunctuation(text: string): string {
  let out = text.replace(/[.,;:!?]+$/, '');
  while (out.endsWith(')') && !out.includes('(')) out = out.slice(0, -1).replace(/[.,;:!?]+$/, '');
  return out;
}

/** Holds the description and a copy in which claimed phrases are blanked out (offsets stay the same). */
export class Scanner {
  private masked: string;
  constructor(readonly text: string) {
    this.masked = text;
  }
  /** Every match of a global pattern in the part of the text no phrase has claimed yet. */
  find(pattern: RegExp): Array<{ match: RegExpMatchArray; start: number; end: number }> {
    return [...this.masked.matchAll(pattern)].map((match) => {
      const start = match.index ?? 0;
      return { match, start, end: start + match[0].length };
    });
  }
  claim(start: number, end: number): void {
    this.masked = this.masked.slice(0, start) + ' '.repeat(end - start) + this.masked.slice(end);
  }
  words(start: number, end: number): string {
    return this.text.slice(start, end).trim();
  }
  get remaining(): string {
    return this.masked;
  }
}
