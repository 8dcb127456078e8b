import { describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { Detector } from '../../../src/detect/detector.js';
import type { DetectorOptions } from '../../../src/detect/options.js';
import { PathDetectors } from '../../../src/detect/paths.js';
import { replay } from '../../../src/detect/replay.js';
import { parseEvent } from '../../../src/store/event-schema.js';
import { detection, during, fail, HOUR, ok, run, simulate, T0, target, type World } from './sim-harness.js';

// One detector per path: the same targets probed through two uplinks are judged apart, an
// uplink cut is that path's vantage_offline only, and a config without sources is one detector.

const kz = Array.from({ length: 9 }, (_, i) => target(`kz-${i}`, 'KZ', ['government', 'news', 'banking'][i % 3] as string, [9198, 21299, 35104][i % 3]));
const de = Array.from({ length: 4 }, (_, i) => target(`de-${i}`, 'DE', 'news', 3320));
const controls = Array.from({ length: 3 }, (_, i) => target(`ctl-${i}`, 'US', 'control', undefined, true));
const base = [...controls, ...kz, ...de];

function onPath(t: ResolvedTarget, path: string, address: string): ResolvedTarget {
  return { ...t, id: `${t.id}@${path}`, path, bind: { name: path, address } };
}
const both = [...base.map((t) => onPath(t, 'isp-a', '127.0.0.2')), ...base.map((t) => onPath(t, 'isp-b', '127.0.0.3'))];
const opts: DetectorOptions = { detection, vantage: { id: 'fra-1' }, targets: both };

const CUT = T0 + 2 * HOUR + 17_000;
const RESTORE = CUT + HOUR;
const END = T0 + 4 * HOUR;

const names = (cs: ReturnType<typeof replay>): string[] => cs.map((c) => `${c.type} ${c.event.kind} ${c.event.country ?? '-'} ${c.event.path ?? ''}`);

describe('paths', () => {
  it('an outage seen through one path only is an event of that path, with path in the event and its id', () => {
    const world: World = (id, at) => (id.startsWith('kz-') && id.endsWith('@isp-b') && during(at, CUT, RESTORE) ? fail('tcp_timeout') : ok);
    const changes = replay(simulate(both, world, T0, END), opts, END);
    expect(names(changes)).toEqual(['opened shutdown KZ isp-b', 'closed shutdown KZ isp-b']);
    const event = changes[0]?.event;
    expect(event?.id).toMatch(/^shutdown:KZ:-:\d+@isp-b$/);
    expect(event?.summary).toMatch(/\(path isp-b\)$/);
    expect(event?.evidence.targets?.every((t) => t.endsWith('@isp-b'))).toBe(true);
  });

  it('an uplink cut (its controls too) is that path vantage_offline, and the other path sees on', () => {
    const world: World = (id, at) => {
      if (id.endsWith('@isp-b') && during(at, CUT, RESTORE)) return fail('tcp_timeout');
      // Meanwhile DE goes dark, seen through isp-a.
      if (id.startsWith('de-') && id.endsWith('@isp-a') && during(at, CUT + 10 * 60_000, RESTORE)) return fail('tcp_timeout');
      return ok;
    };
    const detectors = new PathDetectors(opts);
    const changes = run(simulate(both, world, T0, END), opts, END, detectors as unknown as Detector);
    expect(changes.map((c) => `${c.type} ${c.event.kind} ${c.event.country ?? '-'} ${c.event.path ?? ''}`)).toEqual([
      'opened vantage_offline - isp-b',
      'opened shutdown DE isp-a',
      'closed shutdown DE isp-a',
      'closed vantage_offline - isp-b',
    ]);
    // isp-b was blind meanwhile: DE's shutdown is isp-a's alone.
    expect(changes.filter((c) => c.event.kind === 'shutdown').every((c) => c.event.path === 'isp-a')).toBe(true);
  });

  it('reports each path in the status and in the vantage verdicts', () => {
    const world: World = (id, at) => (id.endsWith('@isp-b') && at >= CUT ? fail('tcp_timeout') : ok);
    const detectors = new PathDetectors(opts);
    run(simulate(both, world, T0, CUT + 20 * 60_000), opts, CUT + 20 * 60_000, detectors as unknown as Detector);
    const status = detectors.status();
    expect(status.paths?.map((p) => [p.path, p.vantage.online])).toEqual([
      ['isp-a', true],
      ['isp-b', false],
    ]);
    expect(status.targets.find((t) => t.id === 'kz-0@isp-b')).toMatchObject({ path: 'isp-b', state: 'down' });
    expect(status.targets.find((t) => t.id === 'kz-0@isp-a')).toMatchObject({ path: 'isp-a', state: 'up' });
    expect(detectors.vantageStates().map((v) => [v.path, v.online])).toEqual([
      ['isp-a', true],
      ['isp-b', false],
    ]);
  });

  it('source_unavailable is never evidence: targets drop out, controls take their path offline', () => {
    // isp-b's interface goes away: every probe through it is source_unavailable.
    const world: World = (id, at) => (id.endsWith('@isp-b') && during(at, CUT, RESTORE) ? fail('source_unavailable') : ok);
    const changes = replay(simulate(both, world, T0, END), opts, END);
    expect(names(changes)).toEqual(['opened vantage_offline - isp-b', 'closed vantage_offline - isp-b']);
    // Only the targets (not the controls) unavailable: nothing at all, and no target is down.
    const targetsOnly: World = (id, at) => (id.startsWith('kz-') && id.endsWith('@isp-b') && during(at, CUT, RESTORE) ? fail('source_unavailable') : ok);
    const detectors = new PathDetectors(opts);
    const mid = CUT + 20 * 60_000;
    expect(run(simulate(both, targetsOnly, T0, mid), opts, mid, detectors as unknown as Detector)).toEqual([]);
    expect(detectors.status().targets.find((t) => t.id === 'kz-0@isp-b')?.state).toBe('unknown');
  });

  it('an event stored with its path comes back to that path after a restart', () => {
    const world: World = (id, at) => (id.startsWith('kz-') && id.endsWith('@isp-b') && at >= CUT ? fail('tcp_timeout') : ok);
    const mid = CUT + 20 * 60_000;
    const open = replay(simulate(both, world, T0, mid), opts, mid).map((c) => c.event);
    expect(open.map((e) => e.path)).toEqual(['isp-b']);
    // Through the store's schema (the canonical line keeps `path`), then into a fresh daemon.
    const stored = JSON.parse(JSON.stringify(open[0])) as unknown;
    const parsed = parseEvent(stored);
    expect(parsed.ok && parsed.event.path).toBe('isp-b');
    const restarted = new PathDetectors(opts);
    restarted.resume(parsed.ok ? [parsed.event] : []);
    expect(restarted.active().map((e) => [e.id, e.path])).toEqual([[open[0]?.id, 'isp-b']]);
    expect(restarted.status().paths?.map((p) => p.path)).toEqual(['isp-a', 'isp-b']);
  });

  it('without sources it is exactly the one detector of before', () => {
    const world: World = (id, at) => (id.startsWith('kz-') && during(at, CUT, RESTORE) ? fail('tcp_reset') : ok);
    const plain: DetectorOptions = { detection, vantage: { id: 'fra-1' }, targets: base };
    const results = simulate(base, world, T0, END);
    const single = new Detector(plain);
    const paths = new PathDetectors(plain);
    const a = run(results, plain, END, single);
    const b = run(results, plain, END, paths as unknown as Detector);
    expect(b).toEqual(a);
    expect(a.length).toBeGreaterThan(0);
    expect(a.every((c) => c.event.path === undefined)).toBe(true);
    expect(paths.status()).toEqual(single.status());
    expect(paths.multiPath).toBe(false);
  });
});
