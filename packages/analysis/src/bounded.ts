/**
 * A Map with a size cap that evicts the entry touched least recently. Analyses key their tables by PV,
 * server or client, which an adversarial or very long capture can make unbounded; this keeps memory flat.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, { value: V; touched: number }>();
  /** Counts insertions and refreshes; an entry's `touched` says when it was last moved to the young end. */
  private clock = 0;
  /** Entries dropped to stay under the cap (reported so truncation is never silent). */
  evicted = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key)?.value;
  }

  /**
   * Returns the entry, creating it with `create` (and evicting the oldest) when absent. Recency is kept
   * approximately: an entry is moved to the young end only when a quarter of the capacity has been
   * touched since it last was, so a hot entry costs one lookup, not a delete and an insert, per use.
   */
  upsert(key: K, create: () => V): V {
    const node = this.map.get(key);
    if (node !== undefined) {
      if (this.clock - node.touched > this.capacity >> 2) {
        this.map.delete(key);
        node.touched = ++this.clock;
        this.map.set(key, node);
      }
      return node.value;
    }
    const value = create();
    this.map.set(key, { value, touched: ++this.clock });
    if (this.map.size > this.capacity) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
      this.evicted++;
    }
    return value;
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  *values(): IterableIterator<V> {
    for (const node of this.map.values()) yield node.value;
  }

  *entries(): IterableIterator<[K, V]> {
    for (const [key, node] of this.map) yield [key, node.value];
  }
}

/** Keeps the `limit` largest items by a score, for top-N tables. */
export function topN<T>(items: Iterable<T>, limit: number, score: (item: T) => number): T[] {
  return [...items].sort((a, b) => score(b) - score(a)).slice(0, limit);
}
