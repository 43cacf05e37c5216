import { describe, expect, it } from 'vitest';
import { regrowColumn } from './ring-columns.js';

describe('regrowColumn', () => {
  it('puts every entry of the old ring at its slot in the new one, wherever either ring wraps', () => {
    for (const head of [0, 3, 5, 8, 13, 1021]) {
      for (const count of [0, 1, 7, 8]) {
        const old = new Uint32Array(8);
        for (let seq = head; seq < head + count; seq++) old[seq & 7] = seq + 1;
        const fresh = regrowColumn(old, new Uint32Array(16), head, head + count);
        const expected = new Uint32Array(16);
        for (let seq = head; seq < head + count; seq++) expected[seq & 15] = seq + 1;
        expect(fresh, `head ${head}, ${count} entries`).toEqual(expected);
      }
    }
  });
});
