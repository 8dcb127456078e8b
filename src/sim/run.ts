/**
 * Runs a scenario: builds the world, starts the real daemon (startApp, the same code `lookout
 * run` uses) on a generated config pointing at the world, plays the fault timeline against the
 * wall clock, watches the daemon's events over its own HTTP API (as an operator's tooling
 * would), then stops everything and compares expected with detected events.
 *
 * Must run inside a private network namespace (World.start checks). Times in the output are
 * seconds after the daemon started.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { startApp, type App } from '../app.js';
import { formatDuration } from '../config/duration.js';
import type { DisruptionEvent } from '../detect/events.js';
import { createLogger } from '../log.js';
import { compareEvents, describe, formatComparison, secs, type Comparison, type SeenEvent } from './compare.js';
import type { Fault, Scenario } from './scenario.js';
import { daemonTarget, RESOLVER_ADDRESS, World } from './world.js';
import { daemonWindows, overrunsOf, WindowWatch, type StatusWindow } from './windows.js';

export interface SimulationOptions {
  scenario: Scenario;
  /** Holds the generated config, the daemon's data dir and daemon.log. */
  workDir: string;
  /** The daemon's listen address; default 127.0.0.1 on a free port. */
  listen?: string;
  /** One line of progress or report output. */
  out: (line: string) => void;
  version: string;
  nodeVersion: string;
  /** How often the daemon's events are read; default 250 ms. */
  pollMs?: number;
  /** Aborting it ends the timeline early; the run still cleans up and compares. */
  signal?: AbortSignal;
  /** Whether workDir outlives the run (`--keep`); said beside the paths. Default false. */
  keep?: boolean;
}

/**
 * How the scenario's countries are judged: a vantage with a home country sees it inside-out and
 * every other country outside-in (docs/design.md "Two perspectives"); without one, all outside-in.
 */
export function perspective(scenario: Pick<Scenario, 'vantage' | 'world'>): string {
  const home = scenario.vantage.country;
  const others = scenario.world.countries.map((c) => c.code).filter((c) => c !== home);
  if (home === undefined) return 'outside-in';
  if (others.length === 0) return `inside-out (vantage in ${home})`;
  return `vantage in ${home}: ${home} inside-out, ${others.join(', ')} outside-in`;
}

export interface SimulationResult {
  comparison: Comparison;
  seen: SeenEvent[];
  /** Where the daemon listened. */
  address: string;
  /** True when the signal ended the run before the scenario's duration. */
  interrupted: boolean;
}

/**
 * The daemon's config for a scenario's world, as a plain object ready for YAML. The scenario's
 * windows start `at` after `zeroMs` (epoch ms; default now).
 */
export function daemonConfig(scenario: Scenario, world: Pick<World, 'targets'>, listen: string, zeroMs: number = Date.now()): Record<string, unknown> {
  const d = scenario.detection;
  return {
    vantage: { id: `sim-${scenario.name}`, ...(scenario.vantage.country === undefined ? {} : { country: scenario.vantage.country }) },
    server: { listen },
    storage: { dir: './data' },
    schedule: {
      interval: formatDuration(scenario.schedule.interval),
      timeout: formatDuration(scenario.schedule.timeout),
      confirm_delay: formatDuration(scenario.schedule.confirm_delay),
      concurrency: 256,
    },
    resolver: { servers: [`${RESOLVER_ADDRESS}:53`] },
    geo: scenarioGeo(scenario),
    detection: { ...d, baseline_window: formatDuration(d.baseline_window), evaluate_every: formatDuration(d.evaluate_every) },
    targets: world.targets.map(daemonTarget),
    ...(scenario.windows.length > 0 ? { windows: daemonWindows(scenario.windows, zeroMs) } : {}),
  };
}

