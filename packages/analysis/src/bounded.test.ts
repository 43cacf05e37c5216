import { describe as suite, expect, it } from 'vitest';
import { BoundedMap, RecentLookup } from './bounded.js';

/** xorshift32, so a failing sequence can be replayed. */
function generator(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

suite('RecentLookup', () => {
  // Seconds of random runs: more than the default timeout on a busy shared machine.
  it(
    'keeps, refreshes and evicts the same keys as BoundedMap.upsert, in runs and out of them',
    { timeout: 60_000 },
    () => {
      for (const seed of [1, 7, 42, 1234, 99_991]) {
        const random = generator(seed);
        const capacity = 16;
        const plain = new BoundedMap<number, string>(capacity);
        const recent = new RecentLookup(new BoundedMap<number, string>(capacity));
        let key = 0;
        for (let step = 0; step < 20_000; step++) {
          const r = random();
          // Runs of one key (what records do), jumps among recent keys (refreshes) and new keys (evictions).
          if (r % 4 === 0) key = random() % 40;
          const op = random() % 50;
          if (op === 0) {
            expect(recent.delete(key)).toBe(plain.delete(key));
          } else {
            const expected = plain.upsert(key, () => `v${step}`);
            const got = recent.get(key) ?? recent.add(key, `v${step}`);
            expect(got).toBe(expected);
          }
          if (step % 97 === 0) {
            expect([...recent.map.keys()]).toEqual([...plain.keys()]);
            expect(recent.map.evicted).toBe(plain.evicted);
          }
        }
        expect([...recent.map.entries()]).toEqual([...plain.entries()]);
        expect(recent.map.evicted).toBe(plain.evicted);
        expect(plain.evicted).toBeGreaterThan(0);
      }
    },
  );

  it('forgets a deleted key: the next lookup misses', () => {
    const recent = new RecentLookup(new BoundedMap<string, number>(8));
    recent.add('a', 1);
    expect(recent.get('a')).toBe(1);
    recent.delete('a');
    expect(recent.get('a')).toBeUndefined();
  });
});
