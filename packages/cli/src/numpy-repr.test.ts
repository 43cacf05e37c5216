import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { numpyArray, type NumericKind } from './numpy-repr.js';

/** Cases printed by numpy 1.24 itself (scripts/numpy-repr-cases.py), one JSON object a line. */
const CASES = readFileSync(new URL('../fixtures/caproto/numpy-repr.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { kind: NumericKind; values: (number | string)[]; repr: string });

/** JSON carries nan/inf as numpy's strings. */
function value(v: number | string): number {
  return typeof v === 'number' ? v : v === 'nan' ? Number.NaN : v === 'inf' ? Infinity : -Infinity;
}

describe("numpyArray matches numpy's own repr", () => {
  it('has the generated cases', () => {
    expect(CASES.length).toBeGreaterThan(300);
  });
  it.each(CASES.map((c, i) => [i, c.kind, c.repr.slice(0, 60), c] as const))('case %i %s %s', (_i, _k, _r, c) => {
    const values = c.values.map(value);
    const items = c.kind === 'f32' ? Float32Array.from(values) : values;
    expect(numpyArray(items, c.kind)).toBe(c.repr);
  });
});
