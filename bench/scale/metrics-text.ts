/**
 * Just enough of the Prometheus text format for the benchmark: samples by name with their
 * labels, and quantiles estimated from a histogram's cumulative buckets.
 */

/** One sample of the text format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A histogram's cumulative bucket: the observations at or below `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/** Parses `name{a="x",b="y"} value` lines (comments skipped) into { name, labels, value }. */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const head = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    const brace = head.indexOf('{');
    const name = brace < 0 ? head : head.slice(0, brace);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of head.slice(brace + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1] as string] = m[2] as string;
    }
    out.push({ name, labels, value });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include every pair of `match`. */
export function sum(samples: readonly Sample[], name: string, match: Record<string, string> = {}): number {
  let total = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
  }
  return total;
}

/** Cumulative bucket counts of histogram `name` as [{ le, count }], sorted by le (+Inf last). */
export function buckets(samples: readonly Sample[], name: string): Bucket[] {
  return samples
    .filter((s) => s.name === `${name}_bucket`)
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
}

/** Bucket counts of `after` minus those of `before` (the observations in between). */
export function bucketDelta(before: readonly Bucket[], after: readonly Bucket[]): Bucket[] {
  return after.map((b) => ({ le: b.le, count: b.count - (before.find((x) => x.le === b.le)?.count ?? 0) }));
}

/**
 * The q-quantile from cumulative buckets by linear interpolation within the bucket, as
 * PromQL's histogram_quantile does (the lowest bucket starts at 0; a quantile in +Inf is the
 * highest finite bound). NaN without observations.
 */
export function quantile(q: number, cumulative: readonly Bucket[]): number {
  const total = cumulative.at(-1)?.count ?? 0;
  if (total <= 0) return NaN;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of cumulative) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      const inBucket = b.count - prevCount;
      return inBucket > 0 ? prevLe + ((b.le - prevLe) * (rank - prevCount)) / inBucket : b.le;
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}
