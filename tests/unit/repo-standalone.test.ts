/**
 * The repository stands alone: a clone with nothing beside it has everything the README, the
 * docs, the tests and the benchmarks refer to. No tracked file may point at a folder next to the
 * checkout (the design notes and data once lived outside the repository) or at an absolute path of the
 * machine it was written on, and every relative Markdown link must lead to a tracked file.
 * (Files not yet committed but not ignored count too, so that the check bites before a commit.)
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SELF = relative(ROOT, import.meta.filename).split('\\').join('/');
const FILES = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f !== '');
const TRACKED = new Set(FILES);

/** Text of a tracked file, or null for a binary one (a NUL byte in its first 8 kB) or one deleted in the worktree. */
function text(file: string): string | null {
  let buf: Buffer;
  try {
    buf = readFileSync(join(ROOT, file));
  } catch {
    return null;
  }
  return buf.subarray(0, 8192).includes(0) ? null : buf.toString('utf8');
}

/** Outside the repository: the folder beside the checkout, and absolute paths of the machine. */
const OUTSIDE: { what: string; re: RegExp }[] = [
  { what: 'a folder beside the repository', re: /(?<![\w.-])\.\.[/\\]shared\b/ },
  { what: 'an absolute path of this machine', re: /(?<![\w.~-])\/work\/[\w.-]/ },
];

describe('the repository stands alone', () => {
  it('is a git checkout with its tracked files listed', () => {
    expect(FILES).toContain('package.json');
    expect(FILES).toContain(SELF);
  });

  it('no tracked file refers to a path outside the repository', () => {
    const found: string[] = [];
    for (const file of FILES) {
      if (file === SELF) continue; // the patterns above
      const body = text(file);
      if (body === null) continue;
      body.split('\n').forEach((line, i) => {
        for (const { what, re } of OUTSIDE) {
          const m = re.exec(line);
          if (m) found.push(`${file}:${i + 1}: ${what}: ${line.trim().slice(0, 160)}`);
        }
      });
    }
    expect(found, `references outside the repository:\n${found.join('\n')}`).toEqual([]);
  });

  it('every relative Markdown link leads to a tracked file', () => {
    const broken: string[] = [];
    for (const file of FILES.filter((f) => f.endsWith('.md'))) {
      const body = text(file);
      if (body === null) continue;
      for (const m of body.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] as string;
        if (/^([a-z][a-z0-9+.-]*:|#)/i.test(target)) continue; // URLs, mail, anchors
        const path = posix.normalize(posix.join(dirname(file).split('\\').join('/'), target.replace(/#.*$/, '')));
        const isDir = FILES.some((f) => f.startsWith(`${path.replace(/\/$/, '')}/`));
        if (path.startsWith('../') || (!TRACKED.has(path) && !isDir)) broken.push(`${file}: (${target}) -> ${path}`);
      }
    }
    expect(broken, `broken or outside links:\n${broken.join('\n')}`).toEqual([]);
  });

  it('keeps the data its benchmarks and tests read, with its source and licence beside it', () => {
    expect(TRACKED.has('bench/data/ioda-outages-2018-2022.csv')).toBe(true);
    const readme = text('bench/data/README.md') ?? '';
    expect(readme).toMatch(/Destination Unreachable: Characterizing Internet Outages and Shutdowns/);
    expect(readme).toMatch(/InetIntel\/internet_outages/);
    expect(readme).toMatch(/^### Licence$/m);
    expect(TRACKED.has('docs/design.md')).toBe(true);
  });
});
