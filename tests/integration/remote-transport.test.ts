/**
 * The remote write sender's HTTP transport (a worker thread running undici) against real
 * loopback receivers: answers, refused connections, timeouts, aborts and closing.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWriteRequest, type TimeSeries } from '../../src/remote/prompb.js';
import { decodeWriteRequest } from '../fixtures/prompb-reference.mjs';
import { HttpTransport, TransportError } from '../../src/remote/transport.js';
import { freePort } from '../fixtures/stack.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const SERIES: TimeSeries[] = [
  {
    labels: [
      { name: '__name__', value: 'lookout_probe_success' },
      { name: 'target', value: 'kz-news' },
      { name: 'vantage', value: 'kz-1' },
    ],
    samples: [
      { value: 1, timestamp: 1_700_000_000_123 },
      { value: 0, timestamp: 1_700_000_060_123 },
    ],
  },
  { labels: [{ name: '__name__', value: 'lookout_vantage_online' }], samples: [{ value: 1, timestamp: 1_700_000_060_000 }] },
];

const BODY = encodeWriteRequest(SERIES);

/** A receiver that answers each request after `delayMs` with `status`, a long body and Retry-After. */
async function receiver(status: number, delayMs = 0): Promise<{ url: string; bodies: Buffer[] }> {
  const bodies: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      setTimeout(() => {
        res.statusCode = status;
        res.setHeader('retry-after', '7');
        res.end(`answer ${status} `.repeat(100));
      }, delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1/write`, bodies };
}

function transport(timeoutMs = 5000): HttpTransport {
  const t = new HttpTransport({ rejectUnauthorized: true, timeoutMs, bodyExcerpt: 32 });
  cleanups.push(() => t.close());
  return t;
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportError);
  return err as TransportError;
}

describe('remote write transport (worker thread)', () => {
  it('posts the body, and returns the status, Retry-After and the start of the body', async () => {
    const rx = await receiver(503);
    const t = transport();
    const answer = await t.post(rx.url, { 'content-type': 'application/x-protobuf' }, encodeWriteRequest(SERIES), new AbortController().signal);
    expect(answer).toEqual({ status: 503, retryAfter: '7', body: 'answer 503 answer 503 answer 503' });
    expect(rx.bodies).toHaveLength(1);
    expect(decodeWriteRequest(rx.bodies[0] as Buffer)).toEqual(SERIES);
  });

  it('names a refused connection and a timeout by their codes', async () => {
    const t = transport(300);
    const closed = await freePort();
    const refused = await rejection(t.post(`http://127.0.0.1:${closed}/api/v1/write`, {}, BODY, new AbortController().signal));
    expect(refused.code).toBe('ECONNREFUSED');
    const slow = await receiver(204, 2000);
    const timedOut = await rejection(t.post(slow.url, {}, BODY, new AbortController().signal));
    expect(timedOut.code).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('rejects at once when aborted, and closing fails what is in flight within its grace', async () => {
    const slow = await receiver(204, 5000);
    const t = transport();
    const ac = new AbortController();
    const started = Date.now();
    const aborted = rejection(t.post(slow.url, {}, BODY, ac.signal));
    setTimeout(() => ac.abort(), 100);
    expect((await aborted).code).toBe('UND_ERR_ABORTED');
    expect(Date.now() - started).toBeLessThan(1000);

    const inFlight = rejection(t.post(slow.url, {}, BODY, new AbortController().signal));
    await new Promise((r) => setTimeout(r, 200));
    const closing = Date.now();
    await t.close();
    expect(Date.now() - closing).toBeLessThan(2000);
    expect((await inFlight).code).toMatch(/^(UND_ERR_ABORTED|LOOKOUT_TRANSPORT_GONE)$/);

    // A closed transport starts a new worker for the next request.
    const ok = await receiver(204);
    expect((await t.post(ok.url, {}, BODY, new AbortController().signal)).status).toBe(204);
  });
});
