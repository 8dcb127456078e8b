/**
 * The plain-text report of the block scale benchmark: the machine, the run's parameters, three
 * tables (cost per size, echoes per block per availability class, evaluation cost per size), the
 * extrapolation to 100,000 blocks and the goals checked against it.
 */
import type { MachineInfo } from '../common/cli.js';
import { fmt, table } from '../common/text-table.js';
import { AVAILABILITY, classBlocks, COUNTRIES, meanResponsive } from './world.js';

/** The figures of one size. */
export interface Row {
  n: number;
  /** This size's round (s). */
  roundS: number;
  startupS: number;
  /** The window's length (s) and how many rounds that is. */
  seconds: number;
  windowRounds: number;
  cpuShare: number;
  cpuMsPerBlockRound: number;
  rssMb: number;
  peakRssMb: number;
  /** V8's heap in use and the memory outside it (ArrayBuffers...), from the daemon's /metrics after the window. */
  heapMb: number;
  externalMb: number;
  /** Echoes counted at the packet filter over the window, per availability class. */
  echoes: number[];
  statusMs: number;
  scrapeMs: number;
  monitored: number;
  up: number;
  down: number;
  uncertain: number;
}

/** What the report says about the run. */
export interface Run {
  /** The round of every size (s), or null: each size N gets N / rate. */
  roundS: number | null;
  /** Block-rounds a second (with roundS null). */
  rate: number | null;
  warmup: number;
  rounds: number;
  scrapeEvery: number;
}

/** The round (s) of a size. */
export function roundOf(run: Pick<Run, 'roundS' | 'rate'>, n: number): number {
  return run.roundS ?? n / (run.rate ?? NaN);
}

/** The goal: blocks, round (s), CPU share, RSS (MB). */
export const GOAL = { blocks: 100_000, roundS: 600, cpuShare: 0.5, rssMb: 300 } as const;

/** Block-rounds a second at the goal's size and round. */
const GOAL_RATE = GOAL.blocks / GOAL.roundS;

/** y at x = GOAL.blocks on the line through the first and last rows (NaN with one row). */
function extrapolate(rows: readonly Row[], y: (r: Row) => number): number {
  const a = rows[0];
  const b = rows[rows.length - 1];
  if (!a || !b || a.n === b.n) return NaN;
  return y(a) + ((y(b) - y(a)) * (GOAL.blocks - a.n)) / (b.n - a.n);
}

export function formatReport(info: MachineInfo & { lookout: string }, run: Run, rows: readonly Row[], command: string): string {
  const out: string[] = [];
  out.push('Block probing at scale: one instance, N /24 blocks of 127.0.0.0/8 with real echoes');
  out.push(`machine: ${info.cpu}, ${info.nproc} cores, Node ${info.node}, kernel ${info.kernel}; lookout ${info.lookout}`);
  out.push(`command: ${command}`);
  out.push(
    `${run.roundS !== null ? `round ${run.roundS} s` : `round N / ${run.rate} s (the same block-rounds a second at every size)`} standing for 10 minutes ` +
      '(time compressed 600 / round: budgets.pps and block_hour scaled by it); ' +
      `${run.warmup} rounds of warm-up, then a window of ${run.rounds} rounds; /metrics scraped every ${run.scrapeEvery} s`,
  );
  out.push(`world: ${COUNTRIES.length} countries, 64 ASes; |E(b)| 16/64/128/256 (mean ${fmt(meanResponsive(rows[rows.length - 1]?.n ?? 16), 0)}); availability 1/0.75/0.5/0.25, a quarter of the blocks each`);
  out.push('');
  out.push('Cost per size (CPU: daemon + its fping children, from /proc; at 100k/10min: this cost per block-round at 166.7 block-rounds/s)');
  out.push(
    table(
      ['blocks', 'round s', 'block-rounds/s', 'cpu share', 'ms/block-round', 'share at 100k/10min', 'rss MB', 'peak MB', 'heap MB', 'ext MB', 'startup s', 'monitored', 'up', 'down', 'uncertain'],
      rows.map((r) => [
        String(r.n),
        fmt(r.roundS, 1),
        fmt(r.n / r.roundS, 1),
        fmt(r.cpuShare, 3),
        fmt(r.cpuMsPerBlockRound, 4),
        fmt((r.cpuMsPerBlockRound * GOAL_RATE) / 1000, 3),
        fmt(r.rssMb, 0),
        fmt(r.peakRssMb, 0),
        fmt(r.heapMb, 0),
        fmt(r.externalMb, 0),
        fmt(r.startupS, 1),
        String(r.monitored),
        String(r.up),
        String(r.down),
        String(r.uncertain),
      ]),
    ),
  );
  out.push('');
  out.push('Echoes per block at the packet filter over the window (per hour: at 10-minute rounds, six a hour)');
  out.push(
    table(
      ['blocks', 'availability', 'class blocks', 'echoes', 'per block per round', 'per block per hour'],
      rows.flatMap((r) => {
        const perRound = (echoes: number, blocks: number): number => echoes / blocks / r.windowRounds;
        const lines = AVAILABILITY.map((a, c) => {
          const blocks = classBlocks(r.n, c);
          const pr = perRound(r.echoes[c] ?? 0, blocks);
          return [String(r.n), fmt(a, 2), String(blocks), String(r.echoes[c] ?? 0), fmt(pr, 2), fmt(pr * 6, 1)];
        });
        const all = r.echoes.reduce((s, e) => s + e, 0);
        return [...lines, [String(r.n), 'all', String(r.n), String(all), fmt(perRound(all, r.n), 2), fmt(perRound(all, r.n) * 6, 1)]];
      }),
      1,
    ),
  );
  out.push('');
  out.push('Signals evaluation (median ms of GET /api/v1/status and of a /metrics scrape)');
  out.push(table(['blocks', 'blocks per country', 'status ms', 'scrape ms'], rows.map((r) => [String(r.n), String(Math.ceil(r.n / COUNTRIES.length)), fmt(r.statusMs, 1), fmt(r.scrapeMs, 1)])));
  out.push('');
  const rss = extrapolate(rows, (r) => r.rssMb);
  const peak = extrapolate(rows, (r) => r.peakRssMb);
  const largest = rows[rows.length - 1];
  const share = largest ? (largest.cpuMsPerBlockRound * GOAL_RATE) / 1000 : NaN;
  const first = rows[0];
  const evalRatio = first && largest && first.n !== largest.n ? largest.statusMs / first.statusMs : NaN;
  out.push(`At 100,000 blocks (not measured: 127/8 holds 65,536; RSS on the line through the smallest and largest size, CPU from the largest size's cost per block-round):`);
  out.push(`  cpu share ${fmt(share, 3)}, rss steady ${fmt(rss, 0)} MB, rss peak ${fmt(peak, 0)} MB`);
  const check = (ok: boolean, what: string): string => `  [${ok ? 'met' : 'not met'}] ${what}`;
  out.push(check(share < GOAL.cpuShare, `under half a core (${fmt(share, 3)})`));
  out.push(check(Math.max(rss, peak) < GOAL.rssMb, `under 300 MB RSS, peak included (${fmt(Math.max(rss, peak), 0)} MB)`));
  out.push(check(evalRatio < 2, `evaluation flat in blocks per country (status time x${fmt(evalRatio, 2)} for x${first && largest ? fmt(largest.n / first.n, 1) : 'n/a'} blocks)`));
  return `${out.join('\n')}\n`;
}
