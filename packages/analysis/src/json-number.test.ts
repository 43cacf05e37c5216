import { describe, expect, it, vi } from 'vitest';
import { JsonBuffer, writeNumber, writeNumbers } from './json-number.js';
import { generated, mismatches, random } from './test-support/doubles.js';

// Runs of many random doubles take seconds each: more than the default timeout on a busy shared machine.
vi.setConfig({ testTimeout: 60_000 });

/** The sink of recordToJSON, read back and emptied. */
class Sink extends JsonBuffer {
  take(): string {
    const s = this.toString();
    this.length = 0;
    return s;
  }
}

const sink = new Sink();
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** `x` written by {@link writeNumber}. */
function written(x: number): string {
  writeNumber(sink, x);
  return sink.take();
}

describe('writeNumber', () => {
  it('writes the edge cases as JSON.stringify does', () => {
    const edges = [
      0,
      -0,
      NaN,
      Infinity,
      -Infinity,
      1,
      -1,
      0.5,
      1.5,
      2.5,
      0.1,
      0.2,
      0.3,
      0.7,
      1 / 3,
      2 / 3,
      Math.PI,
      Math.E,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Number.MAX_VALUE,
      Number.EPSILON,
      Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER + 1,
      2 ** 53 + 2,
      2 ** 53 - 0.5,
      2 ** 52 + 0.5,
      2 ** 31,
      -(2 ** 31),
      2 ** 32,
      1e21,
      1e21 - 65536,
      999999999999999900000,
      1e20,
      123456789012345680000,
      1e-5,
      1e-6,
      1e-7,
      1.5e-6,
      9.999999999999999e-6,
      1.0000000000000001e-5,
      0.000001,
      0.0000015,
      2.2250738585072014e-308,
      2.225073858507201e-308,
      5e-324,
      1.7976931348623157e308,
      0.30000000000000004,
      9.007199254740991e15,
      0.9999999999999999,
      9.999999999999998,
      99.99999999999999,
      4.35,
      0.015625,
      0.1 + 0.7,
      1e15 + 0.3,
      123.456,
      -9.873806857317687,
      5e-5,
      0.00005,
      0.000123,
      100,
      1000000,
      12345678,
    ];
    for (let e = -330; e <= 310; e++) edges.push(Number(`1e${e}`), Number(`5e${e}`), Number(`9.5e${e}`));
    for (let e = -1074; e <= 1023; e++) edges.push(2 ** e, 2 ** e * 1.5, 2 ** e * (1 + Number.EPSILON));
    expect(mismatches(edges, written)).toEqual([]);
  });

  it('writes doubles of every bit pattern as JSON.stringify does', () => {
    const all = generated(300_000, (r) => {
      words[0] = r() * 2 ** 32;
      words[1] = r() * 2 ** 32;
      return Math.abs(bits[0]);
    });
    expect(mismatches(all, written)).toEqual([]);
  });

  it('writes the doubles of the fast path (1e-5 to 2^53) as JSON.stringify does', () => {
    expect(
      mismatches(
        generated(300_000, (r) => 10 + r() * -0.2, 2),
        written,
      ),
    ).toEqual([]);
    expect(
      mismatches(
        generated(300_000, (r) => Math.exp(r() * 48 - 11.6), 3),
        written,
      ),
    ).toEqual([]);
    expect(
      mismatches(
        generated(200_000, (r) => r(), 4),
        written,
      ),
    ).toEqual([]);
    expect(
      mismatches(
        generated(200_000, (r) => Math.fround(r() * 1000), 5),
        written,
      ),
    ).toEqual([]);
  });

  it('writes short decimals and their neighbours one ulp away as JSON.stringify does', () => {
    const near = function* (): Generator<number> {
      const r = random(6);
      for (let i = 0; i < 200_000; i++) {
        const x = Math.round(r() * 1e7) / 10 ** Math.floor(r() * 12);
        bits[0] = x;
        yield x;
        words[0] += 1;
        yield bits[0];
        words[0] -= 2;
        yield bits[0];
      }
    };
    expect(mismatches(near(), written)).toEqual([]);
  });

  it('writes integers and integer-valued doubles as JSON.stringify does', () => {
    expect(
      mismatches(
        generated(200_000, (r) => Math.floor(r() * 2 ** (r() * 70)), 7),
        written,
      ),
    ).toEqual([]);
  });
});

describe('writeNumbers', () => {
  it('writes plain and typed arrays of every length around its chunk size as JSON.stringify does', () => {
    for (const n of [0, 1, 2, 1023, 1024, 1025, 3000]) {
      const values = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? i : Math.sin(i) * 10 ** (i % 9)));
      values[n >> 1] = NaN;
      const expected = JSON.stringify(values).slice(1, -1);
      for (const items of [values, Float64Array.from(values)]) {
        writeNumbers(sink, items);
        expect(sink.take()).toBe(expected);
      }
      const ints = Int16Array.from(values, (v) => v);
      writeNumbers(sink, ints);
      expect(sink.take()).toBe(JSON.stringify(Array.from(ints)).slice(1, -1));
      const floats = Float32Array.from(values);
      writeNumbers(sink, floats);
      expect(sink.take()).toBe(JSON.stringify(Array.from(floats)).slice(1, -1));
    }
  });
});
