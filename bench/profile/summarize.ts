#!/usr/bin/env node
/**
 * Summarises a V8 .cpuprofile (from node --cpu-prof): self time by function and by file or
 * package, and inclusive time by function, as plain-text tables of the top entries.
 *
 *   node .bench-build/bench/profile/summarize.js FILE.cpuprofile [--top N] [--filter TEXT]
 *   (npm run build:bench first)
 *
 * Self time of a node is the sum of the sampling intervals (timeDeltas) whose sample landed on
 * it; inclusive time adds its descendants' (a recursive function is counted once per sample).
 * --filter keeps only functions whose name or file contains TEXT in the function tables.
 */
import process from 'node:process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** A node of the call tree in a .cpuprofile (the fields read here). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A V8 .cpuprofile: the call tree, the node each sample landed on, and the time between samples (microseconds). */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas?: number[];
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '30' }, filter: { type: 'string' } },
});
if (positionals.length !== 1) throw new Error('usage: summarize.js FILE.cpuprofile [--top N] [--filter TEXT]');
const top = Number(values.top);
const profile = JSON.parse(readFileSync(positionals[0] as string, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

/** A short file label: the package for node_modules, node: for built-ins, else the path under the repo. */
function fileOf(url: string): string {
  if (url === '') return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    const [scope = '', name = ''] = rest;
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url;
}

function keyOf(n: ProfileNode): string {
  const f = n.callFrame;
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return `${name}  ${fileOf(f.url)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
}

const self = new Map<string, number>();
const selfFile = new Map<string, number>();
const incl = new Map<string, number>();
let total = 0;
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < profile.samples.length; i++) {
  const dt = Math.max(0, deltas[i + 1] ?? deltas[i] ?? 0);
  const node = byId.get(profile.samples[i] as number);
  if (!node) continue;
  total += dt;
  const k = keyOf(node);
  self.set(k, (self.get(k) ?? 0) + dt);
  const file = fileOf(node.callFrame.url);
  selfFile.set(file, (selfFile.get(file) ?? 0) + dt);
  const seen = new Set();
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const up = byId.get(id);
    if (!up) break;
    const kk = keyOf(up);
    if (seen.has(kk)) continue;
    seen.add(kk);
    incl.set(kk, (incl.get(kk) ?? 0) + dt);
  }
}

const idle = [...self.entries()].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
const busy = total - idle;
const pct = (v: number): string => `${((100 * v) / busy).toFixed(1).padStart(5)}%`;
const ms = (v: number): string => `${(v / 1000).toFixed(0).padStart(7)} ms`;
const keep = (k: string): boolean => values.filter === undefined || k.includes(values.filter);

function print(title: string, map: Map<string, number>, filter: boolean): void {
  process.stdout.write(`\n${title}\n`);
  const rows = [...map.entries()].filter(([k]) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!filter || keep(k)));
  rows.sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, top)) process.stdout.write(`${ms(v)} ${pct(v)}  ${k}\n`);
}

process.stdout.write(`profile: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s not idle (percentages are of the non-idle time)\n`);
print('self time by file or package', selfFile, false);
print('self time by function', self, true);
print('inclusive time by function', incl, true);
