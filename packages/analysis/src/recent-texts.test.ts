import { describe, expect, it } from 'vitest';
import { RecentTexts } from './recent-texts.js';

/** A seeded generator (tests must repeat): a 32-bit LCG. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const encoder = new TextEncoder();
/** What the model calls an array's identity: its tag, n and items, -0 apart from 0 (NaN is never found). */
const keyOf = (items: readonly number[], tag: number, n: number): string | null =>
  items.some((v) => Number.isNaN(v))
    ? null
    : `${tag}/${n}/${items.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}`;

describe('RecentTexts', () => {
  it('finds the text of each of the last arrays kept, and nothing else, over 20,000 seeded arrays', () => {
    const size = 8;
    const recent = new RecentTexts(size, 50);
    const random = seeded(7);
    // A few base arrays and their near neighbours, so that finds hit and near misses are common.
    const bases = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 1 + Math.floor(random() * 40) }, (_, i) => (b * 31 + i * 7) % 11),
    );
    const kept: { key: string; text: string }[] = [];
    let hits = 0;
    for (let round = 0; round < 20_000; round++) {
      const items = [...bases[Math.floor(random() * bases.length)]];
      const change = random();
      const at = Math.floor(random() * items.length);
      if (change < 0.1) items[at] += 1;
      else if (change < 0.15) items[at] = items[at] === 0 ? -0 : 0;
      else if (change < 0.17) items[at] = Number.NaN;
      const tag = random() < 0.1 ? 1 : 0;
      const n = random() < 0.1 ? items.length + 1 : items.length;
      const key = keyOf(items, tag, n);
      const found = recent.find(Float64Array.from(items), tag, n);
      const expected = kept.find((k) => k.key === key);
      expect(found === null ? null : new TextDecoder().decode(found)).toBe(expected?.text ?? null);
      if (found !== null) {
        hits++;
        continue;
      }
      const text = `#${round}:${key}`;
      const bytes = encoder.encode(`..${text}..`);
      recent.keep(bytes, 2, bytes.length - 2, items, tag, n);
      kept.push({ key: key ?? `nan ${round}`, text });
      if (kept.length > size) kept.shift();
    }
    expect(hits).toBeGreaterThan(2000);
  });

  it('keeps no array longer than its bound, and no empty one', () => {
    const recent = new RecentTexts(4, 3);
    const bytes = encoder.encode('abc');
    recent.keep(bytes, 0, 3, [1, 2, 3, 4], 0, 4);
    expect(recent.find([1, 2, 3, 4], 0, 4)).toBeNull();
    recent.keep(bytes, 0, 3, [], 0, 0);
    expect(recent.find([], 0, 0)).toBeNull();
    recent.keep(bytes, 0, 3, [1, 2, 3], 0, 3);
    expect(new TextDecoder().decode(recent.find(new Int16Array([1, 2, 3]), 0, 3)!)).toBe('abc');
  });
});
