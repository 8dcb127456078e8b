/**
 * Scenario files for `lookout simulate`: a world (countries, ASNs, targets by category,
 * controls), a timeline of faults and the events the daemon is expected to report.
 *
 * A scenario is YAML validated by a strict zod schema (unknown keys are errors); every problem
 * is reported at once as `path.to.field: message`, like the daemon's own config. Times are
 * durations from the moment the daemon starts (`at`), fault lengths are `for` (absent: until
 * the end). Pure apart from loadScenario() reading the file.
 */
import { readFile } from 'node:fs/promises';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../config/errors.js';
import { formatPath, issueProblems, type Problem } from '../config/format.js';
import { parseDuration } from '../config/duration.js';
import { DetectionConfig, Duration, WINDOW_KINDS, WINDOW_REASONS } from '../config/schema.js';
import { EVENT_KINDS, MECHANISMS } from '../detect/events.js';
import { MAX_ASNS_PER_COUNTRY, MAX_HOSTS_PER_ASN } from './addressing.js';
import { HOSTILE_BEHAVIOURS, hostileAppliesTo } from './hostile.js';

/** How a world target is served and probed: https is http over TLS, tls a bare handshake. */
export const WORLD_KINDS = ['http', 'https', 'tls', 'tcp', 'dns'] as const;
export type WorldKind = (typeof WORLD_KINDS)[number];

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a lower-case slug (a-z, 0-9, "-", "_")').max(40);
const CountryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as KZ');
const Asn = z.number().int().min(1).max(4_294_967_295);

const WorldTargetGroup = z.strictObject({
  /** Short name; targets are called `<country>-<name>-<n>`, e.g. kz-gov-1. */
  name: Slug,
  kind: z.enum(WORLD_KINDS),
  category: Slug,
  /** Default: the country's first ASN. */
  asn: Asn.optional(),
  /**
   * The targets belong to this country but are served from another country's address space
   * (its first ASN): a CDN edge abroad. They declare no ASN; faults scoped by country or ASN
   * hit them where they are served from.
   */
  located_in: CountryCode.optional(),
  count: z.number().int().min(1).max(MAX_HOSTS_PER_ASN).default(1),
});

const WorldCountry = z.strictObject({
  code: CountryCode,
  asns: z.array(Asn).min(1).max(MAX_ASNS_PER_COUNTRY),
  targets: z.array(WorldTargetGroup).min(1),
});

/**
 * Which targets a fault hits: every given field must match. `international` means every target
 * outside the vantage's country, controls included (the international gateway); `controls`
 * only the controls.
 */
export const Scope = z
  .strictObject({
    country: CountryCode.optional(),
    asn: Asn.optional(),
    category: Slug.optional(),
    /** A target id such as kz-gov-1. */
    target: z.string().min(1).optional(),
    international: z.literal(true).optional(),
    controls: z.literal(true).optional(),
  })
  .refine((s) => Object.keys(s).length > 0, 'must name at least one of country, asn, category, target, international, controls');
export type Scope = z.output<typeof Scope>;

/** A point in the scenario: a duration from the daemon's start, 0s allowed. */
const Instant = z.string({ error: 'expected a time such as 0s, 500ms or 20s' }).transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === null || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `invalid time "${s}": use a number with ms, s, m or h (0s, 500ms, 20s)` });
    return z.NEVER;
  }
  return ms;
});

const FaultCommon = {
  /** Names the fault in the output and in `expect[].cause`; default `<fault>-<index>`. */
  id: Slug.optional(),
  at: Instant,
  for: Duration.optional(),
};

const Probability = z.number().gt(0).max(1);

