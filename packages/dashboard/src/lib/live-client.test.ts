import { describe, expect, it } from 'vitest';
import type { LiveRecord, RecordJSON } from './contract.js';
import { fullRecord } from './test-support/records.js';
import { LiveClient, defaultSocketUrl, lagStages } from './live-client.js';
import { fakeConnection, FakeSocket, liveRow, ManualTimers } from './test-support/fakes.js';

function rec(i: number, pv = `sim:pv${i}`, cmd = 'EventAddResponse'): LiveRecord {
  return liveRow(i, { pv, cmd });
}

function setup(capacity = 1000) {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const client = new LiveClient({
    url: 'ws://x/ws',
    capacity,
    ...fakeConnection(sockets, timers),
  });
  let renders = 0;
  client.onChange(() => renders++);
  return { timers, sockets, client, renders: () => renders };
}

describe('LiveClient', () => {
  it('subscribes on open and keeps the newest rows first', () => {
    const { sockets, client } = setup();
    client.setFilter({ pv: ['sim:*'] });
    client.start();
    expect(client.state).toBe('connecting');
    sockets[0].open();
    expect(client.state).toBe('open');
    expect(sockets[0].sent).toEqual([{ type: 'subscribe', filter: { pv: ['sim:*'] }, since: 0 }]);
    sockets[0].receive({ type: 'hello', version: '1.0', source: { kind: 'demo' } });
    sockets[0].receive({ type: 'records', records: [rec(1), rec(2), rec(3, 'other:x')] });
    expect(client.source).toEqual({ kind: 'demo' });
    expect(client.rows.sliceNewest(0, 10).map((r) => r.pv)).toEqual(['sim:pv2', 'sim:pv1']);
    expect(client.received).toBe(3);
  });

  it('renders at most once per interval whatever the message rate', () => {
    const { sockets, client, timers, renders } = setup(100_000);
    client.start();
    sockets[0].open();
    const before = renders();
    for (let i = 0; i < 1000; i++) {
      sockets[0].receive({ type: 'records', records: [rec(i)] });
      timers.advance(1);
    }
    // 1000 frames over one second, a render every 250 ms.
    expect(renders() - before).toBeLessThanOrEqual(5);
    expect(renders() - before).toBeGreaterThanOrEqual(3);
    expect(client.rows.size).toBe(1000);
  });

  it('never holds more rows than its capacity', () => {
    const { sockets, client } = setup(100);
    client.start();
    sockets[0].open();
    for (let b = 0; b < 50; b++)
      sockets[0].receive({ type: 'records', records: Array.from({ length: 20 }, (_, i) => rec(b * 20 + i)) });
    expect(client.rows.size).toBe(100);
    expect(client.rows.newest(0)?.pv).toBe('sim:pv999');
  });

  it('reconnects with doubling back-off and resubscribes', () => {
    const { sockets, client, timers } = setup();
    client.start();
    sockets[0].open();
    client.setFilter({ command: ['search'] });
    sockets[0].drop();
    expect(client.state).toBe('reconnecting');
    expect(client.backoffDelay(1)).toBe(500);
    expect(client.backoffDelay(2)).toBe(1000);
    expect(client.backoffDelay(10)).toBe(10_000);
    timers.advance(499);
    expect(sockets).toHaveLength(1);
    timers.advance(1);
    expect(sockets).toHaveLength(2);
    sockets[1].drop();
    timers.advance(999);
    expect(sockets).toHaveLength(2);
    timers.advance(1);
    expect(sockets).toHaveLength(3);
    sockets[2].open();
    expect(client.state).toBe('open');
    expect(client.attempts).toBe(0);
    expect(sockets[2].sent).toEqual([{ type: 'subscribe', filter: { command: ['search'] }, since: 0 }]);
    client.stop();
    expect(sockets[2].closed).toBe(true);
    expect(client.state).toBe('closed');
    timers.advance(60_000);
    expect(sockets).toHaveLength(3);
  });

  it('holds records while paused and appends them on resume', () => {
    const { sockets, client } = setup(5);
    client.start();
    sockets[0].open();
    sockets[0].receive({ type: 'records', records: [rec(1)] });
    client.pause();
    sockets[0].receive({ type: 'records', records: [rec(2), rec(3)] });
    expect(client.rows.sliceNewest(0, 5).map((r) => r.pv)).toEqual(['sim:pv1']);
    expect(client.heldCount).toBe(2);
    client.resume();
    expect(client.rows.sliceNewest(0, 5).map((r) => r.pv)).toEqual(['sim:pv3', 'sim:pv2', 'sim:pv1']);
    client.pause();
    sockets[0].receive({ type: 'records', records: Array.from({ length: 8 }, (_, i) => rec(10 + i)) });
    expect(client.heldCount).toBe(5);
    expect(client.heldDropped).toBe(3);
  });

  it('counts drops, derives search rates from snapshots and survives junk', () => {
    const { sockets, client } = setup();
    client.start();
    sockets[0].open();
    sockets[0].receive({ type: 'dropped', count: 7 });
    sockets[0].receive({ type: 'dropped', count: 3 });
    expect(client.serverDropped).toBe(10);
    const snap = (time: number, searches: number) => ({
      type: 'snapshot',
      time,
      stats: { messagesPerSecond: 50, perCommand: { SearchRequest: searches } },
      channels: [],
      servers: [],
      clients: [],
      searches: { top: [], unanswered: [] },
      errors: [],
      alerts: [],
    });
    sockets[0].receive(snap(100, 10));
    sockets[0].receive(snap(102, 30));
    sockets[0].receive(snap(103, 4));
    expect(client.rates.sliceNewest(0, 5)).toEqual([
      { t: 103, messagesPerSecond: 50, searchesPerSecond: 4 },
      { t: 102, messagesPerSecond: 50, searchesPerSecond: 10 },
    ]);
    sockets[0].onmessage?.({ data: 'not json' });
    sockets[0].receive({ type: 'records', records: [null, { nope: 1 }] });
    expect(client.lastError).toMatch(/unreadable/);
    expect(client.rows.size).toBe(0);
  });
});

