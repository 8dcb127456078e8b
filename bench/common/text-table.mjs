/** Plain-text report helpers shared by the benchmarks' tables. */

/** `x` with `digits` decimals, or "n/a" when it is not a finite number. */
export function fmt(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

/** A right-aligned text table: the header, a rule of dashes, then the rows (cells are strings). */
export function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
