/**
 * Edits between two strings (insert, delete, substitute one character, or swap two adjacent ones: the
 * optimal string alignment distance), so "salesfroce" is one edit from "salesforce": swapped letters are
 * the commonest typo. Every "did you mean" and every typo reading uses this one. O(|a|·|b|) time,
 * O(|b|) memory.
 */
export function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let row = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      row[j] = best;
    }
    [before, prev, row] = [prev, row, before];
  }
  return prev[b.length]!;
}
