import { describe, expect, it } from 'vitest';
import { Hub, type HubSocket, type SubscriptionMatcher } from './hub.js';

/** A socket double that records frames and lets the test set its backlog. */
class FakeSocket implements HubSocket {
  bufferedAmount = 0;
  readyState = 1;
  frames: string[] = [];
  send(data: string): void {
    this.frames.push(data);
  }
  closedWith: number | undefined;
  close(code?: number): void {
    this.readyState = 3;
    this.closedWith = code;
  }
  parsed(): { type: string; records?: unknown[]; count?: number }[] {
    return this.frames.map((f) => JSON.parse(f) as { type: string });
  }
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
  it('batches records into one frame per tick, newest last', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r));
    const s = new FakeSocket();
    hub.add(s);
    for (let n = 0; n < 5; n++) hub.publish([{ pv: 'a', n }]);
    expect(s.frames).toHaveLength(0);
    hub.tick();
    expect(s.parsed()).toEqual([{ type: 'records', records: [0, 1, 2, 3, 4].map((n) => ({ pv: 'a', n })) }]);
    hub.tick();
    expect(s.frames).toHaveLength(1);
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
    expect(s.parsed()).toEqual([{ type: 'records', records: [{ pv: 'b', n: 4 }] }]);
    expect(matcher.live()).toEqual(['b']);
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

  it('keeps a slow client bounded, drops its oldest records and tells it how many once it drains', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { maxQueueRecords: 100, highWaterBytes: 1000 });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    hub.add(slow);
    hub.add(fast);
    slow.bufferedAmount = 5000;
    for (let n = 0; n < 1000; n++) {
      hub.publish([{ pv: 'p', n }]);
      if (n % 100 === 99) hub.tick();
    }
    expect(slow.frames).toHaveLength(0);
    const info = hub.clientInfo().find((c) => c.bufferedAmount === 5000);
    expect(info?.queued).toBe(100);
    expect(info?.dropped).toBe(900);
    expect(fast.parsed().flatMap((f) => f.records ?? [])).toHaveLength(1000);
    slow.bufferedAmount = 0;
    hub.tick();
    const frames = slow.parsed();
    expect(frames[0]).toEqual({ type: 'dropped', count: 900 });
    expect(frames[1].records).toHaveLength(100);
    expect((frames[1].records as Rec[])[0].n).toBe(900);
    expect(hub.stats().dropped).toBe(900);
  });

  it('bounds a queue by bytes as well as by count', () => {
    const hub = new Hub<Rec>((r) => JSON.stringify(r), { maxQueueBytes: 200, highWaterBytes: 0 });
    const s = new FakeSocket();
    hub.add(s);
    s.bufferedAmount = 1;
    for (let n = 0; n < 50; n++) hub.publish([{ pv: 'pppppppppp', n }]);
    expect(hub.clientInfo()[0].queuedBytes).toBeLessThanOrEqual(200);
    expect(hub.clientInfo()[0].dropped).toBeGreaterThan(0);
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
    hub.publish([{ pv: 'a', n: 2 }]);
    hub.tick();
    expect(s.parsed()[0].records).toEqual([{ pv: 'a', n: 2 }]);
    hub.remove(s);
    expect(hub.stats()).toMatchObject({ clients: 0, sent: 1 });
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
    expect(s.frames.slice(1)).toEqual([
      '{"type":"error","n":1}',
      '{"type":"error","n":2}',
      '{"type":"snapshot","n":2}',
      '{"type":"records","records":[{"pv":"a","n":1}]}',
    ]);
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
