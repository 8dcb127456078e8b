import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { WindowConfig } from '../../../src/config/schema.js';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { registerWindowMetrics } from '../../../src/metrics/window-metrics.js';
import { EventWindows } from '../../../src/windows/event-windows.js';

const event = (id: string, kind: DisruptionEvent['kind'], country: string | null): DisruptionEvent => ({
  id,
  kind,
  country,
  asn: null,
  category: null,
  mechanism: 'blackhole',
  severity: 'critical',
  started_at: '2027-06-01T03:05:00.000Z',
  ended_at: null,
  summary: `${kind} in ${country ?? 'nowhere'}`,
  evidence: { eligible: 3, down: 3, ratio: 0, reasons: {} },
});
const exams: WindowConfig = { name: 'iq-exams', kind: 'expected', cron: '0 6 * * *', duration: 7_200_000, timezone: 'Asia/Baghdad', countries: ['IQ'], reason: 'exam' };
const maint: WindowConfig = { name: 'weekly', kind: 'maintenance', cron: '0 3 * * 0', duration: 1_800_000, timezone: 'UTC', countries: [] };

describe('EventWindows', () => {
  it('marks an event opened inside an expected window covering its country, in the field and the summary', () => {
    const ew = new EventWindows();
    const iq = event('e1', 'shutdown', 'IQ');
    const kz = event('e2', 'shutdown', 'KZ');
    ew.opened(iq, [exams, maint]);
    ew.opened(kz, [exams, maint]);
    expect(ew.annotate(iq)).toMatchObject({ expected: 'iq-exams', summary: 'shutdown in IQ (expected: iq-exams)' });
    expect(ew.annotate(ew.annotate(iq)).summary).toBe('shutdown in IQ (expected: iq-exams)');
    expect(ew.annotate(kz)).toBe(kz);
    ew.closed('e1');
    expect(ew.annotate(iq)).toBe(iq);
  });

  it('marks a vantage_offline inside a maintenance window, never as expected', () => {
    const ew = new EventWindows();
    const off = event('v1', 'vantage_offline', null);
    ew.opened(off, [{ ...exams, countries: [] }, maint]);
    expect(ew.annotate(off)).toEqual({ ...off, maintenance: 'weekly' });
  });

  it('keeps the windows of events resumed from the store', () => {
    const ew = new EventWindows();
    const stored = { ...event('e3', 'shutdown', 'IQ'), expected: 'iq-exams' };
    ew.resume([stored]);
    const { expected: _drop, ...fromDetector } = stored;
    expect(ew.annotate(fromDetector).expected).toBe('iq-exams');
  });

  it('exposes lookout_disruption_expected for open expected events, beside lookout_window_active', async () => {
    const ew = new EventWindows();
    const iq = event('e1', 'shutdown', 'IQ');
    ew.opened(iq, [exams]);
    const registry = new Registry();
    registerWindowMetrics(registry, () => [{ name: 'iq-exams', kind: 'expected', active: true }], () => [ew.annotate(iq), event('e2', 'shutdown', 'KZ')]);
    const text = await registry.metrics();
    expect(text).toContain('lookout_disruption_expected{kind="shutdown",country="IQ",window="iq-exams"} 1');
    expect(text).not.toContain('country="KZ"');
    expect(text).toContain('lookout_window_active{window="iq-exams",kind="expected"} 1');
  });
});
