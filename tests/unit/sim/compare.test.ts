import { describe, expect, it } from 'vitest';
import type { DisruptionEvent } from '../../../src/detect/events.js';
import { compareEvents, formatComparison, type SeenEvent } from '../../../src/sim/compare.js';
import type { ExpectedEvent, Fault } from '../../../src/sim/scenario.js';

const faults: Fault[] = [{ id: 'cut', fault: 'blackhole', at: 20_000, for: 30_000, scope: { country: 'KZ' } }];

function event(kind: DisruptionEvent['kind'], fields: Partial<DisruptionEvent> = {}): DisruptionEvent {
  return {
    id: `${kind}:${fields.country ?? '-'}`,
    kind,
    country: 'KZ',
    asn: null,
    category: null,
    mechanism: 'blackhole',
    severity: 'critical',
    started_at: '2026-11-24T00:00:20.000Z',
    ended_at: '2026-11-24T00:00:50.000Z',
    summary: '',
    evidence: {} as DisruptionEvent['evidence'],
    ...fields,
  };
}
const seen = (e: DisruptionEvent, seenAt: number, closedAt: number | null = 52_000, startedAt = 20_000): SeenEvent => ({ event: e, seenAt, closedAt, startedAt });
const expectShutdown: ExpectedEvent = { kind: 'shutdown', country: 'KZ', mechanism: 'blackhole', cause: 'cut', within: 10_000, open_at_end: false };

describe('compareEvents', () => {
  it('matches by kind, country, asn and category and measures the onset from the cause', () => {
    const c = compareEvents([expectShutdown], [seen(event('shutdown'), 25_500)], faults);
    expect(c.passed).toBe(true);
    expect(c.rows).toMatchObject([{ verdict: 'ok', onsetMs: 5_500, problems: [] }]);
  });

  it('calls a missing event missed and an unexpected one extra', () => {
    const c = compareEvents([expectShutdown], [seen(event('partial_outage', { asn: 9198 }), 25_000)], faults);
    expect(c.rows.map((r) => r.verdict)).toEqual(['missed', 'extra']);
    expect(c.passed).toBe(false);
    expect(c.counts).toEqual({ ok: 0, missed: 1, wrong: 0, extra: 1 });
  });

  it('calls a match with the wrong mechanism, a late onset or the wrong end state wrong', () => {
    const rows = [
      compareEvents([expectShutdown], [seen(event('shutdown', { mechanism: 'tcp_reset' }), 25_000)], faults).rows[0],
      compareEvents([expectShutdown], [seen(event('shutdown'), 45_000)], faults).rows[0],
      compareEvents([expectShutdown], [seen(event('shutdown', { ended_at: null }), 25_000, null)], faults).rows[0],
      compareEvents([{ ...expectShutdown, open_at_end: true }], [seen(event('shutdown'), 25_000)], faults).rows[0],
    ];
    expect(rows.map((r) => [r?.verdict, r?.problems])).toEqual([
      ['wrong', ['mechanism tcp_reset, expected blackhole']],
      ['wrong', ['onset 25.0s, expected within 10.0s']],
      ['wrong', ['still open at the end']],
      ['wrong', ['closed before the end']],
    ]);
  });

  it('checks the expected window an event carries and whether it overran the window', () => {
    const announced: ExpectedEvent = { ...expectShutdown, expected: 'exam', overran: true };
    const overran = (e: DisruptionEvent, window?: string): SeenEvent => ({ ...seen(e, 25_000), ...(window === undefined ? {} : { overran: window }) });
    const rows = [
      compareEvents([announced], [overran(event('shutdown', { expected: 'exam' }), 'exam')], faults).rows[0],
      compareEvents([announced], [overran(event('shutdown'), 'exam')], faults).rows[0],
      compareEvents([announced], [overran(event('shutdown', { expected: 'exam' }))], faults).rows[0],
      compareEvents([{ ...announced, overran: false }], [overran(event('shutdown', { expected: 'exam' }), 'exam')], faults).rows[0],
    ];
    expect(rows.map((r) => [r?.verdict, r?.problems])).toEqual([
      ['ok', []],
      ['wrong', ['expected window none, expected exam']],
      ['wrong', ['did not overrun window exam']],
      ['wrong', ['overran window exam']],
    ]);
  });

  it('checks started_at against the cause when start_within is given, either way', () => {
    const strict: ExpectedEvent = { ...expectShutdown, start_within: 3_000 };
    const rows = [
      compareEvents([strict], [seen(event('shutdown'), 25_000, 52_000, 22_500)], faults).rows[0],
      compareEvents([strict], [seen(event('shutdown'), 25_000, 52_000, 8_000)], faults).rows[0],
      compareEvents([strict], [seen(event('shutdown'), 25_000, 52_000, 24_000)], faults).rows[0],
    ];
    expect(rows.map((r) => [r?.verdict, r?.problems])).toEqual([
      ['ok', []],
      ['wrong', ['started_at -12.0s from its cause, expected within 3.0s']],
      ['wrong', ['started_at +4.0s from its cause, expected within 3.0s']],
    ]);
  });

  it('needs asn and category to match exactly: absent in the expectation means absent in the event', () => {
    const c = compareEvents([{ kind: 'partial_outage', country: 'KZ', open_at_end: false }], [seen(event('partial_outage', { asn: 9198 }), 25_000)], faults);
    expect(c.rows.map((r) => r.verdict)).toEqual(['missed', 'extra']);
  });

  it('formats an aligned table with a result line', () => {
    const lines = formatComparison(compareEvents([expectShutdown], [seen(event('shutdown'), 25_500)], faults));
    expect(lines).toEqual([
      'expected               detected               seen    closed  onset  verdict',
      'shutdown KZ blackhole  shutdown KZ blackhole  +25.5s  +52.0s  5.5s   ok',
      'PASS: 1 ok, 0 missed, 0 wrong, 0 extra',
    ]);
  });
});
