import { describe, expect, it } from 'vitest';
import { SLAB_MASK, SLAB_SLOTS, Slabs } from './ring-columns.js';

describe('Slabs', () => {
  it('keeps every entry held at its slot while the ring grows, moves and shrinks, and only the slabs it needs', () => {
    let made = 0;
    const slabs = new Slabs(() => {
      made += 1;
      return new Float64Array(SLAB_SLOTS);
    });
    let head = 0;
    let tail = 0;
    // A deterministic walk: bursts of pushes, then drops, the held count rising to 9 slabs and back to 0.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 400; round++) {
      const pushes = random(3 * SLAB_SLOTS);
      for (let i = 0; i < pushes; i++) {
        slabs.reserve(head, tail)[tail & SLAB_MASK] = tail + 0.5;
        // A new slab lets go of every one before head's: it holds head's slab up to the newest, no more.
        if ((tail & SLAB_MASK) === 0)
          expect(slabs.held).toBe(Math.floor(tail / SLAB_SLOTS) - Math.floor(head / SLAB_SLOTS) + 1);
        tail += 1;
      }
      const live = tail - head;
      head += random(live + 1);
      if (round % 50 === 49) head = tail;
      // Every entry held reads back.
      for (let seq = head; seq < tail; seq += 97) expect(slabs.of(seq)[seq & SLAB_MASK]).toBe(seq + 0.5);
      if (tail > head) expect(slabs.of(tail - 1)[(tail - 1) & SLAB_MASK]).toBe(tail - 0.5);
    }
    // The last slab let go is reused (one is kept): fewer made than reached.
    expect(made).toBeLessThan(Math.floor(tail / SLAB_SLOTS) * 0.75);
  });

  it('numbers slabs past 2^32 entries the same way', () => {
    const slabs = new Slabs(() => new Uint32Array(SLAB_SLOTS));
    const start = 2 ** 32 - 3 * SLAB_SLOTS;
    for (let seq = start; seq < start + 6 * SLAB_SLOTS; seq++) slabs.reserve(start, seq)[seq & SLAB_MASK] = seq % 1000;
    for (let seq = start; seq < start + 6 * SLAB_SLOTS; seq += 31)
      expect(slabs.of(seq)[seq & SLAB_MASK]).toBe(seq % 1000);
  });
});
