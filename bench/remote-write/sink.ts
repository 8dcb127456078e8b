/**
 * A loopback remote write sink for the probe-path benchmarks: reads each request's body and
 * answers 204, counting requests and body bytes (nothing is decoded: the sink's own cost must
 * not matter, and it runs in the benchmark's process, which is not measured).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A started sink: where to send, what it received so far, and how to close it. */
export interface Sink {
  url: string;
  /** Cumulative { requests, bytes } received. */
  counts: () => { requests: number; bytes: number };
  close: () => Promise<void>;
}

export async function startSink(): Promise<Sink> {
  const counts = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    counts.requests++;
    req.on('data', (chunk: Buffer) => {
      counts.bytes += chunk.length;
    });
    req.on('end', () => {
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`,
    counts: () => ({ ...counts }),
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
