import { describe, expect, it } from 'vitest';
import type { CaRecord, ChannelInfo } from '@ca-shark/decoder';
import { ChannelTable, PendingReads, ServerLatencies, recordFailed, rowValue } from './aggregates.js';

describe('ServerLatencies', () => {
  it('never shows percentiles of other samples than the mean: a busy server that got fast keeps its history', () => {
    // The /api/servers symptom: 70,432 reads, mean 0.089 s, min..max all 0 (percentiles of the latest
    // 512 samples only, beside a mean of all of them).
    const l = new ServerLatencies();
    for (let i = 0; i < 70_000; i++) l.add('10.0.0.9:5064', 'read', 0.09);
    for (let i = 0; i < 600; i++) l.add('10.0.0.9:5064', 'read', 0);
    const read = l.summaries('10.0.0.9:5064').read;
    expect(read.count).toBe(70_600);
    expect(read.mean).toBeCloseTo((70_000 * 0.09) / 70_600, 12);
    expect(read.min).toBe(0);
    expect(read.max).toBe(0.09);
    expect(read.p50).toBe(0.09);
    expect(read.p90).toBe(0.09);
  });

  it('keeps min ≤ p50 ≤ p90 ≤ p99 ≤ max and min ≤ mean ≤ max on any stream', () => {
    const l = new ServerLatencies(64);
    let x = 12345;
    let max = 0;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      // Slow at first, fast later, with rare outliers.
      const v = i < 2500 ? 0.05 + (x % 1000) / 1e4 : (x % 1000) / 1e7 + (x % 97 === 0 ? 2 : 0);
      l.add('s', 'read', v);
      max = Math.max(max, v);
    }
    const s = l.summaries('s').read;
    expect(s.min).toBeLessThanOrEqual(s.p50);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(s.mean).toBeGreaterThanOrEqual(s.min);
    expect(s.mean).toBeLessThanOrEqual(s.max);
    expect(s.max).toBe(max);
  });

  it('interpolates percentiles like the analysis report (one implementation)', () => {
    const l = new ServerLatencies();
    for (const v of [0.004, 0.001, 0.003, 0.002]) l.add('s', 'search', v);
    expect(l.summaries('s').search).toEqual({
      count: 4,
      mean: 0.0025,
      min: 0.001,
      p50: 0.0025,
      p90: expect.closeTo(0.0037, 12),
      p99: expect.closeTo(0.00397, 12),
      max: 0.004,
    });
    expect(l.summaries('unknown')).toEqual({});
  });
});

describe('ChannelTable', () => {
  const channel = (id: number, endedAt: number | null = null): ChannelInfo => ({
    id,
    circuit: 1,
    cid: id,
    sid: id,
    pv: `pv${id}`,
    nativeType: 6,
    nativeCount: 1,
    accessRights: 3,
    status: endedAt === null ? 'connected' : 'cleared',
    created: null,
    connectedAt: id,
    connectLatency: 0.001,
    endedAt,
    enumStrings: null,
    messages: 1,
    server: 's:5064',
    client: 'c:40000',
  });

  it('stays bounded when nobody reads the view while channels churn: ended ones go to the history first', () => {
    const table = new ChannelTable(3, 10);
    for (let id = 1; id <= 8; id++) table.track(channel(id, id));
    for (let id = 9; id <= 20; id++) table.track(channel(id));
    expect(table.size.live).toBeLessThanOrEqual(10);
    expect(table.size.closed).toBe(3);
    expect(table.closedDropped).toBe(5);
    // The newest open channels survive.
    expect(table.rows(100).map((e) => e.info.id)).toContain(20);
  });

  it('lists open channels first and the latest closed next, within the limit', () => {
    const table = new ChannelTable();
    const current = new Map<number, ChannelInfo>();
    for (const ch of [channel(1), channel(2, 5), channel(3), channel(4, 6)]) current.set(ch.id, ch);
    table.sync(current);
    expect(table.rows(10).map((e) => e.info.id)).toEqual([1, 3, 4, 2]);
    expect(table.rows(3).map((e) => e.info.id)).toEqual([1, 3, 4]);
    // The decoder forgets an ended channel: the view keeps it.
    current.delete(2);
    table.sync(current);
    expect(table.rows(10).map((e) => e.info.id)).toEqual([1, 3, 4, 2]);
  });

  it("shows a waveform's first elements as a plain array, and a value kept stays as it was", () => {
    const table = new ChannelTable();
    const info = channel(1);
    const wave = (start: number, n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => start + i);
    const first16 = (start: number): number[] => Array.from({ length: 16 }, (_, i) => start + i);
    const entry = table.value(info, wave(0, 1000), true, 1);
    const kept = rowValue(entry);
    expect(kept).toEqual(first16(0));
    expect(Array.isArray(kept)).toBe(true);
    // Later updates, typed or plain and long: the row shows each, the value kept earlier does not change.
    table.value(info, wave(100, 30_000), true, 2);
    expect(rowValue(entry)).toEqual(first16(100));
    table.value(info, Array.from(wave(200, 100)), true, 3);
    expect(rowValue(entry)).toEqual(first16(200));
    expect(kept).toEqual(first16(0));
    // Short values are shown as decoded; fewer elements than a row shows, or none.
    const short = [1.5, 2.5];
    table.value(info, short, true, 4);
    expect(rowValue(entry)).toBe(short);
    table.value(info, wave(7, 3), false, 5);
    expect(rowValue(entry)).toEqual([7, 8, 9]);
    table.value(info, undefined, false, 6);
    expect(rowValue(entry)).toBeNull();
    expect(entry.updates).toBe(4);
  });
});

