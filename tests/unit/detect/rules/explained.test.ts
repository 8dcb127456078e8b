import { describe, expect, it } from 'vitest';
import { explainedFailures } from '../../../../src/detect/rules/explained.js';
import type { Condition } from '../../../../src/detect/rules/common.js';
import type { TargetTracker } from '../../../../src/detect/target-state.js';
import { context, many, tracker } from './fixture.js';

const byId = (ts: readonly TargetTracker[], id: string): TargetTracker => ts.find((t) => t.id === id) as TargetTracker;

describe('what rules 2-4 explain, for the blocking rule', () => {
  it("a dark country's targets, and those of an ASN whose outage holds", () => {
    const ts = [tracker('kz-0', 'KZ', 'news', { down: 'tcp_timeout' }), tracker('uz-0', 'UZ', 'news', { asn: 8193, down: 'tcp_timeout' }), tracker('uz-1', 'UZ', 'news', { asn: 8193 })];
    const outage = { country: 'UZ', asn: 8193 } as Condition;
    const explained = explainedFailures(context(ts, 'DE'), new Set(['KZ']), [outage]);
    expect(ts.map((t) => explained(t))).toEqual([true, true, true]);
    expect(explainedFailures(context(ts, 'DE'), new Set(), [])(byId(ts, 'kz-0'))).toBe(false);
  });

  it('an ASN mostly timing out across two categories, though no outage holds; not one failing with interference', () => {
    const timeouts = [tracker('a-0', 'KZ', 'news', { asn: 21299, down: 'tcp_timeout' }), tracker('a-1', 'KZ', 'social', { asn: 21299, down: 'tcp_timeout' })];
    const resets = [tracker('b-0', 'KZ', 'news', { asn: 9198, down: 'tcp_reset' }), tracker('b-1', 'KZ', 'social', { asn: 9198, down: 'tcp_reset' })];
    const ts = [...timeouts, ...resets, ...many(8, 'kz-up', 'KZ', 'shopping', { asn: 48716 })];
    const explained = explainedFailures(context(ts, 'KZ'), new Set(), []);
    expect(ts.slice(0, 4).map((t) => explained(t))).toEqual([true, true, false, false]);
  });

  it('a foreign country mostly failing without interference is going dark; the home country and interference are not', () => {
    const dark = many(3, 'ir', 'IR', 'news', { down: 'tcp_timeout' });
    const reset = many(3, 'uz', 'UZ', 'news', { down: 'tcp_reset' });
    const home = many(3, 'kz', 'KZ', 'news', { down: 'tcp_timeout' });
    const ts = [...dark, ...reset, ...home, ...many(3, 'us', 'US', 'news')];
    const explained = explainedFailures(context(ts, 'KZ'), new Set(), []);
    expect([dark[0], reset[0], home[0]].map((t) => explained(t as TargetTracker))).toEqual([true, false, false]);
  });
});
