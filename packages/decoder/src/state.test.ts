import { describe, expect, it } from 'vitest';
import { DbrType, build, concatBytes } from '@ca-shark/protocol';
import { createDecoder } from './decoder.js';
import type { CaRecord } from './record.js';
import { PcapWriter, TcpConversation } from '@ca-shark/packet';
import { CLIENT, SERVER, T0, decode, workedExample } from './test-support/scenario.js';
import { SEARCH_CLIENT_PORT, searchTraffic } from './test-support/search-traffic.js';
import type { BoundedMap } from './bounded-map.js';
import { type ConversationState, keptKey } from './state.js';
import { DEFAULT_LIMITS, PAIRING_SEARCH_TTL } from './options.js';
import { goldenLine } from './test-support/golden.js';

function collect(bytes: Uint8Array, options: Parameters<typeof createDecoder>[0] = {}) {
  const records: CaRecord[] = [];
  const d = createDecoder({ ...options, onRecord: (r) => records.push(r) });
  d.pushCapture(bytes);
  d.end();
  return { d, records };
}

describe('state bounds and expiry', () => {
  it('expires closed circuits and cleared channels by capture time, and caps the tables', () => {
    const b = new PcapWriter();
    for (let i = 0; i < 300; i++) {
      const t = T0 + i;
      b.udp(t, CLIENT, 40000 + i, SERVER, 5064, build.searchRequest({ name: `pv${i}`, cid: i }));
      const c = new TcpConversation(b, CLIENT, 20000 + i, SERVER, 5064).open(t);
      c.send(t + 0.1, true, build.createChanRequest({ name: `pv${i}`, cid: i }));
      c.send(t + 0.2, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: i, sid: i }));
      // Half of the channels are cleared, all circuits close, and some reads are never answered.
      if (i % 2) {
        c.send(t + 0.3, true, build.clearChannelRequest({ sid: i, cid: i }));
        c.send(t + 0.4, false, build.clearChannelResponse({ sid: i, cid: i }));
      }
      c.send(
        t + 0.5,
        true,
        concatBytes([1, 2, 3].map((k) => build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: i, ioid: k }))),
      );
      c.close(t + 0.6);
    }
    const { d, records } = collect(b.bytes(), {
      limits: { maxSearches: 50, maxClients: 40, closedCircuitTtl: 10, clearedChannelTtl: 5, maxChannels: 30 },
    });
    expect(records.length).toBe(300 * 3 + 150 * 2 + 300 * 3);
    const st = d.state;
    // Circuits closed more than 10 capture seconds before the last packet are gone.
    expect(st.circuits.size).toBeLessThanOrEqual(11);
    expect(st.channels.size).toBeLessThanOrEqual(30);
    expect(st.searches.size).toBeLessThanOrEqual(50);
    expect(st.clients.size).toBeLessThanOrEqual(40);
    expect(st.statistics.evicted.searches).toBeGreaterThan(0);
    // Open circuits keep their channels; a closed one holds no pending requests.
    for (const c of st.circuits.values()) {
      expect(c.closedAt).not.toBeNull();
      expect(c.pendingIo.size).toBe(0);
    }
  });

  it('expires what a walk of every table would, sweep by sweep, with capture time going back and forth', () => {
    const b = new PcapWriter();
    // Times jump back up to 3 s now and then; searches are retried (same CID and name) at later and
    // earlier times; circuits close and channels are cleared, fail or end with their circuit.
    const at = (i: number) => T0 + i * 0.7 + ((i * 7) % 9 === 0 ? -3 : (i % 4) * 0.4);
    for (let i = 0; i < 400; i++) {
      const t = at(i);
      const cid = i % 37;
      b.udp(
        t,
        CLIENT,
        40000 + (i % 3),
        SERVER,
        5064,
        concatBytes([build.versionRequest({ sequence: i % 50 }), build.searchRequest({ name: `pv${cid}`, cid })]),
      );
      if (i % 5 === 0)
        b.udp(t + 0.01, SERVER, 5064, CLIENT, 40000 + (i % 3), build.versionResponse({ sequence: i % 50 }));
      if (i % 2 === 0) {
        const c = new TcpConversation(b, CLIENT, 20000 + (i % 60), SERVER, 5064).open(t);
        c.send(t + 0.1, true, build.createChanRequest({ name: `pv${cid}`, cid: i }));
        c.send(t + 0.2, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: i, sid: i }));
        c.send(t + 0.25, true, build.createChanRequest({ name: `pv${cid}b`, cid: i + 1 }));
        c.send(
          t + 0.26,
          false,
          build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: i + 1, sid: i + 1 }),
        );
        if (i % 3 === 0) {
          c.send(t + 0.3, true, build.clearChannelRequest({ sid: i, cid: i }));
          c.send(t + 0.4, false, build.clearChannelResponse({ sid: i, cid: i }));
        }
        if (i % 8 === 0) c.close(t + 0.6);
      }
    }
    const d = createDecoder({
      limits: { closedCircuitTtl: 3, clearedChannelTtl: 2, searchTtl: 4 },
      onRecord: () => {},
    });
    const { sweeps, removed } = checkSweeps(d, b.bytes());
    expect(sweeps).toBeGreaterThan(100);
    expect(removed).toBeGreaterThan(300);
  });

  it('expires what a walk would when the caps evict entries and keys are taken by new entries', () => {
    const b = new PcapWriter();
    // Small caps evict circuits, channels, searches and VERSION requests before they expire. A client
    // socket searches two CIDs every step for 8 s (repeats within the TTL, a new name every 4 s: a new
    // entry under the old key), then falls silent while four others take their turn (its entries expire);
    // sequence numbers wrap; a search is retried at the same time; capture time jumps back 4 s now and
    // then; bursts of other sockets' searches.
    const at = (i: number) => T0 + i * 0.5 + ((i * 5) % 11 === 0 ? -4 : 0);
    for (let i = 0; i < 600; i++) {
      const t = at(i);
      const cid = i % 2;
      const port = 40000 + ((i >> 4) % 5);
      const search = build.searchRequest({ name: `pv${cid}:${(i >> 3) % 3}`, cid });
      b.udp(t, CLIENT, port, SERVER, 5064, concatBytes([build.versionRequest({ sequence: i % 7 }), search]));
      if (i % 4 === 0) b.udp(t, CLIENT, port, SERVER, 5064, search);
      // The socket's last search before it falls silent: a repeat dated before the entry was made.
      if (i % 16 === 15) b.udp(t - 5, CLIENT, port, SERVER, 5064, search);
      if (i % 25 === 24) {
        for (let k = 0; k < 6; k++)
          b.udp(t, CLIENT, 41000 + k, SERVER, 5064, build.searchRequest({ name: 'x', cid: k }));
      }
      if (i % 3 === 0) {
        const c = new TcpConversation(b, CLIENT, 20000 + (i % 40), SERVER, 5064).open(t);
        c.send(t + 0.1, true, build.createChanRequest({ name: `pv${cid}`, cid: i }));
        c.send(t + 0.2, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: i, sid: i }));
        if (i % 2 === 0) {
          c.send(t + 0.3, true, build.clearChannelRequest({ sid: i, cid: i }));
          c.send(t + 0.4, false, build.clearChannelResponse({ sid: i, cid: i }));
        }
        if (i % 9 === 0) c.close(t + 0.6);
      }
    }
    const d = createDecoder({
      limits: {
        closedCircuitTtl: 5,
        clearedChannelTtl: 4,
        searchTtl: 6,
        maxCircuits: 12,
        maxChannels: 6,
        maxSearches: 8,
      },
      onRecord: () => {},
    });
    const { sweeps, removed } = checkSweeps(d, b.bytes());
    expect(sweeps).toBeGreaterThan(200);
    expect(removed).toBeGreaterThan(150);
    const evicted = d.state.statistics.evicted;
    expect(evicted.circuits).toBeGreaterThan(0);
    expect(evicted.channels).toBeGreaterThan(0);
    expect(evicted.searches).toBeGreaterThan(0);
  });

  it('holds no circuit or channel the caps evicted in its expiry heaps', () => {
    // 200 short circuits in 20 capture seconds (closedCircuitTtl 60), each with two channels: the caps keep
    // 10 circuits; the evicted ones are garbage, not held until their time would have come.
    const b = new PcapWriter();
    for (let i = 0; i < 200; i++) {
      const t = T0 + i * 0.1;
      const c = new TcpConversation(b, CLIENT, 20000 + i, SERVER, 5064).open(t);
      for (let k = 0; k < 2; k++) {
        c.send(t + 0.01, true, build.createChanRequest({ name: `pv${i}:${k}`, cid: k }));
        c.send(t + 0.02, false, build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid: k, sid: k }));
      }
      c.close(t + 0.03);
    }
    const { d } = collect(b.bytes(), { limits: { maxCircuits: 10 } });
    const st = d.state;
    expect(st.statistics.evicted.circuits).toBe(190);
    // The heaps hold ids (numbers), never the entries: an evicted entry is then garbage at once.
    const held = (heap: string): unknown[] =>
      (st as unknown as Record<string, { keys: unknown[] }>)[heap].keys.filter((k) => typeof k !== 'number');
    expect(held('closedCircuits')).toEqual([]);
    expect(held('endedChannels')).toEqual([]);
  });

  it('holds one expiry pair per search and VERSION request however often they are repeated within their TTL', () => {
    // One search retried 5,000 times in 500 capture seconds (searchTtl 600), each datagram led by the same
    // VERSION sequence number: the tables hold one entry each, and so should the expiry heaps (a pair pushed
    // per repeat held the superseded request refs and lookup keys until a rebuild, in the young generation
    // long enough to grow it).
    const b = new PcapWriter();
    for (let i = 0; i < 5000; i++) {
      b.udp(
        T0 + i * 0.1,
        CLIENT,
        41000,
        SERVER,
        5064,
        concatBytes([build.versionRequest({ sequence: 7 }), build.searchRequest({ name: 'busy:pv', cid: 3 })]),
      );
    }
    const { d } = collect(b.bytes());
    const st = d.state as unknown as Record<'searches' | 'versionRequests', Map<unknown, unknown>> &
      Record<'searchAges' | 'versionAges', { size: number }>;
    expect(st.searches.size).toBe(1);
    expect(st.versionRequests.size).toBe(1);
    expect(st.searchAges.size).toBe(1);
    expect(st.versionAges.size).toBe(1);
  });

  it('keeps as many searches and VERSION requests after 400 capture seconds of searching as after 100', () => {
    const searchTtl = 30;
    const kept = (seconds: number) => {
      const { d, records } = collect(searchTraffic(seconds), { limits: { searchTtl } });
      const st = d.state as ConversationState;
      // The last reply still finds its VERSION request: expiry goes by capture time, not by count.
      expect(records.at(-1)?.request?.command).toBe('SearchRequest');
      const lastVersion = records.findLast((r) => r.command.name === 'VersionResponse');
      expect(lastVersion?.request?.timestamp).toBe(T0 + seconds - 1);
      return { searches: st.searches.size, versions: st.versionRequests.size, byIpCid: st.searchesByIpCid.size };
    };
    const short = kept(100);
    const long = kept(400);
    expect(long).toEqual(short);
    // One datagram a second, 10 searches in each: what the last searchTtl (+ up to one sweep) seconds sent.
    expect(long.versions).toBeLessThanOrEqual(searchTtl + 2);
    expect(long.searches).toBeLessThanOrEqual(10 * (searchTtl + 2));
  });

  it('pairs every reply as the default searchTtl does with PAIRING_SEARCH_TTL, in a state that stops growing', () => {
    // 700 s of searching (the bench's 1 GB capture is 692 s), then a client that retries one unanswered
    // search after 5 minutes (EPICS_CA_MAX_SEARCH_PERIOD) and is answered, and a late NOT_FOUND.
    const b = new PcapWriter();
    const late = T0 + 800;
    b.udp(late, CLIENT, 41000, SERVER, 5064, build.searchRequest({ name: 'late:pv', cid: 7 }));
    b.udp(late + 300, CLIENT, 41000, SERVER, 5064, build.searchRequest({ name: 'late:pv', cid: 7 }));
    b.udp(late + 300.002, SERVER, 5064, CLIENT, 41000, build.searchResponse({ cid: 7 }));
    b.udp(late + 300.003, SERVER, 5064, CLIENT, 41000, build.notFoundResponse({ cid: 7 }));
    const capture = concatBytes([searchTraffic(700), b.bytes().subarray(24)]);
    const long = collect(capture);
    const short = collect(capture, { limits: { searchTtl: PAIRING_SEARCH_TTL } });
    expect(short.records.map(goldenLine)).toEqual(long.records.map(goldenLine));
    const reply = short.records.find((r) => r.command.name === 'SearchResponse' && r.pv === 'late:pv');
    expect(reply?.request?.timestamp).toBe(late + 300);
    expect(DEFAULT_LIMITS.searchTtl).toBeGreaterThan(PAIRING_SEARCH_TTL);
    // What the last minute sent (10 searches a second), not the last ten minutes.
    const kept = (seconds: number) => {
      const st = collect(searchTraffic(seconds), { limits: { searchTtl: PAIRING_SEARCH_TTL } }).d
        .state as ConversationState;
      return { searches: st.searches.size, versions: st.versionRequests.size };
    };
    const tenMinutes = kept(700);
    expect(tenMinutes).toEqual(kept(100));
    expect(tenMinutes.searches).toBeLessThanOrEqual(10 * (PAIRING_SEARCH_TTL + 2));
    expect(tenMinutes.versions).toBeLessThanOrEqual(PAIRING_SEARCH_TTL + 2);
  });

  it('keeps no eviction queue in state tables that stay within their limits', () => {
    const { d } = collect(searchTraffic(100), { limits: { searchTtl: 1000 } });
    const st = d.state as ConversationState;
    expect(st.searches.size).toBe(1000);
    expect(st.versionRequests.size).toBe(100);
    for (const map of [st.searches, st.searchesByIpCid, st.versionRequests, st.clients, st.servers]) {
      expect((map as BoundedMap<unknown, unknown>).queued).toBe(0);
    }
    // Unanswered searches share one empty answeredBy; answered ones hold just their server.
    const entries = [...st.searches.values()];
    const unanswered = entries.filter((e) => e.answeredBy.length === 0);
    expect(unanswered).toHaveLength(500);
    expect(new Set(unanswered.map((e) => e.answeredBy)).size).toBe(1);
    expect(Object.isFrozen(unanswered[0].answeredBy)).toBe(true);
    expect(entries.find((e) => e.cid === 0)?.answeredBy).toEqual([`${SERVER}:5064`]);
    expect(st.clients.get(`${CLIENT}:${SEARCH_CLIENT_PORT}`)?.searches).toBe(1000);
    // Kept keys (flat strings) are the keys the daemon looks searches up by.
    for (const [key, e] of st.searches) expect(key).toBe(`${e.client}/${e.cid}`);
    expect([...st.versionRequests.keys()].at(-1)).toBe(`${CLIENT}:${SEARCH_CLIENT_PORT}/99`);
    expect(keptKey('10.0.0.5:40000', 100_000)).toBe('10.0.0.5:40000/100000');
  });

  it('caps pending requests per circuit', () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    const reqs = Array.from({ length: 500 }, (_, k) =>
      build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 1, ioid: k }),
    );
    c.send(T0 + 1, true, concatBytes(reqs));
    c.send(T0 + 2, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [1], ioid: 499 }));
    c.send(T0 + 2, false, build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [1], ioid: 0 }));
    const { d, records } = collect(b.bytes(), { limits: { maxPendingPerCircuit: 100 } });
    const [circuit] = [...d.state.circuits.values()];
    expect(circuit.pendingIo.size).toBe(99);
    // The newest request is still paired, the oldest was dropped.
    expect(records[500].request?.frame).toBe(4);
    expect(records[501].request).toBeUndefined();
    expect(d.state.statistics.evicted.pending).toBe(400);
  });
});

