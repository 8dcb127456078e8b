import { describe, expect, it } from 'vitest';
import { asnOutages } from '../../../../src/detect/rules/asn-outage.js';
import { context, tracker } from './fixture.js';

const rest = [tracker('kz-a', 'KZ', 'news', { asn: 9198 }), tracker('kz-b', 'KZ', 'government', { asn: 9198 }), tracker('kz-c', 'KZ', 'banking', { asn: 9198 })];
const asnDown = (reason: 'tcp_timeout' | 'tls_reset', cats = ['news', 'government']) =>
  cats.map((c, i) => tracker(`kz-${i}`, 'KZ', c, { asn: 21299, down: reason }));

describe('rule 4: an ASN outage', () => {
  it('an ASN down while the rest of its country answers, outside-in and from a home elsewhere', () => {
    for (const home of [undefined, 'DE']) {
      expect(asnOutages(context([...asnDown('tcp_timeout'), ...rest], home), new Set())).toMatchObject([
        { kind: 'partial_outage', country: 'KZ', asn: 21299, mechanism: 'blackhole' },
      ]);
    }
  });

  it('not when the rest of the country is a single target (one that stays up proves little)', () => {
    const cdn = [tracker('kz-cdn', 'KZ', 'news', { asn: 13335 })];
    expect(asnOutages(context([...asnDown('tcp_timeout'), ...cdn]), new Set())).toEqual([]);
  });

  it('not while its country is dark', () => {
    expect(asnOutages(context([...asnDown('tcp_timeout'), ...rest]), new Set(['KZ']))).toEqual([]);
  });

  it('from a home elsewhere: interference is blocking, and one category with nothing to compare is not the place', () => {
    expect(asnOutages(context([...asnDown('tls_reset'), ...rest], 'DE'), new Set())).toEqual([]);
    const streamingOnly = [tracker('s-0', 'US', 'streaming', { asn: 13335, down: 'tcp_timeout' }), tracker('s-1', 'US', 'streaming', { asn: 13335, down: 'tcp_timeout' }), tracker('us-n', 'US', 'news', { asn: 7018 }), tracker('us-g', 'US', 'government', { asn: 7018 })];
    expect(asnOutages(context(streamingOnly, 'KZ'), new Set())).toEqual([]);
    expect(asnOutages(context(streamingOnly), new Set())).toMatchObject([{ country: 'US', asn: 13335 }]);
  });
});
