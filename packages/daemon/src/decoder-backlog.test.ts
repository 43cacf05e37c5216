import { describe, expect, it } from 'vitest';
import { DecoderBacklog, DrainRate, HOLD_MS, STALL_FACTOR } from './decoder-backlog.js';

const MIB = 1024 * 1024;
const BOUND_MS = 1000;
const BATCH_MS = 10;

/** Worker speed over time: bytes it decodes per ms at `t` (0: stopped). */
type Speed = (t: number) => number;

interface Run {
  offered: number;
  decoded: number;
  /** Longest time (ms) an admitted batch waited from posting until the worker finished it. */
  worstDelayMs: number;
  /** The same for batches posted after the run's first `settleMs`. */
  settledDelayMs: number;
}

/**
 * Simulates live capture for `ms`: a batch of `offeredPerMs * BATCH_MS` bytes every BATCH_MS, shed or posted
 * by `backlog`; a worker that takes posted batches in order at `speed` and answers as each is done.
 */
function simulate(backlog: DecoderBacklog, ms: number, offeredPerMs: number, speed: Speed, settleMs = 5000): Run {
  const queue: { bytes: number; postedAt: number }[] = [];
  let left = 0;
  let decodedBytes = 0;
  const run: Run = { offered: 0, decoded: 0, worstDelayMs: 0, settledDelayMs: 0 };
  for (let t = 0; t < ms; t++) {
    if (t % BATCH_MS === 0) {
      const length = offeredPerMs * BATCH_MS;
      run.offered += length;
      if (backlog.admit(length, t) === undefined) {
        backlog.post(length, t);
        queue.push({ bytes: length, postedAt: t });
      }
    }
    // The worker's millisecond: it finishes batches (answering each) as its budget allows.
    let budget = speed(t);
    while (queue.length > 0 && budget > 0) {
      if (left === 0) left = queue[0].bytes;
      const used = Math.min(left, budget);
      left -= used;
      budget -= used;
      if (left > 0) break;
      const done = queue.shift() as { bytes: number; postedAt: number };
      decodedBytes += done.bytes;
      run.decoded += done.bytes;
      run.worstDelayMs = Math.max(run.worstDelayMs, t + 1 - done.postedAt);
      if (done.postedAt >= settleMs) run.settledDelayMs = Math.max(run.settledDelayMs, t + 1 - done.postedAt);
      backlog.decoded(decodedBytes, t + 1);
    }
  }
  return run;
}

const bounds = { maxLagMs: BOUND_MS, minDropBytes: 4 * MIB, maxBytes: 64 * MIB };
/** 175 Mbit/s of frames: about 21,900 bytes per ms. */
const OFFERED = 21_900;

