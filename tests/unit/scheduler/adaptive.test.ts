import { describe, expect, test } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { AdaptivePolicy, type AdaptiveSettings, type ExtraProbe, type QuorumSettings } from '../../../src/scheduler/adaptive.js';

// Pure policy logic: results are fed by hand with explicit times; nothing is dialled.

const INTERVAL = 60_000;
const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const QUORUM: QuorumSettings = { shutdown_ratio: 0.7, shutdown_min_targets: 3, partial_ratio: 0.7, vantage_offline_ratio: 0.5, up_after: 2 };
const SETTINGS: AdaptiveSettings = { enabled: true, max_per_second: 1000, group_budget: 1000 };

function target(id: string, country: string, extra: Partial<{ asn: number; category: string; control: boolean }> = {}): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, control: false, country, category: 'news', file: 't.yaml', ...extra };
}

/** n targets of `country`, ids `${country}${i}`. */
function country(code: string, n: number, extra: Partial<{ asn: number; category: string }> = {}): ResolvedTarget[] {
  return Array.from({ length: n }, (_, i) => target(`${code}${i}`, code, extra));
}

const controls = (n: number): ResolvedTarget[] => Array.from({ length: n }, (_, i) => target(`c${i}`, 'ZZ', { control: true, category: 'control' }));

/** Every target answers once, so each has a known-good latest result. */
function warm(p: AdaptivePolicy, targets: readonly ResolvedTarget[], at = T0): void {
  for (const t of targets) p.observe({ target: t.id, ok: true, at }, false);
}

const takeAll = (p: AdaptivePolicy, at: number): ExtraProbe[] => p.take(at, () => false);

