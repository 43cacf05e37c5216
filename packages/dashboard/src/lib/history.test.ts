import { describe, expect, it } from 'vitest';
import { HistoryLoader, type HistoryAnswerJSON, historyUpdate, historyUrl } from './history-loader.js';
import { historyNotice } from './history-notice.js';
import { LatencyTracker } from './latency.js';
import { LiveClient } from './live-client.js';
import { fakeConnection, type FakeSocket, liveRow, ManualTimers } from './test-support/fakes.js';
import type { ClientStatus } from './worker-protocol.js';

const T0 = 1_700_000_000;

function answer(fields: Partial<HistoryAnswerJSON> = {}): HistoryAnswerJSON {
  return {
    eof: false,
    endedAt: null,
    messages: 30,
    since: T0,
    until: T0 + 2,
    step: 1,
    newest: T0 + 2,
    traffic: {
      t: [T0, T0 + 1, T0 + 2],
      dt: [1, 1, 1],
      messages: [10, 12, 8],
      bytes: [400, 480, 320],
      searches: [2, 0, 1],
      errors: [0, 0, 0],
    },
    latency: [
      {
        server: '10.0.0.2:5064',
        kind: 'read',
        t: [T0, T0 + 2],
        dt: [1, 1],
        count: [2, 1],
        sum: [0.02, 0.01],
        max: [0.015, 0.01],
      },
    ],
    ...fields,
  };
}

describe('history from the daemon', () => {
  it('finds /api/history beside /ws with the token and the range', () => {
    expect(historyUrl('ws://h:8080/ws?token=t')).toBe('http://h:8080/api/history?token=t');
    expect(historyUrl('wss://h/shark/ws', 12)).toBe('https://h/shark/api/history?since=12');
  });

  it('keeps complete seconds only while the input runs, every one once it ended', () => {
    const running = historyUpdate(answer(), true);
    expect(running.rates).toEqual([
      { t: T0, messagesPerSecond: 10, searchesPerSecond: 2 },
      { t: T0 + 1, messagesPerSecond: 12, searchesPerSecond: 0 },
    ]);
    expect(running.latency).toEqual([
      { server: '10.0.0.2:5064', kind: 'read', points: [{ t: T0, count: 2, sum: 0.02, max: 0.015 }] },
    ]);
    const ended = historyUpdate(answer({ eof: true, endedAt: T0 + 100 }), false);
    expect(ended.rates).toHaveLength(3);
    expect(ended.latency).toBeNull();
    expect(ended.input).toEqual({ eof: true, endedAt: T0 + 100, messages: 30 });
    // A minute point is a rate over its minute.
    const coarse = historyUpdate(
      answer({ traffic: { ...answer().traffic, dt: [60, 1, 1], messages: [600, 1, 1] } }),
      false,
    );
    expect(coarse.rates[0].messagesPerSecond).toBe(10);
  });

  it('loads everything, then asks from the second it could not count whole, until stopped', async () => {
    const timers = new ManualTimers();
    const asked: string[] = [];
    const answers = [answer(), answer({ since: T0 + 2, traffic: { ...answer().traffic, t: [T0 + 2, T0 + 3] } })];
    const updates: unknown[] = [];
    const loader = new HistoryLoader(
      async (url) => {
        asked.push(url);
        const body = answers.shift() ?? answer();
        return { ok: true, status: 200, json: async () => body };
      },
      'ws://h/ws',
      timers,
      (u) => updates.push(u),
      2000,
    );
    await loader.poll();
    expect(asked).toEqual(['http://h/api/history']);
    expect(updates).toHaveLength(1);
    timers.advance(2000);
    await new Promise((r) => setTimeout(r, 0));
    expect(asked[1]).toBe(`http://h/api/history?since=${T0 + 2}`);
    loader.stop();
    timers.advance(10_000);
    expect(asked).toHaveLength(2);
  });

  it('gives up on a daemon without history (404)', async () => {
    const timers = new ManualTimers();
    let calls = 0;
    const loader = new HistoryLoader(
      async () => {
        calls += 1;
        return { ok: false, status: 404, json: async () => ({ error: 'no history' }) };
      },
      'ws://h/ws',
      timers,
      () => undefined,
    );
    await loader.poll();
    timers.advance(60_000);
    expect(calls).toBe(1);
    expect(loader.supported).toBe(false);
  });
});

