/**
 * Which window an event opened in: an event that opens while an `expected` window covering its
 * country is open carries `expected: <window>` (and its summary says so); a `vantage_offline`
 * that opens inside a `maintenance` window carries `maintenance: <window>`. Decided once, at
 * the opening, and kept until the event closes; applied to every copy of the event that leaves
 * the daemon (store, log, API), so the detector stays unaware of windows.
 */
import type { WindowConfig } from '../config/schema.js';
import type { DisruptionEvent } from '../detect/events.js';

type Marks = Pick<DisruptionEvent, 'expected' | 'maintenance'>;

export class EventWindows {
  private readonly marks = new Map<string, Marks>();

  /** Decides the windows of an event that just opened, from the windows open now. */
  opened(event: DisruptionEvent, open: readonly WindowConfig[]): void {
    const covers = (w: WindowConfig): boolean => w.countries.length === 0 || (event.country !== null && w.countries.includes(event.country));
    const marks: Marks = {};
    const expected = event.kind === 'vantage_offline' ? undefined : open.find((w) => w.kind === 'expected' && covers(w));
    if (expected) marks.expected = expected.name;
    const maintenance = event.kind === 'vantage_offline' ? open.find((w) => w.kind === 'maintenance') : undefined;
    if (maintenance) marks.maintenance = maintenance.name;
    if (marks.expected !== undefined || marks.maintenance !== undefined) this.marks.set(event.id, marks);
  }

  /** The event with its windows (a copy when it has any); an event resumed from the store keeps its own. */
  annotate(event: DisruptionEvent): DisruptionEvent {
    const marks = this.marks.get(event.id);
    if (!marks) return event;
    const out: DisruptionEvent = { ...event, ...marks };
    if (marks.expected !== undefined && !event.summary.includes(`(expected: ${marks.expected})`)) out.summary = `${event.summary} (expected: ${marks.expected})`;
    return out;
  }

  /** Takes back the windows of open events resumed from the store at start. */
  resume(events: readonly DisruptionEvent[]): void {
    for (const e of events) {
      if (e.expected !== undefined || e.maintenance !== undefined) this.marks.set(e.id, { ...(e.expected !== undefined ? { expected: e.expected } : {}), ...(e.maintenance !== undefined ? { maintenance: e.maintenance } : {}) });
    }
  }

  /** The open events (as annotate() gives them) that opened inside the expected window `name`: it ended, they overran it. */
  overran(name: string, open: readonly DisruptionEvent[]): DisruptionEvent[] {
    return open.filter((e) => this.marks.get(e.id)?.expected === name).map((e) => this.annotate(e));
  }

  /** Forgets a closed event (after its closing copy was annotated). */
  closed(id: string): void {
    this.marks.delete(id);
  }
}