export const Fault = z.discriminatedUnion(
  'fault',
  [
    /** iptables DROP: connects time out. */
    z.strictObject({ ...FaultCommon, fault: z.literal('blackhole'), scope: Scope }),
    /** iptables REJECT --reject-with tcp-reset: connects are refused with a reset. */
    z.strictObject({ ...FaultCommon, fault: z.literal('reset'), scope: Scope }),
    /** iptables REJECT icmp-net-unreachable. */
    z.strictObject({ ...FaultCommon, fault: z.literal('unreachable'), scope: Scope }),
    /** An iptables string match on the targets' names (TLS SNI, HTTP Host) answered with a reset. */
    z.strictObject({ ...FaultCommon, fault: z.literal('sni_filter'), scope: Scope }),
    /** The vantage's resolver answers NXDOMAIN for the targets' names. */
    z.strictObject({ ...FaultCommon, fault: z.literal('dns_nxdomain'), scope: Scope }),
    /** The vantage's resolver answers a bogon address (default 0.0.0.0) for the targets' names. */
    z.strictObject({
      ...FaultCommon,
      fault: z.literal('dns_bogon'),
      scope: Scope,
      answer: z.string().regex(/^(0\.0\.0\.0|10\.\d+\.\d+\.\d+|192\.168\.\d+\.\d+)$/, 'must be 0.0.0.0 or an RFC 1918 address').default('0.0.0.0'),
    }),
    /** The targets' HTTP servers answer with a blockpage: 200 with the blockpage text, or 451. */
    z.strictObject({ ...FaultCommon, fault: z.literal('blockpage'), scope: Scope, status: z.union([z.literal(200), z.literal(451)]).default(200) }),
    /** Server-side delay before every answer plus random SYN loss (iptables statistic). */
    z.strictObject({ ...FaultCommon, fault: z.literal('throttle'), scope: Scope, delay: Duration, syn_loss: Probability.optional() }),
    /** Noise: targets that never answer (a dead host). */
    z.strictObject({ ...FaultCommon, fault: z.literal('dead'), scope: Scope }),
    /** Noise: targets that alternate between blackholed and fine every half `period`. */
    z.strictObject({ ...FaultCommon, fault: z.literal('flapping'), scope: Scope, period: Duration }),
    /** Noise: targets that answer late by `delay`. */
    z.strictObject({ ...FaultCommon, fault: z.literal('slow'), scope: Scope, delay: Duration }),
    /** The vantage itself loses everything: every world address, controls and resolver included. */
    z.strictObject({ ...FaultCommon, fault: z.literal('vantage_cut') }),
    /**
     * A middlebox answering in the server's place (src/sim/hostile.ts): garbage instead of HTTP
     * or TLS, endless headers, forged DNS answers... on the targets of the scope it applies to.
     */
    z.strictObject({
      ...FaultCommon,
      fault: z.literal('hostile'),
      scope: Scope,
      behaviour: z.enum(HOSTILE_BEHAVIOURS, { error: `must be one of ${HOSTILE_BEHAVIOURS.join(', ')}` }),
    }),
  ],
  { error: 'must be one of blackhole, reset, unreachable, sni_filter, dns_nxdomain, dns_bogon, blockpage, throttle, dead, flapping, slow, vantage_cut, hostile' },
);
export type Fault = z.output<typeof Fault> & { id: string };
export type FaultKind = Fault['fault'];

const ExpectedEvent = z.strictObject({
  kind: z.enum(EVENT_KINDS),
  /** Absent: the event has no country (vantage_offline). */
  country: CountryCode.optional(),
  asn: Asn.optional(),
  category: Slug.optional(),
  /** Checked when given. */
  mechanism: z.enum(MECHANISMS).optional(),
  /** The fault that should cause it; the onset delay is measured from its `at`. */
  cause: Slug.optional(),
  /** Longest acceptable onset delay (needs `cause`). */
  within: Duration.optional(),
  /** Largest acceptable distance of the event's started_at from its cause's `at`, either way (needs `cause`). */
  start_within: Duration.optional(),
  /** The event is expected to be still open when the scenario ends; default false (it closes). */
  open_at_end: z.boolean().default(false),
  /** The `expected` window the event must carry (`expected: <window>` in the API); absent: none checked. */
  expected: Slug.optional(),
  /** Whether the event must still be open when that window ends (the announced cut overran); absent: not checked. */
  overran: z.boolean().optional(),
});
export type ExpectedEvent = z.output<typeof ExpectedEvent>;

