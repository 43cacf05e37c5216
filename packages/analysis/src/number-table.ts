/**
 * A hash table from whole numbers to numbers in typed arrays, for tables that take an entry and drop it again
 * with nearly every message (a write's frame until its reply comes). A JS `Map` used that way reallocates its
 * hash table every few entries (it shrinks when nearly empty and rehashes when deleted entries fill it); once
 * the Map is in the old generation, each dead table links to the next one, which keeps every new table alive
 * through scavenges, so all of them are promoted and wait for a full collection. This table allocates only
 * when it doubles: open addressing with linear probing, and deletion by moving back the entries after the
 * removed one (no markers for deleted entries to fill it up).
 */

/** Slots of a fresh table (a power of two); it doubles when half full. */
const INITIAL_SLOTS = 16;
const TWO_32 = 2 ** 32;

export class NumberTable {
  private keys = new Float64Array(INITIAL_SLOTS);
  private values = new Float64Array(INITIAL_SLOTS);
  private used = new Uint8Array(INITIAL_SLOTS);
  private mask = INITIAL_SLOTS - 1;
  private count = 0;

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** The value of `key` (a whole number below 2^53), or undefined. */
  get(key: number): number | undefined {
    const slot = this.find(key);
    return slot < 0 ? undefined : this.values[slot];
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  set(key: number, value: number): void {
    const slot = this.find(key);
    if (slot >= 0) {
      this.values[slot] = value;
      return;
    }
    this.add(key, value);
  }

  /** Adds `key`, which must be absent (a {@link NumberTable.has} just said so): one probe fewer than `set`. */
  add(key: number, value: number): void {
    if (2 * (this.count + 1) > this.mask + 1) this.rebuild(2 * (this.mask + 1), () => true);
    this.place(key, value);
    this.count += 1;
  }

  delete(key: number): boolean {
    const slot = this.find(key);
    if (slot < 0) return false;
    this.remove(slot);
    this.count -= 1;
    return true;
  }

  /** Keeps only the entries `keep` accepts, in one pass. */
  retain(keep: (key: number, value: number) => boolean): void {
    this.rebuild(this.mask + 1, keep);
  }

  private find(key: number): number {
    const mask = this.mask;
    for (let slot = hashOf(key) & mask; ; slot = (slot + 1) & mask) {
      if (this.used[slot] === 0) return -1;
      if (this.keys[slot] === key) return slot;
    }
  }

  /** Puts an absent key into the first free slot of its probe sequence. */
  private place(key: number, value: number): void {
    const mask = this.mask;
    let slot = hashOf(key) & mask;
    while (this.used[slot] !== 0) slot = (slot + 1) & mask;
    this.keys[slot] = key;
    this.values[slot] = value;
    this.used[slot] = 1;
  }

  /**
   * Empties `slot`, moving back the entries after it in its cluster that probed past it, so that every
   * entry stays reachable from its home slot.
   */
  private remove(slot: number): void {
    const mask = this.mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; this.used[next] !== 0; next = (next + 1) & mask) {
      const home = hashOf(this.keys[next]) & mask;
      // The entry at `next` may move to the hole unless its home lies cyclically in (hole, next].
      const stays = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (stays) continue;
      this.keys[hole] = this.keys[next];
      this.values[hole] = this.values[next];
      hole = next;
    }
    this.used[hole] = 0;
  }

  /** Moves the entries `keep` accepts into fresh arrays of `slots` slots. */
  private rebuild(slots: number, keep: (key: number, value: number) => boolean): void {
    const { keys, values, used } = this;
    this.keys = new Float64Array(slots);
    this.values = new Float64Array(slots);
    this.used = new Uint8Array(slots);
    this.mask = slots - 1;
    this.count = 0;
    for (let i = 0; i < used.length; i++) {
      if (used[i] === 0 || !keep(keys[i], values[i])) continue;
      this.place(keys[i], values[i]);
      this.count += 1;
    }
  }
}

/** Home slot hash of a whole number (before masking): its low and high 32 bits mixed. */
function hashOf(key: number): number {
  let h = Math.imul(Math.floor(key / TWO_32) | 0, 0x9e3779b1) ^ (key >>> 0);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}
