import { afterEach, describe, expect, it, vi } from 'vitest';
import { DetectionConfig, type ResolvedTarget } from '../../../src/config/schema.js';
import { Detector } from '../../../src/detect/detector.js';
import { replay } from '../../../src/detect/replay.js';
import type { ProbeResult } from '../../../src/probers/types.js';

// Found by the replay fuzzer (bench/fuzz): two recorded results decades apart made replay tick
// through every 5 s in between, hundreds of millions of evaluations; `lookout replay` hung.

const detection = DetectionConfig.parse({});
const targets: ResolvedTarget[] = ['a', 'b', 'c'].map((id) => ({ id, kind: 'tcp', host: `${id}.example`, port: 443, country: 'KZ', category: 'news', control: false, file: 't.yaml' }));

function result(target: string, at: number, ok: boolean): ProbeResult {
  return { target, kind: 'tcp', ok, reason: ok ? null : 'tcp_timeout', phases: { total: 0.05 }, ip: null, at };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('replay across a long gap without results', () => {
  it('ticks through two baseline windows and 100 evaluations of idle, then resumes just before the next result', () => {
    const evaluate = vi.spyOn(Detector.prototype, 'evaluate');
    const t0 = Date.UTC(2000, 0, 1);
    const t1 = Date.UTC(2050, 0, 1);
    const results = [...targets.map((t) => result(t.id, t0, true)), ...targets.map((t) => result(t.id, t1, false))];
    replay(results, { detection, vantage: { id: 'v' }, targets });
    const idleTicks = (2 * detection.baseline_window) / detection.evaluate_every + 100;
    expect(evaluate.mock.calls.length).toBeGreaterThanOrEqual(idleTicks);
    expect(evaluate.mock.calls.length).toBeLessThan(idleTicks + 10);
    // The last evaluations before the second batch are at its time, not 50 years early.
    const times = evaluate.mock.calls.map((c) => c[0]);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(t1);
  });

  it('a gap shorter than the horizon is ticked through at every evaluation, as before', () => {
    const evaluate = vi.spyOn(Detector.prototype, 'evaluate');
    const t0 = Date.UTC(2026, 0, 1);
    const t1 = t0 + 3_600_000;
    replay([result('a', t0, true), result('a', t1, true)], { detection, vantage: { id: 'v' }, targets });
    expect(evaluate.mock.calls.length).toBeGreaterThanOrEqual(3_600_000 / detection.evaluate_every);
  });
});
