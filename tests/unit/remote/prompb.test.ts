import { describe, expect, it } from 'vitest';
import snappy from 'snappyjs';
import { decodeWriteRequest, encodeWriteRequest, type TimeSeries } from '../../../src/remote/prompb.js';

describe('remote write encoder', () => {
  it('round-trips labels, values and millisecond timestamps through protobuf and snappy', () => {
    const series: TimeSeries[] = [
      {
        labels: [
          { name: '__name__', value: 'lookout_probe_success' },
          { name: 'target', value: 'kz-gov "quoted"\n' },
          { name: 'vantage', value: 'kz-1' },
        ],
        samples: [
          { value: 1, timestamp: 1_764_535_337_123 },
          { value: 0, timestamp: 1_764_535_397_123 },
        ],
      },
      { labels: [{ name: '__name__', value: 'lookout_probe_duration_seconds' }], samples: [{ value: 0.000123, timestamp: 1 }] },
    ];
    const body = encodeWriteRequest(series);
    expect(decodeWriteRequest(body)).toEqual(series);
  });

  it('produces the snappy block format (not framed): the body starts with the varint length of the protobuf', () => {
    const body = encodeWriteRequest([{ labels: [{ name: '__name__', value: 'a' }], samples: [{ value: 2, timestamp: 3 }] }]);
    const raw = snappy.uncompress(body);
    // The first byte of the block format is the uncompressed length as a varint.
    expect(body[0]).toBe(raw.length);
    // Field 1 (timeseries), wire type 2.
    expect(raw[0]).toBe(0x0a);
  });

  it('keeps infinities and NaN values', () => {
    const values = [Infinity, -Infinity, NaN, -0, Number.MAX_VALUE];
    const [ts] = decodeWriteRequest(
      encodeWriteRequest([{ labels: [{ name: '__name__', value: 'a' }], samples: values.map((value, i) => ({ value, timestamp: i })) }]),
    );
    expect(ts?.samples.map((s) => s.value)).toEqual(values);
  });

  it('rejects a body that is not snappy', () => {
    expect(() => decodeWriteRequest(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
  });
});
