import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger, silentLogger, type Logger } from '../../../src/log.js';
import type { ProbeResult } from '../../../src/probers/types.js';
import { readResults, ResultLineError, ResultRecorder } from '../../../src/store/result-recorder.js';

function result(i: number): ProbeResult {
  const failed = i % 3 === 0;
  return {
    target: `kz-${i % 17}`,
    kind: (['http', 'tcp', 'tls', 'dns'] as const)[i % 4] ?? 'tcp',
    ok: !failed,
    reason: failed ? 'tcp_reset' : null,
    phases: failed ? { dns: 0.001, total: 0.02 } : { dns: 0.001, connect: 0.01, tls: 0.02, ttfb: 0.05, total: 0.06 + i / 1e6 },
    ip: failed && i % 2 === 0 ? null : `127.0.${i % 256}.1`,
    at: 1_560_056_400_000 + i * 1000,
    ...(failed ? { detail: 'read ECONNRESET' } : { status: 200 }),
    ...(i % 10 === 1 ? { confirm: true } : {}),
  };
}

async function collect(path: string): Promise<(ProbeResult | ResultLineError)[]> {
  const out: (ProbeResult | ResultLineError)[] = [];
  for await (const item of readResults(path)) out.push(item);
  return out;
}

function capturedLogger(): { log: Logger; entries: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const entries = () =>
    chunks
      .join('')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { log: createLogger('debug', sink), entries };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lookout-results-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ResultRecorder', () => {
  it('writes 1,000 results that readResults yields back in order', async () => {
    const rec = await ResultRecorder.open(join(dir, 'nested', 'data'), silentLogger());
    const all = Array.from({ length: 1000 }, (_, i) => result(i));
    for (const r of all) rec.write(r);
    await rec.close();
    expect(rec.dropped).toBe(0);
    expect(await collect(join(dir, 'nested', 'data', 'results.jsonl'))).toEqual(all);
  });

  it('rotates results.jsonl at its size budget like events.jsonl, keeping maxFiles generations, losing no result within them', async () => {
    const rec = await ResultRecorder.open(dir, silentLogger(), { maxBytes: 4096, maxFiles: 2 });
    const written: ProbeResult[] = [];
    // Batches of 10 (about 2 KiB), each flushed before the next: the file is rotated every other batch.
    for (let b = 0; b < 8; b++) {
      for (let i = 0; i < 10; i++) {
        const r = result(b * 10 + i);
        written.push(r);
        rec.write(r);
      }
      await vi.waitFor(async () => expect((await readFile(join(dir, 'results.jsonl'), 'utf8')).includes(`"at":${written.at(-1)?.at}`)).toBe(true), { timeout: 5000 });
    }
    await rec.close();
    expect(rec.dropped).toBe(0);
    const { readdir, stat } = await import('node:fs/promises');
    expect((await readdir(dir)).sort()).toEqual(['results.1.jsonl', 'results.2.jsonl', 'results.jsonl']);
    for (const f of ['results.jsonl', 'results.1.jsonl', 'results.2.jsonl']) expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(4096);
    // Oldest first: the kept generations are the newest results, whole and in order.
    const kept = [...(await collect(join(dir, 'results.2.jsonl'))), ...(await collect(join(dir, 'results.1.jsonl'))), ...(await collect(join(dir, 'results.jsonl')))];
    expect(kept.length).toBeGreaterThan(20);
    expect(kept).toEqual(written.slice(written.length - kept.length));
  });

  it('writes the vantage on every line, and only its id, country and asn, which readResults yields back', async () => {
    const vantage = { id: 'kz-almaty', country: 'KZ', asn: 9198 };
    // The config's vantage object: any other key it may carry stays out of the file.
    const rec = await ResultRecorder.open(dir, silentLogger(), { vantage: { ...vantage, extra: true } as typeof vantage });
    const all = Array.from({ length: 20 }, (_, i) => result(i));
    for (const r of all) rec.write(r);
    await rec.close();
    const lines = (await readFile(join(dir, 'results.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(20);
    for (const [i, line] of lines.entries()) expect(JSON.parse(line)).toEqual({ ...result(i), vantage });
    expect(await collect(join(dir, 'results.jsonl'))).toEqual(all.map((r) => ({ ...r, vantage })));
    // A vantage without country or asn: only its id.
    const bare = await ResultRecorder.open(join(dir, 'bare'), silentLogger(), { vantage: { id: 'v1' } });
    bare.write(result(1));
    await bare.close();
    expect(await readFile(join(dir, 'bare', 'results.jsonl'), 'utf8')).toBe(`${JSON.stringify({ ...result(1), vantage: { id: 'v1' } })}\n`);
  });

  it('appends to an existing file across recorders', async () => {
    const first = await ResultRecorder.open(dir, silentLogger());
    first.write(result(1));
    await first.close();
    const second = await ResultRecorder.open(dir, silentLogger());
    second.write(result(2));
    await second.close();
    expect(await collect(join(dir, 'results.jsonl'))).toEqual([result(1), result(2)]);
  });

  it('flushes on its own, without close()', async () => {
    const rec = await ResultRecorder.open(dir, silentLogger());
    rec.write(result(5));
    const path = join(dir, 'results.jsonl');
    await vi.waitFor(async () => expect(await readFile(path, 'utf8')).toBe(`${JSON.stringify(result(5))}\n`), { timeout: 5000, interval: 50 });
    // A batch over 64 KiB goes out without waiting for the timer either.
    for (let i = 0; i < 2000; i++) rec.write(result(i));
    await vi.waitFor(async () => expect((await readFile(path, 'utf8')).split('\n').length).toBeGreaterThan(1000), { timeout: 5000, interval: 50 });
    await rec.close();
    expect(await collect(path)).toHaveLength(2001);
  });

  it('reports an unwritable directory from open() with a clear error', async () => {
    await writeFile(join(dir, 'plain-file'), 'x');
    await expect(ResultRecorder.open(join(dir, 'plain-file', 'data'), silentLogger())).rejects.toThrow(
      /cannot open results file .*plain-file\/data\/results\.jsonl: ENOTDIR/,
    );
  });

  it('drops and counts results when the disk fails, logging once, and never throws', async () => {
    expect(existsSync('/dev/full'), 'this test needs /dev/full (Linux)').toBe(true);
    await symlink('/dev/full', join(dir, 'results.jsonl'));
    const { log, entries } = capturedLogger();
    const rec = await ResultRecorder.open(dir, log);
    for (let i = 0; i < 3000; i++) expect(() => rec.write(result(i))).not.toThrow();
    await rec.close();
    expect(rec.dropped).toBe(3000);
    const errors = entries().filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ msg: 'writing probe results failed; dropping them' });
    expect(String(errors[0]?.error)).toMatch(/ENOSPC/);
  });

  it('drops and counts writes after close()', async () => {
    const rec = await ResultRecorder.open(dir, silentLogger());
    await rec.close();
    rec.write(result(1));
    expect(rec.dropped).toBe(1);
    await rec.close();
  });
});

