/**
 * Computations in steps, for work that must not hold a thread for long: the daemon's decoding worker
 * computes reports and views a slice at a time between frame batches (see the daemon's slices.ts), while
 * `ca-shark report` runs the same steps to the end at once ({@link runSteps}).
 *
 * A step function is a generator that yields (nothing) wherever it may be paused and returns its result.
 * Loops over big tables yield every {@link STEP_ITEMS} items. Tables that the decoder keeps changing between
 * slices are copied to an array first (a Map re-inserts refreshed keys, so a paused iteration could see an
 * entry twice); their entries are live objects, so a view computed over several slices mixes moments a few
 * milliseconds apart, never a half-updated entry.
 */
import type { Bounded } from './bounded.js';

/** A computation that may be paused at each `yield` and returns a `T`. */
export type Steps<T> = Generator<void, T, void>;

/** Items handled between two pauses of a long loop. */
export const STEP_ITEMS = 1024;

/** Runs a computation to its end at once. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done === true) return next.value;
  }
}

/** Maps `items` with `fn`, pausing every {@link STEP_ITEMS} items. */
export function* mapSteps<T, U>(items: readonly T[], fn: (item: T) => U): Steps<U[]> {
  const out = new Array<U>(items.length);
  for (let i = 0; i < items.length; i++) {
    out[i] = fn(items[i]);
    if ((i + 1) % STEP_ITEMS === 0) yield;
  }
  return out;
}

/** The items `keep` accepts, in order, pausing every {@link STEP_ITEMS} items looked at. */
export function* filterSteps<T>(items: readonly T[], keep: (item: T) => boolean): Steps<T[]> {
  const out: T[] = [];
  for (let i = 0; i < items.length; i++) {
    if (keep(items[i])) out.push(items[i]);
    if ((i + 1) % STEP_ITEMS === 0) yield;
  }
  return out;
}

/** Calls `fn` for each item, pausing every {@link STEP_ITEMS} items. */
export function* eachSteps<T>(items: Iterable<T>, fn: (item: T) => void): Steps<void> {
  let n = 0;
  for (const item of items) {
    fn(item);
    if (++n % STEP_ITEMS === 0) yield;
  }
}

/**
 * The first `limit` of `items` in `compare` order, and how many others there were: exactly what a stable
 * sort then a cut gives (equal items keep their order). A heap of the kept positions makes it
 * O(n log limit) whatever the input order, pausing every {@link STEP_ITEMS} items; only the kept items are
 * sorted at the end, and only they need to be turned into rows afterwards.
 */
export function* topSteps<T>(
  items: readonly T[],
  limit: number,
  compare: (a: T, b: T) => number,
  alsoOmitted = 0,
): Steps<Bounded<T>> {
  const omitted = Math.max(0, items.length - limit) + alsoOmitted;
  // Order of positions: by `compare`, then by position (what a stable sort keeps).
  const order = (i: number, j: number): number => compare(items[i], items[j]) || i - j;
  // A max-heap on that order: the root is the last kept item, the first to go.
  const heap: number[] = [];
  const down = (at: number): void => {
    const n = heap.length;
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let top = at;
      if (l < n && order(heap[l], heap[top]) > 0) top = l;
      if (r < n && order(heap[r], heap[top]) > 0) top = r;
      if (top === at) return;
      [heap[at], heap[top]] = [heap[top], heap[at]];
      at = top;
    }
  };
  for (let i = 0; i < items.length && limit > 0; i++) {
    if (heap.length < limit) {
      heap.push(i);
      for (let at = heap.length - 1; at > 0;) {
        const parent = (at - 1) >> 1;
        if (order(heap[at], heap[parent]) <= 0) break;
        [heap[at], heap[parent]] = [heap[parent], heap[at]];
        at = parent;
      }
    } else if (order(heap[0], i) > 0) {
      heap[0] = i;
      down(0);
    }
    if ((i + 1) % STEP_ITEMS === 0) yield;
  }
  heap.sort(order);
  return { rows: heap.map((i) => items[i]), omitted };
}
