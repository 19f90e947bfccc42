import { normalise } from '../../../normalise.js';
import type { Scanner } from './scanner.js';

/** A word of the description that no phrase claimed. */
export interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Lower case without `_ . - $`, the form registry keys are compared in. */
  readonly norm: string;
  /** Only spaces or hyphens separate it from the previous token (so the two may form one name). */
  readonly adjacent: boolean;
  /** A comma or semicolon separates it from the previous token. */
  readonly comma: boolean;
}

/** The words no phrase claimed, with what separates each from the one before. */
export function tokenise(scanner: Scanner): Token[] {
  const tokens: Token[] = [];
  let previousEnd = 0;
  for (const { match, start, end } of scanner.find(/[A-Za-z0-9_$]+(?:\.[A-Za-z0-9_$]+)*/g)) {
    const gap = scanner.text.slice(previousEnd, start);
    const maskedGap = scanner.remaining.slice(previousEnd, start);
    tokens.push({
      text: match[0],
      start,
      end,
      norm: normalise(match[0]),
      adjacent: tokens.length > 0 && /^[\s-]*$/.test(gap) && maskedGap === gap,
      comma: /[,;]/.test(gap),
    });
    previousEnd = end;
  }
  return tokens;
}
