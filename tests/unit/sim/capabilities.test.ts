import { describe, expect, it } from 'vitest';
import { describeMissing, missingFromStatus, SIMULATE_CAPABILITIES } from '../../../src/sim/capabilities.js';

// CapEff values as a root shell, a default podman/docker container, and one with
// --cap-add SYS_ADMIN (but not NET_ADMIN) show them.
const FULL = '000001ffffffffff';
const CONTAINER_DEFAULT = '00000000800405fb';
const WITH_SYS_ADMIN = '00000000802405fb';

const status = (capEff: string): string => `Name:\tnode\nUid:\t0\t0\t0\t0\nCapInh:\t0000000000000000\nCapEff:\t${capEff}\nCapBnd:\t${capEff}\n`;

describe('missingFromStatus', () => {
  it('reads the effective set bit by bit', () => {
    expect(missingFromStatus(status(FULL), SIMULATE_CAPABILITIES)).toEqual([]);
    expect(missingFromStatus(status(CONTAINER_DEFAULT), SIMULATE_CAPABILITIES)).toEqual(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN']);
    expect(missingFromStatus(status(WITH_SYS_ADMIN), SIMULATE_CAPABILITIES)).toEqual(['CAP_NET_ADMIN']);
  });

  it('answers null without a CapEff line', () => {
    expect(missingFromStatus('Name:\tnode\n', SIMULATE_CAPABILITIES)).toBeNull();
  });
});

describe('describeMissing', () => {
  it('names the capabilities and the container flags, or nothing', () => {
    expect(describeMissing(['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'])).toBe(
      ' Missing here: CAP_SYS_ADMIN, CAP_NET_ADMIN (in a container: --cap-add SYS_ADMIN --cap-add NET_ADMIN).',
    );
    expect(describeMissing([])).toBe('');
    expect(describeMissing(null)).toBe('');
  });
});
