import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireRecord } from './engine.js';
import type { HubClientInfo } from './hub.js';
import type { RunningDaemon } from './server.js';
import { type Frame, TestClient, startTestDaemon } from './test-support/daemon.js';

let daemon: RunningDaemon | undefined;
let client: TestClient | undefined;
afterEach(async () => {
  client?.close();
  await daemon?.shutdown('test done');
  daemon = undefined;
  client = undefined;
});

/** A live record padded to about 1 KB of JSON, as the decoding worker hands it to the hub. */
function bigRecord(n: number): WireRecord {
  return JSON.stringify({
    id: n + 1,
    frame: n,
    t: n,
    pv: 'slow:pv',
    cmd: 'EventAddResponse',
    summary: 'x'.repeat(900),
  });
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

/** Bytes the daemon holds for one client: the socket's backlog plus everything pending in the hub. */
function held(info: HubClientInfo): number {
  return info.bufferedAmount + info.pendingRecordBytes + info.pendingBytes;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('a slow WebSocket client', { timeout: 60_000 }, () => {
  it('is held to bounded memory, then sent a sample ending with the newest record, every record counted', async () => {
    const highWaterBytes = 256 * 1024;
    const maxSampleBytes = 512 * 1024;
    daemon = await startTestDaemon(['--stdin'], {
      input: new PassThrough(),
      hub: { highWaterBytes, maxSampleBytes, maxRecordsPerSecond: 500 },
    });
    const d = daemon;
    const { c, socket } = await openNonReading(d);

    let published = 0;
    let worst = 0;
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 300; i++) d.hub.publish([bigRecord(published++)]);
      await pause(5);
      worst = Math.max(worst, held(d.hub.clientInfo()[0]));
    }
    // The backlog over the mark is at most one frame (half a second's budget of 1 KB records at 500/s).
    expect(worst).toBeLessThanOrEqual(highWaterBytes + maxSampleBytes + 600 * 1024);
    const stats = (await d.app.inject('/api/stats')).json();
    expect(stats.websocket.matched).toBe(published);
    expect(stats.websocket.perClient[0].matched).toBe(published);

    socket.resume();
    const frames = (): Frame[] => c.frames.filter((f) => f.type === 'records');
    const matched = (): number => frames().reduce((sum, f) => sum + (f.matched as number), 0);
    await c.until('every matched record accounted for in the frames', () => matched() === published, 20_000);
    const records = c.records();
    expect(records.at(-1)?.frame).toBe(published - 1);
    expect(frames().reduce((sum, f) => sum + (f.sent as number), 0)).toBe(records.length);
    expect(frames().some((f) => f.sampling === true)).toBe(true);
    expect(d.hub.stats()).toMatchObject({
      matched: published,
      sent: records.length,
      sampledOut: published - records.length,
      pending: 0,
    });
  });

  it('cannot grow the daemon with bad requests: what it holds stays bounded and it is closed with 1008', async () => {
    const highWaterBytes = 64 * 1024;
    const maxSampleBytes = 256 * 1024;
    const maxReplyBytes = 64 * 1024;
    daemon = await startTestDaemon(['--stdin'], {
      input: new PassThrough(),
      hub: { highWaterBytes, maxSampleBytes, maxReplyBytes, maxRecordsPerSecond: 20_000 },
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

    // Backlog over the mark plus one flush (replies, snapshot, a records frame) plus the pending sample.
    expect(worst).toBeLessThanOrEqual(highWaterBytes + 2 * (maxReplyBytes + maxSampleBytes) + 64 * 1024);
    expect(d.hub.stats().overBudget).toBe(1);
    expect(d.hub.stats().clients).toBe(0);

    // Once it reads again it finds the records it was sent, then the 1008 close.
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    socket.resume();
    expect(await closed).toBe(1008);
  });
});
