import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import snappy from 'snappyjs';
import { encodeWriteRequest, type TimeSeries } from '../../../src/remote/prompb.js';
import { decodeWriteRequest, encodeWriteRequestReference } from '../../fixtures/prompb-reference.mjs';

const label = fc.record({ name: fc.string({ minLength: 1, maxLength: 12 }), value: fc.string({ unit: 'grapheme', maxLength: 40 }) });
const sample = fc.record({
  value: fc.oneof(fc.double(), fc.constantFrom(0, 1, -0, Infinity, -Infinity, NaN)),
  timestamp: fc.integer({ min: -(2 ** 41), max: 2 ** 53 - 1 }),
});
const series = fc.array(fc.record({ labels: fc.array(label, { maxLength: 8 }), samples: fc.array(sample, { maxLength: 6 }) }), { maxLength: 20 });

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

  it('writes byte for byte what the full schema writes, also when the label encodings are reused', () => {
    fc.assert(
      fc.property(series, fc.array(fc.array(sample, { maxLength: 6 }), { maxLength: 20 }), (first, laterSamples) => {
        expect(Buffer.from(snappy.uncompress(encodeWriteRequest(first)))).toEqual(Buffer.from(encodeWriteRequestReference(first)));
        // The same label arrays again with other samples: the kept label bytes go out.
        const second = first.map((ts, i) => ({ labels: ts.labels, samples: laterSamples[i] ?? [] }));
        expect(Buffer.from(snappy.uncompress(encodeWriteRequest(second)))).toEqual(Buffer.from(encodeWriteRequestReference(second)));
      }),
      { numRuns: 300 },
    );
  });

  it('encodes a series without samples and a request without series', () => {
    const none = encodeWriteRequest([]);
    expect(decodeWriteRequest(none)).toEqual([]);
    const empty: TimeSeries[] = [{ labels: [{ name: '__name__', value: 'a' }], samples: [] }];
    expect(decodeWriteRequest(encodeWriteRequest(empty))).toEqual(empty);
  });

  it('encodes correctly again after an encode that failed half-way', () => {
    const labels = [{ name: '__name__', value: 'a' }];
    const bad = { timestamp: 1 } as { value: number; timestamp: number };
    Object.defineProperty(bad, 'value', {
      enumerable: true,
      get() {
        throw new Error('unreadable sample');
      },
    });
    expect(() => encodeWriteRequest([{ labels, samples: [{ value: 1, timestamp: 0 }, bad] }])).toThrow('unreadable sample');
    const good: TimeSeries[] = [{ labels, samples: [{ value: 2, timestamp: 3 }] }];
    expect(Buffer.from(snappy.uncompress(encodeWriteRequest(good)))).toEqual(Buffer.from(encodeWriteRequestReference(good)));
  });

  it('rejects a body that is not snappy', () => {
    expect(() => decodeWriteRequest(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow();
  });
});
