/**
 * The location rule in the detector: outside-in, a target answering from outside its declared
 * country does not count toward that country's verdicts (geo-eligibility.ts), hooked where
 * evaluate() adds each tracker to its groups.
 */
import { describe, expect, it } from 'vitest';
import { DetectionConfig, type ResolvedTarget } from '../../../src/config/schema.js';
import { Detector, type EventChange } from '../../../src/detect/detector.js';
import { countsForVerdicts } from '../../../src/detect/geo-eligibility.js';
import type { ProbeResult } from '../../../src/probers/types.js';

const detection = DetectionConfig.parse({});
const T0 = Date.UTC(2022, 0, 5, 0, 0, 0);

function target(id: string, country: string, extra: Partial<ResolvedTarget> = {}): ResolvedTarget {
  return { id, kind: 'tcp', host: '127.0.0.1', port: 9, country, category: 'news', control: false, file: 'test', ...extra } as ResolvedTarget;
}

describe('countsForVerdicts', () => {
  it('drops a mismatched target outside-in, keeps it at home, for controls and with geo: ignore', () => {
    const kz = target('a', 'KZ');
    expect(countsForVerdicts(kz, false, undefined)).toBe(true);
    expect(countsForVerdicts(kz, true, undefined)).toBe(false);
    expect(countsForVerdicts(kz, true, 'DE')).toBe(false);
    expect(countsForVerdicts(kz, true, 'KZ')).toBe(true);
    expect(countsForVerdicts(target('c', 'ZZ', { control: true }), true, undefined)).toBe(true);
    expect(countsForVerdicts(target('i', 'KZ', { geo: 'ignore' }), true, undefined)).toBe(true);
  });
});

/**
 * Kazakhstan with 6 domestic targets and 4 CDN-served ones, plus 3 controls, probed every
 * minute; from minute 30 the 6 domestic ones fail (a shutdown the CDN edges do not see).
 */
function run(mark: (d: Detector) => void): { changes: EventChange[]; ratio: number | null } {
  const kz = [...Array.from({ length: 6 }, (_, i) => target(`kz-${i}`, 'KZ')), ...Array.from({ length: 4 }, (_, i) => target(`kz-cdn-${i}`, 'KZ'))];
  const controls = Array.from({ length: 3 }, (_, i) => target(`ctl-${i}`, 'ZZ', { control: true, category: 'control' }));
  const targets = [...kz, ...controls];
  const d = new Detector({ detection, vantage: { id: 'v' }, targets });
  mark(d);
  const changes: EventChange[] = [];
  for (let m = 0; m < 45; m++) {
    for (const [i, t] of targets.entries()) {
      const at = T0 + m * 60_000 + i * 1000;
      const cut = m >= 30 && t.country === 'KZ' && !t.id.includes('cdn');
      const r: ProbeResult = { target: t.id, kind: 'tcp', ok: !cut, reason: cut ? 'tcp_timeout' : null, phases: { total: cut ? 10 : 0.05 }, ip: '127.0.0.1', at };
      d.observe(r);
      if (cut) d.observe({ ...r, at: at + 15_000, confirm: true });
    }
    for (let s = 0; s < 60_000; s += 5_000) changes.push(...d.evaluate(T0 + m * 60_000 + s + 30_000));
  }
  return { changes, ratio: d.status().countries.find((c) => c.country === 'KZ')?.ratio ?? null };
}

describe('Detector with the location check', () => {
  it('without verdicts the CDN edges hold KZ at 40%: no shutdown', () => {
    const { changes, ratio } = run(() => undefined);
    expect(changes.filter((c) => c.event.kind === 'shutdown')).toEqual([]);
    expect(ratio).toBeCloseTo(0.4, 5);
  });

  it('with the CDN targets flagged, KZ is dark: a shutdown over the 6 domestic targets', () => {
    const { changes, ratio } = run((d) => {
      for (let i = 0; i < 4; i++) d.setGeoMismatch(`kz-cdn-${i}`, true);
    });
    const opened = changes.filter((c) => c.type === 'opened' && c.event.kind === 'shutdown');
    expect(opened).toHaveLength(1);
    expect(opened[0]?.event.country).toBe('KZ');
    expect(opened[0]?.event.evidence.targets).toHaveLength(6);
    expect(ratio).toBe(0);
  });

  it('a target whose verdict is cleared counts again', () => {
    const { changes } = run((d) => {
      for (let i = 0; i < 4; i++) d.setGeoMismatch(`kz-cdn-${i}`, true);
      for (let i = 0; i < 4; i++) d.setGeoMismatch(`kz-cdn-${i}`, false);
      d.setGeoMismatch('no-such-target', true);
    });
    expect(changes.filter((c) => c.event.kind === 'shutdown')).toEqual([]);
  });
});
