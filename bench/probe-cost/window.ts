/**
 * One measurement: after a warm-up, reads the prober's CPU time (its own and its reaped
 * children's, so that work handed to a helper process such as fping is counted) and its probe counters at the
 * start and at the end of a steady window. `counts()` returns { probes, failed } cumulative.
 * The counters are read outside the CPU readings (before the first, after the last), so
 * whatever reading them costs the prober is not counted.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds } from '../common/proc.js';
import type { ProbeCounts } from './lookout.js';

/** The figures of one window. */
export interface WindowFigures {
  probes: number;
  failed: number;
  seconds: number;
  cpuSeconds: number;
  /** Also the CPU seconds per 1,000 probes: the same number. */
  cpuMsPerProbe: number;
  probesPerCpuSecond: number;
}

export async function measureWindow({
  pid,
  counts,
  warmupMs,
  windowMs,
}: {
  pid: number;
  counts: () => Promise<ProbeCounts>;
  warmupMs: number;
  windowMs: number;
}): Promise<WindowFigures> {
  await sleep(warmupMs);
  const c0 = await counts();
  const cpu0 = cpuSeconds(pid, { children: true });
  const t0 = performance.now();
  await sleep(windowMs);
  const cpu1 = cpuSeconds(pid, { children: true });
  const t1 = performance.now();
  const c1 = await counts();
  const probes = c1.probes - c0.probes;
  const cpu = cpu1 - cpu0;
  return {
    probes,
    failed: c1.failed - c0.failed,
    seconds: (t1 - t0) / 1000,
    cpuSeconds: cpu,
    cpuMsPerProbe: probes > 0 ? (cpu * 1000) / probes : NaN,
    probesPerCpuSecond: cpu > 0 ? probes / cpu : NaN,
  };
}
