import { describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { cronAt, metricValue, overrunsOf, WindowWatch } from '../../../src/sim/windows.js';
import { CronSchedule } from '../../../src/windows/cron.js';

const METRICS = `# HELP lookout_window_active x
lookout_window_active{vantage="v",window="exam",kind="expected"} 0
lookout_window_active{vantage="v",window="later",kind="maintenance"} 1
lookout_disruption_expected{vantage="v",kind="shutdown",country="IQ",window="exam"} 1
`;

const event = (fields: Partial<DisruptionEvent>): DisruptionEvent => ({ id: 'e1', kind: 'shutdown', country: 'IQ', ended_at: null, ...fields }) as DisruptionEvent;

describe('simulate windows', () => {
  it('cronAt names one UTC second that node-cron matches, and not the next', () => {
    const at = Date.UTC(2027, 11, 31, 23, 59, 58);
    const cron = new CronSchedule(cronAt(at), 'UTC');
    try {
      expect(cron.startsAt(at)).toBe(true);
      expect(cron.startsAt(at + 1000)).toBe(false);
      expect(cron.startsAt(at - 60_000)).toBe(false);
    } finally {
      cron.dispose();
    }
  });

  it('reads a sample by its labels from the metrics text', () => {
    expect(metricValue(METRICS, 'lookout_window_active', { window: 'exam' })).toBe(0);
    expect(metricValue(METRICS, 'lookout_window_active', { window: 'later' })).toBe(1);
    expect(metricValue(METRICS, 'lookout_window_active', { window: 'none' })).toBeNull();
  });

  it('reports each change of a window once, and the open events an expected window overran with their gauges', () => {
    const watch = new WindowWatch();
    expect(watch.changes([{ name: 'exam', kind: 'expected', active: false }])).toEqual([]);
    expect(watch.changes([{ name: 'exam', kind: 'expected', active: true }]).map((c) => c.opened)).toEqual([true]);
    expect(watch.changes([{ name: 'exam', kind: 'expected', active: true }])).toEqual([]);
    expect(watch.changes([{ name: 'exam', kind: 'expected', active: false }]).map((c) => c.opened)).toEqual([false]);
    const open = [event({ expected: 'exam' }), event({ id: 'e2', expected: 'exam', ended_at: '2027-01-01T00:00:00Z' }), event({ id: 'e3' })];
    expect(overrunsOf('exam', open, METRICS).map((o) => [o.event.id, o.expectedGauge, o.activeGauge])).toEqual([['e1', 1, 0]]);
  });
});
