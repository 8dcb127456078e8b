/**
 * Block probing as a whole (issue 23, docs/blocks.md): loads the address space and this shard's
 * share of it, resumes what discovery learned, discovers the rest in the background, and probes
 * every monitored block once per round at its own offset in the round (so the probes are spread
 * evenly), with adaptive probes while a block is uncertain. At each round's end it samples the
 * up counts per country and ASN for the ordinary level and saves its state. snapshot() gives the
 * current signals to the metrics and the API.
 */
import type { BlocksConfig } from '../config/blocks-schema.js';
import type { Logger } from '../log.js';
import { FpingPinger } from '../probers/icmp-fping.js';
import type { Pinger } from '../probers/icmp.js';
import { loadAddressSpace, readExclusion, type Exclusion } from './address-space.js';
import { TRINOCULAR_MODEL } from './belief.js';
import { discoverBlock, probeRound, PROBE_PHASES, type ProbeDeps, type ProbePhase } from './block-prober.js';
import { newBlockState, setAddresses, unmonitoredReason, type BlockState, type UnmonitoredReason } from './block-state.js';
import { BlockTally } from './block-tally.js';
import { BlockStore, type KnownBlock } from './block-store.js';
import { ownsBlock, mix32 } from './shard.js';
import { RateLimiter } from './rate.js';
import type { AsnBlockGroup, BlockGroup, BlockView } from '../detect/block-view.js';
import { BaselineHistory, groupSignal, type GroupCounts, type GroupSignal } from './signals.js';

export interface BlocksStageOptions {
  config: BlocksConfig;
  storageDir: string;
  log: Logger;
  /** How echoes are sent; default a FpingPinger of the stage's own. */
  pinger?: Pinger & { close?: () => void };
  /** How often the round loop looks for due blocks (ms, default 200). */
  tickMs?: number;
}

/** What the metrics and the API show. */
export interface BlocksSnapshot {
  /** Blocks of this shard (monitored or not). */
  blocks: number;
  monitored: number;
  unmonitored: Record<UnmonitoredReason, number>;
  /** Completed rounds since start. */
  rounds: number;
  countries: Map<string, GroupSignal>;
  asns: Map<string, GroupSignal>;
  /**
   * The ordinary level of each group, as a count of blocks up (the median that `ordinary_pct`
   * divides by); only groups that have one. Unlike the percentage it can be summed over shards.
   */
  ordinary: { countries: Map<string, number>; asns: Map<string, number> };
  /** Echoes sent since start, by why. */
  probes: Record<ProbePhase, number>;
}

/** Saves between round ends, while discovery makes progress, at most this often (ms). */
const DISCOVERY_SAVE_MS = 10_000;

export class BlocksStage {
  private readonly abort = new AbortController();
  private readonly history: BaselineHistory;
  private readonly probes: Record<ProbePhase, number> = { discovery: 0, round: 0, adaptive: 0 };
  private readonly busy = new Set<BlockState>();
  private readonly deps: ProbeDeps;
  private readonly tally: BlockTally;
  /** Blocks in order of their offset in the round, and those offsets (ms). */
  private readonly order: BlockState[];
  private readonly offsets: Float64Array;
  private roundStart = performance.now();
  private cursor = 0;
  private rounds = 0;
  private timer: NodeJS.Timeout | null = null;
  private discovering: Promise<void> = Promise.resolve();
  private lastSave = 0;
  private saving: Promise<void> = Promise.resolve();
  private fpingFailure: string | null = null;
  /** Each AS's country: where most of its blocks lie (its block events are that country's). */
  private readonly asnCountry: Map<number, string>;

