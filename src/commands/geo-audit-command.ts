/**
 * The `--geo` half of `lookout check-config`: opens the config's location databases, audits
 * the catalogs' IP literals (geo-audit.ts) and says what it found. Fails when a database is
 * missing (nothing could be checked) or an address lies outside its declared country or AS.
 */
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { auditTargets, formatAuditEntry } from '../geo/geo-audit.js';
import { openGeo } from '../geo/geo-config.js';

export interface GeoAuditOutcome {
  ok: boolean;
  /** Summary lines and unknown addresses (stdout). */
  out: string[];
  /** Mismatches and problems (stderr). */
  err: string[];
}

export async function geoAudit(config: Config): Promise<GeoAuditOutcome> {
  let opened;
  try {
    opened = await openGeo(config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { ok: false, out: [], err: err.problems };
  }
  const { db, paths } = opened;
  if (db.country === null) return { ok: false, out: [], err: [`geo: no country database, nothing checked (${paths.countryOff ?? 'off'})`] };
  const out = [`geo: country database ${db.country.path} (built ${db.country.built})`];
  if (db.asn !== null) out.push(`geo: ASN database ${db.asn.path} (built ${db.asn.built})`);
  const audit = auditTargets(config.targets, db);
  for (const e of audit.unknown) out.push(`${formatAuditEntry(e)} (not checked)`);
  const failures = audit.mismatches.filter((e) => !e.ignored);
  for (const e of audit.mismatches.filter((m) => m.ignored)) out.push(formatAuditEntry(e));
  const err = failures.map(formatAuditEntry);
  // Without an ASN database only the country was checked: say so rather than "0 outside ... AS".
  const scope = db.asn === null ? 'country (the AS check was off: no ASN database)' : 'country or AS';
  const summary = `geo: ${audit.checked} address${audit.checked === 1 ? '' : 'es'} checked, ${failures.length} outside their declared ${scope}, ${audit.unknown.length} unknown`;
  if (failures.length > 0) err.push(summary);
  else out.push(summary);
  return { ok: failures.length === 0, out, err };
}