/**
 * A window of the daemon's `windows:` (issue 25) at a time of the scenario: `at` after the
 * daemon's start (to the whole second: the daemon's cron has one-second resolution), open
 * `for`. The daemon gets it as a cron expression naming that second's date in UTC.
 */
const ScenarioWindow = z.strictObject({
  name: Slug,
  kind: z.enum(WINDOW_KINDS),
  at: Instant,
  for: Duration,
  countries: z.array(CountryCode).default([]),
  /** A watch window's interval. */
  interval: Duration.optional(),
  /** An expected window's reason. */
  reason: z.enum(WINDOW_REASONS).optional(),
});
export type ScenarioWindow = z.output<typeof ScenarioWindow>;

const ScenarioFile = z.strictObject({
  name: Slug,
  description: z.string().default(''),
  /**
   * Location databases for the daemon (geo.country_db / geo.asn_db), relative to the scenario
   * file. Absent: the daemon runs with the location check off.
   */
  geo: z.strictObject({ country_db: z.string().min(1), asn_db: z.string().min(1).optional() }).optional(),
  /** `country` set: the inside-out perspective (the vantage sits in that country). */
  vantage: z.strictObject({ country: CountryCode.optional() }).prefault({}),
  schedule: z
    .strictObject({
      interval: Duration.default(2_000),
      timeout: Duration.default(1_000),
      confirm_delay: Duration.default(500),
    })
    .prefault({}),
  /** Detection settings for the daemon, as in its config; evaluate_every defaults to 1s here. */
  detection: DetectionConfig.partial().default({}),
  world: z.strictObject({
    controls: z.number().int().min(1).max(50).default(3),
    countries: z.array(WorldCountry).min(1),
  }),
  /** How long the scenario runs, from the daemon's start. */
  duration: Duration,
  faults: z.array(Fault).default([]),
  /** Windows on a timetable for the daemon (issue 25). */
  windows: z.array(ScenarioWindow).default([]),
  expect: z.array(ExpectedEvent).default([]),
});

export type ScenarioFile = z.output<typeof ScenarioFile>;
export interface Scenario extends Omit<ScenarioFile, 'faults' | 'detection'> {
  /** Absolute or as-given path of the file, for messages. */
  path: string;
  faults: Fault[];
  detection: z.output<typeof DetectionConfig>;
}

/** Defaults for compressed time: evaluate every second. */
const SCENARIO_DETECTION = { evaluate_every: '1s' };

/** Parses and validates a scenario document; throws ConfigError listing every problem. */
export function parseScenario(text: string, path: string): Scenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${path}:${line}:${col}: ${e.message.split('\n')[0] ?? e.message}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // toJS throws for an alias without its anchor and for alias abuse (too many expansions).
    throw new ConfigError([`${path}: ${err instanceof Error ? err.message : String(err)}`]);
  }
  if (!isMap(doc.contents)) throw new ConfigError([`${path}: a scenario must be a YAML mapping`]);
  const parsed = ScenarioFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(render(path, issueProblems(parsed.error.issues), raw));
  const file = parsed.data;
  const detection = DetectionConfig.safeParse({ ...SCENARIO_DETECTION, ...(isObject(raw) && isObject(raw.detection) ? raw.detection : {}) });
  if (!detection.success) throw new ConfigError(render(path, issueProblems(detection.error.issues, ['detection']), raw));
  const faults = file.faults.map((f, i) => ({ ...f, id: f.id ?? `${f.fault.replace(/_/g, '-')}-${i + 1}` }));
  const scenario: Scenario = { ...file, path, faults, detection: detection.data };
  const problems = crossCheck(scenario);
  if (problems.length > 0) throw new ConfigError(render(path, problems, raw));
  return scenario;
}

