/**
 * The stream governor and the worker's sampler together under simulated live traffic (engine-worker.ts's
 * loop on a simulated clock): what the record streams cost the decoding worker when a flood starts.
 */
import { describe, expect, it } from 'vitest';
import type { FilterableRecord } from '@ca-shark/analysis/filter';
import { HIGH_LAG_MS, START_RATE, StreamGovernor } from './stream-governor.js';
import { BatchSampler, EVERYTHING } from './subscriptions.js';

/** Ms between two frame batches posted by the capture side. */
const BATCH_MS = 10;
/** The worker's flush cadence (engine-worker.ts FLUSH_MS). */
const FLUSH_MS = 20;
/** Records a stream is handed per second of its rate (subscriptions.ts RATE_MARGIN). */
const RATE_MARGIN = 1.5;
/** Every stream here takes every record: what a record holds does not matter. */
const RECORD = {} as FilterableRecord;

interface Traffic {
  /** Messages posted in the batch posted at `t` (ms). */
  messages: (t: number) => number;
  endMs: number;
  /** The client's rate (records/s; the worker hands over RATE_MARGIN times it). */
  rate: number;
  /** µs of the worker's time to decode one message at its time `t` (a cold worker is slower). */
  decodeUs: (t: number) => number;
  /** µs to serialise and hand over one streamed record, as a share of decoding a message. */
  serialiseShare: number;
}

interface Run {
  /** Records serialised for the streams, per second of simulated time. */
  serialised: number[];
  /** Records matched but left out of the streams' sample, per second. */
  leftOut: number[];
  /** Longest wait of a batch before the worker took it, per second (ms). */
  worstLagMs: number[];
  /** When the governor's share first reached 1 (ms; NaN: never). */
  wholeAtMs: number;
  finalShare: number;
}

/**
 * A fresh worker with one client subscribed to everything: each batch's wait is observed before it is
 * decoded, the batch's messages offered to the sampler, and every FLUSH_MS the sample is taken at the
 * governor's share and serialised. Only the simulated clock moves.
 */
