/** Plain-text report helpers shared by the benchmarks' tables. */

/** `x` with `digits` decimals, or "n/a" when it is not a finite number. */
export function fmt(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

/**
 * A text table: the header, a rule of dashes, then the rows (cells are strings). Cells are
 * right-aligned, except the first `leftColumns` columns, which are left-aligned.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns = 0): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
