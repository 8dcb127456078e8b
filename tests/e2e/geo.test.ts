/**
 * The location check end to end with the built CLI and a real daemon, on loopback addresses
 * located by the simulated world's MMDB (scenarios/geo/cdn-abroad.mmdb: 127.10.0.0/26 KZ
 * AS9198, 127.10.0.64/26 KZ AS21299, 127.10.1.0/26 DE AS3320).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, isIP, type Server } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort, runCli, sample, startDaemon, tempDir, type Daemon } from './harness.js';

const ROOT = resolve(import.meta.dirname, '../..');
const WORLD_DB = join(ROOT, 'scenarios/geo/cdn-abroad.mmdb');

/** Every shipped catalog file: probes/*.yaml and probes/countries/*.yaml. */
function shippedCatalogs(): string[] {
  const dirs = [join(ROOT, 'probes'), join(ROOT, 'probes/countries')];
  return dirs.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)));
}

/**
 * The IP literals of a catalog's non-control targets outside ZZ, read straight from its YAML (not
 * through the audit code under test): dns servers, tcp/tls hosts, http `ip` pins.
 */
function literalsIn(file: string): string[] {
  type Raw = { country?: string; control?: boolean; kind?: string; server?: string; host?: string; ip?: string };
  const doc = parse(readFileSync(file, 'utf8')) as Raw & { targets?: Raw[] };
  const out: string[] = [];
  for (const t of doc.targets ?? []) {
    if ((t.control ?? doc.control) === true || (t.country ?? doc.country) === 'ZZ') continue;
    const server = t.server === undefined ? undefined : (/^\[(.+)\]:\d+$/.exec(t.server)?.[1] ?? t.server.replace(/:\d+$/, ''));
    for (const a of [server, t.host, t.ip]) if (a !== undefined && isIP(a) !== 0) out.push(a);
  }
  return out;
}

const AUDITED = `vantage: { id: geo-test }
geo: { country_db: ${WORLD_DB}, asn_db: ${WORLD_DB} }
targets:
  - { id: kz-in-place, kind: tcp, host: 127.10.0.1, port: 443, country: KZ, asn: 9198 }
  - { id: kz-resolver-abroad, kind: dns, server: "127.10.1.1:53", country: KZ, query: { name: example.kz } }
  - { id: kz-other-as, kind: tls, host: 127.10.0.65, country: KZ, asn: 9198 }
  - { id: kz-cdn-ignored, kind: http, url: "https://news.example.kz/", ip: 127.10.1.2, country: KZ, geo: ignore }
  - { id: kz-unknown, kind: tcp, host: 127.1.0.1, port: 443, country: KZ }
  - { id: kz-by-name, kind: tcp, host: news.example.kz, port: 443, country: KZ }
`;

