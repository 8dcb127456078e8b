/**
 * Watch window benchmark (issue 25): how much a `watch` window shortens the detection delay.
 *
 * One `lookout simulate` world (the real daemon, runScenario, against a loopback world in a
 * private network namespace) at the shipped schedule (60 s interval, 10 s timeout, 5 s confirm
 * delay, evaluation every 5 s, adaptive probing off as shipped): half of its countries are under
 * a `watch` window with a 10 s interval for the whole run, the other half are not. After a
 * warm-up, every country of both halves is blackholed at its own random offset within one
 * schedule interval, and stays dark; four more countries are never cut (the world that answers). The onset of each country's shutdown (first seen over the API, minus its
 * cut) is collected per half; the table prints n, median, p90 and max for both.
 * Goal: median onset under 20 s inside the window.
 *
 *   npm run bench:windows [-- --countries N --rounds N --seed N --verbose]
 *
 * --countries N: countries per half (default 8, at most 12); --rounds N: worlds run one after
 * the other, each with its own offsets (default 1); --seed: the offsets' seed (default 1).
 * One round takes about 5.5 minutes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Run from '../../src/sim/run.js';
import type * as ScenarioModule from '../../src/sim/scenario.js';
import { refuseOutsideNetns } from '../common/netns-guard.js';
import { importBuilt, ROOT } from '../common/repo.js';
import { median } from '../common/stats.js';
import { fmt, table } from '../common/text-table.js';
import { mulberry32 } from '../replay/prng.js';
import { quantile } from '../replay/score.js';

const WATCHED = ['IQ', 'SY', 'SD', 'DZ', 'IR', 'ET', 'MM', 'PK', 'BD', 'YE', 'LY', 'EG'];
const PLAIN = ['KZ', 'UZ', 'TM', 'TJ', 'KG', 'AF', 'BY', 'VE', 'CU', 'TD', 'CM', 'ZW'];
/**
 * Countries never cut: the rest of the world that answers while a country is dark (the
 * outside-in rule wants witnesses, docs/detection.md); without them the last countries cut
 * waited for the controls' 60 s slots.
 */
const WITNESSES = ['DE', 'NL', 'FR', 'SE'];
/** Before the first cut: every target probed at least twice at the schedule's interval. */
const WARM_UP_S = 130;
/** The schedule's interval: the cuts fall at random within one. */
const INTERVAL_S = 60;
/** After the last cut: time for the slowest detection at the schedule's interval. */
const TAIL_S = 150;

