/**
 * A `Map` that can drop its oldest entries in O(1) amortised time, for every size-capped table of the
 * decoder's state, the analyses and the daemon.
 *
 * Why not `map.keys().next()`: V8 leaves a hole in a Map's backing store for every deleted entry until the
 * store is rebuilt, and a fresh iterator walks over all the holes at the front before it finds the first
 * live entry. Evicting the oldest entry that way after many deletions costs O(deletions) per eviction, so a
 * capped table fed with distinct keys degrades quadratically (100k distinct channels decoded in 1.6 s,
 * 300k in 35-53 s). Here the age order is a separate queue of (key, stamp) pairs: every key is pushed once
 * per insertion or refresh and popped at most once, and a popped pair is skipped unless its stamp is still
 * the key's latest, so each eviction costs O(1) amortised whatever was deleted before.
 *
 * It is a real `Map` (iteration in insertion order, `instanceof Map`, `ReadonlyMap` views), so code that
 * reads the state is unchanged.
 *
 * The queue and the stamps cost about 50 bytes an entry on top of the Map's own 37, so a map keeps neither
 * until it needs them, and builds them then from the Map's iteration order, which is the age order (a
 * refresh re-inserts the key), in one pass over the map:
 * - a map without a capacity (the decoder's state, trimmed by {@link capMap} to its limits) when it first
 *   has to evict or is asked an age: on real traffic the decoder's tables stay far below their limits and
 *   entries leave by expiry, which needs only the Map;
 * - a map with a capacity (the analyses' tables, hundreds of them per PV or circuit, most of which never
 *   fill) when it first evicts, deletes, refreshes or is asked an age. Until then every key was inserted
 *   once and none left, so the queue built then is the one kept from the start would be, stamps and clock
 *   included: ages and eviction order are exactly those of a map that tracked from its first insertion.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  /** Age queue: keys and their stamps, oldest first from `head`. */
  private queueKeys: K[] = [];
  private queueStamps: number[] = [];
  private head = 0;
  /** The latest stamp of every live key; a queue pair with another stamp is stale. */
  private readonly stamps = new Map<K, number>();
  private clock = 0;
  /** Whether the queue and the stamps are kept (see the class comment for when they start). */
  private tracked = false;
  /** Entries dropped to stay within the capacity (reported so truncation is never silent). */
  evicted = 0;
  /**
   * Queue pairs looked at while evicting or compacting: a deterministic measure of eviction cost (tests
   * check it grows linearly with the number of insertions, which wall time on a shared machine cannot).
   */
  steps = 0;

  /** Pairs held in the age queue (0 while the map keeps none): what the map costs beyond a plain Map. */
  get queued(): number {
    return this.queueKeys.length - this.head;
  }

  /**
   * @param capacity entries kept by {@link BoundedMap.set}: beyond it the oldest is dropped (and given to
   *   `onEvict`). `Infinity` keeps everything until {@link BoundedMap.trimTo} is called.
   */
  constructor(
    readonly capacity: number = Infinity,
    private readonly onEvict?: (value: V, key: K) => void,
  ) {
    super();
  }

  /** Insert or replace; a new key becomes the youngest, and the oldest entries beyond the capacity go. */
  override set(key: K, value: V): this {
    if (!this.tracked) {
      super.set(key, value);
      // trimTo starts the tracking with this key the youngest, as a tracked map would have pushed it.
      if (super.size > this.capacity) this.trimTo(this.capacity, this.onEvict);
      return this;
    }
    const isNew = !super.has(key);
    super.set(key, value);
    if (isNew) {
      this.push(key);
      if (super.size > this.capacity) this.trimTo(this.capacity, this.onEvict);
    }
    return this;
  }

  override delete(key: K): boolean {
    // A map with a capacity tracks from its first deletion: the ages it gives later count this key's insertion.
    if (!this.tracked && this.capacity !== Infinity && super.has(key)) this.track();
    if (!super.delete(key)) return false;
    if (this.tracked) {
      this.stamps.delete(key);
      this.maybeCompact();
    }
    return true;
  }

  override clear(): void {
    super.clear();
    this.stamps.clear();
    this.queueKeys = [];
    this.queueStamps = [];
    this.head = 0;
    this.tracked = false;
  }

  /** Make an existing key the youngest (least-recently-used order); false when the key is absent. */
  touch(key: K): boolean {
    const value = super.get(key);
    if (value === undefined && !super.has(key)) return false;
    if (this.capacity !== Infinity) this.track();
    // Re-inserting also moves the key to the end of the Map's own iteration order, so iterating lists
    // entries oldest first, as the age queue has them.
    super.delete(key);
    super.set(key, value as V);
    if (this.tracked) {
      this.push(key);
      this.maybeCompact();
    }
    return true;
  }

  /**
   * Insertions and refreshes since `key` was last made the youngest (Infinity when absent). On a map without
   * a capacity the count starts at the first call (the keys older than that are aged by their order).
   */
  age(key: K): number {
    this.track();
    const stamp = this.stamps.get(key);
    return stamp === undefined ? Infinity : this.clock - stamp;
  }

  /**
   * The value for `key`, created with `create` when absent. A hit is refreshed only when more than a
   * quarter of the capacity was inserted or refreshed since it last was: approximate LRU, so a hot key costs
   * one lookup per use rather than a re-insertion.
   */
  upsert(key: K, create: () => V): V {
    const value = super.get(key);
    if (value !== undefined || super.has(key)) {
      // An untracked map has had `size` insertions and nothing else, so no key is older than that.
      const refreshAge = this.capacity / 4;
      if ((this.tracked || super.size > refreshAge) && this.age(key) > refreshAge) this.touch(key);
      return value as V;
    }
    const created = create();
    this.set(key, created);
    return created;
  }

  /** Drop the oldest entries until at most `max` remain; returns how many were dropped. */
  trimTo(max: number, onDrop?: (value: V, key: K) => void): number {
    if (super.size <= max) return 0;
    this.track();
    let dropped = 0;
    while (super.size > max && this.head < this.queueKeys.length) {
      const key = this.queueKeys[this.head];
      const stamp = this.queueStamps[this.head];
      this.head++;
      this.steps++;
      if (this.stamps.get(key) !== stamp) continue;
      const value = super.get(key) as V;
      super.delete(key);
      this.stamps.delete(key);
      dropped++;
      onDrop?.(value, key);
    }
    this.evicted += dropped;
    this.maybeCompact();
    return dropped;
  }

  /** Starts keeping the queue and the stamps: every key, oldest first, as the Map's order has them. */
  private track(): void {
    if (this.tracked) return;
    this.tracked = true;
    for (const key of super.keys()) {
      this.steps++;
      this.push(key);
    }
  }

  private push(key: K): void {
    const stamp = ++this.clock;
    this.stamps.set(key, stamp);
    this.queueKeys.push(key);
    this.queueStamps.push(stamp);
  }

  /**
   * Rebuild the queue once stale pairs outnumber live entries or the consumed front outgrows the rest, so it
   * stays O(size) and each pair is copied O(1) times.
   */
  private maybeCompact(): void {
    const pending = this.queueKeys.length - this.head;
    const stale = pending >= 64 && pending > 2 * super.size;
    const consumed = this.head >= 1024 && this.head >= pending;
    if (!stale && !consumed) return;
    const keys: K[] = [];
    const stamps: number[] = [];
    for (let i = this.head; i < this.queueKeys.length; i++) {
      this.steps++;
      const key = this.queueKeys[i];
      if (this.stamps.get(key) === this.queueStamps[i]) {
        keys.push(key);
        stamps.push(this.queueStamps[i]);
      }
    }
    this.queueKeys = keys;
    this.queueStamps = stamps;
    this.head = 0;
  }
}

/**
 * Drops the oldest entries of an insertion-ordered map until it is within `max`; returns how many. O(1)
 * amortised for a {@link BoundedMap}; a plain Map falls back to scanning from its first entry (fine for the
 * small per-circuit tables, costly for large ones: make those BoundedMaps).
 */
export function capMap<K, V>(map: Map<K, V>, max: number, onDrop?: (v: V) => void): number {
  if (map instanceof BoundedMap) return map.trimTo(max, onDrop);
  let dropped = 0;
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done) break;
    const v = map.get(first.value) as V;
    map.delete(first.value);
    onDrop?.(v);
    dropped++;
  }
  return dropped;
}
