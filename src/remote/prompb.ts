/**
 * Prometheus remote write 1.0 on the wire: the prompb WriteRequest (only the fields Lookout
 * sends: labels and float samples) as protobuf, in the snappy block format. protobufjs builds
 * the codec from the schema text at load time; snappyjs is a pure-JS snappy (no native addon to
 * build or fetch for each Node version and platform, and fast enough: see bench/RESULTS.md).
 *
 * A series' labels are the same in every batch, so their protobuf is built once per label list
 * and kept (see encodeWriteRequest): a series has a sample or three per batch, so its labels are
 * most of its bytes, and encoding them afresh each time cost about a third more CPU
 * (bench/remote-write/encode-cost.ts).
 */
import protobuf from 'protobufjs';
import snappy from 'snappyjs';

/**
 * The subset of prometheus/prompb (types.proto, remote.proto) that remote write 1.0 needs, and
 * three wire-compatible views of it that let a series' labels be encoded once:
 * - TimeSeriesLabels and TimeSeriesSamples are a TimeSeries' field 1 and field 2 alone. A
 *   message on the wire is the sequence of its fields, so one's bytes followed by the other's
 *   are that TimeSeries, byte for byte as protobufjs writes it (fields in number order).
 * - WriteRequestEncoded carries each TimeSeries already encoded: a `bytes` field and an embedded
 *   message are both wire type 2 (a length, then the bytes), so it is the same WriteRequest.
 */
const SCHEMA = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message TimeSeriesLabels { repeated Label labels = 1; }
message TimeSeriesSamples { repeated Sample samples = 2; }
message WriteRequestEncoded { repeated bytes timeseries = 1; }
`;

const root = protobuf.parse(SCHEMA, { keepCase: true }).root;
const TimeSeriesLabelsType = root.lookupType('prometheus.TimeSeriesLabels');
const TimeSeriesSamplesType = root.lookupType('prometheus.TimeSeriesSamples');
const WriteRequestEncodedType = root.lookupType('prometheus.WriteRequestEncoded');

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

export interface Sample {
  value: number;
  timestamp: number;
}

/** One series of a WriteRequest: labels sorted by name (with __name__), samples in time order. */
export interface TimeSeries {
  labels: readonly Label[];
  samples: readonly Sample[];
}

/**
 * Encoded labels by label list. Keyed by the array, so a caller that keeps a series' label list
 * (the queue does, per segment) encodes it once; the entry goes when the list does.
 */
const encodedLabels = new WeakMap<readonly Label[], Uint8Array>();
/**
 * Reused for every request: all its series' samples, one after another. Replaced when an encode
 * fails, since it may then hold an open fork that reset() would return to.
 */
let samplesWriter = protobuf.Writer.create();

/**
 * The request body: the WriteRequest as protobuf, snappy-compressed (block format). A label
 * list's encoding is kept for the next call with the same array, so callers must not change a
 * label list once they have passed it here.
 */
export function encodeWriteRequest(timeseries: readonly TimeSeries[]): Uint8Array {
  const n = timeseries.length;
  const labels = new Array<Uint8Array>(n);
  const samplesEnd = new Array<number>(n);
  samplesWriter.reset();
  let bytes = 0;
  try {
    for (let i = 0; i < n; i++) {
      const ts = timeseries[i] as TimeSeries;
      let encoded = encodedLabels.get(ts.labels);
      if (encoded === undefined) {
        encoded = TimeSeriesLabelsType.encode({ labels: ts.labels }).finish();
        encodedLabels.set(ts.labels, encoded);
      }
      labels[i] = encoded;
      TimeSeriesSamplesType.encode({ samples: ts.samples }, samplesWriter);
      samplesEnd[i] = samplesWriter.pos;
      bytes += encoded.length;
    }
  } catch (err) {
    samplesWriter = protobuf.Writer.create();
    throw err;
  }
  const samples = samplesWriter.finish(true);
  // Every series' bytes (its labels, then its samples) in one buffer, handed over as views.
  const all = new Uint8Array(bytes + samples.length);
  const series = new Array<Uint8Array>(n);
  let at = 0;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i] as Uint8Array;
    const to = samplesEnd[i] as number;
    all.set(l, at);
    all.set(samples.subarray(from, to), at + l.length);
    const end = at + l.length + (to - from);
    series[i] = all.subarray(at, end);
    at = end;
    from = to;
  }
  return snappy.compress(WriteRequestEncodedType.encode({ timeseries: series }).finish());
}
