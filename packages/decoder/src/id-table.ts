/**
 * A table from 32-bit ids to values in insertion order, with the reading side of a `Map` (`get`, `has`,
 * `size`, `keys`, `values`, `entries`, iteration, `forEach`), for a circuit's pending reads and writes
 * (`CircuitInfo.pendingIo`), which take an entry with nearly every request and drop it with its reply.
 *
 * Why not a `Map`: V8 rehashes a Map's table into a new one whenever it fills up (growing, or compacting
 * the holes deletions left) and whenever deletions leave it a quarter full (shrinking), so the bursts of
 * pipelined reads on a busy circuit grew and shrank each circuit's table again and again, and the table
 * replaced each time it emptied was a new one too: about 5,000 rehashes (`Runtime_MapGrow`,
 * `Runtime_MapShrink`) and a new table each in three passes over 20 MB of a realistic capture
 * (docs/performance.md, "Session 20: the decoder's copies and tables"). Here the arrays are made once and
 * only replaced when the live entries outgrow them: a deletion leaves a hole, an emptied table starts
 * over in the same arrays, and a full one is compacted in place unless more than half of it is live.
 *
 * Entries sit in arrays in insertion order (`ids`, `vals`; a deleted entry's value is undefined), chained
 * from `heads` by the low bits of their id (ids are handed out in sequence, so those bits spread them).
 */

/** Entries of a table's first arrays (a power of two). */
const INITIAL_ENTRIES = 8;
/** Marks the end of a chain. */
const NONE = -1;

export class IdTable<V extends object> {
  /** Ids, values and chain links of the entries, in insertion order; a deleted entry's value is undefined. */
  private ids: number[] = [];
  private vals: (V | undefined)[] = [];
  private links: number[] = [];
  /** The newest entry of each chain (`id & mask`), or {@link NONE}. */
  private heads: number[] = [];
  private mask = -1;
  /** Entries used (live or deleted), and the first that may be live. */
  private end = 0;
  private first = 0;
  private live = 0;

  /** Entries held. */
  get size(): number {
    return this.live;
  }

  get(id: number): V | undefined {
    const e = this.find(id);
    return e === NONE ? undefined : this.vals[e];
  }

  has(id: number): boolean {
    return this.find(id) !== NONE;
  }

  /** Sets the value of `id`: in its place when it is there (as `Map.set` does), as the newest otherwise. */
  set(id: number, value: V): this {
    const e = this.find(id);
    if (e !== NONE) {
      this.vals[e] = value;
      return this;
    }
    if (this.end === this.ids.length) this.makeRoom();
    const at = this.end++;
    const chain = id & this.mask;
    this.ids[at] = id;
    this.vals[at] = value;
    this.links[at] = this.heads[chain];
    this.heads[chain] = at;
    this.live++;
    return this;
  }

  delete(id: number): boolean {
    return this.take(id) !== undefined;
  }

  /** Deletes `id` and returns its value (undefined when it was not there): `get` and `delete` in one lookup. */
  take(id: number): V | undefined {
    const e = this.find(id);
    if (e === NONE) return undefined;
    const value = this.vals[e];
    this.vals[e] = undefined;
    if (--this.live === 0) this.restart();
    else if (e === this.first) this.skipDeleted();
    return value;
  }

  /** Drops the oldest entries until at most `max` are left; returns how many were dropped. */
  trimTo(max: number): number {
    let dropped = 0;
    while (this.live > max) {
      this.take(this.ids[this.first]);
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    if (this.live > 0) this.restart();
  }

  *keys(): IterableIterator<number> {
    for (let e = this.first; e < this.end; e++) if (this.vals[e] !== undefined) yield this.ids[e];
  }

  *values(): IterableIterator<V> {
    for (let e = this.first; e < this.end; e++) {
      const v = this.vals[e];
      if (v !== undefined) yield v;
    }
  }

  *entries(): IterableIterator<[number, V]> {
    for (let e = this.first; e < this.end; e++) {
      const v = this.vals[e];
      if (v !== undefined) yield [this.ids[e], v];
    }
  }

  [Symbol.iterator](): IterableIterator<[number, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, id: number, table: this) => void): void {
    for (const [id, v] of this.entries()) callback(v, id, this);
  }

  /** The entries as an object by id, as the analyses' JSON writer shows a `Map` (not the arrays behind them). */
  toJSON(): Record<number, V> {
    return Object.fromEntries(this.entries());
  }

  private find(id: number): number {
    if (this.live === 0) return NONE;
    const { ids, vals, links } = this;
    for (let e = this.heads[id & this.mask]; e !== NONE; e = links[e]) {
      if (ids[e] === id && vals[e] !== undefined) return e;
    }
    return NONE;
  }

  /** The table emptied: the same arrays hold the next entries from the start. */
  private restart(): void {
    // Only the chains of the entries used since the last start can be set.
    const { ids, heads, mask } = this;
    for (let e = 0; e < this.end; e++) heads[ids[e] & mask] = NONE;
    this.end = 0;
    this.first = 0;
    this.live = 0;
  }

  private skipDeleted(): void {
    let e = this.first;
    while (this.vals[e] === undefined) e++;
    this.first = e;
  }

  /** The arrays are full: compact the live entries to their front, into larger arrays when more than half are live. */
  private makeRoom(): void {
    const size = this.ids.length;
    const entries = size === 0 ? INITIAL_ENTRIES : this.live * 2 > size ? size * 2 : size;
    const { ids, vals } = this;
    const from = this.first;
    const end = this.end;
    if (entries !== size) {
      this.ids = new Array<number>(entries).fill(0);
      this.vals = new Array<V | undefined>(entries).fill(undefined);
      this.links = new Array<number>(entries).fill(NONE);
      this.heads = new Array<number>(entries).fill(NONE);
      this.mask = entries - 1;
    } else {
      this.heads.fill(NONE);
    }
    let at = 0;
    for (let e = from; e < end; e++) {
      const v = vals[e];
      if (v === undefined) continue;
      const id = ids[e];
      const chain = id & this.mask;
      this.ids[at] = id;
      this.vals[at] = v;
      this.links[at] = this.heads[chain];
      this.heads[chain] = at;
      at++;
    }
    // What compaction left behind past the live entries is never read: values there are dropped.
    for (let e = at; e < end; e++) this.vals[e] = undefined;
    this.end = at;
    this.first = 0;
  }
}
