import { describe, expect, it } from 'vitest';
import { registerDetectorMetrics, type DetectorView } from '../../../src/metrics/detector-metrics.js';
import { LookoutRegistry } from '../../../src/metrics/lookout-registry.js';

type Status = ReturnType<DetectorView['status']>;
type TargetRow = Status['targets'][number];

function row(id: string, state: string, over: Partial<TargetRow> = {}): TargetRow {
  return { id, country: 'KZ', asn: 9198, category: 'news', control: false, state, ...over };
}

/** A detector stand-in whose status the test rewrites between scrapes. */
function setup(): { registry: LookoutRegistry; set: (targets: TargetRow[]) => void } {
  let status: Status = { vantage: { online: true }, countries: [], targets: [] };
  const registry = new LookoutRegistry();
  registry.setDefaultLabels({ vantage: 'fra-1' });
  registerDetectorMetrics(registry, () => ({ status: () => status, active: () => [] }));
  return { registry, set: (targets) => (status = { ...status, targets }) };
}

/** lookout_target_up lines of a scrape. */
async function targetUp(registry: LookoutRegistry): Promise<string[]> {
  // Scrapes within 250 ms share one detector snapshot; the tests change the status in between.
  await new Promise((r) => setTimeout(r, 260));
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith('lookout_target_up{'));
}

describe('lookout_target_up', () => {
  it('is 1 for up and suspect, 0 for down, absent for unknown, dead and control targets', async () => {
    const { registry, set } = setup();
    set([row('a', 'up'), row('b', 'suspect'), row('c', 'down', { asn: null }), row('d', 'unknown'), row('e', 'dead'), row('f', 'up', { control: true })]);
    expect(await targetUp(registry)).toEqual([
      'lookout_target_up{target="a",country="KZ",asn="9198",category="news",vantage="fra-1"} 1',
      'lookout_target_up{target="b",country="KZ",asn="9198",category="news",vantage="fra-1"} 1',
      'lookout_target_up{target="c",country="KZ",asn="",category="news",vantage="fra-1"} 0',
    ]);
  });

  it('follows state changes, drops targets that are gone and relabels a target whose labels changed', async () => {
    const { registry, set } = setup();
    set([row('a', 'up'), row('b', 'up'), row('c', 'up')]);
    expect(await targetUp(registry)).toHaveLength(3);
    set([row('a', 'unknown'), row('c', 'down', { country: 'UZ', category: 'isp' })]);
    expect(await targetUp(registry)).toEqual(['lookout_target_up{target="c",country="UZ",asn="9198",category="isp",vantage="fra-1"} 0']);
    set([row('a', 'up'), row('b', 'down'), row('c', 'down', { country: 'UZ', category: 'isp' })]);
    expect(await targetUp(registry)).toEqual([
      'lookout_target_up{target="a",country="KZ",asn="9198",category="news",vantage="fra-1"} 1',
      'lookout_target_up{target="c",country="UZ",asn="9198",category="isp",vantage="fra-1"} 0',
      'lookout_target_up{target="b",country="KZ",asn="9198",category="news",vantage="fra-1"} 0',
    ]);
  });
});
