/** Small numeric helpers shared by the detector modules. */

/** Median of a non-empty list (mean of the middle two for even lengths); does not mutate. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] as number;
  return ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Smallest count d with d / total >= ratio: how many members must be bad for a ratio condition
 * to hold. A tiny epsilon keeps 0.7 * 10 from rounding up to 8.
 */
export function needed(ratio: number, total: number): number {
  return Math.max(1, Math.ceil(ratio * total - 1e-9));
}

/** True when part / total >= ratio, with the same rounding as needed(). */
export function atLeast(part: number, total: number, ratio: number): boolean {
  return total > 0 && part >= needed(ratio, total);
}
