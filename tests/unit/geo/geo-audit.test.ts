/** check-config --geo's audit, on the simulated world's MMDB. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TargetInput, type ResolvedTarget } from '../../../src/config/schema.js';
import { auditTargets, formatAuditEntry, ipLiterals } from '../../../src/geo/geo-audit.js';
import { GeoDb } from '../../../src/geo/geo-db.js';

const WORLD_DB = resolve(import.meta.dirname, '../../..', 'scenarios/geo/cdn-abroad.mmdb');

function target(raw: Record<string, unknown>): ResolvedTarget {
  const t = TargetInput.parse(raw);
  const resolved: ResolvedTarget = Object.assign(t, { country: t.country ?? 'KZ', category: t.category ?? 'general', file: 'kz.yaml' });
  return resolved;
}

describe('ipLiterals', () => {
  it('takes what each kind dials when it is written as an address', () => {
    expect(ipLiterals(target({ id: 'a', kind: 'dns', server: '127.10.0.1:53', query: { name: 'x.kz' } }))).toEqual(['127.10.0.1']);
    expect(ipLiterals(target({ id: 'b', kind: 'dns', server: '[2001:db8::53]:53', query: { name: 'x.kz' } }))).toEqual(['2001:db8::53']);
    expect(ipLiterals(target({ id: 'c', kind: 'tcp', host: '127.10.0.2', port: 443 }))).toEqual(['127.10.0.2']);
    expect(ipLiterals(target({ id: 'd', kind: 'tls', host: 'site.kz' }))).toEqual([]);
    expect(ipLiterals(target({ id: 'e', kind: 'http', url: 'https://site.kz/', ip: '127.10.0.3' }))).toEqual(['127.10.0.3']);
    expect(ipLiterals(target({ id: 'f', kind: 'http', url: 'http://127.10.0.4:8080/x' }))).toEqual(['127.10.0.4']);
    expect(ipLiterals(target({ id: 'g', kind: 'http', url: 'http://[2001:db8::1]/' }))).toEqual(['2001:db8::1']);
  });
});

describe('auditTargets', () => {
  it('separates mismatches (ignored ones flagged) from unknown addresses and skips controls', async () => {
    const db = await GeoDb.open({ country: WORLD_DB, asn: WORLD_DB });
    const result = auditTargets(
      [
        target({ id: 'ok', kind: 'tcp', host: '127.10.0.1', port: 1, asn: 9198 }),
        target({ id: 'abroad', kind: 'tcp', host: '127.10.1.1', port: 1 }),
        target({ id: 'other-as', kind: 'tcp', host: '127.10.0.70', port: 1, asn: 9198 }),
        target({ id: 'ignored', kind: 'tcp', host: '127.10.1.2', port: 1, geo: 'ignore' }),
        target({ id: 'unknown', kind: 'tcp', host: '127.1.0.1', port: 1 }),
        target({ id: 'control', kind: 'tcp', host: '127.10.1.3', port: 1, control: true }),
      ],
      db,
    );
    expect(result.checked).toBe(5);
    expect(result.mismatches.map((e) => [e.target, e.mismatch, e.ignored])).toEqual([
      ['abroad', 'country', false],
      ['other-as', 'asn', false],
      ['ignored', 'country', true],
    ]);
    expect(result.unknown.map((e) => e.target)).toEqual(['unknown']);
    expect(result.mismatches.map(formatAuditEntry)).toEqual([
      'kz.yaml: abroad: 127.10.1.1 is in DE (AS3320), declared KZ',
      'kz.yaml: other-as: 127.10.0.70 is in KZ (AS21299), declared KZ (AS9198)',
      'kz.yaml: ignored: 127.10.1.2 is in DE (AS3320), declared KZ (geo: ignore)',
    ]);
  });
});
