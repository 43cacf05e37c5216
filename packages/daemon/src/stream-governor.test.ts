import { describe, expect, it } from 'vitest';
import {
  ADJUST_MS,
  HIGH_LAG_MS,
  LOW_LAG_MS,
  MIN_SHARE,
  START_RATE,
  StreamGovernor,
  USE_HEADROOM,
  USE_MEMORY_MS,
} from './stream-governor.js';
import { MIN_GOVERNED_RATE } from './subscriptions.js';

/**
 * A batch's wait observed at `t` after the streams were handed a batch that would fill 100 times their
 * rates: streams that would take far more than they get, so only the lag decides.
 */
function busy(g: StreamGovernor, lagMs: number, t: number, short = false): void {
  g.filled(100);
  g.observe(lagMs, t, short);
}

/** A governor whose streams are thinned to `share` (a power of two) by late batches, and the next adjustment's time. */
function thinned(share: number): { g: StreamGovernor; t: number } {
  const g = new StreamGovernor();
  busy(g, 0, 0);
  let t = ADJUST_MS;
  // Slow start from the floor to the whole share, then halvings.
  for (; g.share < 1; t += ADJUST_MS) busy(g, 0, t);
  for (; g.share > share; t += ADJUST_MS) busy(g, HIGH_LAG_MS + 1, t);
  return { g, t };
}

