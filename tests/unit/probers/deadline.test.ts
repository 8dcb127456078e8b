import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { abortable, Deadline } from '../../../src/probers/deadline.js';

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Deadline', () => {
  it('fires once its time is up: onFire listeners run, the signal aborts, describe() says why', async () => {
    const outer = new AbortController().signal;
    const d = new Deadline(30, outer);
    const calls: string[] = [];
    d.onFire(() => calls.push('a'));
    const off = d.onFire(() => calls.push('b'));
    off();
    expect(d.fired).toBe(false);
    expect(d.describe()).toBeNull();
    await tick(60);
    expect(calls).toEqual(['a']);
    expect(d.fired).toBe(true);
    expect(d.reason.name).toBe('TimeoutError');
    expect(d.signal.aborted).toBe(true);
    expect(d.describe()).toBe('no answer within 30 ms');
    // A step that subscribes after the fact hears it at once.
    d.onFire(() => calls.push('late'));
    expect(calls).toEqual(['a', 'late']);
    d.dispose();
  });

  it('fires every live deadline when the outer signal aborts, with one listener on it however many there are', () => {
    const stop = new AbortController();
    const deadlines = Array.from({ length: 50 }, () => new Deadline(10_000, stop.signal));
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(1);
    const disposed = deadlines.pop() as Deadline;
    disposed.dispose();
    const heard: number[] = [];
    deadlines.forEach((d, i) => d.onFire(() => heard.push(i)));
    disposed.onFire(() => heard.push(-1));
    stop.abort();
    expect(heard).toEqual(deadlines.map((_, i) => i));
    for (const d of deadlines) {
      expect(d.reason.name).toBe('AbortError');
      expect(d.describe()).toBe('probe aborted');
      d.dispose();
    }
    expect(disposed.fired).toBe(false);
  });

  it('is fired from the start when the outer signal already aborted', () => {
    const stop = new AbortController();
    stop.abort();
    const d = new Deadline(10_000, stop.signal);
    expect(d.fired).toBe(true);
    expect(d.signal.aborted).toBe(true);
    d.dispose();
  });

  it('does not fire after dispose()', async () => {
    const d = new Deadline(20, new AbortController().signal);
    let fired = false;
    d.onFire(() => (fired = true));
    d.dispose();
    await tick(50);
    expect(fired).toBe(false);
    expect(d.fired).toBe(false);
  });
});

describe('abortable', () => {
  it('settles with the step; a later deadline does not call onFail', async () => {
    const d = new Deadline(20, new AbortController().signal);
    let failed = 0;
    await expect(abortable<number>(d, (resolve) => resolve(7), () => failed++)).resolves.toBe(7);
    await tick(40);
    expect(failed).toBe(0);
    d.dispose();
  });

  it('rejects with the deadline reason when it fires first, and calls onFail once', async () => {
    const d = new Deadline(20, new AbortController().signal);
    let failed = 0;
    const pending = abortable<number>(d, () => undefined, () => failed++);
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(failed).toBe(1);
    d.dispose();
  });

  it('rejects at once without running the step when the deadline already fired', async () => {
    const stop = new AbortController();
    stop.abort();
    const d = new Deadline(10_000, stop.signal);
    let ran = false;
    await expect(abortable<number>(d, () => (ran = true), () => undefined)).rejects.toMatchObject({ name: 'AbortError' });
    expect(ran).toBe(false);
    d.dispose();
  });
});
