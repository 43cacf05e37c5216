/**
 * A bounded, evenly spaced sample of a stream of items whose length is not known in advance: what a
 * WebSocket client is sent when records match its filter faster than it can take them.
 *
 * It keeps every `stride`-th item offered since the last {@link EvenSample.take}; when it holds more than
 * its capacity (or bytes), it drops every other item it holds and doubles the stride, so what it holds is
 * always spread evenly over the whole interval, in order, in bounded memory and O(1) amortised time per
 * item. The newest item is always kept besides. {@link EvenSample.take} then picks at most `budget` items,
 * evenly spaced and ending with the newest. Deterministic: equal input gives equal output.
 *
 * Items are record texts on the main thread (the hub) and batch positions in the decoding worker, which
 * samples before it serialises anything (see subscriptions.ts); what the worker left out it reports as a
 * count ({@link EvenSample.skip}), so `offered` stays the exact number of records matched.
 */
export class EvenSample<T = string> {
  private items: T[] = [];
  private bytes = 0;
  private stride = 1;
  /** Items offered since the last take. */
  private seen = 0;
  /** Items counted as offered without being handed over (sampled out upstream) since the last take. */
  private skipped = 0;
  private newest: T | undefined;
  private readonly capacity: number;
  private readonly maxBytes: number;
  private readonly size: (item: T) => number;

  /**
   * `capacity` items (at least 2) and `maxBytes` of their size at most are held between takes; an item's
   * size is its text length unless `size` says otherwise.
   */
  constructor(capacity: number, maxBytes: number, size: (item: T) => number = textLength) {
    this.capacity = Math.max(2, capacity);
    this.maxBytes = maxBytes;
    this.size = size;
  }

  /** Items offered since the last take, those skipped included. */
  get offered(): number {
    return this.seen + this.skipped;
  }

  /** Counts `n` items as offered that were left out before reaching this sample. */
  skip(n: number): void {
    this.skipped += n;
  }

  /** Text bytes held (the newest item included). */
  get heldBytes(): number {
    return this.bytes + (this.newest === undefined || this.newestHeld() ? 0 : this.size(this.newest));
  }

  /** Offers the next item of the stream. */
  offer(item: T): void {
    const index = this.seen;
    this.seen += 1;
    this.newest = item;
    if (index % this.stride !== 0) return;
    this.items.push(item);
    this.bytes += this.size(item);
    while (this.items.length > 1 && (this.items.length > this.capacity || this.bytes > this.maxBytes)) this.thin();
  }

  /**
   * Takes at most `budget` items (at least one when any was offered): evenly spaced over what was offered
   * since the last take, oldest first, the newest always last; then starts a new interval.
   */
  take(budget: number): T[] {
    const held = this.items;
    if (this.newest !== undefined && !this.newestHeld()) held.push(this.newest);
    const n = held.length;
    const k = Math.max(1, Math.floor(budget));
    let out: T[];
    if (n <= k) out = held;
    else if (k === 1) out = [held[n - 1]];
    else {
      out = new Array<T>(k);
      for (let i = 0; i < k; i++) out[i] = held[Math.round((i * (n - 1)) / (k - 1))];
    }
    this.clear();
    return out;
  }

  /** Forgets what was offered since the last take. */
  clear(): void {
    this.items = [];
    this.bytes = 0;
    this.stride = 1;
    this.seen = 0;
    this.skipped = 0;
    this.newest = undefined;
  }

  /** True when the newest item offered is the last one held (its index is a multiple of the stride). */
  private newestHeld(): boolean {
    return this.items.length > 0 && (this.items.length - 1) * this.stride === this.seen - 1;
  }

  /** Keeps the items at even positions (indexes that are multiples of twice the stride). */
  private thin(): void {
    const kept: T[] = [];
    let bytes = 0;
    for (let i = 0; i < this.items.length; i += 2) {
      kept.push(this.items[i]);
      bytes += this.size(this.items[i]);
    }
    this.items = kept;
    this.bytes = bytes;
    this.stride *= 2;
  }
}

function textLength(item: unknown): number {
  return (item as string).length;
}