describe('LiveClient stream counts', () => {
  it('adds up matched and sent, keeps the rates, the sampling flag and the lag of the newest row', () => {
    const { sockets, client, timers } = setup();
    client.start();
    sockets[0].open();
    timers.advance(5000);
    sockets[0].receive({
      type: 'records',
      time: 1010.5,
      records: [rec(8), rec(10)],
      matched: 850,
      sent: 2,
      rate: { matched: 8500, sent: 20 },
      sampling: true,
    });
    expect(client.stream).toEqual({
      matched: 850,
      sent: 2,
      matchedRate: 8500,
      sentRate: 20,
      sampling: true,
      lastFrameAt: 5000,
      frameLagMs: 500,
      // An older daemon says nothing of where the time went.
      stages: null,
      // The subscription asked for the held records; none came yet.
      history: { matched: 0, sent: 0, sampling: false, done: false },
    });
    sockets[0].receive({ type: 'records', time: 1011, records: [rec(11)], matched: 1, sent: 1, sampling: false });
    expect(client.stream.matched).toBe(851);
    expect(client.stream.sent).toBe(3);
    expect(client.stream.sampling).toBe(false);
    expect(client.stream.frameLagMs).toBe(0);
    // Nothing matched: nothing is behind.
    sockets[0].receive({ type: 'records', time: 1020, records: [], matched: 0, sent: 0 });
    expect(client.stream.frameLagMs).toBe(0);
    expect(client.rows.sliceNewest(0, 5).map((r) => r.id)).toEqual([11, 10, 8]);
  });

  it('drops rows still in flight from an older subscription, by the LiveRecord fields', () => {
    const { sockets, client } = setup();
    client.start();
    sockets[0].open();
    client.setFilter({ host: ['10.0.0.0/8'], command: ['read'], errors: true });
    sockets[0].receive({
      type: 'records',
      records: [
        rec(1, 'a', 'ReadNotifyResponse'),
        liveRow(2, { cmd: 'ReadNotifyResponse', src: '10.1.2.3:5064', error: true, status: 'ECA_NORDACCESS' }),
        liveRow(3, { cmd: 'ReadNotifyResponse', dst: '10.9.9.9:5064', error: false }),
        liveRow(4, { cmd: 'WriteNotifyResponse', dst: '10.9.9.9:5064', error: true }),
      ],
    });
    expect(client.rows.sliceNewest(0, 5).map((r) => r.id)).toEqual([2]);
  });

  it('reads full records from a daemon before the compact stream and keeps them for the detail', () => {
    const { sockets, client } = setup();
    client.start();
    sockets[0].open();
    const full: RecordJSON = fullRecord({
      frame: 7,
      timestamp: 1000.25,
      src: '127.0.0.1',
      dst: '127.0.0.2',
      sport: 5064,
      dport: 4000,
      command: {
        name: 'ReadNotifyResponse',
        id: 15,
        data_type: 5,
        data_type_name: 'LONG',
        data_count: 1,
        ioid: 1,
        status: 1,
        status_name: 'ECA_NORMAL',
        severity: 'SUCCESS',
        data: [42],
      },
      pv: 'sim:x',
      role: 'response',
      latency: 0.002,
      size: 24,
      raw: '000f',
    });
    sockets[0].receive({ type: 'records', records: [full] });
    const row = client.rows.newest(0);
    expect(row).toMatchObject({
      frame: 7,
      t: 1000.25,
      src: '127.0.0.1:5064',
      dst: '127.0.0.2:4000',
      cmd: 'ReadNotifyResponse',
      pv: 'sim:x',
      summary: '42 data_type=LONG data_count=1 ioid=1',
      latency: 0.002,
      error: false,
    });
    expect(row && row.id < 0).toBe(true);
    expect(client.legacyRecord(row?.id ?? 0)).toEqual(full);
    expect(client.stream.matched).toBe(1);
    expect(client.stream.sent).toBe(1);
  });
});

