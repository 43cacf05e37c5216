import { describe, expect, it } from 'vitest';
import { EvenSample } from './sampler.js';

const offerAll = (sample: EvenSample, n: number): void => {
  for (let i = 0; i < n; i++) sample.offer(String(i));
};

describe('EvenSample', () => {
  it('gives everything, in order, when the budget allows', () => {
    const sample = new EvenSample(100, 1e6);
    offerAll(sample, 7);
    expect(sample.take(10)).toEqual(['0', '1', '2', '3', '4', '5', '6']);
    expect(sample.offered).toBe(0);
    expect(sample.take(10)).toEqual([]);
  });

  it('spreads a long interval evenly, first and newest included, in bounded memory', () => {
    const sample = new EvenSample(16, 1e6);
    offerAll(sample, 1001);
    expect(sample.offered).toBe(1001);
    // Thinned to every 64th item: 0, 64, ..., 960, plus the newest.
    expect(sample.heldBytes).toBeLessThanOrEqual(16 * 4 + 4);
    expect(sample.take(5)).toEqual(['0', '256', '512', '768', '1000']);
  });

  it('keeps the newest alone for a budget of one, and bounds bytes as well as count', () => {
    const sample = new EvenSample(1000, 30);
    offerAll(sample, 100);
    expect(sample.heldBytes).toBeLessThanOrEqual(30 + 2);
    expect(sample.take(1)).toEqual(['99']);
  });
});
