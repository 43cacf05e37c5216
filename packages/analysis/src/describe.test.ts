import fc from 'fast-check';
import { describe as suite, expect, it } from 'vitest';
import { BoundedSample, describeSample, quantileSorted, quantileUnsorted } from './describe.js';

const QUANTILES = [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1];

suite('quantileUnsorted', () => {
  it('gives what quantileSorted gives on the sorted values, and leaves its input as it was', () => {
    fc.assert(
      fc.property(
        // Few distinct values too: runs of equal latencies are common (microsecond timestamps).
        fc.oneof(
          fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 600 }),
          fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 600 }),
        ),
        (values) => {
          const before = [...values];
          const sorted = Float64Array.from(values).sort();
          for (const q of QUANTILES) {
            // === : the selection may pick 0 where the sort put -0 first (equal values either way).
            if (values.length > 0) expect(quantileUnsorted(values, q) === quantileSorted(sorted, q)).toBe(true);
          }
          expect(values).toEqual(before);
        },
      ),
      { numRuns: 300 },
    );
    expect(quantileUnsorted([], 0.9)).toBeNaN();
    // A quantile on a value whose neighbour is ±1.8e308 away (the difference overflows) is that value.
    const extreme = [2.9937604643020797e292, -1.7976931348623155e308];
    const extremeSorted = Float64Array.from(extreme).sort();
    for (const q of QUANTILES) {
      expect(Number.isFinite(quantileSorted(extremeSorted, q)), `q ${q}`).toBe(true);
      expect(quantileUnsorted(extreme, q)).toBe(quantileSorted(extremeSorted, q));
    }
    expect(quantileSorted(extremeSorted, 0)).toBe(-1.7976931348623155e308);
  });

  it('describes exactly what describeSample describes while it holds every value', () => {
    const sample = new BoundedSample(100);
    const values: number[] = [];
    for (let i = 0; i < 100; i++) {
      values.push(((i * 37) % 101) / 7);
      sample.add(values[i]);
    }
    expect(sample.describe()).toEqual(describeSample(values));
    sample.add(1e-3);
    expect(sample.describe().mean).toBeCloseTo((values.reduce((a, b) => a + b, 0) + 1e-3) / 101, 12);
  });

  it('is the percentile BoundedSample.describe reports, before and after the sample is full', () => {
    const sample = new BoundedSample(64);
    let x = 0x12345678;
    for (let i = 0; i < 1000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      sample.add((x % 10_000) / 1e6);
      if (i % 37 === 0 || i === 999) {
        const d = sample.describe();
        expect(sample.quantile(0.9)).toBe(d.p90);
        expect(sample.quantile(0.5)).toBe(d.p50);
        expect(sample.quantile(0.99)).toBe(d.p99);
      }
    }
    expect(describeSample([3, 1, 2]).p50).toBe(2);
  });
});
