/**
 * The plain-text report: the machine, the run's parameters, one row per prober and kind, and
 * per kind the ratio blackbox/lookout of CPU per probe (higher = Lookout cheaper).
 */
import type { MachineInfo } from '../common/cli.js';
import { fmt, table } from '../common/text-table.js';
import type { WindowFigures } from './window.js';

/** One prober measured on one kind. */
export interface ProbeCostRow extends WindowFigures {
  kind: string;
  prober: 'lookout' | 'blackbox_exporter';
  intervalMs: number;
  /** blackbox_exporter only: /probe calls the driver skipped at its in-flight cap. */
  skipped?: number;
}

/** What the report says about the run. */
export interface ProbeCostRun {
  n: number;
  rate: number;
  warmup: number;
  seconds: number;
  together: boolean;
  remoteWrite: boolean;
}

/** Ratio blackbox/lookout of CPU ms per probe, per kind. */
export function ratios(rows: readonly ProbeCostRow[]): { kind: string; lookout: number; blackbox: number; ratio: number }[] {
  const out: { kind: string; lookout: number; blackbox: number; ratio: number }[] = [];
  for (const kind of [...new Set(rows.map((r) => r.kind))]) {
    const l = rows.find((r) => r.kind === kind && r.prober === 'lookout');
    const b = rows.find((r) => r.kind === kind && r.prober === 'blackbox_exporter');
    if (l && b) out.push({ kind, lookout: l.cpuMsPerProbe, blackbox: b.cpuMsPerProbe, ratio: b.cpuMsPerProbe / l.cpuMsPerProbe });
  }
  return out;
}

export function formatTable(info: MachineInfo & { lookout: string; blackbox: string }, o: ProbeCostRun, rows: readonly ProbeCostRow[], command: string): string {
  const main = table(
    ['kind', 'prober', 'probes', 'failed', 'probes/s', 'CPU s', 'CPU ms/probe', 'CPU s/1000 probes', 'probes/CPU s'],
    rows.map((r) => [
      r.kind,
      r.prober,
      String(r.probes),
      String(r.failed),
      fmt(r.probes / r.seconds, 1),
      fmt(r.cpuSeconds, 2),
      fmt(r.cpuMsPerProbe, 3),
      fmt(r.cpuMsPerProbe, 3),
      fmt(r.probesPerCpuSecond, 0),
    ]),
    2,
  );
  const ratio = table(
    ['kind', 'goal', 'blackbox ms/probe', 'lookout ms/probe', 'ratio blackbox/lookout'],
    ratios(rows).map((r) => [r.kind, ['dns', 'dot', 'doh'].includes(r.kind) ? '-' : '>= 2x', fmt(r.blackbox, 3), fmt(r.lookout, 3), `${fmt(r.ratio, 2)}x`]),
    2,
  );
  const alone = [...new Set(rows.map((r) => r.kind))].filter((k) => !rows.some((r) => r.kind === k && r.prober === 'blackbox_exporter'));
  const skipped = rows.filter((r) => (r.skipped ?? 0) > 0).map((r) => `${r.kind}: ${r.skipped}`);
  return [
    'Per-probe CPU cost: Lookout vs blackbox_exporter',
    `machine: nproc ${info.nproc}, ${info.cpu}, node ${info.node}, kernel ${info.kernel}, CLK_TCK ${info.clkTck}`,
    `lookout: ${info.lookout}`,
    `blackbox_exporter: ${info.blackbox}`,
    `targets ${o.n}, rate ${o.rate}/s (each target every ${fmt(o.n / o.rate, 2)} s), warm-up ${fmt(o.warmup, 1)} s, window ${fmt(o.seconds, 1)} s per prober and kind, ${o.together ? 'both probers at once' : 'each prober alone'}`,
    `remote_write: ${o.remoteWrite ? 'on (every sample queued, fsynced and sent to a loopback sink)' : 'off'}`,
    `command: ${command}`,
    '',
    main,
    '',
    ratio,
    alone.includes('doh') ? '\ndoh: blackbox_exporter has no DNS-over-HTTPS prober (its issue #647); Lookout alone.' : '',
    skipped.length > 0 ? `\nblackbox /probe calls skipped (driver at its in-flight cap): ${skipped.join(', ')}` : '',
    '',
  ].join('\n');
}