describe('DecoderBacklog (live shedding)', () => {
  it('sheds nothing while the worker keeps up', () => {
    const run = simulate(new DecoderBacklog(bounds), 20_000, OFFERED, () => 1.2 * OFFERED);
    expect(run.decoded).toBe(run.offered);
  });

  it('under a steady overload sheds only the excess, and what it takes is decoded within the bound', () => {
    const run = simulate(new DecoderBacklog(bounds), 30_000, OFFERED, () => 0.8 * OFFERED);
    const share = run.decoded / run.offered;
    // The worker can do 80 %: it decodes nearly that, not the on/off share of an age bound.
    expect(share).toBeGreaterThan(0.77);
    expect(share).toBeLessThanOrEqual(0.8);
    // Shedding starts once the oldest batch is a bound old; those posted just before then wait a little
    // longer, never past the stall bound.
    expect(run.worstDelayMs).toBeGreaterThan(BOUND_MS);
    expect(run.worstDelayMs).toBeLessThanOrEqual(STALL_FACTOR * BOUND_MS);
  });

  it('holds the backlog of a worker that cannot keep up to the hold bound, decoding the same share', () => {
    const HOLD = 400;
    const held = new DecoderBacklog({ ...bounds, holdLagMs: HOLD });
    // The backlog reaches the wide bound about 5 s in: delays are compared from 10 s on.
    const run = simulate(held, 30_000, OFFERED, () => 0.8 * OFFERED, 10_000);
    const wide = simulate(new DecoderBacklog(bounds), 30_000, OFFERED, () => 0.8 * OFFERED, 10_000);
    // Everything beyond the worker's rate is shed either way; the short backlog costs one bound's worth once.
    expect(run.decoded / run.offered).toBeGreaterThan(0.77);
    expect(run.decoded / run.offered).toBeGreaterThan(wide.decoded / wide.offered - 0.02);
    // The first shed waits for the wide bound; from then on nothing waits much longer than the hold bound.
    expect(wide.settledDelayMs).toBeGreaterThan(BOUND_MS);
    expect(run.settledDelayMs).toBeGreaterThan(HOLD / 2);
    expect(run.settledDelayMs).toBeLessThanOrEqual(STALL_FACTOR * HOLD);
    expect(held.boundMs).toBe(HOLD);
    // A worker barely short reaches the wide bound about 20 s in and sheds seldom from then on, yet stays
    // held: it never caught up in between.
    const barely = simulate(
      new DecoderBacklog({ ...bounds, holdLagMs: HOLD }),
      60_000,
      OFFERED,
      () => 0.95 * OFFERED,
      30_000,
    );
    expect(barely.decoded / barely.offered).toBeGreaterThan(0.94);
    expect(barely.settledDelayMs).toBeLessThanOrEqual(STALL_FACTOR * HOLD);
  });

  it('holds a worker far too slow for the offered rate close too, however small its backlog', () => {
    // A cold worker at the start of a flood: a twentieth of the offered rate, so the 4 MiB a backlog may
    // always hold take it nearly 4 s.
    const slow = () => 0.05 * OFFERED;
    const wide = simulate(new DecoderBacklog(bounds), 60_000, OFFERED, slow, 20_000);
    expect(wide.settledDelayMs).toBeGreaterThan(3000);
    const HOLD = 400;
    const held = new DecoderBacklog({ ...bounds, holdLagMs: HOLD });
    const run = simulate(held, 60_000, OFFERED, slow, 20_000);
    expect(run.settledDelayMs).toBeLessThanOrEqual(STALL_FACTOR * HOLD);
    expect(run.decoded / run.offered).toBeGreaterThan(0.045);
    expect(held.keepBytes).toBe(0);
    expect(new DecoderBacklog(bounds).keepBytes).toBe(bounds.minDropBytes);
  });

  it('never holds a worker that keeps up through its pauses, and lets go once nothing was shed for a while', () => {
    const HOLD = 400;
    // 600 ms stops, then twice the offered rate (as below): within the wide bound, nothing is shed.
    const speed: Speed = (t) => (t % 5000 >= 2000 && t % 5000 < 2600 ? 0 : 2 * OFFERED);
    const held = new DecoderBacklog({ ...bounds, holdLagMs: HOLD });
    const run = simulate(held, 20_000, OFFERED, speed);
    expect(run.decoded).toBe(run.offered);
    expect(held.boundMs).toBe(BOUND_MS);
    // A stall sheds and holds; the hold ends once the worker kept up for HOLD_MS.
    const backlog = new DecoderBacklog({ ...bounds, holdLagMs: HOLD });
    backlog.post(8 * MIB, 0);
    const stall = STALL_FACTOR * BOUND_MS + 1;
    expect(backlog.admit(MIB, stall)).toBe('stall');
    expect(backlog.boundMs).toBe(HOLD);
    expect(backlog.stallMs).toBe(STALL_FACTOR * HOLD);
    backlog.decoded(8 * MIB, stall + 10);
    expect(backlog.admit(MIB, stall + 20)).toBeUndefined();
    // A batch waiting longer than a quarter of the hold bound: not caught up, the count starts again.
    backlog.post(MIB, stall + 20);
    expect(backlog.admit(MIB, stall + 20 + HOLD)).toBeUndefined();
    backlog.decoded(9 * MIB, stall + 20 + HOLD);
    const kept = stall + 30 + HOLD;
    expect(backlog.admit(MIB, kept)).toBeUndefined();
    expect(backlog.admit(MIB, kept + HOLD_MS - 1)).toBeUndefined();
    expect(backlog.boundMs).toBe(HOLD);
    expect(backlog.admit(MIB, kept + HOLD_MS)).toBeUndefined();
    expect(backlog.boundMs).toBe(BOUND_MS);
    // Without a hold bound, the wide one is always in force.
    expect(new DecoderBacklog(bounds).boundMs).toBe(BOUND_MS);
  });

  it('keeps a backlog the worker drains within the bound, though it grew for a while', () => {
    // The worker stops for 600 ms (a garbage collection, a views publication on a starved core), then goes
    // at twice the offered rate: 600 ms of frames wait, none needs shedding.
    const speed: Speed = (t) => (t % 5000 >= 2000 && t % 5000 < 2600 ? 0 : 2 * OFFERED);
    const run = simulate(new DecoderBacklog(bounds), 20_000, OFFERED, speed);
    expect(run.decoded).toBe(run.offered);
    expect(run.worstDelayMs).toBeGreaterThan(500);
  });

  it('sheds less than dropping everything while the oldest batch is over the bound', () => {
    // The rule this replaces, on the same worker: 1.5 s stops every 5 s, then 1.5 × the offered rate.
    const speed: Speed = (t) => (t % 5000 >= 1000 && t % 5000 < 2500 ? 0 : 1.5 * OFFERED);
    const run = simulate(new DecoderBacklog(bounds), 30_000, OFFERED, speed);
    const ageRule = new DecoderBacklog(bounds);
    const byAge = {
      admit: (length: number, now: number) =>
        ageRule.inFlight + length > bounds.minDropBytes && ageRule.lagMs(now) > BOUND_MS ? ('lag' as const) : undefined,
      post: (length: number, at: number) => ageRule.post(length, at),
      decoded: (bytes: number, at: number) => ageRule.decoded(bytes, at),
    } as unknown as DecoderBacklog;
    const old = simulate(byAge, 30_000, OFFERED, speed);
    expect(run.decoded).toBeGreaterThan(old.decoded);
    expect(run.worstDelayMs).toBeLessThanOrEqual(STALL_FACTOR * BOUND_MS + BATCH_MS);
  });

  it('sheds everything while the oldest batch waited past the stall bound, whatever the rate said', () => {
    const backlog = new DecoderBacklog(bounds);
    // A fast worker, seen busy: its rate predicts a short wait.
    backlog.post(8 * MIB, 0);
    backlog.post(8 * MIB, 0);
    backlog.decoded(8 * MIB, 10);
    expect(backlog.predictedWaitMs()).toBeLessThan(20);
    expect(backlog.admit(MIB, 20)).toBeUndefined();
    // Then it stops: nothing is answered for longer than the stall bound.
    expect(backlog.admit(MIB, STALL_FACTOR * BOUND_MS)).toBeUndefined();
    expect(backlog.admit(MIB, STALL_FACTOR * BOUND_MS + 1)).toBe('stall');
    backlog.decoded(16 * MIB, STALL_FACTOR * BOUND_MS + 5);
    expect(backlog.admit(MIB, STALL_FACTOR * BOUND_MS + 6)).toBeUndefined();
  });

  it('sheds nothing for lag while the oldest batch is within the bound, however slow the rate says the worker is', () => {
    const backlog = new DecoderBacklog(bounds);
    backlog.post(8 * MIB, 0);
    backlog.post(8 * MIB, 0);
    // Measured slow (1 KiB in 100 ms: the rate predicts hours), but nothing has waited a second yet.
    backlog.decoded(1024, 100);
    expect(backlog.predictedWaitMs()).toBeGreaterThan(BOUND_MS);
    expect(backlog.admit(MIB, 200)).toBeUndefined();
    expect(backlog.admit(MIB, BOUND_MS)).toBeUndefined();
    expect(backlog.admit(MIB, BOUND_MS + 1)).toBe('lag');
  });

  it('never sheds a small backlog for lag, and always sheds past the byte bound', () => {
    const backlog = new DecoderBacklog(bounds);
    backlog.post(MIB, 0);
    backlog.post(MIB, 1);
    // A slow worker (1 KiB in its first second): the 2 MiB in flight would take half an hour, but with
    // the next batch they are still no more than the minimum.
    backlog.decoded(1024, 1000);
    expect(backlog.predictedWaitMs()).toBeGreaterThan(BOUND_MS);
    expect(backlog.admit(MIB, 1500)).toBeUndefined();
    expect(backlog.admit(3 * MIB, 1500)).toBe('lag');
    const full = new DecoderBacklog({ ...bounds, maxLagMs: Infinity });
    full.post(65 * MIB, 0);
    expect(full.admit(1, 0)).toBe('bytes');
  });
});

describe('DrainRate', () => {
  it('measures the worker only over intervals it never waited for frames', () => {
    const rate = new DrainRate();
    rate.sample(0, 100, 0);
    // 100 bytes posted and decoded in 10 ms: 10 bytes/ms.
    rate.sample(100, 100, 10);
    expect(rate.value).toBeCloseTo(10);
    // The next batch was posted after that answer: the interval includes waiting, and is left out.
    rate.sample(200, 400, 1000);
    expect(rate.value).toBeCloseTo(10);
    // 200 bytes posted before the last answer, decoded in 10 ms.
    rate.sample(400, 400, 1010);
    expect(rate.value).toBeGreaterThan(10);
  });

  it('leaves out batches dropped unread', () => {
    const rate = new DrainRate();
    rate.sample(0, 1000, 0);
    rate.sample(100, 1000, 10);
    rate.sample(900, 1000, 11, true);
    expect(rate.value).toBeCloseTo(10);
  });
});
