import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireRecord } from './engine.js';
import type { RunningDaemon } from './server.js';
import { TestClient, startTestDaemon } from './test-support/daemon.js';

let daemon: RunningDaemon | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  await daemon?.shutdown('test done');
  daemon = undefined;
  client = undefined;
});

/** A record of about 1 KB of JSON, as the decoding worker hands it to the hub. */
function bigRecord(n: number): WireRecord {
  const record = {
    frame: n, timestamp: n, src: '127.0.0.1', dst: '127.0.0.1', pv: 'slow:pv',
    command: { name: 'EventAddResponse', id: 1, data: Array.from({ length: 100 }, (_, i) => i + 0.5) },
  };
  return { json: JSON.stringify(record), src: record.src, dst: record.dst, pv: record.pv, command: { name: record.command.name } };
}

describe('a slow WebSocket client', { timeout: 60_000 }, () => {
  it('is held to a bounded queue and socket backlog, told how many records it lost, and loses nothing silently', async () => {
    const maxQueueRecords = 1000;
    const highWaterBytes = 256 * 1024;
    daemon = await startTestDaemon(['--stdin'], { input: new PassThrough(), hub: { maxQueueRecords, highWaterBytes, maxQueueBytes: 4 * 1024 * 1024 } });
    const d = daemon;
    client = await TestClient.open(d.url);
    const c = client;
    await c.until('hello', () => c.frames.find((f) => f.type === 'hello'));
    // Stop reading: the kernel buffers fill, then ws's bufferedAmount grows.
    const socket = (c.ws as unknown as { _socket: Socket })._socket;
    socket.pause();

    let published = 0;
    let worstQueue = 0;
    let worstBuffered = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 300; i++) d.hub.publish(bigRecord(published++));
      await new Promise((resolve) => setTimeout(resolve, 5));
      const info = d.hub.clientInfo()[0];
      worstQueue = Math.max(worstQueue, info.queued);
      worstBuffered = Math.max(worstBuffered, info.bufferedAmount);
    }
    const info = d.hub.clientInfo()[0];
    expect(info.dropped).toBeGreaterThan(0);
    expect(worstQueue).toBeLessThanOrEqual(maxQueueRecords);
    // At most one frame (a full queue, about 1 MB here) beyond the high-water mark is ever in flight.
    expect(worstBuffered).toBeLessThanOrEqual(highWaterBytes + 2 * 1024 * 1024);
    expect((await d.app.inject('/api/stats')).json().websocket.dropped).toBe(info.dropped);

    socket.resume();
    const droppedNotices = (): number =>
      c.frames.filter((f) => f.type === 'dropped').reduce((sum, f) => sum + (f.count as number), 0);
    await c.until('every record delivered or reported dropped', () => c.records().length + droppedNotices() === published, 20_000);
    expect(droppedNotices()).toBe(d.hub.stats().dropped);
    // The newest record always survives: drops take the oldest.
    expect(c.records().at(-1)?.frame).toBe(published - 1);
  });
});
