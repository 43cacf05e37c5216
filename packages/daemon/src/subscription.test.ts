import { PassThrough } from 'node:stream';
import { GlobMatcher, compileGlob } from '@ca-shark/analysis/filter';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { toWire } from './engine.js';
import { parseSubscription } from './plugins/ws.js';
import type { RunningDaemon } from './server.js';
import { BatchSampler, EVERYTHING, MIN_GOVERNED_RATE, canonicalSubscription } from './subscriptions.js';
import { TestClient, startTestDaemon } from './test-support/daemon.js';

type DecodedRecord = Parameters<typeof toWire>[0];

/** A decoded search as the worker matches it. */
function search(pv: string): DecodedRecord {
  return {
    frame: 1,
    timestamp: 1,
    src: '10.0.0.5',
    dst: '10.0.0.255',
    pv,
    command: { name: 'SearchRequest' },
  } as unknown as DecodedRecord;
}

/** S3 of issue 13: this glob against 60 a's took over 10 s as a RegExp, and any client can send it. */
const PATHOLOGICAL = '*a*a*a*a*a*a*a*a*b';

describe('canonicalSubscription', () => {
  it('means everything for an empty filter, and for criteria that name nothing', () => {
    expect(canonicalSubscription(parseSubscription({}))).toBeUndefined();
    expect(canonicalSubscription(parseSubscription({ command: [' , '] }))).toBeUndefined();
  });

  it('gives equal filters one form: order, duplicates, case and commas of commands do not matter', () => {
    const a = canonicalSubscription(
      parseSubscription({
        pv: ['b:*', 'a:*', 'b:*'],
        command: ['Search,READ', 'monitor'],
        host: ['10.0.0.2', '10.0.0.1'],
      }),
    );
    const b = canonicalSubscription(
      parseSubscription({
        command: ['read', ' monitor ', 'search'],
        host: ['10.0.0.1', '10.0.0.2'],
        pv: ['a:*', 'b:*'],
      }),
    );
    expect(a).toEqual({ pv: ['a:*', 'b:*'], host: ['10.0.0.1', '10.0.0.2'], command: ['monitor', 'read', 'search'] });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(canonicalSubscription(parseSubscription({ errors: true }))).toEqual({ errors: true });
  });

  it('refuses filters over the limits with a FilterError that quotes a short prefix', () => {
    const refusal = (filter: unknown): string => {
      try {
        canonicalSubscription(parseSubscription(filter));
      } catch (err) {
        if (err instanceof Error && err.name === 'FilterError') return err.message;
        throw err;
      }
      return '';
    };
    expect(refusal({ pv: [`${'a'.repeat(5000)}*`] })).toMatch(/^PV glob "a{40}…" is longer than 256 characters$/);
    expect(refusal({ pv: ['{a,b}'.repeat(8)] })).toMatch(/more than 64 alternatives/);
    expect(refusal({ pv: Array.from({ length: 33 }, (_, i) => `x${i}`) })).toMatch(/more than 32 PV globs/);
    // Counted as sent, before duplicates are folded: the same limit as the page and the command line.
    expect(refusal({ command: [Array.from({ length: 33 }, () => 'read').join(',')] })).toMatch(/more than 32 commands/);
    const unknown = refusal({ command: ['z'.repeat(1000)] });
    expect(unknown).toMatch(/^unknown command "z{40}…"/);
    expect(unknown).not.toContain('z'.repeat(41));
  });
});

