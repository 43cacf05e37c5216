import { describe, expect, it } from 'vitest';
import { ServerLatencies } from './aggregates.js';

describe('ServerLatencies', () => {
  it('never shows percentiles of other samples than the mean: a busy server that got fast keeps its history', () => {
    // The /api/servers symptom: 70,432 reads, mean 0.089 s, min..max all 0 (percentiles of the latest
    // 512 samples only, beside a mean of all of them).
    const l = new ServerLatencies();
    for (let i = 0; i < 70_000; i++) l.add('10.0.0.9:5064', 'read', 0.09);
    for (let i = 0; i < 600; i++) l.add('10.0.0.9:5064', 'read', 0);
    const read = l.summaries('10.0.0.9:5064').read;
    expect(read.count).toBe(70_600);
    expect(read.mean).toBeCloseTo((70_000 * 0.09) / 70_600, 12);
    expect(read.min).toBe(0);
    expect(read.max).toBe(0.09);
    expect(read.p50).toBe(0.09);
    expect(read.p90).toBe(0.09);
  });

  it('keeps min ≤ p50 ≤ p90 ≤ p99 ≤ max and min ≤ mean ≤ max on any stream', () => {
    const l = new ServerLatencies(64);
    let x = 12345;
    let max = 0;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      // Slow at first, fast later, with rare outliers.
      const v = i < 2500 ? 0.05 + (x % 1000) / 1e4 : (x % 1000) / 1e7 + (x % 97 === 0 ? 2 : 0);
      l.add('s', 'read', v);
      max = Math.max(max, v);
    }
    const s = l.summaries('s').read;
    expect(s.min).toBeLessThanOrEqual(s.p50);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(s.mean).toBeGreaterThanOrEqual(s.min);
    expect(s.mean).toBeLessThanOrEqual(s.max);
    expect(s.max).toBe(max);
  });

  it('interpolates percentiles like the analysis report (one implementation)', () => {
    const l = new ServerLatencies();
    for (const v of [0.004, 0.001, 0.003, 0.002]) l.add('s', 'search', v);
    expect(l.summaries('s').search).toEqual({ count: 4, mean: 0.0025, min: 0.001, p50: 0.0025, p90: expect.closeTo(0.0037, 12), p99: expect.closeTo(0.00397, 12), max: 0.004 });
    expect(l.summaries('unknown')).toEqual({});
  });
});
