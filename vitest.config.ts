import { defineConfig } from 'vitest/config';

// Tests under tests/netns/ inject faults with iptables and only run inside the private network
// namespace made by scripts/netns-run.sh (which sets LOOKOUT_NETNS=1); everything else runs in
// the host namespace and only ever talks to loopback.
const inNetns = process.env.LOOKOUT_NETNS === '1';

export default defineConfig({
  test: {
    include: inNetns ? ['tests/netns/**/*.test.ts'] : ['tests/**/*.test.ts'],
    exclude: inNetns ? [] : ['tests/netns/**', 'node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // The namespace is shared: one file's iptables rules (and FaultInjector.clear()) must not
    // meet another's, and `lookout simulate` owns the world's addresses while it runs.
    fileParallelism: !inNetns,
  },
});
