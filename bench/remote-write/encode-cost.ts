#!/usr/bin/env node
/**
 * CPU of encoding one remote write batch (protobufjs, then snappyjs: dist/remote/prompb.js; run
 * `npm run build` and `npm run build:bench` first), cold and hot, and again after a pause with garbage being made (as a
 * daemon encodes a batch every send_interval between probes).
 *
 *   node .bench-build/bench/remote-write/encode-cost.js [--targets 200] [--samples-per-series 3] [--pauses 10] [--pause-ms 1500]
 *
 * The batch is shaped like the probe-path benchmark's: per target, lookout_probe_success and four
 * phase series with the daemon's labels, each with a few samples. Prints CPU ms per call, the same
 * against encoding every series' labels afresh (the full schema, as the encoder did before it kept
 * them), and the bytes a call allocates on V8's young generation. No network.
 */
import { createRequire } from 'node:module';
import process from 'node:process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import type * as Snappy from 'snappyjs';
import type * as Prompb from '../../src/remote/prompb.js';
import type * as Reference from '../../tests/fixtures/prompb-reference.mjs';
import { importBuilt, ROOT } from '../common/repo.js';

const { encodeWriteRequest } = await importBuilt<typeof Prompb>(ROOT, 'remote/prompb.js');
const { encodeWriteRequestReference } = (await import(join(ROOT, 'tests/fixtures/prompb-reference.mjs'))) as typeof Reference;
const snappy = createRequire(join(ROOT, 'package.json'))('snappyjs') as typeof Snappy;

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: '200' },
    'samples-per-series': { type: 'string', default: '3' },
    pauses: { type: 'string', default: '10' },
    'pause-ms': { type: 'string', default: '1500' },
  },
});
const targets = Number(values.targets);
const perSeries = Number(values['samples-per-series']);

const series: Prompb.TimeSeries[] = [];
for (let t = 0; t < targets; t++) {
  for (const phase of ['', 'connect', 'processing', 'transfer', 'total']) {
    const labels = [
      { name: '__name__', value: phase === '' ? 'lookout_probe_success' : 'lookout_probe_duration_seconds' },
      { name: 'category', value: 'bench' },
      { name: 'country', value: 'KZ' },
      { name: 'kind', value: 'http' },
      ...(phase === '' ? [] : [{ name: 'phase', value: phase }]),
      { name: 'target', value: `http-${t}` },
      { name: 'vantage', value: 'bench' },
    ];
    series.push({ labels, samples: Array.from({ length: perSeries }, (_, i) => ({ value: Math.random(), timestamp: 1_764_550_000_000 + i * 2000 + t })) });
  }
}
const samples = series.reduce((n, s) => n + s.samples.length, 0);

function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

let kept: { i: number; s: string; b: Uint8Array }[][] = [];
/** Probe-like garbage, some of it surviving a while, for `ms`: scavenges and major GCs between calls. */
function churn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const a: { i: number; s: string; b: Uint8Array }[] = [];
    for (let i = 0; i < 2000; i++) a.push({ i, s: `x${i}`, b: new Uint8Array(64) });
    kept.push(a);
    if (kept.length > 200) kept = kept.slice(100);
  }
}

const first = [1, 2, 3].map(() => cpuMs(() => void encodeWriteRequest(series)));
let bytes = 0;
const hotCalls = 200;
const hot = cpuMs(() => {
  for (let i = 0; i < hotCalls; i++) bytes = encodeWriteRequest(series).length;
});
/** Bytes the call allocated on the young generation (a call during which a scavenge ran is left out: its delta is meaningless). */
function youngBytes(fn: () => void): number | null {
  const used = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_used_size ?? NaN;
  const before = used();
  fn();
  const d = used() - before;
  return d >= 0 ? d : null;
}
const young = Array.from({ length: 60 }, () => youngBytes(() => void encodeWriteRequest(series)))
  .filter((d): d is number => d !== null)
  .sort((a, b) => a - b);
// The same batch encoded with every series' labels encoded afresh (the full schema, as before
// the labels were kept), then snappy alone: interleaved rounds, so that drift hits all alike.
const raw = encodeWriteRequestReference(series);
const ways: Record<'kept' | 'afresh' | 'snappy', () => Uint8Array> = {
  kept: () => encodeWriteRequest(series),
  afresh: () => snappy.compress(encodeWriteRequestReference(series)),
  snappy: () => snappy.compress(raw),
};
const waysMs = { kept: 0, afresh: 0, snappy: 0 };
const rounds = 25;
const perRound = 40;
for (let r = 0; r < rounds; r++) {
  for (const way of ['kept', 'afresh', 'snappy'] as const) {
    const fn = ways[way];
    waysMs[way] += cpuMs(() => {
      for (let i = 0; i < perRound; i++) fn();
    });
  }
}
const paused: number[] = [];
for (let i = 0; i < Number(values.pauses); i++) {
  churn(Number(values['pause-ms']));
  paused.push(cpuMs(() => void encodeWriteRequest(series)));
}
const f = (x: number): string => x.toFixed(2);
process.stdout.write(
  [
    `batch: ${series.length} series, ${samples} samples, ${bytes} bytes encoded; node ${process.version}`,
    `first three calls: ${first.map(f).join(', ')} CPU ms`,
    `hot (${hotCalls} calls back to back): ${f(hot / hotCalls)} CPU ms per call, ${f((hot / hotCalls / samples) * 1000)} CPU µs per sample`,
    `interleaved (${rounds} rounds of ${perRound} calls each): labels kept ${f(waysMs.kept / rounds / perRound)}, labels encoded afresh ${f(waysMs.afresh / rounds / perRound)} CPU ms per call; snappy alone ${f(waysMs.snappy / rounds / perRound)} ms of it (${raw.length} bytes of protobuf)`,
    `young-generation allocation: ${young.length ? ((young[Math.floor(young.length / 2)] as number) / 1024).toFixed(0) : '?'} KiB per call (median of ${young.length} calls without a scavenge)`,
    `after ${values['pause-ms']} ms of garbage each: ${paused.map(f).join(', ')} CPU ms`,
    '',
  ].join('\n'),
);
