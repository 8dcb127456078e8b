import { createServer, type Server } from 'node:net';
import { describe, expect, test } from 'vitest';
import type { ResolvedTarget } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { runProbe } from '../../src/probers/registry.js';
import { createResolver } from '../../src/probers/resolver.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { AdaptivePolicy, type AdaptiveCause } from '../../src/scheduler/adaptive.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';

// Real timers and real TCP probes on loopback: eight targets of one country share a listener;
// closing it is the cut (connections refused), opening it again the recovery. With adaptive
// probing, once the group shows a second sign every member is probed within about a second,
// instead of each waiting for its own slot in the 8 s interval.

const INTERVAL = 8_000;
const N = 8;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const close = (server: Server): Promise<void> => new Promise((resolve) => server.close(() => resolve()));

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(50);
}

describe('scheduler with adaptive probing (real probes on loopback)', () => {
  test('a cut and a recovery reach every member of the group within ~1 s of the second sign; no probe overlaps its target', async () => {
    let server = await listen(0);
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const port = address.port;
    const targets: ResolvedTarget[] = Array.from({ length: N }, (_, i) => ({
      id: `kz-${i}`,
      kind: 'tcp',
      host: '127.0.0.1',
      port,
      control: false,
      country: 'KZ',
      asn: 64500,
      category: `c${i % 3}`,
      file: 'adaptive.test',
    }));
    const resolver = createResolver();
    const results: { r: ProbeResult; seen: number }[] = [];
    const extras: AdaptiveCause[] = [];
    const running = new Set<string>();
    let overlaps = 0;
    const schedule = { interval: INTERVAL, timeout: 1_000, concurrency: 64, confirm_delay: 300 };
    const scheduler = new Scheduler({
      schedule,
      probe: async (t, signal, timeoutMs) => {
        if (running.has(t.id)) overlaps++;
        running.add(t.id);
        try {
          return await runProbe(t, { timeoutMs, signal, resolver });
        } finally {
          running.delete(t.id);
        }
      },
      onResult: (r) => results.push({ r, seen: Date.now() }),
      onExtra: (_t, cause) => extras.push(cause),
      log: silentLogger(),
    });
    const quorum = { shutdown_ratio: 0.7, shutdown_min_targets: 3, partial_ratio: 0.7, vantage_offline_ratio: 0.5, up_after: 2 };
    scheduler.setAdaptive(new AdaptivePolicy(targets, { enabled: true, max_per_second: 20, group_budget: 32 }, quorum, INTERVAL));
    scheduler.start(targets);
    try {
      // Every target answers once (a full interval): the group is known up.
      await until(() => new Set(results.filter((x) => x.r.ok).map((x) => x.r.target)).size === N, INTERVAL + 2_000);
      expect(new Set(results.filter((x) => x.r.ok).map((x) => x.r.target)).size).toBe(N);
      expect(extras).toEqual([]);

      await close(server);
      const cut = Date.now();
      const failedSince = (from: number) => new Set(results.filter((x) => !x.r.ok && x.seen >= from).map((x) => x.r.target));
      await until(() => failedSince(cut).size === N, INTERVAL + 2_000);
      expect(failedSince(cut).size).toBe(N);
      const fails = results.filter((x) => !x.r.ok && x.seen >= cut).map((x) => x.seen);
      const firstFail = Math.min(...fails);
      const lastFirstFail = Math.max(...[...failedSince(cut)].map((id) => Math.min(...results.filter((x) => x.r.target === id && !x.r.ok && x.seen >= cut).map((x) => x.seen))));
      // Second sign: the first failure's confirm (300 ms) or a scout; then one probe round.
      expect(lastFirstFail - firstFail).toBeLessThan(2_000);
      expect(extras).toContain('group_failing');

      // Let every member be down (two failures) before the recovery.
      await sleep(INTERVAL);
      server = await listen(port);
      const back = Date.now();
      const okSince = (from: number) => new Set(results.filter((x) => x.r.ok && x.seen >= from).map((x) => x.r.target));
      await until(() => okSince(back).size === N, INTERVAL + 2_000);
      expect(okSince(back).size).toBe(N);
      const oks = [...okSince(back)].map((id) => Math.min(...results.filter((x) => x.r.target === id && x.r.ok && x.seen >= back).map((x) => x.seen)));
      expect(Math.max(...oks) - Math.min(...oks)).toBeLessThan(2_000);
      expect(extras).toContain('group_recovering');
      expect(overlaps).toBe(0);
    } finally {
      await scheduler.stop(1_000);
      await close(server);
    }
  }, 60_000);
});
