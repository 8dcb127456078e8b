import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_KINDS } from '../../src/detect/events.js';
import { exportedSeriesNames, metricNamesIn, promtool } from '../fixtures/promtool.js';

// The shipped Prometheus config and rules, checked and unit-tested by the real promtool.

const ROOT = resolve(import.meta.dirname, '../..');
const PROM_DIR = join(ROOT, 'config/prometheus');
const RULES = join(PROM_DIR, 'rules/lookout.rules.yml');
const TESTS_DIR = join(PROM_DIR, 'tests');
const RUNBOOK = join(ROOT, 'docs/runbook.md');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string> }[];
}
interface UnitTestFile {
  rule_files: string[];
  tests: { alert_rule_test?: AlertTest[] }[];
}

const rules = (parse(readFileSync(RULES, 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => r.alert !== undefined);
const recorded = new Set(rules.flatMap((r) => (r.record === undefined ? [] : [r.record])));
const testFiles = readdirSync(TESTS_DIR)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(TESTS_DIR, f));

/** Lower-case GitHub-style anchors of the runbook's headings. */
function runbookAnchors(): Set<string> {
  const anchors = new Set<string>();
  for (const line of readFileSync(RUNBOOK, 'utf8').split('\n')) {
    const m = /^#{1,6}\s+(.+?)\s*$/.exec(line);
    if (m?.[1]) anchors.add(m[1].toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-'));
  }
  return anchors;
}

describe('config/prometheus', () => {
  it('prometheus.yml passes promtool check config, with the rule files it names', async () => {
    const run = await promtool('check', 'config', join(PROM_DIR, 'prometheus.yml'));
    expect(run.output).toContain('SUCCESS');
    expect(run.output).toContain('lookout.rules.yml');
    expect(run.code).toBe(0);
  });

  it('the rules pass promtool check rules', async () => {
    const run = await promtool('check', 'rules', RULES);
    expect(run.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(run.code).toBe(0);
  });

  it('the rule unit tests pass promtool test rules', async () => {
    expect(testFiles.length).toBeGreaterThan(0);
    const run = await promtool('test', 'rules', ...testFiles);
    expect(run.output).not.toContain('FAILED');
    expect(run.output.match(/SUCCESS/g)).toHaveLength(testFiles.length);
    expect(run.code).toBe(0);
  });

  it('promtool test rules fails when an expectation is wrong, so the run above means something', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-rules-'));
    try {
      const file = join(dir, 'wrong.test.yml');
      const original = readFileSync(join(TESTS_DIR, 'disruptions.test.yml'), 'utf8');
      const broken = original
        .replace('../rules/lookout.rules.yml', RULES)
        .replace('summary: "Internet shutdown in KZ, seen from fra-1"', 'summary: "something else"');
      expect(broken).not.toBe(original.replace('../rules/lookout.rules.yml', RULES));
      writeFileSync(file, broken);
      const run = await promtool('test', 'rules', file);
      expect(run.output).toContain('FAILED');
      expect(run.output).toContain('something else');
      expect(run.code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has every alert the issue asks for, with a severity, the annotations and a runbook anchor', () => {
    const expected: Record<string, string> = {
      LookoutCountryShutdown: 'critical',
      LookoutPartialOutage: 'warning',
      LookoutServiceBlocking: 'warning',
      LookoutDegradation: 'warning',
      LookoutShutdownConfirmed: 'critical',
      LookoutVantageOffline: 'critical',
      LookoutVantageSilent: 'warning',
      LookoutConfigReloadFailed: 'warning',
      LookoutStorageFailing: 'warning',
      LookoutSchedulerLagging: 'warning',
      LookoutRemoteWriteStopped: 'warning',
      LookoutRemoteWriteBacklog: 'warning',
      LookoutRemoteWriteLosingSamples: 'warning',
      LookoutExpectedDisruption: 'warning',
      LookoutExpectedCutOverran: 'critical',
      LookoutMaintenanceWindow: 'info',
      LookoutBlocksShutdown: 'critical',
      LookoutBlocksBelowOrdinary: 'warning',
      LookoutBlocksAsnOutage: 'warning',
      LookoutBlockShardsIncomplete: 'warning',
    };
    expect(Object.fromEntries(alerts.map((a) => [a.alert, a.labels?.severity]))).toEqual(expected);
    const anchors = runbookAnchors();
    for (const a of alerts) {
      expect(Object.keys(a.annotations ?? {}).sort(), a.alert).toEqual(['description', 'runbook_url', 'summary']);
      // The base is one setting, the evaluating Prometheus' external label runbook_base.
      const url = a.annotations?.runbook_url ?? '';
      expect(url, a.alert).toMatch(/^\{\{ \$externalLabels\.runbook_base \}\}#[a-z0-9-]+$/);
      expect(anchors, `${a.alert}: ${url}`).toContain(url.split('#')[1]);
    }
  });

  it('sets the runbook base once per Prometheus, the same in both, and keeps it off the alerts sent', () => {
    const configs = ['prometheus.yml', 'prometheus-center.yml'].map(
      (f) =>
        parse(readFileSync(join(PROM_DIR, f), 'utf8')) as {
          global: { external_labels: Record<string, string> };
          alerting: { alert_relabel_configs: { action?: string; regex?: string }[] };
        },
    );
    const bases = configs.map((c) => c.global.external_labels.runbook_base);
    expect(bases).toEqual(['https://github.com/lookout-monitor/lookout/blob/main/docs/runbook.md', 'https://github.com/lookout-monitor/lookout/blob/main/docs/runbook.md']);
    for (const c of configs) {
      const dropped = c.alerting.alert_relabel_configs.filter((r) => r.action === 'labeldrop').map((r) => new RegExp(`^(?:${r.regex ?? ''})$`));
      expect(dropped.some((re) => re.test('runbook_base'))).toBe(true);
    }
    // Every promtool test group renders the links from a stand-in base of its own, so the
    // expected annotations prove the base comes from the setting, not from the rule text.
    for (const file of testFiles) {
      const groups = (parse(readFileSync(file, 'utf8')) as { tests: { external_labels?: Record<string, string> }[] }).tests;
      for (const g of groups) expect(g.external_labels?.runbook_base, file).toBe('https://runbooks.invalid/lookout.md');
    }
  });

  it('fires the disruption alerts on the first evaluation that sees the event, one alert per event kind', () => {
    for (const kind of EVENT_KINDS) {
      // No aggregation: every event label (country, asn, category, mechanism, vantage) stays.
      const matching = alerts.filter((a) => a.expr.trim() === `lookout_disruption_active{kind="${kind}"} > 0`);
      expect(matching, kind).toHaveLength(1);
      expect(matching[0]?.for, kind).toBe('0s');
    }
  });

  it('reads only series a Lookout daemon exports, or ones the rules record', () => {
    const known = exportedSeriesNames();
    const read = new Set<string>();
    for (const r of rules) {
      for (const name of metricNamesIn(r.expr)) {
        read.add(name);
        expect(known.has(name) || recorded.has(name), `${r.alert ?? r.record}: ${name}`).toBe(true);
      }
    }
    for (const name of ['lookout_disruption_active', 'lookout_vantage_online', 'up', 'lookout_scheduler_lag_seconds_bucket', 'country_vantage:lookout_reachability_ratio:online']) {
      expect(read).toContain(name);
    }
    // The check can fail: a misspelt name is not known.
    expect(known.has('lookout_disruptions_active')).toBe(false);
  });

  it('unit-tests every alert both firing and staying silent', () => {
    const fired = new Set<string>();
    const silent = new Set<string>();
    for (const file of testFiles) {
      const doc = parse(readFileSync(file, 'utf8')) as UnitTestFile;
      expect(doc.rule_files, file).toEqual(['../rules/lookout.rules.yml']);
      for (const t of doc.tests.flatMap((x) => x.alert_rule_test ?? [])) {
        (t.exp_alerts.length > 0 ? fired : silent).add(t.alertname);
      }
    }
    const names = alerts.map((a) => a.alert).sort();
    expect([...fired].sort()).toEqual(names);
    expect([...silent].sort()).toEqual(names);
  });
});
