/**
 * The console's history: the newest samples, bounded both by count (memory) and by age (the window the charts
 * show). Overwrites the oldest in place, so a push never allocates once the buffer is full.
 */
export class RingBuffer<T extends { t: number }> {
  private readonly items: Array<T | undefined>;
  private next = 0;
  private size = 0;

  constructor(
    readonly capacity: number,
    /** Samples older than this (relative to the newest) are left out of snapshot(). */
    readonly windowMs: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  push(item: T): void {
    this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
    this.size = Math.min(this.size + 1, this.capacity);
  }

  get length(): number {
    return this.size;
  }

  newest(): T | undefined {
    return this.size === 0 ? undefined : this.items[(this.next - 1 + this.capacity) % this.capacity];
  }

  /** Oldest first, only those within windowMs of `now` (the newest sample's time by default). */
  snapshot(now: number = this.newest()?.t ?? 0): T[] {
    const out: T[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i += 1) {
      const item = this.items[(start + i) % this.capacity]!;
      if (now - item.t <= this.windowMs) out.push(item);
    }
    return out;
  }
}