describe('lookout check-config --geo', () => {
  it('lists every IP literal outside its declared country or AS by file and target, and exits 1', async () => {
    const dir = tempDir({ 'lookout.yaml': AUDITED });
    const { code, stdout, stderr } = await runCli(['check-config', '--geo', '--config', join(dir, 'lookout.yaml')]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^warning: no control targets: /),
      'lookout.yaml: kz-resolver-abroad: 127.10.1.1 is in DE (AS3320), declared KZ',
      'lookout.yaml: kz-other-as: 127.10.0.65 is in KZ (AS21299), declared KZ (AS9198)',
      'geo: 5 addresses checked, 2 outside their declared country or AS, 1 unknown',
    ]);
    expect(stdout).toContain(`geo: country database ${WORLD_DB} (built `);
    expect(stdout).toContain('lookout.yaml: kz-unknown: 127.1.0.1 is not in the location database (not checked)');
    expect(stdout).toContain('lookout.yaml: kz-cdn-ignored: 127.10.1.2 is in DE (AS3320), declared KZ (geo: ignore)');
  });

  it('passes on every shipped catalog, the country catalogs included, with the shipped database', async () => {
    const dir = tempDir();
    const probes = relative(dir, join(ROOT, 'probes'));
    const config = `vantage: { id: geo-shipped }\ncatalogs: ["${probes}/*.yaml", "${probes}/countries/*.yaml"]\n`;
    const file = join(dir, 'lookout.yaml');
    (await import('node:fs')).writeFileSync(file, config);
    const { code, stdout, stderr } = await runCli(['check-config', '--geo', '--config', file]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/geo: country database .*geo-whois-asn-country\.mmdb \(built \d{4}-/);
    const files = shippedCatalogs();
    expect(stdout).toContain(` targets from ${files.length} files)`);
    const literals = files.flatMap(literalsIn);
    // The shipped database has countries only: the summary says the AS check was off.
    const checked = /geo: (\d+) addresses checked, 0 outside their declared country \(the AS check was off: no ASN database\), 0 unknown/.exec(stdout);
    expect(checked, stdout).not.toBeNull();
    expect(Number(checked?.[1])).toBe(literals.length);
  });

  it('finds IP literals in the country catalogs that have a public source for them', () => {
    const withLiterals = shippedCatalogs().filter((f) => f.includes('/countries/') && literalsIn(f).length > 0);
    // cd.yaml and zw.yaml have none and say why in their headers.
    expect(withLiterals.map((f) => f.replace(/^.*\//, '')).sort()).toEqual(['bj.yaml', 'et.yaml', 'in.yaml', 'iq.yaml', 'ir.yaml', 'mm.yaml', 'ne.yaml', 'sd.yaml']);
  });

  it('names geo.country_db when the configured file cannot be opened', async () => {
    const dir = tempDir({ 'lookout.yaml': 'vantage: { id: v }\ngeo: { country_db: nowhere.mmdb }\n' });
    for (const args of [['check-config'], ['check-config', '--geo']]) {
      const { code, stderr } = await runCli([...args, '--config', join(dir, 'lookout.yaml')]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/^geo\.country_db: cannot open .*nowhere\.mmdb as a MaxMind DB/m);
    }
  });

  it('fails when there is no database to check against', async () => {
    const dir = tempDir({ 'lookout.yaml': 'vantage: { id: v }\ngeo: { country_db: null }\n' });
    const { code, stderr } = await runCli(['check-config', '--geo', '--config', join(dir, 'lookout.yaml')]);
    expect(code).toBe(1);
    expect(stderr).toContain('geo: no country database, nothing checked (geo.country_db is null)');
  });
});

describe('lookout replay with the location check', () => {
  /**
   * KZ with 6 domestic targets and 4 served from DE's space, probed every 10 s for 20 minutes;
   * the domestic ones fail from minute 10. Results as the daemon records them.
   */
  function results(): string {
    const T0 = Date.UTC(2022, 0, 5);
    const targets = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: `kz-${i}`, ip: `127.10.0.${i + 1}`, cut: true })),
      ...Array.from({ length: 4 }, (_, i) => ({ id: `kz-cdn-${i}`, ip: `127.10.1.${i + 1}`, cut: false })),
      ...Array.from({ length: 3 }, (_, i) => ({ id: `ctl-${i}`, ip: `127.1.0.${i + 1}`, cut: false })),
    ];
    const lines: string[] = [];
    for (let s = 0; s < 1200; s += 10) {
      for (const [k, t] of targets.entries()) {
        const fail = t.cut && s >= 600;
        const at = T0 + s * 1000 + k * 100;
        lines.push(JSON.stringify({ target: t.id, kind: 'tcp', ok: !fail, reason: fail ? 'tcp_timeout' : null, phases: { total: fail ? 1 : 0.01 }, ip: t.ip, at }));
      }
    }
    return `${lines.join('\n')}\n`;
  }
  const config = (geo: string): string => `vantage: { id: replay-geo }
schedule: { interval: 10s, timeout: 1s, confirm_delay: 2s }
${geo}
targets:
${[...Array.from({ length: 6 }, (_, i) => `kz-${i}`), ...Array.from({ length: 4 }, (_, i) => `kz-cdn-${i}`)].map((id, i) => `  - { id: ${id}, kind: tcp, host: 127.10.${id.includes('cdn') ? 1 : 0}.${(i % 6) + 1}, port: 443, country: KZ }`).join('\n')}
${Array.from({ length: 3 }, (_, i) => `  - { id: ctl-${i}, kind: tcp, host: 127.1.0.${i + 1}, port: 443, country: ZZ, control: true }`).join('\n')}
`;

  it('applies the check as the daemon does: the shutdown only with the database', { timeout: 30_000 }, async () => {
    const dir = tempDir({
      'on.yaml': config(`geo: { country_db: ${WORLD_DB} }`),
      'off.yaml': config('geo: { country_db: null }'),
      'results.jsonl': results(),
    });
    const on = await runCli(['replay', '--config', join(dir, 'on.yaml'), join(dir, 'results.jsonl')]);
    const off = await runCli(['replay', '--config', join(dir, 'off.yaml'), join(dir, 'results.jsonl')]);
    expect(on.code, on.stderr).toBe(0);
    expect(off.code, off.stderr).toBe(0);
    const kinds = (out: string): string[] => out.trim().split('\n').filter(Boolean).map((l) => `${(JSON.parse(l) as { kind: string; country: string }).kind} ${(JSON.parse(l) as { country: string }).country}`);
    expect(kinds(on.stdout)).toContain('shutdown KZ');
    expect(kinds(off.stdout)).not.toContain('shutdown KZ');
  });
});

