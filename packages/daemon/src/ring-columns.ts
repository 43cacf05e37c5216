/**
 * Typed columns of power-of-two rings, where the entry with sequence number `seq` sits at
 * `seq & (length - 1)`: the message index and the packet ring keep their per-entry fields this way.
 */

/** A typed column of such a ring. */
export type RingColumn = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * Copies the entries `[head, end)` of `old` into `fresh` (a larger power-of-two length), each to its slot
 * there, and returns `fresh`. A run at a time (at most three: where the old or the new ring wraps), not
 * entry by entry: a ring doubles up to millions of entries while its consumer waits.
 */
export function regrowColumn<A extends RingColumn>(old: A, fresh: A, head: number, end: number): A {
  const oldMask = old.length - 1;
  const mask = fresh.length - 1;
  for (let seq = head; seq < end;) {
    const from = seq & oldMask;
    const to = seq & mask;
    const n = Math.min(end - seq, old.length - from, fresh.length - to);
    fresh.set(old.subarray(from, from + n), to);
    seq += n;
  }
  return fresh;
}
