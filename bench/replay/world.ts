/**
 * The simulated world of the replay benchmark: one vantage point outside the observed countries
 * (the outside-in, IODA view), per country 3 ASNs x 5 categories of targets, and 4 control
 * targets that answer as long as the vantage is fine. Each category has one target in every ASN,
 * as a country's services are spread over its networks, so one ASN going down takes no whole
 * category with it. Per country one target is chronically dead (never answers) and one flaps.
 *
 * Every target address is on loopback (127.0.0.0/8): nothing here is ever dialled, but a
 * generated config must never name an outside address.
 */
import { TargetInput, type ResolvedTarget } from '../../src/config/schema.js';
import type { VantageInfo } from '../../src/detect/options.js';
import { mulberry32, subSeed } from './prng.js';

/** The schedule the simulated daemon runs (the config defaults): 60 s, 10 s timeout, 5 s confirm. */
export const SCHEDULE = { interval: 60_000, timeout: 10_000, confirm_delay: 5_000 } as const;

export const CATEGORIES = ['government', 'news', 'banking', 'telecom', 'education'] as const;
const KIND_BY_CATEGORY = ['http', 'tcp', 'dns', 'http', 'tcp'] as const;
/** AS numbers of the main simulated country; further countries get private-use ASNs. */
const KZ_ASNS = [9198, 21299, 206026] as const;

export type TargetRole = 'normal' | 'dead' | 'flapping' | 'control';

export interface SimTarget {
  target: ResolvedTarget;
  role: TargetRole;
  /** Offset of its regular probes within each interval, ms. */
  offsetMs: number;
  /** Median latency of a successful probe, seconds. */
  baseLatencyS: number;
}

export interface World {
  vantage: VantageInfo;
  /** Observed countries, in order (the first one is the benchmark's country). */
  countries: string[];
  /** AS numbers by country, 3 each. */
  asns: Map<string, number[]>;
  targets: SimTarget[];
}

export interface WorldOptions {
  seed: number;
  /** ISO alpha-2 codes; default ["KZ"]. At most 200 (loopback address plan). */
  countries?: readonly string[];
}

/** Builds the world; the same seed gives the same offsets and latencies. */
export function buildWorld(opts: WorldOptions): World {
  const countries = [...(opts.countries ?? ['KZ'])];
  if (countries.length === 0 || countries.length > 200) throw new Error('world: 1 to 200 countries');
  const rng = mulberry32(subSeed(opts.seed, 'world'));
  const targets: SimTarget[] = [];
  const asns = new Map<string, number[]>();
  const place = (input: unknown, country: string, category: string, role: TargetRole): void => {
    const parsed = TargetInput.parse(input);
    targets.push({
      target: { ...parsed, country, category, file: 'bench-world' },
      role,
      offsetMs: Math.floor(rng.uniform(0, SCHEDULE.interval)),
      baseLatencyS: Math.exp(rng.uniform(Math.log(0.02), Math.log(0.2))),
    });
  };
  countries.forEach((country, ci) => {
    const list = ci === 0 && country === 'KZ' ? [...KZ_ASNS] : [0, 1, 2].map((j) => 64_512 + ci * 3 + j);
    asns.set(country, list);
    const prefix = country.toLowerCase();
    list.forEach((asn, ai) => {
      CATEGORIES.forEach((category, k) => {
        const host = `127.${10 + ci}.${ai + 1}.${k + 1}`;
        const id = `${prefix}-as${asn}-${category}`;
        const role: TargetRole = ai === 0 && k === 0 ? 'dead' : ai === 1 && k === 1 ? 'flapping' : 'normal';
        place(targetInput(KIND_BY_CATEGORY[k] as 'http' | 'tcp' | 'dns', id, host, asn), country, category, role);
      });
    });
  });
  (['http', 'tcp', 'dns', 'http'] as const).forEach((kind, i) => {
    place({ ...targetInput(kind, `control-${i + 1}`, `127.9.0.${i + 1}`, undefined), control: true }, 'ZZ', 'control', 'control');
  });
  return { vantage: { id: 'bench-outside' }, countries, asns, targets };
}

function targetInput(kind: 'http' | 'tcp' | 'dns', id: string, host: string, asn: number | undefined): Record<string, unknown> {
  const common = asn === undefined ? { id } : { id, asn };
  switch (kind) {
    case 'http':
      return { ...common, kind, url: `http://${host}/` };
    case 'tcp':
      return { ...common, kind, host, port: 443 };
    case 'dns':
      return { ...common, kind, server: `${host}:53`, query: { name: 'example.kz', type: 'A' } };
  }
}

/** The resolved targets, for DetectorOptions. */
export function resolvedTargets(world: World): ResolvedTarget[] {
  return world.targets.map((t) => t.target);
}
