import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { classifyError, describeError, type FailurePhase } from '../../../src/probers/failure.js';
import { createResolver } from '../../../src/probers/resolver.js';
import { startDnsServer, type FakeDnsServer } from '../../fixtures/dns-server.js';
import { closedPort, faultServer, listen, type Running } from '../../fixtures/servers.js';
import { makeTestCerts, type TestCerts } from '../../fixtures/tls-certs.js';

// Every error here is captured from a real socket on loopback, then classified directly.

let certs: TestCerts;
let dns: FakeDnsServer;
const servers: Running[] = [];

beforeAll(async () => {
  certs = makeTestCerts();
  dns = await startDnsServer({ 'nx.test': { kind: 'rcode', rcode: 'NXDOMAIN' }, 'servfail.test': { kind: 'rcode', rcode: 'SERVFAIL' } });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await dns.close();
  certs.cleanup();
});

async function serve(server: Parameters<typeof listen>[0]): Promise<number> {
  const s = await listen(server);
  servers.push(s);
  return s.port;
}

/** The error a plain TCP connection to `port` ends with (after writing `send`, if given). */
function tcpError(port: number, send?: string): Promise<Error> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    socket.once('error', resolve);
    socket.once('connect', () => {
      if (send !== undefined) socket.write(send);
    });
    socket.once('close', (hadError) => {
      if (!hadError) reject(new Error('closed without an error'));
    });
  });
}

/** The error a TLS handshake to `port` fails with. */
function tlsError(port: number, servername = 'localhost'): Promise<Error> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, ca: certs.ca });
    socket.once('error', resolve);
    socket.once('secureConnect', () => {
      socket.destroy();
      reject(new Error('handshake succeeded'));
    });
  });
}

async function undiciError(port: number): Promise<unknown> {
  try {
    const res = await request(`http://127.0.0.1:${port}/`);
    await res.body.dump();
  } catch (err) {
    return err;
  }
  throw new Error('request succeeded');
}

async function resolverError(name: string): Promise<unknown> {
  try {
    await createResolver([dns.address]).resolve(name, new AbortController().signal);
  } catch (err) {
    return err;
  }
  throw new Error('resolved');
}

