import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireRecord } from './engine.js';
import type { HubClientInfo } from './hub.js';
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
    frame: n,
    timestamp: n,
    src: '127.0.0.1',
    dst: '127.0.0.1',
    pv: 'slow:pv',
    command: { name: 'EventAddResponse', id: 1, data: Array.from({ length: 100 }, (_, i) => i + 0.5) },
  };
  return JSON.stringify(record);
}

/** Opens a client, waits for its hello, then stops reading: the kernel buffers fill, then ws's bufferedAmount grows. */
async function openNonReading(d: RunningDaemon): Promise<{ c: TestClient; socket: Socket }> {
  const c = await TestClient.open(d.url);
  client = c;
  await c.until('hello', () => c.frames.find((f) => f.type === 'hello'));
  const socket = (c.ws as unknown as { _socket: Socket })._socket;
  socket.pause();
  return { c, socket };
}

/** Bytes the daemon holds for one client: the socket's backlog plus everything queued in the hub. */
function held(info: HubClientInfo): number {
  return info.bufferedAmount + info.queuedBytes + info.pendingBytes;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a slow WebSocket client', { timeout: 60_000 }, () => {
  it('is held to a bounded queue and socket backlog, told how many records it lost, and loses nothing silently', async () => {
    const maxQueueRecords = 1000;
    const highWaterBytes = 256 * 1024;
    daemon = await startTestDaemon(['--stdin'], {
      input: new PassThrough(),
      hub: { maxQueueRecords, highWaterBytes, maxQueueBytes: 4 * 1024 * 1024 },
    });
    const d = daemon;
    const { c, socket } = await openNonReading(d);

    let published = 0;
    let worstQueue = 0;
    let worstBuffered = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 300; i++) d.hub.publish([bigRecord(published++)]);
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
    await c.until(
      'every record delivered or reported dropped',
      () => c.records().length + droppedNotices() === published,
      20_000,
    );
    expect(droppedNotices()).toBe(d.hub.stats().dropped);
    // The newest record always survives: drops take the oldest.
    expect(c.records().at(-1)?.frame).toBe(published - 1);
  });

  it('cannot grow the daemon with bad requests: what it holds stays bounded and it is closed with 1008', async () => {
    const highWaterBytes = 64 * 1024;
    const maxQueueBytes = 256 * 1024;
    const maxReplyBytes = 64 * 1024;
    daemon = await startTestDaemon(['--stdin'], {
      input: new PassThrough(),
      hub: { highWaterBytes, maxQueueBytes, maxReplyBytes, maxQueueRecords: 1000 },
    });
    const d = daemon;
    const { c, socket } = await openNonReading(d);

    // Fill the kernel buffers with records until the daemon sees the socket backed up.
    let published = 0;
    for (let round = 0; round < 2000 && (d.hub.clientInfo()[0]?.bufferedAmount ?? 0) <= highWaterBytes; round++) {
      for (let i = 0; i < 200; i++) d.hub.publish([bigRecord(published++)]);
      d.hub.tick();
      await pause(1);
    }
    expect(d.hub.clientInfo()[0].bufferedAmount).toBeGreaterThan(highWaterBytes);

    // Thousands of large bad requests; each used to be answered with an error quoting all of it.
    const bad = JSON.stringify({ type: 'x'.repeat(32 * 1024) });
    let worst = 0;
    for (let i = 0; i < 2000 && c.ws.readyState === c.ws.OPEN; i++) {
      c.ws.send(bad);
      if (i % 50 === 49) {
        await pause(2);
        const info = d.hub.clientInfo()[0];
        if (info !== undefined) worst = Math.max(worst, held(info));
        if (d.hub.stats().overBudget > 0) break;
      }
    }
    await c
      .until('the daemon to give up on the client', () => d.hub.stats().overBudget === 1 || undefined, 20_000)
      .catch(() => undefined);
    const info = d.hub.clientInfo()[0];
    if (info !== undefined) worst = Math.max(worst, held(info));

    // Backlog over the mark plus one flush (replies, snapshot, a records frame) plus the queues.
    expect(worst).toBeLessThanOrEqual(highWaterBytes + 2 * (maxReplyBytes + maxQueueBytes) + 64 * 1024);
    expect(d.hub.stats().overBudget).toBe(1);
    expect(d.hub.stats().clients).toBe(0);

    // Once it reads again it finds the records it was sent, then the 1008 close.
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    socket.resume();
    expect(await closed).toBe(1008);
  });
});
