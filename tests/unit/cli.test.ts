import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, parseArgs, UsageError } from '../../src/cli.js';

describe('parseArgs', () => {
  it('defaults to run with the default config', () => {
    expect(parseArgs([], undefined)).toEqual({ name: 'run', config: DEFAULT_CONFIG });
  });
  it('takes LOOKOUT_CONFIG when --config is absent, and --config over it', () => {
    expect(parseArgs(['run'], '/etc/lookout/x.yaml')).toEqual({ name: 'run', config: '/etc/lookout/x.yaml' });
    expect(parseArgs(['check-config', '--config', 'a.yaml'], '/etc/x.yaml')).toEqual({ name: 'check-config', config: 'a.yaml', geo: false });
    expect(parseArgs(['--config=b.yaml'], undefined)).toEqual({ name: 'run', config: 'b.yaml' });
    expect(parseArgs(['healthcheck', '-c', 'c.yaml'], undefined)).toEqual({ name: 'healthcheck', config: 'c.yaml' });
  });
  it('rejects unknown commands, stray arguments and a --config without a file', () => {
    expect(() => parseArgs(['serve'], undefined)).toThrow(UsageError);
    expect(() => parseArgs(['run', 'extra'], undefined)).toThrow(/unexpected argument "extra"/);
    expect(() => parseArgs(['run', '--config'], undefined)).toThrow(/needs a file/);
  });
  it('parses report with its event id and output folder', () => {
    expect(parseArgs(['report', 'shutdown:KZ:-:1560056400000', '--config', 'c.yaml', '--out', 'r'], undefined)).toEqual({ name: 'report', config: 'c.yaml', id: 'shutdown:KZ:-:1560056400000', out: 'r' });
    expect(parseArgs(['report', 'x', '--out=dir'], 'env.yaml')).toEqual({ name: 'report', config: 'env.yaml', id: 'x', out: 'dir' });
    expect(parseArgs(['report', 'x'], undefined)).toMatchObject({ out: '.', config: 'config/lookout.yaml' });
    expect(() => parseArgs(['report'], undefined)).toThrow(/exactly one EVENT_ID/);
    expect(() => parseArgs(['report', 'a', 'b'], undefined)).toThrow(/exactly one EVENT_ID/);
    expect(() => parseArgs(['report', 'a', '--out'], undefined)).toThrow(/--out needs a directory/);
    expect(() => parseArgs(['replay', 'r.jsonl', '--out', 'x'], undefined)).toThrow(/unexpected argument "--out"/);
  });

  it('parses replay with its results file', () => {
    expect(parseArgs(['replay', '--config', 'c.yaml', 'results.jsonl'], undefined)).toEqual({
      name: 'replay',
      config: 'c.yaml',
      results: 'results.jsonl',
    });
    expect(parseArgs(['replay', 'r.jsonl', '-c', 'c.yaml'], undefined)).toMatchObject({ results: 'r.jsonl', config: 'c.yaml' });
    expect(() => parseArgs(['replay', '--config', 'c.yaml'], undefined)).toThrow(/exactly one RESULTS.jsonl/);
    expect(() => parseArgs(['replay', 'a.jsonl', 'b.jsonl'], undefined)).toThrow(/exactly one RESULTS.jsonl/);
    // No silent default config: the flag, or $LOOKOUT_CONFIG.
    expect(() => parseArgs(['replay', 'r.jsonl'], undefined)).toThrow(/replay needs --config FILE \(or \$LOOKOUT_CONFIG\)/);
    expect(parseArgs(['replay', 'r.jsonl'], 'env.yaml')).toMatchObject({ config: 'env.yaml' });
  });
  it('takes --geo for check-config only', () => {
    expect(parseArgs(['check-config', '--geo'], undefined)).toEqual({ name: 'check-config', config: DEFAULT_CONFIG, geo: true });
    expect(parseArgs(['check-config', '-c', 'a.yaml', '--geo'], undefined)).toEqual({ name: 'check-config', config: 'a.yaml', geo: true });
    expect(() => parseArgs(['run', '--geo'], undefined)).toThrow(/unexpected argument "--geo"/);
  });
  it('knows help and version', () => {
    expect(parseArgs(['--help'], undefined)).toEqual({ name: 'help' });
    expect(parseArgs(['run', '-h'], undefined)).toEqual({ name: 'help' });
    expect(parseArgs(['version'], undefined)).toEqual({ name: 'version' });
  });
});
