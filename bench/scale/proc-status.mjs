/** Resident memory of a process from /proc/<pid>/status: VmRSS (now) and VmHWM (peak), in MB. */
import { readFileSync } from 'node:fs';

export function memoryMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}