describe('BatchSampler (the decoding worker side)', () => {
  /** Offers the records, then takes the batch; the positions each stream keeps, as batch positions. */
  function batchOf(m: BatchSampler, records: DecodedRecord[], seconds = 0.02) {
    const batch: number[] = [];
    records.forEach((r) => {
      if (m.offer(r, batch.length)) batch.push(batch.length);
    });
    const pick = m.take(seconds);
    const kept = new Map([...pick.matches].map(([id, at]) => [id, Array.from(at, (i) => pick.picked[i])]));
    return { pick, kept };
  }

  it('keeps every match of a subscription read without limit, counts them, and starts afresh after each batch', () => {
    const m = new BatchSampler();
    m.add(1, { pv: ['a:*'] });
    m.add(2, { pv: ['*:1'] });
    const batch = ['a:1', 'b:1', 'c:2', 'a:2'].map(search);
    expect(batch.map((r, i) => m.offer(r, i))).toEqual([true, true, false, true]);
    const pick = m.take(0.02);
    // Positions 0, 1 and 3 are serialised once; each stream lists its own among them.
    expect(pick.picked).toEqual(Uint32Array.from([0, 1, 3]));
    expect(pick.matches).toEqual(
      new Map([
        [1, Uint32Array.from([0, 2])],
        [2, Uint32Array.from([0, 1])],
      ]),
    );
    expect(pick.matched).toEqual(
      new Map([
        [1, 2],
        [2, 2],
      ]),
    );
    m.remove(1);
    expect(m.offer(search('a:1'), 0)).toBe(true);
    expect(m.offer(search('a:2'), 1)).toBe(false);
    expect(m.take(0.02).matches).toEqual(new Map([[2, Uint32Array.from([0])]]));
    expect(m.take(0.02)).toEqual({ picked: new Uint32Array(0), matches: new Map(), matched: new Map(), fill: 0 });
  });

  it('grows past its initial room without losing an index', () => {
    const m = new BatchSampler();
    m.add(7, { command: ['search'] });
    for (let i = 0; i < 5000; i++) m.offer(search('x'), i);
    const kept = m.take(0.02).matches.get(7);
    expect(kept?.length).toBe(5000);
    expect(kept?.[4999]).toBe(4999);
  });

  it('samples a stream down to its rate: evenly spaced, newest kept, every match counted', () => {
    const m = new BatchSampler();
    m.add(1, { pv: ['b:*'] });
    // Clients subscribed to everything read 100/s; the b:* subscription is read without limit.
    m.setRates(100, new Map());
    const names = Array.from({ length: 10_000 }, (_, i) => `${i % 100 === 0 ? 'b' : 'a'}:${i}`);
    // The first batch may use the bucket's depth: 1.5 x 100 records.
    const first = batchOf(m, names.map(search));
    const all = first.kept.get(EVERYTHING) ?? [];
    expect(first.pick.matched.get(EVERYTHING)).toBe(10_000);
    expect(all.length).toBeLessThanOrEqual(150);
    expect(all.length).toBeGreaterThan(100);
    expect(all.at(-1)).toBe(9_999);
    // Evenly spaced up to the newest, which is appended wherever it falls.
    const gaps = all.slice(1, -1).map((p, i) => p - all[i]);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(Math.max(...gaps) / 2);
    // The unlimited stream keeps all of its 100, which are serialised once however many streams keep them.
    expect(first.kept.get(1)).toHaveLength(100);
    expect(first.pick.picked.length).toBe(new Set([...all, ...(first.kept.get(1) ?? [])]).size);
    // A batch right after gets the rate's share of its time (0.02 s x 1.5 x 100 = 3), the newest always.
    const next = batchOf(m, names.map(search), 0.02);
    expect(next.kept.get(EVERYTHING)).toEqual([0, 5_056, 9_999]);
    expect(next.pick.matched.get(EVERYTHING)).toBe(10_000);
    // What the batch would fill of the sampled stream's rate (1.5 x 100/s): 10,000 / 150 = 66.7 s of it;
    // the unlimited stream is never thinned and does not count.
    expect(next.pick.fill).toBeCloseTo(10_000 / 150, 6);
  });

  it('thins sampled streams to the share the decoder can spare, never an unlimited one, and counts every match', () => {
    const m = new BatchSampler();
    m.add(1, { pv: ['b:*'] });
    m.setRates(1000, new Map());
    const names = Array.from({ length: 10_000 }, (_, i) => `${i % 100 === 0 ? 'b' : 'a'}:${i}`);
    // Spend the bucket's initial depth first: from then on a batch gets its time's share of the rate.
    batchOf(m, names.map(search));
    const full = batchOf(m, names.map(search), 0.1);
    // 0.1 s x 1.5 x 1000/s = 150 records at the full rate.
    expect(full.kept.get(EVERYTHING)).toHaveLength(150);
    const thin = (() => {
      const batch: number[] = [];
      for (const r of names.map(search)) if (m.offer(r, batch.length)) batch.push(batch.length);
      return m.take(0.1, 0.1);
    })();
    const everything = thin.matches.get(EVERYTHING) ?? new Uint32Array(0);
    // A tenth of the rate: 15 records, the newest last; every match still counted.
    expect(everything).toHaveLength(15);
    expect(thin.picked[everything[everything.length - 1]]).toBe(9_999);
    expect(thin.matched.get(EVERYTHING)).toBe(10_000);
    // The unlimited stream (a subscription read without limit) keeps all of its 100.
    expect(thin.matches.get(1)).toHaveLength(100);
  });

  it('keeps a floor of records per second for a thinned stream, within its own rate', () => {
    const m = new BatchSampler();
    m.add(1, { pv: ['b:*'] });
    m.setRates(1000, new Map([[1, 20]]));
    const names = Array.from({ length: 10_000 }, (_, i) => `${i % 100 === 0 ? 'b' : 'a'}:${i}`);
    const take = (seconds: number, share: number) => {
      const batch: number[] = [];
      for (const r of names.map(search)) if (m.offer(r, batch.length)) batch.push(batch.length);
      return m.take(seconds, share);
    };
    take(1, 1);
    const pick = take(1, 1 / 256);
    // Everything (1,000/s): 1.5 x 1,000 / 256 would be 6 a second; the floor keeps MIN_GOVERNED_RATE.
    expect(pick.matches.get(EVERYTHING)).toHaveLength(MIN_GOVERNED_RATE);
    // The b:* stream is read at 20/s: its own 1.5 x 20 = 30 is below the floor and stays its bound.
    expect(pick.matches.get(1)).toHaveLength(30);
  });

  it('counts what paused clients would match but keeps none of it; rate 0 for everything removes that stream', () => {
    const m = new BatchSampler();
    m.add(1, { pv: ['a:*'] });
    m.setRates(0, new Map([[1, 0]]));
    expect(m.size).toBe(1);
    const { pick } = batchOf(m, ['a:1', 'a:2'].map(search));
    expect(pick.picked.length).toBe(0);
    expect(pick.matched).toEqual(new Map([[1, 2]]));
    m.setRates(Infinity, new Map());
    expect(m.size).toBe(2);
    expect(batchOf(m, ['a:1', 'b:2'].map(search)).kept).toEqual(
      new Map([
        [1, [0]],
        [EVERYTHING, [0, 1]],
      ]),
    );
  });

  it('matches a pathological glob from a client against long PV names off the wire in bounded CPU time', () => {
    const m = new BatchSampler();
    m.add(1, canonicalSubscription(parseSubscription({ pv: [PATHOLOGICAL, '?*a*a*a*a*a*a*a*a*[b]'] })) ?? {});
    const records = [60, 1000, 16_000].map((n) => search('a'.repeat(n)));
    const start = process.cpuUsage();
    for (let i = 0; i < 20; i++) for (const r of records) expect(m.offer(r, 0)).toBe(false);
    const used = process.cpuUsage(start);
    expect((used.user + used.system) / 1e6).toBeLessThan(5);
  });
});