interface Args {
  countries: number;
  rounds: number;
  seed: number;
  verbose: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { countries: 8, rounds: 1, seed: 1, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    if (flag === '--verbose') {
      args.verbose = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${flag}: expected a non-negative integer`);
    const n = Number(value);
    if (flag === '--countries') args.countries = Math.min(WATCHED.length, Math.max(1, n));
    else if (flag === '--rounds') args.rounds = Math.max(1, n);
    else if (flag === '--seed') args.seed = n;
    else throw new Error(`unknown flag ${flag}; usage: run.js [--countries N] [--rounds N] [--seed N] [--verbose]`);
  }
  return args;
}

/** The scenario of one round: the watched and plain countries, each cut at its own offset. */
function scenarioText(watched: readonly string[], plain: readonly string[], cutAt: ReadonlyMap<string, number>): string {
  const cut = [...watched, ...plain];
  const countries = [...cut, ...WITNESSES];
  const lines = [
    'name: bench-windows',
    'schedule: { interval: 60s, timeout: 10s, confirm_delay: 5s }',
    'detection: { evaluate_every: 5s }',
    `duration: ${WARM_UP_S + INTERVAL_S + TAIL_S}s`,
    'world:',
    '  controls: 3',
    '  countries:',
  ];
  countries.forEach((code, i) => {
    lines.push(`    - code: ${code}`, `      asns: [${64_600 + i}]`, '      targets:');
    lines.push('        - { name: gov, kind: https, category: government, count: 2 }');
    lines.push('        - { name: news, kind: http, category: news, count: 2 }');
    lines.push('        - { name: isp, kind: tcp, category: isp, count: 2 }');
  });
  lines.push('windows:', `  - { name: watch, kind: watch, interval: 10s, countries: [${watched.join(', ')}], at: 0s, for: ${WARM_UP_S + INTERVAL_S + TAIL_S}s }`);
  lines.push('faults:');
  for (const code of cut) lines.push(`  - { id: cut-${code.toLowerCase()}, at: ${cutAt.get(code) ?? 0}ms, fault: blackhole, scope: { country: ${code} } }`);
  lines.push('expect:');
  for (const code of cut) lines.push(`  - { kind: shutdown, country: ${code}, mechanism: blackhole, cause: cut-${code.toLowerCase()}, open_at_end: true }`);
  return `${lines.join('\n')}\n`;
}

interface Onsets {
  watched: number[];
  plain: number[];
  /** Countries whose shutdown was not seen (or seen wrong), per half. */
  missed: { watched: string[]; plain: string[] };
}

async function round(args: Args, n: number, onsets: Onsets): Promise<void> {
  const scenarioModule = await importBuilt<typeof ScenarioModule>(ROOT, 'sim/scenario.js');
  const run = await importBuilt<typeof Run>(ROOT, 'sim/run.js');
  const rng = mulberry32(args.seed + n);
  const watched = WATCHED.slice(0, args.countries);
  const plain = PLAIN.slice(0, args.countries);
  const cutAt = new Map([...watched, ...plain].map((c) => [c, Math.round((WARM_UP_S + rng.uniform(0, INTERVAL_S)) * 1000)]));
  const scenario = scenarioModule.parseScenario(scenarioText(watched, plain, cutAt), `bench-windows-round-${n + 1}.yaml`);
  const workDir = await mkdtemp(join(tmpdir(), 'lookout-bench-windows-'));
  try {
    const result = await run.runScenario({
      scenario,
      workDir,
      out: (line) => {
        if (args.verbose) process.stderr.write(`${line}\n`);
      },
      version: 'bench',
      nodeVersion: process.version,
    });
    for (const row of result.comparison.rows) {
      const code = row.expected?.country;
      if (code === undefined) continue;
      const half = watched.includes(code) ? 'watched' : 'plain';
      if (row.verdict === 'ok' && row.onsetMs !== null) onsets[half].push(row.onsetMs / 1000);
      else onsets.missed[half].push(`${code} (${row.problems.join('; ')})`);
    }
    const extra = result.comparison.rows.filter((r) => r.verdict === 'extra').length;
    process.stdout.write(`round ${n + 1}: ${result.comparison.counts.ok} of ${watched.length + plain.length} shutdowns ok, ${extra} extra events\n`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

function row(name: string, xs: readonly number[], missed: readonly string[]): string[] {
  const s = [...xs].sort((a, b) => a - b);
  return [name, String(s.length), String(missed.length), fmt(median(s), 1), s.length === 0 ? 'n/a' : fmt(quantile(s, 0.9), 1), s.length === 0 ? 'n/a' : fmt(s[s.length - 1] as number, 1)];
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await refuseOutsideNetns(ROOT);
  process.stdout.write(
    `watch window benchmark: schedule 60 s (timeout 10 s, confirm 5 s, evaluation 5 s, adaptive off); ${args.countries} countries under a 10 s watch window, ${args.countries} without; ${args.rounds} round(s), seed ${args.seed}\n`,
  );
  const onsets: Onsets = { watched: [], plain: [], missed: { watched: [], plain: [] } };
  for (let n = 0; n < args.rounds; n++) await round(args, n, onsets);
  const header = ['countries', 'n', 'missed', 'median s', 'p90 s', 'max s'];
  process.stdout.write(`\nshutdown onset (seen over the API minus the cut):\n${table(header, [row('watched (10 s)', onsets.watched, onsets.missed.watched), row('schedule (60 s)', onsets.plain, onsets.missed.plain)], 1)}\n`);
  for (const m of [...onsets.missed.watched, ...onsets.missed.plain]) process.stdout.write(`missed: ${m}\n`);
  const m = median(onsets.watched);
  process.stdout.write(`goal: median onset under 20 s inside the window: ${Number.isFinite(m) && m < 20 ? 'met' : 'MISSED'} (${fmt(m, 1)} s)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