describe('the daemon with the location check', () => {
  const servers: Server[] = [];
  let daemon: Daemon | undefined;
  afterAll(async () => {
    daemon?.proc.kill('SIGKILL');
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  const listen = async (host: string): Promise<number> => {
    const s = createServer((sock) => sock.on('error', () => undefined));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, host, r));
    return (s.address() as { port: number }).port;
  };

  it('flags a target answering from abroad: gauge, warning, /api/v1/status; the one in place is 0', { timeout: 30_000 }, async () => {
    const home = await listen('127.10.0.1');
    const abroad = await listen('127.10.1.1');
    const port = await freePort();
    const dir = tempDir({
      'lookout.yaml': `vantage: { id: geo-daemon }
server: { listen: "127.0.0.1:${port}" }
storage: { dir: ./data }
schedule: { interval: 2s, timeout: 1s, confirm_delay: 500ms }
geo: { country_db: ${WORLD_DB}, asn_db: ${WORLD_DB} }
targets:
  - { id: kz-home, kind: tcp, host: 127.10.0.1, port: ${home}, country: KZ, asn: 9198 }
  - { id: kz-cdn, kind: tcp, host: 127.10.1.1, port: ${abroad}, country: KZ }
`,
    });
    daemon = await startDaemon(join(dir, 'lookout.yaml'), port);
    expect(daemon.logs.find((l) => l.msg === 'location check on: country database')).toMatchObject({ db: WORLD_DB });
    const warned = await daemon.waitForLog((l) => l.msg === 'target answers from outside its declared location');
    expect(warned).toMatchObject({ level: 'warn', target: 'kz-cdn', ip: '127.10.1.1', declared_country: 'KZ', located_country: 'DE', located_asn: 3320, mismatch: 'country' });
    // Probes are spread over the interval: wait for the target in place to be located too.
    let text = await daemon.metrics();
    for (let i = 0; i < 40 && sample(text, 'lookout_target_geo_mismatch', { target: 'kz-home' }) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await daemon.metrics();
    }
    expect(sample(text, 'lookout_target_geo_mismatch', { target: 'kz-cdn', country: 'KZ', located_country: 'DE', located_asn: '3320' })).toBe(1);
    expect(sample(text, 'lookout_target_geo_mismatch', { target: 'kz-home', country: 'KZ', located_country: 'KZ', located_asn: '9198' })).toBe(0);
    const status = (await (await fetch(`http://127.0.0.1:${port}/api/v1/status`)).json()) as { geo_check: boolean; targets: { id: string; geo: unknown }[] };
    expect(status.geo_check).toBe(true);
    expect(status.targets.find((t) => t.id === 'kz-cdn')?.geo).toEqual({ ip: '127.10.1.1', country: 'DE', asn: 3320, mismatch: 'country', counted: false });
    expect(status.targets.find((t) => t.id === 'kz-home')?.geo).toEqual({ ip: '127.10.0.1', country: 'KZ', asn: 9198, mismatch: null, counted: true });
  });

  it('a reload that names a database turns the check on and flags the target', { timeout: 30_000 }, async () => {
    const abroad = await listen('127.10.1.5');
    const port = await freePort();
    const config = (geo: string): string => `vantage: { id: geo-reload }
server: { listen: "127.0.0.1:${port}" }
storage: { dir: ./data }
schedule: { interval: 1s, timeout: 500ms, confirm_delay: 200ms }
${geo}
targets:
  - { id: kz-cdn, kind: tcp, host: 127.10.1.5, port: ${abroad}, country: KZ }
`;
    const dir = tempDir({ 'lookout.yaml': config('geo: { country_db: null }') });
    const d = await startDaemon(join(dir, 'lookout.yaml'), port);
    try {
      await d.waitForLog((l) => l.msg === 'location check off: no country database, targets are taken to be where their catalogs say');
      (await import('node:fs')).writeFileSync(join(dir, 'lookout.yaml'), config(`geo: { country_db: ${WORLD_DB} }`));
      d.proc.kill('SIGHUP');
      await d.waitForLog((l) => l.msg === 'config reloaded');
      expect(d.logs.filter((l) => l.msg === 'location check on: country database')).toHaveLength(1);
      const warned = await d.waitForLog((l) => l.msg === 'target answers from outside its declared location');
      expect(warned).toMatchObject({ target: 'kz-cdn', located_country: 'DE' });

      // A newer database dropped in at the same path, which places the address in KZ: the next
      // reload takes it and releases the target at once.
      const { execFileSync } = await import('node:child_process');
      const fs = await import('node:fs');
      const dbPath = join(dir, 'country.mmdb');
      fs.copyFileSync(WORLD_DB, dbPath);
      fs.writeFileSync(join(dir, 'lookout.yaml'), config(`geo: { country_db: country.mmdb }`));
      d.proc.kill('SIGHUP');
      await d.waitForLog((l) => l.msg === 'config reloaded' && d.logs.filter((x) => x.msg === 'config reloaded').length === 2);
      fs.writeFileSync(join(dir, 'newer.csv'), 'network,country_code,asn\n127.10.1.0/26,KZ,\n');
      execFileSync('perl', [join(ROOT, 'scripts/mmdb-build.pl'), '--out', dbPath, join(dir, 'newer.csv')]);
      d.proc.kill('SIGHUP');
      const back = await d.waitForLog((l) => l.msg === 'target answers from its declared location again');
      expect(back).toMatchObject({ level: 'warn', target: 'kz-cdn', located_country: 'KZ', mismatch: null });
    } finally {
      d.proc.kill('SIGKILL');
    }
  });

  it('without a database the check is off and the start-up log says so', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const dir = tempDir({ 'lookout.yaml': `vantage: { id: geo-off }\nserver: { listen: "127.0.0.1:${port}" }\nstorage: { dir: ./data }\ngeo: { country_db: null }\n` });
    const off = await startDaemon(join(dir, 'lookout.yaml'), port);
    try {
      expect(off.logs.find((l) => l.msg.startsWith('location check off'))).toMatchObject({ level: 'warn', why: 'geo.country_db is null' });
      const status = (await (await fetch(`http://127.0.0.1:${port}/api/v1/status`)).json()) as { geo_check: boolean };
      expect(status.geo_check).toBe(false);
    } finally {
      off.proc.kill('SIGKILL');
    }
  });
});
