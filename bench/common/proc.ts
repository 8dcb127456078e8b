/**
 * What /proc says about a process: CPU time from /proc/<pid>/stat (utime + stime of all its
 * threads, in clock ticks, converted to seconds with CLK_TCK from `getconf CLK_TCK`) and
 * resident memory from /proc/<pid>/status.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
if (!Number.isFinite(CLK_TCK) || CLK_TCK <= 0) throw new Error('getconf CLK_TCK gave no usable value');

/**
 * The CPU fields of /proc/<pid>/stat in clock ticks: utime, stime, and cutime, cstime (the CPU
 * of the children it has waited for). Throws when the process is gone.
 */
function statTicks(pid: number): { utime: number; stime: number; cutime: number; cstime: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: fields after it start past the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state); utime, stime, cutime, cstime are fields 14 to 17.
  return { utime: Number(rest[11]), stime: Number(rest[12]), cutime: Number(rest[13]), cstime: Number(rest[14]) };
}

/**
 * utime + stime of process `pid`, in seconds; with `children`, plus cutime + cstime (the CPU of
 * the children it has waited for, such as the fping runs of Lookout's icmp prober). Throws when
 * the process is gone.
 */
export function cpuSeconds(pid: number, { children = false }: { children?: boolean } = {}): number {
  const t = statTicks(pid);
  return (t.utime + t.stime + (children ? t.cutime + t.cstime : 0)) / CLK_TCK;
}

/** utime and stime of process `pid` (all its threads), in seconds. Throws when the process is gone. */
export function cpuTimes(pid: number): { user: number; system: number } {
  const t = statTicks(pid);
  return { user: t.utime / CLK_TCK, system: t.stime / CLK_TCK };
}

export { CLK_TCK };

/** Resident memory of a process from /proc/<pid>/status: VmRSS (now) and VmHWM (peak), in MB. */
export function memoryMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}
