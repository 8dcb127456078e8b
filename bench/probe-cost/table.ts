/**
 * The plain-text report: the machine, the run's parameters, one row per prober and kind, and
 * per kind the ratio blackbox/lookout of CPU per probe (higher = Lookout cheaper); with
 * --poll-page, per kind the cost with the page polled against without, in %.
 */
import type { MachineInfo } from '../common/cli.js';
import { POLLED_PATHS, type PollCounts } from './page-poller.js';
import { fmt, table } from '../common/text-table.js';
import type { WindowFigures } from './window.js';

/** One prober measured on one kind. */
export interface ProbeCostRow extends WindowFigures {
  kind: string;
  prober: 'lookout' | 'lookout+page' | 'blackbox_exporter';
  intervalMs: number;
  /** blackbox_exporter only: /probe calls the driver skipped at its in-flight cap. */
  skipped?: number;
  /** lookout+page only: its polls over the whole run (warm-up and window). */
  polls?: PollCounts;
}

/** What the report says about the run. */
export interface ProbeCostRun {
  n: number;
  rate: number;
  warmup: number;
  seconds: number;
  together: boolean;
  remoteWrite: boolean;
  pollPage: boolean;
}

/** Per kind, CPU ms per probe of Lookout with the page polled against without, and the difference in %. */
export function pageCosts(rows: readonly ProbeCostRow[]): { kind: string; without: number; with: number; percent: number; polls: PollCounts }[] {
  const out: { kind: string; without: number; with: number; percent: number; polls: PollCounts }[] = [];
  for (const kind of [...new Set(rows.map((r) => r.kind))]) {
    const alone = rows.find((r) => r.kind === kind && r.prober === 'lookout');
    const polled = rows.find((r) => r.kind === kind && r.prober === 'lookout+page');
    if (alone && polled?.polls) {
      out.push({ kind, without: alone.cpuMsPerProbe, with: polled.cpuMsPerProbe, percent: (polled.cpuMsPerProbe / alone.cpuMsPerProbe - 1) * 100, polls: polled.polls });
    }
  }
  return out;
}

/** The --poll-page section: the difference per kind against the goal, and what the polls fetched. */
function pageSection(rows: readonly ProbeCostRow[]): string {
  const costs = pageCosts(rows);
  if (costs.length === 0) return '';
  const diff = table(
    ['kind', 'goal', 'without page ms/probe', 'with page ms/probe', 'difference', 'polls ok', 'polls failed', 'KiB a round'],
    costs.map((c) => [
      c.kind,
      '<= +1%',
      fmt(c.without, 3),
      fmt(c.with, 3),
      `${c.percent >= 0 ? '+' : ''}${fmt(c.percent, 1)}%`,
      String(c.polls.ok),
      String(c.polls.failed),
      fmt(c.polls.bytes / 1024 / Math.max(1, (c.polls.ok + c.polls.failed) / POLLED_PATHS.length), 1),
    ]),
    2,
  );
  return `Page polled every second (${POLLED_PATHS.join(', ')}) against not polled, both daemons over the same window:\n${diff}`;
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
    `targets ${o.n}, rate ${o.rate}/s (each target every ${fmt(o.n / o.rate, 2)} s), warm-up ${fmt(o.warmup, 1)} s, window ${fmt(o.seconds, 1)} s per prober and kind, ${o.pollPage ? 'both daemons at once' : o.together ? 'both probers at once' : 'each prober alone'}`,
    `remote_write: ${o.remoteWrite ? 'on (every sample queued, fsynced and sent to a loopback sink)' : 'off'}`,
    `page polled: ${o.pollPage ? `every 1 s on the lookout+page daemon (${POLLED_PATHS.join(', ')}), none on the lookout one` : 'no'}`,
    `command: ${command}`,
    '',
    main,
    '',
    o.pollPage ? pageSection(rows) : ratio,
    alone.includes('doh') && !o.pollPage ? '\ndoh: blackbox_exporter has no DNS-over-HTTPS prober (its issue #647); Lookout alone.' : '',
    skipped.length > 0 ? `\nblackbox /probe calls skipped (driver at its in-flight cap): ${skipped.join(', ')}` : '',
    '',
  ].join('\n');
}
