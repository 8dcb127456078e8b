/**
 * Benchmarks run only inside a private loopback-only network namespace (scripts/netns-run.sh):
 * LOOKOUT_NETNS=1 must be set and the built guard (dist/sim/netns.js) must agree.
 */
import process from 'node:process';
import { join } from 'node:path';

export async function refuseOutsideNetns(root) {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('run this under scripts/netns-run.sh (LOOKOUT_NETNS=1 is not set)');
  let netns;
  try {
    netns = await import(join(root, 'dist/sim/netns.js'));
  } catch (err) {
    throw new Error(`cannot load dist/sim/netns.js (run npm run build first): ${err.message}`);
  }
  await netns.assertPrivateNetns();
}
