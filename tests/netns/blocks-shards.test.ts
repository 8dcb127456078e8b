import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockOfInt, ipv4ToInt } from '../../src/blocks/block.js';
import { shardOf } from '../../src/blocks/shard.js';
import { freePort, startDaemon, tempDir, type Daemon } from '../e2e/harness.js';
import { startStack, waitFor, type Stack } from '../fixtures/stack.js';

// Block probing split over three shards against one instance that probes everything, over the
// same block world, inside the private namespace of scripts/netns-run.sh (the loopback answers
// all of 127.0.0.0/8; nftables' set `cut` drops the echoes to cut blocks). Every shard runs the
// same config with `shard: { index: ordinal, count: 3 }`, in a UTS namespace of its own whose
// host name is lookout-blocks-0, -1 or -2, as the pods of deploy/kubernetes' StatefulSet. One
// real Prometheus (Debian's, with the shipped rules) scrapes all four: the recording rules'
// per-country and per-ASN sums of the shards must equal the single instance's, before and after
// one AS is cut, and every block must be probed by exactly one shard.
//
// The world, in 127.81.0.0/16 and 127.82.0.0/18 (no other test uses them), 300 blocks of 4
// hitlist addresses each, numbered 0-299 in address order:
//   XF: blocks 0-149 (127.81.0-149.0/24), AS 64540 (0-74) and 64541 (75-149)
//   XG: blocks 150-299: 127.81.150-255.0/24 and 127.82.0-43.0/24, AS 64542 (150-224) and 64543 (225-299)

const TABLE = 'lookout_shards';
const BLOCKS = 300;
const SHARDS = 3;

/** The /24 of block number `i` of the world, as its first three octets. */
const prefix = (i: number): string => (i < 256 ? `127.81.${i}` : `127.82.${i - 256}`);
const countryOf = (i: number): string => (i < 150 ? 'XF' : 'XG');
const asnOf = (i: number): number => 64540 + Math.floor(i / 75);

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

function config(vantage: string, port: number, shard: string): string {
  return [
    `vantage: { id: ${vantage} }`,
    `server: { listen: "127.0.0.1:${port}" }`,
    'storage: { dir: ./data }',
    'blocks:',
    '  sources: [{ file: ../hitlist.csv }]',
    '  round: 2s',
    '  timeout: 400ms',
    '  min_responsive: 4',
    '  baseline_min_rounds: 1',
    ...(shard === '' ? [] : [`  shard: ${shard}`]),
    '',
  ].join('\n');
}

let dir = '';
let stack: Stack | null = null;
const daemons: Daemon[] = [];

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
  nft(`table ip ${TABLE} {
  set cut { type ipv4_addr; flags interval; }
  chain out { type filter hook output priority 0; policy accept;
    icmp type echo-request ip daddr @cut drop
  }
}
`);
});

