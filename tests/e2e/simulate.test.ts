/**
 * `lookout simulate` end to end: every shipped scenario runs the built daemon against its world
 * (each in a network namespace of its own, made by the command itself), concurrently, and must
 * match its expected events; a copy with one detector threshold flipped must fail, and without
 * the privileges for a namespace the command must refuse with exit 2.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { MAIN, runCli, tempDir } from './harness.js';

const SCENARIO_DIR = resolve(import.meta.dirname, '../../scenarios');
const SHIPPED = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).sort();
const REQUIRED = [
  'asn-by-asn', 'blockpage', 'dns-blocking-social', 'kz-2019-06-09', 'quiet', 'reset-blocking', 'vantage-offline',
  // issue 16: both perspectives at once, a shutdown's own start, foreign blockpages from inside, one vantage verdict
  'home-plus-foreign', 'progressive-shutdown', 'foreign-blockpage', 'one-control-answering',
  // issue 25: an announced cut inside an expected window that overruns the window's end
  'exam-cut-overran',
];

interface Report {
  scenario: string;
  passed: boolean;
  counts: Record<'ok' | 'missed' | 'wrong' | 'extra', number>;
  rows: { verdict: string; expected: { kind: string } | null; seen: { event: { kind: string; asn: number | null } } | null; onsetMs: number | null; problems: string[] }[];
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  report: Report | null;
}

const dir = tempDir();
const runs = new Map<string, Run>();

async function simulate(name: string, file: string, extra: readonly string[] = []): Promise<void> {
  const reportFile = join(dir, `${name}.json`);
  const r = await runCli(['simulate', file, '--report', reportFile, ...extra]);
  let report: Report | null = null;
  try {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
  } catch {
    report = null;
  }
  runs.set(name, { ...r, report });
}

/** reset-blocking with partial_min_targets raised past the world's size: blocking can never open. */
function brokenThresholdScenario(): string {
  const doc = parse(readFileSync(join(SCENARIO_DIR, 'reset-blocking.yaml'), 'utf8')) as Record<string, unknown>;
  doc.name = 'reset-blocking-broken';
  doc.detection = { partial_min_targets: 50 };
  const file = join(dir, 'reset-blocking-broken.yaml');
  writeFileSync(file, stringify(doc));
  return file;
}

/**
 * cdn-abroad changed: `geo` deleted (the location check off), or its CDN group deleted (the
 * same cut in a world without targets abroad: the reference onset).
 */
