import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { withRemoteEngine } from './test-support/remote-engine.js';
import { warmUpWorker } from './worker-warmup.js';

describe('the decoding worker’s warm-up', { timeout: 30_000 }, () => {
  it('runs the warm-up capture through the record path once per pass', () => {
    const one = warmUpWorker(pino({ level: 'silent' }), 1);
    expect(one.messages).toBeGreaterThan(100);
    expect(warmUpWorker(pino({ level: 'silent' }), 3)).toEqual({ messages: 3 * one.messages, passes: 3 });
  });

  it('leaves nothing behind: the worker’s engine starts from no message, channel or alert', async () => {
    await withRemoteEngine('live', { warmUp: true }, async (engine) => {
      expect(engine.stats()).toMatchObject({ packets: 0, messages: 0, malformed: 0 });
      const snapshot = JSON.parse(engine.snapshotText()) as { channels: unknown[]; servers: unknown[] };
      expect(snapshot).toMatchObject({ channels: [], servers: [] });
      expect(JSON.parse(await engine.alertsText())).toMatchObject({ groups: [] });
    });
  });
});