afterAll(async () => {
  for (const d of daemons) d.proc.kill('SIGKILL');
  await stack?.close();
  try {
    nft(`delete table ip ${TABLE}\n`);
  } catch {
    // never made
  }
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

type Sums = Record<string, number>;

/** A recorded sum per (group, state) for one vantage, keyed "XF/up" or "64543/down". */
async function sums(s: Stack, record: string, label: 'country' | 'asn', vantage: string): Promise<Sums> {
  const rows = (await s.query(`${record}{vantage="${vantage}"}`)).map((r) => [`${r.metric[label]}/${r.metric.state}`, Number(r.value[1])] as const);
  // Sorted, so that two vantages' sums compare as JSON whatever order Prometheus answers in.
  return Object.fromEntries(rows.sort(([a], [b]) => a.localeCompare(b)));
}

/** Both vantages' sums, once they are equal and pass `ok`; rejects with the last pair seen. */
async function agreeing(s: Stack, ok: (single: { countries: Sums; asns: Sums }) => boolean): Promise<{ countries: Sums; asns: Sums }> {
  let last = '';
  try {
    return await waitFor(
      'the shards to sum to the single instance',
      async () => {
        const single = { countries: await sums(s, 'country_vantage:lookout_blocks:sum', 'country', 'single'), asns: await sums(s, 'asn_vantage:lookout_blocks:sum', 'asn', 'single') };
        const shards = { countries: await sums(s, 'country_vantage:lookout_blocks:sum', 'country', 'shards'), asns: await sums(s, 'asn_vantage:lookout_blocks:sum', 'asn', 'shards') };
        last = JSON.stringify({ single, shards });
        return ok(single) && JSON.stringify(single) === JSON.stringify(shards) ? shards : null;
      },
      60_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${last}`);
  }
}

describe('three shards and one instance over the same blocks, summed by a real Prometheus', { timeout: 180_000 }, () => {
  it('the shards take their index from the host name and the sums of their counts equal the single instance', async () => {
    const lines = ['address,country,asn'];
    for (let i = 0; i < BLOCKS; i++) for (let h = 1; h <= 4; h++) lines.push(`${prefix(i)}.${h},${countryOf(i)},${asnOf(i)}`);
    dir = tempDir({ 'hitlist.csv': `${lines.join('\n')}\n` });
    const ports = await Promise.all(Array.from({ length: SHARDS + 1 }, () => freePort()));
    const single = tempDir();
    // Each shard a folder of its own (its own storage, as a pod's volume), all the same config
    // but for the port.
    const shardDirs = Array.from({ length: SHARDS }, (_, i) => {
      const d = join(dir, `shard-${i}`);
      mkdirSync(d);
      writeFileSync(join(d, 'lookout.yaml'), config('shards', ports[i] as number, '{ index: ordinal, count: 3 }'));
      return d;
    });
    // The single instance's folder holds no hitlist: point it at the shared one.
    writeFileSync(join(single, 'lookout.yaml'), config('single', ports[SHARDS] as number, '').replace('../hitlist.csv', join(dir, 'hitlist.csv')));

    stack = await startStack({ lookouts: [...ports.slice(0, SHARDS).map((p) => ({ address: `127.0.0.1:${p}`, vantage: 'shards' })), { address: `127.0.0.1:${ports[SHARDS]}`, vantage: 'single' }] });
    for (let i = 0; i < SHARDS; i++) {
      const prefixArgs = ['unshare', '--uts', 'sh', '-c', `hostname lookout-blocks-${i} && exec "$@"`, 'sh'];
      daemons.push(await startDaemon(join(shardDirs[i] as string, 'lookout.yaml'), ports[i] as number, { LOG_LEVEL: 'info' }, prefixArgs));
    }
    daemons.push(await startDaemon(join(single, 'lookout.yaml'), ports[SHARDS] as number, { LOG_LEVEL: 'info' }));

    // Each shard took the index its host name ends in, and their shares add up to the world.
    const started = await Promise.all(daemons.map((d) => d.waitForLog((l) => l.msg === 'block probing started')));
    expect(started.map((l) => l.shard)).toEqual(['0/3', '1/3', '2/3', '0/1']);
    const mine = started.slice(0, SHARDS).map((l) => l.mine as number);
    expect(mine.reduce((a, b) => a + b, 0)).toBe(BLOCKS);
    for (const m of mine) expect(m).toBeGreaterThan(BLOCKS / SHARDS / 2);

    const all = await agreeing(stack, (s) => s.countries['XF/up'] === 150 && s.countries['XG/up'] === 150 && s.asns['64543/up'] === 75);
    expect(all.countries).toMatchObject({ 'XF/monitored': 150, 'XG/monitored': 150, 'XG/down': 0 });
    const shardsReporting = await stack.query('vantage:lookout_blocks_shards:count');
    expect(Object.fromEntries(shardsReporting.map((r) => [r.metric.vantage, Number(r.value[1])]))).toEqual({ shards: 3, single: 1 });

    // A few rounds up teach every block its availability; then AS 64543 (blocks 225-299) is cut.
    await waitFor('four rounds everywhere', async () => ((await stack?.query('min(lookout_block_rounds_total) >= 4'))?.length ? true : null), 30_000);
    nft(`add element ip ${TABLE} cut { 127.81.225.0-127.81.255.255, 127.82.0.0-127.82.43.255 }\n`);
    const cut = await agreeing(stack, (s) => s.asns['64543/down'] === 75 && s.countries['XG/down'] === 75 && s.countries['XF/up'] === 150);
    expect(cut.asns).toMatchObject({ '64542/up': 75, '64543/up': 0, '64540/up': 75, '64541/up': 75 });

    // "% of ordinary" from the sums: the same for the shards as for the one instance, and the
    // ASN alert fires on both.
    const ratios = await stack.query('asn_vantage:lookout_blocks_ordinary_ratio:sum{asn=~"64542|64543"}');
    expect(Object.fromEntries(ratios.map((r) => [`${r.metric.vantage}/${r.metric.asn}`, Number(r.value[1])]))).toEqual({ 'shards/64542': 1, 'shards/64543': 0, 'single/64542': 1, 'single/64543': 0 });
    const alerts = await waitFor('LookoutBlocksAsnOutage on both vantages', async () => {
      const firing = await stack?.query('ALERTS{alertname="LookoutBlocksAsnOutage", alertstate="firing"}');
      return firing && firing.length === 2 ? firing : null;
    });
    expect(alerts.map((a) => `${a.metric.vantage}/${a.metric.asn}`).sort()).toEqual(['shards/64543', 'single/64543']);
  });

  it('every block is probed by exactly one shard: the one rendezvous hashing names', async () => {
    for (const d of daemons) d.proc.kill('SIGTERM');
    expect(await Promise.all(daemons.map((d) => d.exited))).toEqual([0, 0, 0, 0]);
    const owner = new Map<number, number>();
    for (let i = 0; i < SHARDS; i++) {
      const state = JSON.parse(readFileSync(join(dir, `shard-${i}`, 'data', 'blocks', 'state.json'), 'utf8')) as { blocks: Record<string, unknown> };
      for (const id of Object.keys(state.blocks).map(Number)) {
        expect(owner.has(id), `block ${id} in shards ${owner.get(id)} and ${i}`).toBe(false);
        owner.set(id, i);
        expect(shardOf(id, SHARDS)).toBe(i);
      }
    }
    const world = Array.from({ length: BLOCKS }, (_, i) => blockOfInt(ipv4ToInt(`${prefix(i)}.0`) as number)).sort((a, b) => a - b);
    expect([...owner.keys()].sort((a, b) => a - b)).toEqual(world);
  });
});
