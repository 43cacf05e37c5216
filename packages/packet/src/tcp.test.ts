import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PacketEvent, TcpFlow } from './types.js';
import { ACK, FIN, RST, SYN, concat, ipv4, tcpPacket } from './test-support/build.js';
import { digest, runFrames, streams, type LiveFrame } from './test-support/run.js';

const C = '10.0.0.1';
const S = '10.0.0.2';
const CPORT = 40000;
const SPORT = 5064;
const CISN = 1000;
const SISN = 5000;

/** A raw-IPv4 segment of the test conversation. */
function seg(from: 'c' | 's', seq: number, flags: number, payload?: Uint8Array, ts?: number): LiveFrame {
  const data =
    from === 'c'
      ? tcpPacket(C, S, { sport: CPORT, dport: SPORT, seq, flags, payload })
      : tcpPacket(S, C, { sport: SPORT, dport: CPORT, seq, flags, payload });
  return { linktype: 101, data, ts };
}

/** A segment that acknowledges `ack` of the other direction. */
function acked(from: 'c' | 's', seq: number, ack: number, payload?: Uint8Array): LiveFrame {
  const data =
    from === 'c'
      ? tcpPacket(C, S, { sport: CPORT, dport: SPORT, seq, ack, flags: ACK, payload })
      : tcpPacket(S, C, { sport: SPORT, dport: CPORT, seq, ack, flags: ACK, payload });
  return { linktype: 101, data };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const stream = (n: number, salt: number): Uint8Array =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + salt + (i >> 8)) & 0xff);
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

const handshake = (cisn = CISN, sisn = SISN): LiveFrame[] => [
  seg('c', cisn, SYN),
  seg('s', sisn, SYN | ACK),
  seg('c', cisn + 1, ACK),
];

const closing = (cEnd: number, sEnd: number): LiveFrame[] => [
  seg('c', cEnd, FIN | ACK),
  seg('s', sEnd, FIN | ACK),
  seg('c', cEnd + 1, ACK),
];

function withTimes(frames: LiveFrame[], start = 1000, step = 0.001): LiveFrame[] {
  return frames.map((f, i) => ({ ...f, ts: f.ts ?? start + i * step }));
}

function kinds(events: PacketEvent[]): string[] {
  return events
    .filter((e) => e.type !== 'tcp-data')
    .map((e) =>
      e.type === 'tcp-close' ? `close:${e.reason}` : e.type === 'tcp-gap' ? `gap:${e.from}:${e.length}` : e.type,
    );
}

