import { describe, expect, it } from 'vitest';
import { RecordRing } from './record-ring.js';

describe('RecordRing', () => {
  it('finds items by id, with gaps between ids, and forgets the oldest beyond its count', () => {
    const ring = new RecordRing<string>(() => 1, { maxRecords: 4, maxBytes: 1000 });
    for (const id of [2, 5, 6, 9, 12]) ring.add(id, `r${id}`);
    expect(ring.size).toBe(4);
    expect(ring.get(2)).toBeUndefined();
    expect([5, 6, 9, 12].map((id) => ring.get(id))).toEqual(['r5', 'r6', 'r9', 'r12']);
    expect(ring.get(7)).toBeUndefined();
    expect(ring.get(13)).toBeUndefined();
  });

  it('keeps its estimated bytes within the bound and refuses an item larger than the whole bound', () => {
    const ring = new RecordRing<string>((s) => s.length, { maxRecords: 100, maxBytes: 10 });
    for (let id = 1; id <= 20; id++) {
      ring.add(id, 'abc');
      expect(ring.bytes).toBeLessThanOrEqual(10);
    }
    expect(ring.size).toBe(3);
    expect(ring.get(18)).toBe('abc');
    ring.add(21, 'x'.repeat(11));
    expect(ring.get(21)).toBeUndefined();
    expect(ring.get(20)).toBe('abc');
  });
});
