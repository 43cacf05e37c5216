import { describe, expect, it } from 'vitest';
import type { LiveRecord } from './contract.js';
import type { RecordFetch } from './record-fetch.js';
import { RemoteClient, type WorkerLike } from './remote-client.js';
import { fakeConnection, FakeSocket, liveRow, ManualTimers } from './test-support/fakes.js';
import { createWorkerHost } from './worker-host.js';
import type { WorkerCommand, WorkerMessage, WorkerUpdate } from './worker-protocol.js';

function rec(i: number, pv = `sim:pv${i}`, cmd = 'ReadNotifyResponse', latency: number | null = null): LiveRecord {
  return liveRow(i, { pv, cmd, latency });
}

/** Page and worker wired back to back, synchronously. */
function setup(fetch?: RecordFetch) {
  const timers = new ManualTimers();
  const sockets: FakeSocket[] = [];
  const updates: WorkerUpdate[] = [];
  let remote: RemoteClient | null = null;
  const host = createWorkerHost(
    (u: WorkerMessage) => {
      if (u.type === 'update') updates.push(u);
      remote?.receive(u);
    },
    {
      fetch,
      capacity: 1000,
      ...fakeConnection(sockets, timers),
    },
  );
  const commands: WorkerCommand[] = [];
  const worker: WorkerLike = {
    postMessage: (cmd) => {
      commands.push(cmd);
      host(cmd);
    },
    onmessage: null,
    terminate: () => undefined,
  };
  remote = new RemoteClient(worker);
  return { timers, sockets, updates, remote, commands };
}

