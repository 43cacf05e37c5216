import { describe, expect, it } from 'vitest';
import { ADJUST_MS, HIGH_LAG_MS, LOW_LAG_MS, MIN_SHARE, StreamGovernor } from './stream-governor.js';

describe('StreamGovernor', () => {
  it('gives the streams their whole rate while batches are decoded as they come', () => {
    const g = new StreamGovernor();
    for (let t = 0; t < 2000; t += 10) g.observe(5, t);
    expect(g.share).toBe(1);
  });

  it('halves the share once per adjustment while batches wait too long, down to its floor', () => {
    const g = new StreamGovernor();
    g.observe(HIGH_LAG_MS + 1, 0);
    expect(g.share).toBe(0.5);
    // Within the same adjustment interval further late batches change nothing yet.
    g.observe(5000, ADJUST_MS - 1);
    expect(g.share).toBe(0.5);
    g.observe(HIGH_LAG_MS + 1, ADJUST_MS);
    expect(g.share).toBe(0.25);
    for (let t = 2 * ADJUST_MS; t < 100 * ADJUST_MS; t += ADJUST_MS) g.observe(10_000, t);
    expect(g.share).toBe(MIN_SHARE);
  });

  it('keeps the streams thinned while the capture side sheds, however short the waits', () => {
    const g = new StreamGovernor();
    for (let t = 0; t < 20 * ADJUST_MS; t += 10) g.observe(5, t, true);
    expect(g.share).toBe(MIN_SHARE);
    for (let t = 20 * ADJUST_MS; t < 25 * ADJUST_MS; t += 10) g.observe(5, t);
    expect(g.share).toBeGreaterThan(MIN_SHARE);
  });

  it('counts the worst lag of an interval, not only the latest', () => {
    const g = new StreamGovernor();
    g.observe(0, 0);
    g.observe(HIGH_LAG_MS * 3, 10);
    g.observe(0, ADJUST_MS);
    expect(g.share).toBe(0.5);
  });

  it('grows back by a quarter per adjustment once the worker keeps up, and holds between the thresholds', () => {
    const g = new StreamGovernor();
    for (let i = 0; i < 4; i++) g.observe(HIGH_LAG_MS * 2, i * ADJUST_MS);
    expect(g.share).toBe(1 / 16);
    g.observe((HIGH_LAG_MS + LOW_LAG_MS) / 2, 4 * ADJUST_MS);
    expect(g.share).toBe(1 / 16);
    g.observe(0, 5 * ADJUST_MS);
    expect(g.share).toBe(1.25 / 16);
    let t = 6 * ADJUST_MS;
    for (; g.share < 1; t += ADJUST_MS) g.observe(0, t);
    expect(g.share).toBe(1);
    // From 1/16 back to all of it in 13 intervals of a caught-up worker.
    expect(t / ADJUST_MS - 5).toBe(13);
  });

  it('is whole again once reset (no stream open), and thins again from there', () => {
    const g = new StreamGovernor();
    for (let i = 0; i < 4; i++) g.observe(HIGH_LAG_MS * 2, i * ADJUST_MS);
    expect(g.share).toBe(1 / 16);
    g.reset();
    expect(g.share).toBe(1);
    g.observe(HIGH_LAG_MS * 2, 4 * ADJUST_MS);
    expect(g.share).toBe(0.5);
  });
});
