/**
 * Size-capped maps for the analyses' tables (keyed by PV, server or client, which an adversarial or very
 * long capture can make unbounded): the decoder's BoundedMap, whose eviction stays O(1) amortised.
 */
import { BoundedMap } from '@ca-shark/decoder';

export { BoundedMap };

/**
 * A {@link BoundedMap} that remembers its latest lookup. Records come in runs of one circuit, one PV and
 * one server, so most lookups repeat the one before and are answered without the map. Exact: a hit on the
 * remembered key means no other key was added or refreshed since, so `map.upsert` would not refresh it
 * either (it refreshes a key only after a quarter of the capacity was added or refreshed) and it cannot
 * have been evicted (only an insertion evicts). Every change to the map goes through this object.
 */
export class RecentLookup<K, V> {
  private key: K | undefined = undefined;
  private value: V | undefined = undefined;
  /**
   * Insertions and refreshes made so far, up to the first that passes a quarter of the capacity: no key can
   * be older than that (an age counts those changes), so until then a hit needs no second lookup for its age.
   */
  private changes = 0;
  private readonly refreshAge: number;

  constructor(readonly map: BoundedMap<K, V>) {
    this.refreshAge = map.capacity / 4;
  }

  /** The value of `key` (refreshed as `map.upsert` refreshes a hit), or undefined. */
  get(key: K): V | undefined {
    if (key === this.key && this.value !== undefined) return this.value;
    const map = this.map;
    const value = map.get(key);
    // Values are never undefined here: a miss needs no has().
    if (value !== undefined && this.changes > this.refreshAge && map.age(key) > this.refreshAge) {
      map.touch(key);
    }
    this.key = key;
    this.value = value;
    return value;
  }

  /** Adds `key` (absent: {@link RecentLookup.get} said so), evicting the oldest beyond the capacity. */
  add(key: K, value: V): V {
    this.map.set(key, value);
    if (this.changes <= this.refreshAge) this.changes++;
    this.key = key;
    this.value = value;
    return value;
  }

  delete(key: K): boolean {
    if (key === this.key) this.value = undefined;
    return this.map.delete(key);
  }
}

/** One report table after bounding: the rows shown and how many others were left out. */
export interface Bounded<T> {
  rows: T[];
  /** Rows not shown (beyond the table's limit, or not kept to stay within memory bounds). */
  omitted: number;
}

/**
 * Orders two texts by UTF-16 code units, as `<` does: a table's order must not depend on the machine's
 * locale or ICU data (`localeCompare` puts `a` before `B`, code units `B` first), and the ICU collator
 * `localeCompare` goes through cost 13-30 ms of a report on realistic.pcap.
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorts `rows` (in place) with `compare` and keeps the first `limit`, counting the rest. */
export function firstRows<T>(rows: T[], limit: number, compare?: (a: T, b: T) => number, alsoOmitted = 0): Bounded<T> {
  if (compare !== undefined) rows.sort(compare);
  const omitted = Math.max(0, rows.length - limit) + alsoOmitted;
  return { rows: rows.length > limit ? rows.slice(0, limit) : rows, omitted };
}

/** Largest value of a collection, without spreading it into arguments (which overflows the stack). */
export function maxOf(values: Iterable<number>, start = -Infinity): number {
  let max = start;
  for (const v of values) if (v > max) max = v;
  return max;
}

/**
 * The latest `limit` rows of an append-only log (writes, EVENTS_OFF periods, finished circuits), oldest
 * first, and a count of the older rows dropped: memory stays O(limit) and each push is O(1) amortised.
 */
export class RecentRows<T> {
  private rows: T[] = [];
  /** Rows ever pushed. */
  total = 0;

  constructor(readonly limit: number) {}

  push(row: T): void {
    this.total++;
    this.rows.push(row);
    if (this.rows.length >= 2 * this.limit) this.rows = this.rows.slice(this.rows.length - this.limit);
  }

  /** The kept rows, oldest first. */
  list(): T[] {
    return this.rows.length > this.limit ? this.rows.slice(this.rows.length - this.limit) : this.rows.slice();
  }

  /** Rows pushed but no longer kept. */
  get dropped(): number {
    return this.total - Math.min(this.rows.length, this.limit);
  }
}
