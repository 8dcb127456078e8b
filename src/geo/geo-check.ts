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

  constructor(private current: GeoDb) {}

  /** The databases in use. */
  get db(): GeoDb {
    return this.current;
  }

  /** Swaps the databases (reload); call rebase() next to apply them at once. */
  setDb(db: GeoDb): void {
    this.current = db;
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
    return this.judge(target, result.ip);
  }

  /**
   * After a reload (new targets, new databases or both): forgets the targets that are gone and
   * judges every remaining target's last address again against its (possibly new) declaration,
   * so a corrected catalog or a newer database takes effect at once. Returns the changes.
   */
  rebase(targets: readonly ResolvedTarget[]): GeoChange[] {
    const byId = new Map(targets.map((t) => [t.id, t]));
    const changes: GeoChange[] = [];
    for (const [id, ip] of [...this.lastIp]) {
      const target = byId.get(id);
      if (target === undefined || !geoCheckable(target) || !this.db.enabled) {
        this.lastIp.delete(id);
        const gone = this.verdicts.get(id);
        this.verdicts.delete(id);
        if (target !== undefined && gone !== undefined && gone.mismatch !== null) {
          changes.push({ target: id, declared: { country: target.country, asn: target.asn ?? null }, verdict: { ...gone, mismatch: null }, was: gone.mismatch });
        }
        continue;
      }
      const change = this.judge(target, ip, true);
      if (change) changes.push(change);
    }
    return changes;
  }

  /**
   * Looks `ip` up and records the target's verdict; the change when its mismatch changed. An
   * unknown address keeps the previous verdict, or with `forgetUnknown` (a new database that
   * does not know it) drops it.
   */
  private judge(target: ResolvedTarget, ip: string, forgetUnknown = false): GeoChange | null {
    const last = this.verdicts.get(target.id);
    const loc = this.db.lookup(ip);
    if (loc.country === null && loc.asn === null) {
      if (!forgetUnknown || last === undefined) return null;
      this.verdicts.delete(target.id);
      if (last.mismatch === null) return null;
      return { target: target.id, declared: { country: target.country, asn: target.asn ?? null }, verdict: { ...last, mismatch: null }, was: last.mismatch };
    }
    const verdict: GeoVerdict = { ip, country: loc.country, asn: loc.asn, mismatch: mismatchOf(target, loc) };
    this.verdicts.set(target.id, verdict);
    const was = last?.mismatch ?? null;
    if (verdict.mismatch === was) return null;
    return { target: target.id, declared: { country: target.country, asn: target.asn ?? null }, verdict, was };
  }

  /** The verdict of a target; undefined before its first located address. */
  verdict(id: string): GeoVerdict | undefined {
    return this.verdicts.get(id);
  }
}
