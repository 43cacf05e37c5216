import { describe, expect, it } from 'vitest';
import type { ChannelRow, SnapshotMessage } from './contract.js';
import { lightSnapshot, MAX_TABLE_WINDOW, TableEngine } from './table-engine.js';

function channel(i: number): ChannelRow {
  return {
    pv: `pv:${i}`,
    client: `10.0.0.${i % 3}:4000`,
    server: '10.0.1.1:5064',
    circuit: 1,
    cid: i,
    sid: i,
    state: 'connected',
    closedAt: null,
    nativeType: 'DOUBLE',
    count: 1,
    access: 'rw',
    subscriptions: i % 4,
    updates: 0,
    updateRate: i,
    lastValue: [i],
    searchLatency: null,
    timeToFind: null,
    connectLatency: null,
    firstSeen: 0,
    lastSeen: 0,
  } as ChannelRow;
}

function snapshot(n: number): SnapshotMessage {
  return {
    type: 'snapshot',
    time: 1,
    channels: Array.from({ length: n }, (_, i) => channel(i)),
    clients: [],
    searches: { top: [], unanswered: [] },
    errors: [
      { time: 5, command: 'ReadNotifyResponse', pv: 'a', src: '1.1.1.1', dst: '2.2.2.2', detail: 'NORDACCESS' },
      { time: 7, command: 'ReadNotifyResponse', pv: 'a', src: '1.1.1.3', dst: '2.2.2.2', detail: 'NORDACCESS' },
      { time: 6, command: 'WriteNotifyResponse', pv: 'b', src: '1.1.1.1', dst: '2.2.2.2', detail: 'PUTFAIL' },
    ],
  } as unknown as SnapshotMessage;
}

describe('TableEngine', () => {
  it('sorts and filters the whole table and sends only the rows asked for', () => {
    const engine = new TableEngine();
    const snap = snapshot(10_000);
    engine.set('channels', { sort: 'rate', dir: 'desc', filter: { host: ['10.0.0.1'] }, start: 10, end: 13 });
    const w = engine.windows(snap)?.channels;
    expect(w?.total).toBe(3333);
    expect(w?.start).toBe(10);
    expect(w?.rows.map((c) => c.pv)).toEqual(['pv:9967', 'pv:9964', 'pv:9961']);
    engine.set('channels', { sort: 'pv', dir: 'asc', filter: {}, start: 0, end: 100_000 });
    const all = engine.windows(snap)?.channels;
    expect(all?.rows).toHaveLength(MAX_TABLE_WINDOW);
    // Natural order: pv:2 before pv:10.
    expect(all?.rows.slice(0, 3).map((c) => c.pv)).toEqual(['pv:0', 'pv:1', 'pv:2']);
  });

  it('sends a window again only when the snapshot or the query changed', () => {
    const engine = new TableEngine();
    const snap = snapshot(5);
    const q = { sort: 'pv', dir: 'asc' as const, filter: {}, start: 0, end: 50 };
    engine.set('channels', q);
    expect(engine.windows(snap)?.channels?.total).toBe(5);
    expect(engine.windows(snap)).toBeUndefined();
    expect(engine.windows(snapshot(6))?.channels?.total).toBe(6);
    engine.set('channels', null);
    expect(engine.windows(snapshot(7))).toBeUndefined();
  });

  it('groups errors per PV, message and status', () => {
    const engine = new TableEngine();
    engine.set('errorGroups', { sort: 'count', dir: 'desc', filter: {}, start: 0, end: 10 });
    expect(engine.windows(snapshot(0))?.errorGroups?.rows).toEqual([
      { pv: 'a', command: 'ReadNotifyResponse', detail: 'NORDACCESS', count: 2, last: 7, servers: '1.1.1.1, 1.1.1.3' },
      { pv: 'b', command: 'WriteNotifyResponse', detail: 'PUTFAIL', count: 1, last: 6, servers: '1.1.1.1' },
    ]);
  });

  it('leaves the big lists out of the snapshot the page gets', () => {
    const light = lightSnapshot(snapshot(100));
    expect(light.channels).toEqual([]);
    expect(light.errors).toEqual([]);
    expect(light.time).toBe(1);
  });
});
