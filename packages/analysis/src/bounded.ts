/**
 * A Map with a size cap that evicts the entry touched least recently. Analyses key their tables by PV,
 * server or client, which an adversarial or very long capture can make unbounded; this keeps memory flat.
 */
export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  /** Entries dropped to stay under the cap (reported so truncation is never silent). */
  evicted = 0;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Returns the entry, creating it with `create` (and evicting the oldest) when absent. */
  upsert(key: K, create: () => V): V {
    let value = this.map.get(key);
    if (value !== undefined) {
      // Re-insert so iteration order tracks recency.
      this.map.delete(key);
      this.map.set(key, value);
      return value;
    }
    value = create();
    this.map.set(key, value);
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

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}

/** Keeps the `limit` largest items by a score, for top-N tables. */
export function topN<T>(items: Iterable<T>, limit: number, score: (item: T) => number): T[] {
  return [...items].sort((a, b) => score(b) - score(a)).slice(0, limit);
}
