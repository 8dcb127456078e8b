/**
 * Benchmarks run only inside a private loopback-only network namespace (scripts/netns-run.sh):
 * LOOKOUT_NETNS=1 must be set and the built guard (dist/sim/netns.js) must agree.
 */
import process from 'node:process';
import type * as Netns from '../../src/sim/netns.js';
import { importBuilt } from './repo.js';

export async function refuseOutsideNetns(root: string): Promise<void> {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('run this under scripts/netns-run.sh (LOOKOUT_NETNS=1 is not set)');
  let netns: typeof Netns;
  try {
    netns = await importBuilt<typeof Netns>(root, 'sim/netns.js');
  } catch (err) {
    throw new Error(`cannot load dist/sim/netns.js (run npm run build first): ${err instanceof Error ? err.message : String(err)}`);
  }
  await netns.assertPrivateNetns();
}
