import { describe, expect, it } from 'vitest';
import type { LiveRecord } from './contract.js';
import { LATENCY_BUCKETS, LatencyTracker, bucketIndex } from './latency.js';

function resp(name: string, latency: number | null, t: number, src = '127.0.0.1:5064'): LiveRecord {
  return {
    id: 1,
    frame: 1,
    t,
    src,
    dst: '127.0.0.2:4000',
    proto: 'tcp',
    cmd: name,
    pv: 'x',
    summary: '',
    latency,
    status: null,
    error: false,
    size: 16,
  };
}

describe('LatencyTracker', () => {
  it('groups by server and kind and ignores records without latency', () => {
    const t = new LatencyTracker();
    t.add(resp('ReadNotifyResponse', 0.001, 100.1));
    t.add(resp('ReadNotifyResponse', 0.003, 100.7));
    t.add(resp('ReadNotifyResponse', 0.002, 101.2));
    t.add(resp('SearchResponse', 0.0005, 100.2));
    t.add(resp('EventAddResponse', 0.5, 100.3));
    t.add(resp('ReadNotifyResponse', null, 100.4));
    const all = t.all();
    expect(all.map((s) => [s.server, s.kind, s.count])).toEqual([
      ['127.0.0.1', 'search', 1],
      ['127.0.0.1:5064', 'read', 3],
    ]);
    const read = all[1];
    expect(read.series.sliceNewest(0, 5)).toEqual([
      { t: 101, count: 1, sum: 0.002, max: 0.002 },
      { t: 100, count: 2, sum: 0.004, max: 0.003 },
    ]);
    expect(read.histogram.reduce((a, b) => a + b, 0)).toBe(3);
  });

  it('names the server by the response source and stays bounded', () => {
    const t = new LatencyTracker(2, 3);
    for (let i = 0; i < 5; i++) t.add(resp('WriteNotifyResponse', 0.01, 200 + i, `10.0.0.${i}:5064`));
    expect(t.servers()).toEqual(['10.0.0.0:5064', '10.0.0.1:5064']);
    for (let i = 0; i < 10; i++) t.add(resp('WriteNotifyResponse', 0.01, 300 + i, '10.0.0.0:5064'));
    expect(t.all()[0].series.size).toBe(3);
  });
});

describe('histogram', () => {
  it('buckets on a log scale with overflow', () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1e-5)).toBe(0);
    expect(bucketIndex(1.1e-5)).toBe(1);
    expect(bucketIndex(20)).toBe(LATENCY_BUCKETS.length);
  });
});
