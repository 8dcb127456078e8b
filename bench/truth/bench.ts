/**
 * The ground-truth benchmark: world `seed + i` for i in [0, worlds), each generated, replayed
 * through the detector (default `detection:` settings) and scored against its labels. Pure apart
 * from the clock used for the throughput figure; the CLI is run.ts.
 */
import { performance } from 'node:perf_hooks';
import { DetectionConfig } from '../../src/config/schema.js';
import type { DetectorOptions } from '../../src/detect/options.js';
import { replay } from '../../src/detect/replay.js';
import { episodes, type Episode } from '../replay/score.js';
import { drawFaults, type Fault, type Label } from './faults.js';
import { addToTally, emptyTally, scoreWorld, spread, type Spread, type Tally, type WorldScore } from './score.js';
import { worldRun } from './stream.js';
import { buildTruthWorld, isV6, liveTargets, type TruthWorld } from './world.js';

export interface WorldRun {
  world: TruthWorld;
  faults: Fault[];
  labels: Label[];
  results: number;
  /** Probes of the slots (regular and confirm) and extra probes of adaptive probing. */
  scheduled: number;
  extra: number;
  episodes: Episode[];
  score: WorldScore;
}

export function detectorOptions(world: TruthWorld): DetectorOptions {
  return { detection: DetectionConfig.parse({}), vantage: world.vantage, targets: world.targets.map((t) => t.target) };
}

/** Generates world `seed` with its faults and labels (no replay). Deterministic. */
export function generateWorld(seed: number): { world: TruthWorld; faults: Fault[]; labels: Label[] } {
  const world = buildTruthWorld(seed);
  const { faults, labels } = drawFaults(world);
  return { world, faults, labels };
}

/** Generates, replays and scores world `seed`. */
export function runWorld(seed: number): WorldRun {
  const { world, faults, labels } = generateWorld(seed);
  const { results, scheduled, extra } = worldRun(world, faults);
  const eps = episodes(replay(results, detectorOptions(world), world.to));
  return { world, faults, labels, results: results.length, scheduled, extra, episodes: eps, score: scoreWorld(labels, eps, world.to) };
}

export interface Mismatch {
  type: 'missed' | 'extra' | 'wrong mechanism';
  seed: number;
  /** Which rule's contract this is about (the event kind and perspective). */
  kind: string;
  text: string;
}

export interface TruthReport {
  seed: number;
  worlds: number;
  byPerspective: Record<string, number>;
  faultKinds: Record<string, number>;
  overlapping: number;
  targets: { total: number; ipv6: number; cdnWorlds: number };
  tally: Tally;
  onset: Spread | null;
  startError: Spread | null;
  noiseOnly: { worlds: number; withEvents: number; events: number; scheduled: number; extra: number };
  mismatches: Mismatch[];
  results: number;
  seconds: number;
}

const rel = (ms: number, base: number): string => `${ms >= base ? '+' : ''}${Math.round((ms - base) / 1000)}s`;

/** kind country [AS] [category] */
export function identity(x: { kind: string; country: string | null; asn: number | null; category: string | null }): string {
  return `${x.kind} ${x.country ?? '(null)'}${x.asn !== null ? ` AS${x.asn}` : ''}${x.category !== null ? ` ${x.category}` : ''}`;
}

/** One line about the world and its faults. */
export function describeWorld(run: Pick<WorldRun, 'world' | 'faults'>): string {
  const w = run.world;
  const live = liveTargets(w);
  const faults = run.faults.length === 0 ? 'no fault' : run.faults.map((f) => f.text).join(' + ');
  return `[${w.perspective}${w.home ? ` home ${w.home}` : ''}, ${w.countries.length} countries, ${live.length} live targets, ${w.categories.length} categories] ${faults}`;
}

export function describeEpisode(ep: Episode, base: number): string {
  const end = ep.endedAt === null ? 'still open' : `ended ${rel(ep.endedAt, base)}`;
  return `${identity(ep)}${ep.mechanism ? ` (${ep.mechanism})` : ''} started ${rel(ep.startedAt, base)}, opened ${rel(ep.openedAt, base)}, ${end}`;
}

