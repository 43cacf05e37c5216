/**
 * A fixed-capacity ring of items: pushing past the capacity overwrites the oldest. Memory is allocated
 * once, so a stream of any length costs the same. Index 0 of {@link RingBuffer.newest} is the latest item.
 */
export class RingBuffer<T> {
  readonly capacity: number;
  private readonly items: (T | undefined)[];
  /** Slot the next push writes to. */
  private head = 0;
  private count = 0;
  /** Items ever pushed; lets views notice change cheaply. */
  private total = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.items = new Array<T | undefined>(capacity);
  }

  /** Number of items held (≤ capacity). */
  get size(): number {
    return this.count;
  }

  /** Number of items ever pushed, including overwritten ones. */
  get pushed(): number {
    return this.total;
  }

  /** Appends one item, evicting the oldest when full. */
  push(item: T): void {
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.total++;
  }

  /** Appends items in order (the last one becomes the newest). */
  pushAll(items: readonly T[]): void {
    // Only the last `capacity` items can survive; skip the rest.
    const start = Math.max(0, items.length - this.capacity);
    for (let i = start; i < items.length; i++) this.push(items[i]);
    this.total += start;
  }

  /** The item `i` places back from the newest (0 = newest), or undefined when out of range. */
  newest(i: number): T | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head - 1 - i + this.capacity * 2) % this.capacity];
  }

  /** Items `from` (inclusive) to `to` (exclusive), counted from the newest. */
  sliceNewest(from: number, to: number): T[] {
    const out: T[] = [];
    const end = Math.min(to, this.count);
    for (let i = Math.max(0, from); i < end; i++) out.push(this.newest(i) as T);
    return out;
  }

  /** Removes every item. */
  clear(): void {
    this.items.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