describe('TCP connections', () => {
  it('tracks open, data both ways, and close by FIN; the SYN sender is the opener', () => {
    const req = stream(40, 1);
    const rep = stream(60, 2);
    const { events, pipeline } = runFrames(
      withTimes([
        ...handshake(),
        seg('c', CISN + 1, ACK | 0x08, req),
        seg('s', SISN + 1, ACK | 0x08, rep),
        ...closing(CISN + 41, SISN + 61),
      ]),
    );
    expect(kinds(events)).toEqual(['tcp-open', 'close:fin']);
    const open = events[0] as Extract<PacketEvent, { type: 'tcp-open' }>;
    expect(open.flow).toEqual({ id: 1, a: { ip: C, port: CPORT }, b: { ip: S, port: SPORT }, opener: 'a' });
    expect(open.packet.transport).toMatchObject({ protocol: 'tcp', sport: CPORT, dport: SPORT, seq: CISN, flags: SYN });
    expect(streams(events)).toEqual(
      new Map([
        ['1a', latin1(req)],
        ['1b', latin1(rep)],
      ]),
    );
    const close = events.at(-1) as Extract<PacketEvent, { type: 'tcp-close' }>;
    expect(close.packet.frame).toBe(7);
    expect(pipeline.stats.tcpStats).toMatchObject({ flows: 1, flowsTotal: 1, flowsClosed: 1, gaps: 0, bytes: 100 });
  });

  it('knows the opener from a SYN+ACK when the SYN was missed', () => {
    const { events } = runFrames(withTimes([seg('s', SISN, SYN | ACK), seg('c', CISN + 1, ACK, stream(5, 0))]));
    const open = events.find((e) => e.type === 'tcp-open') as Extract<PacketEvent, { type: 'tcp-open' }>;
    expect(open.flow.a).toEqual({ ip: S, port: SPORT });
    expect(open.flow.opener).toBe('b');
  });

  it('handles a capture that starts mid-connection: first data sets the stream start, opener unknown', () => {
    const d = stream(30, 3);
    const { events } = runFrames(
      withTimes([seg('s', 777777, ACK, d.subarray(0, 10)), seg('s', 777787, ACK, d.subarray(10)), seg('c', 42, ACK)]),
    );
    const flow = (events[0] as { flow: TcpFlow }).flow;
    expect(flow.opener).toBeUndefined();
    expect(flow.a).toEqual({ ip: S, port: SPORT });
    expect(streams(events)).toEqual(new Map([['1a', latin1(d)]]));
  });

  it('closes on RST, ignores stragglers, and a new SYN opens a new flow with a new id', () => {
    const { events } = runFrames(
      withTimes([
        ...handshake(),
        seg('c', CISN + 1, ACK, stream(4, 0)),
        seg('s', SISN + 1, RST | ACK),
        seg('c', CISN + 5, ACK, stream(4, 9)),
        seg('s', SISN + 1, ACK),
        ...handshake(90000, 91000),
        seg('c', 90001, ACK, stream(3, 1)),
      ]),
    );
    expect(kinds(events)).toEqual(['tcp-open', 'close:rst', 'tcp-open']);
    const ids = events.filter((e) => e.type === 'tcp-open').map((e) => (e as { flow: TcpFlow }).flow.id);
    expect(ids).toEqual([1, 2]);
    expect(streams(events)).toEqual(
      new Map([
        ['1a', latin1(stream(4, 0))],
        ['2a', latin1(stream(3, 1))],
      ]),
    );
  });

  it('a SYN+ACK on a finished connection starts a new one (its SYN was not captured)', () => {
    const { events } = runFrames(
      withTimes([...handshake(), seg('c', CISN + 1, RST), seg('s', 300, SYN | ACK), seg('s', 301, ACK, stream(4, 2))]),
    );
    expect(kinds(events)).toEqual(['tcp-open', 'close:rst', 'tcp-open']);
    expect(streams(events).get('2a')).toBe(latin1(stream(4, 2)));
  });

  it('keeps flow objects and ids stable across packets and numbers flows in order of appearance', () => {
    const other = (seq: number): LiveFrame => ({
      linktype: 101,
      data: tcpPacket('10.0.0.3', S, { sport: 50000, dport: SPORT, seq, payload: stream(2, 0) }),
    });
    const { events } = runFrames(
      withTimes([
        seg('c', 1, ACK, stream(2, 0)),
        other(1),
        seg('s', 1, ACK, stream(2, 0)),
        other(3),
        seg('c', 3, ACK, stream(2, 0)),
      ]),
    );
    const data = events.filter((e) => e.type === 'tcp-data') as Array<{ flow: TcpFlow }>;
    expect(data.map((e) => e.flow.id)).toEqual([1, 2, 1, 2, 1]);
    expect(data[0].flow).toBe(data[2].flow);
    expect(data[0].flow).toBe(data[4].flow);
  });

  it('keeps interleaved connections apart when their ports share the low bits the flow cache indexes by', () => {
    // The reassembler's cache of recent flows is indexed by the low bits of the two ports: client ports 64
    // apart (and the same client port to two server ports 64 apart, or from other hosts) all share a slot.
    const conns = [
      ...[0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => ({ client: C, cport: 40000 + 64 * k, sport: SPORT })),
      { client: C, cport: 40000, sport: SPORT + 64 },
      { client: '10.0.0.3', cport: 40000, sport: SPORT },
      { client: '10.1.0.1', cport: 40000 + 64 * 3, sport: SPORT },
    ];
    const frame = (i: number, fromClient: boolean, seq: number, flags: number, payload?: Uint8Array): LiveFrame => {
      const c = conns[i];
      const data = fromClient
        ? tcpPacket(c.client, S, { sport: c.cport, dport: c.sport, seq, flags, payload })
        : tcpPacket(S, c.client, { sport: c.sport, dport: c.cport, seq, flags, payload });
      return { linktype: 101, data };
    };
    const frames: LiveFrame[] = [];
    const want = new Map<string, string>();
    let id = 0;
    /** One life of every connection: handshake, `rounds` data segments each way in turn, then FIN or not. */
    const lives = (isn: number, rounds: number, fin: boolean): void => {
      for (let i = 0; i < conns.length; i++)
        frames.push(...[frame(i, true, isn, SYN), frame(i, false, isn, SYN | ACK)]);
      for (let r = 0; r < rounds; r++) {
        // Round robin, the server's turn in reverse order: every segment's flow differs from the last one's.
        for (let i = 0; i < conns.length; i++) frames.push(frame(i, true, isn + 1 + 3 * r, ACK, stream(3, 16 * i + r)));
        for (let i = conns.length - 1; i >= 0; i--)
          frames.push(frame(i, false, isn + 1 + 3 * r, ACK, stream(3, 16 * i + r + 100)));
      }
      if (fin)
        for (let i = 0; i < conns.length; i++)
          frames.push(
            ...[frame(i, true, isn + 1 + 3 * rounds, FIN | ACK), frame(i, false, isn + 1 + 3 * rounds, FIN | ACK)],
          );
      for (let i = 0; i < conns.length; i++) {
        id++;
        let a = '';
        let b = '';
        for (let r = 0; r < rounds; r++) {
          a += latin1(stream(3, 16 * i + r));
          b += latin1(stream(3, 16 * i + r + 100));
        }
        want.set(`${id}a`, a);
        want.set(`${id}b`, b);
      }
    };
    lives(1000, 4, true);
    // Closed and opened again on the same ports (a new SYN), then once more with a new initial sequence
    // number on a flow still open (the old connection gone unseen).
    lives(70000, 3, false);
    lives(2 ** 32 - 5, 3, false);
    const { events } = runFrames(withTimes(frames));
    expect(streams(events)).toEqual(want);
    const opens = events.filter((e) => e.type === 'tcp-open') as Array<{ flow: TcpFlow }>;
    expect(opens.map((e) => e.flow.id)).toEqual(Array.from({ length: 3 * conns.length }, (_, i) => i + 1));
    expect(kinds(events).filter((k) => k.startsWith('close'))).toEqual([
      ...Array<string>(conns.length).fill('close:fin'),
      ...Array<string>(conns.length).fill('close:evicted'),
    ]);
  });
});

