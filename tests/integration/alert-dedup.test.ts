/**
 * The compose stack's two Prometheus servers page once. A real daemon on loopback is scraped
 * by Debian's prometheus running the shipped prometheus.yml and pushes the same series by remote
 * write to a second one running the shipped prometheus-center.yml; both evaluate the shipped
 * rules and send to one prometheus-alertmanager running the shipped routing, which posts to a
 * webhook here. A shutdown of KZ (its listener closed) must fire on both servers and reach the
 * webhook as exactly one alert in exactly one notification.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startCenter, type Center } from '../fixtures/center.js';
import { freePort, startStack, waitFor, type Stack } from '../fixtures/stack.js';
import { startDaemon, tempDir, type Daemon } from '../e2e/harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

async function tcpListener(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => (server.listening ? server.close(r) : r(undefined))));
  return { server, port: (server.address() as { port: number }).port };
}

describe('the scraping Prometheus and the center behind one Alertmanager', () => {
  it('deliver one notification with one alert for one shutdown', { timeout: 120_000 }, async () => {
    const kz = await tcpListener();
    const ctl = await tcpListener();
    const lookoutPort = await freePort();
    const centerPort = await freePort();
    const stack: Stack = await startStack({ lookouts: [{ address: `127.0.0.1:${lookoutPort}`, vantage: 'dedup-1' }] });
    cleanups.push(() => stack.close());
    const center: Center = await startCenter({ port: centerPort, alertmanager: stack.amUrl.replace('http://', '') });
    cleanups.push(() => center.close());

    const dir = tempDir({
      'lookout.yaml': `
vantage: { id: dedup-1 }
server: { listen: "127.0.0.1:${lookoutPort}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 400ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
remote_write:
  - { name: center, url: "http://127.0.0.1:${centerPort}/api/v1/write", queue: { send_interval: 1s } }
targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kz.port} }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kz.port} }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: ${kz.port} }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${ctl.port} }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${ctl.port} }
`,
    });
    const daemon: Daemon = await startDaemon(join(dir, 'lookout.yaml'), lookoutPort, { LOG_LEVEL: 'info' });
    cleanups.push(async () => {
      daemon.proc.kill('SIGKILL');
      await daemon.exited;
    });

    // KZ up on both servers before it goes dark, so that the detector has a baseline.
    const kzUp = 'count(lookout_target_up{country="KZ"} == 1) == 3';
    await waitFor('KZ up at the scraping Prometheus', async () => ((await stack.query(kzUp)).length > 0 ? true : null), 30_000);
    await waitFor('KZ up at the center', async () => ((await center.query('count(lookout_probe_success{country="KZ"} == 1) == 3')).length > 0 ? true : null), 30_000);
    await new Promise<void>((r) => kz.server.close(() => r()));

    // Both servers fire it: without that the test would prove nothing.
    const firing = 'ALERTS{alertname="LookoutCountryShutdown", alertstate="firing", country="KZ"}';
    await waitFor('LookoutCountryShutdown firing at the scraping Prometheus', async () => ((await stack.query(firing)).length > 0 ? true : null), 40_000);
    await waitFor('LookoutCountryShutdown firing at the center', async () => ((await center.query(firing)).length > 0 ? true : null), 40_000);
    // Several group intervals (1 s in the stack) for a second copy to show up if there were one.
    await new Promise((r) => setTimeout(r, 6000));

    const am = (await (await fetch(`${stack.amUrl}/api/v2/alerts?filter=alertname%3D%22LookoutCountryShutdown%22`)).json()) as { labels: Record<string, string> }[];
    expect(am.map((a) => a.labels)).toEqual([expect.objectContaining({ alertname: 'LookoutCountryShutdown', country: 'KZ', vantage: 'dedup-1' })]);
    const notifications = stack.notifications.filter((n) => n.body.alerts.some((a) => a.labels.alertname === 'LookoutCountryShutdown'));
    expect(notifications.length, JSON.stringify(notifications, null, 1)).toBe(1);
    const alerts = notifications[0]?.body.alerts ?? [];
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.status).toBe('firing');
    expect(alerts[0]?.labels).not.toHaveProperty('instance');
    expect(alerts[0]?.labels).not.toHaveProperty('monitor');
    // The runbook link is rendered from the one setting, external label runbook_base, which
    // itself stays off the alert (it would otherwise be one more label to keep equal).
    expect(alerts[0]?.labels).not.toHaveProperty('runbook_base');
    const shipped = parse(readFileSync(join(import.meta.dirname, '../../config/prometheus/prometheus.yml'), 'utf8')) as { global: { external_labels: Record<string, string> } };
    expect(alerts[0]?.annotations?.runbook_url).toBe(`${shipped.global.external_labels.runbook_base}#lookoutcountryshutdown`);
  });
});
