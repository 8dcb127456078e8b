import { defineConfig } from 'vitest/config';

// scripts/test.sh runs the suite in three phases, each its own `vitest run`:
// - host (default): everything under tests/ except netns/ and container/; only ever talks to
//   loopback;
// - netns (LOOKOUT_NETNS=1): tests/netns/, which inject faults with iptables and only run inside
//   the private network namespace made by scripts/netns-run.sh;
// - container (LOOKOUT_CONTAINER=1): tests/container/, which builds the image with podman and
//   runs it, in the host namespace (the build reaches the npm registry and the Debian mirror).
//   It runs alone: a build's CPU load beside the timing-sensitive simulate and scale tests
//   would make those miss their deadlines on a small machine.
const phase = process.env.LOOKOUT_NETNS === '1' ? 'netns' : process.env.LOOKOUT_CONTAINER === '1' ? 'container' : 'host';

export default defineConfig({
  test: {
    include: phase === 'netns' ? ['tests/netns/**/*.test.ts'] : phase === 'container' ? ['tests/container/**/*.test.ts'] : ['tests/**/*.test.ts'],
    exclude: phase === 'host' ? ['tests/netns/**', 'tests/container/**', 'node_modules/**'] : [],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Any process warning fails the test that caused it (tests/unit/warnings.test.ts proves it).
    setupFiles: ['tests/setup/fail-on-warning.ts'],
    // The namespace is shared: one file's iptables rules (and FaultInjector.clear()) must not
    // meet another's, and `lookout simulate` owns the world's addresses while it runs.
    fileParallelism: phase === 'host',
  },
});
