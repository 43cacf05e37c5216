import { describe, expect, it } from 'vitest';
import { NumberTable } from './number-table.js';

describe('NumberTable', () => {
  it('answers as a Map over any run of sets, adds, deletes and retains, with clustered and large keys', () => {
    let x = 12345;
    const next = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    const table = new NumberTable();
    const model = new Map<number, number>();
    // Compared without expect() per step (a run of 100,000 of them takes seconds).
    let mismatches = 0;
    for (let i = 0; i < 100_000; i++) {
      const key = [next(300), 2 ** 32 + next(50), 2 ** 52 + next(50) * 2 ** 32, next(5000)][next(4)];
      const op = next(10);
      if (op < 5) {
        // add() is for keys known to be absent; set() for any.
        if (op < 2 && !table.has(key)) table.add(key, i);
        else table.set(key, i);
        model.set(key, i);
      } else if (op < 9) {
        if (table.delete(key) !== model.delete(key)) mismatches++;
      } else if (table.get(key) !== model.get(key) || table.has(key) !== model.has(key)) mismatches++;
      if (i % 10_000 === 9_999) {
        table.retain((k, v) => (k + v) % 3 !== 0);
        for (const [k, v] of model) if ((k + v) % 3 === 0) model.delete(k);
      }
      if (table.size !== model.size) mismatches++;
    }
    for (const [k, v] of model) if (table.get(k) !== v) mismatches++;
    expect(mismatches).toBe(0);
    expect(table.size).toBe(model.size);
  });
});
