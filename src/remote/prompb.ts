/**
 * Prometheus remote write 1.0 on the wire: the prompb WriteRequest (only the fields Lookout
 * sends: labels and float samples) as protobuf, in the snappy block format. protobufjs builds
 * the codec from the schema text at load time; snappyjs is a pure-JS snappy (no native addon to
 * build or fetch for each Node version and platform, and fast enough: see bench/RESULTS.md).
 */
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

/** The subset of prometheus/prompb (types.proto, remote.proto) that remote write 1.0 needs. */
const SCHEMA = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;

const WriteRequestType = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('prometheus.WriteRequest');

/** The HTTP headers every remote write 1.0 request carries. */
export const REMOTE_WRITE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
};

export interface Label {
  name: string;
  value: string;
}

/** One series of a WriteRequest: labels sorted by name (with __name__), samples in time order. */
export interface TimeSeries {
  labels: Label[];
  samples: { value: number; timestamp: number }[];
}

/** The request body: the WriteRequest as protobuf, snappy-compressed (block format). */
export function encodeWriteRequest(timeseries: readonly TimeSeries[]): Uint8Array {
  const raw = WriteRequestType.encode({ timeseries }).finish();
  return snappy.compress(raw);
}

/**
 * Decodes a request body (snappy, then protobuf): for tests and test receivers.
 * @throws on a body that is not valid snappy or protobuf
 */
export function decodeWriteRequest(body: Uint8Array): TimeSeries[] {
  const raw = snappy.uncompress(body);
  const msg = WriteRequestType.toObject(WriteRequestType.decode(raw), { longs: Number, defaults: true }) as { timeseries?: TimeSeries[] };
  return (msg.timeseries ?? []).map((ts) => ({ labels: ts.labels, samples: ts.samples.map((s) => ({ value: s.value, timestamp: s.timestamp })) }));
}