describe('PendingReads', () => {
  const channel = (cid: number): ChannelInfo => ({ cid }) as unknown as ChannelInfo;

  it('gives each read its channel once, by circuit and ioid', () => {
    const reads = new PendingReads();
    reads.set(1, 7, channel(1));
    reads.set(2, 7, channel(2));
    reads.set(1, 0xffff_ffff, channel(3));
    expect(reads.take(2, 7)).toEqual(channel(2));
    expect(reads.take(2, 7)).toBeUndefined();
    expect(reads.take(1, 7)).toEqual(channel(1));
    expect(reads.take(1, 0xffff_ffff)).toEqual(channel(3));
    expect(reads.take(3, 7)).toBeUndefined();
    expect(reads.size).toBe(0);
  });

  it('holds at most max reads, dropping the never answered oldest', () => {
    const reads = new PendingReads(1000);
    for (let ioid = 0; ioid < 10_000; ioid++) reads.set(1, ioid, channel(ioid));
    expect(reads.size).toBeLessThanOrEqual(1000);
    expect(reads.size).toBeGreaterThanOrEqual(500);
    expect(reads.take(1, 0)).toBeUndefined();
    expect(reads.take(1, 9_999)).toEqual(channel(9_999));
    // A read set again (a libca refresh reusing the ioid) moves to the younger map: it survives one more turn.
    const survivor = new PendingReads(4);
    survivor.set(1, 1, channel(1));
    survivor.set(1, 2, channel(2)); // the younger map is full: it becomes the older one
    survivor.set(1, 1, channel(10));
    survivor.set(1, 3, channel(3)); // full again: the older map (read 2) is dropped
    expect(survivor.take(1, 2)).toBeUndefined();
    expect(survivor.take(1, 1)).toEqual(channel(10));
    expect(survivor.take(1, 3)).toEqual(channel(3));
  });

  it('answers as the two maps it replaced, over any run of reads, replies and drops', () => {
    // The former implementation: two Maps keyed by one number per circuit and ioid.
    class TwoMaps {
      young = new Map<number, ChannelInfo>();
      old = new Map<number, ChannelInfo>();
      constructor(private readonly half: number) {}
      key(circuit: number, ioid: number): number {
        return (circuit & (2 ** 21 - 1)) * 2 ** 32 + (ioid >>> 0);
      }
      set(circuit: number, ioid: number, ch: ChannelInfo): void {
        const key = this.key(circuit, ioid);
        this.old.delete(key);
        this.young.set(key, ch);
        if (this.young.size >= this.half) {
          this.old = this.young;
          this.young = new Map();
        }
      }
      take(circuit: number, ioid: number): ChannelInfo | undefined {
        const key = this.key(circuit, ioid);
        const ch = this.young.get(key) ?? this.old.get(key);
        this.young.delete(key);
        this.old.delete(key);
        return ch;
      }
    }
    let x = 987654321;
    const next = (n: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    // Compared without expect() per step (a run of 120,000 of them takes seconds).
    let mismatches = 0;
    for (const max of [4, 50, 1000]) {
      const reads = new PendingReads(max);
      const model = new TwoMaps(Math.floor(max / 2));
      for (let i = 0; i < 40_000; i++) {
        // Few circuits (one 2^21 apart: the same key) and ioids, so reads collide, repeat and cluster.
        const circuit = [1, 2, 3, 1 + 2 ** 21][next(4)];
        const ioid = next(3) === 0 ? 0xffff_fff0 + next(16) : next(max * 2);
        if (next(5) < 3) {
          const ch = channel(i);
          reads.set(circuit, ioid, ch);
          model.set(circuit, ioid, ch);
        } else if (reads.take(circuit, ioid) !== model.take(circuit, ioid)) mismatches++;
        if (reads.size !== model.young.size + model.old.size) mismatches++;
      }
    }
    expect(mismatches).toBe(0);
  });
});

describe('recordFailed', () => {
  const record = (command: Record<string, unknown>): CaRecord => ({ command }) as unknown as CaRecord;

  it('answers as isFailure does, for each record in turn and again for the same one', () => {
    const ok = record({ name: 'WriteNotifyResponse', status: 1 });
    const failed = record({ name: 'WriteNotifyResponse', status: 0x10 });
    const error = record({ name: 'ErrorResponse' });
    const search = record({ name: 'SearchRequest' });
    expect([ok, ok, failed, failed, error, search, ok].map(recordFailed)).toEqual([
      false,
      false,
      true,
      true,
      true,
      false,
      false,
    ]);
  });
});
