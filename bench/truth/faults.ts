/**
 * Faults of the ground-truth benchmark: drawn at random from the whole vocabulary, each with the
 * probe effects it has and the events it must produce (labels), following the detection rules
 * (docs/design.md, issue 16). Then the world's noise roles are placed where they cannot blur a
 * label. A draw that would not be well-posed (README.md, "Well-posed worlds") is rejected and
 * redrawn; after a few failed draws the world gets a simpler fault.
 */
import type { EventKind, Mechanism } from '../../src/detect/events.js';
import { MECHANISMS } from '../../src/detect/events.js';
import { mulberry32, subSeed, type Rng } from '../replay/prng.js';
import { liveTargets, pick, sample, WARMUP_MS, type TruthTarget, type TruthWorld } from './world.js';

/** What happens to the probes of `ids` in [from, to): they fail by a mechanism (or the network is unreachable), or they are `slow` times slower. */
export interface Effect {
  ids: ReadonlySet<string>;
  from: number;
  to: number;
  fail: Mechanism | 'unreachable' | null;
  slow: number | null;
}

/** An event the world must produce (or, optional, may produce without it being an error). */
export interface Label {
  kind: EventKind;
  country: string | null;
  asn: number | null;
  category: string | null;
  /** Checked for service_blocking only (the mechanism field of other kinds is informative). */
  mechanism: Mechanism | null;
  /** The truth window: fault start (the instant the condition became true) to fault end. */
  from: number;
  to: number;
  /** Allowed but not required: the rules leave it open (e.g. an ASN's brief partial_outage as its country crosses into shutdown). */
  optional: boolean;
}

export type FaultKind =
  | 'country_blackhole'
  | 'asn_blackhole'
  | 'gateway_cut'
  | 'blocking'
  | 'throttle_country'
  | 'throttle_gateway'
  | 'vantage_cut'
  | 'progressive_shutdown';

export interface Fault {
  kind: FaultKind;
  /** One line, for mismatch reports. */
  text: string;
  from: number;
  to: number;
  effects: Effect[];
  labels: Label[];
  /** Countries whose targets the fault touches (for keeping overlapping faults apart). */
  touched: Set<string>;
}

/** Share of worlds without any fault. */
export const NOISE_ONLY_SHARE = 0.2;
/** Share of faulted worlds with two overlapping faults. */
export const OVERLAP_SHARE = 0.2;
/** Time after the last fault ends before the world ends. */
export const TAIL_MS = 15 * 60_000;
const MIN = 60_000;

const ids = (ts: readonly TruthTarget[]): Set<string> => new Set(ts.map((t) => t.target.id));
const count = (ts: readonly TruthTarget[], f: (t: TruthTarget) => boolean): number => ts.filter(f).length;

interface Ctx {
  world: TruthWorld;
  rng: Rng;
  live: TruthTarget[];
  /** International live targets (home worlds), else []. */
  intl: TruthTarget[];
}

/** A fault drawer: null when the world cannot host it well-posed. */
type Drawer = (c: Ctx, from: number) => Fault | null;

function window(c: Ctx, from: number, minMin = 20, maxMin = 60): number {
  return from + c.rng.int(minMin, maxMin) * MIN + Math.floor(c.rng.uniform(0, MIN));
}

const inCountry = (c: Ctx, x: string): TruthTarget[] => c.live.filter((t) => t.target.country === x);
const foreign = (c: Ctx): string[] => c.world.countries.filter((x) => x !== c.world.home);
/** With a home: the share of the international live targets in `set` stays below 1/2 (else it looks like the gateway). */
const intlShareOk = (c: Ctx, set: readonly TruthTarget[], limit = 0.5): boolean =>
  c.world.home === null || count(set, (t) => t.target.country !== c.world.home) < limit * c.intl.length;

const countryBlackhole: Drawer = (c, from) => {
  const x = pick(c.rng, foreign(c));
  const members = inCountry(c, x);
  const hit = members.filter((t) => !t.cdn);
  if (!intlShareOk(c, members)) return null;
  const to = window(c, from);
  return {
    kind: 'country_blackhole',
    text: `country blackhole of ${x} (${hit.length} targets${hit.length < members.length ? ', CDN target stays up' : ''})`,
    from,
    to,
    effects: [{ ids: ids(hit), from, to, fail: 'blackhole', slow: null }],
    labels: [{ kind: 'shutdown', country: x, asn: null, category: null, mechanism: 'blackhole', from, to, optional: false }],
    touched: new Set([x]),
  };
};

