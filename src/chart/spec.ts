/**
 * The one chart Lookout draws, as a Vega-Lite spec (pure: data in, JSON spec out). The status
 * page's country charts (GET /api/v1/charts/country/{CC}.svg) and the event reports render the
 * same spec, server-side, through src/chart/renderer.ts.
 *
 * Up to three panels share one UTC time axis: reachability of the country and of each ASN,
 * reachability of each category (with the country beside it), and the latency ratio of the
 * country and its ASNs. Events are shaded bands across every panel, labelled in the first.
 * A minute without results is a gap in its line, never a line drawn across it.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SeriesKey, SeriesLine } from '../history/types.js';

/** A shaded interval: one event, clipped to the chart's window by the builder. */
export interface ChartBand {
  from: number;
  to: number;
  /** Short text drawn at the band's top left, e.g. "shutdown (blackhole)". */
  label: string;
}

/** The local time axis: a zone and its offset from UTC in the window (see report/time-zone.ts). */
export interface ChartZone {
  name: string;
  offsetMs: number;
}

export interface ChartInput {
  title: string;
  /** A line under the title (what, where); also the SVG's accessible description. */
  subtitle?: string;
  /** The window, ms since the epoch; [from, to). */
  from: number;
  to: number;
  lines: readonly SeriesLine[];
  bands: readonly ChartBand[];
  /** When set, each tick also shows the local time on a second label line. */
  zone?: ChartZone;
  /** Plot width in pixels; default 720. */
  width?: number;
  /** The chart's own country: other countries' ASN and category lines are labelled with theirs. */
  country?: string | null;
}

/** One point of a panel's data: `v` null where the minute had no result (a gap). */
interface Row {
  t: number;
  line: string;
  v: number | null;
}

const PANEL_HEIGHT = 140;
const BAND_COLOR = '#d62728';
/** The country's own line is drawn dark; ASNs and categories take the palette's colours. */
const TOTAL_COLOR = '#222222';
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#aec7e8'];

/** How a line is named in legends, the CSV and the report: KZ, AS9198, streaming; "@path" when bound. */
export function lineLabel(key: SeriesKey, home?: string | null): string {
  const name = key.asn !== null ? `AS${key.asn}` : key.category !== null ? key.category : (key.country ?? 'all');
  // Another country's ASN or category line (a blocked service abroad) says whose it is.
  const base = home !== undefined && home !== key.country && key.country !== null && !isTotal(key) ? `${name} (${key.country})` : name;
  return key.path === '' ? base : `${base} @${key.path}`;
}

/** True for a country's (or the whole vantage's) own line: neither an ASN nor a category. */
export function isTotal(key: SeriesKey): boolean {
  return key.asn === null && key.category === null;
}

