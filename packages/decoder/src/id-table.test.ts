import { describe, expect, it } from 'vitest';
import { IdTable } from './id-table.js';

/** A small deterministic generator (the runs repeat). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('IdTable', () => {
  it('reads like a Map in insertion order through bursts of sets and deletes', () => {
    for (const seed of [1, 2, 3, 4]) {
      const next = random(seed);
      const table = new IdTable<{ v: number }>();
      const model = new Map<number, { v: number }>();
      // Sequential ids as IOIDs are, some reused, some at and above 2^31.
      const idOf = (r: number) =>
        r < 0.1 ? 2 ** 32 - 1 - Math.floor(r * 100) : r < 0.2 ? 2 ** 31 + Math.floor(r * 50) : Math.floor(r * 300);
      for (let step = 0; step < 5000; step++) {
        const r = next();
        const id = idOf(next());
        if (r < 0.45) {
          const value = { v: step };
          table.set(id, value);
          model.set(id, value);
        } else if (r < 0.7) {
          expect(table.delete(id)).toBe(model.delete(id));
        } else if (r < 0.95) {
          const had = model.get(id);
          model.delete(id);
          expect(table.take(id)).toBe(had);
        } else if (r < 0.99) {
          const max = Math.floor(next() * 40);
          let dropped = 0;
          while (model.size > max) {
            model.delete(model.keys().next().value as number);
            dropped++;
          }
          expect(table.trimTo(max)).toBe(dropped);
        } else {
          table.clear();
          model.clear();
        }
        expect(table.size).toBe(model.size);
        expect(table.get(id)).toBe(model.get(id));
        expect(table.has(id)).toBe(model.has(id));
        if (step % 97 === 0) {
          expect([...table]).toEqual([...model]);
          expect([...table.keys()]).toEqual([...model.keys()]);
          expect([...table.values()]).toEqual([...model.values()]);
        }
      }
    }
  });

  it('keeps a replaced value in its place and hands forEach the entries in order', () => {
    const table = new IdTable<string[]>();
    table.set(5, ['a']).set(7, ['b']).set(9, ['c']);
    table.set(5, ['a2']);
    table.delete(7);
    const seen: [number, string[]][] = [];
    table.forEach((v, id) => seen.push([id, v]));
    expect(seen).toEqual([
      [5, ['a2']],
      [9, ['c']],
    ]);
    expect([...table.entries()]).toEqual(seen);
    expect(JSON.parse(JSON.stringify(table))).toEqual({ 5: ['a2'], 9: ['c'] });
  });
});