const asnBlackhole: Drawer = (c, from) => {
  const x = pick(c.rng, c.world.countries);
  const members = inCountry(c, x);
  const asn = pick(c.rng, c.world.asns.get(x) ?? []);
  const hit = members.filter((t) => t.target.asn === asn);
  // >= 2 live in the ASN, and it is under half of its country (the rest clearly up).
  if (hit.length < 2 || hit.length >= 0.5 * members.length) return null;
  if (x !== c.world.home && !intlShareOk(c, hit)) return null;
  const to = window(c, from);
  return {
    kind: 'asn_blackhole',
    text: `ASN blackhole of ${x} AS${asn} (${hit.length} of ${members.length} targets)`,
    from,
    to,
    effects: [{ ids: ids(hit), from, to, fail: 'blackhole', slow: null }],
    labels: [{ kind: 'partial_outage', country: x, asn, category: null, mechanism: null, from, to, optional: false }],
    touched: new Set([x]),
  };
};

const gatewayCut: Drawer = (c, from) => {
  const home = c.world.home;
  if (home === null) return null;
  const controls = c.world.targets.filter((t) => t.role === 'control');
  const to = window(c, from);
  return {
    kind: 'gateway_cut',
    text: `gateway cut of ${home} (${c.intl.length} international targets and ${controls.length} controls dark, domestic up)`,
    from,
    to,
    effects: [{ ids: ids([...c.intl, ...controls]), from, to, fail: 'blackhole', slow: null }],
    labels: [{ kind: 'shutdown', country: home, asn: null, category: null, mechanism: 'blackhole', from, to, optional: false }],
    touched: new Set(c.world.countries),
  };
};

/** Per group (country, ASN) of live targets, the share in `hit` stays under the limits. */
function spreadOk(c: Ctx, hit: readonly TruthTarget[]): boolean {
  const hitIds = ids(hit);
  for (const x of c.world.countries) {
    const members = inCountry(c, x);
    if (count(members, (t) => hitIds.has(t.target.id)) >= 0.5 * members.length) return false;
    for (const asn of new Set(members.map((t) => t.target.asn))) {
      const g = members.filter((t) => t.target.asn === asn);
      if (g.length >= 2 && count(g, (t) => hitIds.has(t.target.id)) >= 0.7 * g.length) return false;
    }
  }
  return intlShareOk(c, hit);
}

const asnKey = (t: TruthTarget): string => `${t.target.country}/${t.target.asn ?? '-'}`;

const blocking: Drawer = (c, from) => {
  const home = c.world.home;
  const k = pick(c.rng, c.world.categories);
  const mechanism = pick(c.rng, MECHANISMS);
  const ofK = c.live.filter((t) => t.target.category === k);
  let hit: TruthTarget[];
  let label: { country: string | null; scope: string };
  if (home !== null) {
    const intlOnly = c.rng.chance(0.5);
    hit = intlOnly ? ofK.filter((t) => t.target.country !== home) : ofK;
    label = { country: home, scope: intlOnly ? `${k}'s international members` : `${k} (all members)` };
  } else if (c.rng.chance(0.5)) {
    const x = pick(c.rng, c.world.countries);
    hit = ofK.filter((t) => t.target.country === x);
    label = { country: x, scope: `${k} within ${x}` };
  } else {
    hit = ofK;
    if (new Set(hit.map((t) => t.target.country)).size < 2) return null;
    label = { country: null, scope: `${k} in every country` };
  }
  // >= 2 live members over >= 2 ASNs, and another category answering.
  if (hit.length < 2 || new Set(hit.map(asnKey)).size < 2) return null;
  if (!c.live.some((t) => t.target.category !== k)) return null;
  if (!spreadOk(c, hit)) return null;
  const to = window(c, from);
  return {
    kind: 'blocking',
    text: `blocking of ${label.scope} by ${mechanism} (${hit.length} targets)`,
    from,
    to,
    effects: [{ ids: ids(hit), from, to, fail: mechanism, slow: null }],
    labels: [{ kind: 'service_blocking', country: label.country, asn: null, category: k, mechanism, from, to, optional: false }],
    touched: new Set(hit.map((t) => t.target.country)),
  };
};

const throttleCountry: Drawer = (c, from) => {
  const x = pick(c.rng, foreign(c));
  const members = inCountry(c, x);
  // With a home: X stays well under half of the international whole, so the whole is not slow.
  if (!intlShareOk(c, members, 0.4)) return null;
  const factor = c.rng.uniform(5, 8);
  const to = window(c, from);
  return {
    kind: 'throttle_country',
    text: `throttling of ${x} x${factor.toFixed(1)} (${members.length} targets)`,
    from,
    to,
    effects: [{ ids: ids(members), from, to, fail: null, slow: factor }],
    labels: [{ kind: 'degradation', country: x, asn: null, category: null, mechanism: null, from, to, optional: false }],
    touched: new Set([x]),
  };
};

