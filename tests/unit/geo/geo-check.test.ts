/** The per-target location check, on the simulated world's real MMDB. */
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedTarget } from '../../../src/config/schema.js';
import { GeoCheck, mismatchOf } from '../../../src/geo/geo-check.js';
import { GeoDb } from '../../../src/geo/geo-db.js';
import type { ProbeResult } from '../../../src/probers/types.js';

const WORLD_DB = resolve(import.meta.dirname, '../../..', 'scenarios/geo/cdn-abroad.mmdb');
let db: GeoDb;
beforeAll(async () => {
  db = await GeoDb.open({ country: WORLD_DB, asn: WORLD_DB });
});

function target(id: string, country: string, extra: Partial<ResolvedTarget> = {}): ResolvedTarget {
  return { id, kind: 'tcp', host: 'x.sim', port: 443, country, category: 'news', control: false, file: 'test.yaml', ...extra } as ResolvedTarget;
}
function result(id: string, ip: string | null): ProbeResult {
  return { target: id, kind: 'tcp', ok: true, reason: null, phases: { total: 0.01 }, ip, at: 0 };
}

describe('mismatchOf', () => {
  it('country first, then the declared AS; unknown fields never mismatch', () => {
    expect(mismatchOf({ country: 'KZ', asn: 9198 }, { country: 'DE', asn: 3320 })).toBe('country');
    expect(mismatchOf({ country: 'KZ', asn: 9198 }, { country: 'KZ', asn: 21299 })).toBe('asn');
    expect(mismatchOf({ country: 'KZ', asn: undefined }, { country: 'KZ', asn: 21299 })).toBeNull();
    expect(mismatchOf({ country: 'KZ', asn: 9198 }, { country: null, asn: null })).toBeNull();
  });
});

describe('GeoCheck', () => {
  it('flags a target answering from abroad once, and its return once', () => {
    const check = new GeoCheck(db);
    const t = target('kz-cdn-1', 'KZ');
    const first = check.observe(result(t.id, '127.10.1.1'), t);
    expect(first).toEqual({ target: 'kz-cdn-1', declared: { country: 'KZ', asn: null }, verdict: { ip: '127.10.1.1', country: 'DE', asn: 3320, mismatch: 'country' }, was: null });
    expect(check.observe(result(t.id, '127.10.1.1'), t)).toBeNull();
    expect(check.observe(result(t.id, null), t)).toBeNull();
    expect(check.verdict(t.id)?.mismatch).toBe('country');
    const back = check.observe(result(t.id, '127.10.0.70'), t);
    expect(back?.verdict).toEqual({ ip: '127.10.0.70', country: 'KZ', asn: 21299, mismatch: null });
    expect(back?.was).toBe('country');
  });

  it('a target in place is located without a change to log', () => {
    const check = new GeoCheck(db);
    const t = target('kz-gov-1', 'KZ', { asn: 9198 });
    expect(check.observe(result(t.id, '127.10.0.1'), t)).toBeNull();
    expect(check.verdict(t.id)).toEqual({ ip: '127.10.0.1', country: 'KZ', asn: 9198, mismatch: null });
  });

  it('flags a target answering from another AS of its own country', () => {
    const check = new GeoCheck(db);
    const t = target('kz-isp-1', 'KZ', { asn: 9198 });
    expect(check.observe(result(t.id, '127.10.0.65'), t)?.verdict.mismatch).toBe('asn');
  });

  it('leaves controls, ZZ targets and unknown addresses alone', () => {
    const check = new GeoCheck(db);
    expect(check.observe(result('c', '127.10.1.1'), target('c', 'ZZ', { control: true }))).toBeNull();
    expect(check.observe(result('z', '127.10.1.1'), target('z', 'ZZ'))).toBeNull();
    expect(check.observe(result('u', '127.1.0.1'), target('u', 'KZ'))).toBeNull();
    expect(check.verdict('c')).toBeUndefined();
    expect(check.verdict('z')).toBeUndefined();
    expect(check.verdict('u')).toBeUndefined();
  });

  it('is off without a database; a reload with one judges the last addresses at once', async () => {
    const check = new GeoCheck(await GeoDb.open({ country: null, asn: null }));
    const t = target('kz-cdn-1', 'KZ');
    expect(check.enabled).toBe(false);
    expect(check.observe(result(t.id, '127.10.1.1'), t)).toBeNull();
    expect(check.rebase([t])).toEqual([]);
    check.setDb(db);
    expect(check.observe(result(t.id, '127.10.1.2'), t)?.verdict.mismatch).toBe('country');
  });

  it('rebase: a corrected declaration, geo turned off, or a target gone', async () => {
    const check = new GeoCheck(db);
    const t = target('kz-cdn-1', 'KZ');
    const other = target('kz-cdn-2', 'KZ');
    check.observe(result(t.id, '127.10.1.1'), t);
    check.observe(result(other.id, '127.10.1.2'), other);
    // The catalog is fixed: the target is declared where it is.
    const fixed = target('kz-cdn-1', 'DE');
    expect(check.rebase([fixed, other]).map((c) => [c.target, c.was, c.verdict.mismatch])).toEqual([['kz-cdn-1', 'country', null]]);
    expect(check.verdict('kz-cdn-1')?.mismatch).toBeNull();
    // The check is turned off: every flagged target is released.
    check.setDb(await GeoDb.open({ country: null, asn: null }));
    expect(check.rebase([fixed, other]).map((c) => [c.target, c.verdict.mismatch])).toEqual([['kz-cdn-2', null]]);
    expect(check.verdict('kz-cdn-2')).toBeUndefined();
    // A target removed from the config is forgotten.
    check.setDb(db);
    check.observe(result(t.id, '127.10.1.1'), t);
    expect(check.rebase([])).toEqual([]);
    expect(check.verdict('kz-cdn-1')).toBeUndefined();
  });
});