let daemon: RunningDaemon | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  vi.restoreAllMocks();
  await daemon?.shutdown('test done');
  daemon = undefined;
});

/** A capture stream of CA searches, one datagram per name, written to the daemon's stdin as it goes. */
class SearchFeed {
  private readonly writer = new PcapWriter();
  private t = 1_700_000_000;
  private cid = 0;
  constructor(private readonly input: PassThrough) {}
  send(names: readonly string[]): void {
    for (const name of names) {
      this.writer.udp(
        (this.t += 1e-3),
        '10.0.0.5',
        45555,
        '10.0.0.255',
        5064,
        concatBytes([build.versionRequest({ sequence: this.cid }), build.searchRequest({ name, cid: this.cid++ })]),
      );
    }
    for (const part of this.writer.drain()) this.input.write(part);
  }
}

async function subscribed(c: TestClient, filter: object): Promise<number> {
  const before = c.frames.length;
  c.send({ type: 'subscribe', filter });
  await c.until('subscribed', () => c.frames.slice(before).some((f) => f.type === 'subscribed'));
  return c.frames.findIndex((f, i) => i >= before && f.type === 'subscribed');
}

const pvsOf = (c: TestClient, from = 0): string[] =>
  c.frames
    .slice(from)
    .filter((f) => f.type === 'records')
    .flatMap((f) => (f.records as { pv: string }[]).map((r) => r.pv));