  private constructor(
    private readonly opts: BlocksStageOptions,
    private readonly states: BlockState[],
    private readonly exclusion: Exclusion,
    private readonly store: BlockStore,
    history: BaselineHistory,
    private readonly pinger: Pinger & { close?: () => void },
  ) {
    const { config, log } = opts;
    this.history = history;
    this.tally = new BlockTally({ minResponsive: config.min_responsive, minAvailability: config.min_availability });
    for (const s of states) this.tally.update(s);
    this.deps = {
      pinger,
      timeoutMs: config.timeout,
      limiters: [new RateLimiter(config.budgets.pps)],
      model: TRINOCULAR_MODEL,
      roundBudget: config.budgets.round_probes,
      hourCap: config.budgets.block_hour,
      now: () => performance.now(),
      sent: (phase) => this.probes[phase]++,
      changed: (s) => this.tally.update(s),
      failed: (detail) => {
        if (this.fpingFailure === null) log.error({ detail }, 'block probes failed: fping could not send echoes');
        this.fpingFailure = detail;
      },
      signal: this.abort.signal,
    };
    const offset = (s: BlockState): number => (mix32(s.entry.id ^ 0x5bd1e995) / 2 ** 32) * config.round;
    this.order = [...states].sort((a, b) => offset(a) - offset(b));
    this.offsets = Float64Array.from(this.order, offset);
    this.asnCountry = mostBlocksIn(states);
  }

  /**
   * Loads the address space (rejects with ConfigError naming the field on a bad hitlist,
   * exclude file or database), resumes the stored state and starts discovery and rounds.
   */
  static async start(opts: BlocksStageOptions): Promise<BlocksStage> {
    const { config, log } = opts;
    const exclusion = await readExclusion(config.exclude);
    const space = await loadAddressSpace(config, exclusion);
    const mine = space.filter((b) => ownsBlock(b.id, config.shard));
    const store = new BlockStore(opts.storageDir);
    const { state, problem } = await store.load();
    if (problem !== null) log.warn({ problem }, 'block state not resumed: discovery starts over');
    const states = mine.map((entry) => {
      const known = state.blocks.get(entry.id);
      // A hitlist's addresses win over what an earlier discovery learned; the availability is kept.
      const addresses = entry.hitlist ?? known?.e;
      return newBlockState(entry, known && addresses ? { addresses, availability: known.a, observed: known.n } : undefined);
    });
    const stage = new BlocksStage(opts, states, exclusion, store, new BaselineHistory(state.history), opts.pinger ?? new FpingPinger());
    const undiscovered = states.filter((s) => s.addresses === null).length;
    log.info(
      { blocks: space.length, shard: `${config.shard.index}/${config.shard.count}`, mine: states.length, resumed: states.length - undiscovered - states.filter((s) => s.entry.hitlist).length, undiscovered, excluded_prefixes: exclusion.prefixes },
      'block probing started',
    );
    stage.discovering = stage.discoverAll();
    stage.timer = setInterval(() => stage.tick(), opts.tickMs ?? 200);
    return stage;
  }

  /**
   * The current signals. Costs the number of countries and ASes, not of blocks (the tally is
   * kept as blocks change), so it may be read at every scrape, request and evaluation.
   */
  snapshot(): BlocksSnapshot {
    const min = this.opts.config.baseline_min_rounds;
    const ordinary = { countries: new Map<string, number>(), asns: new Map<string, number>() };
    const signals = (prefix: 'country' | 'asn', map: ReadonlyMap<string, GroupCounts>): Map<string, GroupSignal> => {
      const levels = prefix === 'country' ? ordinary.countries : ordinary.asns;
      return new Map(
        [...map]
          .filter(([, c]) => c.monitored > 0)
          .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
          .map(([k, c]) => {
            const level = this.history.median(`${prefix}:${k}`, min);
            if (level !== null) levels.set(k, level);
            return [k, groupSignal(c, level)];
          }),
      );
    };
    return {
      blocks: this.states.length,
      monitored: this.tally.monitored,
      unmonitored: { ...this.tally.unmonitored },
      rounds: this.rounds,
      countries: signals('country', this.tally.countries),
      asns: signals('asn', this.tally.asns),
      ordinary,
      probes: { ...this.probes },
    };
  }

