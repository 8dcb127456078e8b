import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronSchedule, cronProblems } from '../../../src/windows/cron.js';

const at = (iso: string): number => Date.parse(iso);

describe('cronProblems (node-cron validateDetailed)', () => {
  it('is empty for valid 5- and 6-field expressions', () => {
    expect(cronProblems('0 6 * 6 0-4')).toEqual([]);
    expect(cronProblems('*/10 * * * * *')).toEqual([]);
  });
  it('names the field', () => {
    expect(cronProblems('0 6 32 * *')).toEqual(['dayOfMonth: 32 is a invalid expression for day of month']);
  });
});

describe('CronSchedule', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('matches the start second in the zone, not in UTC', () => {
    const cron = new CronSchedule('0 6 * * *', 'Asia/Baghdad');
    expect(cron.startsAt(at('2027-06-01T03:00:00Z'))).toBe(true);
    expect(cron.startsAt(at('2027-06-01T06:00:00Z'))).toBe(false);
    expect(cron.startsAt(at('2027-06-01T03:00:01Z'))).toBe(false);
    cron.dispose();
  });

  it('finds the occurrence under way, and none outside it', () => {
    const cron = new CronSchedule('0 6 * * *', 'Asia/Baghdad');
    expect(cron.latestStartWithin(at('2027-06-01T04:30:12Z'), 2 * 3600_000)).toBe(at('2027-06-01T03:00:00Z'));
    expect(cron.latestStartWithin(at('2027-06-01T03:00:00Z'), 2 * 3600_000)).toBe(at('2027-06-01T03:00:00Z'));
    expect(cron.latestStartWithin(at('2027-06-01T05:00:00Z'), 2 * 3600_000)).toBeNull();
    expect(cron.latestStartWithin(at('2027-06-01T02:59:59Z'), 2 * 3600_000)).toBeNull();
    cron.dispose();
  });

  it('finds a seconds-field start', () => {
    const cron = new CronSchedule('15 */5 * * * *', 'UTC');
    expect(cron.latestStartWithin(at('2027-06-01T00:05:20Z'), 10_000)).toBe(at('2027-06-01T00:05:15Z'));
    cron.dispose();
  });

  it("gives node-cron's next starts across a daylight-saving change (Europe/Berlin, spring forward 2027-03-28)", () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at('2027-03-26T12:00:00Z'));
    const cron = new CronSchedule('0 6 * * *', 'Europe/Berlin');
    // 06:00 local is 05:00Z in CET and 04:00Z in CEST.
    expect(cron.nextStarts(3).map((d) => d.toISOString())).toEqual(['2027-03-27T05:00:00.000Z', '2027-03-28T04:00:00.000Z', '2027-03-29T04:00:00.000Z']);
    expect(cron.localKey(at('2027-03-28T04:00:00Z'))).toBe('2027-03-28 06:00:00');
    cron.dispose();
  });
});
