import { describe, expect, it } from 'vitest';
import { LatencyBaseline, MIN_BASELINE_SAMPLES, baselineTau } from '../../../src/detect/baseline.js';

const MIN = 60_000;
const tau = baselineTau(6 * 3_600_000);

function warm(b: LatencyBaseline, latency: number, n: number, start = 0): number {
  let at = start;
  for (let i = 0; i < n; i++, at += MIN) b.add(latency, at, 3);
  return at;
}

describe('LatencyBaseline', () => {
  it('has no ratio before enough samples', () => {
    const b = new LatencyBaseline(tau);
    warm(b, 0.1, MIN_BASELINE_SAMPLES - 1);
    expect(b.ratio).toBeNull();
    expect(b.value).toBeNull();
    b.add(0.1, 10 * MIN, 3);
    expect(b.value).toBeCloseTo(0.1, 6);
  });

  it('ignores a single slow probe (median of the last three)', () => {
    const b = new LatencyBaseline(tau);
    let at = warm(b, 0.1, 60);
    b.add(5, at, 3);
    at += MIN;
    expect(Math.abs((b.ratio as number) - 1)).toBeLessThan(0.02);
    expect(b.slowSince).toBe(at - MIN);
    b.add(0.1, at, 3);
    expect(Math.abs((b.ratio as number) - 1)).toBeLessThan(0.02);
    expect(b.slowSince).toBeNull();
    expect(b.value as number).toBeLessThan(0.11);
  });

  it('does not absorb hours of throttling into the baseline', () => {
    const b = new LatencyBaseline(tau);
    const at = warm(b, 0.1, 360);
    warm(b, 0.5, 180, at); // three hours at 5x
    expect(b.ratio as number).toBeGreaterThan(3);
    expect(b.value as number).toBeLessThan(0.13);
  });

  it('follows a moderate, lasting change', () => {
    const b = new LatencyBaseline(tau);
    const at = warm(b, 0.1, 60);
    warm(b, 0.2, 24 * 60, at);
    expect(b.value as number).toBeGreaterThan(0.19);
    expect(b.ratio as number).toBeCloseTo(1, 1);
  });
});
