import { describe, expect, it } from 'vitest';
import type { Scenario } from '../../../src/sim/scenario.js';
import { perspective } from '../../../src/sim/run.js';

// simulate's header names the perspective of each country, not "inside-out from DE" for a
// vantage in DE watching KZ from outside.
function scenario(home: string | undefined, codes: string[]): Pick<Scenario, 'vantage' | 'world'> {
  return { vantage: { ...(home === undefined ? {} : { country: home }) }, world: { countries: codes.map((code) => ({ code })) } } as unknown as Pick<Scenario, 'vantage' | 'world'>;
}

describe('simulate: the perspective line', () => {
  it('says which countries are seen outside-in and which inside-out', () => {
    expect(perspective(scenario('DE', ['KZ', 'DE']))).toBe('vantage in DE: DE inside-out, KZ outside-in');
    expect(perspective(scenario('KZ', ['KZ']))).toBe('inside-out (vantage in KZ)');
    expect(perspective(scenario(undefined, ['KZ', 'UZ']))).toBe('outside-in');
  });
});
