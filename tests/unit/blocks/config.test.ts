import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlocksConfig, resolveBlocks, shardOrdinal } from '../../../src/config/blocks-schema.js';
import { ConfigError } from '../../../src/config/errors.js';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigFile } from '../../../src/config/schema.js';

const problems = (input: unknown): string[] => {
  const r = ConfigFile.safeParse({ vantage: { id: 'v' }, blocks: input });
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('the blocks: config section', () => {
  it('is absent (off) by default', () => {
    expect(ConfigFile.parse({ vantage: { id: 'v' } }).blocks).toBeUndefined();
  });

  it('has Trinocular-derived defaults', () => {
    const b = BlocksConfig.parse({ sources: [{ country: 'KZ' }] });
    expect(b).toMatchObject({
      round: 600_000,
      timeout: 3000,
      discovery_pps: 100,
      shard: { index: 0, count: 1 },
      budgets: { round_probes: 15, pps: 1000, block_hour: 60 },
      min_responsive: 15,
      min_availability: 0.1,
      baseline_min_rounds: 3,
    });
  });

  it('errors name the field', () => {
    expect(problems({ sources: [] })).toEqual([expect.stringMatching(/^blocks\.sources: list at least one source/)]);
    expect(problems({ sources: [{ country: 'kz' }] })[0]).toMatch(/^blocks\.sources\.0\.country: must be an ISO 3166-1 alpha-2 code/);
    expect(problems({ sources: [{ region: 'x' }] })[0]).toMatch(/^blocks\.sources\.0: a block source is one of/);
    expect(problems({ sources: [{ asn: 9198 }], shard: { index: 3, count: 3 } })).toEqual(['blocks.shard.index: index must be less than count']);
    expect(problems({ sources: [{ asn: 9198 }], round: '10x' })[0]).toMatch(/^blocks\.round: invalid duration/);
    expect(problems({ sources: [{ asn: 9198 }], budgets: { round_probes: 0 } })[0]).toMatch(/^blocks\.budgets\.round_probes/);
    expect(problems({ sources: [{ asn: 9198 }], baseline_min_rounds: 7 })[0]).toMatch(/^blocks\.baseline_min_rounds/);
    expect(problems({ sources: [{ asn: 9198 }], extra: 1 })[0]).toMatch(/^blocks: .*extra/i);
  });

  it('hitlist, exclude and database paths are relative to the config file', () => {
    const b = BlocksConfig.parse({ sources: [{ file: 'hit.csv' }, { asn: 1 }], exclude: '../ex.txt', databases: { asn: 'a.csv' } });
    expect(resolveBlocks(b, '/etc/lookout', 'host')).toMatchObject({ sources: [{ file: '/etc/lookout/hit.csv' }, { asn: 1 }], exclude: '/etc/ex.txt', databases: { asn: '/etc/lookout/a.csv' } });
  });

  it('shard.index: ordinal is the number the host name ends in (a StatefulSet pod: <set>-<ordinal>)', () => {
    expect(shardOrdinal('lookout-blocks-0', 3)).toBe(0);
    expect(shardOrdinal('lookout-blocks-2', 3)).toBe(2);
    expect(shardOrdinal('web12', 16)).toBe(12);
    expect(shardOrdinal('lookout-blocks', 3)).toMatch(/^ordinal: the host name "lookout-blocks" does not end in a number/);
    expect(shardOrdinal('lookout-blocks-3', 3)).toMatch(/^ordinal: 3 \(from the host name "lookout-blocks-3"\) must be less than count \(3\)/);
    const b = BlocksConfig.parse({ sources: [{ asn: 1 }], shard: { index: 'ordinal', count: 3 } });
    expect(resolveBlocks(b, '/etc', 'lookout-blocks-1')).toMatchObject({ shard: { index: 1, count: 3 } });
    expect(problems({ sources: [{ asn: 1 }], shard: { index: 'ordinal', count: 3 } })).toEqual([]);
    expect(problems({ sources: [{ asn: 1 }], shard: { index: 'pod', count: 3 } })).toEqual([
      "blocks.shard.index: must be a whole number from 0, or ordinal (the number the host name ends in, as a StatefulSet pod's does)",
    ]);
  });

  it('check-config names blocks.shard.index when the host name gives no ordinal, and loads the ordinal when it does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-shard-'));
    try {
      const file = join(dir, 'lookout.yaml');
      await writeFile(file, 'vantage: { id: v }\nblocks:\n  sources: [{ asn: 9198 }]\n  shard: { index: ordinal, count: 3 }\n');
      const config = await loadConfig(file, { hostname: 'lookout-blocks-2' });
      expect(config.blocks?.shard).toEqual({ index: 2, count: 3 });
      const failure = await loadConfig(file, { hostname: 'lookout-blocks-7' }).then(
        () => null,
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(ConfigError);
      expect((failure as ConfigError).problems).toEqual([
        `blocks.shard.index: ordinal: 7 (from the host name "lookout-blocks-7") must be less than count (3): set count to the StatefulSet's replicas`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
