import { describe, expect, it } from 'vitest';
import { evenPicks } from './history.js';
import {
  Hub,
  type HubSocket,
  MAX_CLIENT_RATE,
  MIN_CLIENT_RATE,
  type SubscriptionMatcher,
  recordsFrame,
} from './hub.js';
import { EVERYTHING } from './subscriptions.js';

/** A socket double that records frames and lets the test set its backlog. */
class FakeSocket implements HubSocket {
  bufferedAmount = 0;
  readyState = 1;
  frames: string[] = [];
  send(data: string | Buffer, options?: { binary: boolean }): void {
    // Bytes are sent as a text frame: what a client reads is their UTF-8 text.
    if (typeof data !== 'string' && options?.binary !== false) throw new Error('records must go as text frames');
    this.frames.push(typeof data === 'string' ? data : data.toString('utf8'));
  }
  closedWith: number | undefined;
  close(code?: number): void {
    this.readyState = 3;
    this.closedWith = code;
  }
  parsed(): Frame[] {
    return this.frames.map((f) => JSON.parse(f) as Frame);
  }
}

/** A frame as a client reads it. */
interface Frame {
  type: string;
  time?: number;
  records?: unknown[];
  matched?: number;
  sent?: number;
  rate?: { matched: number; sent: number };
  sampling?: boolean;
  postedAt?: number;
  decodedAt?: number;
  publishedAt?: number;
}

/** A clock the test advances by hand. */
class Clock {
  ms = 1_764_160_000_000;
  readonly now = (): number => this.ms;
}

interface Rec {
  pv: string;
  n: number;
}

/** A matcher double: remembers which filters the hub announced (it matches nothing; tests say what matched). */
class RecordingMatcher implements SubscriptionMatcher<{ pv: string }> {
  readonly log: string[] = [];
  private readonly filters = new Map<number, string>();
  add(id: number, filter: { pv: string }): void {
    this.filters.set(id, filter.pv);
    this.log.push(`+${id} ${filter.pv}`);
  }
  remove(id: number): void {
    this.filters.delete(id);
    this.log.push(`-${id}`);
  }
  idOf(pv: string): number {
    const entry = [...this.filters].find(([, f]) => f === pv);
    if (entry === undefined) throw new Error(`no subscription for ${pv}`);
    return entry[0];
  }
  live(): string[] {
    return [...this.filters.values()];
  }
}