function simulate(traffic: Traffic): Run {
  const governor = new StreamGovernor();
  const sampler = new BatchSampler();
  sampler.setRates(traffic.rate, new Map());
  const seconds = Math.ceil(traffic.endMs / 1000);
  const run: Run = {
    serialised: new Array<number>(seconds).fill(0),
    leftOut: new Array<number>(seconds).fill(0),
    worstLagMs: new Array<number>(seconds).fill(0),
    wholeAtMs: NaN,
    finalShare: NaN,
  };
  const queue: { postedAt: number; messages: number }[] = [];
  let nextPost = 0;
  let t = 0;
  let lastFlush = 0;
  let batchStart = 0;
  let pending = 0;
  const second = (): number => Math.min(seconds - 1, Math.floor(t / 1000));
  const flush = (): void => {
    lastFlush = t;
    if (pending === 0) return;
    const elapsed = (t - batchStart) / 1000;
    batchStart = t;
    pending = 0;
    const pick = sampler.take(elapsed, governor.share, governor.floor);
    governor.filled(pick.fill);
    run.serialised[second()] += pick.picked.length;
    run.leftOut[second()] += (pick.matched.get(EVERYTHING) ?? 0) - pick.picked.length;
    t += (pick.picked.length * traffic.serialiseShare * traffic.decodeUs(t)) / 1000;
  };
  while (t < traffic.endMs) {
    for (; nextPost <= t; nextPost += BATCH_MS) {
      const messages = traffic.messages(nextPost);
      if (messages > 0) queue.push({ postedAt: nextPost, messages });
    }
    const batch = queue.shift();
    if (batch === undefined) {
      // Idle: only the flush timer runs until the next batch is posted.
      t = Math.min(nextPost, lastFlush + FLUSH_MS);
      if (t - lastFlush >= FLUSH_MS) flush();
      continue;
    }
    const lag = t - batch.postedAt;
    run.worstLagMs[second()] = Math.max(run.worstLagMs[second()], lag);
    governor.observe(lag, t);
    if (governor.share === 1 && Number.isNaN(run.wholeAtMs)) run.wholeAtMs = t;
    for (let i = 0; i < batch.messages; i++) sampler.offer(RECORD, pending++);
    t += (batch.messages * traffic.decodeUs(t)) / 1000;
    if (t - lastFlush >= FLUSH_MS) flush();
  }
  run.finalShare = governor.share;
  return run;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** 250 Mbit/s of realistic traffic: about 85,000 messages a second. */
const FLOOD_PER_MS = 85;
/** The load bench's WebSocket client (20,000 records/s). */
const WS_RATE = 20_000;
const FLOOD_START_MS = 1000;

describe('the record streams when a flood starts', () => {
  it("do not take a cold worker's first seconds: the streams start thin", () => {
    // A warm worker decodes 85k msgs/s in 0.85 s; a fresh one takes 2.5 times as long, warming over 3 s.
    const run = simulate({
      messages: (t) => (t >= FLOOD_START_MS ? FLOOD_PER_MS * BATCH_MS : 0),
      endMs: 12_000,
      rate: WS_RATE,
      decodeUs: (t) => 10 * (1 + 1.5 * Math.max(0, 1 - (t - FLOOD_START_MS) / 3000)),
      serialiseShare: 0.5,
    });
    const full = RATE_MARGIN * WS_RATE;
    // In the flood's first second the streams got at most a bucket and a second at the start rate (the lag
    // cut the share within half a second), then under 1 % of their rate: the governor's floor and the
    // newest record of each batch. Before session 9 they were handed 21,400 records in the first second:
    // their whole rate and a bucket, until the lag had halved the share eight times.
    expect(run.serialised[1]).toBeLessThanOrEqual(2 * START_RATE);
    expect(sum(run.serialised.slice(2, 4))).toBeLessThan(0.01 * full * 2);
    // Once the worker is warm and caught up, the streams grow back to their whole rate.
    expect(run.finalShare).toBe(1);
    expect(run.worstLagMs.at(-1)).toBeLessThan(HIGH_LAG_MS);
    expect(run.serialised.at(-1)).toBeGreaterThan(0.9 * full);
  });

  it('reach their whole rate within a second on a worker with room to spare', () => {
    const run = simulate({
      messages: (t) => (t >= FLOOD_START_MS ? FLOOD_PER_MS * BATCH_MS : 0),
      endMs: 5000,
      rate: WS_RATE,
      decodeUs: () => 4,
      serialiseShare: 0.5,
    });
    expect(run.wholeAtMs - FLOOD_START_MS).toBeLessThanOrEqual(1000);
    expect(Math.max(...run.worstLagMs)).toBeLessThan(HIGH_LAG_MS);
    expect(run.serialised[3]).toBeGreaterThan(0.9 * RATE_MARGIN * WS_RATE);
  });

  it('send a burst after a quiet spell whole', () => {
    // 500 messages at once (a caget of 250 PVs) to a page reading 2,000 a second, then quiet again.
    const run = simulate({
      messages: (t) => (t === 2000 || t === 6000 ? 500 : 0),
      endMs: 8000,
      rate: 2000,
      decodeUs: () => 10,
      serialiseShare: 0.5,
    });
    expect(run.serialised[2]).toBe(500);
    expect(run.serialised[6]).toBe(500);
    expect(sum(run.leftOut)).toBe(0);
  });

  it('send a burst every second whole once the share has grown, the pause between refilling the bucket', () => {
    // 2,500 messages at once every second (a 1 Hz scan) to a page reading 2,000 a second (3,000 handed over).
    const run = simulate({
      messages: (t) => (t % 1000 === 0 ? 2500 : 0),
      endMs: 10_000,
      rate: 2000,
      decodeUs: () => 10,
      serialiseShare: 0.5,
    });
    expect(run.leftOut.slice(5)).toEqual(new Array<number>(5).fill(0));
  });

  it('send every record of a steady trickle after the first second', () => {
    // 1,000 msgs/s to a page reading 2,000 a second (the dashboard's rate).
    const run = simulate({
      messages: () => BATCH_MS,
      endMs: 10_000,
      rate: 2000,
      decodeUs: () => 10,
      serialiseShare: 0.5,
    });
    expect(run.leftOut.slice(1)).toEqual(new Array<number>(9).fill(0));
    expect(run.serialised[1]).toBe(1000);
  });
});
