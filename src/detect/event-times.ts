/**
 * When an event began and ended (docs/detection.md "Event times"), from its kind's rules
 * (kinds.ts): started_at from its contributors' starts, ended_at from its members' recoveries.
 * Pure.
 */
import type { Group } from './groups.js';
import type { KindRules } from './kinds.js';
import type { DetectionSettings } from './options.js';
import type { TargetTracker } from './target-state.js';

/**
 * Onset of a condition: when the disruption behind it began. T = the k-th earliest of the
 * contributors' starts (failure streaks; slowness for a latency kind), k = how many contributors
 * the condition needs: when the condition first held. The members of one outage all begin
 * failing within one probe interval of each other, so the onset is the earliest start within
 * `windowMs` before T, among the contributors not in `exclude` (the members of another event
 * already open, e.g. an ASN outage that a shutdown follows). So a target that had been down for
 * hours (but is not dead yet) does not drag the start back, and a shutdown that follows an ASN
 * outage starts when the rest of the country went dark.
 */
export function onsetTime(
  rules: KindRules,
  group: Group,
  contributors: readonly TargetTracker[],
  s: DetectionSettings,
  now: number,
  windowMs: number,
  exclude: ReadonlySet<string>,
): number {
  const startOf = (t: TargetTracker): number => rules.measure.since(t) ?? now;
  const k = rules.needed(group, s);
  const times = contributors.map(startOf).sort((a, b) => a - b);
  if (times.length === 0) return now;
  const held = Math.min(times[Math.min(k, times.length) - 1] as number, now);
  let onset = held;
  for (const t of contributors) {
    const at = startOf(t);
    if (at < onset && at >= held - windowMs && !exclude.has(t.id)) onset = at;
  }
  return onset;
}

/**
 * ended_at at the first clear evaluation of a down ratio condition: the members that recovered
 * during the event, by recovery time; the j-th of them is the one whose recovery took the down
 * count below the threshold (given the current counts). `now` for a latency kind, when the group
 * is gone, or when no such member is found.
 */
export function recoveryTime(
  rules: KindRules,
  group: Group | null,
  members: ReadonlySet<string>,
  startedMs: number,
  s: DetectionSettings,
  now: number,
): number {
  if (!group || rules.downRatio === null) return now;
  const recovered = group.members
    .filter((t) => t.state === 'up' && members.has(t.id) && t.okStart !== null && t.okStart >= startedMs)
    .map((t) => t.okStart as number)
    .sort((a, b) => a - b);
  const threshold = rules.downRatio(s) * group.eligible;
  const j = Math.max(1, Math.floor(group.down.length + recovered.length - threshold + 1e-9) + 1);
  const at = recovered[j - 1];
  return at === undefined ? now : Math.min(Math.max(at, startedMs), now);
}
