import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { DueHeap } from '../../../src/scheduler/heap.js';
import { FifoQueue } from '../../../src/scheduler/queue.js';

interface Item {
  n: number;
  cancelled: boolean;
}
const item = (n: number): Item => ({ n, cancelled: false });

describe('FifoQueue', () => {
  test('hands items out in arrival order', () => {
    const q = new FifoQueue<Item>();
    for (let n = 0; n < 5; n++) q.push(item(n));
    expect(q.size).toBe(5);
    const out: number[] = [];
    for (let it = q.shift(); it; it = q.shift()) out.push(it.n);
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(q.size).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  test('skips cancelled items and does not count them', () => {
    const q = new FifoQueue<Item>();
    const items = [0, 1, 2, 3].map(item);
    for (const it of items) q.push(it);
    q.cancel(items[1]!);
    q.cancel(items[1]!);
    expect(q.size).toBe(3);
    expect(q.shift()?.n).toBe(0);
    expect(q.shift()?.n).toBe(2);
    expect(q.drain().map((it) => it.n)).toEqual([3]);
    expect(q.size).toBe(0);
  });

  test('stays FIFO across many pushes and shifts (compaction)', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 5000 }), (ops) => {
        const q = new FifoQueue<Item>();
        const model: number[] = [];
        let n = 0;
        for (const push of ops) {
          if (push) {
            q.push(item(n));
            model.push(n++);
          } else {
            expect(q.shift()?.n).toBe(model.shift());
          }
          expect(q.size).toBe(model.length);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('DueHeap', () => {
  test('pops in due order, ties in insertion order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 })), (dues) => {
        const heap = new DueHeap<{ due: number; i: number }>();
        dues.forEach((due, i) => heap.push({ due, i }));
        const out: { due: number; i: number }[] = [];
        for (let e = heap.pop(); e; e = heap.pop()) out.push(e);
        const expected = dues.map((due, i) => ({ due, i })).sort((a, b) => a.due - b.due || a.i - b.i);
        expect(out).toEqual(expected);
        expect(heap.size).toBe(0);
      }),
    );
  });
});
