/** Something that can wait in a {@link FifoQueue} and be withdrawn from it. */
export interface Cancellable {
  cancelled: boolean;
}

/**
 * First-in first-out queue with O(1) push, shift and cancel. A cancelled item stays in place and
 * is skipped when it reaches the head; `size` counts only live items.
 */
export class FifoQueue<T extends Cancellable> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private live = 0;

  get size(): number {
    return this.live;
  }

  push(item: T): void {
    this.items.push(item);
    this.live++;
  }

  /** The oldest live item, removed from the queue; undefined when empty. */
  shift(): T | undefined {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      this.items[this.head] = undefined;
      this.head++;
      if (item !== undefined && !item.cancelled) {
        this.live--;
        this.compact();
        return item;
      }
    }
    this.compact();
    return undefined;
  }

  /** Withdraws a queued item. Only call it for an item that is in this queue and not yet shifted. */
  cancel(item: T): void {
    if (item.cancelled) return;
    item.cancelled = true;
    this.live--;
  }

  /** Removes and returns every live item, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i];
      if (item !== undefined && !item.cancelled) out.push(item);
    }
    this.items = [];
    this.head = 0;
    this.live = 0;
    return out;
  }

  // Drops the consumed prefix once it dominates, so the array does not grow without bound.
  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
