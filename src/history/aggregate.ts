/**
 * One evaluation's targets summed into history lines: per path, each country, each ASN within
 * a country and each category within a country. Controls, and targets that are dead or not yet
 * judged, are left out (they are not part of any verdict either).
 */
import type { SeriesKey } from './types.js';

/** What the history needs of a target's status (src/detect PathTargetStatus fits). */
export interface TargetSample {
  country: string;
  asn: number | null;
  category: string;
  control: boolean;
  state: string;
  latency_ratio: number | null;
  path?: string;
}

/** One line's value for one minute. */
export interface LineSample {
  key: SeriesKey;
  targets: number;
  up: number;
  latency_ratio: number | null;
}

/** The stable text form of a key, used as map key and in the history file. */
export function keyId(k: SeriesKey): string {
  return lineId(k.path, k.country, k.asn, k.category);
}

/** keyId from the key's fields, without a key object. */
function lineId(path: string, country: string | null, asn: number | null, category: string | null): string {
  return `${path}|${country ?? ''}|${asn ?? ''}|${category ?? ''}`;
}

/** The inverse of keyId; null when `id` is not one. */
export function parseKeyId(id: string): SeriesKey | null {
  const parts = id.split('|');
  if (parts.length !== 4) return null;
  const [path = '', country = '', asn = '', category = ''] = parts;
  const n = asn === '' ? null : Number(asn);
  if (n !== null && !Number.isInteger(n)) return null;
  return { path, country: country === '' ? null : country, asn: n, category: category === '' ? null : category };
}

const COUNTED = new Set(['up', 'suspect', 'down']);

interface Acc {
  key: SeriesKey;
  targets: number;
  up: number;
  latencies: number[];
}

export function aggregate(targets: Iterable<TargetSample>): LineSample[] {
  const lines = new Map<string, Acc>();
  // Called three times per target per evaluation: the key object is made only for a new line.
  const add = (path: string, country: string, asn: number | null, category: string | null, isUp: boolean, latency: number | null): void => {
    const id = lineId(path, country, asn, category);
    let acc = lines.get(id);
    if (!acc) {
      acc = { key: { country, asn, category, path }, targets: 0, up: 0, latencies: [] };
      lines.set(id, acc);
    }
    acc.targets++;
    if (isUp) {
      acc.up++;
      if (latency !== null) acc.latencies.push(latency);
    }
  };
  for (const t of targets) {
    if (t.control || !COUNTED.has(t.state)) continue;
    // A suspect target has failed once and awaits its confirm re-probe: still up.
    const isUp = t.state !== 'down';
    const path = t.path ?? '';
    add(path, t.country, null, null, isUp, t.latency_ratio);
    if (t.asn !== null) add(path, t.country, t.asn, null, isUp, t.latency_ratio);
    add(path, t.country, null, t.category, isUp, t.latency_ratio);
  }
  return [...lines.values()].map((a) => ({ key: a.key, targets: a.targets, up: a.up, latency_ratio: median(a.latencies) }));
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