/** The daemon's geo section: the scenario's databases (absolute paths), or the check off. */
function scenarioGeo(scenario: Scenario): { country_db: string | null; asn_db: string | null } {
  if (scenario.geo === undefined) return { country_db: null, asn_db: null };
  const dir = dirname(resolve(scenario.path));
  return { country_db: resolve(dir, scenario.geo.country_db), asn_db: scenario.geo.asn_db === undefined ? null : resolve(dir, scenario.geo.asn_db) };
}

interface Step {
  at: number;
  fault: Fault;
  on: boolean;
}

function timeline(faults: readonly Fault[]): Step[] {
  const steps: Step[] = [];
  for (const fault of faults) {
    steps.push({ at: fault.at, fault, on: true });
    if (fault.for !== undefined) steps.push({ at: fault.at + fault.for, fault, on: false });
  }
  // Removals before applications at the same instant, so a fault can hand over to the next.
  return steps.sort((a, b) => a.at - b.at || Number(a.on) - Number(b.on));
}

function faultLine(fault: Fault, world: World): string {
  const targets = world.targetsOf(fault);
  const extra =
    fault.fault === 'throttle'
      ? ` delay ${secs(fault.delay)}${fault.syn_loss === undefined ? '' : `, SYN loss ${Math.round(fault.syn_loss * 100)}%`}`
      : fault.fault === 'slow'
        ? ` delay ${secs(fault.delay)}`
        : fault.fault === 'blockpage'
          ? ` status ${fault.status}`
          : fault.fault === 'flapping'
            ? ` period ${secs(fault.period)}`
            : '';
  const which = fault.fault === 'vantage_cut' ? 'every world address' : `${targets.length} target${targets.length === 1 ? '' : 's'}: ${targets.map((t) => t.id).join(', ')}`;
  return `${fault.fault}${extra} (${which})`;
}

async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function isEvent(v: unknown): v is DisruptionEvent {
  return typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string' && typeof (v as { kind?: unknown }).kind === 'string';
}