describe('readResults', () => {
  it('yields bad lines as errors with their line numbers and carries on', async () => {
    const path = join(dir, 'mixed.jsonl');
    await writeFile(
      path,
      [
        JSON.stringify(result(1)),
        'not json at all',
        JSON.stringify({ ...result(2), ok: true, reason: 'tcp_reset' }),
        '',
        JSON.stringify({ ...result(4), kind: 'gopher' }),
        JSON.stringify({ ...result(4), phases: { dns: 0.1 } }),
        '[1, 2, 3]',
        JSON.stringify(result(7)) + '\r',
        '{"target": "cut-off", "ki',
      ].join('\n'),
    );
    const got = await collect(path);
    expect(got).toHaveLength(8);
    expect(got[0]).toEqual(result(1));
    expect(got[6]).toEqual(result(7));
    const errors = got.filter((g): g is ResultLineError => g instanceof ResultLineError);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 5, 6, 7, 9]);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^not JSON/),
      expect.stringMatching(/^reason: reason must be null exactly when ok/),
      expect.stringMatching(/^kind: /),
      expect.stringMatching(/phases.total is missing/),
      expect.stringMatching(/expected object/),
      expect.stringMatching(/^not JSON/),
    ]);
  });

  it('strips unknown fields so newer recordings still replay', async () => {
    const path = join(dir, 'newer.jsonl');
    await writeFile(path, JSON.stringify({ ...result(2), future_field: 1 }) + '\n');
    expect(await collect(path)).toEqual([result(2)]);
  });

  it('rejects for a file that does not exist', async () => {
    await expect(collect(join(dir, 'missing.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});
