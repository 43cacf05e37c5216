import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded.js';

describe('BoundedMap', () => {
  it('never holds more than its capacity and counts what it evicted', () => {
    const m = new BoundedMap<number, number>(8);
    for (let i = 0; i < 100; i++) m.upsert(i, () => i);
    expect(m.size).toBe(8);
    expect(m.evicted).toBe(92);
    expect([...m.values()]).toEqual([92, 93, 94, 95, 96, 97, 98, 99]);
  });

  it('keeps an entry that is used all along while newer ones come and go', () => {
    const m = new BoundedMap<string, number>(16);
    m.upsert('hot', () => -1);
    for (let i = 0; i < 1000; i++) {
      m.upsert(`cold${i}`, () => i);
      expect(m.upsert('hot', () => -2)).toBe(-1);
    }
    expect(m.get('hot')).toBe(-1);
    expect(m.size).toBe(16);
  });
});
