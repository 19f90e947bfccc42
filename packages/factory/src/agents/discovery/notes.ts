import type { DiscoveryMatch } from './source-manifest.js';

/** Explanations and warnings collected along the way; matches sort by where their words stand. */
export class Notes {
  private readonly placed: Array<DiscoveryMatch & { readonly order: number; readonly index: number }> = [];
  readonly warnings: string[] = [];
  /** `order`: offset in the description; command-line inputs come after the words. */
  match(words: string, meaning: string, order = Number.MAX_SAFE_INTEGER): void {
    this.placed.push({ words, meaning, order, index: this.placed.length });
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
  matches(): DiscoveryMatch[] {
    return [...this.placed]
      .sort((a, b) => a.order - b.order || a.index - b.index)
      .map(({ words, meaning }) => ({ words, meaning }));
  }
}
