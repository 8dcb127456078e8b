import { describe, expect, it } from 'vitest';
import type { WindowConfig } from '../../../src/config/schema.js';
import { WindowClock, type WindowChange } from '../../../src/windows/window-clock.js';

const at = (iso: string): number => Date.parse(iso);
const exams: WindowConfig = { name: 'iq-exams', kind: 'expected', cron: '0 6 * * *', duration: 2 * 3600_000, timezone: 'Asia/Baghdad', countries: ['IQ'], reason: 'exam' };
const HOUR = 3600_000;

/** Drives the clock one tick per second from `from` to `to` (inclusive), as the scheduler's ticker does. */
function run(clock: WindowClock, from: number, to: number): WindowChange[] {
  const out: WindowChange[] = [];
  for (let t = from; t <= to; t += 1000) out.push(...clock.tick(t + 3).changes);
  return out;
}
const brief = (changes: WindowChange[]): string[] => changes.map((c) => `${c.type} ${c.window.name} ${new Date(c.start).toISOString()}`);

describe('WindowClock', () => {
  it('opens a window in the second node-cron says it starts and closes it after its duration', () => {
    const clock = new WindowClock([exams]);
    expect(run(clock, at('2027-06-01T02:59:50Z'), at('2027-06-01T02:59:59Z'))).toEqual([]);
    expect(brief(run(clock, at('2027-06-01T03:00:00Z'), at('2027-06-01T03:00:00Z')))).toEqual(['opened iq-exams 2027-06-01T03:00:00.000Z']);
    expect(clock.active().map((w) => w.name)).toEqual(['iq-exams']);
    expect(run(clock, at('2027-06-01T03:00:01Z'), at('2027-06-01T04:59:59Z'))).toEqual([]);
    expect(brief(run(clock, at('2027-06-01T05:00:00Z'), at('2027-06-01T05:00:01Z')))).toEqual(['closed iq-exams 2027-06-01T03:00:00.000Z']);
    expect(clock.active()).toEqual([]);
    clock.dispose();
  });

  it('opens a window already under way when it starts (the daemon started inside it)', () => {
    const clock = new WindowClock([exams]);
    expect(brief(clock.tick(at('2027-06-01T04:00:00Z')).changes)).toEqual(['opened iq-exams 2027-06-01T03:00:00.000Z']);
    const [status] = clock.status();
    expect(status).toMatchObject({ name: 'iq-exams', active: true, started_at: '2027-06-01T03:00:00.000Z', ends_at: '2027-06-01T05:00:00.000Z' });
    clock.dispose();
  });

  it('a clock stepped back an hour inside the window neither closes nor reopens it', () => {
    const clock = new WindowClock([exams]);
    const opened = run(clock, at('2027-06-01T02:59:58Z'), at('2027-06-01T03:30:00Z'));
    expect(brief(opened)).toEqual(['opened iq-exams 2027-06-01T03:00:00.000Z']);
    // 03:30 -> 02:30: before the window's start by the new clock.
    expect(clock.tick(at('2027-06-01T02:30:01Z')).jumpSeconds).toBe(-3599);
    expect(clock.active()).toHaveLength(1);
    // The start second comes round again: no second opening; the close comes at the end.
    const after = run(clock, at('2027-06-01T02:30:02Z'), at('2027-06-01T05:00:00Z'));
    expect(brief(after)).toEqual(['closed iq-exams 2027-06-01T03:00:00.000Z']);
    clock.dispose();
  });

  it('a clock stepped back an hour after a window closed does not open it again', () => {
    const short: WindowConfig = { ...exams, duration: 10 * 60_000 };
    const clock = new WindowClock([short]);
    expect(brief(run(clock, at('2027-06-01T02:59:59Z'), at('2027-06-01T03:20:00Z')))).toEqual(['opened iq-exams 2027-06-01T03:00:00.000Z', 'closed iq-exams 2027-06-01T03:00:00.000Z']);
    expect(clock.tick(at('2027-06-01T02:20:00Z')).jumpSeconds).toBe(-3600);
    expect(run(clock, at('2027-06-01T02:20:01Z'), at('2027-06-01T03:30:00Z'))).toEqual([]);
    // The next day's start opens as usual.
    expect(brief(run(clock, at('2027-06-02T02:59:59Z'), at('2027-06-02T03:00:00Z')))).toEqual(['opened iq-exams 2027-06-02T03:00:00.000Z']);
    clock.dispose();
  });

  it('a clock stepped forward an hour over the start still opens the window, once', () => {
    const clock = new WindowClock([exams]);
    expect(run(clock, at('2027-06-01T02:30:00Z'), at('2027-06-01T02:30:05Z'))).toEqual([]);
    const jumped = clock.tick(at('2027-06-01T03:30:05Z'));
    expect(jumped.jumpSeconds).toBe(3600);
    expect(brief(jumped.changes)).toEqual(['opened iq-exams 2027-06-01T03:00:00.000Z']);
    expect(brief(run(clock, at('2027-06-01T03:30:06Z'), at('2027-06-01T05:00:00Z')))).toEqual(['closed iq-exams 2027-06-01T03:00:00.000Z']);
    clock.dispose();
  });

  it('a clock stepped forward an hour past the end closes the window', () => {
    const clock = new WindowClock([exams]);
    run(clock, at('2027-06-01T04:30:00Z'), at('2027-06-01T04:30:01Z'));
    expect(brief(clock.tick(at('2027-06-01T05:30:01Z')).changes)).toEqual(['closed iq-exams 2027-06-01T03:00:00.000Z']);
    clock.dispose();
  });

  it('catches up seconds a late tick passed over (no start missed under a short stall)', () => {
    const clock = new WindowClock([exams]);
    clock.tick(at('2027-06-01T02:59:58Z'));
    expect(brief(clock.tick(at('2027-06-01T03:00:04Z')).changes)).toEqual(['opened iq-exams 2027-06-01T03:00:00.000Z']);
    clock.dispose();
  });

  it('opens once when the daylight-saving hour repeats (Europe/Berlin falls back 2027-10-31 03:00 -> 02:00)', () => {
    const maint: WindowConfig = { name: 'm', kind: 'maintenance', cron: '30 2 * * *', duration: 10 * 60_000, timezone: 'Europe/Berlin', countries: [] };
    const clock = new WindowClock([maint]);
    // 02:30 local happens at 00:30Z (CEST) and again at 01:30Z (CET).
    const changes = run(clock, at('2027-10-31T00:00:00Z'), at('2027-10-31T02:00:00Z'));
    expect(brief(changes)).toEqual(['opened m 2027-10-31T00:30:00.000Z', 'closed m 2027-10-31T00:30:00.000Z']);
    clock.dispose();
  });

  it('keeps the local start time across spring forward (Europe/Berlin 2027-03-28): 06:00 CEST is 04:00Z', () => {
    const morning: WindowConfig = { name: 'w', kind: 'watch', cron: '0 6 * * *', duration: HOUR, timezone: 'Europe/Berlin', countries: ['DE'], interval: 10_000 };
    const clock = new WindowClock([morning]);
    const before = run(clock, at('2027-03-27T04:59:59Z'), at('2027-03-27T05:00:00Z'));
    clock.tick(at('2027-03-28T03:59:59Z'));
    const after = run(clock, at('2027-03-28T04:00:00Z'), at('2027-03-28T04:00:00Z'));
    expect(brief([...before, ...after])).toEqual(['opened w 2027-03-27T05:00:00.000Z', 'opened w 2027-03-28T04:00:00.000Z']);
    clock.dispose();
  });
});
