import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { amtool } from '../fixtures/promtool.js';

// What the README says about the alerts is what the shipped files do: every alert of the rules
// is in its table, the inhibit rule is described with its real `equal`, and the example
// receivers pass amtool without naming any real address.

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const RECEIVERS = join(ROOT, 'config/alertmanager/receivers.example.yml');

describe('the alerts as the README tells them', () => {
  it('lists every alert of config/prometheus/rules, and no other', () => {
    const rules = parse(readFileSync(join(ROOT, 'config/prometheus/rules/lookout.rules.yml'), 'utf8')) as { groups: { rules: { alert?: string }[] }[] };
    const alerts = rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert === undefined ? [] : [r.alert])));
    expect(alerts.length).toBeGreaterThanOrEqual(13);
    const listed = [...README.matchAll(/^\| `(Lookout[A-Za-z]+)` \| (critical|warning|info) \|/gm)].map((m) => m[1]);
    expect([...listed].sort()).toEqual([...alerts].sort());
  });

  it("describes the inhibit rule's equal labels as alertmanager.yml has them", () => {
    const am = parse(readFileSync(join(ROOT, 'config/alertmanager/alertmanager.yml'), 'utf8')) as { inhibit_rules: { equal: string[] }[] };
    expect(am.inhibit_rules.length).toBeGreaterThanOrEqual(1);
    expect(README).toContain(`(\`equal: [${am.inhibit_rules[0]?.equal.join(', ')}]\``);
  });

  it('ships email, Slack and PagerDuty example receivers that amtool accepts, with placeholder addresses only', async () => {
    const run = await amtool('check-config', RECEIVERS);
    expect(run.output).toContain('SUCCESS');
    expect(run.code).toBe(0);
    const text = readFileSync(RECEIVERS, 'utf8');
    for (const kind of ['email_configs', 'slack_configs', 'pagerduty_configs']) expect(text).toContain(`${kind}:`);
    const hosts = [...text.matchAll(/[\w.-]+@([\w.-]+)|\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|invalid|net|org|io))\b/g)].map((m) => m[1] ?? m[2]);
    expect(hosts.length).toBeGreaterThan(0);
    for (const host of hosts) expect(host, host).toMatch(/(^|\.)(example\.com|invalid)$/);
  });
});
