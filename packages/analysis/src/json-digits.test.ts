import { describe, expect, it } from 'vitest';
import { jsonNumberAt } from './json-digits.js';
import { JsonBuffer, writeNumbers } from './json-number.js';
import { generated, mismatches } from './test-support/doubles.js';

const bytes = new Uint8Array(64);
const utf8 = new TextDecoder();
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** `x` written by {@link jsonNumberAt}. */
function written(x: number): string {
  return utf8.decode(bytes.subarray(0, jsonNumberAt(bytes, 0, x)));
}

/** `x` and its neighbours `ulps` ulps away on either side. */
function* neighbours(xs: Iterable<number>, ulps: number): Generator<number> {
  for (const x of xs) {
    for (let d = -ulps; d <= ulps; d++) {
      bits[0] = x;
      // The low word's carry is not propagated: neighbours near a carry are skipped, not wrong.
      const low = words[0] + d;
      if (low < 0 || low >= 2 ** 32) continue;
      words[0] = low;
      yield bits[0];
    }
  }
}

describe('jsonNumberAt', () => {
  it('writes the edge cases as JSON.stringify does', () => {
    const edges = [
      0,
      -0,
      NaN,
      Infinity,
      1,
      0.5,
      0.1,
      0.2,
      0.3,
      1 / 3,
      2 / 3,
      Math.PI,
      Math.E,
      Number.MIN_VALUE,
      Number.MAX_VALUE,
      Number.EPSILON,
      Number.MAX_SAFE_INTEGER,
      2 ** 53,
      2 ** 53 + 2,
      2 ** 53 - 0.5,
      2 ** 52 + 0.5,
      2 ** 51 + 0.25,
      1e21,
      1e-5,
      1e-6,
      9.999999999999999e-6,
      1.0000000000000001e-5,
      1.5e-5,
      0.30000000000000004,
      9.007199254740991e15,
      0.9999999999999999,
      9.999999999999998,
      99.99999999999999,
      999999999999999.9,
      4.35,
      0.015625,
      1e15 + 0.3,
      123.456,
      9.873806857317687,
      5e-324,
      2.2250738585072014e-308,
    ];
    for (let e = -330; e <= 310; e++) edges.push(Number(`1e${e}`), Number(`5e${e}`), Number(`9.5e${e}`));
    for (let e = -1074; e <= 1023; e++) edges.push(2 ** e, 2 ** e * 1.5, 2 ** e * (1 + Number.EPSILON));
    expect(mismatches(edges, written)).toEqual([]);
    // Around every power of ten of the block path's range (where the scale steps) and 2^53.
    const decades = Array.from({ length: 22 }, (_, k) => Number(`1e${k - 5}`));
    expect(mismatches(neighbours([...decades, 2 ** 53, 2 ** 52, 2 ** 51], 40), written)).toEqual([]);
  });

  it('writes doubles of every bit pattern as JSON.stringify does', () => {
    const all = generated(
      300_000,
      (r) => {
        words[0] = r() * 2 ** 32;
        words[1] = r() * 2 ** 32;
        return bits[0];
      },
      1,
    );
    expect(mismatches(all, written)).toEqual([]);
  });

  it('writes the doubles of the block path (1e-5 to 2^53) as JSON.stringify does', () => {
    expect(
      mismatches(
        generated(300_000, (r) => Math.exp(r() * 48 - 11.6), 2),
        written,
      ),
    ).toEqual([]);
    expect(
      mismatches(
        generated(200_000, (r) => r(), 3),
        written,
      ),
    ).toEqual([]);
    expect(
      mismatches(
        generated(200_000, (r) => 10 + r() * -0.2, 4),
        written,
      ),
    ).toEqual([]);
    // A waveform's kind of values: a sine with noise (16-17 significant digits).
    expect(
      mismatches(
        generated(200_000, (r) => 10 * Math.sin(r() * 7) + r() - 0.5, 5),
        written,
      ),
    ).toEqual([]);
    expect(
      mismatches(
        generated(100_000, (r) => Math.fround(r() * 1000), 6),
        written,
      ),
    ).toEqual([]);
  });

  it('writes short decimals and their neighbours a few ulps away as JSON.stringify does', () => {
    const decimals = generated(100_000, (r) => Math.round(r() * 1e7) / 10 ** Math.floor(r() * 12), 7);
    expect(mismatches(neighbours(decimals, 3), written)).toEqual([]);
  });

  it('writes every count of trailing zeros with the point at every place as JSON.stringify does', () => {
    // 1 to 17 significant digits (so 16 to 0 trailing zeros in the 17 digits of the block path: counted
    // from the last two groups, then read back from the head) with 4 zeros before them to 16 digits
    // before the point (one whole digit: written with the point in one store), and their neighbours.
    const xs: number[] = [];
    for (const digits of ['98765432198765437', '10000000000000001', '12345678901234567']) {
      for (let n = 1; n <= digits.length; n++) {
        for (let e = -4; e <= 16; e++) xs.push(Number(`0.${digits.slice(0, n)}e${e}`));
      }
    }
    expect(mismatches(neighbours(xs, 2), written)).toEqual([]);
  });

  it('writes binary fractions (scaled values at or near midpoints: ties and the exact path) as JSON.stringify does', () => {
    // x = n / 2^k: T = x * 10^F often ends in exactly .5, or lies halfway between two multiples of 10.
    const fractions = generated(
      200_000,
      (r) => Math.floor(r() * 2 ** (1 + r() * 52)) / 2 ** Math.floor(1 + r() * 20),
      8,
    );
    expect(mismatches(neighbours(fractions, 1), written)).toEqual([]);
    const nearTop = generated(100_000, (r) => 2 ** (49 + Math.floor(r() * 4)) + Math.floor(r() * 1e6) / 8, 9);
    expect(mismatches(nearTop, written)).toEqual([]);
  });

  it('writes integers and integer-valued doubles as JSON.stringify does', () => {
    expect(
      mismatches(
        generated(200_000, (r) => Math.floor(r() * 2 ** (r() * 70)), 10),
        written,
      ),
    ).toEqual([]);
  });
});

describe('writeNumbers', () => {
  it('writes arrays of every length around its chunk size as JSON.stringify does', () => {
    const sink = new JsonBuffer();
    for (const n of [0, 1, 2, 1023, 1024, 1025, 3000]) {
      const values = Float64Array.from({ length: n }, (_, i) =>
        i % 7 === 0 ? i : Math.sin(i) * 10 ** ((i % 30) - 10),
      );
      if (n > 0) values[n >> 1] = NaN;
      sink.length = 0;
      writeNumbers(sink, values);
      expect(sink.toString()).toBe(JSON.stringify(Array.from(values)).slice(1, -1));
    }
  });

  it('writes into shared memory at an offset (a batch slot of the worker), then into a grown buffer', () => {
    const sink = new JsonBuffer(0);
    const values = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i) * 10 + i / 7);
    const expected = JSON.stringify(Array.from(values)).slice(1, -1);
    const slot = Buffer.from(new SharedArrayBuffer(1 << 16)).subarray(3);
    sink.bytes = slot;
    sink.length = 0;
    writeNumbers(sink, values);
    expect(sink.bytes).toBe(slot);
    expect(sink.toString()).toBe(expected);
    // Too small a slot: the sink grows into memory of its own mid-array (the digit pairs follow it).
    sink.bytes = Buffer.from(new SharedArrayBuffer(64)).subarray(5);
    sink.length = 0;
    writeNumbers(sink, values);
    expect(sink.toString()).toBe(expected);
  });
});
