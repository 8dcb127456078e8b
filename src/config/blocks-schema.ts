/**
 * The `blocks:` section (issue 23, docs/blocks.md): probing every responsive /24 of a country's
 * or an AS's address space, the Trinocular way. Absent: block probing is off. Every object is
 * strict; durations are strings in the file and milliseconds after parsing; file paths are
 * relative to the config file (resolved by load.ts).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { Duration } from './duration.js';

const CountryCode = z.string().regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in upper case, such as KZ');
const Asn = z.number().int().min(1).max(4_294_967_295);

/** Where blocks come from: every /24 of a country, of an AS, or the addresses of a hitlist file. */
export const BlockSource = z.union(
  [
    z.strictObject({ country: CountryCode }),
    z.strictObject({ asn: Asn }),
    z.strictObject({ file: z.string().min(1, 'must name a hitlist CSV file') }),
  ],
  { error: 'a block source is one of { country: KZ }, { asn: 9198 } or { file: hitlist.csv }' },
);
export type BlockSource = z.output<typeof BlockSource>;

/** Trinocular's budget of probes per block per round (Quan et al., SIGCOMM 2013, docs/blocks.md). */
export const TRINOCULAR_ROUND_BUDGET = 15;

/** `blocks.shard.index: ordinal`: the shard index is the trailing number of the host name. */
export const ORDINAL = 'ordinal';

export const BlocksConfig = z
  .strictObject({
    /** How often each monitored block is probed (one probe, spread over the round). */
    round: Duration.default(600_000),
    /** How long one echo waits for its reply. */
    timeout: Duration.default(3_000),
    sources: z.array(BlockSource).min(1, 'list at least one source: { country: KZ }, { asn: 9198 } or { file: hitlist.csv }'),
    /** Echoes per second of the discovery pass (which learns each block's responsive addresses). */
    discovery_pps: z.number().int().min(1).max(10_000).default(100),
    /**
     * The range CSVs (start,end,value with integer addresses, the @ip-location-db `-num.csv`
     * format); absent: the shipped packages' IPv4 files.
     */
    databases: z.strictObject({ country: z.string().min(1).optional(), asn: z.string().min(1).optional() }).prefault({}),
    /** A file of prefixes (one CIDR or address a line, # comments) never probed. */
    exclude: z.string().min(1).optional(),
    /**
     * This instance's share of the blocks: rendezvous hashing of the block over `count` shards.
     * `index: ordinal` takes the index from the number the host name ends in (a Kubernetes
     * StatefulSet pod is named `<set>-<ordinal>`); load.ts resolves it.
     */
    shard: z
      .strictObject({
        index: z.union([z.number().int().min(0), z.literal(ORDINAL)], {
          error: `must be a whole number from 0, or ${ORDINAL} (the number the host name ends in, as a StatefulSet pod's does)`,
        }),
        count: z.number().int().min(1).max(10_000),
      })
      .refine((s) => s.index === ORDINAL || s.index < s.count, { message: 'index must be less than count', path: ['index'] })
      .prefault({ index: 0, count: 1 }),
    budgets: z
      .strictObject({
        /** Most probes one block gets in one round, the first included (Trinocular: 15). */
        round_probes: z.number().int().min(1).max(100).default(TRINOCULAR_ROUND_BUDGET),
        /** Most echoes per second this instance sends, discovery and rounds together. */
        pps: z.number().int().min(1).max(100_000).default(1000),
        /** Most echoes one block receives in any hour. */
        block_hour: z.number().int().min(1).max(10_000).default(60),
      })
      .prefault({}),
    /** A block with fewer responsive addresses than this is not monitored (Trinocular: 15). */
    min_responsive: z.number().int().min(1).max(256).default(15),
    /** A block whose availability A(E(b)) is below this is not monitored (Trinocular: 0.1). */
    min_availability: z.number().gt(0).max(1).default(0.1),
    /** Rounds of history before "% of ordinary" is given (at most 6: an hour at the default round). */
    baseline_min_rounds: z.number().int().min(1).max(6).default(3),
  })
  .optional();
/** The section as written (`shard.index` may still be `ordinal`). */
export type BlocksFile = NonNullable<z.output<typeof BlocksConfig>>;
/** The section the daemon runs on: paths absolute, the shard index a number. */
export type BlocksConfig = Omit<BlocksFile, 'shard'> & { shard: { index: number; count: number } };

/**
 * The shard index `index: ordinal` stands for: the number `hostname` ends in (a StatefulSet pod's
 * host name is its pod name, `<set>-<ordinal>`). A string is the problem, for `blocks.shard.index`.
 */
export function shardOrdinal(hostname: string, count: number): number | string {
  const m = /(\d+)$/.exec(hostname);
  if (m === null) return `${ORDINAL}: the host name "${hostname}" does not end in a number (a StatefulSet pod's does: lookout-blocks-2)`;
  const index = Number(m[1]);
  if (index >= count) return `${ORDINAL}: ${index} (from the host name "${hostname}") must be less than count (${count}): set count to the StatefulSet's replicas`;
  return index;
}

/**
 * The section with its file paths (hitlists, exclude) made absolute against `dir` and its shard
 * index resolved against `hostname`; a string is the problem with `blocks.shard.index`.
 */
export function resolveBlocks(blocks: BlocksFile | undefined, dir: string, hostname: string): BlocksConfig | undefined | string {
  if (blocks === undefined) return undefined;
  const { index, count } = blocks.shard;
  const resolved = index === ORDINAL ? shardOrdinal(hostname, count) : index;
  if (typeof resolved === 'string') return resolved;
  return {
    ...blocks,
    shard: { index: resolved, count },
    sources: blocks.sources.map((s) => ('file' in s ? { file: resolve(dir, s.file) } : s)),
    ...(blocks.exclude !== undefined ? { exclude: resolve(dir, blocks.exclude) } : {}),
    databases: {
      ...(blocks.databases.country !== undefined ? { country: resolve(dir, blocks.databases.country) } : {}),
      ...(blocks.databases.asn !== undefined ? { asn: resolve(dir, blocks.databases.asn) } : {}),
    },
  };
}