describe('inputs', () => {
  it('gives the same records from live frames (pushFrame) as from the capture file', async () => {
    const built = workedExample();
    const fromFile = await decode(built.bytes());
    const records: CaRecord[] = [];
    const d = createDecoder({ onRecord: (r) => records.push(r) });
    const frames = framesOf(built.bytes());
    for (const f of frames) d.pushFrame(1, f.ts, f.bytes);
    d.end();
    const key = (r: CaRecord) => JSON.stringify([r.frame, r.command, r.pv, r.role, r.request, r.latency]);
    expect(records.map(key)).toEqual(fromFile.map(key));
  });

  it('emits a message cut by the end of the capture as truncated', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    const big = build.readNotifyResponse({
      data_type: DbrType.DOUBLE,
      data: Array.from({ length: 100 }, (_, i) => i),
      ioid: 1,
    });
    c.send(T0 + 1, true, build.readNotifyRequest({ data_type: DbrType.DOUBLE, data_count: 100, sid: 1, ioid: 1 }));
    c.send(T0 + 2, false, big.subarray(0, 300));
    const records = await decode(b.bytes());
    expect(records.map((r) => r.command.name)).toEqual(['ReadNotifyRequest', 'ReadNotifyResponse']);
    expect(records[1]).toMatchObject({ truncated: true, size: big.length });
  });

  it('flags a message over the size cap without buffering it', async () => {
    const b = new PcapWriter();
    const c = new TcpConversation(b, CLIENT, 45000, SERVER, 5064).open(T0);
    const big = build.readNotifyResponse({
      data_type: DbrType.DOUBLE,
      data: Array.from({ length: 2000 }, (_, i) => i),
      ioid: 1,
    });
    for (let o = 0; o < big.length; o += 1000) c.send(T0 + 2, false, big.subarray(o, o + 1000));
    c.send(T0 + 3, false, build.echoResponse());
    const records = await decode(b.bytes(), { maxMessageSize: 4096 });
    expect(records.map((r) => r.command.name)).toEqual(['ReadNotifyResponse', 'EchoResponse']);
    expect(records[0]).toMatchObject({ truncated: true, size: big.length });
  });

  it('reads a Node stream and passes packet problems to onProblem', async () => {
    const { Readable } = await import('node:stream');
    const bytes = workedExample().bytes();
    const problems: string[] = [];
    const out: CaRecord[] = [];
    const junk = new Uint8Array(16 + 10); // a record header claiming 10 bytes, then the file ends
    new DataView(junk.buffer).setUint32(8, 10, true);
    new DataView(junk.buffer).setUint32(12, 10, true);
    const stream = Readable.from([bytes.subarray(0, 100), bytes.subarray(100), junk.subarray(0, 20)]);
    const { shark } = await import('./shark.js');
    for await (const r of shark(stream, { onProblem: (p) => problems.push(p.code) })) out.push(r);
    expect(out).toHaveLength(25);
    expect(problems.length).toBeGreaterThan(0);
  });
});

