import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlocksStage, type BlocksSnapshot } from '../../src/blocks/blocks-stage.js';
import { ipv4ToInt } from '../../src/blocks/block.js';
import { BlocksConfig } from '../../src/config/blocks-schema.js';
import { silentLogger } from '../../src/log.js';

// A block world with real packets, inside the private namespace of scripts/netns-run.sh, where
// the loopback answers every address of 127.0.0.0/8. nftables decides which addresses answer:
// the set `cut` drops echoes to cut blocks, `silent` makes addresses that never answer, and the
// chain `loss` drops a share of every echo at random. The counter `echoes` counts every echo
// the world receives, at the packet filter. Everything lives in 127.77.0.0/16 (hitlist blocks)
// and 127.78.0.0/16 (discovered blocks), which no other test uses; the table is deleted in afterAll.
//
//   XA: 127.77.0-119.0/24, AS 64510 (0-59) and 64511 (60-119), 5 hitlist addresses each
//   XB: 127.77.120-239.0/24, AS 64512 (120-179) and 64513 (180-239), 5 hitlist addresses each
//   sparse: 127.77.240-249.0/24 (XB, AS 64513), 2 addresses each: not monitored
//   XD: 127.78.0-7.0/24 (AS 64520) from range files: discovered; only .1-.20 of each answer

const TABLE = 'lookout_blocks_test';
const ROUND_MS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'lookout-blocks-ns-'));
const storageDir = join(dir, 'data');

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

function echoesCounted(name = 'echoes'): number {
  const out = JSON.parse(execFileSync('nft', ['-j', 'list', 'counter', 'ip', TABLE, name], { encoding: 'utf8' })) as {
    nftables: { counter?: { packets: number } }[];
  };
  return out.nftables.find((o) => o.counter)?.counter?.packets ?? -1;
}

const cut = (range: string): void => nft(`add element ip ${TABLE} cut { ${range} }\n`);
const uncut = (range: string): void => nft(`delete element ip ${TABLE} cut { ${range} }\n`);
const loss = (percent: number): void =>
  nft(`flush chain ip ${TABLE} loss\n${percent > 0 ? `add rule ip ${TABLE} loss numgen random mod 100 < ${percent} drop\n` : ''}`);

function world(): void {
  const lines = ['address,country,asn'];
  for (let b = 0; b < 250; b++) {
    const country = b < 120 ? 'XA' : 'XB';
    const asn = b < 60 ? 64510 : b < 120 ? 64511 : b < 180 ? 64512 : 64513;
    for (let h = 1; h <= (b < 240 ? 5 : 2); h++) lines.push(`127.77.${b}.${h},${country},${asn}`);
  }
  writeFileSync(join(dir, 'hitlist.csv'), `${lines.join('\n')}\n`);
  const start = ipv4ToInt('127.78.0.0') as number;
  const end = ipv4ToInt('127.78.7.255') as number;
  writeFileSync(join(dir, 'country.csv'), `${start},${end},XD\n`);
  writeFileSync(join(dir, 'asn.csv'), `${start},${end},64520,"Test"\n`);
  // Opting out works: this address of a hitlist block is never probed.
  writeFileSync(join(dir, 'exclude.txt'), '127.77.0.5/32\n');
  nft(`table ip ${TABLE} {
  counter echoes { }
  counter excluded { }
  set cut { type ipv4_addr; flags interval; }
  set answer { type ipv4_addr; flags interval; elements = { ${Array.from({ length: 8 }, (_, b) => `127.78.${b}.1-127.78.${b}.20`).join(', ')} } }
  chain loss { }
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request ip daddr 127.77.0.5 counter name excluded
    icmp type echo-request ip daddr { 127.77.0.0/16, 127.78.0.0/16 } counter name echoes jump world
  }
  chain world {
    ip daddr @cut drop
    ip daddr 127.78.0.0/16 ip daddr != @answer drop
    jump loss
  }
}
`);
}

function config(): BlocksConfig {
  return BlocksConfig.parse({
    round: `${ROUND_MS}ms`,
    timeout: '400ms',
    sources: [{ file: join(dir, 'hitlist.csv') }, { country: 'XD' }],
    databases: { country: join(dir, 'country.csv'), asn: join(dir, 'asn.csv') },
    exclude: join(dir, 'exclude.txt'),
    discovery_pps: 1000,
    budgets: { pps: 5000, block_hour: 10_000 },
    min_responsive: 4,
    baseline_min_rounds: 2,
  }) as BlocksConfig;
}

let stage: BlocksStage | null = null;

async function start(): Promise<BlocksStage> {
  stage = await BlocksStage.start({ config: config(), storageDir, log: silentLogger(), tickMs: 50 });
  return stage;
}

