/**
 * Country codes: ISO 3166-1 alpha-2, in upper case, from the i18n-iso-countries package (kept
 * up to date with the standard; no list is written by hand here), plus `ZZ`, the user-assigned
 * code Lookout uses for "no country" (controls, anycast services).
 */
import countries from 'i18n-iso-countries';

/** The code for "no country" (ISO 3166-1 leaves ZZ to users). */
export const NO_COUNTRY = 'ZZ';

const CODES: ReadonlySet<string> = new Set([...Object.keys(countries.getAlpha2Codes()), NO_COUNTRY]);

/**
 * Codes ISO 3166-1 reserves for a country that has another code ("exceptionally reserved"),
 * which people type by habit: UK for the United Kingdom, EL for Greece.
 */
const RESERVED_FOR: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' };

/** True for an ISO 3166-1 alpha-2 code in upper case, or ZZ. */
export function isCountryCode(code: string): boolean {
  return CODES.has(code);
}

/**
 * Why `code` is not a country code, or null when it is: the problem in words an operator can
 * act on (upper case, the right code for a reserved one).
 */
export function countryCodeProblem(code: string): string | null {
  if (isCountryCode(code)) return null;
  const upper = code.toUpperCase();
  if (upper !== code && isCountryCode(upper)) return `"${code}": country codes are upper case (${upper})`;
  const instead = RESERVED_FOR[upper];
  if (instead !== undefined) return `"${code}" is not an ISO 3166-1 alpha-2 country code (did you mean ${instead}?)`;
  return `"${code}" is not an ISO 3166-1 alpha-2 country code such as KZ (ZZ: no country)`;
}
