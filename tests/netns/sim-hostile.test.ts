/**
 * The simulated world's `hostile` faults, for real: a World inside the private namespace of
 * scripts/netns-run.sh, each target probed as the daemon would (daemonTarget, the world's
 * resolver) while a middlebox answers in its place, and again once the fault is removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetInput, type ResolvedTarget } from '../../src/config/schema.js';
import type { FailureReason } from '../../src/probers/reasons.js';
import { runProbe } from '../../src/probers/registry.js';
import { createResolver } from '../../src/probers/resolver.js';
import type { HostileBehaviour } from '../../src/sim/hostile.js';
import { parseScenario, type Fault } from '../../src/sim/scenario.js';
import { daemonTarget, RESOLVER_ADDRESS, World, type WorldTarget } from '../../src/sim/world.js';

const SCENARIO = `
name: hostile
world:
  controls: 1
  countries:
    - code: KZ
      asns: [9198]
      targets:
        - { name: web, kind: http, category: news }
        - { name: sec, kind: https, category: news }
        - { name: hs, kind: tls, category: news }
        - { name: port, kind: tcp, category: news }
        - { name: ns, kind: dns, category: dns }
duration: 60s
`;

const TIMEOUT_MS = 1000;
let world: World;

function resolved(t: WorldTarget): ResolvedTarget {
  const parsed = TargetInput.parse(daemonTarget(t));
  return { ...parsed, country: t.country, category: t.category, control: t.control, file: 'world' };
}

async function probe(id: string): Promise<{ reason: FailureReason | null; detail: string | undefined }> {
  const t = world.targets.find((x) => x.id === id);
  if (!t) throw new Error(`no target ${id}`);
  const r = await runProbe(resolved(t), {
    timeoutMs: TIMEOUT_MS,
    signal: new AbortController().signal,
    resolver: createResolver([`${RESOLVER_ADDRESS}:53`], { attemptTimeoutMs: 400, tries: 1 }),
  });
  return { reason: r.reason, detail: r.detail };
}

let n = 0;
function fault(behaviour: HostileBehaviour, target: string): Fault {
  n++;
  return { id: `hostile-${n}`, fault: 'hostile', behaviour, at: 0, scope: { target } };
}

beforeAll(async () => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  world = await World.start(parseScenario(SCENARIO, 'hostile.yaml'));
}, 30_000);

afterAll(async () => {
  await world?.close();
});

/** [behaviour, target, reason while active]; every target is ok before and after. */
const CASES: [HostileBehaviour, string, FailureReason | null][] = [
  ['http_garbage', 'kz-web-1', 'http_protocol_error'],
  ['http_09', 'kz-web-1', 'http_protocol_error'],
  ['http_endless_headers', 'kz-web-1', 'http_protocol_error'],
  ['http_huge_header', 'kz-sec-1', 'http_protocol_error'],
  ['http_bad_chunked', 'kz-sec-1', 'http_protocol_error'],
  ['http_endless_body', 'kz-web-1', 'http_body_mismatch'],
  ['http_slow_headers', 'kz-web-1', 'http_timeout'],
  ['tls_garbage', 'kz-hs-1', 'tls_protocol_error'],
  ['tls_huge_chain', 'kz-sec-1', 'tls_protocol_error'],
  ['tls_alert_storm', 'kz-hs-1', 'tls_protocol_error'],
  ['tcp_silent', 'kz-hs-1', 'tls_timeout'],
  ['tcp_reset_after_data', 'kz-web-1', 'http_reset'],
  ['tcp_silent', 'kz-port-1', null],
  ['dns_compression_loop', 'kz-ns-1', 'dns_malformed'],
  ['dns_short', 'kz-ns-1', 'dns_malformed'],
  ['dns_truncated', 'kz-web-1', 'dns_malformed'],
  ['dns_wrong_id', 'kz-ns-1', 'dns_mismatch'],
  ['dns_wrong_question', 'kz-ns-1', 'dns_mismatch'],
  ['dns_forged_first', 'kz-ns-1', null],
  // The world's dns targets expect their own address only: the filler is outside answers_in.
  ['dns_huge', 'kz-ns-1', 'dns_unexpected_answer'],
];

describe('simulate: hostile faults in the world', () => {
  it('every target answers normally without a fault', async () => {
    for (const id of ['kz-web-1', 'kz-sec-1', 'kz-hs-1', 'kz-port-1', 'kz-ns-1']) expect((await probe(id)).reason, id).toBeNull();
  });

  for (const [behaviour, target, reason] of CASES) {
    it(`${behaviour} on ${target}: ${reason ?? 'ok'} while active, ok once removed`, async () => {
      const f = fault(behaviour, target);
      await world.apply(f);
      try {
        const r = await probe(target);
        expect(r.reason, r.detail).toBe(reason);
      } finally {
        await world.remove(f.id);
      }
      const after = await probe(target);
      expect(after.reason, after.detail).toBeNull();
    });
  }
});
