import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring.js';

describe('RingBuffer', () => {
  it('returns the newest first', () => {
    const r = new RingBuffer<number>(4);
    r.pushAll([1, 2, 3]);
    expect(r.size).toBe(3);
    expect(r.sliceNewest(0, 10)).toEqual([3, 2, 1]);
    expect(r.newest(0)).toBe(3);
    expect(r.newest(3)).toBeUndefined();
  });

  it('never holds more than its capacity and drops the oldest', () => {
    const r = new RingBuffer<number>(3);
    for (let i = 0; i < 10; i++) r.push(i);
    expect(r.size).toBe(3);
    expect(r.pushed).toBe(10);
    expect(r.sliceNewest(0, 3)).toEqual([9, 8, 7]);
  });

  it('keeps only the tail of a batch larger than the capacity', () => {
    const r = new RingBuffer<number>(3);
    r.push(-1);
    r.pushAll([0, 1, 2, 3, 4, 5]);
    expect(r.sliceNewest(0, 3)).toEqual([5, 4, 3]);
    expect(r.pushed).toBe(7);
  });

  it('slices a window in the middle and clears', () => {
    const r = new RingBuffer<string>(5);
    r.pushAll(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(r.sliceNewest(1, 3)).toEqual(['e', 'd']);
    r.clear();
    expect(r.size).toBe(0);
    expect(r.sliceNewest(0, 5)).toEqual([]);
  });

  it('rejects a bad capacity', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});
