import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseLight } from '../../../src/config/yaml-file.js';

// The light parse (js-yaml) must read every file it accepts exactly as the `yaml` package reads
// it, and leave to the `yaml` package whatever it could read differently.

const ROOT = resolve(import.meta.dirname, '../../..');
const exact = (text: string): unknown => parse(text, { uniqueKeys: true, logLevel: 'error' }) as unknown;

/** Every YAML file of the repository (configs, catalogs, scenarios, fixtures). */
function repositoryYaml(): string[] {
  const out = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\n').filter((f) => f !== '');
}

describe('parseLight', () => {
  const files = repositoryYaml();

  it('finds the repository YAML files', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it.each(files)('%s: same value as the yaml package, when it takes the file', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const light = parseLight(text);
    let expected: unknown;
    try {
      expected = exact(text);
    } catch {
      // A file the yaml package refuses must not be taken by the light parse either.
      expect(light.ok).toBe(false);
      return;
    }
    if (light.ok) expect(light.value).toEqual(expected);
  });

  it.each([
    ['scalars of the 1.2 core schema', 'a: yes\nb: no\nc: on\nd: 0o17\ne: 0x1F\nf: .inf\ng: ~\nh: TRUE\ni: 1e3\nj: 2026-01-01\nk: "1"\nl: 010\n'],
    ['flow collections and JSON', '{"targets": [{"id": "a", "port": 443, "control": true}], "x": null}'],
    ['block lists, multi-line strings', 'targets:\n  - id: a\n    note: |\n      two\n      lines\n    folded: >\n      one\n      line\n'],
    ['a merge-like key (plain in 1.2)', 'a:\n  "<<": 1\n'],
    ['an ampersand inside a URL', 'url: https://example.com/?a=1&b=2\n'],
  ])('%s: same value as the yaml package', (_name, text) => {
    const light = parseLight(text);
    expect(light.ok).toBe(true);
    if (light.ok) expect(light.value).toEqual(exact(text));
  });

  it.each([
    ['a duplicate key', 'a: 1\na: 2\n'],
    ['an anchor and alias', 'a: &x 1\nb: *x\n'],
    ['a tag', 'a: !!str 1\n'],
    ['a directive', '%YAML 1.1\n---\na: yes\n'],
    ['two documents', 'a: 1\n---\nb: 2\n'],
    ['a syntax error', 'a: [1, 2\n'],
    ['an explicit key', '? [a]\n: 1\n'],
    ['a binary number', 'a: 0b11\n'],
  ])('leaves %s to the yaml package', (_name, text) => {
    expect(parseLight(text).ok).toBe(false);
  });
});