describe('TCP reassembly', () => {
  const req = stream(300, 5);
  const rep = stream(200, 11);

  /** The conversation with the client stream cut into the given pieces, server reply in two. */
  function conversation(pieces: Array<[number, number]>, order: number[], dups: number[] = []): LiveFrame[] {
    const segs = pieces.map(([a, b]) => seg('c', CISN + 1 + a, ACK, req.subarray(a, b)));
    const cData = order.map((i) => segs[i]);
    for (const d of dups) cData.splice(Math.min(d + 1, cData.length), 0, segs[d]);
    return withTimes([
      ...handshake(),
      ...cData,
      seg('s', SISN + 1, ACK, rep.subarray(0, 77)),
      seg('s', SISN + 1 + 77, ACK, rep.subarray(77)),
      ...closing(CISN + 301, SISN + 201),
    ]);
  }

  const expected = new Map([
    ['1a', latin1(req)],
    ['1b', latin1(rep)],
  ]);

  it('passes onTcpData ranges holding the bytes the tcp-data events would carry, in the same order', () => {
    // Reordered and duplicated segments: bytes held back come out with the packet that completed them.
    const frames = conversation(
      [
        [0, 100],
        [100, 180],
        [180, 300],
      ],
      [2, 0, 1, 1],
    );
    const plain = runFrames(frames).events;
    const viaSink: PacketEvent[] = [];
    const { events } = runFrames(frames, {
      // The range is valid during the call only: copied, as a consumer that keeps bytes does.
      onTcpData: (flow, from, packet, bytes, start, end) =>
        viaSink.push({ type: 'tcp-data', packet, flow, from, data: bytes.slice(start, end) }),
    });
    expect(events.some((e) => e.type === 'tcp-data')).toBe(false);
    const data = plain.filter((e) => e.type === 'tcp-data');
    expect(viaSink.map(digest)).toEqual(data.map(digest));
    expect(events.map(digest)).toEqual(plain.filter((e) => e.type !== 'tcp-data').map(digest));
  });

  it('gives the identical stream for a split at every byte offset, in order, reordered and duplicated', () => {
    for (let k = 1; k < req.length; k++) {
      const pieces: Array<[number, number]> = [
        [0, k],
        [k, req.length],
      ];
      for (const [order, dups] of [
        [[0, 1], []],
        [[1, 0], []],
        [
          [0, 1],
          [0, 1],
        ],
        [[1, 0], [0]],
        [[1, 0, 1, 0], []],
      ] as Array<[number[], number[]]>) {
        const { events } = runFrames(conversation(pieces, order, dups));
        expect(streams(events), `split ${k} order ${order} dups ${dups}`).toEqual(expected);
        expect(kinds(events)).toEqual(['tcp-open', 'close:fin']);
      }
    }
  });

  it('gives the identical stream for overlapping retransmissions at every offset (three pieces)', () => {
    for (let k = 1; k < req.length - 20; k += 3) {
      const pieces: Array<[number, number]> = [
        [0, k + 10],
        [k, k + 20],
        [k + 5, req.length],
      ];
      for (const order of [
        [0, 1, 2],
        [2, 1, 0],
        [1, 2, 0],
        [2, 0, 1],
      ]) {
        const { events } = runFrames(conversation(pieces, order));
        expect(streams(events), `split ${k} order ${order}`).toEqual(expected);
      }
    }
  });

  it('delivers each byte once: stream bytes equal the data sent, duplicates counted', () => {
    const { events, pipeline } = runFrames(
      conversation(
        [
          [0, 100],
          [100, 300],
        ],
        [1, 0, 0, 1],
      ),
    );
    const delivered = events
      .filter((e) => e.type === 'tcp-data')
      .reduce((n, e) => n + (e as { data: Uint8Array }).data.length, 0);
    expect(delivered).toBe(500);
    expect(pipeline.stats.tcpStats.duplicateBytes).toBe(300);
    expect(pipeline.stats.tcpStats.outOfOrderSegments).toBe(1);
  });

  it('keeps the bytes it saw first when a retransmission carries different ones', () => {
    const a = new Uint8Array(10).fill(0x41);
    const b = new Uint8Array(10).fill(0x42);
    const x = new Uint8Array(10).fill(0x58);
    const y = new Uint8Array(10).fill(0x59);
    const z = new Uint8Array(5).fill(0x5a);
    const { events } = runFrames(
      withTimes([
        seg('c', 100, ACK, a), // [0,10) A
        seg('c', 105, ACK, b), // [5,15): only [10,15) is new
        seg('c', 125, ACK, x), // [25,35) buffered
        seg('c', 120, ACK, y), // [20,30): [20,25) new, [25,30) keeps X
        seg('c', 115, ACK, z), // [15,20) fills the hole
      ]),
    );
    expect(streams(events).get('1a')).toBe(
      'A'.repeat(10) + 'B'.repeat(5) + 'Z'.repeat(5) + 'Y'.repeat(5) + 'X'.repeat(10),
    );
  });

  it('handles sequence numbers wrapping around 2^32', () => {
    const isn = 0xffffffff - 50;
    const d = stream(200, 9);
    const frames = withTimes([
      seg('c', isn, SYN),
      seg('c', (isn + 1 + 100) >>> 0, ACK, d.subarray(100, 150)),
      seg('c', (isn + 1 + 40) >>> 0, ACK, d.subarray(40, 100)),
      seg('c', (isn + 1) >>> 0, ACK, d.subarray(0, 45)),
      seg('c', (isn + 1 + 150) >>> 0, ACK, d.subarray(150)),
      seg('c', (isn + 1 + 200) >>> 0, FIN | ACK),
    ]);
    const { events } = runFrames(frames);
    expect(streams(events).get('1a')).toBe(latin1(d));
  });

  it('reports a gap when the out-of-order buffer overflows, then continues after it', () => {
    const d = stream(1000, 1);
    const frames = withTimes([
      seg('c', 0, ACK, d.subarray(0, 100)),
      // [100, 200) is never seen.
      ...Array.from({ length: 8 }, (_, i) => seg('c', 200 + i * 100, ACK, d.subarray(200 + i * 100, 300 + i * 100))),
    ]);
    const { events, pipeline } = runFrames(frames, { tcp: { maxBufferPerDirection: 350 } });
    expect(streams(events).get('1a')).toBe(latin1(d.subarray(0, 100)) + '<gap 100>' + latin1(d.subarray(200)));
    // Told at the first packet after the hole (declared at frame 5), like the data that follows it.
    const gap = events.find((e) => e.type === 'tcp-gap') as Extract<PacketEvent, { type: 'tcp-gap' }>;
    expect(gap.packet.frame).toBe(2);
    expect(gap.from).toBe('a');
    const after = events.find(
      (e): e is Extract<PacketEvent, { type: 'tcp-data' }> => e.type === 'tcp-data' && e.data[0] === d[200],
    );
    expect(after?.packet.frame).toBe(2);
    expect(pipeline.stats).toMatchObject({ tcpGaps: 1 });
    expect(pipeline.stats.tcpStats.bufferedBytes).toBe(0);
  });

  it('bounds the buffer over all connections', () => {
    const frames: LiveFrame[] = [];
    for (let c = 0; c < 4; c++) {
      const src = `10.0.1.${c + 1}`;
      frames.push({
        linktype: 101,
        data: tcpPacket(src, S, { sport: 1000, dport: SPORT, seq: 0, payload: stream(10, c) }),
      });
      frames.push({
        linktype: 101,
        data: tcpPacket(src, S, { sport: 1000, dport: SPORT, seq: 100, payload: stream(200, c) }),
      });
    }
    const { pipeline } = runFrames(withTimes(frames), { tcp: { maxBufferTotal: 500 } });
    const maxBuffered = pipeline.stats.tcpStats.bufferedBytes;
    expect(maxBuffered).toBeLessThanOrEqual(500);
    expect(pipeline.stats.tcpGaps).toBeGreaterThan(0);
  });

  it('reports a hole that stays open past the gap timeout (capture time)', () => {
    const d = stream(300, 1);
    const { events } = runFrames([
      { ...seg('c', 0, ACK, d.subarray(0, 100)), ts: 10 },
      { ...seg('c', 200, ACK, d.subarray(200, 300)), ts: 11 },
      { ...seg('s', 0, ACK), ts: 15 },
      { ...seg('s', 0, ACK), ts: 22 },
    ]);
    expect(streams(events).get('1a')).toBe(latin1(d.subarray(0, 100)) + '<gap 100>' + latin1(d.subarray(200)));
    // Declared at frame 4, told at the first packet after the hole, whose bytes keep their own packet.
    const gap = events.find((e) => e.type === 'tcp-gap') as Extract<PacketEvent, { type: 'tcp-gap' }>;
    expect(gap.packet.frame).toBe(2);
    expect(events.filter((e) => e.type === 'tcp-data').map((e) => e.packet.frame)).toEqual([1, 2]);
  });

  it('a hole before a FIN becomes a gap and the connection then closes', () => {
    const d = stream(300, 1);
    const { events } = runFrames([
      { ...seg('c', 0, ACK, d.subarray(0, 100)), ts: 10 },
      { ...seg('c', 200, FIN | ACK, d.subarray(200, 300)), ts: 10.1 },
      { ...seg('s', 0, FIN | ACK), ts: 10.2 },
      { ...seg('s', 1, ACK), ts: 30 },
    ]);
    expect(streams(events).get('1a')).toBe(latin1(d.subarray(0, 100)) + '<gap 100>' + latin1(d.subarray(200)));
    expect(kinds(events)).toEqual(['tcp-open', 'gap:a:100', 'close:fin']);
  });

  it('turns the part of a segment cut off by the snaplen into a gap', () => {
    const d = stream(300, 1);
    const full = seg('c', 0, ACK, d.subarray(0, 200));
    const cut: LiveFrame = { linktype: 101, data: full.data.subarray(0, 40 + 120), origlen: full.data.length };
    const { events, pipeline } = runFrames(withTimes([cut, seg('c', 200, ACK, d.subarray(200))]));
    expect(streams(events).get('1a')).toBe(latin1(d.subarray(0, 120)) + '<gap 80>' + latin1(d.subarray(200)));
    expect(pipeline.stats.truncated).toBe(1);
  });

  it('delivers what is still buffered at the end of the capture after a gap', () => {
    const d = stream(300, 1);
    const { events } = runFrames(
      withTimes([seg('c', 0, ACK, d.subarray(0, 100)), seg('c', 150, ACK, d.subarray(150))]),
    );
    expect(streams(events).get('1a')).toBe(latin1(d.subarray(0, 100)) + '<gap 50>' + latin1(d.subarray(150)));
  });

  it('turns a hole the receiver acknowledged into a gap at once; the bytes after it keep their packet', () => {
    // What a filtered export looks like (and a capture that dropped packets the receiver got): the server
    // acknowledges bytes the file does not hold, so no retransmission will bring them.
    const d = stream(300, 1);
    const { events } = runFrames(
      withTimes([
        seg('c', 0, ACK, d.subarray(0, 100)),
        seg('c', 200, ACK, d.subarray(200, 300)),
        acked('s', 0, 300, d.subarray(0, 8)),
      ]),
    );
    expect(events.filter((e) => e.type === 'tcp-data' || e.type === 'tcp-gap').map(digest)).toEqual([
      `data 1 #1 a ${hex(d.subarray(0, 100))}`,
      'gap 2 #1 a 100',
      `data 2 #1 a ${hex(d.subarray(200, 300))}`,
      `data 3 #1 b ${hex(d.subarray(0, 8))}`,
    ]);
  });

  it('keeps waiting for a hole the receiver has not acknowledged (a retransmission fills it)', () => {
    const d = stream(300, 1);
    const { events } = runFrames(
      withTimes([
        seg('c', 0, ACK, d.subarray(0, 100)),
        seg('c', 200, ACK, d.subarray(200, 300)),
        acked('s', 0, 100),
        seg('c', 100, ACK, d.subarray(100, 200)),
      ]),
    );
    expect(streams(events).get('1a')).toBe(latin1(d));
    expect(kinds(events)).toEqual(['tcp-open']);
  });

  it('declares only the acknowledged part of a hole lost', () => {
    const d = stream(300, 1);
    const { events } = runFrames(
      withTimes([
        seg('c', 0, ACK, d.subarray(0, 100)),
        seg('c', 200, ACK, d.subarray(200, 300)),
        acked('s', 0, 150),
        seg('c', 150, ACK, d.subarray(150, 200)),
      ]),
    );
    expect(streams(events).get('1a')).toBe(latin1(d.subarray(0, 100)) + '<gap 50>' + latin1(d.subarray(150)));
    // Declared when the acknowledgement came (frame 3), not at the end of the capture.
    expect(events.filter((e) => e.type === 'tcp-gap').map(digest)).toEqual(['gap 2 #1 a 50']);
  });

  it('expires idle connections in capture time', () => {
    const { events, pipeline } = runFrames(
      [
        { ...seg('c', 0, ACK, stream(5, 0)), ts: 100 },
        {
          linktype: 101,
          data: ipv4({ proto: 17, payload: concat([Uint8Array.from([0, 1, 0, 2, 0, 8, 0, 0])]) }),
          ts: 200,
        },
      ],
      { tcp: { idleTimeout: 60 } },
    );
    expect(kinds(events)).toEqual(['tcp-open', 'udp', 'close:timeout']);
    const close = events.find((e) => e.type === 'tcp-close') as Extract<PacketEvent, { type: 'tcp-close' }>;
    expect(close.packet.frame).toBe(1);
    expect(pipeline.stats.tcpStats).toMatchObject({ flows: 0, flowsTimedOut: 1 });
  });

  it('evicts the least recently active connections beyond maxFlows', () => {
    const frames = [1, 2, 3].map((n, i) => ({
      linktype: 101,
      data: tcpPacket(`10.0.2.${n}`, S, { sport: 1000, dport: SPORT, seq: 0, payload: stream(3, n) }),
      ts: 100 + i,
    }));
    const { events, pipeline } = runFrames(frames, { tcp: { maxFlows: 2 } });
    expect(kinds(events)).toEqual(['tcp-open', 'tcp-open', 'close:evicted', 'tcp-open']);
    const evicted = events.find((e) => e.type === 'tcp-close') as Extract<PacketEvent, { type: 'tcp-close' }>;
    expect(evicted.flow.id).toBe(1);
    expect(pipeline.stats.tcpStats).toMatchObject({ flows: 2, flowsEvicted: 1 });
  });

  it('takes a segment of an evicted connection as a new flow, not as a straggler of the evicted one', () => {
    // Ports in different slots of the reassembler's flow cache, so that the evicted flow's slot is not
    // taken over by the flow that evicted it.
    const frame = (n: number, seq: number, ts: number): LiveFrame => ({
      linktype: 101,
      data: tcpPacket(`10.0.2.${n}`, S, { sport: 1000 + n, dport: SPORT, seq, payload: stream(3, n + seq) }),
      ts,
    });
    const { events, pipeline } = runFrames([frame(1, 0, 100), frame(2, 0, 101), frame(3, 0, 102), frame(1, 3, 103)], {
      tcp: { maxFlows: 2 },
    });
    expect(kinds(events)).toEqual(['tcp-open', 'tcp-open', 'close:evicted', 'tcp-open', 'close:evicted', 'tcp-open']);
    const opens = events.filter((e) => e.type === 'tcp-open') as Array<{ flow: TcpFlow }>;
    expect(opens.map((e) => e.flow.id)).toEqual([1, 2, 3, 4]);
    expect(streams(events).get('4a')).toBe(latin1(stream(3, 4)));
    expect(pipeline.stats.tcpStats).toMatchObject({ flows: 2, flowsEvicted: 2 });
  });

  it('a SYN with a new initial sequence number on an open flow starts a new connection', () => {
    const { events } = runFrames(
      withTimes([...handshake(), seg('c', CISN + 1, ACK, stream(5, 0)), seg('c', 777, SYN), seg('s', 8888, SYN | ACK)]),
    );
    expect(kinds(events)).toEqual(['tcp-open', 'close:evicted', 'tcp-open']);
  });

  it('ignores a retransmitted SYN', () => {
    const { events } = runFrames(
      withTimes([
        seg('c', CISN, SYN),
        seg('c', CISN, SYN),
        seg('s', SISN, SYN | ACK),
        seg('c', CISN + 1, ACK, stream(5, 0)),
      ]),
    );
    expect(kinds(events)).toEqual(['tcp-open']);
    expect(streams(events).get('1a')).toBe(latin1(stream(5, 0)));
  });
});

