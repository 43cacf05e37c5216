import { describe, expect, it } from 'vitest';
import { BoundedMap, capMap } from './bounded-map.js';
import { createDecoder } from './decoder.js';
import { channelFlood } from './test-support/scenario.js';

describe('BoundedMap', () => {
  it('drops the oldest entries beyond its capacity, in insertion order, and counts them', () => {
    const dropped: number[] = [];
    const m = new BoundedMap<number, string>(3, (_v, k) => dropped.push(k));
    for (let i = 0; i < 6; i++) m.set(i, `v${i}`);
    expect([...m.keys()]).toEqual([3, 4, 5]);
    expect(dropped).toEqual([0, 1, 2]);
    expect(m.evicted).toBe(3);
    expect(m).toBeInstanceOf(Map);
  });

  it('skips deleted and re-inserted keys when evicting', () => {
    const m = new BoundedMap<string, number>();
    for (const k of ['a', 'b', 'c', 'd']) m.set(k, 0);
    m.delete('a');
    m.delete('b');
    m.set('a', 1); // re-inserted: now the youngest
    m.set('c', 2); // replaced in place: keeps its age
    expect(capMap(m, 2)).toBe(1);
    expect([...m.keys()]).toEqual(['d', 'a']);
  });

  it('keeps no age queue without a capacity until it must evict, then evicts oldest first', () => {
    const m = new BoundedMap<string, number>();
    for (let i = 0; i < 100; i++) m.set(`k${i}`, i);
    m.delete('k0');
    m.touch('k1');
    m.delete('k5');
    m.set('k5', 5);
    expect(m.upsert('k2', () => -1)).toBe(2);
    expect(capMap(m, 99)).toBe(0);
    expect(m.queued).toBe(0);
    expect(m.steps).toBe(0);
    // Order now: k2 k3 k4 k6 ... k99 k1 k5.
    expect(capMap(m, 96)).toBe(3);
    expect([...m.keys()].slice(0, 2)).toEqual(['k6', 'k7']);
    expect(m.queued).toBe(96);
    expect(m.age('k5')).toBe(0);
    expect(m.age('k6')).toBe(95);
    m.touch('k6');
    m.set('k100', 100);
    expect(capMap(m, 95)).toBe(2);
    expect([...m.keys()].slice(0, 1)).toEqual(['k9']);
    expect([...m.keys()].slice(-3)).toEqual(['k5', 'k6', 'k100']);
  });

  it('keeps no age queue with a capacity until it must, and then ages and evicts as if it had from the start', () => {
    // Per-PV tables of the analyses: filled, read, never evicted, deleted from or refreshed.
    const idle = new BoundedMap<string, number>(4096);
    for (let i = 0; i < 1000; i++) idle.set(`k${i}`, i);
    for (let i = 0; i < 1000; i++) idle.set(`k${i}`, idle.get(`k${i}`)! + 1);
    expect(idle.upsert('k3', () => -1)).toBe(4);
    expect(idle.queued).toBe(0);
    // The same random operations on a map made to track from its first insertion (age() starts the tracking)
    // and on one left to start when it must: same entries in the same order, same ages, same evictions.
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    for (const capacity of [8, 64]) {
      const evicted: [number[], number[]] = [[], []];
      const eager = new BoundedMap<number, number>(capacity, (_v, k) => evicted[0].push(k));
      const lazy = new BoundedMap<number, number>(capacity, (_v, k) => evicted[1].push(k));
      eager.age(-1);
      for (let step = 0; step < 20_000; step++) {
        // The first steps only insert, delete and read: deletions before anything else starts the tracking.
        const op = step < capacity ? [50, 60, 70, 80, 85, 95][random(6)] : random(100);
        const key = random(step < capacity ? capacity / 2 : 4 * capacity);
        for (const m of [eager, lazy]) {
          if (op < 50) m.upsert(key, () => step);
          else if (op < 80) m.set(key, step);
          else if (op < 90) m.delete(key);
          else if (op < 95) m.touch(key);
          else m.get(key);
        }
        if (step === capacity + 8 || step % 997 === 996) {
          expect([...lazy.entries()]).toEqual([...eager.entries()]);
          for (const k of lazy.keys()) expect(lazy.age(k)).toBe(eager.age(k));
        }
      }
      expect(evicted[1]).toEqual(evicted[0]);
      expect(evicted[0].length).toBeGreaterThan(100);
    }
  });

  it('touch and upsert make an entry the youngest (LRU), so a hot entry survives a stream of new ones', () => {
    const m = new BoundedMap<string, number>(16);
    m.upsert('hot', () => -1);
    for (let i = 0; i < 1000; i++) {
      m.upsert(`cold${i}`, () => i);
      expect(m.upsert('hot', () => -2)).toBe(-1);
    }
    expect(m.size).toBe(16);
    expect(m.touch('cold999')).toBe(true);
    expect(m.touch('gone')).toBe(false);
    expect([...m.keys()].at(-1)).toBe('cold999');
  });

  it('evicts at a constant cost per insertion whatever was deleted before', () => {
    const cost = (n: number): number => {
      const m = new BoundedMap<number, number>(1000);
      for (let i = 0; i < n; i++) {
        m.set(i, i);
        // Deletions in the middle leave stale queue pairs that eviction must skip.
        if (i % 3 === 0) m.delete(i - 500);
      }
      expect(m.size).toBeLessThanOrEqual(1000);
      return m.steps;
    };
    const small = cost(100_000);
    const large = cost(300_000);
    expect(large / small).toBeLessThan(3.3);
    expect(large).toBeLessThan(2 * 300_000);
  });

  // The 100k/300k-channel version with the default caps, timed, is `pnpm --filter @ca-shark/decoder bench:eviction`.
  it('keeps a 3x larger channel flood within ~3x the eviction cost in the decoder', { timeout: 60_000 }, () => {
    const cap = 2_000;
    const steps = (channels: number): number => {
      const d = createDecoder({ limits: { maxChannels: cap } });
      d.pushCapture(channelFlood(channels));
      d.end();
      expect(d.state.statistics.evicted.channels).toBe(channels - cap);
      expect(d.state.channels.size).toBe(cap);
      return (d.state.channels as BoundedMap<number, unknown>).steps;
    };
    const small = steps(10_000);
    const large = steps(30_000);
    // Linear: 3x the channels cost 3x the eviction steps (the old scan-from-the-front grew quadratically).
    expect(large / small).toBeLessThanOrEqual(4);
    expect(large).toBeLessThan(2 * 30_000);
  });
});