function cdnVariant(name: string, change: (doc: Record<string, unknown>) => void): string {
  const doc = parse(readFileSync(join(SCENARIO_DIR, 'cdn-abroad.yaml'), 'utf8')) as Record<string, unknown>;
  doc.name = name;
  // Only the onset matters here: end 20 s into the cut, the shutdown still open (a shorter run
  // beside the shipped scenarios, which run concurrently).
  doc.duration = '40s';
  doc.faults = [{ id: 'kz-cut', at: '20s', fault: 'blackhole', scope: { country: 'KZ' } }];
  doc.expect = [{ kind: 'shutdown', country: 'KZ', mechanism: 'blackhole', cause: 'kz-cut', within: '15s', open_at_end: true }];
  change(doc);
  // The databases are relative to the scenario: point at the shipped ones from the temp dir.
  if (doc.geo !== undefined) doc.geo = { country_db: join(SCENARIO_DIR, 'geo/cdn-abroad.mmdb'), asn_db: join(SCENARIO_DIR, 'geo/cdn-abroad.mmdb') };
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

interface WorldDoc {
  world: { countries: { code: string; targets: { name: string }[] }[] };
}

beforeAll(async () => {
  await Promise.all([
    // exam-cut-overran keeps its work dir: the daemon's log is read below.
    ...SHIPPED.map((f) => simulate(f.replace(/\.yaml$/, ''), join(SCENARIO_DIR, f), f === 'exam-cut-overran.yaml' ? ['--keep'] : [])),
    simulate('broken-threshold', brokenThresholdScenario()),
  ]);
  // The cdn-abroad variants (40 s each) run after the batch: on a 2-core machine a dozen
  // compressed-time worlds at once would delay the probes past the scenarios' timings.
  await Promise.all([
    simulate(
      'cdn-abroad-no-geo',
      cdnVariant('cdn-abroad-no-geo', (doc) => delete doc.geo),
    ),
    simulate(
      'cdn-abroad-no-cdn',
      cdnVariant('cdn-abroad-no-cdn', (doc) => {
        const kz = (doc as unknown as WorldDoc).world.countries[0];
        if (kz) kz.targets = kz.targets.filter((t) => t.name !== 'cdn');
      }),
    ),
  ]);
}, 380_000);

describe('lookout simulate: the shipped scenarios', () => {
  it('ships every scenario the world must cover', () => {
    expect(SHIPPED.map((f) => f.replace(/\.yaml$/, ''))).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each(SHIPPED)('%s detects exactly its expected events', (file) => {
    const run = runs.get(file.replace(/\.yaml$/, ''));
    expect(run, `${file} did not run`).toBeDefined();
    const { code, stdout, stderr, report } = run as Run;
    const context = `${stdout}\n${stderr}`;
    expect(report, context).not.toBeNull();
    expect(report?.rows.filter((r) => r.verdict !== 'ok'), context).toEqual([]);
    const expected = (parse(readFileSync(join(SCENARIO_DIR, file), 'utf8')) as { expect?: unknown[] }).expect ?? [];
    expect(report?.counts.ok).toBe(expected.length);
    expect(code, context).toBe(0);
    expect(stdout).toMatch(/^PASS: \d+ ok, 0 missed, 0 wrong, 0 extra$/m);
    // Node's process warnings (a MaxListenersExceededWarning once, with >10 probes in flight).
    expect(stderr).not.toMatch(/Warning/);
  });

  it('prints the timeline and the table an operator reads', () => {
    const { stdout } = runs.get('kz-2019-06-09') as Run;
    expect(stdout).toMatch(/^t=\+ *20\.\ds {2}fault streaming-sni on: sni_filter \(3 targets: us-stream-1, us-stream-2, us-stream-3\)$/m);
    expect(stdout).toMatch(/^t=\+ *\d+\.\ds {2}event opened: shutdown KZ blackhole \(KZ: \d+ of \d+ international targets unreachable/m);
    expect(stdout).toMatch(/^expected +detected +seen +closed +onset +verdict$/m);
    expect(stdout).toMatch(/^shutdown KZ blackhole +shutdown KZ blackhole +\+\d+\.\ds +\+\d+\.\ds +\d+\.\ds +ok$/m);
    // The onsets are at the scenario's compressed schedule: say what to expect at the shipped one.
    expect(stdout).toMatch(/^onsets are at this scenario's 2\.0s interval; at the shipped 60 s interval expect about a minute/m);
  });
});

describe('lookout simulate: an announced cut that overruns its window (exam-cut-overran)', () => {
  it('marks the shutdown with its expected window and shows the overrun in the output, the metrics and the log', () => {
    const { stdout, stderr, report } = runs.get('exam-cut-overran') as Run;
    // simulate names the kept folder on stderr (stdout is the run's report).
    const kept = /^lookout simulate: kept (\S+)$/m.exec(stderr)?.[1];
    expect(kept, stderr).toBeDefined();
    try {
      expect(stdout).toMatch(/^t=\+ *1\d\.\ds {2}window exam-morning opened \(expected\)$/m);
      expect(stdout).toMatch(/^t=\+ *\d+\.\ds {2}event opened: shutdown IQ blackhole \(IQ: .*\(expected: exam-morning\)\)$/m);
      // What LookoutExpectedCutOverran reads, from the daemon's /metrics just after the window closed.
      expect(stdout).toMatch(/^t=\+ *4\d\.\ds {2}window exam-morning closed \(expected\)$/m);
      expect(stdout).toMatch(/^t=\+ *4\d\.\ds {2}overran: shutdown IQ blackhole still open after expected window exam-morning ended \(lookout_disruption_expected 1, lookout_window_active 0\)$/m);
      const row = report?.rows[0] as unknown as { seen: { event: { expected?: string; ended_at: string | null }; overran?: string } };
      expect(row.seen.event.expected).toBe('exam-morning');
      expect(row.seen.overran).toBe('exam-morning');
      const log = readFileSync(join(kept as string, 'daemon.log'), 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { msg: string; window?: string; kind?: string; country?: string; expected?: string });
      expect(log.filter((l) => l.msg === 'disruption opened').map((l) => [l.kind, l.country, l.expected])).toEqual([['shutdown', 'IQ', 'exam-morning']]);
      expect(log.filter((l) => l.msg === 'expected window ended with the disruption still open: the announced cut overran').map((l) => [l.window, l.kind, l.country])).toEqual([['exam-morning', 'shutdown', 'IQ']]);
    } finally {
      if (kept !== undefined) rmSync(kept, { recursive: true, force: true });
    }
  });
});

describe('lookout simulate: the harness can fail', () => {
  it('a detector threshold flipped out of range misses the blocking and exits 1', () => {
    const { code, stdout, report } = runs.get('broken-threshold') as Run;
    expect(code, stdout).toBe(1);
    expect(report?.passed).toBe(false);
    expect(report?.rows.map((r) => [r.verdict, r.expected?.kind])).toEqual([['missed', 'service_blocking']]);
    expect(stdout).toMatch(/^FAIL: 0 ok, 1 missed, 0 wrong, 0 extra$/m);
  });
});

describe('lookout simulate: targets served from abroad (cdn-abroad)', () => {
  it('with the location check on, the shutdown is reported at the delay of a world without them', () => {
    const onset = (name: string): number | null => runs.get(name)?.report?.rows.find((r) => r.expected?.kind === 'shutdown')?.onsetMs ?? null;
    const withCdn = onset('cdn-abroad');
    const reference = onset('cdn-abroad-no-cdn');
    expect(runs.get('cdn-abroad-no-cdn')?.code, runs.get('cdn-abroad-no-cdn')?.stdout).toBe(0);
    expect(withCdn).not.toBeNull();
    expect(reference).not.toBeNull();
    // Both runs probe every 2 s: the same delay within one probe interval.
    expect(Math.abs((withCdn as number) - (reference as number))).toBeLessThanOrEqual(2000);
    expect(runs.get('cdn-abroad')?.stdout).toMatch(/^t=\+ *\d+\.\ds {2}event opened: shutdown KZ blackhole \(KZ: 8 of 8 targets unreachable/m);
  });

  it('with the check off, the CDN edges hold KZ up: the shutdown is missed, two partial outages instead', () => {
    const { code, stdout, report } = runs.get('cdn-abroad-no-geo') as Run;
    expect(code, stdout).toBe(1);
    const rows = (report?.rows ?? []).map((r) => [r.verdict, r.expected?.kind ?? r.seen?.event.kind, r.seen?.event.asn ?? null]);
    expect(rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      ['extra', 'partial_outage', 21299],
      ['extra', 'partial_outage', 9198],
      ['missed', 'shutdown', null],
    ]);
  });
});

describe('lookout simulate: privileges', () => {
  it('without the privileges for a network namespace it says so and exits 2', async () => {
    // An unprivileged user namespace: no capabilities, and its uid (nobody) is unmapped, so it
    // may neither unshare the network nor map itself to root in a nested user namespace.
    const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
      const p = spawn('unshare', ['--user', '--', process.execPath, MAIN, 'simulate', join(SCENARIO_DIR, 'quiet.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('close', (code) => res({ code, stderr }));
    });
    expect(r.stderr).toMatch(/lookout simulate: cannot create a network namespace \(unshare --net --map-root-user: .*Operation not permitted.*\)\. lookout simulate needs a private network namespace/);
    expect(r.code).toBe(2);
  });

  it('SIGTERM ends a run early: the world is torn down, what was seen is printed, exit 130', { timeout: 60_000 }, async () => {
    const p = spawn(process.execPath, [MAIN, 'simulate', join(SCENARIO_DIR, 'quiet.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const started = new Promise<void>((res) => {
      p.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes('fault dead-host on')) res();
      });
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((res) => p.on('close', (code) => res(code)));
    await started;
    p.kill('SIGTERM');
    expect(await closed, stdout + stderr).toBe(130);
    expect(stdout).toMatch(/^t=\+ *\d+\.\ds {2}interrupted$/m);
    expect(stdout).toMatch(/^expected +detected +seen +closed +onset +verdict$/m);
    expect(stderr).toContain('interrupted before the scenario ended');
  });

  it('a bad scenario is reported by field and exits 1 before any namespace is made', async () => {
    const file = join(tempDir({ 'bad.yaml': 'name: bad\nduration: 10s\nworld: { countries: [] }\nfaults: [{ at: 20s, fault: blackhole, scope: {} }]\nextra: 1\n' }), 'bad.yaml');
    const r = await runCli(['simulate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('extra: unknown key');
    expect(r.stderr).toContain('world.countries: ');
    expect(r.stderr).toContain('faults.0.scope: must name at least one of');
  });
});
