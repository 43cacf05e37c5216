import type { CaRecord } from '@ca-shark/decoder';
import { describe, expect, it } from 'vitest';
import { ChartHistory, MAX_LATENCY_SERIES, TieredSeries } from './series-history.js';

const T0 = 1_700_000_000;

describe('TieredSeries', () => {
  it('keeps 1 s points within the first tier and merges older ones into 1 min points, totals unchanged', () => {
    const s = new TieredSeries(
      ['sum', 'max'],
      [
        { step: 1, span: 600 },
        { step: 60, span: 3600 },
      ],
    );
    // One event a second for 30 minutes, value = its second.
    for (let i = 0; i < 1800; i++) s.add(T0 + i + 0.5, [1, i]);
    const all = s.columns(0, Infinity, 1);
    const fine = all.dt.filter((d) => d === 1).length;
    expect(fine).toBe(600);
    const minutes = Math.floor((T0 + 1199) / 60) - Math.floor(T0 / 60) + 1;
    expect(all.dt.filter((d) => d === 60).length).toBe(minutes);
    expect(all.values[0].reduce((a, b) => a + b, 0)).toBe(1800);
    // Coarse points cover older seconds than fine ones, in order.
    expect([...all.t].sort((a, b) => a - b)).toEqual(all.t);
    expect(all.t[all.t.length - 1]).toBe(T0 + 1799);
    // A minute point keeps the largest value of its seconds.
    const minute = all.t.indexOf(Math.floor((T0 + 120) / 60) * 60);
    expect(all.values[1][minute]).toBe(Math.floor((T0 + 120) / 60) * 60 + 59 - T0);
  });

  it('forgets what falls out of the last tier: memory stays bounded', () => {
    const s = new TieredSeries(
      ['sum'],
      [
        { step: 1, span: 60 },
        { step: 60, span: 600 },
      ],
    );
    for (let i = 0; i < 100_000; i++) s.add(T0 + i, [1]);
    const all = s.columns(0, Infinity, 1);
    expect(all.t.length).toBeLessThanOrEqual(60 + 10 + 1);
    expect(s.oldest).toBeGreaterThanOrEqual(T0 + 100_000 - 60 - 660);
  });

  it('merges into buckets of a coarser step on request, and a late record into its own second', () => {
    const s = new TieredSeries(['sum']);
    for (let i = 0; i < 120; i++) s.add(T0 + i, [2]);
    s.add(T0 + 117.2, [1]);
    const fine = s.columns(T0, T0 + 119, 1);
    expect(fine.values[0][117]).toBe(3);
    const coarse = s.columns(T0, T0 + 119, 30);
    expect(coarse.dt.every((d) => d === 30)).toBe(true);
    expect(coarse.values[0].reduce((a, b) => a + b, 0)).toBe(241);
  });
});

/** A record with what the charts read. */
function record(t: number, name: string, extra: Partial<CaRecord> = {}): CaRecord {
  return {
    timestamp: t,
    size: 40,
    src: '10.0.0.2',
    dst: '10.0.0.9',
    transport: { protocol: 'tcp', sport: 5064, dport: 40000 },
    command: { name },
    pv: 'X',
    ...extra,
  } as unknown as CaRecord;
}

describe('ChartHistory', () => {
  it('counts messages, bytes, searches and failures per second and latencies per server and kind', () => {
    const h = new ChartHistory();
    h.add(record(T0 + 0.1, 'SearchRequest'));
    h.add(record(T0 + 0.2, 'SearchResponse', { latency: 0.002, src: '10.0.0.3' } as Partial<CaRecord>));
    h.add(record(T0 + 1.5, 'ReadNotifyResponse', { latency: 0.01 } as Partial<CaRecord>));
    h.add(record(T0 + 1.6, 'ReadNotifyResponse', { latency: 0.03 } as Partial<CaRecord>));
    h.add(record(T0 + 1.7, 'Malformed'));
    const a = h.answer();
    expect(a.traffic).toEqual({
      t: [T0, T0 + 1],
      dt: [1, 1],
      messages: [2, 3],
      bytes: [80, 120],
      searches: [1, 0],
      errors: [0, 1],
    });
    expect(a.newest).toBe(T0 + 1);
    expect(a.latency).toEqual([
      { server: '10.0.0.3', kind: 'search', t: [T0], dt: [1], count: [1], sum: [0.002], max: [0.002] },
      { server: '10.0.0.2:5064', kind: 'read', t: [T0 + 1], dt: [1], count: [2], sum: [0.04], max: [0.03] },
    ]);
    expect(h.answer({ since: T0 + 1 }).traffic.t).toEqual([T0 + 1]);
  });

  it('keeps a bounded number of latency series and counts the others', () => {
    const h = new ChartHistory();
    for (let i = 0; i < MAX_LATENCY_SERIES + 5; i++)
      h.add(
        record(T0, 'ReadNotifyResponse', { latency: 0.001, src: `10.1.${i >> 8}.${i & 255}` } as Partial<CaRecord>),
      );
    const a = h.answer();
    expect(a.latency).toHaveLength(MAX_LATENCY_SERIES);
    expect(a.omittedSeries).toBe(5);
  });

  it('answers a long range with a step that keeps each series under 5,000 points', () => {
    const h = new ChartHistory();
    for (let i = 0; i < 20_000; i++) h.add(record(T0 + i, 'EchoRequest'));
    const a = h.answer();
    expect(a.step).toBe(4);
    expect(a.traffic.t.length).toBeLessThanOrEqual(5000);
    expect(a.traffic.messages.reduce((x, y) => x + y, 0)).toBe(20_000);
  });
});