describe('worker host and remote client', () => {
  it('sends only the visible window of rows, with stable sequence numbers', () => {
    const { sockets, remote, timers } = setup();
    remote.start('ws://x/ws');
    sockets[0].open();
    remote.setWindow(0, 3);
    sockets[0].receive({ type: 'records', records: Array.from({ length: 10 }, (_, i) => rec(i)) });
    timers.advance(300);
    expect(remote.status.rowCount).toBe(10);
    expect(remote.status.state).toBe('open');
    expect(remote.window.start).toBe(0);
    expect(remote.window.rows.map((r) => [r.seq, r.record.pv])).toEqual([
      [9, 'sim:pv9'],
      [8, 'sim:pv8'],
      [7, 'sim:pv7'],
    ]);
    remote.setWindow(5, 7);
    expect(remote.window.rows.map((r) => [r.seq, r.record.pv])).toEqual([
      [4, 'sim:pv4'],
      [3, 'sim:pv3'],
    ]);
  });

  it('passes snapshots and rates once, latency only when asked', () => {
    const { sockets, remote, updates, timers } = setup();
    remote.start('ws://x/ws');
    sockets[0].open();
    const snap = (time: number) => ({
      type: 'snapshot',
      time,
      stats: { perCommand: { SearchRequest: time } },
      channels: [],
      servers: [],
      clients: [],
      searches: { top: [], unanswered: [] },
      errors: [],
      alerts: [],
    });
    sockets[0].receive(snap(10));
    timers.advance(300);
    sockets[0].receive(snap(12));
    timers.advance(300);
    expect(remote.snapshot?.time).toBe(12);
    expect(remote.rates).toEqual([{ t: 12, messagesPerSecond: 0, searchesPerSecond: 1 }]);
    const n = updates.length;
    sockets[0].receive({ type: 'records', records: [rec(1, 'a', 'ReadNotifyResponse', 0.002)] });
    timers.advance(300);
    expect(updates.length).toBe(n + 1);
    expect(updates[n].snapshot).toBeUndefined();
    expect(updates[n].latency).toBeUndefined();
    remote.wantLatency(true);
    expect(remote.latency.map((s) => [s.server, s.kind, s.count, s.points.length])).toEqual([
      ['127.0.0.1:5064', 'read', 1, 1],
    ]);
  });

  it('empties the table at once when the filter changes, before the worker answers', () => {
    const worker: WorkerLike = { postMessage: () => undefined, onmessage: null, terminate: () => undefined };
    const remote = new RemoteClient(worker);
    remote.receive({
      type: 'update',
      status: { ...remote.status, rowCount: 1 },
      window: {
        start: 0,
        rows: [{ seq: 0, record: rec(1) }],
      },
    });
    let changes = 0;
    remote.onChange(() => changes++);
    remote.setFilter({ pv: ['new*'] });
    expect(remote.window.rows).toEqual([]);
    expect(remote.status.rowCount).toBe(0);
    expect(changes).toBe(1);
  });

  it('keeps a filter set before the connection starts', () => {
    const { sockets, remote } = setup();
    remote.setFilter({ pv: ['deep:*'] });
    remote.start('ws://x/ws');
    sockets[0].open();
    expect(sockets[0].sent).toEqual([{ type: 'subscribe', filter: { pv: ['deep:*'] }, since: 0 }]);
  });

  it('forwards filter, pause and clear to the worker', () => {
    const { sockets, remote, timers } = setup();
    remote.start('ws://x/ws');
    sockets[0].open();
    remote.setFilter({ pv: ['a*'] });
    expect(sockets[0].sent.at(-1)).toEqual({ type: 'subscribe', filter: { pv: ['a*'] }, since: 0 });
    remote.setWindow(0, 10);
    sockets[0].receive({ type: 'records', records: [rec(1, 'a1'), rec(2, 'b2'), rec(3, 'a3')] });
    timers.advance(300);
    expect(remote.window.rows.map((r) => r.record.pv)).toEqual(['a3', 'a1']);
    remote.setPaused(true);
    expect(remote.status.paused).toBe(true);
    sockets[0].receive({ type: 'records', records: [rec(4, 'a4')] });
    timers.advance(300);
    expect(remote.window.rows.map((r) => r.record.pv)).toEqual(['a3', 'a1']);
    expect(remote.status.heldCount).toBe(1);
    remote.setPaused(false);
    expect(remote.window.rows.map((r) => r.record.pv)).toEqual(['a4', 'a3', 'a1']);
    remote.clear();
    expect(remote.status.rowCount).toBe(0);
  });

  it('freezes the rows the moment the page pauses, even under an update the worker sent before it read the pause', () => {
    const sent: WorkerCommand[] = [];
    const remote = new RemoteClient({ postMessage: (c) => sent.push(c), onmessage: null, terminate: () => undefined });
    const update = (paused: boolean, pvs: string[]): WorkerUpdate => ({
      type: 'update',
      status: { ...remote.status, paused, rowCount: pvs.length },
      window: { start: 0, rows: pvs.map((pv, i) => ({ seq: pvs.length - 1 - i, record: rec(i, pv) })) },
    });
    remote.receive(update(false, ['a2', 'a1']));
    remote.setPaused(true);
    expect(sent.at(-1)).toEqual({ type: 'pause', newestSeq: 1 });
    // Made by the worker before it handled 'pause': a newer row, status not yet paused.
    remote.receive(update(false, ['a3', 'a2', 'a1']));
    expect(remote.status.paused).toBe(true);
    expect(remote.window.rows.map((r) => r.record.pv)).toEqual(['a2', 'a1']);
    remote.setPaused(false);
    expect(sent.at(-1)).toEqual({ type: 'resume' });
    remote.receive(update(true, ['a2', 'a1']));
    expect(remote.status.paused).toBe(false);
    remote.receive(update(false, ['a4', 'a3', 'a2', 'a1']));
    expect(remote.window.rows.map((r) => r.record.pv)).toEqual(['a4', 'a3', 'a2', 'a1']);
  });

  it('keeps rows the page had not drawn when it paused out of the frozen table, and shows them on resume', () => {
    const { sockets, remote, timers } = setup();
    remote.start('ws://x/ws');
    sockets[0].open();
    remote.setWindow(0, 10);
    sockets[0].receive({ type: 'records', records: [rec(1, 'a1'), rec(2, 'a2')] });
    timers.advance(300);
    expect(remote.window.rows.map((r) => r.record.pv)).toEqual(['a2', 'a1']);
    // a3 reaches the worker, and the page pauses before the worker's next update draws it.
    sockets[0].receive({ type: 'records', records: [rec(3, 'a3')] });
    remote.setPaused(true);
    sockets[0].receive({ type: 'records', records: [rec(4, 'a4')] });
    timers.advance(300);
    expect(remote.status.paused).toBe(true);
    expect(remote.window.rows.map((r) => [r.seq, r.record.pv])).toEqual([
      [1, 'a2'],
      [0, 'a1'],
    ]);
    expect(remote.status.rowCount).toBe(2);
    remote.setWindow(1, 10);
    expect(remote.window.rows.map((r) => [r.seq, r.record.pv])).toEqual([[0, 'a1']]);
    remote.setWindow(0, 10);
    remote.setPaused(false);
    timers.advance(300);
    expect(remote.window.rows.map((r) => [r.seq, r.record.pv])).toEqual([
      [3, 'a4'],
      [2, 'a3'],
      [1, 'a2'],
      [0, 'a1'],
    ]);
  });

  it('tells the page which filter the daemon refused, numbered as the page sent it, and what stays in force', () => {
    const { sockets, remote, timers } = setup();
    remote.start('ws://x/ws');
    sockets[0].open();
    remote.setFilter({ pv: ['sim:*'] });
    // The daemon answers every subscribe in order: the one sent on open, then this one.
    sockets[0].receive({ type: 'subscribed', filter: {} });
    sockets[0].receive({ type: 'subscribed', filter: { pv: ['sim:*'] } });
    remote.setFilter({ command: ['search'] });
    sockets[0].receive({ type: 'error', message: 'refused by the daemon' });
    timers.advance(300);
    expect(remote.status.filterSeq).toBe(remote.filterSeq);
    expect(remote.status.filterError).toBe('refused by the daemon');
    expect(remote.status.filter).toEqual({ pv: ['sim:*'] });
  });

  it('fetches the full record of a row, and passes on what the daemon says when it is no longer held', async () => {
    const asked: string[] = [];
    const { remote } = setup(async (url) => {
      asked.push(url);
      const id = Number(/record\/(\d+)/.exec(url)?.[1]);
      if (id === 5)
        return {
          ok: true,
          status: 200,
          json: async () => ({ timestamp: 1, src: 'a', dst: 'b', command: { name: 'X' } }),
        };
      return { ok: false, status: 404, json: async () => ({ error: `record ${id} is no longer held` }) };
    });
    remote.start('ws://x/ws');
    const [held, gone] = await Promise.all([
      remote.requestRecord(5, 'http://x/api/record/5?token=t'),
      remote.requestRecord(3, 'http://x/api/record/3?token=t'),
    ]);
    // The history of the charts is asked for at start; the records when their rows are opened.
    expect(asked.filter((u) => u.includes('/api/record/'))).toEqual([
      'http://x/api/record/5?token=t',
      'http://x/api/record/3?token=t',
    ]);
    expect(held).toEqual({
      type: 'record',
      id: 5,
      record: { timestamp: 1, src: 'a', dst: 'b', command: { name: 'X' } },
      error: null,
    });
    expect(gone).toEqual({ type: 'record', id: 3, record: null, error: 'record 3 is no longer held' });
  });

  it('passes the stream counts to the page', () => {
    const { sockets, remote, timers } = setup();
    remote.start('ws://x/ws');
    sockets[0].open();
    sockets[0].receive({
      type: 'records',
      time: 1002,
      records: [rec(1)],
      matched: 40,
      sent: 1,
      rate: { matched: 400, sent: 10 },
      sampling: true,
    });
    timers.advance(300);
    expect(remote.status.stream).toMatchObject({ matched: 40, sent: 1, sampling: true, frameLagMs: 1000 });
  });
});
