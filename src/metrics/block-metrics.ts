/**
 * The block probing signals (docs/blocks.md "Signals"), read from the stage's snapshot at
 * scrape time. Labels are bounded by the config (the countries and ASes of the sources), never
 * one series per block. Shards of one deployment each export their own counts; Prometheus sums
 * them.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BlocksSnapshot } from '../blocks/blocks-stage.js';
import type { GroupSignal } from '../blocks/signals.js';
import * as names from './names.js';

const STATES = ['monitored', 'up', 'down', 'uncertain'] as const;

/** Registers the block metrics; `snapshot` is read once per scrape. */
export function registerBlockMetrics(registry: Registry, snapshot: () => BlocksSnapshot): void {
  const registers = [registry];
  let taken: { at: number; snap: BlocksSnapshot } | null = null;
  // One snapshot per scrape: the collect() calls of a scrape come within the same few ms.
  const current = (): BlocksSnapshot => {
    const now = performance.now();
    if (taken === null || now - taken.at > 100) taken = { at: now, snap: snapshot() };
    return taken.snap;
  };
  const groupGauges = (countsName: string, ratioName: string, label: 'country' | 'asn', pick: (s: BlocksSnapshot) => Map<string, GroupSignal>, what: string): void => {
    new Gauge({
      name: countsName,
      help: `Blocks of ${what} probed by this instance, by state (monitored = up + down + uncertain).`,
      labelNames: [label, 'state'],
      registers,
      collect(this: Gauge) {
        this.reset();
        for (const [key, g] of pick(current())) for (const state of STATES) this.set({ [label]: key, state }, g[state]);
      },
    });
    new Gauge({
      name: ratioName,
      help: `Blocks of ${what} up now over their median over the last 7 days (1 = ordinary); absent before enough rounds.`,
      labelNames: [label],
      registers,
      collect(this: Gauge) {
        this.reset();
        for (const [key, g] of pick(current())) if (g.ordinary_pct !== null) this.set({ [label]: key }, g.ordinary_pct / 100);
      },
    });
  };
  groupGauges(names.COUNTRY_BLOCKS, names.COUNTRY_BLOCKS_ORDINARY_RATIO, 'country', (s) => s.countries, 'a country');
  groupGauges(names.ASN_BLOCKS, names.ASN_BLOCKS_ORDINARY_RATIO, 'asn', (s) => s.asns, 'an AS');
  new Gauge({
    name: names.BLOCKS_UNMONITORED,
    help: 'Blocks of this instance not monitored: not yet discovered, too few responsive addresses, or too low an availability.',
    labelNames: ['reason'],
    registers,
    collect(this: Gauge) {
      for (const [reason, n] of Object.entries(current().unmonitored)) this.set({ reason }, n);
    },
  });
  new Counter({
    name: names.BLOCK_PROBES_TOTAL,
    help: 'ICMP echoes sent to blocks, by why: discovery, the round probe, adaptive probes.',
    labelNames: ['phase'],
    registers,
    collect(this: Counter) {
      this.reset();
      for (const [phase, n] of Object.entries(current().probes)) this.inc({ phase }, n);
    },
  });
  new Counter({
    name: names.BLOCK_ROUNDS_TOTAL,
    help: 'Block probing rounds completed.',
    registers,
    collect(this: Counter) {
      this.reset();
      this.inc(current().rounds);
    },
  });
}