const throttleGateway: Drawer = (c, from) => {
  const home = c.world.home;
  if (home === null) return null;
  const controls = c.world.targets.filter((t) => t.role === 'control');
  const factor = c.rng.uniform(5, 8);
  const to = window(c, from);
  return {
    kind: 'throttle_gateway',
    text: `throttling of ${home}'s gateway x${factor.toFixed(1)} (${c.intl.length} international targets)`,
    from,
    to,
    effects: [{ ids: ids([...c.intl, ...controls]), from, to, fail: null, slow: factor }],
    labels: [{ kind: 'degradation', country: home, asn: null, category: null, mechanism: null, from, to, optional: false }],
    touched: new Set(c.world.countries),
  };
};

const vantageCut: Drawer = (c, from) => {
  const how = c.rng.chance(0.5) ? 'unreachable' : 'blackhole';
  const to = window(c, from);
  return {
    kind: 'vantage_cut',
    text: `vantage cut (${how === 'unreachable' ? 'network_unreachable' : 'timeouts'} everywhere, controls included)`,
    from,
    to,
    effects: [{ ids: ids(c.world.targets), from, to, fail: how, slow: null }],
    labels: [{ kind: 'vantage_offline', country: c.world.home, asn: null, category: null, mechanism: null, from, to, optional: false }],
    touched: new Set(c.world.countries),
  };
};

/**
 * A shutdown that progresses ASN by ASN, 5-10 minutes apart. Labels: partial_outage for an ASN
 * (>= 2 live) that falls while X stays under 70% down and the rest of X is under half down
 * (optional when the rest is 50-70% down, or for the ASN whose fall crosses 70%: a brief
 * partial may open before the shutdown does); shutdown(X) from the step that crosses 70%.
 */
const progressiveShutdown: Drawer = (c, from) => {
  const x = pick(c.rng, foreign(c));
  const members = inCountry(c, x);
  const order = sample(c.rng, c.world.asns.get(x) ?? [], Infinity).filter((a) => members.some((t) => t.target.asn === a));
  if (order.length < 2 || !intlShareOk(c, members)) return null;
  const effects: Effect[] = [];
  const labels: Label[] = [];
  let t = from;
  let down = 0;
  let shutdownAt: number | null = null;
  const steps: number[] = [];
  for (const asn of order) {
    const g = members.filter((m) => m.target.asn === asn);
    const rest = members.length - g.length;
    const restRatio = rest === 0 ? 1 : down / rest;
    down += g.length;
    steps.push(t);
    if (shutdownAt === null) {
      const crosses = down >= 0.7 * members.length;
      if (g.length >= 2 && restRatio < 0.7) {
        labels.push({ kind: 'partial_outage', country: x, asn, category: null, mechanism: null, from: t, to: 0, optional: crosses || restRatio >= 0.5 });
      }
      if (crosses) shutdownAt = t;
    }
    effects.push({ ids: ids(g), from: t, to: 0, fail: 'blackhole', slow: null });
    t += c.rng.int(5, 10) * MIN + Math.floor(c.rng.uniform(0, MIN));
  }
  if (shutdownAt === null) return null;
  const to = window(c, steps[steps.length - 1] as number, 15, 30);
  for (const e of effects) e.to = to;
  for (const l of labels) l.to = to;
  labels.push({ kind: 'shutdown', country: x, asn: null, category: null, mechanism: 'blackhole', from: shutdownAt, to, optional: false });
  return {
    kind: 'progressive_shutdown',
    text: `progressive shutdown of ${x}: AS${order.join(', AS')} at +${steps.map((s) => Math.round((s - from) / MIN)).join('/+')} min (${members.length} targets${members.some((m) => m.cdn) ? ', CDN target stays up' : ''})`,
    from,
    to,
    effects,
    labels,
    touched: new Set([x]),
  };
};

const SINGLE: Record<'no-home' | 'home', [Drawer, number][]> = {
  'no-home': [
    [countryBlackhole, 3],
    [asnBlackhole, 3],
    [blocking, 4],
    [throttleCountry, 2],
    [vantageCut, 1],
    [progressiveShutdown, 2],
  ],
  home: [
    [countryBlackhole, 2],
    [asnBlackhole, 3],
    [gatewayCut, 2],
    [blocking, 4],
    [throttleCountry, 2],
    [throttleGateway, 1],
    [vantageCut, 1],
    [progressiveShutdown, 2],
  ],
};
/** Faults that may overlap another: they touch only their own countries. */
const OVERLAPPABLE: Drawer[] = [countryBlackhole, asnBlackhole, blocking, throttleCountry, progressiveShutdown];

function weighted(rng: Rng, list: readonly [Drawer, number][]): Drawer {
  const total = list.reduce((a, [, w]) => a + w, 0);
  let r = rng.uniform(0, total);
  for (const [d, w] of list) {
    if ((r -= w) < 0) return d;
  }
  return (list[list.length - 1] as [Drawer, number])[0];
}