describe('defaultSocketUrl', () => {
  it('sits beside the page and forwards the token', () => {
    expect(defaultSocketUrl({ protocol: 'http:', host: '127.0.0.1:8080', search: '', pathname: '/' })).toBe(
      'ws://127.0.0.1:8080/ws',
    );
    expect(
      defaultSocketUrl({ protocol: 'https:', host: 'h', search: '?token=a b', pathname: '/shark/index.html' }),
    ).toBe('wss://h/shark/ws?token=a%20b');
  });
});

describe('LiveClient with an invalid filter', () => {
  it('keeps the previous filter and its rows when the shared filter refuses the new one', () => {
    const { sockets, client } = setup();
    client.start();
    sockets[0].open();
    expect(client.setFilter({ pv: ['sim:*'] })).toBe(true);
    sockets[0].receive({ type: 'subscribed', filter: { pv: ['sim:*'] } });
    sockets[0].receive({ type: 'records', records: [rec(1)] });
    const sent = sockets[0].sent.length;

    expect(client.setFilter({ pv: ['sim:{ai'] })).toBe(false);
    expect(client.filterError).toBe('bad PV glob "sim:{ai": unclosed {');
    expect(client.currentFilter).toEqual({ pv: ['sim:*'] });
    expect(sockets[0].sent).toHaveLength(sent);
    expect(client.rows.size).toBe(1);
    sockets[0].receive({ type: 'records', records: [rec(2), rec(3, 'other:x')] });
    expect(client.rows.sliceNewest(0, 10).map((r) => r.pv)).toEqual(['sim:pv2', 'sim:pv1']);

    expect(client.setFilter({ command: ['beacon'] })).toBe(true);
    expect(client.filterError).toBe('');
  });

  it('falls back to the confirmed filter when the daemon refuses the new one, and shows its reason', () => {
    const { sockets, client } = setup();
    client.setFilter({ pv: ['sim:*'] });
    client.start();
    sockets[0].open();
    sockets[0].receive({ type: 'subscribed', filter: { pv: ['sim:*'] } });
    client.setFilter({ command: ['search'] }, 7);
    // A daemon with other limits (an older or newer version) may refuse what this page accepts.
    sockets[0].receive({ type: 'error', message: 'more than 1 commands in one filter (1)' });
    expect(client.filterError).toBe('more than 1 commands in one filter (1)');
    expect(client.filterSeq).toBe(7);
    expect(client.currentFilter).toEqual({ pv: ['sim:*'] });
    expect(sockets[0].sent.at(-1)).toEqual({ type: 'subscribe', filter: { pv: ['sim:*'] }, since: 0 });
    sockets[0].receive({ type: 'subscribed', filter: { pv: ['sim:*'] } });
    sockets[0].receive({ type: 'records', records: [rec(1), rec(2, 'other:x', 'SearchRequest')] });
    expect(client.rows.sliceNewest(0, 10).map((r) => r.pv)).toEqual(['sim:pv1']);
  });

  it('takes an error outside a subscription as a connection error, not a filter refusal', () => {
    const { sockets, client } = setup();
    client.start();
    sockets[0].open();
    sockets[0].receive({ type: 'subscribed', filter: {} });
    sockets[0].receive({ type: 'error', message: 'not JSON' });
    expect(client.filterError).toBe('');
    expect(client.lastError).toBe('not JSON');
  });
});

describe('lagStages', () => {
  it('splits the newest row’s lag into the daemon’s stages and the way to the page', () => {
    const { sockets, client, timers } = setup();
    client.start();
    sockets[0].open();
    timers.advance(1_011_040);
    // rec(10) was captured at 1010 s; its batch reached the decoder 30 ms later, the hub after 0.8 s.
    sockets[0].receive({
      type: 'records',
      time: 1011,
      records: [rec(8), rec(10)],
      matched: 2,
      sent: 2,
      postedAt: 1010.03,
      decodedAt: 1010.73,
      publishedAt: 1010.83,
    });
    expect(client.stream.stages).toEqual({ capture: 30, decoder: 700, main: 100, hub: 170, transit: 40 });
    expect(client.stream.frameLagMs).toBe(1000);
  });

  it('is null without the daemon’s times and never negative across clocks that disagree', () => {
    const msg = { type: 'records' as const, records: [], time: 1011 };
    expect(lagStages(msg, 1010, 1_011_000)).toBeNull();
    expect(lagStages({ ...msg, postedAt: 1010.5, publishedAt: 1010.6 }, 1010, 1_011_000)).toBeNull();
    expect(lagStages({ ...msg, postedAt: 1009.9, decodedAt: 1010.4, publishedAt: 1010.5 }, 1010, 1_010_000)).toEqual({
      capture: 0,
      decoder: 500,
      main: 100,
      hub: 500,
      transit: 0,
    });
  });
});
