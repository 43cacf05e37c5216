import type { Steps } from '@ca-shark/analysis';
import type { CaRecord } from '@ca-shark/decoder';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { TABLE_NAMES, type TableText } from './model.js';
import { SliceRunner, timedSteps } from './slices.js';
import { BatchSampler } from './subscriptions.js';
import { manyChannels } from './test-support/many-channels.js';
import { type PublishedViews, ViewPublisher } from './views-publisher.js';
import type { ChannelView, SnapshotView } from './views.js';

/** A clock that moves one unit each time it is read: budgets count steps, not time. */
function stepClock(): () => number {
  let t = 0;
  return () => t++;
}

function* count(n: number, log: string[], name: string): Steps<string> {
  for (let i = 0; i < n; i++) {
    log.push(`${name}${i}`);
    yield;
  }
  return name;
}

describe('SliceRunner', () => {
  it('runs computations oldest first within each budget, and isolates one that throws', () => {
    const runner = new SliceRunner(stepClock());
    const log: string[] = [];
    const done: string[] = [];
    const failed: string[] = [];
    runner.add(
      count(3, log, 'a'),
      (v) => done.push(v),
      (e) => failed.push(e.message),
    );
    runner.add(
      (function* (): Steps<string> {
        yield;
        throw new Error('boom');
      })(),
      (v) => done.push(v),
      (e) => failed.push(e.message),
    );
    runner.add(
      count(2, log, 'c'),
      (v) => done.push(v),
      (e) => failed.push(e.message),
    );
    // Each step reads the clock once after it: a budget of 2 is two steps.
    expect(runner.run(2)).toBe(true);
    expect(log).toEqual(['a0', 'a1']);
    expect(runner.run(2)).toBe(true);
    expect(done).toEqual(['a']);
    runner.finish();
    expect(runner.pending).toBe(0);
    expect(done).toEqual(['a', 'c']);
    expect(failed).toEqual(['boom']);
    expect(log).toEqual(['a0', 'a1', 'a2', 'c0', 'c1']);
  });

  it('drops a computation in progress without its callbacks, closing its generator, and runs the rest', () => {
    const runner = new SliceRunner(stepClock());
    const log: string[] = [];
    const done: string[] = [];
    const closed: string[] = [];
    const a = (function* (): Steps<string> {
      try {
        yield* count(5, log, 'a');
        return 'a';
      } finally {
        closed.push('a');
      }
    })();
    const fail = (e: Error): void => {
      done.push(`failed ${e.message}`);
    };
    runner.add(a, (v) => done.push(v), fail);
    runner.add(count(2, log, 'b'), (v) => done.push(v), fail);
    expect(runner.run(2)).toBe(true);
    expect(log).toEqual(['a0', 'a1']);
    expect(runner.cancel(a)).toBe(true);
    expect(closed).toEqual(['a']);
    expect(runner.pending).toBe(1);
    runner.finish();
    expect(done).toEqual(['b']);
    expect(log).toEqual(['a0', 'a1', 'b0', 'b1']);
    // Not queued any more: nothing to drop.
    expect(runner.cancel(a)).toBe(false);
  });

  it("times a computation's own steps, not the pauses between them", () => {
    let t = 0;
    const clock = (): number => t;
    const steps = timedSteps(
      (function* (): Steps<number> {
        t += 5;
        yield;
        t += 7;
        return 42;
      })(),
      clock,
    );
    steps.next();
    t += 1000; // paused: the worker decodes meanwhile
    expect(steps.next()).toEqual({ done: true, value: [42, 12] });
  });
});

describe('views published in slices', () => {
  it('decode frames and stream records between the slices of a publication over 5,000 channels', () => {
    const decoded: CaRecord[] = [];
    const sampler = new BatchSampler();
    sampler.setRates(Infinity, new Map());
    const engine = new Engine({
      describe: () => ({ kind: 'live' }),
      counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
      publish: (record) => {
        // What the worker does with every record: match it, keep it for the next batch.
        if (sampler.offer(record, decoded.length)) decoded.push(record);
      },
      hubStats: () => ({ clients: 0, dropped: 0 }),
      logger: pino({ level: 'silent' }),
    });
    const frames: Parameters<Engine['frame']>[] = [];
    const reader = new CaptureReader({
      frame: (f) => frames.push([f.linktype, f.timestamp, f.data.slice(), f.origlen]),
      problem: () => undefined,
    });
    reader.push(manyChannels(5_000));
    reader.end();
    // Most of the capture first, so the publication has 4,500 channels to go through.
    const later = frames.splice(Math.floor(frames.length * 0.9));
    for (const f of frames) engine.frame(...f);
    sampler.take(0.02);
    decoded.length = 0;

    const runner = new SliceRunner(stepClock());
    let published: PublishedViews | undefined;
    runner.add(
      new ViewPublisher(engine).publishSteps(TABLE_NAMES),
      (views) => (published = views),
      (err) => {
        throw err;
      },
    );
    // The worker's loop: a slice of views (2 steps at most), then the frames that waited meanwhile.
    let slices = 0;
    let fed = 0;
    const streamed: number[] = [];
    while (published === undefined) {
      runner.run(2);
      slices += 1;
      for (const batch of later.splice(0, 2)) {
        engine.frame(...batch);
        fed += 1;
      }
      const pick = sampler.take(0.02);
      streamed.push(pick.picked.length);
      decoded.length = 0;
    }
    const during = streamed.reduce((a, b) => a + b, 0);
    // Spread over many slices, with the stream flowing meanwhile: frames were decoded and their records
    // handed over before the publication ended.
    expect(slices).toBeGreaterThan(20);
    expect(fed).toBeGreaterThan(20);
    expect(during).toBeGreaterThan(200);
    expect(streamed.filter((n) => n > 0).length).toBeGreaterThan(10);
    // And the publication is whole.
    const snapshot = JSON.parse(published.snapshot.text) as SnapshotView;
    expect(snapshot.channelTotals.open).toBeGreaterThanOrEqual(4_500);
    const channels = JSON.parse(Buffer.from((published.tables.channels as TableText).text).toString()) as ChannelView[];
    expect(channels.length).toBeGreaterThanOrEqual(4_500);
  }, 120_000);
});
