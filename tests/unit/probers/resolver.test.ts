import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../../../src/probers/failure.js';
import { createResolver } from '../../../src/probers/resolver.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';

// Only the loopback fake server is ever asked; the system resolver path (getaddrinfo) is not
// exercised here because it may consult the host's configured name servers.

let dns: FakeDnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    'both.test': { kind: 'answer', A: ['198.51.100.7', '198.51.100.8'], AAAA: ['2001:db8::7'] },
    'v6only.test': { kind: 'answer', AAAA: ['2001:db8::9'] },
    'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' },
    'servfail.test': { kind: 'rcode', rcode: 'SERVFAIL' },
    'refused.test': { kind: 'rcode', rcode: 'REFUSED' },
    'empty.test': { kind: 'empty' },
    'silent.test': { kind: 'silent' },
  });
});

afterAll(async () => {
  await dns.close();
});

const never = (): AbortSignal => new AbortController().signal;

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('createResolver with servers', () => {
  it('resolves A and AAAA through the given server, A first', async () => {
    const resolver = createResolver([dns.address]);
    expect(await resolver.resolve('both.test', never())).toEqual(['198.51.100.7', '198.51.100.8', '2001:db8::7']);
    expect(await resolver.resolve('v6only.test', never())).toEqual(['2001:db8::9']);
    expect(dns.count('udp', 'both.test')).toBe(2);
  });

  it('rejects NXDOMAIN with ENOTFOUND, classified dns_nxdomain', async () => {
    const err = await rejection(createResolver([dns.address]).resolve('nx.test', never()));
    expect(err).toMatchObject({ code: 'ENOTFOUND' });
    expect(classifyError(err, 'dns')).toBe('dns_nxdomain');
  });

  it('rejects SERVFAIL with ESERVFAIL, classified dns_servfail', async () => {
    const err = await rejection(createResolver([dns.address], { tries: 1 }).resolve('servfail.test', never()));
    expect(err).toMatchObject({ code: 'ESERVFAIL' });
    expect(classifyError(err, 'dns')).toBe('dns_servfail');
  });

  it('rejects REFUSED with EREFUSED, classified dns_refused', async () => {
    const err = await rejection(createResolver([dns.address], { tries: 1 }).resolve('refused.test', never()));
    expect(err).toMatchObject({ code: 'EREFUSED' });
    expect(classifyError(err, 'dns')).toBe('dns_refused');
  });

  it('rejects a name without addresses with ENODATA, classified dns_no_answer', async () => {
    const err = await rejection(createResolver([dns.address]).resolve('empty.test', never()));
    expect(err).toMatchObject({ code: 'ENODATA' });
    expect(classifyError(err, 'dns')).toBe('dns_no_answer');
  });

  it('rejects with ETIMEOUT when the server stays silent, classified dns_timeout', async () => {
    const resolver = createResolver([dns.address], { attemptTimeoutMs: 100, tries: 1 });
    const err = await rejection(resolver.resolve('silent.test', never()));
    expect(err).toMatchObject({ code: 'ETIMEOUT' });
    expect(classifyError(err, 'dns')).toBe('dns_timeout');
  });

  it('gives up when the signal aborts, with the signal reason, classified dns_timeout', async () => {
    const resolver = createResolver([dns.address], { attemptTimeoutMs: 5000, tries: 4 });
    const started = Date.now();
    const err = await rejection(resolver.resolve('silent.test', AbortSignal.timeout(200)));
    expect(err).toMatchObject({ name: 'TimeoutError' });
    expect(classifyError(err, 'dns')).toBe('dns_timeout');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('rejects at once for an already aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const before = dns.count();
    const err = await rejection(createResolver([dns.address]).resolve('both.test', ac.signal));
    expect(classifyError(err, 'dns')).toBe('dns_timeout');
    expect(dns.count()).toBe(before);
  });

  it('does not let one probe abort cancel another probe’s query', async () => {
    const resolver = createResolver([dns.address]);
    const ac = new AbortController();
    const aborted = rejection(resolver.resolve('silent.test', ac.signal));
    const other = resolver.resolve('both.test', never());
    ac.abort();
    expect(classifyError(await aborted, 'dns')).toBe('dns_timeout');
    expect(await other).toContain('198.51.100.7');
  });
});

describe('createResolver with IP literals', () => {
  it('returns an IP literal as is without any query', async () => {
    const before = dns.count();
    for (const resolver of [createResolver([dns.address]), createResolver()]) {
      expect(await resolver.resolve('203.0.113.9', never())).toEqual(['203.0.113.9']);
      expect(await resolver.resolve('2001:db8::1', never())).toEqual(['2001:db8::1']);
      expect(await resolver.resolve('[2001:db8::2]', never())).toEqual(['2001:db8::2']);
    }
    expect(dns.count()).toBe(before);
  });
});
