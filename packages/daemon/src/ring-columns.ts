/**
 * Typed columns of rings in slabs, where the entry with sequence number `seq` sits at `seq & SLAB_MASK` of its
 * slab: the message index and the packet ring keep their per-entry fields this way.
 */

/** Entries of a slab of {@link Slabs} (8,192), as a shift and a mask. */
export const SLAB_SHIFT = 13;
export const SLAB_SLOTS = 1 << SLAB_SHIFT;
export const SLAB_MASK = SLAB_SLOTS - 1;

/**
 * A ring's columns in slabs of {@link SLAB_SLOTS} entries: the entry `seq` sits at `seq & SLAB_MASK` of the
 * slab {@link of} gives. A slab is made when the newest entry first reaches it and let go once the oldest
 * entry held has left it (one is kept for the next), so the columns take what the ring holds and a slab
 * more, where columns that double take up to twice that, and three times while they double (the old and
 * the new ones): the packet ring's index at its 256 MiB bound went from about 13 MB held to 50-65 MB so.
 */
export class Slabs<S> {
  private slabs: (S | undefined)[] = [undefined, undefined];
  private mask = 1;
  /** Numbers (`floor(seq / SLAB_SLOTS)`) of the oldest and newest slabs made; low > high: none. */
  private low = 0;
  private high = -1;
  private spare: S | undefined;

  constructor(private readonly make: () => S) {}

  /** The slab of entry `seq` (one reserved and not let go). */
  of(seq: number): S {
    return this.slabs[(seq / SLAB_SLOTS) & this.mask] as S;
  }

  /** The slab of `seq`, the ring's new newest entry, made if need be; lets go of the slabs before `head`. */
  reserve(head: number, seq: number): S {
    const n = Math.floor(seq / SLAB_SLOTS);
    if (n <= this.high) return this.slabs[n & this.mask] as S;
    const oldest = Math.floor(head / SLAB_SLOTS);
    while (this.low < oldest && this.low <= this.high) {
      const at = this.low & this.mask;
      this.spare = this.slabs[at];
      this.slabs[at] = undefined;
      this.low += 1;
    }
    if (this.low > this.high) this.low = n;
    if (n - this.low >= this.slabs.length) this.regrow(n - this.low + 1);
    const slab = this.spare ?? this.make();
    this.spare = undefined;
    this.slabs[n & this.mask] = slab;
    this.high = n;
    return slab;
  }

  /** Slabs made and not let go (for tests). */
  get held(): number {
    return this.high - this.low + 1;
  }

  /** A larger table of slabs (a power of two of at least `needed`), each moved to its place there. */
  private regrow(needed: number): void {
    let size = this.slabs.length;
    while (size < needed) size *= 2;
    const slabs = new Array<S | undefined>(size).fill(undefined);
    for (let k = this.low; k <= this.high; k++) slabs[k & (size - 1)] = this.slabs[k & this.mask];
    this.slabs = slabs;
    this.mask = size - 1;
  }
}
