import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertNotice } from './alerts.js';
import { DEFAULT_WEBHOOK, type WebhookConfig } from './config.js';
import { type WebhookPayload, WebhookNotifier } from './webhook.js';

/** A local HTTP receiver that answers each POST with the next status of `statuses` (then 200). */
async function receiver(
  statuses: number[] = [],
): Promise<{ url: string; bodies: WebhookPayload[]; statuses: number[]; server: Server }> {
  const bodies: WebhookPayload[] = [];
  const answered: number[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      expect(req.method).toBe('POST');
      expect(req.headers['content-type']).toBe('application/json');
      bodies.push(JSON.parse(text) as WebhookPayload);
      const status = statuses.shift() ?? 200;
      answered.push(status);
      res.writeHead(status, status === 429 ? { 'retry-after': '7' } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, bodies, statuses: answered, server };
}

/** A clock that only moves when the notifier waits: delays are recorded, never slept. */
function fakeTime(): { now: () => number; delay: (ms: number) => Promise<void>; waits: number[]; at: () => number } {
  let clock = 1_000_000;
  const waits: number[] = [];
  return {
    now: () => clock,
    delay: (ms) => {
      waits.push(ms);
      clock += ms;
      return Promise.resolve();
    },
    waits,
    at: () => clock,
  };
}

const notice = (subject: string, severity: 'info' | 'warn' | 'error' = 'warn'): AlertNotice => ({
  event: 'opened',
  alert: {
    key: `search-storm ${subject}`,
    kind: 'search-storm',
    subject,
    severity,
    message: `${subject} searched 5.0/s`,
    firstSeen: 100,
    lastSeen: 160,
    count: 300,
    acknowledged: null,
  },
});

const log = pino({ level: 'silent' });
let servers: Server[] = [];
afterEach(() => {
  for (const s of servers) s.close();
  servers = [];
});

function notifier(
  url: string,
  time: ReturnType<typeof fakeTime>,
  over: Partial<WebhookConfig> = {},
  maxBatch?: number,
) {
  return new WebhookNotifier({ ...DEFAULT_WEBHOOK, url, ...over }, log, {
    now: time.now,
    delay: time.delay,
    ...(maxBatch !== undefined ? { maxBatch } : {}),
  });
}

describe('alert webhook', () => {
  it('POSTs new alerts as JSON with a chat-friendly text line, skipping those below minSeverity', async () => {
    const r = await receiver();
    servers.push(r.server);
    const time = fakeTime();
    const n = notifier(r.url, time);
    n.notify(notice('sim:typo'));
    n.notify(notice('quiet', 'info'));
    await n.settled();
    expect(r.bodies).toHaveLength(1);
    expect(r.bodies[0].source).toBe('ca-sharkd');
    expect(r.bodies[0].alerts).toEqual([{ event: 'opened', ...notice('sim:typo').alert }]);
    expect(r.bodies[0].text).toBe('ca-sharkd: [warn] search-storm sim:typo: sim:typo searched 5.0/s');
    expect(n.stats()).toEqual({ sent: 1, failed: 0, dropped: 0, attempts: 1, queued: 0 });
  });

  it('retries failures with exponential back-off, honours Retry-After, then delivers', async () => {
    const r = await receiver([500, 503, 429, 502]);
    servers.push(r.server);
    const time = fakeTime();
    const n = notifier(r.url, time, { backoff: 1, maxBackoff: 60, attempts: 6 });
    n.notify(notice('a'));
    await n.settled();
    expect(r.statuses).toEqual([500, 503, 429, 502, 200]);
    // 1 s, 2 s, then Retry-After 7 s beats 4 s, then 8 s.
    expect(time.waits).toEqual([1000, 2000, 7000, 8000]);
    expect(n.stats()).toMatchObject({ sent: 1, failed: 0, attempts: 5 });
    // The same alert every time.
    expect(new Set(r.bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  it('gives up after the last attempt, and at once on a refusal', async () => {
    const r = await receiver([500, 500, 500, 404]);
    servers.push(r.server);
    const time = fakeTime();
    const n = notifier(r.url, time, { attempts: 3, backoff: 2, maxBackoff: 3 });
    n.notify(notice('a'));
    await n.settled();
    expect(time.waits).toEqual([2000, 3000]);
    n.notify(notice('b'));
    await n.settled();
    expect(r.statuses).toEqual([500, 500, 500, 404]);
    expect(n.stats()).toMatchObject({ sent: 0, failed: 2, attempts: 4 });
  });

  it('retries when nothing listens (connection refused)', async () => {
    const r = await receiver();
    await new Promise<void>((resolve) => r.server.close(() => resolve()));
    const time = fakeTime();
    const n = notifier(r.url, time, { attempts: 3, backoff: 0.5 });
    n.notify(notice('a'));
    await n.settled();
    expect(time.waits).toEqual([500, 1000]);
    expect(n.stats()).toMatchObject({ failed: 1, attempts: 3 });
  });

  it('sends at most maxPerMinute POSTs a minute; the rest wait and go out batched', async () => {
    const r = await receiver();
    servers.push(r.server);
    const time = fakeTime();
    const start = time.at();
    const n = notifier(r.url, time, { maxPerMinute: 2 }, 2);
    for (let i = 0; i < 7; i++) n.notify(notice(`pv:${i}`));
    await n.settled();
    // Two alerts a POST, two POSTs a minute: 0 s, 0 s, 60 s, 60 s.
    expect(r.bodies.map((b) => b.alerts.map((a) => a.subject))).toEqual([
      ['pv:0', 'pv:1'],
      ['pv:2', 'pv:3'],
      ['pv:4', 'pv:5'],
      ['pv:6'],
    ]);
    expect(time.waits).toEqual([60_000]);
    expect(time.at() - start).toBe(60_000);
    expect(n.stats()).toMatchObject({ sent: 7, attempts: 4 });
  });

  it('bounds its queue: the oldest waiting alerts are dropped and counted', async () => {
    const r = await receiver();
    servers.push(r.server);
    const time = fakeTime();
    const n = notifier(r.url, time, { maxQueued: 3, maxPerMinute: 1 }, 100);
    for (let i = 0; i < 10; i++) n.notify(notice(`pv:${i}`));
    await n.settled();
    expect(r.bodies.flatMap((b) => b.alerts.map((a) => a.subject))).toEqual(['pv:7', 'pv:8', 'pv:9']);
    expect(n.stats()).toMatchObject({ sent: 3, dropped: 7 });
  });
});