describe('shark() errors', () => {
  it('throws on input that is not a capture, unless onProblem takes it', async () => {
    const { shark } = await import('./shark.js');
    const text = new TextEncoder().encode('hello, this is not a capture file');
    await expect(decode(text)).rejects.toThrow(/not a pcap or pcapng/);
    const codes: string[] = [];
    const out: CaRecord[] = [];
    for await (const r of shark(text, { onProblem: (p) => codes.push(p.code) })) out.push(r);
    expect(out).toEqual([]);
    expect(codes).toEqual(['not-a-capture']);
  });

  it('throws when the file cannot be opened', async () => {
    const { shark } = await import('./shark.js');
    await expect(async () => {
      for await (const r of shark('/nonexistent/capture.pcap')) void r;
    }).rejects.toThrow(/ENOENT/);
  });
});

/** The Ethernet frames of a classic pcap written by {@link PcapWriter}. */
function framesOf(pcap: Uint8Array): { ts: number; bytes: Uint8Array }[] {
  const v = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  const out: { ts: number; bytes: Uint8Array }[] = [];
  for (let o = 24; o + 16 <= pcap.length;) {
    const ts = v.getUint32(o, true) + v.getUint32(o + 4, true) / 1e6;
    const len = v.getUint32(o + 8, true);
    out.push({ ts, bytes: pcap.subarray(o + 16, o + 16 + len) });
    o += 16 + len;
  }
  return out;
}

