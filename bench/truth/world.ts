/**
 * Random worlds of the ground-truth benchmark: a vantage (outside-in, inside-out or
 * home-plus-foreign), 1-20 countries of 1-6 ASNs each, 3-8 categories, controls, and the noise
 * roles of a few targets (dead, flapping, slow, in maintenance, CDN-hosted).
 *
 * The structural constraints that keep every world well-posed are enforced here (README.md,
 * "Well-posed worlds"): every country has >= 4 live non-CDN targets, every ASN carries >= 2
 * targets of >= 2 categories, there are >= 3 controls. Noise roles are placed later
 * (faults.ts), after the faults, so they never fall into a faulted group.
 *
 * Every address is loopback (127.0.0.0/8 or ::1): nothing is dialled in a pure replay, but a
 * generated config must never name an outside address. Targets pass the real config schema.
 */
import { TargetInput } from '../../src/config/schema.js';
import type { VantageInfo } from '../../src/detect/options.js';
import { mulberry32, subSeed, type Rng } from '../replay/prng.js';
import type { SimTarget } from '../replay/world.js';

export type Perspective = 'outside-in' | 'inside-out' | 'home-plus-foreign';
export const PERSPECTIVES: readonly Perspective[] = ['outside-in', 'inside-out', 'home-plus-foreign'];

/** What a target does on its own, apart from faults. */
export type NoiseRole = 'none' | 'dead' | 'flapping' | 'slow' | 'maintenance';

export interface TruthTarget extends SimTarget {
  noise: NoiseRole;
  /** Hosted on a CDN outside the country: stays up in the country's shutdown. Own ASN, so never in an ASN group of 2. */
  cdn: boolean;
  /** Noise window (slow, maintenance), epoch ms; null otherwise. */
  noiseFrom: number | null;
  noiseTo: number | null;
}

export interface TruthWorld {
  seed: number;
  perspective: Perspective;
  /** vantage.country, null outside-in. */
  home: string | null;
  vantage: VantageInfo;
  /** Countries with targets (home first when set). */
  countries: string[];
  asns: Map<string, number[]>;
  categories: string[];
  targets: TruthTarget[];
  /** Simulated span [from, to), epoch ms; faults start after WARMUP_MS. */
  from: number;
  to: number;
  /** Phase of the diurnal latency cycle per country (ms into the day of the peak) and its amplitude (peak factor, 1-2). */
  diurnal: { amplitude: number; peakMs: Map<string, number> };
  /** Per-probe loss probability (1-3%). */
  loss: number;
}

export const CDN_ASN = 13335;
/** Quiet time before any fault: baselines and eligibility settle. */
export const WARMUP_MS = 30 * 60_000;
const COUNTRY_POOL = ['KZ', 'UZ', 'KG', 'TJ', 'TM', 'AZ', 'AM', 'GE', 'BY', 'UA', 'MD', 'MN', 'IR', 'IQ', 'SY', 'EG', 'ET', 'SD', 'MM', 'BD', 'PK', 'VE', 'CU', 'ZW', 'UG', 'TZ', 'KE', 'NG', 'CM', 'TD'];
const CATEGORY_POOL = ['government', 'news', 'banking', 'social', 'messaging', 'video', 'search', 'education', 'health', 'shopping'];
/** Worlds start somewhere in 2023 (the detector only sees relative time; the diurnal cycle sees the hour). */
const EPOCH = Date.UTC(2023, 0, 1);

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng.next() * xs.length)] as T;
}

/** k distinct elements of xs in random order. */
export function sample<T>(rng: Rng, xs: readonly T[], k: number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a.slice(0, k);
}

export { pick };

/**
 * Builds the structure of world `seed` (no noise roles, no faults yet). Length is set by the
 * caller through `to` once the faults are known.
 */
