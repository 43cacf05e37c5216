import { describe, expect, it } from 'vitest';
import { computeStats, latencySummary, StatsCollector, type StatsRecord } from './stats.js';
import { FLOOD_SERVER, latencyOf, readLatencyFlood } from './test-support/floods.js';

const CLIENT = { ip: '10.0.0.5', port: 40000 };
const A = { ip: '10.0.0.9', port: 5064 };
const B = { ip: '10.0.0.10', port: 6000 };

function msg(
  t: number,
  from: { ip: string; port: number },
  to: { ip: string; port: number },
  name: string,
  fields: Omit<StatsRecord['command'], 'name'> = {},
  extra: Partial<StatsRecord> = {},
): StatsRecord {
  return {
    timestamp: t,
    src: from.ip,
    dst: to.ip,
    transport: { protocol: 'tcp', sport: from.port, dport: to.port },
    command: { name, ...fields },
    role: name.endsWith('Response') ? 'response' : 'request',
    pv: null,
    ...extra,
  };
}

describe('latencySummary', () => {
  it('matches pandas describe() on a hand-computed sample', () => {
    const d = latencySummary([0.05, 0.01, 0.03, 0.02]);
    expect(d.count).toBe(4);
    expect(d.mean).toBeCloseTo(0.0275, 12);
    // squares of deviations: 0.00030625 + 0.00005625 + 0.00000625 + 0.00050625 = 0.000875; / 3; sqrt
    expect(d.std).toBeCloseTo(Math.sqrt(0.000875 / 3), 12);
    expect(d.min).toBe(0.01);
    expect(d['25%']).toBeCloseTo(0.0175, 12); // rank 0.75 between 0.01 and 0.02
    expect(d['50%']).toBeCloseTo(0.025, 12);
    expect(d['75%']).toBeCloseTo(0.035, 12); // rank 2.25 between 0.03 and 0.05
    expect(d.max).toBe(0.05);
  });

  it('has no std for one value (pandas prints NaN)', () => {
    expect(latencySummary([0.1]).std).toBeNull();
  });
});

