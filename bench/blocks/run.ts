/**
 * Block probing cost, counted at the packet filter (issue 23, docs/blocks.md): N hitlist blocks
 * in 127.64.0.0/10 inside the private namespace of scripts/netns-run.sh (the loopback answers all
 * of 127.0.0.0/8), each with 16 listed addresses of which a share answers (nftables set
 * `answer`), so blocks have availabilities 1, 0.75, 0.5 and 0.25 in turn; optional random loss on
 * every echo. After a warm-up of two rounds, it counts the echoes the world receives (an
 * nftables counter per availability class) over R rounds, and the process's CPU and RSS.
 *
 *   npm run bench:blocks -- [--blocks 2000] [--rounds 5] [--round 20s] [--loss 0]
 *
 * Prints per availability class: echoes per block per round, and per block per hour at the
 * default 10-minute round (six rounds an hour); and CPU ms per block-round.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlocksStage } from '../../src/blocks/blocks-stage.js';
import { parseDuration } from '../../src/config/duration.js';
import { BlocksConfig } from '../../src/config/blocks-schema.js';
import { silentLogger } from '../../src/log.js';

const TABLE = 'lookout_blocks_bench';
/** Answering addresses (of 16) per availability class. */
const CLASSES = [16, 12, 8, 4] as const;

interface Args {
  blocks: number;
  rounds: number;
  roundMs: number;
  loss: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { blocks: 2000, rounds: 5, roundMs: 20_000, loss: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1] ?? ''];
    if (key === '--blocks') args.blocks = Number(value);
    else if (key === '--rounds') args.rounds = Number(value);
    else if (key === '--round') args.roundMs = parseDuration(value) ?? NaN;
    else if (key === '--loss') args.loss = Number(value);
    else throw new Error(`unknown argument ${String(key)} (use --blocks, --rounds, --round, --loss)`);
  }
  if (!(args.blocks >= 1 && args.blocks <= 16_384) || !(args.rounds >= 1) || !(args.roundMs > 0) || !(args.loss >= 0 && args.loss < 100)) {
    throw new Error('--blocks 1-16384, --rounds >= 1, --round a duration, --loss 0-99');
  }
  return args;
}

/** Block b's /24 as its first three octets. */
const prefix = (b: number): string => `127.${64 + (b >> 8)}.${b & 255}`;

function nft(script: string): void {
  execFileSync('nft', ['-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
}

function counters(): number[] {
  const out = JSON.parse(execFileSync('nft', ['-j', 'list', 'counters', 'table', 'ip', TABLE], { encoding: 'utf8' })) as {
    nftables: { counter?: { name: string; packets: number } }[];
  };
  const by = new Map(out.nftables.flatMap((o) => (o.counter ? [[o.counter.name, o.counter.packets] as const] : [])));
  return CLASSES.map((_, c) => by.get(`class${c}`) ?? 0);
}

function world(dir: string, args: Args): string {
  const lines = ['address,country,asn'];
  const answer: string[][] = CLASSES.map(() => []);
  const members: string[][] = CLASSES.map(() => []);
  for (let b = 0; b < args.blocks; b++) {
    const c = b % CLASSES.length;
    for (let h = 1; h <= 16; h++) lines.push(`${prefix(b)}.${h},XA,${64500 + c}`);
    answer[c]?.push(`${prefix(b)}.1-${prefix(b)}.${CLASSES[c]}`);
    members[c]?.push(`${prefix(b)}.0/24`);
  }
  writeFileSync(join(dir, 'hitlist.csv'), `${lines.join('\n')}\n`);
  const sets = CLASSES.map((_, c) => `  set class${c} { type ipv4_addr; flags interval; elements = { ${members[c]?.join(', ') ?? ''} } }\n  counter class${c} { }`).join('\n');
  const count = CLASSES.map((_, c) => `    ip daddr @class${c} counter name class${c}`).join('\n');
  nft(`table ip ${TABLE} {
${sets}
  set answer { type ipv4_addr; flags interval; elements = { ${answer.flat().join(', ')} } }
  chain input {
    type filter hook input priority 0; policy accept;
    icmp type echo-request ip daddr 127.64.0.0/10 jump world
  }
  chain world {
${count}
    ip daddr != @answer drop
    ${args.loss > 0 ? `numgen random mod 100 < ${args.loss} drop` : ''}
  }
}
`);
  return join(dir, 'hitlist.csv');
}

async function main(): Promise<void> {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('run under scripts/netns-run.sh (it probes 127.64.0.0/10 and installs nftables rules)');
  const args = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-blocks-'));
  const hitlist = world(dir, args);
  const config = BlocksConfig.parse({
    round: `${args.roundMs}ms`,
    timeout: '1s',
    sources: [{ file: hitlist }],
    budgets: { pps: 20_000, block_hour: 10_000 },
    min_responsive: 4,
  }) as BlocksConfig;
  const stage = await BlocksStage.start({ config, storageDir: join(dir, 'data'), log: silentLogger() });
  try {
    const waitRounds = async (n: number): Promise<void> => {
      const target = stage.snapshot().rounds + n;
      while (stage.snapshot().rounds < target) await new Promise((r) => setTimeout(r, 200));
    };
    await waitRounds(2);
    const c0 = counters();
    const cpu0 = process.cpuUsage();
    await waitRounds(args.rounds);
    const cpu = process.cpuUsage(cpu0);
    const c1 = counters();
    const snap = stage.snapshot();
    console.log(`blocks ${args.blocks}, round ${args.roundMs} ms, ${args.rounds} rounds counted after 2 of warm-up, loss ${args.loss}%`);
    console.log('availability | blocks | echoes | per block per round | per block per hour at 10-minute rounds');
    CLASSES.forEach((k, c) => {
      const blocks = Math.max(0, Math.ceil((args.blocks - c) / CLASSES.length));
      const echoes = (c1[c] ?? 0) - (c0[c] ?? 0);
      const perRound = echoes / blocks / args.rounds;
      console.log(`${(k / 16).toFixed(2)} | ${blocks} | ${echoes} | ${perRound.toFixed(2)} | ${(perRound * 6).toFixed(1)}`);
    });
    const all = c1.reduce((a, b) => a + b, 0) - c0.reduce((a, b) => a + b, 0);
    console.log(`all | ${args.blocks} | ${all} | ${(all / args.blocks / args.rounds).toFixed(2)} | ${((6 * all) / args.blocks / args.rounds).toFixed(1)}`);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(`cpu ${cpuMs.toFixed(0)} ms over ${args.rounds} rounds: ${(cpuMs / args.blocks / args.rounds).toFixed(3)} ms per block-round; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
    console.log(`states: up ${[...snap.countries.values()].reduce((n, g) => n + g.up, 0)}, down ${[...snap.countries.values()].reduce((n, g) => n + g.down, 0)}, uncertain ${[...snap.countries.values()].reduce((n, g) => n + g.uncertain, 0)}`);
  } finally {
    await stage.stop();
    execFileSync('nft', ['delete', 'table', 'ip', TABLE], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