describe('LiveClient with history', () => {
  function setup() {
    const timers = new ManualTimers();
    const sockets: FakeSocket[] = [];
    const client = new LiveClient({ url: 'ws://x/ws', ...fakeConnection(sockets, timers) });
    return { client, sockets, timers };
  }

  it('shows held records before live ones and counts them apart from the live stream', () => {
    const { client, sockets } = setup();
    client.start();
    sockets[0].open();
    sockets[0].receive({
      type: 'records',
      history: true,
      time: T0,
      records: [liveRow(1), liveRow(2)],
      matched: 4,
      sent: 2,
      sampling: true,
    });
    sockets[0].receive({ type: 'history', since: 0, matched: 4, sent: 2, sampling: true, oldest: 1001 });
    sockets[0].receive({ type: 'records', time: 1003.5, records: [liveRow(3)], matched: 1, sent: 1 });
    expect(client.rows.sliceNewest(0, 10).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(client.stream.history).toEqual({ matched: 4, sent: 2, sampling: true, done: true });
    expect(client.stream.matched).toBe(1);
    expect(client.stream.frameLagMs).toBe(500);
  });

  it('drops what it showed when it reconnects: the daemon sends the history again', () => {
    const { client, sockets, timers } = setup();
    client.start();
    sockets[0].open();
    sockets[0].receive({ type: 'records', records: [liveRow(1), liveRow(2)] });
    sockets[0].drop();
    timers.advance(1000);
    sockets[1].open();
    expect(client.rows.size).toBe(0);
    expect(sockets[1].sent).toEqual([{ type: 'subscribe', filter: {}, since: 0 }]);
  });

  it('takes rate points from the daemon once it has them, not from snapshots', () => {
    const { client, sockets } = setup();
    client.start();
    sockets[0].open();
    client.addRateHistory([
      { t: T0, messagesPerSecond: 5, searchesPerSecond: 1 },
      { t: T0 + 1, messagesPerSecond: 6, searchesPerSecond: 0 },
    ]);
    client.addRateHistory([{ t: T0 + 1, messagesPerSecond: 6, searchesPerSecond: 0 }]);
    sockets[0].receive({ type: 'snapshot', time: T0 + 5, stats: { messagesPerSecond: 99, perCommand: {} } });
    sockets[0].receive({ type: 'snapshot', time: T0 + 6, stats: { messagesPerSecond: 99, perCommand: {} } });
    expect(client.rates.sliceNewest(0, 10).map((p) => p.t)).toEqual([T0 + 1, T0]);
  });
});

describe('LatencyTracker.seed', () => {
  it("puts the daemon's points before those taken from records, replacing the overlap", () => {
    const tracker = new LatencyTracker();
    tracker.add(liveRow(1, { cmd: 'ReadNotifyResponse', latency: 0.5, t: T0 + 1.2 }));
    tracker.add(liveRow(2, { cmd: 'ReadNotifyResponse', latency: 0.25, t: T0 + 3.5 }));
    tracker.seed('127.0.0.1:5064', 'read', [
      { t: T0, count: 3, sum: 0.3, max: 0.2 },
      { t: T0 + 1, count: 5, sum: 1, max: 0.5 },
    ]);
    const s = tracker.all()[0];
    expect(s.series.sliceNewest(0, 10).reverse()).toEqual([
      { t: T0, count: 3, sum: 0.3, max: 0.2 },
      { t: T0 + 1, count: 5, sum: 1, max: 0.5 },
      { t: T0 + 3, count: 1, sum: 0.25, max: 0.25 },
    ]);
  });
});

describe('historyNotice', () => {
  const stream = { history: null } as unknown as ClientStatus['stream'];
  it('says when a replay finished and how many messages it had', () => {
    const s = {
      input: { eof: true, endedAt: Date.UTC(2026, 0, 2, 7, 1, 12) / 1000, messages: 5559 },
      source: { kind: 'file' },
      stream,
    };
    expect(historyNotice(s as Pick<ClientStatus, 'input' | 'source' | 'stream'>)).toBe(
      'Replay finished at 07:01:12 UTC (5\u2009559 messages)',
    );
    expect(historyNotice({ ...s, input: { eof: false, endedAt: null, messages: 1 } } as never)).toBe('');
  });

  it('says how much of the held history a sampled table shows', () => {
    const sampled = { history: { matched: 85_000, sent: 10_000, sampling: true, done: true } };
    expect(historyNotice({ input: null, source: null, stream: sampled } as never)).toBe(
      'showing 10\u2009000 of 85\u2009000 held records that match, evenly spaced',
    );
  });
});
