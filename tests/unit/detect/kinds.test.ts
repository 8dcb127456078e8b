import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_KINDS } from '../../../src/detect/events.js';
import { KINDS } from '../../../src/detect/kinds.js';

// Keeps docs/design.md "A new event kind" true: what the checklist asks of a kind, checked for
// every kind in EVENT_KINDS (the compiler checks that KINDS has an entry for each).

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');
/** Rule files that open no kind themselves: what every rule shares, what rules 2-4 explain. */
const HELPERS = ['rules/common.ts', 'rules/explained.ts'];

interface Rule {
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
}

const alerts = (parse(read('config/prometheus/rules/lookout.rules.yml')) as { groups: { rules: Rule[] }[] }).groups
  .flatMap((g) => g.rules)
  .filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const alertOf = (kind: string): (Rule & { alert: string }) | undefined =>
  alerts.find((a) => a.expr.trim() === `lookout_disruption_active{kind="${kind}"} > 0`);

describe('the event kind table (src/detect/kinds.ts)', () => {
  it('names rule files that exist and that classify.ts composes; every rule file opens a kind', () => {
    const classify = read('src/detect/classify.ts');
    const named = new Set<string>();
    for (const kind of EVENT_KINDS) {
      expect(KINDS[kind].openedBy.length, kind).toBeGreaterThan(0);
      for (const file of KINDS[kind].openedBy) {
        named.add(file);
        expect(existsSync(join(ROOT, 'src/detect', file)), `${kind}: ${file}`).toBe(true);
        expect(classify, `${kind}: ${file}`).toContain(`from './${file.replace(/\.ts$/, '.js')}'`);
        expect(existsSync(join(ROOT, 'tests/unit/detect', file.replace(/\.ts$/, '.test.ts'))), `${kind}: a test of ${file}`).toBe(true);
      }
    }
    const files = readdirSync(join(ROOT, 'src/detect/rules')).map((f) => `rules/${f}`);
    expect(files.filter((f) => !named.has(f) && !HELPERS.includes(f))).toEqual([]);
  });

  it('is listed, in EVENT_KINDS order, where the docs list the kinds', () => {
    const quoted = (text: string): string[] => [...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string);
    const intro = /The detector turns probe results into events \(([^)]*)\)/.exec(read('docs/detection.md'));
    expect(quoted(intro?.[1] ?? ''), 'docs/detection.md').toEqual([...EVENT_KINDS]);
    const filter = /^\| `kind` \| (.*) \| events of that kind \|$/m.exec(read('docs/api.md'));
    expect(quoted(filter?.[1] ?? ''), 'docs/api.md').toEqual([...EVENT_KINDS]);
  });

  it('is in the docs: docs/detection.md with its rule files, docs/api.md, docs/design.md "Events" and the README with its severity', () => {
    const detection = read('docs/detection.md');
    const api = read('docs/api.md');
    const design = read('docs/design.md');
    const readme = read('README.md');
    for (const kind of EVENT_KINDS) {
      const k = KINDS[kind];
      expect(detection, kind).toContain(`\`${kind}\``);
      for (const file of k.openedBy) expect(detection, `${kind}: ${file}`).toContain(`\`${file}\``);
      expect(api, kind).toContain(`\`${kind}\``);
      if (k.countryState !== null) expect(api, `${kind}: country state`).toContain(`\`${k.countryState}\``);
      expect(design, kind).toContain(`- \`${kind}\`: `);
      expect(readme, kind).toMatch(new RegExp(`^\\| \`${kind}\` \\|.*\\| ${k.severity} \\|$`, 'm'));
    }
  });

  it('has one alert in the shipped rules, with its severity, a runbook section and a row in the README', () => {
    const runbook = read('docs/runbook.md');
    const readme = read('README.md');
    for (const kind of EVENT_KINDS) {
      const alert = alertOf(kind);
      expect(alert, kind).toBeDefined();
      expect(alerts.filter((a) => a === alert), kind).toHaveLength(1);
      const name = alert?.alert ?? '';
      expect(alert?.labels?.severity, name).toBe(KINDS[kind].severity);
      expect(runbook, name).toMatch(new RegExp(`^## ${name}$`, 'm'));
      expect(readme, name).toMatch(new RegExp(`^\\| \`${name}\` \\| ${KINDS[kind].severity} \\|.*\`${kind}\``, 'm'));
    }
  });
});
