import { describe, expect, it } from 'vitest';
import type { ResolvedTarget, WindowConfig } from '../../../src/config/schema.js';
import { watchIntervals } from '../../../src/windows/watch.js';

const t = (id: string, country: string, extra: Partial<ResolvedTarget> = {}): ResolvedTarget =>
  ({ id, kind: 'tcp', host: '127.0.0.1', port: 9, control: false, country, category: 'web', file: 'x.yaml', ...extra }) as ResolvedTarget;
const watch = (name: string, countries: string[], interval: number): WindowConfig => ({ name, kind: 'watch', cron: '0 6 * * *', duration: 3600_000, timezone: 'UTC', countries, interval });

describe('watchIntervals', () => {
  const targets = [t('kz-1', 'KZ'), t('kz-fast', 'KZ', { interval: 5_000 }), t('iq-1', 'IQ'), t('ctl', 'ZZ', { control: true })];

  it('shortens the covered countries to the shortest open watch interval, never lengthening a target', () => {
    const got = watchIntervals([watch('a', ['KZ'], 10_000), watch('b', ['KZ', 'IQ'], 20_000)], targets);
    expect(Object.fromEntries(got)).toEqual({ 'kz-1': 10_000, 'kz-fast': 5_000, 'iq-1': 20_000 });
  });

  it('covers every country but the controls when a watch names none; ignores other kinds', () => {
    const maint: WindowConfig = { name: 'm', kind: 'maintenance', cron: '0 6 * * *', duration: 60_000, timezone: 'UTC', countries: [] };
    expect(Object.fromEntries(watchIntervals([watch('all', [], 15_000), maint], targets))).toEqual({ 'kz-1': 15_000, 'kz-fast': 5_000, 'iq-1': 15_000 });
    expect(watchIntervals([maint], targets).size).toBe(0);
  });
});