function tryDraw(c: Ctx, draw: () => Drawer, from: number, tries = 12): Fault | null {
  for (let i = 0; i < tries; i++) {
    const f = draw()(c, from);
    if (f) return f;
  }
  return null;
}

/** Two faults on disjoint countries stay well-posed together (the union of their dark targets keeps the international whole under half). */
function compatible(c: Ctx, a: Fault, b: Fault): boolean {
  if ([...a.touched].some((x) => b.touched.has(x))) return false;
  const dark = (f: Fault): TruthTarget[] => c.live.filter((t) => f.effects.some((e) => e.fail !== null && e.ids.has(t.target.id)));
  const darkAll = [...dark(a), ...dark(b)];
  if (!intlShareOk(c, darkAll)) return false;
  // Throttled countries, together, must stay a minority of what remains measurable abroad.
  if (c.world.home === null) return true;
  const slow = c.intl.filter((t) => [a, b].some((f) => f.effects.some((e) => e.slow !== null && e.ids.has(t.target.id))));
  return slow.length < 0.4 * (c.intl.length - darkAll.length);
}

export interface Drawn {
  faults: Fault[];
  labels: Label[];
}

/**
 * Draws the world's faults (none in NOISE_ONLY_SHARE of worlds), sets world.to, and places the
 * noise roles (flapping, maintenance, slow) away from every faulted country.
 */
export function drawFaults(world: TruthWorld): Drawn {
  const rng = mulberry32(subSeed(world.seed, 'truth-faults'));
  const live = liveTargets(world);
  const c: Ctx = { world, rng, live, intl: world.home === null ? [] : live.filter((t) => t.target.country !== world.home) };
  const list = SINGLE[world.home === null ? 'no-home' : 'home'];
  const start = world.from + WARMUP_MS + Math.floor(rng.uniform(0, 30 * MIN));
  const faults: Fault[] = [];
  if (!rng.chance(NOISE_ONLY_SHARE)) {
    if (rng.chance(OVERLAP_SHARE)) {
      const a = tryDraw(c, () => pick(rng, OVERLAPPABLE), start);
      const bStart = a === null ? start : start + rng.int(5, 20) * MIN + Math.floor(rng.uniform(0, MIN));
      const b = a === null ? null : tryDraw(c, () => pick(rng, OVERLAPPABLE), bStart);
      if (a && b && compatible(c, a, b)) faults.push(a, b);
    }
    if (faults.length === 0) {
      const f = tryDraw(c, () => weighted(rng, list), start) ?? tryDraw(c, () => countryBlackhole, start, 1);
      if (f) faults.push(f);
    }
  }
  const end = faults.length === 0 ? start + 40 * MIN : Math.max(...faults.map((f) => f.to));
  world.to = end + TAIL_MS;
  placeNoise(world, rng, faults);
  return { faults, labels: faults.flatMap((f) => f.labels) };
}

/**
 * Noise roles, by construction under every threshold: at most one flapping target, one in
 * maintenance (for about an hour) and one slow target, each in a country no fault touches,
 * flapping and maintenance in different countries and categories, none of them a control or the
 * CDN target. A single down or slow target never makes a group of >= 2 reach 70% down or a
 * median of >= 3 slow.
 */
function placeNoise(world: TruthWorld, rng: Rng, faults: readonly Fault[]): void {
  const touched = new Set(faults.flatMap((f) => [...f.touched]));
  const free = liveTargets(world).filter((t) => !t.cdn && !touched.has(t.target.country));
  const take = (avoid: (t: TruthTarget) => boolean): TruthTarget | null => {
    const pool = free.filter((t) => t.noise === 'none' && !avoid(t));
    return pool.length === 0 ? null : pick(rng, pool);
  };
  const flap = rng.chance(0.5) ? take(() => false) : null;
  if (flap) {
    flap.noise = 'flapping';
    flap.role = 'flapping';
  }
  const maint = rng.chance(0.5) ? take((t) => flap !== null && (t.target.country === flap.target.country || t.target.category === flap.target.category)) : null;
  if (maint) {
    maint.noise = 'maintenance';
    maint.noiseFrom = world.from + Math.floor(rng.uniform(10 * MIN, WARMUP_MS + 30 * MIN));
    maint.noiseTo = maint.noiseFrom + rng.int(50, 70) * MIN;
  }
  const slow = rng.chance(0.5) ? take(() => false) : null;
  if (slow) {
    slow.noise = 'slow';
    slow.noiseFrom = world.from + Math.floor(rng.uniform(WARMUP_MS - 10 * MIN, WARMUP_MS + 30 * MIN));
    slow.noiseTo = slow.noiseFrom + rng.int(30, 60) * MIN;
  }
}