describe('StatsCollector', () => {
  it('reports unanswered creations, latencies per server, counts, top searches and circuits', async () => {
    const records: StatsRecord[] = [
      msg(0.0, CLIENT, A, 'SearchRequest', { pv: 'x' }, { transport: { protocol: 'udp', sport: 40001, dport: 5064 } }),
      msg(0.0, CLIENT, A, 'SearchRequest', { pv: 'y' }, { transport: { protocol: 'udp', sport: 40001, dport: 5064 } }),
      msg(0.1, CLIENT, A, 'SearchRequest', { pv: 'x' }, { transport: { protocol: 'udp', sport: 40001, dport: 5064 } }),
      msg(
        0.104,
        A,
        CLIENT,
        'SearchResponse',
        { cid: 1 },
        { latency: 0.004, transport: { protocol: 'udp', sport: 5064, dport: 40001 } },
      ),
      msg(1.0, CLIENT, A, 'HostNameRequest', { host_name: 'ws1' }),
      msg(1.0, CLIENT, A, 'ClientNameRequest', { client_name: 'op' }),
      msg(1.0, CLIENT, A, 'CreateChanRequest', { pv: 'x', cid: 1 }),
      msg(1.01, A, CLIENT, 'CreateChanResponse', { cid: 1, sid: 7 }, { latency: 0.01, pv: 'x' }),
      msg(1.0, CLIENT, A, 'CreateChanRequest', { pv: 'y', cid: 2 }),
      msg(1.03, A, CLIENT, 'CreateChanResponse', { cid: 2, sid: 8 }, { latency: 0.03, pv: 'y' }),
      msg(1.0, CLIENT, A, 'CreateChanRequest', { pv: 'lost', cid: 3 }),
      msg(2.0, CLIENT, B, 'CreateChanRequest', { pv: 'z', cid: 1 }),
      msg(2.1, B, CLIENT, 'CreateChanResponse', { cid: 1, sid: 1 }, { latency: 0.1, pv: 'z' }),
      msg(2.0, CLIENT, B, 'CreateChanRequest', { pv: 'nope', cid: 2 }),
      msg(2.2, B, CLIENT, 'CreateChFailResponse', { cid: 2 }),
      msg(3.0, CLIENT, A, 'ReadNotifyRequest', { ioid: 1 }, { pv: 'x' }),
      msg(3.002, A, CLIENT, 'ReadNotifyResponse', { ioid: 1, status: 1 }, { latency: 0.002, pv: 'x' }),
      msg(3.1, A, CLIENT, 'WriteNotifyResponse', { ioid: 2, status: 1 }, { latency: 0.5, pv: 'y' }),
    ];
    const report = await computeStats(records, { top: 1 });

    expect(report.messages).toBe(18);
    expect(report.first).toBe(0);
    expect(report.last).toBe(3.1);
    expect(report.unansweredCreations.map((u) => [u.pv, u.cid, u.client, u.server])).toEqual([
      ['lost', 3, '10.0.0.5:40000', '10.0.0.9:5064'],
    ]);
    expect(report.failedCreations).toBe(1);

    expect(Object.keys(report.latency.connection)).toEqual(['10.0.0.10:6000', '10.0.0.9:5064']);
    const a = report.latency.connection['10.0.0.9:5064'];
    expect(a.count).toBe(2);
    expect(a.mean).toBeCloseTo(0.02, 12);
    expect(a.std).toBeCloseTo(Math.sqrt(2 * 0.0001), 12); // deviations ±0.01, n - 1 = 1
    expect(a['50%']).toBeCloseTo(0.02, 12);
    expect(report.latency.connection['10.0.0.10:6000']).toMatchObject({ count: 1, mean: 0.1, std: null, max: 0.1 });
    expect(report.connections.map((c) => [c.pv, c.server])).toEqual([
      ['x', '10.0.0.9:5064'],
      ['y', '10.0.0.9:5064'],
      ['z', '10.0.0.10:6000'],
    ]);
    expect(report.connections[0].t).toBeCloseTo(1.0, 12);

    expect(report.latency.search['10.0.0.9:5064']).toMatchObject({ count: 1, mean: 0.004 });
    expect(report.latency.readNotify['10.0.0.9:5064']).toMatchObject({ count: 1, mean: 0.002 });
    expect(report.latency.writeNotify['10.0.0.9:5064']).toMatchObject({ count: 1, mean: 0.5 });

    expect(report.commands).toEqual({
      CreateChanRequest: 5,
      SearchRequest: 3,
      CreateChanResponse: 3,
      ClientNameRequest: 1,
      CreateChFailResponse: 1,
      HostNameRequest: 1,
      ReadNotifyRequest: 1,
      ReadNotifyResponse: 1,
      SearchResponse: 1,
      WriteNotifyResponse: 1,
    });
    expect(Object.keys(report.commands)[0]).toBe('CreateChanRequest');
    expect(report.topSearched).toEqual([{ pv: 'x', count: 2 }]);

    expect(report.circuits).toEqual([
      {
        client: '10.0.0.5:40000',
        server: '10.0.0.9:5064',
        host: 'ws1',
        user: 'op',
        channels: 2,
        messages: 10,
        first: 1.0,
        last: 3.1,
      },
      {
        client: '10.0.0.5:40000',
        server: '10.0.0.10:6000',
        host: null,
        user: null,
        channels: 1,
        messages: 4,
        first: 2.0,
        last: 2.2,
      },
    ]);
  });

  it('uses the decoder endpoints and circuit id when present', () => {
    const s = new StatsCollector();
    s.add(
      msg(
        1,
        CLIENT,
        A,
        'HostNameRequest',
        { host_name: 'h' },
        { circuit: 4, client: '1.1.1.1:1', server: '2.2.2.2:2' },
      ),
    );
    s.add(
      msg(
        2,
        A,
        CLIENT,
        'CreateChanResponse',
        { cid: 1 },
        { circuit: 4, latency: 0.25, client: '1.1.1.1:1', server: '2.2.2.2:2' },
      ),
    );
    const r = s.report();
    expect(r.circuits).toHaveLength(1);
    expect(r.circuits[0]).toMatchObject({
      client: '1.1.1.1:1',
      server: '2.2.2.2:2',
      host: 'h',
      channels: 1,
      messages: 2,
    });
    expect(r.latency.connection['2.2.2.2:2'].mean).toBe(0.25);
  });

  it('computes the creation latency from the pending request when the decoder gave none', () => {
    const s = new StatsCollector();
    s.add(msg(1, CLIENT, A, 'CreateChanRequest', { pv: 'q', cid: 9 }));
    s.add(msg(1.5, A, CLIENT, 'CreateChanResponse', { cid: 9 }));
    const r = s.report();
    expect(r.unansweredCreations).toEqual([]);
    expect(r.connections).toEqual([{ pv: 'q', server: '10.0.0.9:5064', t: 1, dt: 0.5 }]);
    expect(r.latency.connection['10.0.0.9:5064'].mean).toBe(0.5);
  });

  it('reports an empty input', async () => {
    const r = await computeStats([]);
    expect(r).toMatchObject({
      messages: 0,
      first: null,
      last: null,
      unansweredCreations: [],
      circuits: [],
      topSearched: [],
    });
  });

  it('describes every latency exactly up to its sample size, then quartiles from a sample', () => {
    const latencies = (n: number, latencySample: number) => {
      const s = new StatsCollector({ latencySample });
      for (const r of readLatencyFlood(n)) s.add(r);
      return s.report().latency.readNotify[FLOOD_SERVER];
    };
    const values = (n: number) => Array.from({ length: n }, (_, i) => latencyOf(i));
    // Up to the sample size: exactly the pandas description of all of them, as before sampling existed.
    expect(latencies(500, 500)).toEqual(latencySummary(values(500)));

    const n = 20_000;
    const all = latencySummary(values(n));
    const sampled = latencies(n, 500);
    expect(sampled.count).toBe(n);
    expect(sampled.min).toBe(all.min);
    expect(sampled.max).toBe(all.max);
    expect(sampled.mean).toBeCloseTo(all.mean, 12);
    // The quartiles come from 500 of the 20,000 (uniform over 10 µs .. 10 ms): near, not equal.
    expect(sampled['50%']).not.toBe(all['50%']);
    for (const q of ['25%', '50%', '75%'] as const) expect(Math.abs(sampled[q] - all[q])).toBeLessThan(1e-3);
  });
});