describe('StreamGovernor', () => {
  it('gives busy streams their whole rate while batches are decoded as they come', () => {
    const g = new StreamGovernor();
    for (let t = 0; t < 2000; t += 10) busy(g, 5, t);
    expect(g.share).toBe(1);
  });

  it('starts at its floor, before any use is known, and doubles per adjustment while the worker keeps up', () => {
    const g = new StreamGovernor();
    expect(g.share).toBe(1);
    busy(g, 0, 0);
    expect(g.share).toBe(MIN_SHARE);
    busy(g, 0, ADJUST_MS);
    expect(g.share).toBe(2 * MIN_SHARE);
    let adjustments = 1;
    while (g.share < 1) busy(g, 0, ++adjustments * ADJUST_MS);
    // From 1/256 to all of it in eight adjustments.
    expect(adjustments).toBe(8);
  });

  it('halves the share once per adjustment while batches wait too long, down to its floor', () => {
    const { g, t } = thinned(1);
    busy(g, HIGH_LAG_MS + 1, t);
    expect(g.share).toBe(0.5);
    // Within the same adjustment interval further late batches change nothing yet.
    busy(g, 5000, t + ADJUST_MS - 1);
    expect(g.share).toBe(0.5);
    busy(g, HIGH_LAG_MS + 1, t + ADJUST_MS);
    expect(g.share).toBe(0.25);
    for (let u = t + 2 * ADJUST_MS; u < t + 100 * ADJUST_MS; u += ADJUST_MS) busy(g, 10_000, u);
    expect(g.share).toBe(MIN_SHARE);
  });

  it('keeps the streams thinned while the capture side sheds, however short the waits', () => {
    const { g, t } = thinned(1);
    for (let u = t; u < t + 20 * ADJUST_MS; u += 10) busy(g, 5, u, true);
    expect(g.share).toBe(MIN_SHARE);
    for (let u = t + 20 * ADJUST_MS; u < t + 25 * ADJUST_MS; u += 10) busy(g, 5, u);
    expect(g.share).toBeGreaterThan(MIN_SHARE);
  });

  it('counts the worst lag of an interval, not only the latest', () => {
    const { g, t } = thinned(1);
    busy(g, 0, t);
    busy(g, HIGH_LAG_MS * 3, t + 10);
    busy(g, 0, t + ADJUST_MS);
    expect(g.share).toBe(0.5);
  });

  it('grows back by a quarter per adjustment once a decrease ended the slow start, and holds between the thresholds', () => {
    const { g, t: t0 } = thinned(1 / 16);
    busy(g, (HIGH_LAG_MS + LOW_LAG_MS) / 2, t0);
    expect(g.share).toBe(1 / 16);
    busy(g, 0, t0 + ADJUST_MS);
    expect(g.share).toBe(1.25 / 16);
    let t = t0 + 2 * ADJUST_MS;
    for (; g.share < 1; t += ADJUST_MS) busy(g, 0, t);
    expect(g.share).toBe(1);
    // From 1/16 back to all of it in 13 intervals of a caught-up worker.
    expect((t - t0) / ADJUST_MS - 1).toBe(13);
  });

  it('never gives the streams more than twice what their matches filled lately', () => {
    const { g, t } = thinned(1);
    // From now on the streams' matches fill a tenth of their rates; the memory of their earlier use fades.
    let u = t;
    for (; u <= t + 10 * USE_MEMORY_MS; u += 10) {
      g.filled(0.1 * (10 / 1000));
      g.observe(0, u);
    }
    expect(g.share).toBeCloseTo(USE_HEADROOM * 0.1, 6);
    // More use lifts the bound at once, and the share doubles up to it (a slow start) in the next interval.
    busy(g, 0, u - 10 + ADJUST_MS);
    expect(g.share).toBeCloseTo(2 * USE_HEADROOM * 0.1, 6);
  });

  it('remembers use with a half-life: after a quiet spell the streams start thin', () => {
    const { g, t } = thinned(1);
    // The last adjustment was one interval before `t`. From there no use at all: the bound halves every
    // USE_MEMORY_MS.
    const last = t - ADJUST_MS;
    g.observe(0, last + USE_MEMORY_MS / 4);
    expect(g.share).toBeCloseTo(2 ** -0.25, 9);
    g.observe(0, last + 5 * USE_MEMORY_MS);
    expect(g.share).toBeCloseTo(2 ** -5, 9);
    g.observe(0, last + 20 * USE_MEMORY_MS);
    expect(g.share).toBe(MIN_SHARE);
  });

  it('keeps each stream START_RATE records/s in a slow start, MIN_GOVERNED_RATE once the lag cut the share', () => {
    const g = new StreamGovernor();
    busy(g, 0, 0);
    expect(g.share).toBe(MIN_SHARE);
    expect(g.floor).toBe(START_RATE);
    busy(g, HIGH_LAG_MS + 1, ADJUST_MS);
    expect(g.floor).toBe(MIN_GOVERNED_RATE);
    // Growing back does not restore it; a quiet spell (the streams using less than their share) does.
    for (let t = 2 * ADJUST_MS; t < 40 * ADJUST_MS; t += ADJUST_MS) busy(g, 0, t);
    expect(g.share).toBe(1);
    expect(g.floor).toBe(MIN_GOVERNED_RATE);
    g.observe(0, 40 * ADJUST_MS + USE_MEMORY_MS);
    expect(g.floor).toBe(START_RATE);
  });

  it('grows the share per interval that passed, so that batches a second apart grow it as a steady stream does', () => {
    const { g, t } = thinned(MIN_SHARE);
    // The slow start ended at the first decrease: a quarter per 100 ms, ten of them in a second.
    busy(g, 0, t - ADJUST_MS + 1000);
    expect(g.share).toBeCloseTo(1.25 ** 10 * MIN_SHARE, 9);
    // A longer wait grows it no more than a second does.
    busy(g, 0, t - ADJUST_MS + 6000);
    expect(g.share).toBeCloseTo(1.25 ** 20 * MIN_SHARE, 9);
  });

  it('is whole again once reset (no stream open), and starts from the floor for the next stream', () => {
    const { g, t } = thinned(1 / 16);
    g.reset();
    expect(g.share).toBe(1);
    // However busy the stream that opens next: nothing is known of its use yet.
    busy(g, 0, t);
    expect(g.share).toBe(MIN_SHARE);
    busy(g, 0, t + ADJUST_MS);
    expect(g.share).toBe(2 * MIN_SHARE);
  });
});
