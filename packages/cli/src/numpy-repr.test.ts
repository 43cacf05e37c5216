import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generalFloats, NUMPY_THRESHOLD, numpyArray, type NumericKind } from './numpy-repr.js';

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

/** A seeded generator (tests must repeat): a 32-bit LCG. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('the float64 and float32 fast paths give the general path’s text', () => {
  const random = seeded(11);
  const bits = new Float64Array(1);
  const words = new Uint32Array(bits.buffer);
  /** Value families: readings, few-decimal values, waveforms, wide ranges, raw bit patterns, ties. */
  const families: (() => number)[] = [
    () => (random() - 0.5) * 100,
    () => Math.round((random() - 0.5) * 1e5) / 1e3,
    () => Math.sin(random() * 7),
    () => (random() - 0.5) * 10 ** Math.floor(random() * 40 - 20),
    () => {
      words[0] = random() * 2 ** 32;
      words[1] = random() * 2 ** 32;
      return bits[0];
    },
    // Dyadic values: exact decimal ties at the 8th fraction or 9th significant digit (0.001953125 = 2^-9).
    () => Math.round(random() * 1e9) / 2 ** Math.floor(random() * 40),
    () => Math.floor(random() * 2 ** 28) / 2 ** 9,
    () => (random() - 0.5) * 2 ** 27,
    () =>
      [0, -0, 1, 0.5, 1e8, 99999999.99999999, 9.9999999995, 0.000099999999, 1e-4, 5e-324][Math.floor(random() * 10)],
    () => [Number.NaN, Infinity, -Infinity][Math.floor(random() * 3)],
  ];
  it('on 5,000 seeded arrays of mixed families', () => {
    let compared = 0;
    for (let t = 0; t < 5_000; t++) {
      const length = [1, 2, 3, 7, 64][Math.floor(random() * 5)];
      const main = families[Math.floor(random() * families.length)];
      const other = families[Math.floor(random() * families.length)];
      const values = Array.from({ length }, () => (random() < 0.2 ? other : main)());
      expect(numpyArray(values, 'f64'), values.map(String).join(' ')).toBe(`array([${generalFloats(values, false)}])`);
      // The same values read as float32 (caproto's FLOAT payloads).
      const singles = Float32Array.from(values);
      expect(numpyArray(singles, 'f32'), Array.from(singles, String).join(' ')).toBe(
        `array([${generalFloats(singles, true)}], dtype=float32)`,
      );
      compared++;
    }
    expect(compared).toBe(5_000);
  });
});

describe('an array written again (the recent reprs kept)', () => {
  const floats = (values: readonly number[]): string => `array([${generalFloats(values, false)}])`;

  it("gives numpy's text again, also after 40 others came between", () => {
    const cases = CASES.filter((c) => c.values.length >= 2 && c.kind !== 'f32');
    expect(cases.length).toBeGreaterThan(40);
    for (let round = 0; round < 2; round++) {
      for (const c of cases) expect(numpyArray(c.values.map(value), c.kind)).toBe(c.repr);
    }
    for (const c of cases.slice(0, 40)) {
      const values = c.values.map(value);
      expect(numpyArray(values, c.kind)).toBe(c.repr);
      expect(numpyArray(Float64Array.from(values), c.kind)).toBe(c.repr);
    }
  });

  it('does not take the text of an array that differs only in a zero sign, one item, its kind or its count', () => {
    const base = [0, 1.5, 2.25, 3];
    expect(numpyArray(base, 'f64')).toBe(floats(base));
    expect(numpyArray(base, 'f64')).toBe(floats(base));
    const negativeZero = [-0, 1.5, 2.25, 3];
    expect(numpyArray(negativeZero, 'f64')).toBe(floats(negativeZero));
    expect(floats(negativeZero)).not.toBe(floats(base));
    const middle = [0, 1.5, 2.5, 3];
    expect(numpyArray(middle, 'f64')).toBe(floats(middle));
    expect(numpyArray([1, 2, 3], 'i16')).toBe('array([1, 2, 3], dtype=int16)');
    expect(numpyArray([1, 2, 3], 'i32')).toBe('array([1, 2, 3], dtype=int32)');
    expect(numpyArray([1, 2, 3], 'f64')).toBe('array([1., 2., 3.])');
    expect(numpyArray(Float32Array.from([1, 2, 3]), 'f32')).toBe('array([1., 2., 3.], dtype=float32)');
    const nan = [Number.NaN, 1];
    expect(numpyArray(nan, 'f64')).toBe('array([nan,  1.])');
    expect(numpyArray(nan, 'f64')).toBe('array([nan,  1.])');
  });

  it('tells a summarised array from a whole one of its edge items', () => {
    const edges = [0, 1, 2, 997, 998, 999];
    const summarised = Array.from({ length: NUMPY_THRESHOLD + 1 }, (_, i) =>
      i < 3 ? i : i > NUMPY_THRESHOLD - 3 ? i - 1 : 7,
    );
    const summary = 'array([  0,   1,   2, ..., 997, 998, 999], dtype=int32)';
    const whole = 'array([  0,   1,   2, 997, 998, 999], dtype=int32)';
    for (let round = 0; round < 2; round++) {
      expect(numpyArray(summarised, 'i32')).toBe(summary);
      expect(numpyArray(edges, 'i32')).toBe(whole);
    }
  });
});
