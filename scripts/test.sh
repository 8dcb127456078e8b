#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it: lint and type check, build (the end-to-end tests
# run the built daemon, the benchmark smoke tests the compiled bench/), the host-namespace
# tests, the fault-injection tests inside a private network namespace, then the container image
# built and run with podman (alone, so that its build does not slow the timing-sensitive
# tests). Ends with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

bash scripts/ensure-test-deps.sh || exit 1
[ -d node_modules ] || npm ci --no-audit --no-fund || exit 1

echo "== lint and type check (node $(node --version))"
npm run --silent lint || { echo "0 passed, 1 failed"; exit 1; }
echo "== build (the daemon, and the benchmarks their smoke tests run)"
npm run --silent build || { echo "0 passed, 1 failed"; exit 1; }
npm run --silent build:bench || { echo "0 passed, 1 failed"; exit 1; }

status=0
echo "== tests (host namespace, loopback only)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$out/host.json" || status=1
echo "== tests (private network namespace: iptables fault injection)"
scripts/netns-run.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$out/netns.json" || status=1
echo "== tests (container image: the Dockerfile built and run with podman)"
LOOKOUT_CONTAINER=1 npx vitest run --reporter=default --reporter=json --outputFile.json="$out/container.json" || status=1

node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of process.argv.slice(1)) {
    if (!fs.existsSync(f)) { failed++; console.error("no report: " + f); continue; }
    const r = JSON.parse(fs.readFileSync(f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
    // A file that failed to load has no test results of its own: count it as a failure.
    for (const s of r.testResults) if (s.status === "failed" && s.assertionResults.length === 0) failed++;
  }
  if (skipped > 0) { console.error(skipped + " skipped tests: CI runs everything"); failed += skipped; }
  if (passed === 0) { console.error("no test ran"); failed++; }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 ? 1 : 0);
' "$out/host.json" "$out/netns.json" "$out/container.json" || status=1
exit $status