describe('subscriptions in a running daemon', { timeout: 60_000 }, () => {
  it('matches a pathological glob against 16,000-character PV names only in the decoding worker', async () => {
    const testCalls = vi.spyOn(GlobMatcher.prototype, 'test');
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const d = daemon;
    const [bad, as, same] = await Promise.all([0, 1, 2].map(() => TestClient.open(d.url)));
    clients.push(bad, as, same);
    await subscribed(bad, { pv: [PATHOLOGICAL] });
    await subscribed(as, { pv: ['a*a*a*a*a*a*a*a*a'], command: ['search'] });
    // Equal up to order and case: one subscription for both clients.
    await subscribed(same, { command: ['SEARCH'], pv: ['a*a*a*a*a*a*a*a*a', 'a*a*a*a*a*a*a*a*a'] });
    expect(d.hub.subscriptionCount).toBe(2);

    const handedOver: number[] = [];
    const publish = d.hub.publish.bind(d.hub);
    vi.spyOn(d.hub, 'publish').mockImplementation((records, matches, counts) => {
      handedOver.push(records.length);
      publish(records, matches, counts);
    });
    const longA = 'a'.repeat(16_000);
    const longB = `${'a'.repeat(15_999)}b`;
    const feed = new SearchFeed(input);
    feed.send([longA, longA, longB, longA]);
    input.end();
    await d.engine.whenEnded();
    await bad.until('the b record', () => pvsOf(bad).length >= 1);
    await as.until('the a records', () => pvsOf(as).length >= 3);
    await same.until('the a records', () => pvsOf(same).length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(pvsOf(bad)).toEqual([longB]);
    expect(pvsOf(as)).toEqual([longA, longA, longA]);
    expect(pvsOf(same)).toEqual([longA, longA, longA]);
    // With no client wanting everything, the worker hands over only the searches, not the version requests.
    expect(handedOver.reduce((a, b) => a + b, 0)).toBe(4);
    // Every glob test ran in the worker: the thread serving HTTP and WebSocket tested none.
    expect(testCalls).not.toHaveBeenCalled();
    // The spy does see this thread's calls.
    compileGlob('a*').test('ab');
    expect(testCalls).toHaveBeenCalledTimes(1);
  });

  it('gives a filtered client exactly its records while another client takes everything', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const d = daemon;
    const [all, onlyB] = await Promise.all([TestClient.open(d.url), TestClient.open(d.url)]);
    clients.push(all, onlyB);
    await subscribed(onlyB, { pv: ['B:*'] });
    const names = Array.from({ length: 300 }, (_, i) => `${'ABC'[i % 3]}:${i}`);
    new SearchFeed(input).send(names);
    input.end();
    await d.engine.whenEnded();
    await all.until('every search', () => pvsOf(all).filter((pv) => pv !== null).length === names.length || undefined);
    await onlyB.until('the B searches', () => pvsOf(onlyB).length >= 100);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(pvsOf(all).filter((pv) => pv !== null)).toEqual(names);
    expect(pvsOf(onlyB)).toEqual(names.filter((n) => n.startsWith('B:')));
  });

  it('sends no record of the previous filter after the subscribed reply', async () => {
    const input = new PassThrough();
    daemon = await startTestDaemon(['--stdin'], { input });
    const d = daemon;
    const c = await TestClient.open(d.url);
    clients.push(c);
    await subscribed(c, { pv: ['A:*'] });
    const feed = new SearchFeed(input);
    let n = 0;
    const pump = setInterval(() => {
      feed.send([`A:${n}`, `B:${n}`]);
      n += 1;
    }, 2);
    try {
      await c.until('A records', () => pvsOf(c).length >= 20);
      const switched = await subscribed(c, { pv: ['B:*'] });
      await c.until('B records', () => pvsOf(c, switched).length >= 20);
      expect(
        pvsOf(c, 0)
          .slice(0, 20)
          .every((pv) => pv.startsWith('A:')),
      ).toBe(true);
      expect(pvsOf(c, switched).filter((pv) => !pv.startsWith('B:'))).toEqual([]);
      expect(d.hub.subscriptionCount).toBe(1);
    } finally {
      clearInterval(pump);
    }
  });
});
