/**
 * Views never wait for the decoder: with the decoding worker blocked (as in a batch that never ends), a new
 * WebSocket client still gets its snapshot and the API its tables, health and stats, from the copies the
 * worker published last. Before views were published, each of these asked the worker and waited for it
 * (`decoder did not answer "snapshot" within 5000 ms`), so a busy decoder froze every table.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningDaemon } from './server.js';
import { TestClient, startTestDaemon } from './test-support/daemon.js';
import type { ChannelView } from './views.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));

let daemon: RunningDaemon | undefined;
let release: (() => void) | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  release?.();
  release = undefined;
  for (const c of clients.splice(0)) c.close();
  await daemon?.shutdown('test done');
  daemon = undefined;
});

describe('views while the decoder is busy', { timeout: 60_000 }, () => {
  it('serves a new client its snapshot, and the API its tables, health and stats, from the published copies', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const d = daemon;
    input.end(readFileSync(fixture('ca_monitor2.pcapng')));
    await d.engine.whenEnded();
    release = d.engine.holdWorker();
    // More frames reach the held worker and wait there, undecoded.
    d.engine.frame(113, 1, new Uint8Array(64), 64);
    d.engine.poll();

    const c = await TestClient.open(d.url);
    clients.push(c);
    const snapshot = await c.until('a snapshot', () => c.frames.find((f) => f.type === 'snapshot'));
    expect((snapshot.channels as ChannelView[]).map((ch) => ch.pv).sort()).toEqual(['T1:cnt', 'T2:cnt']);
    expect(snapshot.stats).toMatchObject({ messages: 33 });

    const channels = await d.app.inject('/api/channels');
    expect(channels.statusCode).toBe(200);
    expect(channels.headers['content-type']).toMatch(/^application\/json/);
    expect(Number(channels.headers['x-as-of'])).toBeLessThanOrEqual(snapshot.time as number);
    expect(Number(channels.headers.age)).toBeGreaterThanOrEqual(0);
    expect((channels.json() as ChannelView[]).map((ch) => ch.pv).sort()).toEqual(['T1:cnt', 'T2:cnt']);
    for (const name of ['servers', 'clients', 'searches'])
      expect((await d.app.inject(`/api/${name}`)).statusCode).toBe(200);

    // Health and stats come from the main thread's own counters.
    expect((await d.app.inject('/api/health')).json()).toMatchObject({ status: 'ok', eof: true });
    expect((await d.app.inject('/api/stats')).json()).toMatchObject({ messages: 33 });

    // The snapshot's counters are the API's, not those of the last publication: a second client
    // connected while the worker was held, and its snapshot counts it, as /api/stats does.
    const second = await TestClient.open(d.url);
    clients.push(second);
    const fresh = await second.until('a snapshot', () => second.frames.find((f) => f.type === 'snapshot'));
    const api = (await d.app.inject('/api/stats')).json() as { websocket: { clients: number }; messages: number };
    expect(api.websocket.clients).toBe(2);
    expect(fresh.stats).toMatchObject({ messages: api.messages, websocket: { clients: 2 } });
    expect(fresh.time).toBe(snapshot.time);

    // Let the worker go: it decodes what waited and publishes again.
    release();
    release = undefined;
    await c.until('the held frame counted', () =>
      c.frames.find((f) => f.type === 'snapshot' && (f.stats as { packets: number }).packets === 30),
    );
  });
});
