/**
 * Scoring one ground-truth world: matches the detector's episodes to the labels, and folds many
 * worlds into precision and recall per event kind and perspective, the mechanism errors, onset
 * delay and start-time error.
 *
 * Match: same identity (kind, country, asn, category), and the episode's [min(started_at,
 * opened), ended_at or world end] overlaps the label's window widened by MATCH_SLACK_MS on both
 * sides. An episode matching only optional labels counts neither way; a wrong mechanism (for
 * service_blocking) still matches and is counted apart.
 */
import { EVENT_KINDS, type EventKind } from '../../src/detect/events.js';
import { quantile, type Episode } from '../replay/score.js';
import type { Label } from './faults.js';
import type { Perspective } from './world.js';

/** Two intervals. */
export const MATCH_SLACK_MS = 120_000;

export type EventPerspective = Exclude<Perspective, 'home-plus-foreign'>;

/** inside-out when the event is about the home country, else outside-in. */
export function perspectiveOf(country: string | null, home: string | null): EventPerspective {
  return home !== null && country === home ? 'inside-out' : 'outside-in';
}

export interface WorldScore {
  /** Required labels that no episode matched. */
  missed: Label[];
  /** Episodes that matched no label. */
  extra: Episode[];
  /** Matched service_blocking episodes with another mechanism than the label's. */
  wrongMechanism: { label: Label; episode: Episode }[];
  /** Per required label: its earliest matching episode, or null. */
  matches: { label: Label; episode: Episode | null }[];
  /** Episodes that matched a required label. */
  matchedEpisodes: Episode[];
  /** Episodes that matched only optional labels (not scored). */
  optionalEpisodes: Episode[];
}

export function sameIdentity(ep: Episode, l: Label): boolean {
  return ep.kind === l.kind && ep.country === l.country && ep.asn === l.asn && ep.category === l.category;
}

export function overlaps(ep: Episode, l: Label, worldEnd: number): boolean {
  const from = Math.min(ep.startedAt, ep.openedAt);
  const to = ep.endedAt ?? worldEnd;
  return from <= l.to + MATCH_SLACK_MS && to >= l.from - MATCH_SLACK_MS;
}

export function scoreWorld(labels: readonly Label[], eps: readonly Episode[], worldEnd: number): WorldScore {
  const hit = (ep: Episode, l: Label): boolean => sameIdentity(ep, l) && overlaps(ep, l, worldEnd);
  const required = labels.filter((l) => !l.optional);
  const matches = required.map((label) => ({
    label,
    episode: eps.filter((ep) => hit(ep, label)).sort((a, b) => a.openedAt - b.openedAt)[0] ?? null,
  }));
  const matchedEpisodes = eps.filter((ep) => required.some((l) => hit(ep, l)));
  const optionalEpisodes = eps.filter((ep) => !matchedEpisodes.includes(ep) && labels.some((l) => l.optional && hit(ep, l)));
  const wrongMechanism = matches.flatMap(({ label, episode }) =>
    episode !== null && label.kind === 'service_blocking' && episode.mechanism !== label.mechanism ? [{ label, episode }] : [],
  );
  return {
    missed: matches.filter((m) => m.episode === null).map((m) => m.label),
    extra: eps.filter((ep) => !matchedEpisodes.includes(ep) && !optionalEpisodes.includes(ep)),
    wrongMechanism,
    matches,
    matchedEpisodes,
    optionalEpisodes,
  };
}

/** Counts for one (kind, perspective) cell. */
export interface Cell {
  labels: number;
  matchedLabels: number;
  detected: number;
  matchedDetected: number;
  wrongMechanism: number;
}

export type Tally = Record<EventKind, Record<EventPerspective, Cell>>;

const emptyCell = (): Cell => ({ labels: 0, matchedLabels: 0, detected: 0, matchedDetected: 0, wrongMechanism: 0 });

export function emptyTally(): Tally {
  const t = {} as Tally;
  for (const k of EVENT_KINDS) t[k] = { 'outside-in': emptyCell(), 'inside-out': emptyCell() };
  return t;
}

/** Adds one world's score into `tally`. */
export function addToTally(tally: Tally, s: WorldScore, home: string | null): void {
  for (const { label, episode } of s.matches) {
    const cell = tally[label.kind][perspectiveOf(label.country, home)];
    cell.labels++;
    if (episode) cell.matchedLabels++;
  }
  for (const ep of [...s.matchedEpisodes, ...s.extra]) {
    const cell = tally[ep.kind][perspectiveOf(ep.country, home)];
    cell.detected++;
    if (s.matchedEpisodes.includes(ep)) cell.matchedDetected++;
  }
  for (const { label } of s.wrongMechanism) tally[label.kind][perspectiveOf(label.country, home)].wrongMechanism++;
}

/** p50 / p90 / max (nearest rank) in seconds; null when empty. */
export interface Spread {
  n: number;
  p50: number;
  p90: number;
  max: number;
}

export function spread(msValues: readonly number[]): Spread | null {
  if (msValues.length === 0) return null;
  const xs = msValues.map((v) => v / 1000).sort((a, b) => a - b);
  return { n: xs.length, p50: quantile(xs, 0.5), p90: quantile(xs, 0.9), max: xs[xs.length - 1] as number };
}
