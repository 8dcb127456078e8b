import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { amtool } from '../fixtures/promtool.js';
import { freePort, waitFor } from '../fixtures/stack.js';

// The example Alertmanager config, checked by amtool and then run for real
// (prometheus-alertmanager on loopback, no cluster) to see its routing and inhibition act on
// Lookout's alerts. Its webhooks are pointed at a receiver in this test.

const ROOT = resolve(import.meta.dirname, '../..');
const CONFIG = join(ROOT, 'config/alertmanager/alertmanager.yml');
const PLACEHOLDER_BASE = 'http://127.0.0.1:5001';

type Labels = Record<string, string>;
interface Notification {
  path: string;
  body: { receiver: string; status: string; groupLabels: Labels; alerts: { labels: Labels }[] };
}
interface ApiAlert {
  labels: Labels;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

describe('amtool on config/alertmanager/alertmanager.yml', () => {
  it('passes check-config', async () => {
    const run = await amtool('check-config', CONFIG);
    expect(run.output).toContain('SUCCESS');
    expect(run.output).toContain('3 inhibit rules');
    expect(run.code).toBe(0);
  });

  it.each([
    ['lookout-critical', ['severity=critical', 'alertname=LookoutCountryShutdown', 'country=KZ', 'vantage=fra-1']],
    ['lookout-critical', ['severity=critical', 'alertname=LookoutShutdownConfirmed', 'country=KZ']],
    ['lookout-critical', ['severity=critical', 'alertname=LookoutVantageOffline', 'vantage=fra-1']],
    ['lookout-warning', ['severity=warning', 'alertname=LookoutServiceBlocking', 'country=KZ', 'category=streaming']],
    ['lookout-warning', ['severity=warning', 'alertname=LookoutVantageSilent', 'vantage=fra-1']],
    ['lookout-warning', ['alertname=SomethingWithoutSeverity']],
  ])('routes to %s: %j', async (receiver, labels) => {
    const run = await amtool('config', 'routes', 'test', `--config.file=${CONFIG}`, `--verify.receivers=${receiver}`, ...labels);
    expect(run.output.trim().split('\n').at(-1)).toBe(receiver);
    expect(run.code).toBe(0);
  });

  it('routes test --verify.receivers fails on the wrong receiver, so the checks above can fail', async () => {
    const run = await amtool('config', 'routes', 'test', `--config.file=${CONFIG}`, '--verify.receivers=lookout-warning', 'severity=critical');
    expect(run.code).not.toBe(0);
  });
});

describe('alertmanager running the example config', () => {
  let dir = '';
  let am: ChildProcess | null = null;
  let receiver: Server | null = null;
  let amUrl = '';
  const notifications: Notification[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lookout-am-'));
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        notifications.push({ path: req.url ?? '', body: JSON.parse(body) as Notification['body'] });
        res.end();
      });
    });
    await new Promise<void>((r) => receiver?.listen(0, '127.0.0.1', r));
    const addr = receiver.address();
    if (typeof addr !== 'object' || addr === null) throw new Error('receiver has no port');

    // What an operator (or a test) changes: the receivers' base URL and the group timings.
    const text = readFileSync(CONFIG, 'utf8');
    const receivers = (parse(text) as { receivers: { name: string; webhook_configs: { url: string }[] }[] }).receivers;
    const urls = receivers.flatMap((r) => r.webhook_configs.map((w) => w.url));
    expect(urls).toEqual([`${PLACEHOLDER_BASE}/critical`, `${PLACEHOLDER_BASE}/warning`]);
    const config = parse(text.replaceAll(PLACEHOLDER_BASE, `http://127.0.0.1:${addr.port}`)) as {
      route: { group_wait: string; group_interval: string; routes: Record<string, unknown>[] };
    };
    for (const r of [config.route, ...config.route.routes]) Object.assign(r, { group_wait: '1s', group_interval: '1s' });
    writeFileSync(join(dir, 'alertmanager.yml'), stringify(config));

    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(
      'prometheus-alertmanager',
      [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    am.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    await waitFor(`alertmanager to be ready (${stderr})`, async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : null));
  });

  afterAll(async () => {
    if (am && am.exitCode === null) {
      const exited = new Promise((r) => am?.once('exit', r));
      am.kill('SIGTERM');
      await exited;
    }
    await new Promise((r) => (receiver ? receiver.close(r) : r(null)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds back an offline vantage’s country alerts, and nothing else', { timeout: 60_000 }, async () => {
    const alerts: Labels[] = [
      // fra-1 (outside any watched country) is offline, with a frozen shutdown of KZ still open.
      { alertname: 'LookoutVantageOffline', severity: 'critical', vantage: 'fra-1', kind: 'vantage_offline', mechanism: 'blackhole' },
      { alertname: 'LookoutCountryShutdown', severity: 'critical', vantage: 'fra-1', kind: 'shutdown', country: 'KZ' },
      { alertname: 'LookoutVantageSilent', severity: 'warning', vantage: 'fra-1', job: 'lookout', instance: 'fra-1:9464' },
      // ams-1 is online and sees the shutdown too.
      { alertname: 'LookoutCountryShutdown', severity: 'critical', vantage: 'ams-1', kind: 'shutdown', country: 'KZ' },
      { alertname: 'LookoutPartialOutage', severity: 'warning', vantage: 'ams-1', kind: 'partial_outage', country: 'BY', asn: '25106' },
      // No vantage label: never held back by one vantage.
      { alertname: 'LookoutShutdownConfirmed', severity: 'critical', country: 'KZ' },
      // ala-1 sits in KZ and is offline: its own offline alert has a country and still goes out.
      { alertname: 'LookoutVantageOffline', severity: 'critical', vantage: 'ala-1', kind: 'vantage_offline', country: 'KZ' },
      { alertname: 'LookoutServiceBlocking', severity: 'warning', vantage: 'ala-1', kind: 'service_blocking', country: 'KZ', category: 'social', mechanism: 'dns' },
    ];
    const post = async (batch: Labels[]): Promise<void> => {
      const res = await fetch(`${amUrl}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(batch.map((labels) => ({ labels, annotations: { summary: labels.alertname } }))),
      });
      expect(res.status).toBe(200);
    };
    // The offline alerts first, as they would be, so the inhibitor knows them before the
    // other groups flush (1 s later) even on a loaded machine.
    const offline = alerts.filter((a) => a.alertname === 'LookoutVantageOffline');
    await post(offline);
    await waitFor('the offline alerts', async () => {
      const got = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as ApiAlert[];
      return got.length === offline.length ? true : null;
    });
    await post(alerts.filter((a) => a.alertname !== 'LookoutVantageOffline'));

    const key = (l: Labels): string => `${l.alertname}/${l.vantage ?? '-'}/${l.country ?? '-'}`;
    const expectedSuppressed = ['LookoutCountryShutdown/fra-1/KZ', 'LookoutServiceBlocking/ala-1/KZ'];
    const states = await waitFor('the inhibitions', async () => {
      const got = (await (await fetch(`${amUrl}/api/v2/alerts`)).json()) as ApiAlert[];
      const suppressed = got.filter((a) => a.status.inhibitedBy.length > 0).map((a) => key(a.labels));
      return got.length === alerts.length && suppressed.length === expectedSuppressed.length ? got : null;
    });
    expect(Object.fromEntries(states.map((a) => [key(a.labels), a.status.state]))).toEqual({
      'LookoutVantageOffline/fra-1/-': 'active',
      'LookoutCountryShutdown/fra-1/KZ': 'suppressed',
      'LookoutVantageSilent/fra-1/-': 'active',
      'LookoutCountryShutdown/ams-1/KZ': 'active',
      'LookoutPartialOutage/ams-1/BY': 'active',
      'LookoutShutdownConfirmed/-/KZ': 'active',
      'LookoutVantageOffline/ala-1/KZ': 'active',
      'LookoutServiceBlocking/ala-1/KZ': 'suppressed',
    });

    // What reaches the receivers: one notification per (alertname, country) group, critical
    // and warning apart, the held-back alerts in none of them.
    const expectedGroups = [
      '/critical LookoutCountryShutdown/KZ: LookoutCountryShutdown/ams-1/KZ',
      '/critical LookoutShutdownConfirmed/KZ: LookoutShutdownConfirmed/-/KZ',
      '/critical LookoutVantageOffline/-: LookoutVantageOffline/fra-1/-',
      '/critical LookoutVantageOffline/KZ: LookoutVantageOffline/ala-1/KZ',
      '/warning LookoutPartialOutage/BY: LookoutPartialOutage/ams-1/BY',
      '/warning LookoutVantageSilent/-: LookoutVantageSilent/fra-1/-',
    ];
    const describeN = (n: Notification): string =>
      `${n.path} ${n.body.groupLabels.alertname}/${n.body.groupLabels.country ?? '-'}: ${n.body.alerts.map((a) => key(a.labels)).sort().join(', ')}`;
    await waitFor('the notifications', () => Promise.resolve(notifications.length >= expectedGroups.length ? true : null));
    // Give a wrongly delivered group the same time to arrive as the right ones had.
    await new Promise((r) => setTimeout(r, 1500));
    const firing = notifications.filter((n) => n.body.status === 'firing').map(describeN);
    expect([...new Set(firing)].sort()).toEqual(expectedGroups);
    for (const n of notifications) {
      expect(n.body.receiver).toBe(n.path === '/critical' ? 'lookout-critical' : 'lookout-warning');
    }
  });
});
