#!/usr/bin/env node
/**
 * The remote write stage's own CPU per probe result, without the probe: 60,000 http results
 * (success plus five phases each) through the daemon's collector into a durable queue on disk,
 * flushed (fsynced) every 100 results and read, encoded (protobuf + snappy) and acknowledged
 * every 500, as the daemon does at 100 probes/s (flush every second, send every 5 s). No HTTP:
 * the request itself is one per 5 s. Run `npm run build` and `npm run build:bench` first.
 *
 *   node .bench-build/bench/remote-write/queue-cost.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import type { ResolvedTarget } from '../../src/config/schema.js';
import type * as Log from '../../src/log.js';
import type * as CollectorModule from '../../src/remote/collector.js';
import type * as Prompb from '../../src/remote/prompb.js';
import type * as Queue from '../../src/remote/queue.js';
import { importBuilt, ROOT } from '../common/repo.js';

const { DurableQueue } = await importBuilt<typeof Queue>(ROOT, 'remote/queue.js');
const { Collector } = await importBuilt<typeof CollectorModule>(ROOT, 'remote/collector.js');
const { encodeWriteRequest } = await importBuilt<typeof Prompb>(ROOT, 'remote/prompb.js');
const { silentLogger } = await importBuilt<typeof Log>(ROOT, 'log.js');
const dir = mkdtempSync(join(tmpdir(), 'rwmicro-'));
const q = await DurableQueue.open({ dir, maxBytes: 256 * 1024 * 1024, remote: 'm', log: silentLogger() });
const c = new Collector('v', () => [q]);
// Only the fields the collector reads (an http target's probe options do not matter here).
const targets = Array.from({ length: 200 }, (_, i) => ({ id: `t${i}`, kind: 'http', country: 'KZ', category: 'x', control: false, file: 's' }) as ResolvedTarget);
const N = 60000; // 10 minutes at 100 probes/s
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const t = targets[i % 200] as ResolvedTarget;
  c.probe({ target: t.id, kind: 'http', ok: true, reason: null, phases: { dns: 0.001, connect: 0.002, tls: 0.003, ttfb: 0.004, total: 0.01 }, ip: null, at: 1e12 + i * 10 }, t);
  if (i % 100 === 99) await q.flush(); // once a second
  if (i % 500 === 499) {
    // every 5 s
    for (;;) {
      const b = await q.peek(5000);
      if (!b) break;
      encodeWriteRequest(b.series);
      await q.ack(b);
    }
  }
}
const u = process.cpuUsage(cpu0);
process.stdout.write(
  `per probe: ${((u.user + u.system) / 1000 / N).toFixed(4)} CPU ms (user ${(u.user / 1000 / N).toFixed(4)}, sys ${(u.system / 1000 / N).toFixed(4)}), wall ${((performance.now() - t0) / N).toFixed(4)} ms` +
    '\n',
);
await q.close();
rmSync(dir, { recursive: true, force: true });
