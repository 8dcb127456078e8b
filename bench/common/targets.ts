/**
 * The benchmark's target plan: target i lives on its own loopback address 127.20.a.b, with an
 * HTTP server on HTTP_PORT, a DNS server on DNS_PORT, a DNS-over-TLS server on DOT_PORT and a
 * DNS-over-HTTPS server on DOH_PORT. Everything is in 127.0.0.0/8.
 */
export const HTTP_PORT = 8080;
export const DNS_PORT = 5353;
export const DOT_PORT = 853;
export const DOH_PORT = 8443;
export const DNS_QUERY_NAME = 'bench.test';
/** Largest supported N (127.20.0.1 .. 127.20.199.250). */
export const MAX_TARGETS = 200 * 250;

/** Loopback address of target i (0-based). */
export function targetAddress(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_TARGETS) throw new Error(`target index out of range: ${i}`);
  return `127.20.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** The kinds of target the benchmarks' servers answer. */
export type BenchKind = 'http' | 'tcp' | 'dns' | 'dot' | 'doh' | 'icmp';

/** Target i of a kind: Lookout's config fields (written to a config file as JSON) and blackbox's ?target= (null: no blackbox prober). */
export interface BenchTarget {
  lookout: { kind: BenchKind } & Record<string, unknown>;
  blackbox: string | null;
}

/** How each prober names target i of a kind: Lookout's config fields and blackbox's ?target=. */
export function targetFor(kind: string, i: number): BenchTarget {
  const host = targetAddress(i);
  switch (kind) {
    case 'http':
      return { lookout: { kind: 'http', url: `http://${host}:${HTTP_PORT}/` }, blackbox: `http://${host}:${HTTP_PORT}/` };
    case 'tcp':
      return { lookout: { kind: 'tcp', host, port: HTTP_PORT }, blackbox: `${host}:${HTTP_PORT}` };
    case 'dns':
      return {
        lookout: {
          kind: 'dns',
          server: `${host}:${DNS_PORT}`,
          query: { name: DNS_QUERY_NAME, type: 'A' },
          // The answer is 127.0.0.1 (a bogon by default); say it is the expected one.
          expect: { rcode: 'NOERROR', answers_in: ['127.0.0.0/8'] },
        },
        blackbox: `${host}:${DNS_PORT}`,
      };
    case 'dot':
      return {
        lookout: {
          kind: 'dot',
          server: `${host}:${DOT_PORT}`,
          // The servers' certificate is self-signed, for blackbox_exporter too.
          insecure_skip_verify: true,
          query: { name: DNS_QUERY_NAME, type: 'A' },
          expect: { rcode: 'NOERROR', answers_in: ['127.0.0.0/8'] },
        },
        blackbox: `${host}:${DOT_PORT}`,
      };
    case 'doh':
      return {
        lookout: {
          kind: 'doh',
          url: `https://${host}:${DOH_PORT}/dns-query`,
          insecure_skip_verify: true,
          query: { name: DNS_QUERY_NAME, type: 'A' },
          expect: { rcode: 'NOERROR', answers_in: ['127.0.0.0/8'] },
        },
        // blackbox_exporter has no DoH prober (its issue #647).
        blackbox: null,
      };
    case 'icmp':
      // The kernel answers echo on every loopback address: no server needed.
      return { lookout: { kind: 'icmp', host }, blackbox: host };
    default:
      throw new Error(`unsupported kind: ${kind}`);
  }
}