describe('Hub', () => {
  it('batches records into one frame per tick, newest last, saying what matched and what it carries', () => {
    const clock = new Clock();
    const sent: string[][] = [];
    const hub = new Hub<Rec>((r) => JSON.stringify(r), {
      now: clock.now,
      onSent: (records) => sent.push([...records]),
    });
    const s = new FakeSocket();
    hub.add(s);
    for (let n = 0; n < 5; n++) hub.publish([{ pv: 'a', n }]);
    expect(s.frames).toHaveLength(0);
    clock.ms += 100;
    hub.tick();
    expect(s.parsed()).toEqual([
      {
        type: 'records',
        time: clock.ms / 1000,
        records: [0, 1, 2, 3, 4].map((n) => ({ pv: 'a', n })),
        matched: 5,
        sent: 5,
        rate: { matched: 0, sent: 0 },
        sampling: false,
        publishedAt: (clock.ms - 100) / 1000,
      },
    ]);
    hub.tick();
    expect(s.frames).toHaveLength(1);
    // The daemon is told what each frame carried (it keeps those records fetchable for longer).
    expect(sent).toEqual([[0, 1, 2, 3, 4].map((n) => JSON.stringify({ pv: 'a', n }))]);
  });

  it('says when the newest record of a frame was posted to the decoder and reached the hub', () => {
    const clock = new Clock();
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { now: clock.now });
    const all = new FakeSocket();
    const onlyB = new FakeSocket();
    hub.add(all);
    hub.add(onlyB);
    const matcher = new RecordingMatcher();
    hub.attach(matcher);
    hub.subscribe(onlyB, { pv: 'b' });
    const b = matcher.idOf('b');
    const posted = clock.ms;
    clock.ms += 400;
    hub.publish([{ pv: 'b', n: 1 }], new Map([[b, [0]]]), undefined, posted, posted + 350);
    clock.ms += 30;
    // A later batch with nothing for the second client: its newest record is still the one above.
    hub.publish([{ pv: 'a', n: 2 }], new Map(), undefined, posted + 20, posted + 410);
    clock.ms += 70;
    hub.tick();
    const [frameAll] = all.parsed();
    const [frameB] = onlyB.parsed();
    expect(frameAll).toMatchObject({
      postedAt: (posted + 20) / 1000,
      decodedAt: (posted + 410) / 1000,
      publishedAt: (posted + 430) / 1000,
    });
    expect(frameB).toMatchObject({
      postedAt: posted / 1000,
      decodedAt: (posted + 350) / 1000,
      publishedAt: (posted + 400) / 1000,
    });
    // Records whose batch time is not known (replayed from a sensor) carry no postedAt.
    const later = new FakeSocket();
    hub.add(later);
    hub.publish([{ pv: 'a', n: 3 }]);
    clock.ms += 100;
    hub.tick();
    const last = later.parsed().at(-1) as Frame;
    expect(last.postedAt).toBeUndefined();
    expect(last.decodedAt).toBeUndefined();
    expect(last.publishedAt).toBe((clock.ms - 100) / 1000);
  });

  it('serialises a record once however many clients receive it, and only if one does', () => {
    let calls = 0;
    const hub = new Hub<Rec>((r) => {
      calls += 1;
      return JSON.stringify(r);
    });
    hub.publish([{ pv: 'nobody', n: 0 }]);
    expect(calls).toBe(0);
    const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const s of sockets) hub.add(s);
    hub.publish([{ pv: 'x', n: 1 }]);
    expect(calls).toBe(1);
  });

  it('delivers to each client what the matcher kept for its subscription, and never matches a record itself', () => {
    const serialized: Rec[] = [];
    const hub = new Hub<Rec, { pv: string }>((r) => {
      serialized.push(r);
      return JSON.stringify(r);
    });
    const matcher = new RecordingMatcher();
    hub.attach(matcher);
    const all = new FakeSocket();
    const onlyB = new FakeSocket();
    const onlyC = new FakeSocket();
    hub.add(all);
    hub.add(onlyB);
    hub.add(onlyC);
    hub.subscribe(onlyB, { pv: 'b' });
    hub.subscribe(onlyC, { pv: 'c' });
    const [b, c] = [matcher.idOf('b'), matcher.idOf('c')];
    const batch: Rec[] = [
      { pv: 'a', n: 1 },
      { pv: 'b', n: 2 },
      { pv: 'c', n: 3 },
      { pv: 'b', n: 4 },
    ];
    hub.publish(
      batch,
      new Map([
        [b, [1, 3]],
        [c, [2]],
      ]),
    );
    hub.tick();
    expect(all.parsed()[0].records).toEqual(batch);
    expect(onlyB.parsed()[0].records).toEqual([
      { pv: 'b', n: 2 },
      { pv: 'b', n: 4 },
    ]);
    expect(onlyC.parsed()[0].records).toEqual([{ pv: 'c', n: 3 }]);
    // The hub only reads records to serialise them, once each.
    expect(serialized).toEqual(batch);
  });

  it('shares one subscription between clients with the same filter and removes it with its last client', () => {
    const hub = new Hub<Rec, { pv: string }>((r) => JSON.stringify(r));
    const matcher = new RecordingMatcher();
    const [s1, s2] = [new FakeSocket(), new FakeSocket()];
    hub.add(s1);
    hub.add(s2);
    expect(hub.wantsEverything).toBe(true);
    hub.subscribe(s1, { pv: 'x' });
    hub.subscribe(s2, { pv: 'x' });
    expect(hub.wantsEverything).toBe(false);
    // A matcher attached later is told the subscriptions already in use.
    hub.attach(matcher);
    expect(matcher.live()).toEqual(['x']);
    const x = matcher.idOf('x');
    // Re-sending the same filter keeps its subscription (no gap in what the client receives).
    hub.subscribe(s1, { pv: 'x' });
    expect(matcher.log).toEqual([`+${x} x`]);
    hub.subscribe(s1, undefined);
    expect(hub.wantsEverything).toBe(true);
    expect(matcher.live()).toEqual(['x']);
    hub.remove(s2);
    expect(matcher.live()).toEqual([]);
    expect(hub.subscriptionCount).toBe(0);
    // A filter used again later gets a new id: matches still on their way for the old one reach nobody.
    hub.subscribe(s1, { pv: 'x' });
    expect(matcher.idOf('x')).not.toBe(x);
  });

  it('never delivers records of the previous filter after a subscription change', () => {
    const hub = new Hub<Rec, { pv: string }>((r) => JSON.stringify(r));
    const matcher = new RecordingMatcher();
    hub.attach(matcher);
    const s = new FakeSocket();
    hub.add(s);
    hub.subscribe(s, { pv: 'a' });
    const a = matcher.idOf('a');
    hub.publish([{ pv: 'a', n: 1 }], new Map([[a, [0]]]));
    hub.subscribe(s, { pv: 'b' });
    const b = matcher.idOf('b');
    // A batch the worker matched before it knew the new subscription: queued and in-flight 'a' records are gone.
    hub.publish([{ pv: 'a', n: 2 }], new Map([[a, [0]]]));
    hub.publish(
      [
        { pv: 'a', n: 3 },
        { pv: 'b', n: 4 },
      ],
      new Map([[b, [1]]]),
    );
    hub.tick();
    expect(s.parsed().map((f) => f.records)).toEqual([[{ pv: 'b', n: 4 }]]);
    expect(s.parsed()[0]).toMatchObject({ matched: 1, sent: 1 });
    expect(matcher.live()).toEqual(['b']);
    // The 'a' record pending at the change was matched and never sent.
    expect(hub.stats()).toMatchObject({ matched: 2, sent: 1, sampledOut: 1, pending: 0 });
  });

  it('gives filtered clients nothing when no matcher reports for them', () => {
    const hub = new Hub<Rec, { pv: string }>((r) => JSON.stringify(r));
    const s = new FakeSocket();
    hub.add(s);
    hub.subscribe(s, { pv: 'a' });
    hub.publish([{ pv: 'a', n: 1 }]);
    hub.tick();
    expect(s.frames).toHaveLength(0);
  });

  it('sends a client that cannot take everything an even sample with its newest record and exact counts', () => {
    const clock = new Clock();
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { now: clock.now, maxRecordsPerSecond: 100 });
    const s = new FakeSocket();
    hub.add(s);
    let n = 0;
    for (let tick = 0; tick < 20; tick++) {
      for (let i = 0; i < 1000; i++) hub.publish([{ pv: 'p', n: n++ }]);
      clock.ms += 100;
      hub.tick();
    }
    const frames = s.parsed();
    expect(frames).toHaveLength(20);
    let first = 0;
    for (const f of frames) {
      const ns = (f.records as Rec[]).map((r) => r.n);
      expect(f.matched).toBe(1000);
      expect(f.sent).toBe(ns.length);
      expect(f.sampling).toBe(true);
      // The newest record of the interval is always there, and the sample spans the whole interval.
      expect(ns.at(-1)).toBe(first + 999);
      expect(ns[0]).toBe(first);
      for (let i = 1; i < ns.length; i++) expect(ns[i]).toBeGreaterThan(ns[i - 1]);
      first += 1000;
    }
    // The first frame may use a second's budget at once; then 100/s at 10 ticks a second is 10 a frame.
    expect(frames[0].sent).toBe(100);
    expect(frames.slice(1).every((f) => f.sent === 10)).toBe(true);
    // Evenly spaced: every gap is within half a mean gap of the mean (the sample is thinned in strides).
    const gaps = (frames[5].records as Rec[]).map((r, i, all) => (i === 0 ? 0 : r.n - all[i - 1].n)).slice(1);
    const mean = 999 / gaps.length;
    for (const gap of gaps) expect(Math.abs(gap - mean)).toBeLessThanOrEqual(mean / 2);
    const sent = 100 + 19 * 10;
    expect(hub.stats()).toMatchObject({ matched: 20_000, sent, sampledOut: 20_000 - sent, dropped: 20_000 - sent });
    expect(hub.clientInfo()[0]).toMatchObject({ matched: 20_000, sent, sampling: true, pending: 0 });
    // Smoothed over about a second: 10,000 matched and 100 sent per second.
    expect(frames[19].rate?.matched).toBeGreaterThan(9000);
    expect(frames[19].rate?.matched).toBeLessThanOrEqual(10_000);
    expect(frames[19].rate?.sent).toBeGreaterThan(90);
    expect(frames[19].rate?.sent).toBeLessThan(120);
  });

  it('counts records the matcher sampled out as matched and not sent, for every client of the stream', () => {
    const clock = new Clock();
    const hub = new Hub<Rec, { pv: string }>((r) => JSON.stringify(r), { now: clock.now });
    const matcher = new RecordingMatcher();
    hub.attach(matcher);
    const all = new FakeSocket();
    const onlyB = new FakeSocket();
    hub.add(all);
    hub.add(onlyB);
    hub.subscribe(onlyB, { pv: 'b' });
    const b = matcher.idOf('b');
    const batch: Rec[] = [
      { pv: 'a', n: 10 },
      { pv: 'b', n: 20 },
      { pv: 'b', n: 30 },
    ];
    // The matcher saw 300 records, 40 of them b's, and kept these three.
    hub.publish(
      batch,
      new Map([
        [EVERYTHING, [0, 2]],
        [b, [1, 2]],
      ]),
      new Map([
        [EVERYTHING, 300],
        [b, 40],
      ]),
    );
    clock.ms += 100;
    hub.tick();
    expect(all.parsed()[0]).toMatchObject({ matched: 300, sent: 2, sampling: true, records: [batch[0], batch[2]] });
    expect(onlyB.parsed()[0]).toMatchObject({ matched: 40, sent: 2, sampling: true, records: [batch[1], batch[2]] });
    expect(hub.stats()).toMatchObject({ matched: 340, sent: 4, sampledOut: 336 });
  });

  it('tells the matcher the most any client of each stream reads; paused clients read nothing', () => {
    const hub = new Hub<Rec, { pv: string }>((r) => JSON.stringify(r));
    const matcher = new RecordingMatcher();
    hub.attach(matcher);
    const [page, fast, onlyB, pausedB] = [new FakeSocket(), new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const s of [page, fast, onlyB, pausedB]) hub.add(s);
    hub.setRate(fast, 20_000);
    hub.subscribe(onlyB, { pv: 'b' });
    hub.subscribe(pausedB, { pv: 'b' });
    hub.setRate(pausedB, 5000);
    hub.setPaused(pausedB, true);
    expect(hub.demand()).toEqual({ everything: 20_000, subscriptions: new Map([[matcher.idOf('b'), 2000]]) });
    hub.remove(fast);
    hub.setPaused(page, true);
    expect(hub.demand().everything).toBe(0);
  });

  it('sends a client that keeps up everything, and says it is not sampling', () => {
    const clock = new Clock();
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { now: clock.now, maxRecordsPerSecond: 2000 });
    const s = new FakeSocket();
    hub.add(s);
    let n = 0;
    for (let tick = 0; tick < 50; tick++) {
      for (let i = 0; i < 150; i++) hub.publish([{ pv: 'p', n: n++ }]);
      clock.ms += 100;
      hub.tick();
    }
    const frames = s.parsed();
    expect(frames.every((f) => f.sampling === false && f.sent === 150 && f.matched === 150)).toBe(true);
    expect(frames.flatMap((f) => (f.records as Rec[]).map((r) => r.n))).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(hub.stats()).toMatchObject({ matched: n, sent: n, sampledOut: 0 });
  });

  it('holds bounded memory for a client that reads nothing, then sends it a fresh sample when it drains', () => {
    const clock = new Clock();
    const maxSampleBytes = 64 * 1024;
    const hub = new Hub<Rec>((r) => JSON.stringify(r), {
      now: clock.now,
      maxRecordsPerSecond: 1000,
      maxSampleBytes,
      highWaterBytes: 1000,
    });
    const stuck = new FakeSocket();
    const fast = new FakeSocket();
    hub.add(stuck);
    hub.add(fast);
    stuck.bufferedAmount = 5000;
    let n = 0;
    let worstBytes = 0;
    let worstPending = 0;
    for (let tick = 0; tick < 100; tick++) {
      for (let i = 0; i < 1000; i++) hub.publish([{ pv: 'pppppppppppppppppppp', n: n++ }]);
      clock.ms += 100;
      hub.tick();
      const info = hub.clientInfo()[0];
      worstBytes = Math.max(worstBytes, info.pendingRecordBytes);
      worstPending = Math.max(worstPending, info.pending);
    }
    expect(stuck.frames).toHaveLength(0);
    expect(worstBytes).toBeLessThanOrEqual(maxSampleBytes + 100);
    // Counted exactly, held in bounded memory.
    expect(worstPending).toBe(100_000);
    expect(fast.parsed().reduce((sum, f) => sum + (f.matched ?? 0), 0)).toBe(100_000);
    stuck.bufferedAmount = 0;
    clock.ms += 100;
    hub.tick();
    const [frame] = stuck.parsed();
    expect(frame.matched).toBe(100_000);
    expect((frame.records as Rec[]).at(-1)?.n).toBe(n - 1);
    expect(frame.sent).toBeLessThanOrEqual(1000);
    expect(frame.sampling).toBe(true);
  });

  it('halves the rate of a client whose socket drains slowly, and restores it once it keeps up', () => {
    const clock = new Clock();
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { now: clock.now, maxRecordsPerSecond: 1000, slowBytes: 100 });
    const s = new FakeSocket();
    hub.add(s);
    s.bufferedAmount = 500;
    for (let tick = 0; tick < 20; tick++) {
      clock.ms += 100;
      hub.tick();
    }
    expect(hub.clientInfo()[0].rate).toBe(MIN_CLIENT_RATE);
    s.bufferedAmount = 0;
    for (let tick = 0; tick < 40; tick++) {
      clock.ms += 100;
      hub.tick();
    }
    expect(hub.clientInfo()[0].rate).toBe(1000);
    expect(hub.setRate(s, 1e9)).toBe(MAX_CLIENT_RATE);
    expect(hub.setRate(s, 0)).toBe(MIN_CLIENT_RATE);
  });

  it('stops delivering records to a paused client and counts removed clients in the totals', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r));
    const s = new FakeSocket();
    hub.add(s);
    hub.setPaused(s, true);
    hub.publish([{ pv: 'a', n: 1 }]);
    hub.tick();
    expect(s.frames).toHaveLength(0);
    hub.setPaused(s, false);
    hub.publish([
      { pv: 'a', n: 2 },
      { pv: 'a', n: 3 },
    ]);
    hub.tick();
    expect(s.parsed()[0].records).toEqual([
      { pv: 'a', n: 2 },
      { pv: 'a', n: 3 },
    ]);
    hub.publish([{ pv: 'a', n: 4 }]);
    hub.remove(s);
    expect(hub.stats()).toMatchObject({ clients: 0, matched: 3, sent: 2, sampledOut: 1, pending: 0 });
  });

  it('skips snapshots for a backed-up client rather than queueing them', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { highWaterBytes: 10 });
    const s = new FakeSocket();
    hub.add(s);
    s.bufferedAmount = 11;
    hub.broadcast('{"type":"snapshot"}');
    expect(s.frames).toHaveLength(0);
    s.bufferedAmount = 0;
    hub.broadcast('{"type":"snapshot"}');
    expect(s.frames).toEqual(['{"type":"snapshot"}']);
  });

  it('holds replies while a client drains and sends them, in order, before its snapshot and records', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { highWaterBytes: 10 });
    const s = new FakeSocket();
    hub.add(s);
    hub.sendTo(s, '{"type":"hello"}');
    s.bufferedAmount = 11;
    hub.sendTo(s, '{"type":"error","n":1}');
    hub.snapshotTo(s, '{"type":"snapshot","n":1}');
    hub.broadcast('{"type":"snapshot","n":2}');
    hub.publish([{ pv: 'a', n: 1 }]);
    hub.sendTo(s, '{"type":"error","n":2}');
    hub.tick();
    expect(s.parsed().map((f) => f.type)).toEqual(['hello']);
    expect(hub.clientInfo()[0].pendingBytes).toBe(
      '{"type":"error","n":1}{"type":"error","n":2}{"type":"snapshot","n":2}'.length,
    );
    s.bufferedAmount = 0;
    hub.tick();
    expect(s.frames.slice(1, 4)).toEqual([
      '{"type":"error","n":1}',
      '{"type":"error","n":2}',
      '{"type":"snapshot","n":2}',
    ]);
    expect(s.parsed()[4]).toMatchObject({ type: 'records', records: [{ pv: 'a', n: 1 }] });
    expect(hub.clientInfo()[0].pendingBytes).toBe(0);
  });

  it('closes a client with 1008 once its unread replies pass the budget, and forgets it', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { highWaterBytes: 10, maxReplyBytes: 1000 });
    const s = new FakeSocket();
    const other = new FakeSocket();
    hub.add(s);
    hub.add(other);
    s.bufferedAmount = 11;
    const reply = `{"type":"error","message":"${'x'.repeat(80)}"}`;
    let sent = 0;
    while (s.readyState === 1 && sent < 100) {
      hub.sendTo(s, reply);
      sent += 1;
      const info = hub.clientInfo().find((c) => c.bufferedAmount === 11);
      expect(info === undefined || info.pendingBytes <= 1000).toBe(true);
    }
    expect(s.closedWith).toBe(1008);
    expect(sent).toBe(Math.floor(1000 / reply.length) + 1);
    expect(s.frames).toHaveLength(0);
    expect(hub.stats()).toMatchObject({ clients: 1, overBudget: 1 });
    hub.sendTo(s, reply);
    expect(hub.stats().clients).toBe(1);
    expect(other.closedWith).toBeUndefined();
  });
});

