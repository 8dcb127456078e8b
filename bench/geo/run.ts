// Location-check cost per dialled address (issue goal: under 5 microseconds). Looks addresses up
// in the shipped country database (and optionally an ASN database: --asn FILE), in memory; no
// address is ever contacted. Prints nanoseconds per lookup for:
//   lookup      GeoDb.lookup() on a fresh address every time (the worst case)
//   check-new   GeoCheck.observe() with a new address each result (a target behind DNS rotation)
//   check-same  GeoCheck.observe() with the target's last address (the common case: skipped)
// Usage: npm run bench:geo [-- --asn FILE] [--n 1000000]
import process from 'node:process';
import type { ResolvedTarget } from '../../src/config/schema.js';
import type * as GeoCheckModule from '../../src/geo/geo-check.js';
import type * as GeoDbModule from '../../src/geo/geo-db.js';
import type { ProbeResult } from '../../src/probers/types.js';
import { importBuilt, ROOT } from '../common/repo.js';

const { GeoCheck } = await importBuilt<typeof GeoCheckModule>(ROOT, 'geo/geo-check.js');
const { GeoDb, shippedCountryDb } = await importBuilt<typeof GeoDbModule>(ROOT, 'geo/geo-db.js');

const arg = <D>(name: string, def: D): string | D => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] as string) : def;
};
const out = (line: string): boolean => process.stdout.write(`${line}\n`);
const N = Number(arg('--n', '1000000'));
const asnPath = arg('--asn', null);
const country = shippedCountryDb();
if (country === null) {
  process.stderr.write('the shipped country database is not installed (npm ci)\n');
  process.exit(1);
}
const db = await GeoDb.open({ country, asn: asnPath });

// A fixed pseudo-random spread over the unicast IPv4 space, plus some IPv6, built before timing.
let seed = 0x9e3779b9;
const rnd = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0), seed);
const POOL = 65536;
const ips = Array.from({ length: POOL }, (_, i) => {
  const r = rnd();
  if (i % 16 === 0) return `2a0${(r >>> 28) & 7}:${(r & 0xffff).toString(16)}::${(r >>> 16).toString(16)}`;
  return `${1 + ((r >>> 24) % 223)}.${(r >>> 16) & 255}.${(r >>> 8) & 255}.${r & 255}`;
});
const target: ResolvedTarget = { id: 't', kind: 'tcp', host: 'x', port: 443, country: 'KZ', category: 'news', control: false, file: 'bench' };
const result = (ip: string): ProbeResult => ({ target: 't', kind: 'tcp', ok: true, reason: null, phases: { total: 0.01 }, ip, at: 0 });
const results = ips.map(result);

function time(label: string, fn: (i: number) => number): number {
  for (let i = 0; i < Math.min(N, 100000); i++) fn(i); // warm-up
  // CPU time of this process, not wall time: on a shared machine the wall clock also counts the
  // time other processes held the core.
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < N; i++) sink += fn(i);
  const wall = Number(process.hrtime.bigint() - t0) / N;
  const c = process.cpuUsage(c0);
  const cpu = ((c.user + c.system) * 1000) / N;
  out(`${label.padEnd(11)} ${cpu.toFixed(0).padStart(6)} ns CPU per address (wall ${wall.toFixed(0)} ns; ${N} addresses, ${sink} hits)`);
  return cpu;
}

const countryInfo = db.country;
if (countryInfo === null) throw new Error('the country database did not open');
out(`country database: ${countryInfo.path} (built ${countryInfo.built})`);
if (db.asn) out(`ASN database: ${db.asn.path} (built ${db.asn.built})`);
out(`node ${process.version}, ${POOL} distinct addresses (1 in 16 IPv6)`);
const lookup = time('lookup', (i) => (db.lookup(ips[i & (POOL - 1)] as string).country === null ? 0 : 1));
const check = new GeoCheck(db);
time('check-new', (i) => (check.observe(results[i & (POOL - 1)] as ProbeResult, target) === null ? 0 : 1));
const same = results[0] as ProbeResult;
time('check-same', () => (check.observe(same, target) === null ? 0 : 1));
out(`goal: under 5000 ns CPU per dialled address (lookup): ${lookup < 5000 ? 'met' : 'NOT met'}`);
