import { describe, expect, it } from 'vitest';
import { asnKey, countryKey, type AsnBlockGroup, type BlockGroup, type BlockView } from '../../../../src/detect/block-view.js';
import { blockConditions, blockVantage, type FallSince } from '../../../../src/detect/rules/blocks.js';
import { context, many, NOW, tracker } from './fixture.js';

const ROUND = 600_000;

/** A group of `n` blocks, ordinarily all up, `up` of them up now (the rest down). */
const g = (n: number, up: number): BlockGroup => ({ monitored: n, up, down: n - up, uncertain: 0, ordinary: n });
const a = (country: string, n: number, up: number): AsnBlockGroup => ({ ...g(n, up), country });

function view(countries: Record<string, BlockGroup>, asns: Record<number, AsnBlockGroup> = {}, judged = true): BlockView {
  return { judged, roundMs: ROUND, countries: new Map(Object.entries(countries)), asns: new Map(Object.entries(asns).map(([k, v]) => [Number(k), v])) };
}

/** Every group of `v` below 80% fell `ago` ms before NOW (per key, overridable). */
function falls(v: BlockView, ago = 200_000, at: Record<string, number> = {}): FallSince {
  const low = new Set<string>();
  for (const [c, x] of v.countries) if (x.up / (x.ordinary ?? 1) < 0.8) low.add(countryKey(c));
  for (const [n, x] of v.asns) if (x.up / (x.ordinary ?? 1) < 0.8) low.add(asnKey(n));
  return (key) => at[key] ?? (low.has(key) ? NOW - ago : null);
}

const controls = many(3, 'c', 'US', 'control', { control: true });
const judge = (v: BlockView, trackers = controls, since = falls(v)) => {
  const ctx = context(trackers);
  const dark = new Set<string>();
  return { vantage: blockVantage(ctx, v, since), conditions: blockConditions(ctx, v, since, dark, NOW), dark };
};
const kinds = (cs: { kind: string; country: string | null; asn: number | null }[]) => cs.map((c) => `${c.kind} ${c.country ?? '-'} ${c.asn ?? '-'}`);

describe('block evidence (rules/blocks.ts)', () => {
  it('a country at or below 50% of ordinary while another answers is its shutdown, with when its fall began', () => {
    const v = view({ XA: g(120, 10), XB: g(120, 120) });
    const { vantage, conditions, dark } = judge(v);
    expect(vantage).toBeNull();
    expect(kinds(conditions)).toEqual(['shutdown XA -']);
    expect(conditions[0]).toMatchObject({ mechanism: 'blackhole', blockSince: NOW - 200_000, contributors: [] });
    expect([...dark]).toEqual(['XA']);
  });

  it('one AS out while the rest of its country answers is that AS\'s partial_outage, even when the country is at 50%', () => {
    const v = view({ XA: g(120, 120), XB: g(120, 60) }, { 64512: a('XB', 60, 0), 64513: a('XB', 60, 60) });
    expect(kinds(judge(v).conditions)).toEqual(['partial_outage XB 64512']);
  });

  it('a country between the levels with no AS out is a partial_outage of the country (asn null)', () => {
    // 30% of XA's blocks cut, spread over both of its ASes (each at 70%).
    const v = view({ XA: g(120, 84), XB: g(120, 120) }, { 64510: a('XA', 60, 42), 64511: a('XA', 60, 42) });
    expect(kinds(judge(v, controls, falls(v, ROUND)).conditions)).toEqual(['partial_outage XA -']);
    // Not before a whole round since its fall began: it may be a country going dark block by block.
    expect(judge(v, controls, falls(v, ROUND - 1)).conditions).toEqual([]);
  });

  it('a small drop (above 80%), or 5% of blocks uncertain, is nothing', () => {
    expect(judge(view({ XA: g(120, 100), XB: g(120, 120) })).conditions).toEqual([]);
    expect(judge(view({ XA: { monitored: 120, up: 114, down: 0, uncertain: 6, ordinary: 120 }, XB: g(120, 120) })).conditions).toEqual([]);
  });

  it('no verdict before a round was completed, before the ordinary level exists, or for fewer than 5 ordinary blocks', () => {
    expect(judge(view({ XA: g(120, 0), XB: g(120, 120) }, {}, false)).conditions).toEqual([]);
    expect(judge(view({ XA: { ...g(120, 0), ordinary: null }, XB: g(120, 120) })).conditions).toEqual([]);
    expect(judge(view({ XA: g(4, 0), XB: g(120, 120) })).conditions).toEqual([]);
  });

  it('every country falling at once is vantage_offline, never a shutdown of each', () => {
    const v = view({ XA: g(120, 20), XB: g(120, 30) });
    const { vantage } = judge(v, []);
    expect(vantage).toMatchObject({ kind: 'vantage_offline', country: null, blockSince: NOW - 200_000 });
    // Even with controls that answer: every country's echoes failing together is the vantage's ICMP path.
    expect(judge(v).vantage).not.toBeNull();
    // Falls more than a round apart are two countries cut, not the vantage.
    const apart = judge(v, controls, falls(v, 60_000, { [countryKey('XA')]: NOW - 2 * ROUND }));
    expect(apart.vantage).toBeNull();
    expect(kinds(apart.conditions)).toEqual(['shutdown XA -', 'shutdown XB -']);
  });

  it('both countries low at once but not yet at 50%: nothing, as nothing outside answers', () => {
    const v = view({ XA: g(120, 70), XB: g(120, 75) });
    const { vantage, conditions } = judge(v, []);
    expect(vantage).toBeNull();
    expect(conditions).toEqual([]);
  });

  it('a block-only deployment of one country: its fall is the vantage unless a control or another country answered since', () => {
    const v = view({ XA: g(120, 0) });
    expect(judge(v, []).vantage).not.toBeNull();
    expect(judge(v, []).conditions).toEqual([]);
    // A control answered 5 s ago, after the fall began: the country is cut.
    const withControls = judge(v);
    expect(withControls.vantage).toBeNull();
    expect(kinds(withControls.conditions)).toEqual(['shutdown XA -']);
    // Controls not probed since the fall began: wait for them.
    const stale = many(3, 's', 'US', 'control', { control: true, okAgo: 400_000 });
    expect(judge(v, stale)).toMatchObject({ vantage: null, conditions: [] });
    // Another country's catalog targets answering do as well.
    expect(kinds(judge(v, [tracker('de-0', 'DE', 'news'), tracker('de-1', 'DE', 'news')]).conditions)).toEqual(['shutdown XA -']);
  });

  it('a fall that began while the vantage was blind is not judged', () => {
    const v = view({ XA: g(120, 10), XB: g(120, 120) });
    const ctx = { ...context(controls), excused: (at: number | null) => at !== null && at >= NOW - 300_000 };
    expect(blockConditions(ctx, v, falls(v), new Set(), NOW)).toEqual([]);
  });

  it('a country whose catalog shutdown holds gets no block partial outage', () => {
    const v = view({ XA: g(120, 84), XB: g(120, 120) });
    expect(blockConditions(context(controls), v, falls(v), new Set(['XA']), NOW)).toEqual([]);
  });
});
