import { describe, expect, it } from 'vitest';
import { DetectionConfig, type ResolvedTarget } from '../../../src/config/schema.js';
import { TargetTracker } from '../../../src/detect/target-state.js';
import type { ProbeResult } from '../../../src/probers/types.js';

const s = DetectionConfig.parse({});
const target: ResolvedTarget = { id: 't', kind: 'tcp', host: '127.0.0.1', port: 9, country: 'KZ', category: 'web', control: false, file: 'test' };

function feed(t: TargetTracker, at: number, ok: boolean, confirm = false): void {
  const r: ProbeResult = { target: 't', kind: 'tcp', ok, reason: ok ? null : 'tcp_timeout', phases: { total: ok ? 0.05 : 10 }, ip: null, at, ...(confirm ? { confirm } : {}) };
  t.observe(r, at + (r.phases.total ?? 0) * 1000, s);
}

function upTracker(): TargetTracker {
  const t = new TargetTracker(target, 3_600_000);
  feed(t, 0, true);
  feed(t, 60_000, true);
  return t;
}

describe('TargetTracker', () => {
  it("this host's resolver failing (dns_resolver_unreachable, dns_temporary_failure) is no evidence: a target goes unknown, a control fails", () => {
    for (const reason of ['dns_resolver_unreachable', 'dns_temporary_failure'] as const) {
      const t = upTracker();
      const failed: ProbeResult = { target: 't', kind: 'tcp', ok: false, reason, phases: { dns: 0.004, total: 0.004 }, ip: null, at: 120_000 };
      t.observe(failed, 120_004, s);
      t.observe({ ...failed, at: 135_000 }, 135_004, s);
      expect(t.state, reason).toBe('unknown');
      expect(t.eligible(135_004, s.baseline_window), reason).toBe(false);
      const control = new TargetTracker({ ...target, control: true }, 3_600_000);
      feed(control, 0, true);
      feed(control, 60_000, true);
      control.observe(failed, 120_004, s);
      control.observe({ ...failed, at: 135_000 }, 135_004, s);
      expect(control.state, reason).toBe('down');
    }
  });

  it('goes up after up_after successes and is never eligible before', () => {
    const t = new TargetTracker(target, 3_600_000);
    expect(t.eligible(0, s.baseline_window)).toBe(false);
    feed(t, 0, true);
    expect(t.state).toBe('unknown');
    feed(t, 60_000, true);
    expect(t.state).toBe('up');
    expect(t.eligible(60_000, s.baseline_window)).toBe(true);
  });

  it('heals a single lost probe with the confirm re-probe', () => {
    const t = upTracker();
    feed(t, 120_000, false);
    expect(t.state).toBe('suspect');
    feed(t, 135_000, true, true);
    expect(t.state).toBe('up');
    expect(t.failStart).toBeNull();
  });

  it('is down when the confirm fails too, remembering when the streak began', () => {
    const t = upTracker();
    feed(t, 120_000, false);
    feed(t, 135_000, false, true);
    expect(t.state).toBe('down');
    expect(t.failStart).toBe(120_000);
    expect(t.lastReason).toBe('tcp_timeout');
    feed(t, 180_000, true);
    expect(t.state).toBe('down');
    expect(t.okStart).toBe(180_000);
    feed(t, 240_000, true);
    expect(t.state).toBe('up');
    expect(t.failStart).toBeNull();
  });

  it('becomes dead (not eligible) after baseline_window without being up', () => {
    const t = upTracker();
    feed(t, 120_000, false);
    feed(t, 135_000, false, true);
    expect(t.eligible(120_000 + s.baseline_window - 60_000, s.baseline_window)).toBe(true);
    expect(t.eligible(120_000 + s.baseline_window + 60_000, s.baseline_window)).toBe(false);
  });

  it('a target failing from the start is down but not eligible', () => {
    const t = new TargetTracker(target, 3_600_000);
    feed(t, 0, false);
    feed(t, 15_000, false, true);
    expect(t.state).toBe('down');
    expect(t.eligible(20_000, s.baseline_window)).toBe(false);
  });
});
