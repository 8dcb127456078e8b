import { describe, expect, it } from 'vitest';
import type { AsnBlockGroup, BlockGroup, BlockView } from '../../../src/detect/block-view.js';
import { Detector, type EventChange } from '../../../src/detect/detector.js';
import type { DetectorOptions } from '../../../src/detect/options.js';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { closed, detection, during, fail, HOUR, MIN, ms, ok, opened, simulate, T0, target, type World } from './sim-harness.js';

// The detector with block evidence (docs/detection.md "Block evidence"), over simulated probe
// results and a simulated block world: each country has 120 blocks in two ASes, each block
// probed once per ROUND at its own offset; a block reads down from its first probe inside a cut
// to its first probe after it (the block stage's behaviour, tests/netns/blocks*.test.ts).

const ROUND = 10 * MIN;
const BLOCKS = 120;
const CUT = T0 + 2 * HOUR + 17_000;
const BACK = CUT + HOUR;
const END = T0 + 4 * HOUR;

interface Cut {
  /** A country, or an AS (the first or second half of a country's blocks: `${country}:0|1`). */
  what: string;
  from: number;
  to: number;
}

/** The block world at `at`: counts per country and AS, ordinary once a round has passed. */
function blockView(at: number, countries: readonly string[], cuts: readonly Cut[]): BlockView {
  const cs = new Map<string, BlockGroup>();
  const asns = new Map<number, AsnBlockGroup>();
  countries.forEach((country, ci) => {
    const group = (): BlockGroup => ({ monitored: 0, up: 0, down: 0, uncertain: 0, ordinary: BLOCKS });
    const c = group();
    const halves = [{ ...group(), ordinary: BLOCKS / 2, country }, { ...group(), ordinary: BLOCKS / 2, country }];
    for (let b = 0; b < BLOCKS; b++) {
      // Offsets spread by a hash in the stage: here a stride coprime with BLOCKS, so each AS falls evenly.
      const offset = (((b * 47) % BLOCKS) * ROUND) / BLOCKS;
      const probed = at - ((((at - T0 - offset) % ROUND) + ROUND) % ROUND);
      const half = b < BLOCKS / 2 ? 0 : 1;
      const hit = (w: string): boolean => w === country || w === '*' || w === `${country}:${half}` || (w === `${country}:30%` && b % 10 < 3);
      const down = cuts.some((x) => hit(x.what) && during(probed, x.from, x.to));
      for (const g of [c, halves[half] as AsnBlockGroup]) {
        g.monitored++;
        if (down) g.down++;
        else g.up++;
      }
    }
    cs.set(country, c);
    asns.set(64500 + 2 * ci, halves[0] as AsnBlockGroup);
    asns.set(64501 + 2 * ci, halves[1] as AsnBlockGroup);
  });
  return { judged: at >= T0 + ROUND, roundMs: ROUND, countries: cs, asns };
}

/** Probe results and block views through one detector; the changes with their evaluation time. */
function runWith(targets: readonly ResolvedTarget[], world: World, countries: readonly string[], cuts: readonly Cut[]): (EventChange & { at: number })[] {
  const opts: DetectorOptions = { detection, vantage: { id: 'fra-1' }, targets };
  const d = new Detector(opts);
  const results = simulate(targets, world, T0, END);
  const out: (EventChange & { at: number })[] = [];
  let i = 0;
  for (let tick = T0 + detection.evaluate_every; tick <= END; tick += detection.evaluate_every) {
    for (; i < results.length; i++) {
      const r = results[i];
      if (r === undefined || r.at + (r.phases.total ?? 0) * 1000 > tick) break;
      d.observe(r);
    }
    d.observeBlocks(blockView(tick, countries, cuts));
    for (const c of d.evaluate(tick)) out.push({ ...c, at: tick });
  }
  return out;
}

const controls = Array.from({ length: 3 }, (_, i) => target(`ctl-${i}`, 'US', 'control', undefined, true));
const kz = Array.from({ length: 6 }, (_, i) => target(`kz-${i}`, 'KZ', i % 2 ? 'news' : 'government', 9198));
const de = Array.from({ length: 4 }, (_, i) => target(`de-${i}`, 'DE', 'news', 3320));

