/**
 * The soak benchmark's control: an idle Node process that only measures its own event-loop
 * delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution, as prom-client measures the
 * daemon's) and prints its p99 in milliseconds every second, then resets. It does no work, so
 * its lag is what the machine's CPU contention alone costs a Node process: the floor under the
 * daemon's figure.
 * Usage: node idle-loop.js   (prints "p99 <ms>" lines)
 */
import process from 'node:process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setInterval } from 'node:timers';

const histogram = monitorEventLoopDelay({ resolution: 10 });
histogram.enable();
setInterval(() => {
  process.stdout.write(`p99 ${(histogram.percentile(99) / 1e6).toFixed(1)}\n`);
  histogram.reset();
}, 1000);
