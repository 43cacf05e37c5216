import { SectionError } from '@ca-shark/analysis';
import { CaptureReader, PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WireRecord } from './engine.js';
import { Hub } from './hub.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import { RemoteEngine, setHeapGrowingPercent } from './remote-engine.js';
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
  hub = new Hub<WireRecord, SubscriptionFilter>((r) => r),
  // Far beyond any stall of a loaded machine, except in the tests of the bound itself.
  maxDecoderLagMs = 60_000,
  minLagDropBytes?: number,
): Promise<void> {
  const engine = new RemoteEngine({
    maxDecoderLagMs,
    ...(minLagDropBytes !== undefined ? { minLagDropBytes } : {}),
    source: fakeSource(kind),
    hub,
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

/**
 * Posts `first` as one batch while the worker is held (it waits in the worker's queue, well within the
 * byte window), then `second` 1.2 s later, past the stall bound of a 500 ms lag bound (STALL_FACTOR × 500
 * ms), and lets the worker go.
 */
async function twoBatchesPastTheBound(
  engine: RemoteEngine,
  first: readonly Uint8Array[],
  second: readonly Uint8Array[],
): Promise<void> {
  const release = engine.holdWorker();
  for (const f of first) engine.frame(1, 0, f, f.length);
  engine.poll();
  await new Promise((r) => setTimeout(r, 1200));
  for (const f of second) engine.frame(1, 0, f, f.length);
  engine.poll();
  release();
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

  it('drops live frames a stalled worker would decode later than the lag bound, in the worker and before it', async () => {
    const frames = searchFrames(300);
    await withEngine(
      'live',
      async (engine) => {
        // Past the stall bound (1.5 × 500 ms), the second batch is dropped before it reaches the worker, however
        // few bytes wait; the first one, reached only then, is dropped unread by the worker.
        await twoBatchesPastTheBound(engine, frames.slice(0, 100), frames.slice(100, 200));
        // Once the worker caught up, frames are taken again.
        while ((engine.stats().decoderLagMs ?? 0) > 0) await new Promise((r) => setTimeout(r, 10));
        for (const f of frames.slice(200)) engine.frame(1, 0, f, f.length);
        engine.end();
        await engine.whenEnded();
        expect(engine.stats()).toMatchObject({ packets: 100, messages: 100, decoderDropped: 200 });
      },
      undefined,
      500,
      // Every backlog counts here, however small (these are 100 searches a batch).
      0,
    );
  });

  it('applies a bound that tightened to the batches already waiting in the worker', async () => {
    const frames = searchFrames(300);
    await withEngine(
      'live',
      async (engine) => {
        const release = engine.holdWorker();
        const post = (batch: readonly Uint8Array[]): void => {
          for (const f of batch) engine.frame(1, 0, f, f.length);
          engine.poll();
        };
        const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
        post(frames.slice(0, 100));
        await sleep(700);
        // Within the wide stall bound (1.5 × 1000 ms) when posted: it would have been decoded 0.9 s late.
        post(frames.slice(100, 200));
        await sleep(900);
        // The first batch waited past the stall bound: this one is shed, and the backlog is held to 0.4 s
        // (a stall: 0.6 s), which the second batch, 0.9 s old, is past too.
        post(frames.slice(200));
        release();
        engine.end();
        await engine.whenEnded();
        expect(engine.stats()).toMatchObject({ packets: 0, decoderDropped: 300 });
      },
      undefined,
      1000,
      0,
    );
  });

  it('drops nothing for the lag bound while the backlog is small (a held worker at a low packet rate)', async () => {
    const frames = searchFrames(200);
    await withEngine(
      'live',
      async (engine) => {
        await twoBatchesPastTheBound(engine, frames.slice(0, 100), frames.slice(100));
        engine.end();
        await engine.whenEnded();
        // Both batches waited past the bound, but a few KiB were in flight: decoded, not dropped.
        expect(engine.stats()).toMatchObject({ packets: 200, decoderDropped: 0 });
      },
      undefined,
      500,
    );
  });
});

/** Frames of `n` CA searches, one datagram each. */
function searchFrames(n: number): Uint8Array[] {
  const w = new PcapWriter();
  for (let i = 0; i < n; i++)
    w.udp(
      1_700_000_000 + i / 1000,
      '10.0.0.5',
      40000,
      '10.0.0.255',
      5064,
      build.searchRequest({ name: `s:${i}`, cid: i }),
    );
  const frames: Uint8Array[] = [];
  const reader = new CaptureReader({ frame: (f) => frames.push(f.data.slice()), problem: () => undefined });
  reader.push(w.bytes());
  reader.end();
  return frames;
}

/**
 * Hands `frames` over while the worker is held, as by a burst it cannot decode in time, for longer than the
 * stream governor allows (HIGH_LAG_MS) and well within the lag bound that would drop frames; then lets it
 * decode them to the end.
 */
async function decodeAfterHold(engine: RemoteEngine, frames: readonly Uint8Array[]): Promise<void> {
  const release = engine.holdWorker();
  for (const f of frames) engine.frame(1, 0, f, f.length);
  engine.poll();
  await new Promise((r) => setTimeout(r, 400));
  release();
  engine.end();
  await engine.whenEnded();
}

describe('RemoteEngine keeps decoding ahead of the record stream', { timeout: 30_000 }, () => {
  it('thins the stream while live decoding is behind, drops no frame, and counts every record', async () => {
    let serialized = 0;
    const hub = new Hub<WireRecord, SubscriptionFilter>((r) => {
      serialized += 1;
      return r;
    });
    // A client subscribed to everything at the default 2,000 records/s, which never reads (no tick runs).
    const socket = { bufferedAmount: 0, readyState: 1, send: () => undefined, close: () => undefined };
    hub.add(socket);
    const frames = searchFrames(5000);
    await withEngine(
      'live',
      async (engine) => {
        expect(engine.stats().streamShare).toBe(1);
        await decodeAfterHold(engine, frames);
        const stats = engine.stats();
        expect(stats).toMatchObject({ packets: frames.length, messages: frames.length, decoderDropped: 0 });
        // Batches waited for longer than the governor allows: the streams got less of their rate.
        expect(stats.streamShare).toBeLessThan(1);
        // Every record is counted as matched for the client; only a sample was serialised for it.
        expect(hub.stats().matched).toBe(frames.length);
        expect(serialized).toBeLessThan(frames.length);
        expect(serialized).toBeGreaterThan(0);
      },
      hub,
    );
  });
});

describe('RemoteEngine stream share with no client', { timeout: 30_000 }, () => {
  it('stays whole while live decoding is behind and no stream is open', async () => {
    const frames = searchFrames(2000);
    await withEngine('live', async (engine) => {
      await decodeAfterHold(engine, frames);
      expect(engine.stats()).toMatchObject({ packets: frames.length, decoderDropped: 0, streamShare: 1 });
    });
  });
});

/** Blocks of its packet ring's store the worker asks for ahead of need (engine-worker.ts). */
const RING_BLOCKS_AHEAD = 32;

describe('RemoteEngine frame batch buffers', { timeout: 30_000 }, () => {
  it('packs later batches into the buffers the worker hands back once decoded', async () => {
    const engine = new RemoteEngine({
      source: fakeSource('file'),
      hub: new Hub<WireRecord, SubscriptionFilter>((r) => r),
      logger: pino({ level: 'silent' }),
      logLevel: 'silent',
      decoder: {},
      // With the default packet ring: it keeps copies of the frames it holds, never the batch.
      pullWindowBytes: WINDOW,
    });
    try {
      await engine.ready();
      const frames = searchFrames(50);
      for (let batch = 0; batch < 200; batch++) {
        for (const f of frames) engine.frame(1, batch, f, f.length);
        engine.poll();
        // One batch in flight at a time: each comes back before the next is packed.
        while ((engine.stats().decoderLagMs ?? 0) > 0) await new Promise((r) => setTimeout(r, 2));
        await new Promise((r) => setTimeout(r, 2));
      }
      engine.end();
      await engine.whenEnded();
      expect(engine.stats()).toMatchObject({ packets: 200 * frames.length, messages: 200 * frames.length });
      expect(engine.batchBuffersAllocated).toBeLessThan(20);
    } finally {
      await engine.close();
    }
  });

  it("pre-faults the packet ring's next blocks on the capture thread, as many as the worker asks for", async () => {
    await withEngine('live', async (engine) => {
      // The worker asks for the first blocks of its store at start.
      while (engine.ringBlocksGiven < RING_BLOCKS_AHEAD) await new Promise((r) => setTimeout(r, 10));
      for (const f of searchFrames(50)) engine.frame(1, 0, f, f.length);
      engine.end();
      await engine.whenEnded();
      // 50 searches fit in the first block: one short of as many ahead, too few to ask for (asks go in fours).
      await new Promise((r) => setTimeout(r, 100));
      expect(engine.ringBlocksGiven).toBe(RING_BLOCKS_AHEAD);
    });
  });

  it("asks stdin for as many blocks ahead as its bytes in flight can fill, not a live capture's 32", async () => {
    // (A replayed file's ring keeps places in the file and asks for none: pcap-route.test.ts.)
    await withEngine('stdin', async (engine) => {
      // The window (256 KiB) and two 1 MiB batches fill at most 3 blocks of 1 MiB; asks go in fours, so
      // four more are kept ahead.
      const ahead = Math.ceil((WINDOW + 2 * 1024 * 1024) / (1024 * 1024)) + 4;
      while (engine.ringBlocksGiven < ahead) await new Promise((r) => setTimeout(r, 10));
      await new Promise((r) => setTimeout(r, 100));
      expect(engine.ringBlocksGiven).toBe(ahead);
      expect(ahead).toBeLessThan(RING_BLOCKS_AHEAD);
    });
  });
});

describe('RemoteEngine views and report', { timeout: 30_000 }, () => {
  it('serves the published copies, shared by every reader, and shares one report computation', async () => {
    await withEngine('file', async (engine) => {
      // The worker publishes every view at start-up: one copy, the same object for every reader.
      const channels = engine.tableText('channels');
      expect(Buffer.from(channels.text).toString()).toBe('[]');
      expect(engine.tableText('channels')).toBe(channels);
      expect(JSON.parse(engine.snapshotText())).toMatchObject({ type: 'snapshot', channels: [] });
      // Answers cross from the worker by structured clone: two computations could never be the same object.
      const full = { limit: null };
      const [a, b] = await Promise.all([engine.reportText(['searches'], full), engine.reportText(['searches'], full)]);
      expect(a).toBe(b);
      expect(JSON.parse(a.text)).toMatchObject({ limit: null, totals: { never_found: 0 } });
      // Other sections or another cut are other queries (how long an answer is reused: SharedResults' tests).
      expect(await engine.reportText(['latency'], full)).not.toBe(a);
      expect(await engine.reportText(['searches'], { limit: 100 })).not.toBe(a);
      // An unknown section is refused on the main thread, before the worker is asked.
      expect(() => engine.reportText(['bogus'], full)).toThrow(SectionError);
    });
  });
});

describe('RemoteEngine zero-copy frames from live capture', { timeout: 30_000 }, () => {
  it('decodes every frame handed over as a view that is overwritten right after the call', async () => {
    const PVS = 50;
    const w = new PcapWriter();
    for (let i = 0; i < PVS; i++) {
      const search = build.searchRequest({ name: `view:pv${i}`, cid: i + 1 });
      w.udp(
        1_700_000_000 + i / 1000,
        '10.0.0.5',
        40000 + i,
        '10.0.0.255',
        5064,
        concatBytes([build.versionRequest({ sequence: i }), search]),
      );
    }
    const frames: { linktype: number; timestamp: number; data: Uint8Array; origlen: number }[] = [];
    const reader = new CaptureReader({
      frame: (f) => frames.push({ ...f, data: f.data.slice() }),
      problem: () => undefined,
    });
    reader.push(w.bytes());
    reader.end();
    expect(frames).toHaveLength(PVS);
    await withEngine('live', async (engine) => {
      // Like the capture addon: one buffer, each packet written over the last, garbage once the call returns.
      const scratch = new Uint8Array(2048);
      for (const f of frames) {
        scratch.set(f.data);
        engine.frameView(f.linktype, f.timestamp, scratch.subarray(0, f.data.length), f.origlen);
        scratch.fill(0xff);
      }
      engine.end();
      await engine.whenEnded();
      expect(engine.stats()).toMatchObject({ packets: PVS, messages: 2 * PVS, malformed: 0, decoderDropped: 0 });
      const searches = (await engine.reportText(['searches'], { limit: null })).text;
      for (let i = 0; i < PVS; i++) expect(searches).toContain(`view:pv${i}"`);
    });
  });
});

describe('the process-wide heap growing factor', () => {
  /** The flags `setHeapGrowingPercent` would set for a process started with `execArgv`. */
  function flagsSet(execArgv: string[]): string[] {
    const set: string[] = [];
    setHeapGrowingPercent(execArgv, (flags) => set.push(flags));
    return set;
  }

  it('is set to 30 % for a process started without one', () => {
    expect(flagsSet([])).toEqual(['--heap-growing-percent=30']);
    expect(flagsSet(['--max-semi-space-size=8', '--heap-growing-percent-x=1'])).toEqual(['--heap-growing-percent=30']);
  });

  it("leaves the one node was given (a user's or an embedding application's choice)", () => {
    expect(flagsSet(['--heap-growing-percent=100'])).toEqual([]);
    expect(flagsSet(['--conditions=source', '--heap_growing_percent', '0'])).toEqual([]);
  });
});