/** Reads the daemon's events; null when the API did not answer. */
async function fetchEvents(address: string): Promise<DisruptionEvent[] | null> {
  try {
    const res = await fetch(`http://${address}/api/v1/events`, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { events?: unknown };
    return Array.isArray(body.events) ? body.events.filter(isEvent) : null;
  } catch {
    return null;
  }
}

/** GETs a path of the daemon; null when it did not answer 200. */
async function fetchText(address: string, path: string): Promise<string | null> {
  try {
    const res = await fetch(`http://${address}${path}`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.text() : null;
  } catch {
    return null;
  }
}

/**
 * One reading of the windows: prints each opening and closing, and for an expected window that
 * closed, each event still open inside it with the daemon's overrun metrics read then (the
 * event is marked `overran`).
 */
async function observeWindows(address: string, watch: WindowWatch, seen: ReadonlyMap<string, SeenEvent>, print: (line: string) => void): Promise<void> {
  const status = await fetchText(address, '/api/v1/status');
  if (status === null) return;
  const windows = (JSON.parse(status) as { windows?: StatusWindow[] }).windows ?? [];
  for (const { window, opened } of watch.changes(windows)) {
    print(`window ${window.name} ${opened ? 'opened' : 'closed'} (${window.kind})`);
    if (opened || window.kind !== 'expected') continue;
    const [events, metrics] = await Promise.all([fetchEvents(address), fetchText(address, '/metrics')]);
    for (const o of overrunsOf(window.name, events ?? [], metrics ?? '')) {
      const known = seen.get(o.event.id);
      if (known) known.overran = window.name;
      print(`overran: ${describe(o.event)} still open after expected window ${o.window} ended (lookout_disruption_expected ${o.expectedGauge ?? 'absent'}, lookout_window_active ${o.activeGauge ?? 'absent'})`);
    }
  }
}

/** Runs the scenario to its end; see the module comment. Rejects only for setup failures. */
export async function runScenario(opts: SimulationOptions): Promise<SimulationResult> {
  const { scenario, out } = opts;
  await mkdir(opts.workDir, { recursive: true });
  const world = await World.start(scenario);
  let app: App | null = null;
  const logFile = join(opts.workDir, 'daemon.log');
  const logStream = createWriteStream(logFile, { flags: 'a' });
  try {
    const listen = opts.listen ?? `127.0.0.1:${await freeLoopbackPort()}`;
    const configPath = join(opts.workDir, 'lookout.yaml');
    await writeFile(configPath, `# generated by lookout simulate for scenario ${scenario.name}\n${stringify(daemonConfig(scenario, world, listen, Date.now()))}`);
    const countries = scenario.world.countries.map((c) => c.code).join(', ');
    out(`scenario ${scenario.name}: ${world.targets.length} targets (${scenario.world.controls} controls; ${countries}), perspective ${perspective(scenario)}`);
    out(`schedule: interval ${secs(scenario.schedule.interval)}, timeout ${secs(scenario.schedule.timeout)}, confirm ${secs(scenario.schedule.confirm_delay)}; runs ${secs(scenario.duration)}`);
    out(`daemon: config ${configPath}, log ${logFile}, listening on ${listen}${opts.keep === true ? ' (kept after the run)' : ' (deleted after the run; --keep keeps them)'}`);

    app = await startApp({ configPath, log: createLogger('info', logStream), version: opts.version, nodeVersion: opts.nodeVersion });
    const started = Date.now();
    const at = (): number => Date.now() - started;
    const stamp = (ms: number): string => `t=+${secs(ms).padStart(6)}`;

    const seen = new Map<string, SeenEvent>();
    const observe = (events: readonly DisruptionEvent[]): void => {
      const now = at();
      for (const event of events) {
        const known = seen.get(event.id);
        if (!known) {
          seen.set(event.id, { event, seenAt: now, closedAt: event.ended_at === null ? null : now, startedAt: Date.parse(event.started_at) - started });
          out(`${stamp(now)}  event opened: ${describe(event)} (${event.summary})`);
          if (event.ended_at !== null) out(`${stamp(now)}  event closed: ${describe(event)}`);
        } else {
          if (known.closedAt === null && event.ended_at !== null) {
            known.closedAt = now;
            out(`${stamp(now)}  event closed: ${describe(event)}`);
          }
          known.event = event;
        }
      }
    };
    let polling = true;
    const watch = scenario.windows.length > 0 ? new WindowWatch() : null;
    const poller = (async (): Promise<void> => {
      while (polling) {
        const events = await fetchEvents(listen);
        if (events) observe(events);
        if (watch) await observeWindows(listen, watch, seen, (line) => out(`${stamp(at())}  ${line}`));
        await sleep(opts.pollMs ?? 250);
      }
    })();

    let interrupted = false;
    const until = async (ms: number): Promise<void> => {
      if (ms <= 0) return;
      await sleep(ms, undefined, opts.signal ? { signal: opts.signal } : {});
    };
    try {
      for (const step of timeline(scenario.faults)) {
        await until(step.at - at());
        if (step.on) {
          await world.apply(step.fault);
          out(`${stamp(at())}  fault ${step.fault.id} on: ${faultLine(step.fault, world)}`);
        } else {
          await world.remove(step.fault.id);
          out(`${stamp(at())}  fault ${step.fault.id} off`);
        }
      }
      await until(scenario.duration - at());
    } catch (err) {
      if (!opts.signal?.aborted) throw err;
      interrupted = true;
      out(`${stamp(at())}  interrupted`);
    } finally {
      polling = false;
      await poller;
    }
    const last = await fetchEvents(listen);
    if (last) observe(last);
    if (!interrupted) out(`${stamp(at())}  scenario over`);
    const all = [...seen.values()];
    return { comparison: compareEvents(scenario.expect, all, scenario.faults), seen: all, address: listen, interrupted };
  } finally {
    await app?.stop(1000);
    await world.close();
    await new Promise<void>((resolve) => logStream.end(() => resolve()));
  }
}

export { formatComparison };
