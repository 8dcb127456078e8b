/** One aggregate line of the history: a country, or one ASN or one category within it, on one path. */
export interface SeriesKey {
  country: string | null;
  asn: number | null;
  category: string | null;
  /** The source binding's name; '' for the default route. */
  path: string;
}

/** One minute of a line. `t` is the minute's start in ms since the epoch (UTC). */
export interface SeriesPoint {
  t: number;
  /** Eligible targets that reported in this minute, and how many of them were up. */
  targets: number;
  up: number;
  /** up / targets, or null when no target reported. */
  reachability: number | null;
  /** Median latency over the targets' own baselines, or null. */
  latency_ratio: number | null;
}

export interface SeriesLine {
  key: SeriesKey;
  points: SeriesPoint[];
}

export interface SeriesQuery {
  country?: string;
  asn?: number;
  category?: string;
  path?: string;
  /** ms since the epoch, inclusive / exclusive. */
  from: number;
  to: number;
}

/** Reads the 1-minute history; what the series API, the page and the reports share. */
export interface SeriesReader {
  query(q: SeriesQuery): SeriesLine[];
}
