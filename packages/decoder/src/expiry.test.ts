import { describe, expect, it } from 'vitest';
import { ExpiryHeap } from './expiry.js';

describe('ExpiryHeap', () => {
  it('gives its pairs earliest first, whatever the order of pushes and pops', () => {
    let seed = 12345;
    const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const heap = new ExpiryHeap<number>();
    const model: { time: number; key: number }[] = [];
    for (let step = 0; step < 20_000; step++) {
      if (model.length === 0 || random() < 0.55) {
        // Few distinct times: ties, and times before those already taken off.
        const time = Math.floor(random() * 200) / 4 - 10;
        heap.push(time, step);
        model.push({ time, key: step });
      } else {
        const earliest = Math.min(...model.map((p) => p.time));
        expect(heap.earliest).toBe(earliest);
        const key = heap.earliestKey;
        const i = model.findIndex((p) => p.key === key);
        expect(model[i].time).toBe(earliest);
        model.splice(i, 1);
        heap.pop();
      }
      expect(heap.size).toBe(model.length);
    }
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.earliest).toBe(Infinity);
  });

  it('keeps no pair of a NaN time (never old enough for a sweep)', () => {
    const heap = new ExpiryHeap<number>();
    heap.push(Number.NaN, 1);
    heap.push(5, 2);
    expect(heap.size).toBe(1);
    expect(heap.earliestKey).toBe(2);
  });

  it('is overfull, to be rebuilt from its table, beyond twice the table and 1,024 stale pairs', () => {
    const heap = new ExpiryHeap<number>();
    for (let i = 0; i < 1044; i++) heap.push(i, i);
    expect(heap.overfull(10)).toBe(false);
    heap.push(1044, 1044);
    expect(heap.overfull(10)).toBe(true);
    expect(heap.overfull(11)).toBe(false);
  });
});
