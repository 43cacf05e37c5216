import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WireRecord } from './engine.js';
import { Hub } from './hub.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import { RemoteEngine } from './remote-engine.js';
import { type Source, type SourceDescription, zeroCounters } from './sources/types.js';

/** A source that never starts anything: the test feeds the engine's sink side itself. */
function fakeSource(kind: SourceDescription['kind']): Source {
  return { description: { kind }, start: async () => undefined, stop: async () => undefined, counters: zeroCounters };
}

const FRAME = new Uint8Array(60_000);
/** More frames than fit in the window, handed over in one synchronous run (the worker cannot ack meanwhile). */
const FRAMES = 100;
const WINDOW = 256 * 1024;

async function withEngine(
  kind: SourceDescription['kind'],
  body: (engine: RemoteEngine) => Promise<void>,
): Promise<void> {
  const engine = new RemoteEngine({
    source: fakeSource(kind),
    hub: new Hub<WireRecord, SubscriptionFilter>((r) => r),
    logger: pino({ level: 'silent' }),
    logLevel: 'silent',
    decoder: {},
    maxInFlightBytes: WINDOW,
    pullWindowBytes: WINDOW,
  });
  try {
    await engine.ready();
    await body(engine);
  } finally {
    await engine.close();
  }
}

describe('RemoteEngine flow control', { timeout: 30_000 }, () => {
  it('pauses a pull source (file, stdin) past its window and drops nothing', async () => {
    await withEngine('file', async (engine) => {
      let waits = 0;
      for (let i = 0; i < FRAMES; i++) {
        engine.frame(1, i, FRAME, FRAME.length);
        const room = engine.waitForRoom();
        if (room !== undefined) {
          waits += 1;
          await room;
        }
      }
      engine.end();
      await engine.whenEnded();
      expect(waits).toBeGreaterThan(0);
      expect(engine.stats()).toMatchObject({ packets: FRAMES, decoderDropped: 0 });
    });
  });

  it('never pauses live capture: past its bound whole batches are dropped and counted', async () => {
    await withEngine('live', async (engine) => {
      for (let i = 0; i < FRAMES; i++) {
        engine.frame(1, i, FRAME, FRAME.length);
        expect(engine.waitForRoom()).toBeUndefined();
      }
      engine.end();
      await engine.whenEnded();
      const stats = engine.stats();
      expect(stats.decoderDropped).toBeGreaterThan(0);
      expect(stats.packets + stats.decoderDropped).toBe(FRAMES);
    });
  });
});

describe('RemoteEngine queries', { timeout: 30_000 }, () => {
  it('answers concurrent report and view requests with one computation each', async () => {
    await withEngine('file', async (engine) => {
      // Answers cross from the worker by structured clone: two computations could never be the same object.
      const [a, b] = await Promise.all([engine.report(['searches']), engine.report(['searches'])]);
      expect(a).toBe(b);
      // Another section list is its own query (how long an answer is reused is SharedResults' test, with a clock).
      expect(await engine.report(['latency'])).not.toBe(a);
      const [c1, c2] = await Promise.all([engine.channels(), engine.channels()]);
      expect(c1).toBe(c2);
      // Views are not kept once answered.
      expect(await engine.channels()).not.toBe(c1);
      // An unknown section is refused, and the refusal is not remembered.
      await expect(engine.report(['bogus'])).rejects.toThrow(/unknown report section/);
      await expect(engine.report(['bogus'])).rejects.toThrow(/unknown report section/);
    });
  });
});
