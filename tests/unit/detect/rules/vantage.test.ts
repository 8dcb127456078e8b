import { describe, expect, it } from 'vitest';
import { judgeVantage } from '../../../../src/detect/rules/vantage.js';
import { context, many, tracker } from './fixture.js';

describe('rule 1: the vantage', () => {
  it('is offline with at least half the controls down, and names the failing ones', () => {
    const ts = [...many(2, 'c-up', 'US', 'control', { control: true }), ...many(2, 'c-down', 'US', 'control', { control: true, down: 'tcp_timeout' })];
    const v = judgeVantage(context(ts), false);
    expect(v).toMatchObject({ online: false, offline: true, frozen: true, controls: 4 });
    expect(v.failing.map((t) => t.id)).toEqual(['c-down-0', 'c-down-1']);
    expect(v.condition).toMatchObject({ kind: 'vantage_offline', country: null, mechanism: 'blackhole' });
  });

  it('is online with fewer down', () => {
    const ts = [...many(3, 'c-up', 'US', 'control', { control: true }), tracker('c-down', 'US', 'control', { control: true, down: 'tcp_timeout' })];
    expect(judgeVantage(context(ts), false)).toMatchObject({ online: true, offline: false, frozen: false, condition: null });
  });

  it('inside-out, a domestic target answering after the controls failed vetoes it', () => {
    const ts = [...many(3, 'c', 'US', 'control', { control: true, down: 'tcp_timeout' }), tracker('dom', 'KZ', 'news', { okAgo: 1_000 })];
    expect(judgeVantage(context(ts, 'KZ'), false)).toMatchObject({ online: true, vetoed: true, offline: false });
  });

  it('a gateway cut explains failing controls', () => {
    const ts = many(3, 'c', 'US', 'control', { control: true, down: 'tcp_timeout' });
    expect(judgeVantage(context(ts, 'KZ'), true)).toMatchObject({ online: true, offline: false, frozen: false });
  });

  it('at start-up, controls never seen up and all failing are offline; without controls it is unknown', () => {
    const ts = many(3, 'c', 'US', 'control', { control: true, down: 'network_unreachable', neverUp: true });
    expect(judgeVantage(context(ts), false)).toMatchObject({ online: false, offline: true, frozen: true, controls: 3 });
    expect(judgeVantage(context(many(3, 'kz', 'KZ', 'news')), false)).toMatchObject({ online: null, offline: false, frozen: false });
  });

  it('at start-up inside-out, a domestic target answering vetoes the offline verdict (restarted during a gateway cut)', () => {
    const ctls = many(3, 'c', 'US', 'control', { control: true, down: 'tcp_timeout', neverUp: true });
    expect(judgeVantage(context([...ctls, tracker('dom', 'KZ', 'news', { okAgo: 1_000 })], 'KZ'), false)).toMatchObject({
      online: true,
      vetoed: true,
      offline: false,
      frozen: false,
    });
    // Domestic targets failing too: offline, as before.
    const domDown = tracker('dom', 'KZ', 'news', { down: 'tcp_timeout', neverUp: true });
    expect(judgeVantage(context([...ctls, domDown], 'KZ'), false)).toMatchObject({ online: false, offline: true });
  });
});
