/**
 * The blackbox_exporter side: its modules (http_2xx, tcp_connect, dns over UDP, dns over TLS,
 * icmp; it has no DoH prober, so doh has no module), the exporter
 * process, and a driver that calls /probe?target=&module= the way Prometheus does, each target
 * once per interval N/rate with the calls spread evenly, and counts the completed probes.
 * The driver runs in the benchmark's own process; only the exporter's CPU is measured.
 */
import { performance } from 'node:perf_hooks';
import { clearInterval, setInterval } from 'node:timers';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { start, type Child } from '../common/children.js';
import { DNS_QUERY_NAME, targetFor, type BenchKind } from '../common/targets.js';

export const BLACKBOX_BIN = 'prometheus-blackbox-exporter';
export const BLACKBOX_LISTEN = '127.0.0.1:19115';
export const MODULES: Partial<Record<BenchKind, string>> = { http: 'http_2xx', tcp: 'tcp_connect', dns: 'dns', dot: 'dns_tls', icmp: 'icmp' };
/** The scrape timeout announced to the exporter, as Prometheus does in a header. */
const SCRAPE_TIMEOUT_S = 5;
/** At most this many /probe calls in flight; a call past it is skipped and counted. */
const MAX_IN_FLIGHT = 256;

// http: a new client per probe, so every probe is a fresh connection (no reuse across probes).
const CONFIG = `modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  tcp_connect:
    prober: tcp
    timeout: 5s
    tcp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  dns:
    prober: dns
    timeout: 5s
    dns:
      query_name: ${DNS_QUERY_NAME}
      query_type: A
      transport_protocol: udp
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  dns_tls:
    prober: dns
    timeout: 5s
    dns:
      query_name: ${DNS_QUERY_NAME}
      query_type: A
      transport_protocol: tcp
      dns_over_tls: true
      tls_config:
        insecure_skip_verify: true
  icmp:
    prober: icmp
    timeout: 5s
    icmp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
`;

/** First line of `prometheus-blackbox-exporter --version`. */
export function blackboxVersion(): string {
  // It prints its version on stderr (older builds) or stdout.
  const out = execFileSync('sh', ['-c', `${BLACKBOX_BIN} --version 2>&1`], { encoding: 'utf8' });
  return (out.split('\n')[0] ?? '').trim();
}

/** Starts the exporter with the modules above; resolves once it answers /-/healthy. */
export async function startBlackbox(dir: string, readyMs = 15_000): Promise<Child> {
  const configPath = join(dir, 'blackbox.yml');
  writeFileSync(configPath, CONFIG);
  const child = start('blackbox_exporter', BLACKBOX_BIN, [`--config.file=${configPath}`, `--web.listen-address=${BLACKBOX_LISTEN}`, '--log.level=warn']);
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null) throw new Error(`blackbox_exporter exited (${child.proc.exitCode})\n${child.tail()}`);
    try {
      const res = await fetch(`http://${BLACKBOX_LISTEN}/-/healthy`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return child;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`blackbox_exporter not healthy after ${readyMs} ms\n${child.tail()}`);
}

/** Cumulative counts of the driver's /probe calls. */
export interface BlackboxCounts {
  probes: number;
  failed: number;
  skipped: number;
}

/**
 * Calls /probe for N targets of `kind` at `rate` calls per second in total (target i first at
 * i/rate s, then every N/rate s). Returns { counts(), stop() }; counts() gives the cumulative
 * { probes (completed calls), failed (probe_success not 1 or call failed), skipped }.
 */
export function driveBlackbox(kind: BenchKind, n: number, rate: number): { counts: () => Promise<BlackboxCounts>; stop: () => void } {
  const module = MODULES[kind];
  if (module === undefined) throw new Error(`blackbox_exporter has no prober for ${kind}`);
  const urls = Array.from({ length: n }, (_, i) => `http://${BLACKBOX_LISTEN}/probe?target=${encodeURIComponent(targetFor(kind, i).blackbox ?? '')}&module=${module}`);
  const headers = { 'X-Prometheus-Scrape-Timeout-Seconds': String(SCRAPE_TIMEOUT_S), Accept: 'text/plain;version=0.0.4' };
  const counts: BlackboxCounts = { probes: 0, failed: 0, skipped: 0 };
  let issued = 0;
  let inFlight = 0;
  const t0 = performance.now();

  async function probe(url: string): Promise<void> {
    inFlight++;
    try {
      const res = await fetch(url, { headers, signal: AbortSignal.timeout((SCRAPE_TIMEOUT_S + 2) * 1000) });
      const text = await res.text();
      counts.probes++;
      if (!res.ok || !/^probe_success 1$/m.test(text)) counts.failed++;
    } catch {
      counts.probes++;
      counts.failed++;
    } finally {
      inFlight--;
    }
  }

  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; issued < due; issued++) {
      if (inFlight >= MAX_IN_FLIGHT) {
        counts.skipped++;
        continue;
      }
      void probe(urls[issued % n] as string);
    }
  }, 5);

  return {
    counts: () => Promise.resolve({ ...counts }),
    stop: () => clearInterval(timer),
  };
}
