/**
 * `lookout check-config --geo`: every address written into the catalogs as an IP literal
 * (dns servers, tcp/tls hosts, http `ip` and IP-literal URLs) located offline and compared with
 * what its target declares. Pure: the database is handed in.
 */
import { isIP } from 'node:net';
import { splitHostPort, targetName, type ResolvedTarget } from '../config/schema.js';
import { geoCheckable, mismatchOf, type GeoVerdict } from './geo-check.js';
import type { GeoDb, GeoLocation } from './geo-db.js';

export interface AuditEntry {
  /** The file the target comes from. */
  file: string;
  target: string;
  ip: string;
  declared: { country: string; asn: number | null };
  found: GeoLocation;
  mismatch: GeoVerdict['mismatch'];
  /** The target says `geo: ignore`: reported, never a failure. */
  ignored: boolean;
}

export interface AuditResult {
  /** Addresses looked up. */
  checked: number;
  /** Found outside the declared country or AS (ignored ones included, flagged). */
  mismatches: AuditEntry[];
  /** Not in the databases at all. */
  unknown: AuditEntry[];
}

/** The IP literals a target dials, as written in its config. */
export function ipLiterals(t: ResolvedTarget): string[] {
  const out: string[] = [];
  const add = (s: string | undefined): void => {
    if (s !== undefined && isIP(s) !== 0 && !out.includes(s)) out.push(s);
  };
  switch (t.kind) {
    case 'http': {
      add(t.ip);
      if (t.ip === undefined) add(new URL(t.url).hostname.replace(/^\[|\]$/g, ''));
      break;
    }
    case 'tcp':
    case 'tls':
      add(t.host);
      break;
    case 'dns':
    case 'dot':
      add(splitHostPort(t.server)?.host);
      break;
    case 'doh':
      add(t.ip);
      if (t.ip === undefined) add(new URL(t.url).hostname.replace(/^\[|\]$/g, ''));
      break;
    case 'icmp':
      for (const h of t.hosts ?? [t.host]) add(h);
      break;
    default: {
      // A new kind must say what it dials (docs/design.md "A new prober kind").
      const unhandled: never = t;
      throw new TypeError(`ipLiterals: no case for kind ${(unhandled as { kind: string }).kind}`);
    }
  }
  return out;
}

/** Locates every IP literal of the checkable targets (controls and country ZZ are skipped). */
export function auditTargets(targets: readonly ResolvedTarget[], db: GeoDb): AuditResult {
  const result: AuditResult = { checked: 0, mismatches: [], unknown: [] };
  // A target probed through several sources is one entry of its catalog: audited once, by its id.
  const audited = new Set<string>();
  for (const t of targets) {
    if (!geoCheckable(t)) continue;
    const key = `${t.file}\u0000${targetName(t)}`;
    if (audited.has(key)) continue;
    audited.add(key);
    for (const ip of ipLiterals(t)) {
      result.checked++;
      const found = db.lookup(ip);
      const entry: AuditEntry = {
        file: t.file,
        target: targetName(t),
        ip,
        declared: { country: t.country, asn: t.asn ?? null },
        found,
        mismatch: mismatchOf(t, found),
        ignored: t.geo === 'ignore',
      };
      if (found.country === null && found.asn === null) result.unknown.push(entry);
      else if (entry.mismatch !== null) result.mismatches.push(entry);
    }
  }
  return result;
}

/** One line per entry: `file: target: ip is in XX (ASn), declared YY (ASm)`. */
export function formatAuditEntry(e: AuditEntry): string {
  const where = (c: string | null, asn: number | null): string => `${c ?? 'an unknown country'}${asn === null ? '' : ` (AS${asn})`}`;
  const head = `${e.file}: ${e.target}: ${e.ip}`;
  if (e.found.country === null && e.found.asn === null) return `${head} is not in the location database`;
  const tail = e.ignored ? ' (geo: ignore)' : '';
  return `${head} is in ${where(e.found.country, e.found.asn)}, declared ${where(e.declared.country, e.declared.asn)}${tail}`;
}
