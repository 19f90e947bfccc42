/** How many edits a word of this length may carry and still count as a typo: none under 4 letters. */
export function typoReach(length: number): number {
  if (length < 4) return 0;
  return length < 9 ? 1 : 2;
}
