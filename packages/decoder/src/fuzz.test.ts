import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createDecoder } from './decoder.js';
import { type PacketInfo, type TcpFlow, PcapWriter, TcpConversation } from '@ca-shark/packet';
import type { CaRecord } from './record.js';
import { CLIENT, SERVER, T0, workedExample } from './test-support/scenario.js';

/** A hang guard, not a speed check: these CPU-bound runs take several times longer on a loaded machine. */
const FUZZ_TIMEOUT_MS = 60_000;

function run(bytes: Uint8Array): CaRecord[] {
  const out: CaRecord[] = [];
  const d = createDecoder({ onRecord: (r) => out.push(r), maxMessageSize: 1 << 16 });
  d.pushCapture(bytes);
  d.end();
  return out;
}

const chunks = fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 12 });

describe('fuzz: never throws, never hangs', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it('random TCP streams in both directions to the CA port', () => {
    fc.assert(
      fc.property(chunks, chunks, fc.boolean(), (a, b, handshake) => {
        const cap = new PcapWriter();
        const c = new TcpConversation(cap, CLIENT, 45000, SERVER, 5064);
        if (handshake) c.open(T0);
        for (let i = 0; i < Math.max(a.length, b.length); i++) {
          if (a[i]?.length) c.send(T0 + i, true, a[i]);
          if (b[i]?.length) c.send(T0 + i + 0.5, false, b[i]);
        }
        const records = run(cap.bytes());
        const total = [...a, ...b].reduce((n, x) => n + x.length, 0);
        // Every record covers at least one byte (a message ≥ 16, a fault ≥ 1).
        expect(records.length).toBeLessThanOrEqual(total);
      }),
      { numRuns: 300 },
    );
  });

  it('random TCP streams on an unknown port produce no CA records unless they open like CA', () => {
    fc.assert(
      fc.property(chunks, (a) => {
        const cap = new PcapWriter();
        const c = new TcpConversation(cap, CLIENT, 45000, SERVER, 7000).open(T0);
        a.forEach((x, i) => x.length && c.send(T0 + i, true, x));
        const records = run(cap.bytes());
        const first = a.find((x) => x.length > 0);
        // A random first byte pair is almost never command 0..27: then the flow must stay silent.
        if (first && first.length >= 2 && ((first[0] << 8) | first[1]) > 27) expect(records).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('random UDP datagrams to the server and repeater ports', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(5064, 5065), fc.uint8Array({ maxLength: 200 })), { maxLength: 20 }),
        (dgs) => {
          const cap = new PcapWriter();
          dgs.forEach(([port, p], i) => cap.udp(T0 + i, CLIENT, 40000, SERVER, port, p));
          const records = run(cap.bytes());
          for (const r of records) expect(r.transport.protocol).toBe('udp');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mutated real conversations', () => {
    const base = workedExample().bytes();
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 20 }),
        (mutations) => {
          const bytes = base.slice();
          for (const [i, v] of mutations) bytes[i] = v;
          run(bytes);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('truncated captures', () => {
    const base = workedExample().bytes();
    fc.assert(
      fc.property(fc.nat(base.length), (n) => {
        run(base.subarray(0, n));
      }),
      { numRuns: 200 },
    );
  });
});

describe('fuzz: packet events in any order', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it('never throws on arbitrary sequences of opens, data, gaps, closes and datagrams', async () => {
    const { build } = await import('@ca-shark/protocol');
    const packet = (frame: number, sport: number, dport: number, protocol: 'tcp' | 'udp'): PacketInfo => ({
      frame,
      timestamp: T0 + frame * 0.01,
      caplen: 100,
      origlen: 100,
      interfaceId: 0,
      link: { type: 'raw', linktype: 101, ethertype: 0x800 },
      ip: {
        version: 4,
        hl: 20,
        tos: 0,
        len: 100,
        id: 0,
        flags: 0,
        offset: 0,
        ttl: 64,
        p: protocol === 'tcp' ? 6 : 17,
        sum: 0,
        src: CLIENT,
        dst: SERVER,
      },
      transport:
        protocol === 'tcp'
          ? { protocol, sport, dport, seq: 0, ack: 0, off: 20, flags: 0, win: 0, sum: 0, urp: 0 }
          : { protocol, sport, dport, ulen: 8, sum: 0 },
      src: CLIENT,
      dst: SERVER,
    });
    const valid = [
      build.versionRequest({ version: 13 }),
      build.createChanRequest({ name: 'x', cid: 1 }),
      build.createChanResponse({ data_type: 6, data_count: 1, cid: 1, sid: 2 }),
      build.eventAddRequest({ data_type: 6, sid: 2, subscriptionid: 3 }),
      build.eventAddResponse({ data_type: 6, data: [1], subscriptionid: 3 }),
      build.eventCancelResponse({ data_type: 6, sid: 2, subscriptionid: 3 }),
      build.clearChannelResponse({ sid: 2, cid: 1 }),
      build.searchResponse({ port: 7000, cid: 1 }),
      build.beacon({ server_port: 7001 }),
    ];
    const event = fc.record({
      kind: fc.constantFrom('open', 'data', 'gap', 'close', 'udp'),
      flow: fc.integer({ min: 1, max: 3 }),
      from: fc.constantFrom('a', 'b'),
      port: fc.constantFrom(5064, 5065, 7000, 7001, 40000),
      bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(...valid)),
      opener: fc.constantFrom('a', 'b', undefined),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let seen = 0;
        const d = createDecoder({ onRecord: () => seen++ });
        events.forEach((e, i) => {
          const frame = i + 1;
          const flow: TcpFlow = {
            id: e.flow,
            a: { ip: CLIENT, port: 40000 + e.flow },
            b: { ip: SERVER, port: e.port },
            opener: e.opener as 'a' | 'b' | undefined,
          };
          const p = packet(frame, flow.a.port, flow.b.port, e.kind === 'udp' ? 'udp' : 'tcp');
          if (e.kind === 'open') d.feed({ type: 'tcp-open', packet: p, flow });
          else if (e.kind === 'data')
            d.feed({ type: 'tcp-data', packet: p, flow, from: e.from as 'a' | 'b', data: e.bytes });
          else if (e.kind === 'gap')
            d.feed({ type: 'tcp-gap', packet: p, flow, from: e.from as 'a' | 'b', length: e.bytes.length });
          else if (e.kind === 'close') d.feed({ type: 'tcp-close', packet: p, flow, reason: 'rst' });
          else d.feed({ type: 'udp', packet: p, payload: e.bytes });
        });
        d.end();
        // Never throws; and the counters agree with what was delivered.
        expect(d.state.statistics.records).toBe(seen);
        expect(
          d.state.statistics.messages +
            d.state.statistics.malformed +
            (d.state.statistics.byCommand.RepeaterRegisterRequest ?? 0),
        ).toBeGreaterThanOrEqual(seen);
      }),
      { numRuns: 500 },
    );
  });
});
