/**
 * The block probing signals (docs/blocks.md "Signals"), read from the stage's snapshot at
 * scrape time. Labels are bounded by the config (the countries and ASes of the sources), never
 * one series per block. Shards of one deployment each export their own counts and their ordinary
 * levels as counts of blocks up (a ratio cannot be summed); the shipped recording rules sum them
 * (config/prometheus/rules/lookout.rules.yml, group lookout-blocks).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BlocksSnapshot } from '../blocks/blocks-stage.js';
import type { GroupSignal } from '../blocks/signals.js';
import * as metricNames from './names.js';

const STATES = ['monitored', 'up', 'down', 'uncertain'] as const;

/** Registers the block metrics; `snapshot` is read once per scrape; `shard` is blocks.shard. */
export function registerBlockMetrics(registry: Registry, snapshot: () => BlocksSnapshot, shard: { index: number; count: number }): void {
  const registers = [registry];
  let taken: { at: number; snap: BlocksSnapshot } | null = null;
  // One snapshot per scrape: the collect() calls of a scrape come within the same few ms.
  const current = (): BlocksSnapshot => {
    const now = performance.now();
    if (taken === null || now - taken.at > 100) taken = { at: now, snap: snapshot() };
    return taken.snap;
  };
  const groupGauges = (
    names: { counts: string; ratio: string; ordinary: string },
    label: 'country' | 'asn',
    pick: (s: BlocksSnapshot) => { signals: Map<string, GroupSignal>; ordinary: Map<string, number> },
    what: string,
  ): void => {
    new Gauge({
      name: names.counts,
      help: `Blocks of ${what} probed by this instance, by state (monitored = up + down + uncertain).`,
      labelNames: [label, 'state'],
      registers,
      collect(this: Gauge) {
        this.reset();
        for (const [key, g] of pick(current()).signals) for (const state of STATES) this.set({ [label]: key, state }, g[state]);
      },
    });
    new Gauge({
      name: names.ratio,
      help: `Blocks of ${what} up now over their median over the last 7 days (1 = ordinary); absent before enough rounds.`,
      labelNames: [label],
      registers,
      collect(this: Gauge) {
        this.reset();
        for (const [key, g] of pick(current()).signals) if (g.ordinary_pct !== null) this.set({ [label]: key }, g.ordinary_pct / 100);
      },
    });
    new Gauge({
      name: names.ordinary,
      help: `The ordinary level of ${what}'s blocks on this instance: their median up count over the last 7 days; summable over shards; absent before enough rounds.`,
      labelNames: [label],
      registers,
      collect(this: Gauge) {
        this.reset();
        for (const [key, level] of pick(current()).ordinary) this.set({ [label]: key }, level);
      },
    });
  };
  groupGauges(
    { counts: metricNames.COUNTRY_BLOCKS, ratio: metricNames.COUNTRY_BLOCKS_ORDINARY_RATIO, ordinary: metricNames.COUNTRY_BLOCKS_ORDINARY },
    'country',
    (s) => ({ signals: s.countries, ordinary: s.ordinary.countries }),
    'a country',
  );
  groupGauges(
    { counts: metricNames.ASN_BLOCKS, ratio: metricNames.ASN_BLOCKS_ORDINARY_RATIO, ordinary: metricNames.ASN_BLOCKS_ORDINARY },
    'asn',
    (s) => ({ signals: s.asns, ordinary: s.ordinary.asns }),
    'an AS',
  );
  // Which share of the deployment this instance is: the rules check that every index reports once.
  new Gauge({ name: metricNames.BLOCKS_SHARD_INDEX, help: 'This instance\'s blocks.shard.index.', registers }).set(shard.index);
  new Gauge({ name: metricNames.BLOCKS_SHARD_COUNT, help: 'This instance\'s blocks.shard.count: how many shards the deployment has.', registers }).set(shard.count);
  new Gauge({
    name: metricNames.BLOCKS_UNMONITORED,
    help: 'Blocks of this instance not monitored: not yet discovered, too few responsive addresses, or too low an availability.',
    labelNames: ['reason'],
    registers,
    collect(this: Gauge) {
      for (const [reason, n] of Object.entries(current().unmonitored)) this.set({ reason }, n);
    },
  });
  new Counter({
    name: metricNames.BLOCK_PROBES_TOTAL,
    help: 'ICMP echoes sent to blocks, by why: discovery, the round probe, adaptive probes.',
    labelNames: ['phase'],
    registers,
    collect(this: Counter) {
      this.reset();
      for (const [phase, n] of Object.entries(current().probes)) this.inc({ phase }, n);
    },
  });
  new Counter({
    name: metricNames.BLOCK_ROUNDS_TOTAL,
    help: 'Block probing rounds completed.',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(current().rounds);
    },
  });
}
