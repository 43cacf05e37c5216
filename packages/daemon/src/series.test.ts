import { describeSample, latencyPercentiles } from '@ca-shark/analysis';
import type { CaRecord } from '@ca-shark/decoder';
import { describe, expect, it } from 'vitest';
import { REBALANCE_SECONDS, SERIES_TIERS, SeriesStore, type SeriesView, type TalkersView } from './series.js';

interface Fake {
  t: number;
  server?: string;
  client?: string;
  pv?: string;
  size?: number;
  latency?: number;
  request?: string;
  command?: string;
  data?: unknown;
}

/** The fields of a record the series read; the rest of a CaRecord does not matter to them. */
function rec(f: Fake): CaRecord {
  return {
    timestamp: f.t,
    server: f.server,
    client: f.client,
    pv: f.pv ?? null,
    size: f.size ?? 16,
    latency: f.latency,
    request: f.request === undefined ? undefined : { command: f.request, frame: 1, timestamp: f.t - (f.latency ?? 0) },
    command: { name: f.command ?? 'EventAddResponse', ...(f.data !== undefined ? { data: f.data } : {}) },
  } as unknown as CaRecord;
}

const T0 = 1_700_000_000;
const IOC = '10.0.0.1:5064';

describe('SeriesStore', () => {
  it('counts messages and bytes per second of capture time, per IOC and client', () => {
    const s = new SeriesStore();
    for (let i = 0; i < 10; i++) s.add(rec({ t: T0 + 0.05 * i, server: IOC, client: '10.0.0.9:40000', size: 100 }));
    for (let i = 0; i < 4; i++) s.add(rec({ t: T0 + 2.5, server: IOC, client: '10.0.0.9:40000', size: 50 }));
    const v = s.series('ioc', IOC, { from: T0, to: T0 + 2 });
    expect(v.step).toBe(1);
    expect(v.start).toBe(T0);
    expect(v.fields.messages).toEqual([10, 0, 4]);
    expect(v.fields.bytes).toEqual([1000, 0, 200]);
    const c = s.series('client', '10.0.0.9:40000', { from: T0, to: T0 + 2 });
    expect(c.fields.messages).toEqual([10, 0, 4]);
  });

  it('gives the percentiles of each second from the analysis package', () => {
    const s = new SeriesStore();
    const latencies = [0.001, 0.002, 0.004, 0.008, 0.1];
    for (const latency of latencies)
      s.add(rec({ t: T0 + 0.5, server: IOC, latency, request: 'ReadNotifyRequest', command: 'ReadNotifyResponse' }));
    // Monitor replies are not request latency.
    s.add(rec({ t: T0 + 0.6, server: IOC, latency: 9, request: 'EventAddRequest' }));
    const expected = latencyPercentiles(describeSample(latencies));
    // While the second fills, and once it is left.
    const live = s.series('ioc', IOC, { from: T0, to: T0 });
    s.add(rec({ t: T0 + 1.5, server: IOC }));
    const done = s.series('ioc', IOC, { from: T0, to: T0 + 1 });
    for (const v of [live, done]) {
      expect(v.fields.latencyCount[0]).toBe(5);
      expect(v.fields.p50[0]).toBeCloseTo(expected.p50, 6);
      expect(v.fields.p90[0]).toBeCloseTo(expected.p90, 6);
      expect(v.fields.p99[0]).toBeCloseTo(expected.p99, 6);
      expect(v.fields.max[0]).toBeCloseTo(0.1, 6);
    }
    expect(done.fields.p50[1]).toBeNull();
    expect(done.fields.latencyCount[1]).toBe(0);
  });

  it('keeps 10 minutes at 1 s and older ranges at 1 min, never more points than a ring', () => {
    const s = new SeriesStore();
    for (let i = 0; i < 1000; i++) s.add(rec({ t: T0 + i, server: IOC }));
    const now = T0 + 999;
    const recent = s.series('ioc', IOC, { last: 59 });
    expect(recent.step).toBe(1);
    expect(recent.fields.messages).toEqual(new Array(60).fill(1));
    const old = s.series('ioc', IOC, { from: T0, to: now });
    expect(old.step).toBe(60);
    // Minutes of 60 messages a minute: 1 a second, but the first and last minutes are partly outside.
    const inner = old.fields.messages.slice(1, -1);
    expect(inner.length).toBeGreaterThan(10);
    for (const x of inner) expect(x).toBe(1);
    const all = s.series('ioc', IOC, { from: 0, to: now });
    expect(all.fields.messages.length).toBeLessThanOrEqual(SERIES_TIERS[1].slots);
    // A ring keeps only its last slots: a second 600 s before the newest is gone from the 1 s ring.
    const ring = s.series('ioc', IOC, {});
    expect(ring.fields.messages.length).toBe(SERIES_TIERS[0].slots);
  });

  it('caps the IOCs tracked, sums the rest in "other", and tracks a busier one after a rebalance', () => {
    const s = new SeriesStore({ iocs: 2 });
    const a = '10.0.0.1:5064';
    const b = '10.0.0.2:5064';
    const c = '10.0.0.3:5064';
    const t = T0 - (T0 % REBALANCE_SECONDS);
    s.add(rec({ t, server: a }));
    s.add(rec({ t, server: b }));
    for (let i = 0; i < 5; i++) s.add(rec({ t: t + 1, server: c, size: 10 }));
    expect((s.answer({ what: 'keys' }) as { iocs: string[] }).iocs).toEqual([a, b]);
    const before = s.talkers({ from: t, to: t + 1 }, 10);
    expect(before.untracked.iocs).toEqual({ key: 'other', messages: 5, bytes: 50 });
    expect(s.series('ioc', c, {}).tracked).toBe(false);
    // The next rebalance swaps the quietest tracked IOC for the busier candidate.
    s.add(rec({ t: t + REBALANCE_SECONDS, server: b }));
    const keys = (s.answer({ what: 'keys' }) as { iocs: string[] }).iocs;
    expect(keys).toHaveLength(2);
    expect(keys).toContain(c);
    expect(keys).toContain(b);
    const v = s.series('ioc', c, {});
    expect(v.tracked).toBe(true);
    expect(v.since).toBe(t + REBALANCE_SECONDS);
  });

  it('counts a key swapped out by a rebalance in "other" from the next record on, even right after its own', () => {
    const s = new SeriesStore({ iocs: 2 });
    const [a, b, c] = ['10.0.0.1:5064', '10.0.0.2:5064', '10.0.0.3:5064'];
    const t = T0 - (T0 % REBALANCE_SECONDS);
    s.add(rec({ t, server: a }));
    for (let i = 0; i < 3; i++) s.add(rec({ t, server: b }));
    for (let i = 0; i < 5; i++) s.add(rec({ t: t + 1, server: c }));
    // `a` is the last IOC counted before the rebalance, and the quietest: its series goes to `c`.
    s.add(rec({ t: t + 1, server: a }));
    s.add(rec({ t: t + REBALANCE_SECONDS, server: a, size: 30 }));
    const keys = (s.answer({ what: 'keys' }) as { iocs: string[] }).iocs;
    expect(keys.sort()).toEqual([b, c]);
    const now = s.talkers({ from: t + REBALANCE_SECONDS, to: t + REBALANCE_SECONDS }, 10);
    expect(now.untracked.iocs).toEqual({ key: 'other', messages: 1, bytes: 30 });
    expect(s.series('ioc', c, { from: t + REBALANCE_SECONDS, to: t + REBALANCE_SECONDS }).fields.messages).toEqual([0]);
  });

  it('tracks a PV a page asks for, with its update rate and value', () => {
    const s = new SeriesStore({ pvs: 1 });
    s.add(rec({ t: T0, pv: 'busy', data: [1] }));
    s.add(rec({ t: T0, pv: 'asked', data: [1] }));
    const first = s.answer({ what: 'pv', key: 'asked', from: T0 - 1, to: T0 + 2 }) as SeriesView;
    expect(first.tracked).toBe(true);
    expect(first.since).toBe(T0);
    expect(first.fields.updates[0]).toBeNull(); // tracked from its request on: before is unknown
    s.add(rec({ t: T0 + 1.1, pv: 'asked', data: [3.5] }));
    s.add(rec({ t: T0 + 1.2, pv: 'asked', data: [-2] }));
    s.add(rec({ t: T0 + 1.3, pv: 'asked', data: [1.25] }));
    s.add(rec({ t: T0 + 1.4, pv: 'asked', command: 'ReadNotifyResponse', data: [7] }));
    s.add(rec({ t: T0 + 1.5, pv: 'asked', command: 'EventAddRequest' }));
    s.add(rec({ t: T0 + 2.5, pv: 'asked', data: new Float64Array([1, 2]) })); // a waveform has no scalar value
    const v = s.series('pv', 'asked', { from: T0 + 1, to: T0 + 2 });
    expect(v.fields.messages).toEqual([5, 1]);
    expect(v.fields.updates).toEqual([3, 1]);
    expect(v.fields.value).toEqual([7, null]);
    expect(v.fields.min).toEqual([-2, null]);
    expect(v.fields.max).toEqual([7, null]);
    expect((s.answer({ what: 'keys' }) as { pinned: string[] }).pinned).toEqual(['asked']);
  });

  it('fills the past of a PV chart opened late from the held records, then carries on', () => {
    const s = new SeriesStore({ pvs: 1 });
    // What the history held of the quiet PV while the busy one took the only tracked slot.
    const held: [number, number, string, number][] = [
      [T0 + 0.2, 40, 'EventAddResponse', 1.5],
      [T0 + 0.7, 40, 'EventAddResponse', -3],
      [T0 + 2.1, 16, 'ReadNotifyRequest', Number.NaN],
      [T0 + 2.3, 48, 'ReadNotifyResponse', 8],
    ];
    s.setPast({
      oldestTime: T0,
      eachOfPv: (pv, visit) => {
        if (pv === 'quiet') for (const [t, size, command, value] of held) visit(t, size, command, value);
      },
    });
    for (let t = T0; t < T0 + 4; t += 0.5) s.add(rec({ t, pv: 'busy', data: [1] }));
    s.add(rec({ t: T0 + 3.2, pv: 'quiet', data: [2] }));
    const v = s.answer({ what: 'pv', key: 'quiet', from: T0, to: T0 + 4 }) as SeriesView;
    expect(v.since).toBe(T0);
    // Up to the newest record (T0 + 3.5); the quiet PV's record at T0 + 3.2 came before its chart and went to
    // "other", as every record of an untracked PV does.
    expect(v.fields.messages).toEqual([2, 0, 2, 0]);
    expect(v.fields.bytes).toEqual([80, 0, 64, 0]);
    expect(v.fields.updates).toEqual([2, 0, 0, 0]);
    expect(v.fields.value).toEqual([-3, null, 8, null]);
    expect(v.fields.min).toEqual([-3, null, 8, null]);
    expect(v.fields.max).toEqual([1.5, null, 8, null]);
    s.add(rec({ t: T0 + 4.5, pv: 'quiet', data: [5] }));
    const after = s.series('pv', 'quiet', { from: T0 + 4, to: T0 + 4 });
    expect(after.fields.messages).toEqual([1]);
    expect(after.fields.value).toEqual([5]);
    // A PV already tracked is not filled again (its own counts are exact).
    const busy = s.answer({ what: 'pv', key: 'busy', from: T0, to: T0 }) as SeriesView;
    expect(busy.fields.messages).toEqual([2]);
  });

  it('lets a pin go once nobody asked for it for a while, bounded by the pin cap', () => {
    const s = new SeriesStore({ pvs: 1, pinnedPvs: 2, pinSeconds: 30 });
    s.add(rec({ t: T0, pv: 'a' }));
    s.pinPv('p1');
    s.pinPv('p2');
    s.pinPv('p3');
    let keys = s.answer({ what: 'keys' }) as { pinned: string[]; pvs: string[] };
    expect(keys.pinned.sort()).toEqual(['p2', 'p3']);
    for (let i = 1; i <= 6; i++) s.add(rec({ t: T0 + 10 * i, pv: 'a' }));
    keys = s.answer({ what: 'keys' }) as { pinned: string[]; pvs: string[] };
    expect(keys.pinned).toEqual([]);
    expect(keys.pvs).toEqual(['a']);
  });

  it('lists top talkers by messages and by bytes, hosts summing their endpoints', () => {
    const s = new SeriesStore();
    for (let i = 0; i < 3; i++) s.add(rec({ t: T0, server: '10.0.0.1:5064', client: '10.0.0.9:1', size: 10 }));
    s.add(rec({ t: T0, server: '10.0.0.2:5064', client: '10.0.0.1:2', size: 1000 }));
    const v = s.answer({ what: 'talkers', from: T0, to: T0 }) as TalkersView;
    expect(v.iocs.byMessages.map((r) => r.key)).toEqual(['10.0.0.1:5064', '10.0.0.2:5064']);
    expect(v.iocs.byBytes.map((r) => r.key)).toEqual(['10.0.0.2:5064', '10.0.0.1:5064']);
    expect(v.hosts.byMessages[0]).toEqual({ key: '10.0.0.1', messages: 4, bytes: 1030 });
    expect(v.untracked.iocs.messages).toBe(0);
  });

  it('samples connected channels per IOC; seconds without a sample are unknown', () => {
    const s = new SeriesStore();
    s.add(rec({ t: T0, server: IOC }));
    s.sampleChannels(new Map([[IOC, 12]]));
    s.add(rec({ t: T0 + 2, server: IOC }));
    const v = s.series('ioc', IOC, { from: T0, to: T0 + 2 });
    expect(v.fields.channels).toEqual([12, null, null]);
  });
});
