/**
 * Block evidence (docs/detection.md "Block evidence"): the /24 blocks of a country or an AS
 * falling below their ordinary level, at IODA's levels (block-view.ts: warning 80%, critical
 * 50% of ordinary). Pure: from the evaluation's RuleContext, the BlockView and since when each
 * group has been below the warning level.
 *
 * - Vantage (judged before any country, after the controls' own rule): every judged country's
 *   blocks at or below the critical level, their falls begun within one round of each other
 *   (two countries or more), or the only judged country's with nothing else that could answer
 *   (no control, no other country's target): the vantage's own connectivity (or its ICMP path)
 *   is gone; never a shutdown of every country.
 * - A country at or below critical, the rest of it too once the ASes that are out are left
 *   aside: `shutdown`, while something outside it answers (a control or another country's
 *   target answered since its fall began, or another country's blocks are at least at warning).
 * - An AS at or below critical whose country's other blocks are at least at the warning level:
 *   `partial_outage` of that AS, in the country most of its blocks lie in.
 * - A country below warning, not in shutdown, its level without the ASes that are out still
 *   below warning, with the same witnesses as a shutdown, once a whole round has passed since
 *   its fall began (every block has been probed since: a country going dark block by block is
 *   not first named a partial outage): `partial_outage` with `asn` null (a share of the
 *   country's address space is cut, no single AS; e.g. 30% of its blocks).
 * A fall that began while the vantage was blind is not judged (it is the vantage's recovery).
 * Block conditions carry `blockSince` (when the fall began) and mechanism `blackhole` (echoes
 * unanswered); classify.ts joins them with the catalog's conditions of the same key.
 */
import { asnKey, BLOCK_LEVELS, countryKey, levelOf, MIN_ORDINARY_BLOCKS, type AsnBlockGroup, type BlockGroup, type BlockView } from '../block-view.js';
import { Group } from '../groups.js';
import { condition, witnessed, type Condition, type RuleContext } from './common.js';

/** Since when a group (block-view.ts countryKey/asnKey) has been below warning; null: it is not. */
export type FallSince = (key: string) => number | null;

/** The vantage_offline condition the blocks give, or null. */
export function blockVantage(ctx: RuleContext, view: BlockView | null, since: FallSince): Condition | null {
  if (view === null || !view.judged) return null;
  const judged = [...view.countries].filter(([, g]) => levelOf(g) !== null);
  if (judged.length === 0) return null;
  const starts: number[] = [];
  for (const [country, g] of judged) {
    const at = since(countryKey(country));
    if (at === null || (levelOf(g) as number) > BLOCK_LEVELS.critical) return null;
    starts.push(at);
  }
  const first = Math.min(...starts);
  if (judged.length >= 2 ? Math.max(...starts) - first > view.roundMs : couldAnswer(ctx, (judged[0] as [string, BlockGroup])[0])) return null;
  const c = condition('vantage_offline', { country: ctx.home ?? null }, ctx.index.controls, [], 'blackhole');
  c.blockSince = first;
  return c;
}

/**
 * The country and AS conditions of the blocks. Countries in `dark` (a catalog shutdown holds)
 * get no partial outage; the countries whose block shutdown holds are added to it. `now`: the
 * evaluation's time.
 */
export function blockConditions(ctx: RuleContext, view: BlockView | null, since: FallSince, dark: Set<string>, now: number): Condition[] {
  if (view === null || !view.judged) return [];
  const out: Condition[] = [];
  const outsOf = outAsnsByCountry(view);
  for (const [country, g] of view.countries) {
    const level = levelOf(g);
    if (level === null) continue;
    const outs = outsOf.get(country) ?? [];
    const rest = restLevel(g, outs);
    const fall = since(countryKey(country));
    const judgeable = fall !== null && !ctx.excused(fall);
    const place = ctx.index.countries.get(country) ?? new Group(true);
    if (level <= BLOCK_LEVELS.critical && (rest === null || rest <= BLOCK_LEVELS.critical)) {
      if (judgeable && answeredElsewhere(ctx, view, country, fall)) {
        out.push(withSince(condition('shutdown', { country }, place, [], 'blackhole'), fall));
        dark.add(country);
      }
      continue;
    }
    if (dark.has(country) || rest === null) continue;
    if (rest >= BLOCK_LEVELS.warning) {
      for (const [asn] of outs) {
        const at = since(asnKey(asn));
        if (at === null || ctx.excused(at)) continue;
        const group = ctx.index.asns.get(`${country}|${asn}`)?.group ?? new Group(true);
        out.push(withSince(condition('partial_outage', { country, asn }, group, [], 'blackhole'), at));
      }
    } else if (judgeable && now - fall >= view.roundMs && answeredElsewhere(ctx, view, country, fall)) {
      out.push(withSince(condition('partial_outage', { country }, place, [], 'blackhole'), fall));
    }
  }
  return out;
}

function withSince(c: Condition, at: number): Condition {
  c.blockSince = at;
  return c;
}

/** The judged ASes at or below the critical level, by their country. */
function outAsnsByCountry(view: BlockView): Map<string, [number, AsnBlockGroup][]> {
  const by = new Map<string, [number, AsnBlockGroup][]>();
  for (const [asn, g] of view.asns) {
    const level = levelOf(g);
    if (g.country === null || level === null || level > BLOCK_LEVELS.critical) continue;
    by.set(g.country, [...(by.get(g.country) ?? []), [asn, g]]);
  }
  return by;
}

/**
 * The level of a country's blocks outside the ASes that are out (their counts taken whole: an
 * AS is counted in the country most of its blocks lie in); null when too little is left.
 */
function restLevel(g: BlockGroup, outs: readonly [number, AsnBlockGroup][]): number | null {
  let up = g.up;
  let ordinary = g.ordinary ?? 0;
  for (const [, a] of outs) {
    up -= a.up;
    ordinary -= a.ordinary ?? 0;
  }
  return ordinary < MIN_ORDINARY_BLOCKS ? null : Math.max(0, up) / ordinary;
}

/**
 * Something outside `country` answers: another country's blocks at least at the warning level,
 * or a control or another country's target answered since `at` (two where two can answer).
 */
function answeredElsewhere(ctx: RuleContext, view: BlockView, country: string, at: number): boolean {
  for (const [other, g] of view.countries) if (other !== country && (levelOf(g) ?? 0) >= BLOCK_LEVELS.warning) return true;
  const lists = [ctx.index.controls.members];
  for (const [c, g] of ctx.index.countries) if (c !== country && c !== ctx.home) lists.push(g.members);
  return witnessed(lists, { start: at, first: at, lastFail: at }, ctx.excused);
}

/** Whether anything configured besides `country`'s blocks could answer (a control, another country's target). */
function couldAnswer(ctx: RuleContext, country: string): boolean {
  if (ctx.index.allControls.length > 0) return true;
  for (const c of ctx.index.countries.keys()) if (c !== country && c !== ctx.home) return true;
  return false;
}
