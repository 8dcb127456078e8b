/**
 * The soak benchmark's targets: target i has its own loopback address (bench/common/targets.ts)
 * and a role fixed by its index, known to both the daemon's config and the server:
 *   i % 10 === 0  hostile (http to HOSTILE_PORT), by (i / 10) % 3: silent, reset, slow-headers;
 *   i % 10 === 1  flapping http: up and down in alternate windows, phase spread by index;
 *   otherwise     healthy: http when i is even, tcp when odd (both to HTTP_PORT).
 * So a tenth is hostile and a tenth flaps.
 */
import { targetAddress } from '../common/targets.js';

export const HTTP_PORT = 8080;
export const HOSTILE_PORT = 8081;
const COUNTRIES = ['KZ', 'UZ', 'KG', 'TJ', 'TM', 'RU', 'BY', 'UA', 'GE', 'AM', 'AZ', 'IR', 'TR', 'PK', 'IN', 'CN', 'MN', 'AF', 'IQ', 'SY'];
const CATEGORIES = ['government', 'news', 'social', 'streaming', 'messaging', 'isp', 'finance', 'general'];
const HOSTILE_MODES = ['silent', 'reset', 'slow-headers'] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

export const isHostile = (i: number): boolean => i % 10 === 0;
export const isFlapping = (i: number): boolean => i % 10 === 1;
export const hostileMode = (i: number): HostileMode => HOSTILE_MODES[Math.floor(i / 10) % HOSTILE_MODES.length] as HostileMode;

/** Whether flapping target i is in a down window at `nowS` (windows of `flapS` seconds). */
export function flapIsDown(i: number, nowS: number, flapS: number): boolean {
  return Math.floor(nowS / flapS + (i % 7) / 7) % 2 === 1;
}

/** The index of the target at loopback `address` (an inverse of targetAddress), or null. */
export function indexOfAddress(address: string): number | null {
  const m = /^(?:::ffff:)?127\.20\.(\d+)\.(\d+)$/.exec(address);
  if (!m) return null;
  return Number(m[1]) * 250 + Number(m[2]) - 1;
}

/** Daemon config target for index i (ids stable across reloads). */
export function soakTarget(i: number): Record<string, unknown> {
  const host = targetAddress(i);
  const common = {
    id: `t-${i}`,
    country: COUNTRIES[i % COUNTRIES.length],
    asn: 64512 + (i % 97),
    category: CATEGORIES[i % CATEGORIES.length],
    // Controls: four healthy targets, so the vantage stays online.
    ...(i >= 2 && i < 10 && i % 2 === 0 ? { control: true } : {}),
  };
  if (isHostile(i)) return { ...common, kind: 'http', url: `http://${host}:${HOSTILE_PORT}/` };
  if (isFlapping(i) || i % 2 === 0) return { ...common, kind: 'http', url: `http://${host}:${HTTP_PORT}/` };
  return { ...common, kind: 'tcp', host, port: HTTP_PORT };
}

/** How many targets have each role. */
export interface Roles {
  hostile: number;
  flapping: number;
  healthy: number;
}

/** The count of each role among targets 0..n-1. */
export function roles(n: number): Roles {
  let hostile = 0;
  let flapping = 0;
  for (let i = 0; i < n; i++) {
    if (isHostile(i)) hostile += 1;
    else if (isFlapping(i)) flapping += 1;
  }
  return { hostile, flapping, healthy: n - hostile - flapping };
}
