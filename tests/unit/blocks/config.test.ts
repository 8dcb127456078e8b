import { describe, expect, it } from 'vitest';
import { BlocksConfig, resolveBlocksPaths } from '../../../src/config/blocks-schema.js';
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
    expect(resolveBlocksPaths(b, '/etc/lookout')).toMatchObject({ sources: [{ file: '/etc/lookout/hit.csv' }, { asn: 1 }], exclude: '/etc/ex.txt', databases: { asn: '/etc/lookout/a.csv' } });
  });
});
