import { describe, expect, it } from 'vitest';
import { ControlWatch } from '../../../src/detect/control-watch.js';
import type { ProbeResult } from '../../../src/probers/types.js';

const result = (target: string, ok: boolean): ProbeResult => ({
  target,
  kind: 'tcp',
  ok,
  reason: ok ? null : 'network_unreachable',
  phases: { total: 0.001 },
  ip: null,
  at: 0,
});

describe('ControlWatch', () => {
  it('says nothing until every control has reported, then reports unreachable once', () => {
    const w = new ControlWatch(['a', 'b']);
    expect(w.observe(result('a', false))).toBeNull();
    expect(w.observe(result('other', false))).toBeNull();
    expect(w.observe(result('b', false))).toEqual({
      state: 'unreachable',
      controls: 2,
      failing: 2,
      reasons: { network_unreachable: 2 },
    });
    expect(w.observe(result('a', false))).toBeNull();
    expect(w.current).toBe('unreachable');
  });
  it('reports reachable when any control answers again', () => {
    const w = new ControlWatch(['a', 'b']);
    w.observe(result('a', false));
    w.observe(result('b', false));
    expect(w.observe(result('b', true))).toMatchObject({ state: 'reachable', failing: 1 });
    expect(w.observe(result('a', true))).toBeNull();
  });
  it('forgets removed controls on reload', () => {
    const w = new ControlWatch(['a', 'b']);
    w.observe(result('a', true));
    w.setControls(['a']);
    expect(w.observe(result('a', true))).toMatchObject({ state: 'reachable', controls: 1 });
  });
});
