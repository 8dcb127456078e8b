/**
 * The per-target location check: every dialled address (ProbeResult.ip) is looked up, and a
 * target answering from outside its declared country (or, with an ASN database, from another
 * AS than its declared `asn`) is flagged. Controls and targets of country ZZ (unknown) are not
 * checked. An address the databases do not know leaves the verdict as it was.
 */
import type { ResolvedTarget } from '../config/schema.js';
import type { ProbeResult } from '../probers/types.js';
import type { GeoDb } from './geo-db.js';

/** What the check knows of one target (served by /api/v1/status as `geo`). */
export interface GeoVerdict {
  /** The address last looked up. */
  ip: string;
  /** Where the databases place it (null: unknown). */
  country: string | null;
  asn: number | null;
  /** null: in place; 'country' or 'asn': outside the declared one. */
  mismatch: 'country' | 'asn' | null;
}

/** A change of one target's mismatch, to log. */
export interface GeoChange {
  target: string;
  declared: { country: string; asn: number | null };
  verdict: GeoVerdict;
  /** The mismatch before this result (null: in place or not known). */
  was: 'country' | 'asn' | null;
}

/** True when the check applies to the target at all. */
export function geoCheckable(t: ResolvedTarget): boolean {
  return !t.control && t.country !== 'ZZ';
}

/** Compares a location with what the target declares; null fields of `loc` never mismatch. */
export function mismatchOf(t: Pick<ResolvedTarget, 'country' | 'asn'>, loc: { country: string | null; asn: number | null }): GeoVerdict['mismatch'] {
  if (loc.country !== null && loc.country !== t.country) return 'country';
  if (t.asn !== undefined && loc.asn !== null && loc.asn !== t.asn) return 'asn';
  return null;
}

export class GeoCheck {
  private readonly verdicts = new Map<string, GeoVerdict>();
  /** The address last looked up per target, located or not: the same address is not looked up again. */
  private readonly lastIp = new Map<string, string>();

  constructor(private db: GeoDb) {}

  /** Swaps the databases (reload); verdicts are recomputed on the next result of each target. */
  setDb(db: GeoDb): void {
    this.db = db;
    this.verdicts.clear();
    this.lastIp.clear();
  }

  get enabled(): boolean {
    return this.db.enabled;
  }

  /**
   * Checks one result's address. Returns the change when the target's mismatch changed (a
   * first verdict counts as a change only when it is a mismatch). An address the databases do
   * not know keeps the previous verdict. O(1) without a lookup when the address is the one last
   * seen for the target.
   */
  observe(result: ProbeResult, target: ResolvedTarget): GeoChange | null {
    if (result.ip === null || !this.db.enabled || !geoCheckable(target)) return null;
    if (this.lastIp.get(target.id) === result.ip) return null;
    this.lastIp.set(target.id, result.ip);
    const last = this.verdicts.get(target.id);
    const loc = this.db.lookup(result.ip);
    if (loc.country === null && loc.asn === null) return null;
    const verdict: GeoVerdict = { ip: result.ip, country: loc.country, asn: loc.asn, mismatch: mismatchOf(target, loc) };
    this.verdicts.set(target.id, verdict);
    const was = last?.mismatch ?? null;
    if (verdict.mismatch === was) return null;
    return { target: target.id, declared: { country: target.country, asn: target.asn ?? null }, verdict, was };
  }

  /** The verdict of a target; undefined before its first located address. */
  verdict(id: string): GeoVerdict | undefined {
    return this.verdicts.get(id);
  }

  /** Drops the targets not in `ids` (after a reload). */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.verdicts.keys()) if (!ids.has(id)) this.verdicts.delete(id);
    for (const id of this.lastIp.keys()) if (!ids.has(id)) this.lastIp.delete(id);
  }
}