/** Builds the spec; panels without lines are left out (a chart with no line at all says so). */
export function buildChartSpec(input: ChartInput): TopLevelSpec {
  const totals = input.lines.filter((l) => isTotal(l.key));
  const asns = input.lines.filter((l) => l.key.asn !== null);
  const categories = input.lines.filter((l) => l.key.asn === null && l.key.category !== null);
  const panels = [
    panel(input, 'reachability (country and ASNs)', [...totals, ...asns], 'reachability', { format: '.0%', domain: [0, 1] }),
    categories.length === 0 ? null : panel(input, 'reachability by category', [...totals, ...categories], 'reachability', { format: '.0%', domain: [0, 1] }),
    panel(input, 'latency over baseline (x)', [...totals, ...asns], 'latency_ratio', { format: '.1f', domain: null }),
  ].filter((p) => p !== null);
  const description = input.subtitle === undefined ? input.title : `${input.title}. ${input.subtitle}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    description,
    title: { text: input.title, ...(input.subtitle === undefined ? {} : { subtitle: input.subtitle }), anchor: 'start', offset: 12 },
    background: 'white',
    config: { font: 'DejaVu Sans', view: { stroke: '#ddd' }, axis: { labelColor: '#333', titleColor: '#333' } },
    resolve: { scale: { color: 'independent' } },
    vconcat: panels.map((p, i) => (i === 0 ? withBandLabels(p, input) : p)),
  } as TopLevelSpec;
}

type Panel = Record<string, unknown> & { layer: unknown[] };

function panel(input: ChartInput, title: string, lines: readonly SeriesLine[], field: 'reachability' | 'latency_ratio', y: { format: string; domain: [number, number] | null }): Panel {
  const rows: Row[] = [];
  for (const line of lines) {
    const label = lineLabel(line.key, input.country);
    for (const p of line.points) if (p.t >= input.from && p.t < input.to) rows.push({ t: p.t, line: label, v: p[field] });
  }
  const colors = new Map<string, string>();
  for (const line of lines) {
    const label = lineLabel(line.key, input.country);
    if (!colors.has(label)) colors.set(label, isTotal(line.key) ? TOTAL_COLOR : (PALETTE[colors.size % PALETTE.length] as string));
  }
  return {
    title: { text: title, fontSize: 12, anchor: 'start' },
    width: input.width ?? 720,
    height: PANEL_HEIGHT,
    layer: [
      bandLayer(input),
      {
        data: { values: rows },
        mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.5, invalid: 'break-paths-show-domains', clip: true },
        encoding: {
          x: timeAxis(input),
          y: {
            field: 'v',
            type: 'quantitative',
            title: null,
            scale: y.domain === null ? { zero: true, nice: true } : { domain: y.domain },
            axis: { format: y.format, tickCount: 5 },
          },
          color: {
            field: 'line',
            type: 'nominal',
            title: null,
            scale: { domain: [...colors.keys()], range: [...colors.values()] },
            legend: { orient: 'right', labelLimit: 160 },
          },
        },
      },
    ],
  };
}

/** The shared x encoding: a UTC scale over the window; ticks show UTC and, with a zone, local time. */
function timeAxis(input: ChartInput): Record<string, unknown> {
  const pattern = input.to - input.from > 36 * 3600_000 ? '%d %b %H:%M' : '%H:%M';
  const utc = `utcFormat(datum.value, '${pattern}')`;
  const labelExpr = input.zone === undefined ? utc : `[${utc}, utcFormat(time(datum.value) + ${input.zone.offsetMs}, '${pattern}')]`;
  const title = input.zone === undefined ? 'time (UTC)' : `time: UTC (first line), ${input.zone.name} ${formatOffset(input.zone.offsetMs)} (second line)`;
  return {
    field: 't',
    type: 'temporal',
    title,
    scale: { type: 'utc', domain: [input.from, input.to] },
    axis: { labelExpr, tickCount: 8, labelOverlap: true },
  };
}

/** "UTC+06:00", "UTC-03:30". */
export function formatOffset(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `UTC${ms < 0 ? '-' : '+'}${hh}:${mm}`;
}

function clippedBands(input: ChartInput): { from: number; to: number; label: string }[] {
  return input.bands
    .map((b) => ({ from: Math.max(b.from, input.from), to: Math.min(b.to, input.to), label: b.label }))
    .filter((b) => b.to > b.from);
}

function bandLayer(input: ChartInput): Record<string, unknown> {
  return {
    data: { values: clippedBands(input) },
    mark: { type: 'rect', color: BAND_COLOR, opacity: 0.15 },
    encoding: { x: { field: 'from', type: 'temporal' }, x2: { field: 'to' } },
  };
}

/** Adds the events' labels at the top of a panel's bands. */
function withBandLabels(p: Panel, input: ChartInput): Panel {
  const labels = {
    data: { values: clippedBands(input) },
    mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 3, color: '#8b1a1a', fontSize: 10 },
    encoding: {
      x: { field: 'from', type: 'temporal' },
      y: { value: 0 },
      text: { field: 'label' },
    },
  };
  return { ...p, layer: [...p.layer, labels] };
}