/** Polls the snapshot until `ok` holds; returns it and how long it took (ms). */
async function until(what: string, ok: (s: BlocksSnapshot) => boolean, timeoutMs: number): Promise<{ snap: BlocksSnapshot; ms: number }> {
  const t0 = performance.now();
  let snap = (stage as BlocksStage).snapshot();
  while (!ok(snap)) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms; last ${JSON.stringify(summary(snap))}`);
    await new Promise((r) => setTimeout(r, 100));
    snap = (stage as BlocksStage).snapshot();
  }
  return { snap, ms: performance.now() - t0 };
}

function summary(s: BlocksSnapshot): unknown {
  return { monitored: s.monitored, unmonitored: s.unmonitored, rounds: s.rounds, countries: Object.fromEntries(s.countries), asns: Object.fromEntries(s.asns) };
}

const allUp = (s: BlocksSnapshot): boolean => s.countries.get('XA')?.up === 120 && s.countries.get('XB')?.up === 120 && s.countries.get('XD')?.up === 8;

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
  world();
});

afterAll(async () => {
  await stage?.stop();
  if (process.env.LOOKOUT_NETNS === '1') execFileSync('nft', ['delete', 'table', 'ip', TABLE], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

describe('block probing against a block world on loopback, with nftables', { timeout: 120_000 }, () => {
  it('discovers E(b), leaves sparse blocks unmonitored, and reads every block up', async () => {
    await start();
    const { snap } = await until('all blocks up', (s) => allUp(s) && s.rounds >= 4, 40_000);
    expect(snap.monitored).toBe(248);
    expect(snap.unmonitored).toEqual({ undiscovered: 0, sparse: 10, low_availability: 0 });
    expect(snap.countries.get('XD')).toMatchObject({ monitored: 8, up: 8 });
    expect(snap.countries.get('XA')).toEqual({ monitored: 120, up: 120, down: 0, uncertain: 0, ordinary_pct: 100 });
    expect(snap.asns.get('64520')).toMatchObject({ monitored: 8, up: 8 });
    // Discovery echoed each address of the 8 discovered blocks once.
    expect(snap.probes.discovery).toBe(8 * 256);
  });

  it('a country cut reads that country down within a round, and no other', async () => {
    cut('127.77.0.0-127.77.119.255');
    const { snap, ms } = await until('XA down', (s) => s.countries.get('XA')?.down === 120, 3 * ROUND_MS);
    expect(ms).toBeLessThan(ROUND_MS + 4000);
    expect(snap.countries.get('XA')?.ordinary_pct).toBe(0);
    expect(snap.countries.get('XB')).toMatchObject({ up: 120, down: 0 });
    expect(snap.asns.get('64510')).toMatchObject({ monitored: 60, down: 60 });
    uncut('127.77.0.0-127.77.119.255');
    const back = await until('XA back up', allUp, 3 * ROUND_MS);
    expect(back.ms).toBeLessThan(ROUND_MS + 4000);
  });

  it('one AS cut reads that AS down, and only its share of the country', async () => {
    cut('127.77.120.0-127.77.179.255');
    const { snap, ms } = await until('AS64512 down', (s) => s.asns.get('64512')?.down === 60, 3 * ROUND_MS);
    expect(ms).toBeLessThan(ROUND_MS + 4000);
    expect(snap.asns.get('64513')).toMatchObject({ up: 60, down: 0 });
    expect(snap.countries.get('XB')).toMatchObject({ up: 60, down: 60 });
    expect(snap.countries.get('XA')).toMatchObject({ up: 120, down: 0 });
    uncut('127.77.120.0-127.77.179.255');
    await until('AS64512 back up', allUp, 3 * ROUND_MS);
  });

  it('5% random loss on every echo reads no block down', async () => {
    loss(5);
    const before = (stage as BlocksStage).snapshot();
    const rounds = before.rounds + 5;
    let worst = 0;
    await until(
      'five rounds under loss',
      (s) => {
        worst = Math.max(worst, [...s.countries.values()].reduce((n, c) => n + c.down, 0));
        return s.rounds >= rounds;
      },
      7 * ROUND_MS,
    );
    loss(0);
    expect(worst).toBe(0);
    const after = (stage as BlocksStage).snapshot();
    // Lost echoes are followed up (adaptive probes), but an up block costs little more than one a round.
    const sent = after.probes.round + after.probes.adaptive - before.probes.round - before.probes.adaptive;
    expect(sent / (5 * 248)).toBeLessThan(1.3);
  });

  it('probes per block per hour at the packet filter stay near one per round', async () => {
    const s0 = (stage as BlocksStage).snapshot();
    const c0 = echoesCounted();
    await until('three rounds', (s) => s.rounds >= s0.rounds + 3, 5 * ROUND_MS);
    const echoes = echoesCounted() - c0;
    // About one echo per monitored block per round (the 10 sparse blocks get none).
    expect(echoes).toBeGreaterThanOrEqual(3 * 248 * 0.9);
    expect(echoes).toBeLessThanOrEqual(4 * 248 * 1.1);
    // What the daemon counts it sent is what arrived (up to the echoes in flight at either end).
    const s1 = (stage as BlocksStage).snapshot();
    expect(Math.abs(echoes - (s1.probes.round + s1.probes.adaptive - s0.probes.round - s0.probes.adaptive))).toBeLessThanOrEqual(30);
  });

  it('a restart keeps what discovery learned, and never probes an excluded address', async () => {
    await (stage as BlocksStage).stop();
    const c0 = echoesCounted();
    await start();
    const { snap } = await until('all blocks up again', (s) => allUp(s) && s.rounds >= 1, 20_000);
    expect(snap.probes.discovery).toBe(0);
    expect(snap.unmonitored.undiscovered).toBe(0);
    expect(echoesCounted() - c0).toBeGreaterThan(0);
    expect(echoesCounted('excluded')).toBe(0);
  });
});