describe('classifyError on real socket errors', () => {
  it('ECONNREFUSED: tcp_refused while connecting', async () => {
    const err = await tcpError(await closedPort());
    expect(classifyError(err, 'connect')).toBe('tcp_refused');
    expect(describeError(err)).toMatch(/^ECONNREFUSED: /);
  });

  it('ECONNRESET is a reset of the phase it happened in', async () => {
    const onAccept = await tcpError(await serve(faultServer('reset')));
    expect(classifyError(onAccept, 'connect')).toBe('tcp_reset');
    const afterData = await tcpError(await serve(faultServer('read-reset')), 'GET / HTTP/1.1\r\n\r\n');
    const expected: Record<FailurePhase, string> = { dns: 'dns_timeout', connect: 'tcp_reset', tls: 'tls_reset', http: 'http_reset' };
    for (const phase of ['dns', 'connect', 'tls', 'http'] as const) expect(classifyError(afterData, phase)).toBe(expected[phase]);
  });

  it('TLS: a received alert, a clean close, a reset, a bad certificate', async () => {
    expect(classifyError(await tlsError(await serve(faultServer('alert'))), 'tls')).toBe('tls_alert');
    expect(classifyError(await tlsError(await serve(faultServer('read-end'))), 'tls')).toBe('tls_eof');
    expect(classifyError(await tlsError(await serve(faultServer('read-reset'))), 'tls')).toBe('tls_reset');
    const selfSigned = await serve(createTlsServer(certs.selfSigned));
    expect(classifyError(await tlsError(selfSigned), 'tls')).toBe('tls_cert_invalid');
    const expired = await serve(createTlsServer(certs.expired));
    expect(classifyError(await tlsError(expired), 'tls')).toBe('tls_cert_invalid');
    const leaf = await serve(createTlsServer(certs.leaf));
    expect(classifyError(await tlsError(leaf, 'www.example.test'), 'tls')).toBe('tls_cert_invalid');
  });

  it('undici: a response that never comes because the server reset or closed is http_reset', async () => {
    expect(classifyError(await undiciError(await serve(faultServer('read-reset'))), 'http')).toBe('http_reset');
    expect(classifyError(await undiciError(await serve(faultServer('read-end'))), 'http')).toBe('http_reset');
  });

  it('resolver errors map with phase dns', async () => {
    expect(classifyError(await resolverError('nx.test'), 'dns')).toBe('dns_nxdomain');
    expect(classifyError(await resolverError('servfail.test'), 'dns')).toBe('dns_servfail');
  });

  it('a deadline (TimeoutError) or an abort is the timeout of the phase in progress', () => {
    const timeout = new DOMException('probe timed out', 'TimeoutError');
    const abort = new DOMException('probe aborted', 'AbortError');
    for (const err of [timeout, abort]) {
      expect(classifyError(err, 'dns')).toBe('dns_timeout');
      expect(classifyError(err, 'connect')).toBe('tcp_timeout');
      expect(classifyError(err, 'tls')).toBe('tls_timeout');
      expect(classifyError(err, 'http')).toBe('http_timeout');
    }
  });

  it('an error nothing recognises is unknown; causes are searched', () => {
    expect(classifyError(new Error('something else'), 'http')).toBe('unknown');
    expect(classifyError('a string', 'connect')).toBe('unknown');
    const wrapped = new Error('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });
    expect(classifyError(wrapped, 'http')).toBe('http_reset');
    expect(describeError(wrapped)).toBe('fetch failed <- ECONNRESET: read ECONNRESET');
  });
});

describe('classifyError: protocol errors (shapes of errors hard to provoke on loopback; hostile.test.ts provokes the rest)', () => {
  const err = (fields: Record<string, unknown>): Error => Object.assign(new Error('x'), fields);

  it('undici parser and size errors are http_protocol_error', () => {
    expect(classifyError(err({ name: 'HTTPParserError', message: 'Response does not match the HTTP/1.1 protocol' }), 'http')).toBe('http_protocol_error');
    expect(classifyError(err({ code: 'HPE_INVALID_CHUNK_SIZE' }), 'http')).toBe('http_protocol_error');
    expect(classifyError(err({ code: 'UND_ERR_HEADERS_OVERFLOW' }), 'http')).toBe('http_protocol_error');
    expect(classifyError(err({ code: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' }), 'http')).toBe('http_protocol_error');
  });

  it('OpenSSL: a received alert is tls_alert, any other OpenSSL error tls_protocol_error', () => {
    expect(classifyError(err({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }), 'tls')).toBe('tls_alert');
    expect(classifyError(err({ code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE' }), 'tls')).toBe('tls_alert');
    expect(classifyError(err({ code: 'ERR_SSL_WRONG_VERSION_NUMBER' }), 'tls')).toBe('tls_protocol_error');
    // Warning alerts by the thousand are abuse of the protocol, not an alert that ended it.
    expect(classifyError(err({ code: 'ERR_SSL_TOO_MANY_WARN_ALERTS', message: 'too many warn alerts' }), 'tls')).toBe('tls_protocol_error');
    expect(classifyError(err({ code: 'ERR_SSL_EXCESSIVE_MESSAGE_SIZE' }), 'tls')).toBe('tls_protocol_error');
  });

  it('c-ares: a reply it cannot parse is dns_malformed; FORMERR and NOTIMP are dns_servfail', () => {
    expect(classifyError(err({ code: 'EBADRESP' }), 'dns')).toBe('dns_malformed');
    expect(classifyError(err({ code: 'EFORMERR' }), 'dns')).toBe('dns_servfail');
    expect(classifyError(err({ code: 'ENOTIMP' }), 'dns')).toBe('dns_servfail');
  });
});
