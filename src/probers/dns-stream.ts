/**
 * DNS over a stream (RFC 1035 4.2.2 framing: a 2-byte length before each message): the one
 * query-and-answer exchange of the dns prober's TCP retry and of the dot prober (over TLS).
 */
import type { Duplex } from 'node:stream';
import * as dnsPacket from 'dns-packet';
import { abortable, type Deadline } from './deadline.js';
import { matchResponse, type DnsMessage, type Rejected } from './dns-answer.js';

/** Error code of a stream that ended before the answer came (the server closed the connection). */
const CLOSED_CODE = 'LOOKOUT_DNS_STREAM_CLOSED';

/**
 * Sends `query` on the connected `stream` (DNS-over-TCP framing) and resolves with the first
 * framed message that is the response to it; messages that are not (another id or question,
 * undecodable) are counted in `rejected` and skipped. Rejects with the stream's error, with a
 * CLOSED_CODE error when the stream ends first, or with the deadline's reason. Never destroys
 * the stream.
 */
export function exchangeFramed(stream: Duplex, query: dnsPacket.Packet, deadline: Deadline, rejected: Rejected): Promise<DnsMessage> {
  let cleanup = (): void => undefined;
  return abortable<DnsMessage>(
    deadline,
    (resolve, reject) => {
      let buffered: Buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2) {
          const length = buffered.readUInt16BE(0);
          if (buffered.length < 2 + length) return;
          const response = matchResponse(buffered.subarray(2, 2 + length), query, rejected);
          buffered = buffered.subarray(2 + length);
          if (response) {
            cleanup();
            resolve(response);
            return;
          }
        }
      };
      const onError = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const onEnd = (): void => {
        cleanup();
        reject(Object.assign(new Error('server closed the connection before answering'), { code: CLOSED_CODE }));
      };
      cleanup = (): void => {
        stream.off('data', onData);
        stream.off('error', onError);
        stream.off('end', onEnd);
        stream.off('close', onEnd);
      };
      stream.on('data', onData);
      stream.once('error', onError);
      stream.once('end', onEnd);
      stream.once('close', onEnd);
      // write, not end: a half-closed connection is dropped unanswered by some servers.
      stream.write(dnsPacket.streamEncode(query));
    },
    () => cleanup(),
  );
}

/** True for exchangeFramed's rejection when the stream ended before the answer came. */
export function closedBeforeAnswer(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === CLOSED_CODE;
}
