/**
 * The location rule of the outside-in view: a target answering from outside its declared
 * country (or AS) is no evidence about that country. A country goes dark at its borders, and a
 * site served from a CDN edge abroad stays reachable meanwhile; counting it would pull the
 * country's reachability up exactly when it matters.
 *
 * The rule applies to a target whose country is not the vantage's own (outside-in for that
 * target: with no vantage.country, every target). A domestic target seen from inside the
 * country is probed across the domestic network wherever its address is registered, so it
 * keeps counting. Controls always count; `geo: ignore` on a target keeps it counting.
 */
import type { ResolvedTarget } from '../config/schema.js';

/**
 * Whether a target counts toward its groups (country, ASN, category, domestic/international)
 * given the location check's verdict. `mismatch` is true when its last located address lies
 * outside its declared country or AS.
 */
export function countsForVerdicts(target: Pick<ResolvedTarget, 'country' | 'control' | 'geo'>, mismatch: boolean, vantageCountry: string | undefined): boolean {
  if (!mismatch || target.control || target.geo === 'ignore') return true;
  return target.country === vantageCountry;
}