export function buildTruthWorld(seed: number): TruthWorld {
  const rng = mulberry32(subSeed(seed, 'truth-world'));
  const perspective = pick(rng, PERSPECTIVES);
  const nCountries = perspective === 'outside-in' ? rng.int(1, 20) : rng.int(2, 20);
  const countries = sample(rng, COUNTRY_POOL, nCountries);
  const home = perspective === 'outside-in' ? null : (countries[0] as string);
  const categories = sample(rng, CATEGORY_POOL, rng.int(3, 8));
  const targets: TruthTarget[] = [];
  const asns = new Map<string, number[]>();
  let n = 0;
  const from = EPOCH + Math.floor(rng.uniform(0, 300 * 86_400_000));
  const place = (country: string, asn: number | undefined, category: string, control: boolean, cdn: boolean): void => {
    n++;
    const input = targetInput(rng, n, country, asn, category, control);
    const parsed = TargetInput.parse(input);
    targets.push({
      target: { ...parsed, country, category, file: 'bench-truth' },
      role: control ? 'control' : 'normal',
      offsetMs: Math.floor(rng.uniform(0, 60_000)),
      baseLatencyS: Math.exp(rng.uniform(Math.log(0.02), Math.log(0.2))),
      noise: 'none',
      cdn,
      noiseFrom: null,
      noiseTo: null,
    });
  };
  countries.forEach((country, ci) => {
    // Home of an inside-out world: a big domestic catalogue; home-plus-foreign: a few home targets.
    const isHome = country === home;
    const nAsn = isHome && perspective === 'home-plus-foreign' ? rng.int(1, 2) : isHome ? rng.int(3, 6) : rng.int(1, 6);
    const list = Array.from({ length: nAsn }, (_, j) => 64_512 + ci * 8 + j);
    asns.set(country, list);
    const perAsn = list.map(() => rng.int(2, Math.min(3, categories.length)));
    // >= 4 live targets per country: top up the ASNs (each keeps distinct categories).
    const cap = Math.min(4, categories.length);
    let total = perAsn.reduce((a, b) => a + b, 0);
    for (let guard = 0; total < 4 && guard < 100; guard++) {
      const j = rng.int(0, nAsn - 1);
      if ((perAsn[j] as number) < cap) {
        perAsn[j] = (perAsn[j] as number) + 1;
        total++;
      }
    }
    // Too few categories to fill up: one more ASN of 2 targets.
    if (total < 4) {
      list.push(64_512 + ci * 8 + list.length);
      perAsn.push(2);
    }
    list.forEach((asn, j) => {
      for (const category of sample(rng, categories, perAsn[j] as number)) place(country, asn, category, false, false);
    });
  });
  // One CDN-hosted target in about half the worlds, in a foreign (or no-home) country.
  const foreign = countries.filter((c) => c !== home);
  if (foreign.length > 0 && rng.chance(0.5)) place(pick(rng, foreign), CDN_ASN, pick(rng, categories), false, true);
  const nControls = rng.int(3, 5);
  for (let i = 0; i < nControls; i++) place('ZZ', undefined, 'control', true, false);
  // Dead targets (0-2): each in an ASN that keeps >= 2 live targets and a country that keeps >= 4.
  const nDead = rng.int(0, 2);
  for (let i = 0; i < nDead; i++) {
    const t = pick(rng, targets);
    if (t.role !== 'normal' || t.cdn || t.noise !== 'none') continue;
    const live = (f: (x: TruthTarget) => boolean): number => targets.filter((x) => x.noise !== 'dead' && !x.cdn && x.role === 'normal' && f(x)).length;
    if (live((x) => x.target.asn === t.target.asn && x.target.country === t.target.country) <= 2) continue;
    if (live((x) => x.target.country === t.target.country) <= 4) continue;
    t.noise = 'dead';
    t.role = 'dead';
  }
  const peakMs = new Map(countries.map((c) => [c, Math.floor(rng.uniform(0, 86_400_000))]));
  return {
    seed,
    perspective,
    home,
    vantage: home === null ? { id: 'truth-vantage' } : { id: 'truth-vantage', country: home },
    countries,
    asns,
    categories,
    targets,
    from,
    to: from + WARMUP_MS,
    diurnal: { amplitude: rng.uniform(1, 2), peakMs },
    loss: rng.uniform(0.01, 0.03),
  };
}

/** A target definition (config schema input) on loopback; about 1 in 6 http/tcp/tls/dns targets is IPv6 (::1). */
function targetInput(rng: Rng, n: number, country: string, asn: number | undefined, category: string, control: boolean): Record<string, unknown> {
  const kind = pick(rng, ['http', 'http', 'tcp', 'tls', 'dns'] as const);
  const v6 = rng.chance(1 / 6);
  const v4 = `127.${1 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
  const port = 1024 + n;
  const id = control ? `control-${n}` : `${country.toLowerCase()}-${asn ?? 0}-${category}-${n}`;
  const common: Record<string, unknown> = { id, country, category, ...(asn === undefined ? {} : { asn }), ...(control ? { control: true } : {}) };
  switch (kind) {
    case 'http':
      if (!v6) return { ...common, kind, url: `http://${v4}/` };
      // Either a literal IPv6 URL or a name dialled at ::1.
      return rng.chance(0.5) ? { ...common, kind, url: `http://[::1]:${port}/` } : { ...common, kind, url: `http://t${n}.example/`, ip: '::1' };
    case 'tcp':
      return { ...common, kind, host: v6 ? '::1' : v4, port: v6 ? port : 443 };
    case 'tls':
      return { ...common, kind, host: v6 ? '::1' : v4, port: v6 ? port : 443, sni: `t${n}.example` };
    case 'dns':
      return { ...common, kind, server: v6 ? `[::1]:${port}` : `${v4}:53`, query: { name: `t${n}.example`, type: v6 ? 'AAAA' : 'A' } };
  }
}

/** Live (not dead) targets that count in country groups (no controls). */
export function liveTargets(world: TruthWorld): TruthTarget[] {
  return world.targets.filter((t) => t.role !== 'control' && t.noise !== 'dead');
}

export function isV6(t: TruthTarget): boolean {
  const x = t.target;
  if (x.kind === 'http' || x.kind === 'doh') return x.ip === '::1' || x.url.includes('[::1]');
  if (x.kind === 'dns' || x.kind === 'dot') return x.server.startsWith('[');
  return x.host === '::1';
}