/**
 * Decodes `capture` with `d`, checking after every sweep that the tables are what {@link walkExpiry} says;
 * returns the sweeps and the entries they removed.
 */
function checkSweeps(d: ReturnType<typeof createDecoder>, capture: Uint8Array): { sweeps: number; removed: number } {
  const st = d.state as ConversationState;
  const inner = st as unknown as { expire(now: number): void };
  const expire = inner.expire.bind(st);
  let sweeps = 0;
  let removed = 0;
  inner.expire = (now: number) => {
    const expected = walkExpiry(st, now);
    const before = tableKeys(st);
    expire(now);
    const after = tableKeys(st);
    expect(after).toEqual(expected);
    sweeps++;
    removed += Object.values(before).flat().length - Object.values(after).flat().length;
  };
  d.pushCapture(capture);
  d.end();
  return { sweeps, removed };
}

/** The keys of the tables a sweep expires, in their maps' order. */
function tableKeys(st: ConversationState): Record<string, unknown[]> {
  return {
    circuits: [...st.circuits.keys()],
    channels: [...st.channels.keys()],
    searches: [...st.searches.keys()],
    searchesByIpCid: [...st.searchesByIpCid.keys()],
    versionRequests: [...st.versionRequests.keys()],
  };
}

/** {@link tableKeys} after a sweep at `now` that walks every table (how the state expired entries before). */
function walkExpiry(st: ConversationState, now: number): Record<string, unknown[]> {
  const { closedCircuitTtl, clearedChannelTtl, searchTtl } = st.limits;
  const gone = new Set<unknown>();
  for (const c of st.circuits.values()) {
    if (c.closedAt !== null && now - c.closedAt > closedCircuitTtl) {
      gone.add(c);
      for (const ch of [...c.channelsByCid.values(), ...c.channelsBySid.values()]) gone.add(ch);
    }
  }
  for (const ch of st.channels.values()) {
    if (ch.endedAt !== null && now - ch.endedAt > clearedChannelTtl) gone.add(ch);
  }
  const goneSearches = new Set<unknown>();
  for (const s of st.searches.values()) if (now - s.last.timestamp > searchTtl) goneSearches.add(s);
  const keys = <K, V>(map: ReadonlyMap<K, V>, keep: (v: V) => boolean) =>
    [...map].filter(([, v]) => keep(v)).map(([k]) => k);
  return {
    circuits: keys(st.circuits, (c) => !gone.has(c)),
    channels: keys(st.channels, (ch) => !gone.has(ch)),
    searches: keys(st.searches, (s) => !goneSearches.has(s)),
    searchesByIpCid: keys(st.searchesByIpCid, (s) => !goneSearches.has(s)),
    versionRequests: keys(st.versionRequests, (ref) => !(now - ref.timestamp > searchTtl)),
  };
}
