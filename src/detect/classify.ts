/**
 * One evaluation's verdicts: which event conditions hold right now (before hysteresis), and
 * whether the vantage point can see at all. Pure. The rules live in ./rules/, one file each;
 * this module only composes them, in this order of precedence (docs/detection.md "The rules, in
 * order of precedence"):
 *
 *   1. vantage      (rules/vantage.ts)          the vantage's own connectivity; offline freezes all else
 *                   (rules/blocks.ts, blockVantage: every country's blocks falling at once)
 *   2. gateway cut  (rules/gateway-cut.ts)      shutdown of the home country, inside-out
 *   3. shutdown     (rules/country-shutdown.ts) of a foreign country (every country without a home), outside-in
 *      blocks       (rules/blocks.ts)           shutdown and partial_outage from /24 blocks, joined
 *                   with the catalog's condition of the same key (one event, both evidences)
 *   4. ASN outage   (rules/asn-outage.ts)       partial_outage of one ASN, where its country is not dark
 *   5. blocking     (rules/blocking.ts)         service_blocking of a category, failures of 2-4 left out
 *                   (rules/explained.ts: which failures those are)
 *   6. degradation  (rules/degradation.ts)      throttling, where the country is not dark
 *
 * A higher rule's verdict takes away what it explains from the lower ones: a dark country has
 * no ASN outage, blocking or degradation judged; targets of a dark country or of an ASN that is
 * out are no evidence of a blocking. The gateway cut is judged before the vantage since it
 * explains failing controls (they sit abroad).
 */
import type { BlockView } from './block-view.js';
import type { GroupIndex } from './groups.js';
import type { DetectionSettings, VantageInfo } from './options.js';
import { asnOutages } from './rules/asn-outage.js';
import { blockings } from './rules/blocking.js';
import { blockConditions, blockVantage, type FallSince } from './rules/blocks.js';
import { categoryPool, type Condition, type Excused, type RuleContext } from './rules/common.js';
import { countryShutdowns } from './rules/country-shutdown.js';
import { degradations } from './rules/degradation.js';
import { explainedFailures } from './rules/explained.js';
import { gatewayCut } from './rules/gateway-cut.js';
import { judgeVantage, type VantageVerdict } from './rules/vantage.js';

export { conditionKey, type Condition, type Excused } from './rules/common.js';

export interface Verdict {
  vantage: VantageVerdict;
  /** Countries whose shutdown condition holds: their other events are frozen meanwhile. */
  inShutdown: Set<string>;
  conditions: Condition[];
}

/** What classify() needs to know about the detector's own state. */
export interface ClassifyContext {
  excused: Excused;
  /** Categories with an open service_blocking event, by the event's country ('' for null). */
  blocked: ReadonlyMap<string, ReadonlySet<string>>;
  /** Block probing's signals (null without it) and since when each group has been falling. */
  blocks: BlockView | null;
  fallSince: FallSince;
  /** The evaluation's time (ms). */
  now: number;
}

export function classify(index: GroupIndex, s: DetectionSettings, vantage: VantageInfo, ctx: ClassifyContext): Verdict {
  const home = vantage.country;
  const rc: RuleContext = { index, s, home, excused: ctx.excused, blocked: ctx.blocked, pool: categoryPool(index, home) };
  const conditions: Condition[] = [];
  const dark = new Set<string>();
  const cut = gatewayCut(rc);
  const v = judgeVantage(rc, cut !== null);
  const verdict: Verdict = { vantage: v, inShutdown: dark, conditions };
  if (v.condition) conditions.push(v.condition);
  if (v.frozen) return verdict;
  const blind = blockVantage(rc, ctx.blocks, ctx.fallSince);
  if (blind !== null) {
    verdict.vantage = blindedBy(v, blind);
    conditions.push(blind);
    return verdict;
  }

  if (cut !== null && home !== undefined) {
    conditions.push(cut);
    dark.add(home);
  } else {
    for (const c of countryShutdowns(rc)) {
      conditions.push(c);
      if (c.country !== null) dark.add(c.country);
    }
  }
  join(conditions, blockConditions(rc, ctx.blocks, ctx.fallSince, dark, ctx.now));
  const outages = asnOutages(rc, dark);
  conditions.push(...outages);
  conditions.push(...blockings(rc, dark, explainedFailures(rc, dark, outages)));
  conditions.push(...degradations(rc, dark));
  return verdict;
}

/** The vantage verdict once the blocks say the vantage is blind (its controls said nothing yet). */
function blindedBy(v: VantageVerdict, c: Condition): VantageVerdict {
  return { ...v, online: false, offline: true, frozen: true, vetoed: false, blindStart: c.blockSince ?? null, condition: c };
}

/** Adds the block conditions: one of a key the catalog already holds joins it (its blockSince). */
function join(conditions: Condition[], fromBlocks: readonly Condition[]): void {
  const byKey = new Map(conditions.map((c) => [c.key, c]));
  for (const b of fromBlocks) {
    const c = byKey.get(b.key);
    if (c === undefined) conditions.push(b);
    else if (b.blockSince !== undefined) c.blockSince = b.blockSince;
  }
}
