import { execFileSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { HttpTarget, TcpTarget, type ResolvedTarget } from '../../src/config/schema.js';
import { createHttpProber } from '../../src/probers/http.js';
import { createResolver } from '../../src/probers/resolver.js';
import { probeTcp } from '../../src/probers/tcp.js';
import type { ProbeContext, ProbeResult } from '../../src/probers/types.js';
import { closedPort } from '../fixtures/servers.js';

// The vantage's own resolver gone, in the private namespace of scripts/netns-run.sh: a
// configured resolver on a loopback port with nothing listening (its query draws an ICMP port
// unreachable), and the system resolver, whose servers cannot be reached from a namespace with
// only loopback and no route (the same as a host whose resolver died). Host-name probes fail
// in milliseconds: that is not "no answer before the deadline" (dns_timeout), it is this host.

// A name in no hosts file: the lookup must ask a server. Never resolvable, and never sent out
// of the namespace (there is no route).
const NAME = 'probe.lookout.invalid';

function base(id: string): Pick<ResolvedTarget, 'id' | 'country' | 'category' | 'control' | 'file'> {
  return { id, country: 'ZZ', category: 'web', control: false, file: 'test' };
}

async function probe(target: ResolvedTarget, servers?: string[]): Promise<ProbeResult> {
  const ctx: ProbeContext = { timeoutMs: 5000, signal: new AbortController().signal, resolver: createResolver(servers) };
  if (target.kind === 'tcp') return probeTcp(target, ctx);
  if (target.kind === 'http') return createHttpProber({})(target, ctx);
  throw new Error(`unexpected kind ${target.kind}`);
}

beforeAll(() => {
  if (process.env.LOOKOUT_NETNS !== '1') throw new Error('tests/netns must run under scripts/netns-run.sh');
  expect(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }).trim()).toBe('');
});

describe("this host's resolver failing", () => {
  it('resolver.servers on a closed loopback port: dns_resolver_unreachable at once, for tcp and http', async () => {
    const servers = [`127.0.0.1:${await closedPort()}`];
    const tcp = await probe({ ...base('tcp-name'), ...TcpTarget.parse({ id: 'tcp-name', kind: 'tcp', host: NAME, port: 443 }) }, servers);
    const http = await probe({ ...base('http-name'), ...HttpTarget.parse({ id: 'http-name', kind: 'http', url: `http://${NAME}/` }) }, servers);
    for (const r of [tcp, http]) {
      expect(r).toMatchObject({ ok: false, reason: 'dns_resolver_unreachable', ip: null });
      expect(r.phases.total ?? 99).toBeLessThan(1);
    }
  });

  it('the system resolver with no reachable server (EAI_AGAIN): dns_temporary_failure at once, for tcp and http', async () => {
    const tcp = await probe({ ...base('tcp-name'), ...TcpTarget.parse({ id: 'tcp-name', kind: 'tcp', host: NAME, port: 443 }) });
    const http = await probe({ ...base('http-name'), ...HttpTarget.parse({ id: 'http-name', kind: 'http', url: `http://${NAME}/` }) });
    for (const r of [tcp, http]) {
      expect(r).toMatchObject({ ok: false, reason: 'dns_temporary_failure', ip: null });
      expect(r.phases.total ?? 99).toBeLessThan(1);
    }
  });
});
