/**
 * Size-capped maps for the analyses' tables (keyed by PV, server or client, which an adversarial or very
 * long capture can make unbounded): the decoder's BoundedMap, whose eviction stays O(1) amortised.
 */
export { BoundedMap } from '@ca-shark/decoder';

/** One report table after bounding: the rows shown and how many others were left out. */
export interface Bounded<T> {
  rows: T[];
  /** Rows not shown (beyond the table's limit, or not kept to stay within memory bounds). */
  omitted: number;
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
