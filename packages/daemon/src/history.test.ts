import { fileURLToPath } from 'node:url';
import { compileFilter } from '@ca-shark/analysis/filter';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { beforeAll, describe, expect, it } from 'vitest';
import { toWire } from './engine.js';
import { RecordHistory, evenPicks, type HistoryResult } from './history.js';
import { HistoryFeed } from './history-feed.js';

const FIXTURE = fileURLToPath(new URL('../../decoder/fixtures/libca-sim.pcap', import.meta.url));

const decoded: CaRecord[] = [];
beforeAll(async () => {
  for await (const r of shark(FIXTURE, { keepBytes: true })) decoded.push(r);
});

/** Runs a scan to its end, slice by slice, counting the slices. */
function scan(h: RecordHistory, slice: number): { result: HistoryResult; slices: number } {
  let slices = 0;
  for (;;) {
    slices += 1;
    const result = h.step(slice);
    if (result !== undefined) return { result, slices };
    if (slices > 1e6) throw new Error('scan never ends');
  }
}

describe('evenPicks', () => {
  it('takes everything when it fits, else evenly spaced picks ending with the newest', () => {
    expect(evenPicks(3, 5)).toEqual([0, 1, 2]);
    expect(evenPicks(0, 5)).toEqual([]);
    expect(evenPicks(10, 1)).toEqual([9]);
    expect(evenPicks(101, 5)).toEqual([0, 25, 50, 75, 100]);
  });
});

describe('RecordHistory scans', () => {
  it('sends the held records matching the filter since a time, in order, up to the seam', () => {
    const h = new RecordHistory();
    decoded.forEach((r, i) => h.add(i + 1, r));
    const since = decoded[Math.floor(decoded.length / 3)].timestamp;
    const filter = { command: ['search', 'read'] };
    const seam = decoded.length - 10;
    h.begin({ request: 1, filter, since, limit: 100_000 }, seam);
    const { result, slices } = scan(h, 7);
    expect(slices).toBeGreaterThan(3);
    const test = compileFilter(filter);
    const expected = decoded
      .map((r, i) => ({ r, id: i + 1 }))
      .filter(({ r, id }) => id <= seam && r.timestamp >= since && test(r))
      .map(({ r, id }) => toWire(r, id));
    expect(expected.length).toBeGreaterThan(5);
    expect(result).toMatchObject({ request: 1, matched: expected.length, seam });
    expect(result.items).toEqual(expected);
    expect(result.ranks).toEqual(expected.map((_, i) => i));
  });

  it('samples evenly beyond the limit, the newest match always last', () => {
    const h = new RecordHistory();
    decoded.forEach((r, i) => h.add(i + 1, r));
    h.begin({ request: 2, filter: undefined, since: 0, limit: 10 }, decoded.length);
    const { result } = scan(h, 1000);
    expect(result.matched).toBe(decoded.length);
    expect(result.items).toHaveLength(10);
    expect(result.ranks).toEqual(evenPicks(decoded.length, 10));
    expect(JSON.parse(result.items[9]).id).toBe(decoded.length);
  });

  it('skips records that left the ring during a scan, and forgets a cancelled scan', () => {
    const h = new RecordHistory({ bounds: { maxRecords: 50, maxSeconds: Infinity } });
    decoded.slice(0, 50).forEach((r, i) => h.add(i + 1, r));
    h.begin({ request: 3, filter: undefined, since: 0, limit: 1000 }, 50);
    expect(h.step(10)).toBeUndefined();
    // 30 more records push the first 30 out, 10 of which were matched already.
    decoded.slice(50, 80).forEach((r, i) => h.add(51 + i, r));
    const { result } = scan(h, 10);
    expect(result.items.map((w) => JSON.parse(w).id)).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i));
    expect(result.matched).toBe(30);
    h.begin({ request: 4, filter: undefined, since: 0, limit: 1000 }, 80);
    h.cancel(4);
    expect(h.busy).toBe(false);
    expect(h.step()).toBeUndefined();
  });
});

describe('HistoryFeed', () => {
  it('splits a sample into frames whose matched counts add up to every match', () => {
    const items = Array.from({ length: 4500 }, (_, i) => `{"id":${i + 1}}`);
    const ranks = evenPicks(9000, 4500);
    const feed = new HistoryFeed(1, 0);
    feed.take({ request: 1, items, ranks, matched: 9000, seam: 9000, oldest: 5 });
    const frames = [];
    for (let f = feed.nextFrame(0); f !== undefined; f = feed.nextFrame(0)) frames.push(JSON.parse(f.text));
    expect(frames.map((f) => f.type)).toEqual(['records', 'records', 'records', 'history']);
    expect(frames.slice(0, 3).every((f) => f.history === true)).toBe(true);
    expect(frames.slice(0, 3).map((f) => f.sent)).toEqual([2000, 2000, 500]);
    expect(frames.slice(0, 3).reduce((n, f) => n + f.matched, 0)).toBe(9000);
    expect(frames.slice(0, 3).flatMap((f) => f.records.map((r: { id: number }) => r.id))).toEqual(
      items.map((_, i) => i + 1),
    );
    expect(frames[3]).toEqual({ type: 'history', since: 0, matched: 9000, sent: 4500, sampling: true, oldest: 5 });
  });

  it('says so when nothing matched', () => {
    const feed = new HistoryFeed(2, 100);
    feed.take({ request: 2, items: [], ranks: [], matched: 0, seam: 0, oldest: null });
    expect(JSON.parse(feed.nextFrame(0)?.text ?? '')).toMatchObject({ type: 'history', matched: 0, sent: 0 });
    expect(feed.nextFrame(0)).toBeUndefined();
  });
});
