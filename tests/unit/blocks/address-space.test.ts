import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAddressSpace, readExclusion, readHitlist } from '../../../src/blocks/address-space.js';
import { blockOfInt, blockPrefix, blocksOfRange, ipv4ToInt } from '../../../src/blocks/block.js';
import { RangeTable, shippedDatabase } from '../../../src/blocks/range-table.js';
import { ConfigError } from '../../../src/config/errors.js';

const fixtures = join(import.meta.dirname, '../../fixtures/blocks');
const databases = { country: join(fixtures, 'country-ipv4-num.csv'), asn: join(fixtures, 'asn-ipv4-num.csv') };
const noExclusion = { has: () => false, prefixes: 0 };
const ip = (s: string): number => ipv4ToInt(s) as number;
const dir = mkdtempSync(join(tmpdir(), 'lookout-blocks-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const prefixes = (blocks: { id: number }[]): string[] => blocks.map((b) => blockPrefix(b.id));

describe('/24 blocks of ranges', () => {
  it('a range touches every /24 it overlaps, partly or wholly', () => {
    expect([...blocksOfRange(ip('198.51.100.10'), ip('198.51.101.20'))].map(blockPrefix)).toEqual(['198.51.100.0/24', '198.51.101.0/24']);
    expect(blockPrefix(blockOfInt(ip('127.255.255.255')))).toBe('127.255.255.0/24');
  });

  it('reads the range CSV, skipping what is not an IPv4 row, and looks addresses up', async () => {
    const { table, skipped } = await RangeTable.read(file('mixed.csv', `start,end,country\n${databases.country}\n42540488161975842760550356425300246528,42540488241204005274814694018844196863,JP\n16777216,16777471,AU\n`));
    expect(skipped).toBe(3);
    expect(table.lookup(16777216 + 5)).toBe('AU');
    expect(table.lookup(16777216 + 256)).toBeUndefined();
    await expect(RangeTable.read(file('empty.csv', 'nothing here\n'))).rejects.toThrow(/no IPv4 range/);
  });
});

describe('the address space of the sources', () => {
  it('a country and an AS from the databases, each block with its country and ASN', async () => {
    const blocks = await loadAddressSpace({ sources: [{ country: 'KZ' }, { asn: 37204 }], databases }, noExclusion);
    expect(prefixes(blocks)).toEqual(['192.0.2.0/24', '198.51.100.0/24', '198.51.101.0/24', '203.0.113.0/24']);
    expect(blocks.map((b) => [b.country, b.asn])).toEqual([
      ['KZ', 9198],
      ['KZ', 48503],
      ['KZ', 48503],
      ['ZW', 37204],
    ]);
    expect(blocks.every((b) => b.hitlist === null)).toBe(true);
  });

  it('a hitlist: its addresses skip discovery, its columns override the databases, excluded addresses are dropped', async () => {
    const hitlist = file('hit.csv', 'address,country,asn\n192.0.2.1,,\n192.0.2.2,CD,AS64500\n127.3.0.9,,\n203.0.113.7\n');
    const exclusion = await readExclusion(file('exclude.txt', '# opt-outs\n203.0.113.0/25\n2001:db8::/32\n\n'));
    expect(exclusion.prefixes).toBe(2);
    const blocks = await loadAddressSpace({ sources: [{ file: hitlist }], databases }, exclusion);
    expect(prefixes(blocks)).toEqual(['127.3.0.0/24', '192.0.2.0/24']);
    expect(blocks[0]).toMatchObject({ country: 'XC', asn: 64600, hitlist: [9] });
    expect(blocks[1]).toMatchObject({ country: 'CD', asn: 64500, hitlist: [1, 2] });
  });

  it('bad hitlist rows and exclude lines are ConfigErrors naming the field, file and line', async () => {
    const bad = file('bad.csv', 'address,country\n192.0.2.1,KZ\nnot-an-ip,KZ\n192.0.2.3,kz\n2001:db8::1,KZ\n');
    const err = await readHitlist(bad, 'blocks.sources.0.file').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^blocks\.sources\.0\.file: .*bad\.csv: line 3: "not-an-ip" is not an IPv4 address/);
    expect(problems[1]).toMatch(/line 4: country "kz"/);
    expect(problems[2]).toMatch(/line 5: .*IPv6/);
    await expect(readHitlist(file('nohead.csv', 'ip\n192.0.2.1\n'), 'blocks.sources.1.file')).rejects.toThrow(/blocks\.sources\.1\.file: .*"address" column/);
    await expect(readHitlist(join(dir, 'missing.csv'), 'blocks.sources.0.file')).rejects.toThrow(/blocks\.sources\.0\.file: cannot read/);
    await expect(readExclusion(file('badex.txt', '192.0.2.0/33\n'))).rejects.toThrow(/blocks\.exclude: .*line 1/);
    await expect(loadAddressSpace({ sources: [{ country: 'KZ' }], databases: { country: join(dir, 'nope.csv') } }, noExclusion)).rejects.toThrow(/blocks\.databases\.country/);
  });

  it('the shipped databases are installed and read', async () => {
    const country = shippedDatabase('country');
    const asn = shippedDatabase('asn');
    expect(country).toMatch(/geo-whois-asn-country-ipv4-num\.csv$/);
    expect(asn).toMatch(/asn-ipv4-num\.csv$/);
    const { table } = await RangeTable.read(country as string);
    // 1.0.0.0/24 is APNIC's research prefix, registered in AU.
    expect(table.lookup(ip('1.0.0.1'))).toBe('AU');
  });
});
