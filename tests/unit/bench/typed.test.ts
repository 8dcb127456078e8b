/**
 * Keeps every benchmark checked: `npm run lint` type-checks and lints the .ts files under bench/
 * (tsconfig.json includes bench/), but a plain .js or .mjs script there would be neither, and
 * would only show that it no longer fits the code when someone runs it.
 */
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Every file under `dir`, recursively, relative to the repository. */
function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [relative(ROOT, join(dir, e.name))]));
}

describe('bench/', () => {
  it('holds TypeScript, prose and data only: no script that the type check skips', () => {
    const all = files(join(ROOT, 'bench'));
    expect(all.filter((f) => f.endsWith('.ts')).length).toBeGreaterThan(40);
    expect(all.filter((f) => !/\.(ts|md|csv)$/.test(f))).toEqual([]);
  });
});