describe('block evidence in the detector', () => {
  it('a country cut seen by its catalog and its blocks is one shutdown carrying both evidences', () => {
    const world: World = (id, at) => (id.startsWith('kz-') && during(at, CUT, BACK) ? fail('tcp_timeout') : ok);
    const changes = runWith([...controls, ...kz, ...de], world, ['KZ', 'DE'], [{ what: 'KZ', from: CUT, to: BACK }]);
    expect(opened(changes).map((e) => `${e.kind} ${e.country ?? '-'}`)).toEqual(['shutdown KZ']);
    expect(closed(changes)).toHaveLength(1);
    const open = changes.find((c) => c.type === 'opened');
    expect(open?.event.evidence).toMatchObject({ eligible: 6, down: 6 });
    expect(open?.event.evidence.blocks).toMatchObject({ monitored: 120 });
    const end = closed(changes)[0];
    // The evidence of the last evaluation at which it held: the blocks well below ordinary.
    expect(end?.evidence.blocks?.ordinary_pct).toBeLessThanOrEqual(50);
    expect(ms(end?.ended_at ?? null) - BACK).toBeLessThan(ROUND);
  });

  it('a country with blocks and no catalog targets: a shutdown within a round plus 60 s, closed within a round of recovery', () => {
    const changes = runWith([...controls, ...de], () => ok, ['XA', 'DE'], [{ what: 'XA', from: CUT, to: BACK }]);
    expect(opened(changes).map((e) => `${e.kind} ${e.country ?? '-'}`)).toEqual(['shutdown XA']);
    const open = changes.find((c) => c.type === 'opened');
    const close = changes.find((c) => c.type === 'closed');
    expect((open?.at ?? Infinity) - CUT).toBeLessThanOrEqual(ROUND + 60_000);
    expect((close?.at ?? Infinity) - BACK).toBeLessThanOrEqual(ROUND);
    expect(open?.event).toMatchObject({ mechanism: 'blackhole', severity: 'critical', evidence: { eligible: 0, down: 0 } });
    expect(open?.event.summary).toMatch(/^XA: \d+ of 120 blocks up \(\d+% of ordinary\), blackhole$/);
    // started_at: when its blocks fell below 80%, a fifth of a round after the cut at most (plus an evaluation).
    expect(ms(open?.event.started_at ?? null) - CUT).toBeLessThanOrEqual(ROUND / 5 + detection.evaluate_every + 5_000);
  });

  it('one AS cut is a partial_outage of that AS; 30% of a country a partial_outage with no AS', () => {
    const one = runWith([...controls, ...de], () => ok, ['XA', 'DE'], [{ what: 'XA:0', from: CUT, to: BACK }]);
    expect(opened(one).map((e) => `${e.kind} ${e.country ?? '-'} ${e.asn ?? '-'}`)).toEqual(['partial_outage XA 64500']);
    expect(opened(one)[0]?.summary).toMatch(/^XA AS64500: \d+ of 60 blocks up \(\d+% of ordinary\), blackhole$/);
    expect(closed(one)).toHaveLength(1);
    const share = runWith([...controls, ...de], () => ok, ['XA', 'DE'], [{ what: 'XA:30%', from: CUT, to: BACK }]);
    expect(opened(share).map((e) => `${e.kind} ${e.country ?? '-'} ${e.asn ?? '-'}`)).toEqual(['partial_outage XA -']);
    expect(opened(share)[0]).toMatchObject({ severity: 'warning', evidence: { blocks: { monitored: 120, up: 84 } } });
    expect(closed(share)).toHaveLength(1);
  });

  it('the vantage going dark (controls, targets and every block) is vantage_offline and no country event', () => {
    const changes = runWith([...controls, ...de], (_id, at) => (during(at, CUT, BACK) ? fail('tcp_timeout') : ok), ['XA', 'DE'], [{ what: '*', from: CUT, to: BACK }]);
    expect(opened(changes).map((e) => e.kind)).toEqual(['vantage_offline']);
    expect(closed(changes).map((e) => e.kind)).toEqual(['vantage_offline']);
  });

  it('a block-only vantage going dark (no controls, no targets) is vantage_offline', () => {
    const changes = runWith([], () => ok, ['XA', 'XB'], [{ what: '*', from: CUT, to: BACK }]);
    expect(opened(changes).map((e) => e.kind)).toEqual(['vantage_offline']);
    expect(opened(changes)[0]?.evidence.blocks).toMatchObject({ monitored: 240 });
    expect(closed(changes).map((e) => e.kind)).toEqual(['vantage_offline']);
  });

  it('a block-only vantage: one country cut while the other answers is that country\'s shutdown', () => {
    const changes = runWith([], () => ok, ['XA', 'XB'], [{ what: 'XB', from: CUT, to: BACK }]);
    expect(opened(changes).map((e) => `${e.kind} ${e.country ?? '-'}`)).toEqual(['shutdown XB']);
    expect(closed(changes)).toHaveLength(1);
  });
});