  /**
   * What the detector is given at each evaluation (docs/detection.md "Block evidence"): the
   * counts and ordinary up counts per country and AS; judged once a round has been completed.
   */
  evidence(): BlockView {
    const min = this.opts.config.baseline_min_rounds;
    const countries = new Map<string, BlockGroup>();
    for (const [k, c] of this.tally.countries) if (c.monitored > 0) countries.set(k, { ...c, ordinary: this.history.median(`country:${k}`, min) });
    const asns = new Map<number, AsnBlockGroup>();
    for (const [k, c] of this.tally.asns) if (c.monitored > 0) asns.set(Number(k), { ...c, ordinary: this.history.median(`asn:${k}`, min), country: this.asnCountry.get(Number(k)) ?? null });
    return { judged: this.rounds >= 1, roundMs: this.opts.config.round, countries, asns };
  }

  /** Stops probing, waits for echoes in flight to settle and saves the state. Never rejects. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.abort.abort();
    this.pinger.close?.();
    await this.discovering;
    await this.save();
  }

  private async discoverAll(): Promise<void> {
    const { config } = this.opts;
    const pace = new RateLimiter(config.discovery_pps);
    for (const s of this.states) {
      if (this.abort.signal.aborted) return;
      if (s.addresses !== null) continue;
      const found = await discoverBlock(s, this.exclusion, pace, this.deps);
      if (found === null) continue;
      setAddresses(s, found);
      this.tally.update(s);
      if (performance.now() - this.lastSave >= DISCOVERY_SAVE_MS) void this.save();
    }
  }

  private tick(): void {
    const { round } = this.opts.config;
    const elapsed = performance.now() - this.roundStart;
    while (this.cursor < this.order.length && (this.offsets[this.cursor] as number) <= elapsed) {
      this.dispatch(this.order[this.cursor] as BlockState);
      this.cursor++;
    }
    if (elapsed >= round) this.endRound();
  }

  private dispatch(s: BlockState): void {
    const why = unmonitoredReason(s, this.tally.eligibility);
    if (why === 'undiscovered' || why === 'sparse' || this.busy.has(s)) return;
    this.busy.add(s);
    void probeRound(s, why === null, this.deps).finally(() => this.busy.delete(s));
  }

  private endRound(): void {
    this.roundStart += this.opts.config.round;
    this.cursor = 0;
    this.rounds++;
    const snap = this.snapshot();
    const ups = new Map<string, number>();
    for (const [k, c] of snap.countries) ups.set(`country:${k}`, c.up);
    for (const [k, c] of snap.asns) ups.set(`asn:${k}`, c.up);
    this.history.record(Date.now(), ups);
    void this.save();
  }

  /** Saves the state; one save at a time; a failure is logged, never thrown. */
  private save(): Promise<void> {
    this.lastSave = performance.now();
    this.saving = this.saving.then(async () => {
      const known: [number, KnownBlock][] = [];
      for (const s of this.states) if (s.addresses !== null) known.push([s.entry.id, { e: s.addresses, a: s.availability, n: s.observed }]);
      try {
        await this.store.save(known, this.history.toJSON(), Date.now());
      } catch (err) {
        this.opts.log.warn({ path: this.store.path, err: (err as Error).message }, 'block state could not be saved');
      }
    });
    return this.saving;
  }
}

export { PROBE_PHASES };

/** For each AS, the country most of its blocks lie in (the first such country on a tie). */
function mostBlocksIn(states: readonly BlockState[]): Map<number, string> {
  const counts = new Map<number, Map<string, number>>();
  for (const { entry } of states) {
    if (entry.asn === null || entry.country === null) continue;
    const by = counts.get(entry.asn) ?? new Map<string, number>();
    by.set(entry.country, (by.get(entry.country) ?? 0) + 1);
    counts.set(entry.asn, by);
  }
  const out = new Map<number, string>();
  for (const [asn, by] of counts) {
    let best: [string, number] = ['', -1];
    for (const [country, n] of by) if (n > best[1]) best = [country, n];
    out.set(asn, best[0]);
  }
  return out;
}