describe('AdaptivePolicy', () => {
  test('a lone failure asks for one scout; the failure healing by its confirm asks for nothing more', () => {
    const targets = [...country('KZ', 10), ...country('IR', 10)];
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    const scouts = takeAll(p, T0 + 1000);
    expect(scouts).toHaveLength(1);
    expect(scouts[0]?.cause).toBe('scout');
    expect(scouts[0]?.id).toMatch(/^KZ[1-9]$/);
    p.observe({ target: 'KZ0', ok: true, at: T0 + 6000 }, true);
    p.observe({ target: scouts[0]?.id ?? '', ok: true, at: T0 + 6000 }, false);
    expect(takeAll(p, T0 + 7000)).toEqual([]);
  });

  test('a failing scout is the second sign: a quorum-sized sample of the fine members is probed', () => {
    const targets = country('KZ', 10);
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    const [scout] = takeAll(p, T0 + 1000);
    p.observe({ target: scout?.id ?? '', ok: false, at: T0 + 11_000 }, false);
    const sample = takeAll(p, T0 + 11_000);
    // ceil(0.7 x 10) + 1 = 8 members, never the two already failing.
    expect(sample).toHaveLength(8);
    expect(new Set(sample.map((x) => x.id)).size).toBe(8);
    for (const x of sample) {
      expect(x.cause).toBe('group_failing');
      expect(['KZ0', scout?.id]).not.toContain(x.id);
    }
  });

  test('two unrelated members each losing a probe within a minute is no sign: scouts only', () => {
    const targets = country('KZ', 10);
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    p.observe({ target: 'KZ5', ok: false, at: T0 + 20_000 }, false);
    expect(takeAll(p, T0 + 20_000).map((x) => x.cause)).toEqual(['scout', 'scout']);
  });

  test('a failed confirm re-probe is the second sign too', () => {
    const targets = country('KZ', 5);
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    takeAll(p, T0 + 1000);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 6000 }, true);
    const sample = takeAll(p, T0 + 6000);
    // ceil(0.7 x 5) + 1 = 5, at most n - 1 = 4; the scout (queued before) is not queued twice.
    expect(sample.map((x) => x.cause)).toEqual(['group_failing', 'group_failing', 'group_failing', 'group_failing']);
  });

  test('a group escalates at most once per interval', () => {
    const targets = country('KZ', 20);
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    for (let i = 0; i < 20; i++) p.observe({ target: `KZ${i}`, ok: false, at: T0 + 1000 + i * 100 }, false);
    const first = takeAll(p, T0 + 3000).filter((x) => x.cause === 'group_failing');
    expect(first.length).toBeGreaterThan(0);
    for (let i = 0; i < 20; i++) p.observe({ target: `KZ${i}`, ok: false, at: T0 + 10_000 }, true);
    expect(takeAll(p, T0 + 10_000)).toEqual([]);
  });

  test('a target answering after two failures probes the members of its groups that still look failed', () => {
    const targets = country('KZ', 6);
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    for (const t of targets) p.observe({ target: t.id, ok: false, at: T0 + 1000 }, false);
    for (const t of targets) p.observe({ target: t.id, ok: false, at: T0 + 6000 }, true);
    takeAll(p, T0 + 6000);
    p.observe({ target: 'KZ0', ok: true, at: T0 + 300_000 }, false);
    const sample = takeAll(p, T0 + 300_000);
    expect(sample.length).toBe(5);
    for (const x of sample) {
      expect(x.cause).toBe('group_recovering');
      expect(x.id).not.toBe('KZ0');
    }
    // Each that answers is probed once more (up_after = 2), then no more.
    for (const x of sample) p.observe({ target: x.id, ok: true, at: T0 + 300_100 }, false);
    const again = takeAll(p, T0 + 300_100);
    expect(again.map((x) => x.id).sort()).toEqual(sample.map((x) => x.id).sort());
    for (const x of again) p.observe({ target: x.id, ok: true, at: T0 + 300_200 }, false);
    expect(takeAll(p, T0 + 300_200)).toEqual([]);
  });

  test('a lost probe healed by its confirm is no recovery (one failure is not enough)', () => {
    const targets = country('KZ', 6);
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ1', ok: false, at: T0 + 1000 }, false);
    p.observe({ target: 'KZ1', ok: true, at: T0 + 6000 }, true);
    expect(takeAll(p, T0 + 6000).map((x) => x.cause)).toEqual(['scout']);
  });

  test('a country of 1000 failing costs group_budget probes per group per interval, never more than the per-second cap', () => {
    const targets = country('KZ', 1000, { asn: 64500 });
    const settings: AdaptiveSettings = { enabled: true, max_per_second: 20, group_budget: 32 };
    const p = new AdaptivePolicy(targets, settings, QUORUM, INTERVAL);
    warm(p, targets);
    // The slots deliver 1000 failures over one budget window (a minute); extra probes start as the cap allows.
    const perSecond = new Map<number, number>();
    let extras = 0;
    for (let ms = 0; ms < INTERVAL; ms += 60) {
      const i = ms / 60;
      p.observe({ target: `KZ${i}`, ok: false, at: T0 + ms }, false);
      const started = p.take(T0 + ms, () => false);
      const second = Math.floor((T0 + ms) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + started.length);
      extras += started.length;
    }
    for (const n of perSecond.values()) expect(n).toBeLessThanOrEqual(20);
    // Three groups (country, ASN, category) with a budget of 32 each, a scout among them.
    expect(extras).toBeLessThanOrEqual(3 * 32);
    expect(extras).toBeGreaterThanOrEqual(32);
  });

  test('extra probes over the per-second cap wait for the next second, oldest first', () => {
    const targets = country('KZ', 30);
    const p = new AdaptivePolicy(targets, { enabled: true, max_per_second: 5, group_budget: 100 }, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1500 }, true);
    expect(p.take(T0 + 1500, () => false)).toHaveLength(5);
    expect(p.take(T0 + 1900, () => false)).toHaveLength(0);
    const next = p.take(T0 + 2000, () => false);
    expect(next).toHaveLength(5);
    expect(p.waiting).toBeGreaterThan(0);
  });

  test('a target the caller reports busy is dropped, not started and not counted against the cap', () => {
    const targets = country('KZ', 5);
    const p = new AdaptivePolicy(targets, { enabled: true, max_per_second: 2, group_budget: 100 }, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 6000 }, true);
    const started = p.take(T0 + 6000, (id) => id === 'KZ1' || id === 'KZ2');
    expect(started.map((x) => x.id).sort()).toEqual(['KZ3', 'KZ4']);
  });

  test('a failing control samples the controls; inside-out also the home country', () => {
    const targets = [...controls(4), ...country('DE', 6), ...country('KZ', 6)];
    const outside = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(outside, targets);
    outside.observe({ target: 'c0', ok: false, at: T0 + 1000 }, false);
    outside.observe({ target: 'c0', ok: false, at: T0 + 6000 }, true);
    const ids = takeAll(outside, T0 + 6000).map((x) => x.id);
    expect(ids.every((id) => id.startsWith('c'))).toBe(true);

    const inside = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL, 'DE');
    warm(inside, targets);
    inside.observe({ target: 'c0', ok: false, at: T0 + 1000 }, false);
    inside.observe({ target: 'c0', ok: false, at: T0 + 6000 }, true);
    const probed = takeAll(inside, T0 + 6000).map((x) => x.id);
    expect(probed.some((id) => id.startsWith('c'))).toBe(true);
    expect(probed.some((id) => id.startsWith('DE'))).toBe(true);
    expect(probed.some((id) => id.startsWith('KZ'))).toBe(false);
  });

  test('inside-out, a foreign country failing also samples the controls and the home country', () => {
    const targets = [...controls(4), ...country('DE', 6), ...country('KZ', 6)];
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL, 'DE');
    warm(p, targets);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 1000 }, false);
    p.observe({ target: 'KZ0', ok: false, at: T0 + 6000 }, true);
    const probed = takeAll(p, T0 + 6000).map((x) => x.id);
    for (const prefix of ['c', 'DE', 'KZ']) expect(probed.some((id) => id.startsWith(prefix))).toBe(true);
  });

  test('groups are per path: a bound target does not sample the default route', () => {
    const targets = [...country('KZ', 4), ...country('KZ', 4).map((t) => ({ ...t, id: `${t.id}@b`, path: 'b' }))];
    const p = new AdaptivePolicy(targets, SETTINGS, QUORUM, INTERVAL);
    warm(p, targets);
    p.observe({ target: 'KZ0@b', ok: false, at: T0 + 1000 }, false);
    p.observe({ target: 'KZ0@b', ok: false, at: T0 + 6000 }, true);
    const probed = takeAll(p, T0 + 6000).map((x) => x.id);
    expect(probed.length).toBeGreaterThan(0);
    for (const id of probed) expect(id.endsWith('@b')).toBe(true);
  });

  test('disabled: nothing is ever asked for', () => {
    const targets = country('KZ', 5);
    const p = new AdaptivePolicy(targets, { ...SETTINGS, enabled: false }, QUORUM, INTERVAL);
    for (const t of targets) p.observe({ target: t.id, ok: false, at: T0 }, false);
    expect(takeAll(p, T0)).toEqual([]);
  });
});
