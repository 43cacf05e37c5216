import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CaptureReader, type CaptureFrame } from '@ca-shark/packet';
import type { RemoteEngine } from './remote-engine.js';
import { manyChannels } from './test-support/many-channels.js';
import { withRemoteEngine } from './test-support/remote-engine.js';
import { warmUpWorker } from './worker-warmup.js';

describe('the decoding worker’s warm-up', { timeout: 30_000 }, () => {
  it('runs the warm-up capture through the record path once per pass', () => {
    const one = warmUpWorker(pino({ level: 'silent' }), 1);
    expect(one.messages).toBeGreaterThan(100);
    expect(warmUpWorker(pino({ level: 'silent' }), 3)).toEqual({ messages: 3 * one.messages, passes: 3 });
  });

  it('leaves nothing behind and gives way to the first frames: the engine counts only the capture', async () => {
    const frames: CaptureFrame[] = [];
    const reader = new CaptureReader({ frame: (f) => frames.push(f), problem: () => undefined });
    reader.push(manyChannels(200));
    reader.end();
    // Frames handed over while the worker warms up (it starts 300 ms after ready; on a loaded machine maybe
    // later, and then this checks the path without it): decoded and counted alone, whatever the pass.
    await withRemoteEngine('live', { warmUp: true }, async (engine) => {
      await new Promise((r) => setTimeout(r, 400));
      for (const f of frames) engine.frame(f.linktype, f.timestamp, f.data, f.origlen);
      engine.poll();
      const alone = await withRemoteEngine('live', {}, async (cold) => {
        for (const f of frames) cold.frame(f.linktype, f.timestamp, f.data, f.origlen);
        cold.poll();
        await decoded(cold, frames.length);
        return cold.stats();
      });
      await decoded(engine, frames.length);
      expect(engine.stats()).toMatchObject({
        packets: frames.length,
        messages: alone.messages,
        malformed: alone.malformed,
        decoderDropped: 0,
      });
      expect(alone.messages).toBeGreaterThan(frames.length);
    });
  });
});

/** Waits until the engine has decoded `packets` frames (its stats arrive every 250 ms). */
async function decoded(engine: RemoteEngine, packets: number): Promise<void> {
  while (engine.stats().packets < packets) await new Promise((r) => setTimeout(r, 20));
}
