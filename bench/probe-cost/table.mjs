/**
 * The plain-text report: the machine, the run's parameters, one row per prober and kind, and
 * per kind the ratio blackbox/lookout of CPU per probe (higher = Lookout cheaper).
 */
function fmt(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : 'n/a';
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 || i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Ratio blackbox/lookout of CPU ms per probe, per kind. */
export function ratios(rows) {
  const out = [];
  for (const kind of [...new Set(rows.map((r) => r.kind))]) {
    const l = rows.find((r) => r.kind === kind && r.prober === 'lookout');
    const b = rows.find((r) => r.kind === kind && r.prober === 'blackbox_exporter');
    if (l && b) out.push({ kind, lookout: l.cpuMsPerProbe, blackbox: b.cpuMsPerProbe, ratio: b.cpuMsPerProbe / l.cpuMsPerProbe });
  }
  return out;
}

export function formatTable(info, o, rows, command) {
  const main = table(
    ['kind', 'prober', 'probes', 'failed', 'probes/s', 'CPU s', 'CPU ms/probe', 'CPU s/1000 probes', 'probes/CPU s'],
    rows.map((r) => [
      r.kind,
      r.prober,
      String(r.probes),
      String(r.failed),
      fmt(r.probes / r.seconds, 1),
      fmt(r.cpuSeconds, 2),
      fmt(r.cpuMsPerProbe, 3),
      fmt(r.cpuMsPerProbe, 3),
      fmt(r.probesPerCpuSecond, 0),
    ]),
  );
  const ratio = table(
    ['kind', 'goal', 'blackbox ms/probe', 'lookout ms/probe', 'ratio blackbox/lookout'],
    ratios(rows).map((r) => [r.kind, r.kind === 'dns' ? '-' : '>= 2x', fmt(r.blackbox, 3), fmt(r.lookout, 3), `${fmt(r.ratio, 2)}x`]),
  );
  const skipped = rows.filter((r) => (r.skipped ?? 0) > 0).map((r) => `${r.kind}: ${r.skipped}`);
  return [
    'Per-probe CPU cost: Lookout vs blackbox_exporter',
    `machine: nproc ${info.nproc}, ${info.cpu}, node ${info.node}, kernel ${info.kernel}, CLK_TCK ${info.clkTck}`,
    `lookout: ${info.lookout}`,
    `blackbox_exporter: ${info.blackbox}`,
    `targets ${o.n}, rate ${o.rate}/s (each target every ${fmt(o.n / o.rate, 2)} s), warm-up ${fmt(o.warmup, 1)} s, window ${fmt(o.seconds, 1)} s per prober and kind, ${o.together ? 'both probers at once' : 'each prober alone'}`,
    `remote_write: ${o.remoteWrite ? 'on (every sample queued, fsynced and sent to a loopback sink)' : 'off'}`,
    `command: ${command}`,
    '',
    main,
    '',
    ratio,
    skipped.length > 0 ? `\nblackbox /probe calls skipped (driver at its in-flight cap): ${skipped.join(', ')}` : '',
    '',
  ].join('\n');
}
