import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../../src/config/errors.js';
import { comparePaths, formatPath, issueProblems } from '../../../src/config/format.js';

describe('formatPath', () => {
  const doc = { targets: [{ id: 'kz-egov' }, { kind: 'tcp' }, { id: 7 }] };

  it('names a target by its id after its index', () => {
    expect(formatPath(['targets', 0, 'expect', 'status'], doc)).toBe('targets.0 (kz-egov).expect.status');
  });

  it('falls back to the bare index when the target has no string id', () => {
    expect(formatPath(['targets', 1, 'host'], doc)).toBe('targets.1.host');
    expect(formatPath(['targets', 2], doc)).toBe('targets.2');
  });

  it('quotes keys that are not plain identifiers', () => {
    expect(formatPath(['targets', 0, 'headers', 'x y'], doc)).toBe('targets.0 (kz-egov).headers["x y"]');
  });

  it('renders the empty path as an empty string', () => {
    expect(formatPath([], doc)).toBe('');
  });
});

describe('comparePaths', () => {
  it('orders indices numerically and keys by code point, prefixes first', () => {
    const paths = [['targets', 10], ['targets', 2, 'url'], ['schedule'], ['targets', 2], ['catalogs', 0]];
    expect(paths.sort(comparePaths)).toEqual([['catalogs', 0], ['schedule'], ['targets', 2], ['targets', 2, 'url'], ['targets', 10]]);
  });
});

describe('issueProblems', () => {
  const schema = z.strictObject({
    a: z.strictObject({ b: z.number() }),
    status: z.union([z.number().min(100), z.tuple([z.number(), z.number()])]),
  });

  it('gives one problem per unknown key, with the key in the path', () => {
    const issues = schema.safeParse({ a: { b: 1, c: 2, d: 3 }, status: 200 }).error?.issues ?? [];
    expect(issueProblems(issues)).toEqual([
      { path: ['a', 'c'], message: 'unknown key' },
      { path: ['a', 'd'], message: 'unknown key' },
    ]);
  });

  it('calls a missing value required', () => {
    const issues = schema.safeParse({ a: {}, status: 200 }).error?.issues ?? [];
    expect(issueProblems(issues)).toEqual([{ path: ['a', 'b'], message: 'required (expected number)' }]);
  });

  it('lists the expected types when no union branch comes close', () => {
    const issues = schema.safeParse({ a: { b: 1 }, status: 'abc' }).error?.issues ?? [];
    expect(issueProblems(issues)).toEqual([{ path: ['status'], message: 'expected number or tuple, received string' }]);
  });

  it('reports the deeper issue of the union branch that came closest', () => {
    const issues = schema.safeParse({ a: { b: 1 }, status: 99 }).error?.issues ?? [];
    expect(issueProblems(issues)).toEqual([{ path: ['status'], message: 'Too small: expected number to be >=100' }]);
  });
});

describe('ConfigError', () => {
  it('carries every problem and lists them in its message', () => {
    const err = new ConfigError(['schedule.intervl: unknown key', 'vantage.id: required (expected string)']);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('LOOKOUT_CONFIG_INVALID');
    expect(err.problems).toEqual(['schedule.intervl: unknown key', 'vantage.id: required (expected string)']);
    expect(err.message).toBe(
      'invalid configuration (2 problems):\n  schedule.intervl: unknown key\n  vantage.id: required (expected string)',
    );
  });
});