/** Reads and validates a scenario file; throws ConfigError (also for an unreadable file). */
export async function loadScenario(path: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`${path}: cannot read the scenario: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return parseScenario(text, path);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function render(path: string, problems: readonly Problem[], raw: unknown): string[] {
  return problems.map((p) => `${path}: ${formatPath(p.path, raw)}: ${p.message}`);
}

/** A world target as the scenario defines it, before addresses are assigned. */
export interface WorldTargetSpec {
  /** `<country>-<name>-<n>`, lower case. */
  id: string;
  kind: WorldKind;
  country: string;
  /** Declared ASN; null for a target served from abroad (located_in). */
  asn: number | null;
  category: string;
  /** Where its address is: the country and ASN block it is allocated in. */
  at: { country: string; asn: number };
  /** Host number inside that ASN's block (1..62). */
  host: number;
}

/** The targets a scenario's world defines, in file order. Assumes a validated scenario. */
/** The id of control n (1-based), as the world names it. */
export function controlId(n: number): string {
  return `control-${n}`;
}

export function worldTargets(scenario: Pick<Scenario, 'world'>): WorldTargetSpec[] {
  const out: WorldTargetSpec[] = [];
  // Host numbers are handed out per address block, across countries: a target served from
  // abroad takes the next host of the block it is located in.
  const next = new Map<string, number>();
  const asnsOf = new Map(scenario.world.countries.map((c) => [c.code, c.asns]));
  for (const country of scenario.world.countries) {
    for (const group of country.targets) {
      // An unknown located_in is reported by crossCheck; lay the group out at home meanwhile.
      const abroad = group.located_in !== undefined && asnsOf.has(group.located_in) ? group.located_in : undefined;
      const at =
        abroad === undefined
          ? { country: country.code, asn: group.asn ?? defaultAsn(country.asns) }
          : { country: abroad, asn: defaultAsn(asnsOf.get(abroad) ?? []) };
      const block = `${at.country}|${at.asn}`;
      for (let n = 1; n <= group.count; n++) {
        const host = (next.get(block) ?? 0) + 1;
        next.set(block, host);
        out.push({
          id: `${country.code.toLowerCase()}-${group.name}-${n}`,
          kind: group.kind,
          country: country.code,
          asn: group.located_in === undefined ? at.asn : null,
          category: group.category,
          at,
          host,
        });
      }
    }
  }
  return out;
}

/** A target group's ASN when it names none: the country's first (the schema requires one). */
function defaultAsn(asns: readonly number[]): number {
  const [first] = asns;
  if (first === undefined) throw new Error('a world country needs at least one ASN');
  return first;
}

/** Checks across fields that the schema cannot: references, counts and times. */
function crossCheck(s: Scenario): Problem[] {
  const problems: Problem[] = [];
  const codes = new Set<string>();
  s.world.countries.forEach((c, i) => {
    if (codes.has(c.code)) problems.push({ path: ['world', 'countries', i, 'code'], message: `country ${c.code} appears twice` });
    codes.add(c.code);
    if (new Set(c.asns).size !== c.asns.length) problems.push({ path: ['world', 'countries', i, 'asns'], message: 'an ASN appears twice' });
    c.targets.forEach((g, j) => {
      const at = ['world', 'countries', i, 'targets', j];
      if (g.located_in !== undefined) {
        if (g.asn !== undefined) problems.push({ path: [...at, 'asn'], message: 'a target group located_in another country declares no ASN' });
        if (g.located_in === c.code) problems.push({ path: [...at, 'located_in'], message: `must be another country than ${c.code}` });
        else if (!s.world.countries.some((o) => o.code === g.located_in)) problems.push({ path: [...at, 'located_in'], message: `${g.located_in} is not a country of the world` });
        return;
      }
      const asn = g.asn ?? defaultAsn(c.asns);
      if (!c.asns.includes(asn)) problems.push({ path: [...at, 'asn'], message: `ASN ${asn} is not one of ${c.code}'s asns` });
    });
  });
  const perBlock = new Map<string, number>();
  for (const t of worldTargets(s)) perBlock.set(`${t.at.country}|${t.at.asn}`, Math.max(perBlock.get(`${t.at.country}|${t.at.asn}`) ?? 0, t.host));
  for (const [block, n] of perBlock) {
    const [code, asn] = block.split('|');
    const i = s.world.countries.findIndex((c) => c.code === code);
    if (n > MAX_HOSTS_PER_ASN) problems.push({ path: ['world', 'countries', i, 'targets'], message: `AS${asn} has ${n} targets; at most ${MAX_HOSTS_PER_ASN} fit` });
  }
  const ids = worldTargets(s).map((t) => t.id);
  const dup = ids.find((id, k) => ids.indexOf(id) !== k);
  // Controls are targets too (control-1 ... control-N, as world.ts names them): a fault may hit one.
  for (let n = 1; n <= s.world.controls; n++) ids.push(controlId(n));
  if (dup !== undefined) problems.push({ path: ['world', 'countries'], message: `target id ${dup} is defined twice (target names must be unique within a country)` });
  if (s.vantage.country !== undefined && !codes.has(s.vantage.country)) {
    problems.push({ path: ['vantage', 'country'], message: `${s.vantage.country} is not a country of the world` });
  }
  if (s.schedule.timeout >= s.schedule.interval) problems.push({ path: ['schedule', 'timeout'], message: 'must be shorter than schedule.interval' });

  const faultIds = new Set<string>();
  s.faults.forEach((f, i) => {
    const at = ['faults', i];
    if (faultIds.has(f.id)) problems.push({ path: [...at, 'id'], message: `fault id ${f.id} appears twice` });
    faultIds.add(f.id);
    const end = f.at + (f.for ?? 0);
    if (end > s.duration || f.at >= s.duration) problems.push({ path: [...at, f.for === undefined ? 'at' : 'for'], message: `ends after the scenario's duration (${s.duration / 1000}s)` });
    if (f.for !== undefined && f.for <= 0) problems.push({ path: [...at, 'for'], message: 'must be longer than 0s' });
    if ('scope' in f) {
      const why = scopeProblem(f.scope, s, ids);
      if (why !== null) problems.push({ path: [...at, 'scope'], message: why });
    }
    if (f.fault === 'hostile' && scopeProblem(f.scope, s, ids) === null) {
      const kinds = new Set<WorldKind>(worldTargets(s).filter((t) => inScope(t, f.scope, s.vantage.country)).map((t) => t.kind));
      // Controls (tls, no ASN, category "control") are laid out by world.ts, not worldTargets().
      const sc = f.scope;
      if (sc.asn === undefined && sc.country === undefined && (sc.category ?? 'control') === 'control' && (sc.target ?? 'control-').startsWith('control-')) kinds.add('tls');
      if (![...kinds].some((k) => hostileAppliesTo(f.behaviour, k))) {
        const fits = WORLD_KINDS.filter((k) => hostileAppliesTo(f.behaviour, k)).join(', ');
        problems.push({ path: [...at, 'behaviour'], message: `${f.behaviour} acts on ${fits} targets; the scope has none` });
      }
    }
    if (f.fault === 'flapping' && f.period < 2 * s.schedule.interval) problems.push({ path: [...at, 'period'], message: 'must be at least two probe intervals' });
    if ((f.fault === 'throttle' || f.fault === 'slow') && f.delay >= s.schedule.timeout) problems.push({ path: [...at, 'delay'], message: 'must be shorter than schedule.timeout (a delay past it is a blackhole)' });
  });

  problems.push(...windowProblems(s, codes));
  s.expect.forEach((e, i) => {
    const at = ['expect', i];
    if (e.expected !== undefined && !s.windows.some((w) => w.name === e.expected && w.kind === 'expected')) problems.push({ path: [...at, 'expected'], message: `no expected window is named ${e.expected}` });
    if (e.overran !== undefined && e.expected === undefined) problems.push({ path: [...at, 'overran'], message: 'needs expected (the window it overran)' });
    if (e.cause !== undefined && !faultIds.has(e.cause)) problems.push({ path: [...at, 'cause'], message: `no fault has id ${e.cause}` });
    if (e.within !== undefined && e.cause === undefined) problems.push({ path: [...at, 'within'], message: 'needs cause (the onset is measured from that fault)' });
    if (e.start_within !== undefined && e.cause === undefined) problems.push({ path: [...at, 'start_within'], message: 'needs cause (started_at is measured from that fault)' });
    const home = s.vantage.country;
    if (e.kind === 'vantage_offline' && e.country !== home) {
      problems.push({ path: [...at, 'country'], message: home === undefined ? 'vantage_offline has no country without vantage.country' : `vantage_offline is about the vantage's own country, ${home}` });
    }
    // A category blocked across countries from a vantage without a country has no country.
    const countryless = e.kind === 'vantage_offline' || (e.kind === 'service_blocking' && home === undefined);
    if (!countryless && e.country === undefined) problems.push({ path: [...at, 'country'], message: 'required' });
  });
  return problems;
}

