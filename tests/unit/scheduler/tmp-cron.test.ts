import { afterEach, expect, test, vi } from 'vitest';
import { createTask } from 'node-cron';
afterEach(() => vi.useRealTimers());
test('cron fake', async () => {
  vi.useFakeTimers({ now: new Date('2024-01-01T00:00:00.300Z') });
  const ticks: number[] = [];
  const t = createTask('* * * * * *', () => { ticks.push(Date.now()); });
  await t.start();
  await vi.advanceTimersByTimeAsync(5000);
  await t.destroy();
  console.log(ticks.map((x) => new Date(x).toISOString()));
  expect(ticks.length).toBe(5);
});
