import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface JsonReport {
  testResults: { assertionResults: { title: string; status: string; failureMessages: string[] }[] }[];
}

describe('a process warning, of the test process or of a child it watches, fails the test that caused it', () => {
  it('fails the emitting test, and only it, under the suite configuration', async () => {
    const out = mkdtempSync(join(tmpdir(), 'lookout-warnings-'));
    try {
      const report = join(out, 'report.json');
      // A vitest of its own: the child must not think it is one of this run's workers.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'));
      const args = [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'tests/fixtures/warnings/vitest.config.ts', '--reporter=json', `--outputFile=${report}`];
      const exit = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env }).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
      expect(exit).toBe(1);
      const results = (JSON.parse(readFileSync(report, 'utf8')) as JsonReport).testResults.flatMap((f) => f.assertionResults);
      expect(results.map((r) => [r.title, r.status])).toEqual([
        ['emits a process warning', 'failed'],
        ['runs a child that prints a process warning', 'failed'],
        ['emits nothing', 'passed'],
      ]);
      expect(results[0]?.failureMessages.join('\n')).toContain('LookoutFixtureWarning: a warning emitted on purpose');
      // The e2e harness's watch on a child's stderr (the daemon's, lookout's commands').
      expect(results[1]?.failureMessages.join('\n')).toMatch(/ChildProcessWarning: the child: \(node:\d+\) LookoutChildWarning: printed by a child/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 60_000);
});