describe('TCP reassembly properties', () => {
  /**
   * Whatever the segmentation, order, duplication and loss: every delivered byte is the byte at that
   * position of the true stream, gaps cover exactly the skipped positions, and without loss there is no gap.
   */
  it('delivers the true stream with explicit gaps for any segmentation, reordering, duplication and loss', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.array(fc.nat(), { maxLength: 3 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (len, cuts, swaps, dupIdx, dropIdx, isn, small) => {
          const truth = stream(len, isn & 0xff);
          const pieces: Array<[number, number]> = [];
          let at = 0;
          for (let i = 0; at < len; i++) {
            const n = cuts[i % cuts.length];
            pieces.push([at, Math.min(len, at + n)]);
            at += n;
          }
          // Overlapping retransmissions of random spans.
          const order = pieces.map((_, i) => i);
          for (let i = 0; i + 1 < swaps.length; i += 2) {
            const a = swaps[i] % order.length;
            const b = swaps[i + 1] % order.length;
            [order[a], order[b]] = [order[b], order[a]];
          }
          const dropped = new Set(dropIdx.map((d) => d % pieces.length));
          const sent: Array<[number, number]> = [];
          for (const i of order) if (!dropped.has(i)) sent.push(pieces[i]);
          for (const d of dupIdx) {
            const p = pieces[d % pieces.length];
            if (!dropped.has(d % pieces.length)) sent.splice(d % (sent.length + 1), 0, [Math.max(0, p[0] - 3), p[1]]);
          }
          const frames = withTimes([
            seg('c', isn, SYN),
            ...sent.map(([a, b]) => seg('c', (isn + 1 + a) >>> 0, ACK, truth.subarray(a, b))),
          ]);
          const { events } = runFrames(frames, { tcp: small ? { maxBufferPerDirection: 64 } : {} });
          let pos = 0;
          let gaps = 0;
          for (const e of events) {
            if (e.type === 'tcp-data') {
              expect(latin1(e.data)).toBe(latin1(truth.subarray(pos, pos + e.data.length)));
              pos += e.data.length;
            } else if (e.type === 'tcp-gap') {
              expect(e.length).toBeGreaterThan(0);
              pos += e.length;
              gaps++;
            } else if (e.type === 'problem') {
              throw new Error(e.message);
            }
          }
          // Data after the last received byte may never arrive; everything up to it is accounted for.
          const lastEnd = Math.max(0, ...sent.map(([, b]) => b));
          expect(pos).toBe(lastEnd);
          if (dropped.size === 0 && !small) expect(gaps).toBe(0);
        },
      ),
      { numRuns: 400, seed: 20261126 },
    );
  });
});
