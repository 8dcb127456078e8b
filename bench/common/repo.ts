/**
 * Where things are: the repository a benchmark belongs to, and the built daemon in a checkout.
 * The benchmarks run compiled, from .bench-build/ (tsconfig.bench.json), so neither is a fixed
 * path relative to the running file.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The first directory at or above `startDir` that has a package.json. */
export function findRepoRoot(startDir: string): string {
  let dir = resolve(startDir);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json at or above ${startDir}`);
    dir = parent;
  }
}

/** The repository this benchmark belongs to (.bench-build/ has no package.json of its own). */
export const ROOT = findRepoRoot(import.meta.dirname);

/**
 * Imports `dist/<path>` of the built checkout at `root`: the daemon as built, which is what the
 * benchmarks measure (with --lookout, another checkout's build). `M` is the type of the source
 * module it is built from (`import type * as M from '../../src/<path>.js'`), so that a change of
 * that module's shape is a type error in the benchmark; another checkout is taken to match it.
 */
export async function importBuilt<M>(root: string, path: string): Promise<M> {
  return (await import(pathToFileURL(join(root, 'dist', path)).href)) as M;
}
