import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { BlocksSnapshot } from '../../../src/blocks/blocks-stage.js';
import { withBlocks } from '../../../src/blocks/block-status.js';
import { registerBlockMetrics } from '../../../src/metrics/block-metrics.js';

const snap: BlocksSnapshot = {
  blocks: 30,
  monitored: 25,
  unmonitored: { undiscovered: 2, sparse: 3, low_availability: 0 },
  rounds: 7,
  countries: new Map([['KZ', { monitored: 25, up: 10, down: 14, uncertain: 1, ordinary_pct: 40 }]]),
  asns: new Map([
    ['9198', { monitored: 20, up: 5, down: 14, uncertain: 1, ordinary_pct: null }],
    ['48503', { monitored: 5, up: 5, down: 0, uncertain: 0, ordinary_pct: 100 }],
  ]),
  ordinary: { countries: new Map([['KZ', 25]]), asns: new Map([['48503', 5]]) },
  probes: { discovery: 512, round: 175, adaptive: 60 },
};

describe('block metrics and status', () => {
  it('exports per-country and per-ASN counts, ordinary ratios, unmonitored blocks and probes, with bounded labels', async () => {
    const registry = new Registry();
    registerBlockMetrics(registry, () => snap, { index: 1, count: 3 });
    const text = await registry.metrics();
    expect(text).toContain('lookout_country_blocks{country="KZ",state="down"} 14');
    expect(text).toContain('lookout_country_blocks{country="KZ",state="monitored"} 25');
    expect(text).toContain('lookout_asn_blocks{asn="9198",state="up"} 5');
    expect(text).toContain('lookout_country_blocks_ordinary_ratio{country="KZ"} 0.4');
    expect(text).toContain('lookout_asn_blocks_ordinary_ratio{asn="48503"} 1');
    expect(text).not.toContain('lookout_asn_blocks_ordinary_ratio{asn="9198"}');
    // The ordinary levels as counts, which shards can sum (the ratio cannot be summed).
    expect(text).toContain('lookout_country_blocks_ordinary{country="KZ"} 25');
    expect(text).toContain('lookout_asn_blocks_ordinary{asn="48503"} 5');
    expect(text).not.toContain('lookout_asn_blocks_ordinary{asn="9198"}');
    expect(text).toContain('lookout_blocks_shard_index 1');
    expect(text).toContain('lookout_blocks_shard_count 3');
    expect(text).toContain('lookout_blocks_unmonitored{reason="sparse"} 3');
    expect(text).toContain('lookout_block_probes_total{phase="adaptive"} 60');
    expect(text).toContain('lookout_block_rounds_total 7');
  });

  it('adds blocks under each country of the status and a top-level blocks section; off leaves the status as it was', () => {
    const status = { vantage: { id: 'v' }, countries: [{ country: 'KZ', state: 'ok' }, { country: 'DE', state: 'ok' }] };
    expect(withBlocks(status, null)).toBe(status);
    const out = withBlocks(status, snap) as unknown as { countries: { country: string; blocks: unknown }[]; blocks: { asns: { asn: number }[]; monitored: number } };
    expect(out.countries[0]?.blocks).toEqual({ monitored: 25, up: 10, down: 14, uncertain: 1, ordinary_pct: 40 });
    expect(out.countries[1]?.blocks).toBeNull();
    expect(out.blocks.monitored).toBe(25);
    expect(out.blocks.asns.map((a) => a.asn)).toEqual([9198, 48503]);
  });
});