export function describeLabel(l: Label, base: number): string {
  return `${identity(l)}${l.mechanism && l.kind === 'service_blocking' ? ` (${l.mechanism})` : ''} ${rel(l.from, base)}..${rel(l.to, base)}${l.optional ? ' optional' : ''}`;
}

/** Times in mismatch texts are relative to the first fault's start (or the end of the warm-up). */
export function baseOf(run: Pick<WorldRun, 'faults' | 'world'>): number {
  return run.faults[0]?.from ?? run.world.from;
}

function mismatchesOf(run: WorldRun): Mismatch[] {
  const base = baseOf(run);
  const head = `seed ${run.world.seed} ${describeWorld(run)}`;
  const persp = (c: string | null): string => (run.world.home !== null && c === run.world.home ? 'inside-out' : 'outside-in');
  return [
    ...run.score.missed.map((l) => ({ type: 'missed' as const, seed: run.world.seed, kind: `${l.kind}/${persp(l.country)}`, text: `${head}: missed ${describeLabel(l, base)}` })),
    ...run.score.extra.map((ep) => ({ type: 'extra' as const, seed: run.world.seed, kind: `${ep.kind}/${persp(ep.country)}`, text: `${head}: extra ${describeEpisode(ep, base)}` })),
    ...run.score.wrongMechanism.map(({ label, episode }) => ({
      type: 'wrong mechanism' as const,
      seed: run.world.seed,
      kind: `${label.kind}/${persp(label.country)}`,
      text: `${head}: ${identity(label)} expected ${label.mechanism}, got ${episode.mechanism}`,
    })),
  ];
}

export interface TruthOptions {
  seed: number;
  worlds: number;
  /** Called after each world (progress, verbose output). */
  onWorld?: (run: WorldRun) => void;
}

export function runTruthBench(opts: TruthOptions): TruthReport {
  const tally = emptyTally();
  const onset: number[] = [];
  const startError: number[] = [];
  const mismatches: Mismatch[] = [];
  const byPerspective: Record<string, number> = {};
  const faultKinds: Record<string, number> = {};
  const noiseOnly = { worlds: 0, withEvents: 0, events: 0, scheduled: 0, extra: 0 };
  const targets = { total: 0, ipv6: 0, cdnWorlds: 0 };
  let overlapping = 0;
  let results = 0;
  const t0 = performance.now();
  for (let i = 0; i < opts.worlds; i++) {
    const run = runWorld(opts.seed + i);
    const w = run.world;
    results += run.results;
    byPerspective[w.perspective] = (byPerspective[w.perspective] ?? 0) + 1;
    for (const f of run.faults) faultKinds[f.kind] = (faultKinds[f.kind] ?? 0) + 1;
    if (run.faults.length > 1) overlapping++;
    targets.total += w.targets.length;
    targets.ipv6 += w.targets.filter(isV6).length;
    if (w.targets.some((t) => t.cdn)) targets.cdnWorlds++;
    if (run.faults.length === 0) {
      noiseOnly.worlds++;
      noiseOnly.events += run.episodes.length;
      noiseOnly.scheduled += run.scheduled;
      noiseOnly.extra += run.extra;
      if (run.episodes.length > 0) noiseOnly.withEvents++;
    }
    addToTally(tally, run.score, w.home);
    for (const { label, episode } of run.score.matches) {
      if (!episode) continue;
      onset.push(episode.openedAt - label.from);
      startError.push(Math.abs(episode.startedAt - label.from));
    }
    mismatches.push(...mismatchesOf(run));
    opts.onWorld?.(run);
  }
  return {
    seed: opts.seed,
    worlds: opts.worlds,
    byPerspective,
    faultKinds,
    overlapping,
    targets,
    tally,
    onset: spread(onset),
    startError: spread(startError),
    noiseOnly,
    mismatches,
    results,
    seconds: (performance.now() - t0) / 1000,
  };
}
