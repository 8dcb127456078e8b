/**
 * The windows' alert routing live (issue 25): two real daemons on loopback scraped by Debian's
 * prometheus running the shipped prometheus.yml and rules, sending to prometheus-alertmanager
 * running the shipped alertmanager.yml, which posts to a webhook here.
 * - win-exam: an `expected` window on KZ is open when KZ goes dark (its listener closed): the
 *   shutdown pages at warning (LookoutExpectedDisruption), its own critical
 *   LookoutCountryShutdown is held back; when the window ends with KZ still dark,
 *   LookoutExpectedCutOverran pages critical.
 * - win-maint: its own `maintenance` window is open when its controls fail: LookoutVantageOffline
 *   fires at Prometheus but no notification of it arrives.
 */
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cronAt } from '../../src/sim/windows.js';
import { startDaemon, tempDir, type Daemon } from '../e2e/harness.js';
import { freePort, startStack, waitFor, type Stack } from '../fixtures/stack.js';

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

const closeListener = (l: { server: Server }): Promise<void> => new Promise<void>((r) => l.server.close(() => r()));

async function daemon(vantage: string, port: number, body: string): Promise<Daemon> {
  const dir = tempDir({
    'lookout.yaml': `
vantage: { id: ${vantage} }
server: { listen: "127.0.0.1:${port}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 400ms, confirm_delay: 200ms }
detection: { evaluate_every: 500ms }
${body}`,
  });
  const d = await startDaemon(join(dir, 'lookout.yaml'), port, { LOG_LEVEL: 'info' });
  cleanups.push(async () => {
    d.proc.kill('SIGKILL');
    await d.exited;
  });
  return d;
}

describe('windows through Prometheus and Alertmanager', () => {
  it('an announced cut pages at warning and its overrun at critical; a vantage offline in its maintenance does not page', { timeout: 150_000 }, async () => {
    const kz = await tcpListener();
    const ctlExam = await tcpListener();
    const ctlMaint = await tcpListener();
    const examPort = await freePort();
    const maintPort = await freePort();
    const stack: Stack = await startStack({
      lookouts: [
        { address: `127.0.0.1:${examPort}`, vantage: 'win-exam' },
        { address: `127.0.0.1:${maintPort}`, vantage: 'win-maint' },
      ],
    });
    cleanups.push(() => stack.close());

    // The expected window opens now (second resolution) and lasts 45 s: KZ is cut inside it and
    // stays dark past its end. The maintenance window is open for the whole test.
    const examStart = Math.floor(Date.now() / 1000) * 1000;
    const examEnd = examStart + 45_000;
    await daemon(
      'win-exam',
      examPort,
      `targets:
  - { id: kz-1, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kz.port} }
  - { id: kz-2, kind: tcp, country: KZ, asn: 9198, host: 127.0.0.1, port: ${kz.port} }
  - { id: kz-3, kind: tcp, country: KZ, asn: 21299, host: 127.0.0.1, port: ${kz.port} }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${ctlExam.port} }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${ctlExam.port} }
windows:
  - { name: kz-exam, kind: expected, reason: exam, cron: "${cronAt(examStart)}", duration: 45s, countries: [KZ] }
`,
    );
    await daemon(
      'win-maint',
      maintPort,
      `targets:
  - { id: de-1, kind: tcp, country: DE, host: 127.0.0.1, port: ${ctlMaint.port} }
  - { id: ctl-1, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${ctlMaint.port} }
  - { id: ctl-2, kind: tcp, country: ZZ, control: true, category: control, host: 127.0.0.1, port: ${ctlMaint.port} }
windows:
  - { name: weekly, kind: maintenance, cron: "${cronAt(examStart)}", duration: 1h }
`,
    );

    await waitFor('KZ up at Prometheus', async () => ((await stack.query('count(lookout_target_up{country="KZ"} == 1) == 3')).length > 0 ? true : null), 30_000);
    await waitFor('win-maint online at Prometheus', async () => ((await stack.query('lookout_vantage_online{vantage="win-maint"} == 1')).length > 0 ? true : null), 30_000);
    await Promise.all([closeListener(kz), closeListener(ctlMaint)]);

    // Both fire at Prometheus: without that the absence of a notification would prove nothing.
    const firing = (alert: string, labels = ''): string => `ALERTS{alertname="${alert}", alertstate="firing"${labels}}`;
    await waitFor('LookoutCountryShutdown firing', async () => ((await stack.query(firing('LookoutCountryShutdown', ', country="KZ"'))).length > 0 ? true : null), 30_000);
    await waitFor('LookoutExpectedDisruption firing', async () => ((await stack.query(firing('LookoutExpectedDisruption', ', window="kz-exam"'))).length > 0 ? true : null), 30_000);
    await waitFor('LookoutVantageOffline firing', async () => ((await stack.query(firing('LookoutVantageOffline', ', vantage="win-maint"'))).length > 0 ? true : null), 30_000);
    expect(Date.now(), 'the shutdown must be seen inside the window for this test to mean anything').toBeLessThan(examEnd - 5_000);

    const names = (path: string, until = Infinity): string[] =>
      [...new Set(stack.alerts().filter((a) => a.path === path && a.status === 'firing' && a.at < until).map((a) => `${a.labels.alertname}/${a.labels.vantage ?? '-'}/${a.labels.country ?? '-'}`))].sort();
    await waitFor('the announced cut at warning', () => (names('/warning').includes('LookoutExpectedDisruption/win-exam/KZ') ? true : null), 20_000);
    // Several group intervals (1 s) for a held-back alert to show up if it were not held back.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(names('/critical')).toEqual([]);
    expect(names('/warning')).toEqual(['LookoutExpectedDisruption/win-exam/KZ', 'LookoutMaintenanceWindow/win-maint/-']);

    // The window ends with KZ still dark: the overrun pages critical.
    await waitFor('LookoutExpectedCutOverran at critical', () => (names('/critical').includes('LookoutExpectedCutOverran/win-exam/KZ') ? true : null), Math.max(0, examEnd - Date.now()) + 30_000);
    const overran = stack.alerts().find((a) => a.labels.alertname === 'LookoutExpectedCutOverran');
    expect(overran?.at).toBeGreaterThanOrEqual(examEnd);
    expect(overran?.labels).toMatchObject({ severity: 'critical', window: 'kz-exam', kind: 'shutdown', country: 'KZ' });
    // The maintenance vantage never paged, before or after.
    expect(stack.alerts().filter((a) => a.labels.alertname === 'LookoutVantageOffline')).toEqual([]);
  });
});
