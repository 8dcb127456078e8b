/**
 * Rule 1, the vantage's own connectivity: the one verdict behind the vantage_offline event, the
 * `lookout_vantage_online` gauge, `/api/v1/status` and the "controls (un)reachable" log lines.
 *
 * - Offline: >= vantage_offline_ratio of the eligible controls down. Inside-out, a domestic target
 *   answering after the controls began failing vetoes it (the controls are cut off, not us: a
 *   gateway cut), and until a domestic probe has failed after that, the verdict waits.
 * - Frozen: the controls that are down or whose latest probe failed reach the ratio (one confirm
 *   earlier than offline), so no country event opens in the seconds before the controls are
 *   confirmed down. While frozen no other rule is judged.
 * - Start-up: while no control has ever been seen up (none is eligible yet), every control having
 *   reported and >= the ratio of them failing their latest probe is already offline; without
 *   this a daemon started with no connectivity would never say so (its controls never become
 *   eligible). Inside-out, a domestic target whose latest probe answered vetoes it here too (a
 *   daemon restarted during a gateway cut).
 */
import { Group } from '../groups.js';
import { atLeast, needed } from '../stats.js';
import type { TargetTracker } from '../target-state.js';
import { answeredAcross, condition, mechanismOfTargets, onsetOf, type Condition, type RuleContext } from './common.js';

export interface VantageVerdict {
  /** false: offline; true: controls fine (or vetoed); null: no eligible controls yet. */
  online: boolean | null;
  /** vantage_offline holds. */
  offline: boolean;
  /** Every other rule waits. */
  frozen: boolean;
  /** Inside-out: the controls fail but domestic targets answered after they began to. */
  vetoed: boolean;
  /** When offline: lower bound of the onset (latest success of the failing controls). */
  blindStart: number | null;
  /** The vantage_offline condition when offline. */
  condition: Condition | null;
  /** The controls judged, and how many of them fail (for the log line). */
  controls: number;
  failing: TargetTracker[];
}

const UNKNOWN: VantageVerdict = {
  online: null,
  offline: false,
  frozen: false,
  vetoed: false,
  blindStart: null,
  condition: null,
  controls: 0,
  failing: [],
};

/** @param cut whether the gateway-cut condition holds (rule 2): it explains failing controls. */
export function judgeVantage(ctx: RuleContext, cut: boolean): VantageVerdict {
  const { index, s, excused } = ctx;
  const ctl = index.controls;
  if (ctl.eligible === 0) return cut ? { ...UNKNOWN, online: true } : startUp(ctx);
  const failing = ctl.members.filter((t) => t.state === 'down' || t.latestOk === false);
  const confirmed = atLeast(ctl.down.length, ctl.eligible, s.vantage_offline_ratio);
  const shaky = atLeast(ctl.bad, ctl.eligible, s.vantage_offline_ratio);
  const dom = index.domestic;
  let vetoed = false;
  let undecided = false;
  if (shaky && !cut && dom !== null && dom.eligible > 0) {
    const onset = onsetOf(failing, needed(s.vantage_offline_ratio, ctl.eligible));
    vetoed = answeredAcross(dom.members, onset, excused);
    undecided = !vetoed && !dom.members.some((t) => t.lastFailAt !== null && t.lastFailAt > onset.start);
  }
  if (cut || vetoed) {
    return { ...UNKNOWN, online: true, vetoed, controls: ctl.eligible, failing };
  }
  const offline = confirmed && !undecided;
  let blindStart: number | null = null;
  if (offline) {
    let latestOk = -Infinity;
    for (const t of failing) if (t.lastOkAt !== null && t.lastOkAt > latestOk) latestOk = t.lastOkAt;
    blindStart = Number.isFinite(latestOk) ? latestOk : Math.min(...failing.map((t) => t.failStart ?? Infinity));
  }
  return {
    online: !confirmed,
    offline,
    frozen: shaky || confirmed,
    vetoed: false,
    blindStart,
    condition: offline ? offlineCondition(ctx, ctl, ctl.down) : null,
    controls: ctl.eligible,
    failing,
  };
}

function startUp(ctx: RuleContext): VantageVerdict {
  const all = ctx.index.allControls;
  if (all.length === 0 || all.some((t) => t.lastUpAt !== null || t.latestOk === null)) return UNKNOWN;
  const failing = all.filter((t) => t.latestOk === false);
  if (!atLeast(failing.length, all.length, ctx.s.vantage_offline_ratio)) return { ...UNKNOWN, controls: all.length, failing };
  // Inside-out, a daemon (re)started during a gateway cut: domestic targets answer, so it is the
  // controls that are cut off, not the vantage. The cut itself cannot be named yet (targets never
  // seen up are dead, not down), but calling the vantage offline would be wrong.
  const dom = ctx.index.domestic;
  if (dom !== null && dom.members.some((t) => t.latestOk === true)) {
    return { ...UNKNOWN, online: true, vetoed: true, controls: all.length, failing };
  }
  const group = new Group();
  for (const t of all) group.add(t, ctx.s.degradation_latency_ratio);
  const confirmed = atLeast(group.down.length, all.length, ctx.s.vantage_offline_ratio);
  return {
    online: false,
    offline: confirmed,
    frozen: true,
    vetoed: false,
    blindStart: confirmed ? Math.min(...failing.map((t) => t.failStart ?? Infinity)) : null,
    condition: confirmed ? offlineCondition(ctx, group, group.down) : null,
    controls: all.length,
    failing,
  };
}

function offlineCondition(ctx: RuleContext, group: Group, down: TargetTracker[]): Condition {
  return condition('vantage_offline', { country: ctx.home ?? null }, group, down, mechanismOfTargets(down));
}
