/**
 * The entries of one state table in order of the capture time their age counts from, earliest first (a
 * binary min-heap of parallel arrays), for {@link ConversationState}'s sweeps: a sweep takes entries off
 * the front while they are old enough and stops at the first young one, instead of walking the whole
 * table once per capture second.
 *
 * What a sweep needs is that every entry of the table has a pair no later than its time. The circuits and
 * channels are pushed whenever their time is set (once, mostly), and a popped pair whose entry left its
 * table or got another time is skipped. The searches and VERSION requests, whose times are set again on
 * every repeat, are pushed when they are new or when capture time went back, and a popped pair is judged
 * by its key's entry now: removed when old enough, pushed again by its time when young. Capture time is
 * not monotonic (merged or reordered captures), and a heap needs no order of pushes: the entries a sweep
 * removes are exactly those a walk of the table would (`now - t` never grows with `t`, in floating point
 * too, so all entries behind the first young one are young).
 */
export class ExpiryHeap<K> {
  private readonly times: number[] = emptyDoubles();
  private readonly keys: K[] = emptyObjects();

  /** Pairs held (stale ones included). */
  get size(): number {
    return this.times.length;
  }

  /** The earliest time held; `Infinity` when empty. */
  get earliest(): number {
    return this.times.length > 0 ? this.times[0] : Infinity;
  }

  /** The key of the earliest pair (valid while the heap is not empty). */
  get earliestKey(): K {
    return this.keys[0];
  }

  /** Adds `key` by `time`. A NaN time is never old enough in a sweep's comparison: not kept. */
  push(time: number, key: K): void {
    if (Number.isNaN(time)) return;
    const times = this.times;
    const keys = this.keys;
    let i = times.length;
    times.push(time);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent];
      if (pt <= time) break;
      times[i] = pt;
      keys[i] = keys[parent];
      i = parent;
    }
    times[i] = time;
    keys[i] = key;
  }

  /**
   * Whether the heap holds so many stale pairs beyond its table's `entries` that it should be cleared and
   * refilled from the table: more than twice the entries and {@link EXPIRY_SLACK} (a search retried many
   * times while capture time runs behind pushes a pair each time).
   */
  overfull(entries: number): boolean {
    return this.times.length > entries * 2 + EXPIRY_SLACK;
  }

  /** Removes the earliest pair. */
  pop(): void {
    const times = this.times;
    const keys = this.keys;
    const last = times.length - 1;
    if (last < 0) return;
    const time = times[last];
    const key = keys[last];
    times.pop();
    keys.pop();
    if (last === 0) return;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      if (child + 1 < last && times[child + 1] < times[child]) child++;
      if (times[child] >= time) break;
      times[i] = times[child];
      keys[i] = keys[child];
      i = child;
    }
    times[i] = time;
    keys[i] = key;
  }

  /** Drops every pair (before the heap is refilled from its table). */
  clear(): void {
    this.times.length = 0;
    this.keys.length = 0;
  }
}

/** Stale pairs an {@link ExpiryHeap} may hold beyond twice its table's entries before it is rebuilt. */
const EXPIRY_SLACK = 1024;

/**
 * Empty arrays whose elements kinds are the most general their heaps need from the start: doubles for the
 * times (the first may be whole numbers, kept as small integers, the next fractional), any value for the
 * keys (ids in some heaps, strings in others). A change of an array's elements kind in optimised code, or
 * one `push` seeing both kinds, deoptimised it once per process.
 */
function emptyDoubles(): number[] {
  const a = [DOUBLE];
  a.length = 0;
  return a;
}
function emptyObjects<T>(): T[] {
  const a: unknown[] = [OBJECT];
  a.length = 0;
  return a as T[];
}
const DOUBLE = 0.5;
const OBJECT = {};
