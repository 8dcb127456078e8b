/**
 * A gauge for families of tens of thousands of series written on the per-probe path (one or
 * more per target). prom-client's Gauge hashes the label set on every write and formats every
 * label of every series again at every scrape; at 50,000 targets a scrape then took about a
 * second with the event loop blocked. Here each series is an object its writer keeps: a write
 * is an assignment, and the series' label text is rendered once, when it is created.
 *
 * It is a prom-client Gauge so that it registers on a Registry like any metric (get() answers
 * with its series, for getMetricsAsJSON and friends); the text exposition comes from
 * exposition(), which LookoutRegistry uses. The inherited label-based methods (set(labels, v),
 * inc, labels, remove) are not used with it.
 */
import { Gauge, type MetricType, type Registry } from 'prom-client';

// prom-client's typings declare a metric's `type` as a numeric enum that the package does not
// export at run time; the value its metrics really carry is the string.
const GAUGE_TYPE = 'gauge' as unknown as MetricType;

/** A label value as the Prometheus text format wants it: backslash, newline and quote escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** Label pairs rendered as text, without braces: `a="x",b="y"`, in the given order. */
export function labelText(labels: Readonly<Partial<Record<string, string>>>): string {
  let text = '';
  for (const name in labels) text += `${text === '' ? '' : ','}${name}="${escapeLabelValue(labels[name] as string)}"`;
  return text;
}

/** A HELP text as prom-client writes it: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A sample value as prom-client writes it. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** One series: absent until set(), absent again after clear(). */
export class GaugeSeries {
  value = 0;
  present = false;
  /**
   * The exposition line as last rendered, with the value and label suffix it was rendered
   * for: a series whose value has not changed since the last scrape (most of them, when
   * Prometheus scrapes more often than targets are probed) costs no formatting and no garbage.
   */
  line: string | null = null;
  lineValue = 0;
  lineSuffix = '';

  /** @param text the label pairs as text (labelText), rendered once */
  constructor(
    readonly labels: Readonly<Partial<Record<string, string>>>,
    readonly text: string,
  ) {}

  set(value: number): void {
    this.value = value;
    this.present = true;
  }

  /** Leaves the series out of the exposition until the next set(). */
  clear(): void {
    this.present = false;
  }
}

export interface SeriesGaugeConfig<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
  /** Called before every read of the values (exposition or get()), to bring them up to date. */
  refresh?: () => void;
}

/** How SeriesGauge.pieces() cuts and paces its output. */
export interface PieceOptions {
  /** Awaited after every `pauseEvery` series (default 5,000), to let the event loop run. */
  pause?: () => Promise<void>;
  pauseEvery?: number;
  /** Lines per piece at most (default 1,000). */
  linesPerPiece?: number;
  /** Call the refresh callback first (default true). */
  refresh?: boolean;
}

type GaugeValues<L extends string> = Awaited<ReturnType<Gauge<L>['get']>>;

export class SeriesGauge<L extends string> extends Gauge<L> {
  /** Insertion-ordered, as prom-client orders its series. */
  private readonly all = new Set<GaugeSeries>();
  private readonly refresh: (() => void) | undefined;
  private readonly metricName: string;
  private readonly helpText: string;

  constructor(config: SeriesGaugeConfig<L>) {
    super({ name: config.name, help: config.help, labelNames: config.labelNames, registers: config.registers });
    this.metricName = config.name;
    this.helpText = config.help;
    this.refresh = config.refresh;
  }

  /**
   * A new series with these labels (in this order, which is the order of the exposition). The
   * caller keeps it and writes to it; two series with the same labels are both exposed. A label
   * left out is not exposed (to Prometheus the same as an empty value).
   */
  series(labels: Readonly<Partial<Record<L, string>>>): GaugeSeries {
    const s = new GaugeSeries(labels, labelText(labels));
    this.all.add(s);
    return s;
  }

  /** Removes a series for good. */
  delete(series: GaugeSeries): void {
    this.all.delete(series);
  }

  /** Series present now. */
  get size(): number {
    let n = 0;
    for (const s of this.all) if (s.present) n++;
    return n;
  }

  override reset(): void {
    // The base constructor calls reset() too, before this class's fields exist.
    if ((this.all as Set<GaugeSeries> | undefined) === undefined) return;
    for (const s of this.all) s.clear();
  }

  override get(): Promise<GaugeValues<L>> {
    this.refresh?.();
    const values: GaugeValues<L>['values'] = [];
    for (const s of this.all) if (s.present) values.push({ value: s.value, labels: { ...s.labels } as GaugeValues<L>['values'][number]['labels'] });
    const refresh = this.refresh ?? (() => undefined);
    return Promise.resolve({ name: this.metricName, help: this.helpText, type: GAUGE_TYPE, aggregator: 'sum', collect: refresh, values });
  }

  /**
   * The metric in the Prometheus text format, as prom-client renders it: HELP, TYPE, then one
   * line per present series with `extraText` (the registry's default labels as label text,
   * possibly empty) after the series' own labels. No trailing newline. With `pause`, it is
   * awaited after every `pauseEvery` series, so that a large family does not hold the event
   * loop for its whole length.
   */
  async exposition(extraText: string, pause?: () => Promise<void>, pauseEvery = 5000): Promise<string> {
    let text = '';
    for await (const piece of this.pieces(extraText, { pause, pauseEvery })) text += piece;
    return text.slice(0, -1);
  }

  /** Calls the refresh callback (it may throw): brings the values up to date. */
  refreshValues(): void {
    this.refresh?.();
  }

  /**
   * exposition() in pieces of at most `linesPerPiece` lines, each ending with a newline (so
   * their concatenation is exposition() plus a newline). Unless `refresh` is false, the values
   * are brought up to date when the first piece is asked for; a series written while the
   * pieces are being read shows its value as of when its piece was made. A large family is
   * never one string in memory.
   */
  async *pieces(extraText: string, opts: PieceOptions = {}): AsyncGenerator<string> {
    const { pause, pauseEvery = 5000, linesPerPiece = 1000, refresh = true } = opts;
    if (refresh) this.refreshValues();
    const name = this.metricName;
    const lines = [`# HELP ${name} ${escapeHelp(this.helpText)}`, `# TYPE ${name} gauge`];
    let seen = 0;
    for (const s of this.all) {
      if (pause && ++seen % pauseEvery === 0) await pause();
      if (!s.present) continue;
      if (s.line === null || s.lineValue !== s.value || s.lineSuffix !== extraText) {
        const labels = s.text === '' ? extraText : extraText === '' ? s.text : `${s.text},${extraText}`;
        s.line = labels === '' ? `${name} ${formatValue(s.value)}` : `${name}{${labels}} ${formatValue(s.value)}`;
        s.lineValue = s.value;
        s.lineSuffix = extraText;
      }
      lines.push(s.line);
      if (lines.length >= linesPerPiece) {
        yield `${lines.join('\n')}\n`;
        lines.length = 0;
      }
    }
    if (lines.length > 0) yield `${lines.join('\n')}\n`;
  }
}
