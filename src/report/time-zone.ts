/**
 * A country's local time for reports and charts. The zones come from the maintained
 * `countries-and-timezones` package (the IANA tz database's country table); the offset at a
 * given instant comes from the runtime's own tz data (Intl), so daylight saving time and
 * historical changes (Kazakhstan was UTC+6 in Almaty until 2024) are right for the event's date.
 *
 * A country with several zones gets its capital's zone where the zones' offsets differ (the
 * table below); otherwise the first zone the package lists (their offsets agree).
 */
import { getCountry } from 'countries-and-timezones';

export interface CountryZone {
  /** IANA zone name, e.g. Asia/Almaty. */
  name: string;
  /** Offset from UTC at the instant asked for, in ms (east positive). */
  offsetMs: number;
  /** Why this zone: one sentence for the report, or null when the country has one zone. */
  note: string | null;
}

/** The capital's zone of every country whose zones have different offsets. */
const CAPITAL_ZONES: Readonly<Record<string, string>> = {
  AU: 'Australia/Sydney',
  BR: 'America/Sao_Paulo',
  CA: 'America/Toronto',
  CD: 'Africa/Kinshasa',
  CL: 'America/Santiago',
  CN: 'Asia/Shanghai',
  EC: 'America/Guayaquil',
  ES: 'Europe/Madrid',
  FM: 'Pacific/Pohnpei',
  GL: 'America/Nuuk',
  ID: 'Asia/Jakarta',
  KI: 'Pacific/Tarawa',
  KZ: 'Asia/Almaty',
  MN: 'Asia/Ulaanbaatar',
  MX: 'America/Mexico_City',
  NZ: 'Pacific/Auckland',
  PF: 'Pacific/Tahiti',
  PG: 'Pacific/Port_Moresby',
  PT: 'Europe/Lisbon',
  RU: 'Europe/Moscow',
  UA: 'Europe/Kyiv',
  US: 'America/New_York',
};

/** The zone used for `country` (ISO 3166-1 alpha-2) at `at` (ms); null for an unknown country. */
export function countryZone(country: string, at: number): CountryZone | null {
  const zones = getCountry(country)?.timezones ?? [];
  const name = CAPITAL_ZONES[country] ?? zones[0];
  if (name === undefined) return null;
  const offsetMs = zoneOffset(name, at);
  if (offsetMs === null) return null;
  const note = zones.length > 1 ? `${countryName(country)} spans ${zones.length} time zones; local times are ${name}${CAPITAL_ZONES[country] === undefined ? ' (the first listed)' : ", the capital's"}.` : null;
  return { name, offsetMs, note };
}

/** The zone's offset from UTC at `at`, from Intl ("GMT+06:00"); null for a zone Intl does not know. */
export function zoneOffset(zone: string, at: number): number | null {
  let text: string;
  try {
    text = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
  } catch {
    return null;
  }
  if (text === 'GMT') return 0;
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

const NAMES = new Intl.DisplayNames(['en'], { type: 'region' });

/** "Kazakhstan"; the code itself when the runtime does not know it. */
export function countryName(country: string): string {
  try {
    return NAMES.of(country) ?? country;
  } catch {
    return country;
  }
}
