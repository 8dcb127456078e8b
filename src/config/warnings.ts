/**
 * What is valid in a config but will hurt: said by check-config (on stderr, exit code
 * unchanged) so that an operator learns it before the daemon logs it at start.
 */
import { targetPath, type Config } from './schema.js';

/** One line per warning, each starting with "warning: "; none for a sound config. */
export function configWarnings(config: Config): string[] {
  const out: string[] = [];
  const controls = config.targets.filter((t) => t.control);
  if (controls.length === 0) {
    out.push('warning: no control targets: the daemon cannot tell its own outage from a real one (mark a few well-spread targets with control: true, see probes/controls.yaml)');
    return out;
  }
  const bare = new Set(config.targets.map(targetPath));
  for (const t of controls) bare.delete(targetPath(t));
  for (const path of [...bare].sort()) out.push(`warning: path ${path === '' ? '(default route)' : path} has no control targets: bind the controls through this source too`);
  return out;
}
