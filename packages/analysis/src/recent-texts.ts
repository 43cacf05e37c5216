/**
 * The text written lately for arrays of numbers, to be written again when the same array comes back.
 *
 * Why: a CA server sends each monitor update to every client subscribed to the PV, so a capture carries the
 * same payload once per client within a few messages. In a 30 MB piece of the realistic capture, half the
 * items of the arrays the default text line prints, and 18 % of the waveform values `--json` writes, were in
 * one of the last 32 arrays; finding their digits again costs 100 to 1,000 times what comparing them does.
 * The CLI's numpy reprs (numpy-repr.ts) and the JSON numbers (json-number.ts) each keep one per thread.
 */

/** One array and its text. */
interface Known {
  tag: number;
  n: number;
  /** The items compared (`count` of them). */
  items: Float64Array;
  count: number;
  /** Room for the text; `text` is the text, a view of it. */
  room: Uint8Array;
  text: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/**
 * A ring of the last {@link size} arrays of at most {@link maxItems} items and their texts. An array is
 * known by a `tag` and a count `n` (what else the text depends on: the caller's element kind, the length
 * of an array of which the items are a part) and its items, compared as numbers that also tell -0 from 0
 * (NaN never matches: its text is found again).
 *
 * @example
 * const recent = new RecentTexts(32, 1000);
 * const known = recent.find(items, 0, items.length);
 * if (known !== null) out.raw(known);
 * else {
 *   const start = out.length;
 *   writeItems(out, items);
 *   recent.keep(out.bytes, start, out.length, items, 0, items.length);
 * }
 */
export class RecentTexts {
  private readonly known: Known[] = [];
  private next = 0;

  constructor(
    readonly size: number,
    readonly maxItems: number,
  ) {}

  /** The text kept for `items` with this `tag` and `n`, or null. */
  find(items: ArrayLike<number>, tag: number, n: number): Uint8Array | null {
    const count = items.length;
    if (count === 0 || count > this.maxItems) return null;
    const first = items[0];
    const last = items[count - 1];
    const known = this.known;
    for (let r = 0; r < known.length; r++) {
      const k = known[r];
      if (k.count !== count || k.n !== n || k.tag !== tag) continue;
      const kept = k.items;
      // The ends first: most arrays that differ do so there already.
      if (kept[0] !== first || kept[count - 1] !== last) continue;
      let i = 0;
      for (; i < count; i++) {
        const v = kept[i];
        if (v !== items[i] || (v === 0 && 1 / v !== 1 / items[i])) break;
      }
      if (i === count) return k.text;
    }
    return null;
  }

  /** Keeps `bytes[start, end)` as the text of `items` (with `tag` and `n`), in place of the oldest. */
  keep(bytes: Uint8Array, start: number, end: number, items: ArrayLike<number>, tag: number, n: number): void {
    const count = items.length;
    if (count === 0 || count > this.maxItems) return;
    const length = end - start;
    let k = this.known[this.next];
    if (k === undefined) {
      k = { tag, n, items: new Float64Array(count), count: 0, room: new Uint8Array(length), text: EMPTY };
      this.known.push(k);
    }
    this.next = (this.next + 1) % this.size;
    k.tag = tag;
    k.n = n;
    k.count = count;
    if (k.items.length < count) k.items = new Float64Array(Math.min(count * 2, this.maxItems));
    for (let i = 0; i < count; i++) k.items[i] = items[i];
    if (k.room.length < length) k.room = new Uint8Array(length * 2);
    k.room.set(bytes.subarray(start, end));
    k.text = k.room.subarray(0, length);
  }
}