/** Frames with the fields history frames add. */
function historyFrames(
  socket: FakeSocket,
): { type: string; history?: boolean; records?: { n: number }[]; matched?: number }[] {
  return socket.frames.map((f) => JSON.parse(f));
}

const historyRec = (n: number): string => JSON.stringify({ n });

/** History: the hub of one client subscribed to everything with `since`, on a hand-driven clock. */
function historySetup() {
  let ms = 1_764_160_000_000;
  const cancelled: number[] = [];
  const hub = new Hub<string>((r) => r, { now: () => ms, onHistoryCancel: (r) => cancelled.push(r) });
  const socket = new FakeSocket();
  hub.add(socket);
  hub.subscribe(socket, undefined);
  const wait = hub.awaitHistory(socket, 0);
  if (wait === undefined) throw new Error('no client');
  const tick = (): void => {
    ms += 100;
    hub.tick();
  };
  return { hub, socket, wait, tick, cancelled };
}

describe('Hub with history', () => {
  it('offers no batch decoded before the seam, holds live records until the history is sent, then sends them', () => {
    const { hub, socket, wait, tick } = historySetup();
    // Records 1..3 were decoded before the worker took the request: the history carries them.
    hub.publish([historyRec(1), historyRec(2), historyRec(3)]);
    tick();
    expect(socket.frames).toEqual([]);
    hub.historyStarted(wait.request);
    // Live records after the seam wait while the scan runs.
    hub.publish([historyRec(4), historyRec(5)]);
    tick();
    expect(socket.frames).toEqual([]);
    hub.historyResult({
      request: wait.request,
      items: [1, 2, 3].map(historyRec),
      ranks: [0, 1, 2],
      matched: 3,
      seam: 3,
      oldest: 1,
    });
    hub.publish([historyRec(6)]);
    for (let i = 0; i < 3; i++) tick();
    const frames = historyFrames(socket);
    expect(frames.map((f) => (f.type === 'records' ? (f.history ? 'H' : 'L') : f.type))).toEqual(['H', 'history', 'L']);
    const ns = frames.flatMap((f) => f.records ?? []).map((r) => r.n);
    expect(ns).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('sends a large history a frame a tick, whose matched counts add up', () => {
    const { hub, socket, wait, tick } = historySetup();
    hub.historyStarted(wait.request);
    const ranks = evenPicks(50_000, wait.limit);
    expect(wait.limit).toBe(10_000);
    hub.historyResult({
      request: wait.request,
      items: ranks.map(historyRec),
      ranks,
      matched: 50_000,
      seam: 50_000,
      oldest: 1,
    });
    tick();
    expect(socket.frames).toHaveLength(1);
    for (let i = 0; i < 10; i++) tick();
    const history = historyFrames(socket).filter((f) => f.history === true);
    expect(history).toHaveLength(5);
    expect(history.reduce((s, f) => s + (f.matched ?? 0), 0)).toBe(50_000);
    expect(historyFrames(socket).at(-1)).toMatchObject({
      type: 'history',
      matched: 50_000,
      sent: 10_000,
      sampling: true,
    });
  });

  it('forgets a pending history when the client subscribes again or leaves, and says so', () => {
    const { hub, socket, wait, cancelled } = historySetup();
    hub.subscribe(socket, undefined);
    expect(cancelled).toEqual([wait.request]);
    // A late answer for the forgotten request reaches nobody.
    hub.historyResult({ request: wait.request, items: [historyRec(1)], ranks: [0], matched: 1, seam: 1, oldest: 1 });
    const again = hub.awaitHistory(socket, 0);
    hub.remove(socket);
    expect(cancelled).toEqual([wait.request, again?.request]);
  });
});

describe('recordsFrame', () => {
  it('writes head, comma-separated records and tail as the UTF-8 of the joined text', () => {
    const parts = ['{"a":1}', '{"s":"[3] 1, … 2 more …"}', '{"pv":"\u00e9t\u00e9"}'];
    const frame = recordsFrame('{"records":[', parts, '],"n":3}');
    expect(frame.toString('utf8')).toBe(`{"records":[${parts.join(',')}],"n":3}`);
    expect(frame.length).toBe(Buffer.byteLength(`{"records":[${parts.join(',')}],"n":3}`));
    expect(recordsFrame('[', [], ']').toString()).toBe('[]');
  });
});
