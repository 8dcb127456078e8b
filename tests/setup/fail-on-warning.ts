/**
 * Warnings are defects (issue 22): a process warning (a FileHandle closed by the garbage
 * collector, a MaxListenersExceededWarning, a deprecation...) fails the test during which it
 * was emitted. Registered for every test file by vitest.config.ts (setupFiles). A warning
 * emitted after a test ended (the garbage collector runs when it likes) fails the next test,
 * or the file's afterAll when no test comes; the message names the warning either way.
 */
import { afterAll, afterEach } from 'vitest';

const seen: Error[] = [];
process.on('warning', (warning) => seen.push(warning));

function failOnWarnings(when: string): void {
  const warnings = seen.splice(0);
  if (warnings.length === 0) return;
  const list = warnings.map((w) => `${w.name}: ${w.message}`).join('\n  ');
  throw new Error(`process warning ${when} (issue 22: warnings are defects):\n  ${list}`);
}

afterEach(() => failOnWarnings('during this test'));
afterAll(() => failOnWarnings('after the last test of this file'));