/** The windows' own checks: unique names, known countries, an interval for watch only, a reason for expected only. */
function windowProblems(s: Scenario, codes: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  const names = new Set<string>();
  s.windows.forEach((w, i) => {
    const at = ['windows', i];
    if (names.has(w.name)) problems.push({ path: [...at, 'name'], message: `window name ${w.name} appears twice` });
    names.add(w.name);
    const unknown = w.countries.find((c) => !codes.has(c));
    if (unknown !== undefined) problems.push({ path: [...at, 'countries'], message: `${unknown} is not a country of the world` });
    if (w.for <= 0) problems.push({ path: [...at, 'for'], message: 'must be longer than 0s' });
    if (w.kind === 'watch' && w.interval === undefined) problems.push({ path: [...at, 'interval'], message: 'a watch window needs an interval' });
    if (w.kind !== 'watch' && w.interval !== undefined) problems.push({ path: [...at, 'interval'], message: 'only a watch window has an interval' });
    if (w.kind !== 'expected' && w.reason !== undefined) problems.push({ path: [...at, 'reason'], message: 'only an expected window has a reason' });
    if (w.at >= s.duration) problems.push({ path: [...at, 'at'], message: `starts after the scenario's duration (${s.duration / 1000}s)` });
  });
  return problems;
}

/** Whether a (non-control) world target is in `scope`; as world.ts selectTargets. */
function inScope(t: WorldTargetSpec, scope: Scope, vantageCountry: string | undefined): boolean {
  return (
    (scope.country === undefined || t.country === scope.country) &&
    (scope.asn === undefined || t.asn === scope.asn) &&
    (scope.category === undefined || t.category === scope.category) &&
    (scope.target === undefined || t.id === scope.target) &&
    scope.controls === undefined &&
    (scope.international === undefined || t.country !== vantageCountry)
  );
}

function scopeProblem(scope: Scope, s: Scenario, ids: readonly string[]): string | null {
  if (scope.international && s.vantage.country === undefined) return 'international needs vantage.country (the inside-out perspective)';
  if (scope.target !== undefined && !ids.includes(scope.target)) return `no target ${scope.target} in the world`;
  if (scope.country !== undefined && !s.world.countries.some((c) => c.code === scope.country)) return `${scope.country} is not a country of the world`;
  return null;
}
