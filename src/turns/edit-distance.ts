/**
 * Levenshtein distances from `a` to every prefix of `b` (the DP's last row: `row[j]` is the
 * distance to `b.slice(0, j)`). Insertions and deletions cost 1, a substitution `cost(x, y)`.
 */
export function editDistanceRow<T>(
  a: readonly T[],
  b: readonly T[],
  cost: (x: T, y: T) => number = (x, y) => (x === y ? 0 : 1),
): number[] {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + cost(a[i - 1]!, b[j - 1]!));
    row = next;
  }
  return row;
}

export function editDistance<T>(a: readonly T[], b: readonly T[], cost?: (x: T, y: T) => number): number {
  return editDistanceRow(a, b, cost).at(-1)!;
}
