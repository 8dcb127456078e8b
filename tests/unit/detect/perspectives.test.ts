import { describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { Detector } from '../../../src/detect/detector.js';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import type { DetectorOptions, VantageInfo } from '../../../src/detect/options.js';
import {
  detection,
  during,
  fail,
  HOUR,
  INTERVAL,
  MIN,
  ms,
  ok,
  opened,
  run,
  simulate,
  T0,
  target,
  type World,
} from './sim-harness.js';

// The cases issue 16 was filed with: each failed on the detector that switched to the inside-out
// view as soon as vantage.country was set.

const START = T0;
const OUTAGE = T0 + 2 * HOUR + 17_000;
const RESTORE = OUTAGE + HOUR;
const END = T0 + 4 * HOUR;
const line = (cs: readonly { type: string; event: DisruptionEvent }[]): string[] =>
  cs.map((c) => `${c.type} ${c.event.kind} ${c.event.country ?? '-'} ${c.event.asn ?? c.event.category ?? '-'} ${c.event.mechanism ?? '-'}`);

// ---- a vantage in DE (DESIGN.md's own example) watching KZ, IR and UZ from outside ----

const KZ_ASNS = [9198, 21299, 35104];
const CATS = ['government', 'news', 'banking'];
const kz = Array.from({ length: 12 }, (_, i) => target(`kz-${i}`, 'KZ', CATS[i % 3] as string, KZ_ASNS[Math.floor(i / 4)]));
const ir = Array.from({ length: 6 }, (_, i) => target(`ir-${i}`, 'IR', CATS[i % 3] as string, i < 3 ? 58224 : 197207));
const uz = Array.from({ length: 6 }, (_, i) => target(`uz-${i}`, 'UZ', CATS[i % 3] as string, i < 3 ? 8193 : 28910));
const de = Array.from({ length: 3 }, (_, i) => target(`de-${i}`, 'DE', CATS[i % 3] as string, 3320));
const controls = Array.from({ length: 3 }, (_, i) => target(`ctl-${i}`, 'US', 'control', undefined, true));
const watched: ResolvedTarget[] = [...controls, ...de, ...kz, ...ir, ...uz];
const opts = (vantage: VantageInfo, targets: readonly ResolvedTarget[] = watched): DetectorOptions => ({ detection, vantage, targets });
const FRA_HOME: VantageInfo = { id: 'fra-1', country: 'DE' };
const FRA_NO_HOME: VantageInfo = { id: 'fra-1' };

/** The news sites of KZ, IR and UZ reset during the outage; their other sites answer. */
const newsResets: World = (id, at) => {
  const n = Number(id.split('-')[1]);
  const news = (id.startsWith('kz-') || id.startsWith('ir-') || id.startsWith('uz-')) && n % 3 === 1;
  return news && during(at, OUTAGE, RESTORE) ? fail('tcp_reset') : ok;
};

describe('a vantage with a home country still judges every other country outside-in', () => {
  const asnOut = new Set(['kz-4', 'kz-5', 'kz-6', 'kz-7']);
  const world: World = (id, at) => {
    if (!during(at, OUTAGE, RESTORE)) return ok;
    if (asnOut.has(id)) return fail('tcp_timeout');
    if (id.startsWith('ir-')) return { ok: true, slow: 8 };
    return ok;
  };

  for (const vantage of [FRA_HOME, FRA_NO_HOME]) {
    it(`a blackholed KZ ASN and a throttled IR (vantage.country ${vantage.country ?? 'unset'})`, () => {
      for (const seed of [1, 2, 3]) {
        const changes = run(simulate(watched, world, START, END, seed), opts(vantage), END);
        expect(line(opened(changes).map((event) => ({ type: 'opened', event }))).sort(), `seed ${seed}`).toEqual([
          'opened degradation IR - -',
          'opened partial_outage KZ 21299 blackhole',
        ]);
        expect(changes.filter((c) => c.type === 'closed')).toHaveLength(2);
      }
    });
  }

  it('a KZ shutdown that follows an ASN outage starts when the rest of KZ went dark', () => {
    const dark = OUTAGE + 5 * MIN;
    const world: World = (id, at) => {
      if (asnOut.has(id) && during(at, OUTAGE, RESTORE)) return fail('tcp_timeout');
      if (id.startsWith('kz-') && during(at, dark, RESTORE)) return fail('tcp_timeout');
      return ok;
    };
    for (const seed of [1, 2, 3, 4, 5]) {
      const changes = run(simulate(watched, world, START, END, seed), opts(FRA_HOME), END);
      const [partial, shutdown] = opened(changes);
      expect(line(opened(changes).map((event) => ({ type: 'opened', event }))), `seed ${seed}`).toEqual([
        'opened partial_outage KZ 21299 blackhole',
        'opened shutdown KZ - blackhole',
      ]);
      expect(ms(partial?.started_at ?? null) - OUTAGE).toBeLessThan(INTERVAL);
      const started = ms(shutdown?.started_at ?? null);
      expect(started, `seed ${seed}`).toBeGreaterThanOrEqual(dark);
      expect(started - dark, `seed ${seed}`).toBeLessThan(INTERVAL);
    }
  });

  it('interference on one category across several countries is on the vantage side: blocking in DE', () => {
    const changes = run(simulate(watched, newsResets, START, END), opts(FRA_HOME), END);
    expect(line(changes)).toEqual(['opened service_blocking DE news tcp_reset', 'closed service_blocking DE news tcp_reset']);
  });

  it('with no home country, a category failing in several countries is blocking on the vantage side (country null)', () => {
    const changes = run(simulate(watched, newsResets, START, END), opts(FRA_NO_HOME), END);
    expect(line(changes)).toEqual(['opened service_blocking - news tcp_reset', 'closed service_blocking - news tcp_reset']);
  });

  it('with no home country, resets on one country alone are that country\'s disruption', () => {
    const world: World = (id, at) => (id.startsWith('uz-') && during(at, OUTAGE, RESTORE) ? fail('tcp_reset') : ok);
    const changes = run(simulate(watched, world, START, END), opts(FRA_NO_HOME), END);
    expect(line(changes)).toEqual(['opened shutdown UZ - tcp_reset', 'closed shutdown UZ - tcp_reset']);
  });
});

// ---- a vantage inside KZ: domestic KZ targets, international ones by category ----

const IN: VantageInfo = { id: 'almaty-1', country: 'KZ', asn: 9198 };
const domestic = Array.from({ length: 6 }, (_, i) => target(`dom-${i}`, 'KZ', i < 3 ? 'government' : 'news', 9198));
const gbNews = Array.from({ length: 3 }, (_, i) => target(`gbnews-${i}`, 'GB', 'news', 5089));
const usNews = Array.from({ length: 3 }, (_, i) => target(`usnews-${i}`, 'US', 'news', 13335));
const social = Array.from({ length: 3 }, (_, i) => target(`social-${i}`, 'US', 'social', 32934));
const inControls = Array.from({ length: 3 }, (_, i) => target(`ictl-${i}`, 'US', 'control', undefined, true));

describe('seen from inside KZ, interference on foreign targets is blocking in KZ', () => {
  const blockpage: World = (id, at) => (id.startsWith('gbnews-') && during(at, OUTAGE, RESTORE) ? fail('http_blockpage') : ok);

  it('British news sites answering a blockpage while Kazakh news answers: news blocked in KZ, no GB shutdown', () => {
    const targets = [...inControls, ...domestic, ...gbNews, ...social];
    for (const seed of [1, 2, 3]) {
      const changes = run(simulate(targets, blockpage, START, END, seed), { detection, vantage: IN, targets }, END);
      expect(line(changes), `seed ${seed}`).toEqual(['opened service_blocking KZ news http', 'closed service_blocking KZ news http']);
    }
  });

  it('the same with American news answering: the blocking of news in one foreign country is still KZ\'s', () => {
    const targets = [...inControls, ...domestic, ...gbNews, ...usNews, ...social];
    const changes = run(simulate(targets, blockpage, START, END), { detection, vantage: IN, targets }, END);
    expect(line(changes)).toEqual(['opened service_blocking KZ news http', 'closed service_blocking KZ news http']);
  });

  it('GB blackholed while American news and social answer: an outage there, a shutdown of GB', () => {
    const gb = [...gbNews, target('gbsocial-0', 'GB', 'social', 5089), target('gbgov-0', 'GB', 'government', 5089)];
    const targets = [...inControls, ...domestic, ...gb, ...usNews, ...social];
    const world: World = (id, at) => (id.startsWith('gb') && during(at, OUTAGE, RESTORE) ? fail('tcp_timeout') : ok);
    const changes = run(simulate(targets, world, START, END), { detection, vantage: IN, targets }, END);
    expect(line(changes)).toEqual(['opened shutdown GB - blackhole', 'closed shutdown GB - blackhole']);
  });
});

describe('one verdict on the vantage', () => {
  it('with 1 of 7 controls answering the vantage is offline in the event, vantageState() and status() alike', () => {
    const ctl = Array.from({ length: 7 }, (_, i) => target(`c-${i}`, 'US', 'control', undefined, true));
    const targets = [...ctl, ...kz];
    const world: World = (id, at) => (id !== 'c-0' && id.startsWith('c-') && during(at, OUTAGE, RESTORE) ? fail('tcp_timeout') : ok);
    const detector = new Detector({ detection, vantage: FRA_NO_HOME, targets });
    const changes = run(simulate(targets, world, START, END), { detection, vantage: FRA_NO_HOME, targets }, END, detector);
    expect(line(changes)).toEqual(['opened vantage_offline - - blackhole', 'closed vantage_offline - - blackhole']);
    // Replay again and look at every evaluation: the two views never disagree.
    const d2 = new Detector({ detection, vantage: FRA_NO_HOME, targets });
    const results = simulate(targets, world, START, END);
    let offlineSeen = 0;
    let next = Math.ceil(START / 5_000) * 5_000;
    for (const r of results) {
      for (; next <= r.at + (r.phases.total ?? 0) * 1000; next += 5_000) {
        d2.evaluate(next);
        const v = d2.vantageState();
        expect(d2.status().vantage.online).toBe(v.online);
        if (v.online === false) {
          offlineSeen++;
          expect(v.failing).toBeGreaterThanOrEqual(4);
          expect(v.controls).toBe(7);
        }
      }
      d2.observe(r);
    }
    expect(offlineSeen).toBeGreaterThan(0);
  });

  it('a start with no control ever answering is offline at once, before any control was seen up', () => {
    const targets = [...controls, ...kz];
    const detector = new Detector({ detection, vantage: FRA_NO_HOME, targets });
    for (const t of controls) {
      detector.observe({ target: t.id, kind: 'tcp', ok: false, reason: 'network_unreachable', phases: { total: 0.001 }, ip: '127.0.0.1', at: T0 });
    }
    detector.evaluate(T0 + 5_000);
    expect(detector.vantageState()).toMatchObject({ online: false, controls: 3, failing: 3, reasons: { network_unreachable: 3 } });
    expect(detector.status().vantage.online).toBe(false);
  });
});
