// docs/design.md "A new prober kind", kept true: every kind the config schema accepts has what
// the checklist says it needs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TARGET_KINDS, TargetInput } from '../../../src/config/schema.js';
import { FAILURE_REASONS, REASONS_BY_KIND } from '../../../src/probers/reasons.js';
import { PROBERS } from '../../../src/probers/registry.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

/** The kinds the schema's target union accepts, read from the union itself. */
function schemaKinds(): string[] {
  return TargetInput.options.map((option) => option.shape.kind.value);
}

describe('every prober kind is complete', () => {
  it('the schema union and TARGET_KINDS name the same kinds', () => {
    expect([...schemaKinds()].sort()).toEqual([...TARGET_KINDS].sort());
  });

  it.each(TARGET_KINDS)('%s: a prober in the registry', (kind) => {
    expect(typeof PROBERS[kind]).toBe('function');
  });

  it.each(TARGET_KINDS)('%s: a list of the reasons it fails with, all of them stable codes', (kind) => {
    const reasons: readonly string[] = REASONS_BY_KIND[kind];
    expect(reasons).toContain('unknown');
    expect(reasons.filter((r) => !(FAILURE_REASONS as readonly string[]).includes(r))).toEqual([]);
  });

  it.each(TARGET_KINDS)('%s: a row in the README kind table and a section of docs/reasons.md', (kind) => {
    expect(read('README.md')).toMatch(new RegExp(`^\\| \`${kind}\` \\| `, 'm'));
    const headings = read('docs/reasons.md').match(/^## .*$/gm) ?? [];
    expect(headings.filter((h) => new RegExp(`\\b${kind}\\b`, 'i').test(h)), 'a "## " heading naming the kind').not.toEqual([]);
  });

  it('every code but the reserved `timeout` is some kind\'s', () => {
    const used = new Set<string>(Object.values(REASONS_BY_KIND).flat());
    expect(FAILURE_REASONS.filter((r) => !used.has(r))).toEqual(['timeout']);
  });

  it('docs/design.md has the checklist, right before the Layout', () => {
    expect(read('docs/design.md')).toMatch(/^## How to change it\n[\s\S]*^### A new prober kind\n[\s\S]*^## Layout$/m);
  });
});
