import { describe, expect, it } from 'vitest';
import type { PacketEvent, PacketInfo } from './types.js';
import { bytes, concat, ether, ipv4, nullHdr, sll, sll2, tcp, text, udp, udpFrame } from './test-support/build.js';
import { runFrames } from './test-support/run.js';
import { PacketPipeline } from './pipeline.js';

type Udp = Extract<PacketEvent, { type: 'udp' }>;
const udps = (events: PacketEvent[]): Udp[] => events.filter((e): e is Udp => e.type === 'udp');

const payload = text('CA search payload');
const udpIp = (p: Uint8Array = payload, src = '10.0.0.1', dst = '10.0.0.255'): Uint8Array =>
  ipv4({ src, dst, proto: 17, payload: udp(5065, 5064, p) });

describe('link layers', () => {
  const cases: Array<[string, number, Uint8Array, Partial<PacketInfo['link']>]> = [
    [
      'Ethernet',
      1,
      ether(udpIp()),
      { type: 'ethernet', src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', ethertype: 0x0800 },
    ],
    ['802.1Q', 1, ether(udpIp(), { vlans: [[0x8100, 0x2064]] }), { type: 'ethernet', vlan: [100], ethertype: 0x0800 }],
    [
      '802.1ad QinQ',
      1,
      ether(udpIp(), {
        vlans: [
          [0x88a8, 200],
          [0x8100, 100],
        ],
      }),
      { type: 'ethernet', vlan: [200, 100] },
    ],
    [
      'old QinQ 0x9100',
      1,
      ether(udpIp(), {
        vlans: [
          [0x9100, 7],
          [0x8100, 8],
        ],
      }),
      { type: 'ethernet', vlan: [7, 8] },
    ],
    [
      'Linux SLL',
      113,
      sll(udpIp(), { packetType: 4 }),
      { type: 'sll', packetType: 4, src: '02:00:00:00:00:01', ethertype: 0x0800 },
    ],
    [
      'Linux SLL with a VLAN tag kept',
      113,
      sll(concat([bytes(0, 42, 8, 0), udpIp()]), { protocol: 0x8100 }),
      { type: 'sll', vlan: [42], ethertype: 0x0800 },
    ],
    [
      'Linux SLL2 with a VLAN tag kept',
      276,
      sll2(concat([bytes(0, 43, 8, 0), udpIp()]), { protocol: 0x8100 }),
      { type: 'sll2', vlan: [43] },
    ],
    [
      'Linux SLL2',
      276,
      sll2(udpIp(), { ifindex: 7, packetType: 0 }),
      { type: 'sll2', ifindex: 7, packetType: 0, src: '02:00:00:00:00:01' },
    ],
    ['BSD NULL, little-endian', 0, nullHdr(udpIp(), 2, true), { type: 'null', ethertype: 0x0800 }],
    ['BSD NULL, big-endian', 0, nullHdr(udpIp(), 2, false), { type: 'null', ethertype: 0x0800 }],
    ['LOOP, big-endian', 108, nullHdr(udpIp(), 2, false), { type: 'loop', ethertype: 0x0800 }],
    ['LOOP, little-endian', 108, nullHdr(udpIp(), 2, true), { type: 'loop' }],
    ['RAW (101)', 101, udpIp(), { type: 'raw', linktype: 101 }],
    ['RAW (DLT 12)', 12, udpIp(), { type: 'raw', linktype: 12 }],
    ['RAW (DLT 14)', 14, udpIp(), { type: 'raw', linktype: 14 }],
    ['IPV4 (228)', 228, udpIp(), { type: 'raw', linktype: 228 }],
  ];
  for (const [name, linktype, frame, link] of cases) {
    it(`${name}: delivers the UDP datagram with its link record`, () => {
      const { events, pipeline } = runFrames([{ linktype, data: frame }]);
      const u = udps(events);
      expect(u).toHaveLength(1);
      expect(Buffer.from(u[0].payload).toString()).toBe('CA search payload');
      expect(u[0].packet.link).toMatchObject({ linktype, ...link });
      if (!('vlan' in link)) expect(u[0].packet.link.vlan).toBeUndefined();
      expect(pipeline.stats).toMatchObject({ frames: 1, ipv4: 1, udp: 1, problems: 0 });
    });
  }

  it('gives untagged Ethernet packets between the same hosts one shared link record, per direction', () => {
    const there = ether(udpIp());
    const back = ether(udpIp(payload, '10.0.0.255', '10.0.0.1'), {
      src: '02:00:00:00:00:02',
      dst: '02:00:00:00:00:01',
    });
    const tagged = ether(udpIp(), { vlans: [[0x8100, 0x2064]] });
    const { events } = runFrames(
      [there, back, there, back, tagged, tagged, there].map((data) => ({ linktype: 1, data })),
    );
    const links = udps(events).map((u) => u.packet.link);
    expect(links).toHaveLength(7);
    expect(links[2]).toBe(links[0]);
    expect(links[3]).toBe(links[1]);
    expect(links[6]).toBe(links[0]);
    expect(links[1]).not.toBe(links[0]);
    expect(links[1]).toEqual({ ...links[0], src: links[0].dst, dst: links[0].src });
    // A tagged header's record has its own VLAN list.
    expect(links[5]).not.toBe(links[4]);
    expect(links[5]).toEqual({
      type: 'ethernet',
      linktype: 1,
      ethertype: 0x0800,
      dst: links[0].dst,
      src: links[0].src,
      vlan: [100],
    });
  });

  it('counts IPv6 without reporting it, on every link type', () => {
    const v6 = concat([bytes(0x60, 0, 0, 0, 0, 8, 17, 64), new Uint8Array(32), udp(1, 2, new Uint8Array(0))]);
    const { events, pipeline } = runFrames([
      { linktype: 1, data: ether(v6, { type: 0x86dd }) },
      { linktype: 113, data: sll(v6, { protocol: 0x86dd }) },
      { linktype: 0, data: nullHdr(v6, 24, true) },
      { linktype: 0, data: nullHdr(v6, 30, false) },
      { linktype: 108, data: nullHdr(v6, 10, false) },
      { linktype: 101, data: v6 },
      { linktype: 229, data: v6 },
    ]);
    expect(events).toEqual([]);
    expect(pipeline.stats).toMatchObject({ frames: 7, ipv6: 7, ipv4: 0, nonIp: 0, problems: 0 });
  });

  it('counts non-IP frames (ARP, 802.3 LLC, other address families)', () => {
    const { events, pipeline } = runFrames([
      { linktype: 1, data: ether(new Uint8Array(28), { type: 0x0806 }) },
      { linktype: 1, data: ether(new Uint8Array(40), { type: 40 }) },
      { linktype: 0, data: nullHdr(new Uint8Array(20), 7, true) },
      { linktype: 113, data: sll(new Uint8Array(20), { protocol: 0x0004 }) },
    ]);
    expect(events).toEqual([]);
    expect(pipeline.stats).toMatchObject({ frames: 4, nonIp: 4 });
  });

  it('reports an unknown link type once per interface, naming it, and counts its frames', () => {
    const { problems, pipeline } = runFrames([
      { linktype: 127, data: bytes(1, 2, 3) },
      { linktype: 127, data: bytes(1, 2, 3) },
      { linktype: 1, data: ether(udpIp()) },
      { linktype: 127, data: bytes(1, 2, 3) },
      { linktype: 4242, data: bytes(1) },
    ]);
    expect(problems.map((p) => [p.frame, p.code])).toEqual([
      [1, 'unknown-linktype'],
      [5, 'unknown-linktype'],
    ]);
    expect(problems[0].message).toContain('127 (IEEE802_11_RADIOTAP)');
    expect(problems[1].message).toContain('4242 (LINKTYPE_4242)');
    expect(pipeline.stats).toMatchObject({ unsupportedLink: 4, udp: 1 });
  });

  it('flags frames too short for their link header', () => {
    const { problems } = runFrames([
      { linktype: 1, data: bytes(1, 2, 3) },
      { linktype: 1, data: ether(new Uint8Array(0), { vlans: [[0x8100, 1]] }).subarray(0, 15) },
      { linktype: 113, data: new Uint8Array(10) },
      { linktype: 276, data: new Uint8Array(19) },
      { linktype: 0, data: new Uint8Array(3) },
      { linktype: 101, data: new Uint8Array(0) },
    ]);
    expect(problems.map((p) => [p.frame, p.code])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, 'bad-link-header']));
  });

  // Found by `pnpm fuzz`: a capture whose link type field turned Ethernet (1) into NULL (0) read every
  // frame's destination MAC as an address family, counted the frames as non-IP and lost all their CA
  // messages without a word.
  it('flags NULL/LOOP address families and raw IP versions that no host writes', () => {
    const { events, problems, pipeline } = runFrames([
      { linktype: 0, data: ether(udpIp(), { dst: 'ff:ff:ff:ff:ff:ff' }) },
      { linktype: 0, data: nullHdr(udpIp(), 0, true) },
      { linktype: 108, data: concat([bytes(0xb8, 0x27, 0xeb, 0xda), udpIp()]) },
      { linktype: 0, data: concat([bytes(0, 0, 0x10, 0), udpIp()]) },
      { linktype: 101, data: concat([bytes(0x50), udpIp().subarray(1)]) },
      { linktype: 228, data: bytes(0) },
      // Real non-IP traffic stays counted, not reported: AF_ISO (7) either way round, AF_APPLETALK (16).
      { linktype: 0, data: nullHdr(new Uint8Array(20), 7, true) },
      { linktype: 108, data: nullHdr(new Uint8Array(20), 7, false) },
      { linktype: 0, data: nullHdr(new Uint8Array(20), 16, false) },
    ]);
    expect(events.filter((e) => e.type !== 'problem')).toEqual([]);
    expect(problems.map((p) => [p.frame, p.code])).toEqual([
      [1, 'bad-link-header'],
      [2, 'bad-link-header'],
      [3, 'bad-link-header'],
      [4, 'bad-link-header'],
      [5, 'bad-ip-header'],
      [6, 'bad-ip-header'],
    ]);
    expect(problems[0].message).toBe('frame 1: NULL header names address family 0xffffffff, which no host writes');
    expect(problems[2].message).toBe('frame 3: LOOP header names address family 0xb827ebda, which no host writes');
    expect(problems[4].message).toBe('frame 5: raw IP frame of IP version 5');
    expect(pipeline.stats).toMatchObject({ frames: 9, nonIp: 3, malformed: 6, problems: 6 });
  });
});

describe('IPv4', () => {
  it('fills the packet record: addresses, header fields, transport fields, timestamps', () => {
    const data = ether(
      ipv4({
        src: '192.168.1.10',
        dst: '192.168.1.255',
        proto: 17,
        id: 0x4321,
        ttl: 3,
        flags: 2,
        payload: udp(40000, 5064, payload),
      }),
    );
    const { events } = runFrames([{ linktype: 1, data, ts: 1700000000.5, origlen: data.length }]);
    const p = udps(events)[0].packet;
    expect(p).toMatchObject({
      frame: 1,
      timestamp: 1700000000.5,
      caplen: data.length,
      origlen: data.length,
      interfaceId: 0,
      src: '192.168.1.10',
      dst: '192.168.1.255',
      ip: {
        version: 4,
        hl: 20,
        len: 28 + payload.length,
        id: 0x4321,
        flags: 2,
        offset: 0,
        ttl: 3,
        p: 17,
        sum: 0x1234,
        src: '192.168.1.10',
        dst: '192.168.1.255',
      },
      transport: { protocol: 'udp', sport: 40000, dport: 5064, ulen: 8 + payload.length, sum: 0 },
    });
    expect(p.ip.options).toBeUndefined();
  });

  it('fills every TCP and IPv4 header field of the packet record, high bits included', () => {
    // A 24-byte TCP header (one option word) with the checksum and urgent pointer set, sequence and ACK
    // numbers above 2^31, every flag but RST (which does not open a flow); the IPv4 header with a TOS byte and a DF flag.
    const seg = tcp({ sport: 0xfedc, dport: 5064, seq: 0xfedcba98, ack: 0x89abcdef, flags: 0xfb, win: 0x8001 });
    const header = concat([seg.subarray(0, 12), Uint8Array.of(6 << 4), seg.subarray(13, 16)]);
    const segment = concat([header, Uint8Array.of(0xab, 0xcd, 0x80, 0x07, 1, 1, 1, 1), payload]);
    const packet = ipv4({
      src: '192.168.1.10',
      dst: '10.1.2.3',
      proto: 6,
      id: 0xf00d,
      ttl: 200,
      flags: 2,
      payload: segment,
    });
    packet[1] = 0xb8;
    const data = ether(packet);
    const { events } = runFrames([{ linktype: 1, data, ts: 1700000000.25, origlen: data.length }]);
    const p = events.find((e): e is Extract<PacketEvent, { type: 'tcp-open' }> => e.type === 'tcp-open')?.packet;
    expect(p).toMatchObject({
      ip: {
        version: 4,
        hl: 20,
        tos: 0xb8,
        len: packet.length,
        id: 0xf00d,
        flags: 2,
        offset: 0,
        ttl: 200,
        p: 6,
        sum: 0x1234,
      },
      transport: {
        protocol: 'tcp',
        sport: 0xfedc,
        dport: 5064,
        seq: 0xfedcba98,
        ack: 0x89abcdef,
        off: 24,
        flags: 0xfb,
        win: 0x8001,
        sum: 0xabcd,
        urp: 0x8007,
      },
    });
  });

  it('handles header options', () => {
    const opts = [0x94, 0x04, 0, 0, 1, 1, 1, 0]; // router alert, NOP, NOP, NOP, end
    const { events } = runFrames([
      { linktype: 101, data: ipv4({ proto: 17, options: opts, payload: udp(1, 2, payload) }) },
    ]);
    const u = udps(events)[0];
    expect(u.packet.ip.hl).toBe(28);
    expect(Array.from(u.packet.ip.options ?? [])).toEqual(opts);
    expect(Buffer.from(u.payload).toString()).toBe('CA search payload');
  });

  it('keeps header options in the packet record after the frame buffer is reused', () => {
    const opts = [0x94, 0x04, 0, 0, 1, 1, 1, 0];
    const frame = ipv4({ proto: 17, options: opts, payload: udp(1, 2, payload) });
    const events: PacketEvent[] = [];
    const pipeline = new PacketPipeline({ onEvent: (e) => events.push(e) });
    pipeline.pushFrame(101, 1000, frame);
    // A capture reader's buffer is refilled with later input: the record must not be a view of it.
    frame.fill(0);
    expect(Array.from(udps(events)[0].packet.ip.options ?? [])).toEqual(opts);
  });

  it('cuts trailing Ethernet padding by the IP total length', () => {
    const short = ether(ipv4({ proto: 17, payload: udp(1, 2, bytes(7, 8)) }));
    const padded = concat([short, new Uint8Array(60 - short.length).fill(0xee)]);
    const { events } = runFrames([{ linktype: 1, data: padded }]);
    expect(Array.from(udps(events)[0].payload)).toEqual([7, 8]);
  });

  it('uses the UDP length when it is shorter than the IP payload', () => {
    const { events } = runFrames([
      { linktype: 101, data: ipv4({ proto: 17, payload: udp(1, 2, bytes(1, 2, 3, 4), 10) }) },
    ]);
    expect(Array.from(udps(events)[0].payload)).toEqual([1, 2]);
  });

  it('does not check checksums (offload leaves them wrong on loopback)', () => {
    // The builder writes checksum 0x1234 into every header.
    expect(udps(runFrames([{ linktype: 101, data: udpIp() }]).events)).toHaveLength(1);
  });

  it('flags bad headers and lengths with the frame number', () => {
    const good = udpIp();
    const badVersion = good.slice();
    badVersion[0] = 0x55;
    const badIhl = good.slice();
    badIhl[0] = 0x44;
    const shortTotal = ipv4({ proto: 17, payload: udp(1, 2, payload), totalLength: 12 });
    const longTotal = ipv4({ proto: 17, payload: udp(1, 2, payload), totalLength: 400 });
    const badUdp = ipv4({ proto: 17, payload: udp(1, 2, payload, 4) });
    const longUdp = ipv4({ proto: 17, payload: udp(1, 2, payload, 300) });
    const shortTcp = ipv4({ proto: 6, payload: new Uint8Array(12) });
    const badOff = ipv4({ proto: 6, payload: tcp({ sport: 1, dport: 2, seq: 0 }) });
    badOff[20 + 12] = 0x20;
    const { problems, pipeline, events } = runFrames(
      [good, badVersion, badIhl, shortTotal, longTotal, badUdp, longUdp, shortTcp, badOff, good.subarray(0, 19)].map(
        (data) => ({ linktype: 1, data: ether(data) }),
      ),
    );
    expect(problems.map((p) => [p.frame, p.code])).toEqual([
      [2, 'bad-ip-header'],
      [3, 'bad-ip-header'],
      [4, 'bad-ip-length'],
      [5, 'bad-ip-length'],
      [6, 'bad-udp-length'],
      [7, 'bad-udp-length'],
      [8, 'bad-tcp-header'],
      [9, 'bad-tcp-header'],
      [10, 'bad-ip-header'],
    ]);
    expect(problems[0].message).toMatch(/^frame 2: /);
    expect(udps(events)).toHaveLength(1);
    expect(pipeline.stats.malformed).toBe(9);
  });

  it('reports snaplen-truncated datagrams and counts them', () => {
    const whole = ether(udpIp(new Uint8Array(200)));
    const { problems, pipeline, events } = runFrames([
      { linktype: 1, data: whole.subarray(0, 96), origlen: whole.length },
    ]);
    expect(problems.map((p) => [p.frame, p.code])).toEqual([[1, 'truncated']]);
    expect(udps(events)).toHaveLength(0);
    expect(pipeline.stats).toMatchObject({ truncated: 1, malformed: 0 });
  });

  it('calls headers cut by the snapshot length truncated, once per frame', () => {
    const tcpFrame = ether(
      ipv4({
        proto: 6,
        options: [1, 1, 1, 1],
        payload: tcp({ sport: 1, dport: 2, seq: 0, payload: new Uint8Array(100) }),
      }),
    );
    const frames = [14 + 10, 14 + 22, 14 + 24 + 10, 14 + 20 + 4].map((n, i) => ({
      linktype: 1,
      data: (i === 3 ? ether(udpIp(new Uint8Array(50))) : tcpFrame).subarray(0, n),
      origlen: 200,
    }));
    const { problems, pipeline } = runFrames(frames);
    expect(problems.map((p) => [p.frame, p.code])).toEqual([1, 2, 3, 4].map((n) => [n, 'truncated']));
    expect(pipeline.stats).toMatchObject({ truncated: 4, malformed: 0 });
  });

  it('counts IPv4 protocols other than TCP and UDP', () => {
    const { events, pipeline } = runFrames([{ linktype: 101, data: ipv4({ proto: 1, payload: new Uint8Array(8) }) }]);
    expect(events).toEqual([]);
    expect(pipeline.stats).toMatchObject({ ipv4: 1, otherIp: 1 });
  });
});

describe('IPv4 fragments', () => {
  const big = Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff);
  const datagram = udp(5064, 40000, big);
  const frag = (off: number, end: number, more: boolean, id = 7, data = datagram): Uint8Array =>
    ipv4({ proto: 17, id, flags: more ? 1 : 0, fragOffset: off, payload: data.subarray(off, end) });

  it('reassembles fragments in any order and delivers the datagram once', () => {
    const parts = [frag(0, 1480, true), frag(1480, 2960, true), frag(2960, datagram.length, false)];
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
      [2, 0, 1],
    ]) {
      const { events, pipeline } = runFrames(order.map((i) => ({ linktype: 101, data: parts[i] })));
      const u = udps(events);
      expect(u).toHaveLength(1);
      expect(Buffer.compare(Buffer.from(u[0].payload), Buffer.from(big))).toBe(0);
      expect(u[0].packet.frame).toBe(3);
      expect(u[0].packet.ip).toMatchObject({ len: 20 + datagram.length, offset: 0, flags: 0, id: 7 });
      expect(pipeline.stats).toMatchObject({ fragments: 3, reassembled: 1, problems: 0 });
    }
  });

  it('keeps the first bytes when fragments overlap', () => {
    const other = datagram.slice();
    other.fill(0xff, 1000, 2000);
    const { events } = runFrames([
      { linktype: 101, data: frag(0, 1480, true) },
      { linktype: 101, data: frag(800, 2960, true, 7, other) },
      { linktype: 101, data: frag(2960, datagram.length, false) },
    ]);
    const u = udps(events)[0];
    expect(
      Buffer.from(u.payload)
        .subarray(0, 1472)
        .equals(Buffer.from(big.subarray(0, 1472))),
    ).toBe(true);
    expect(
      Buffer.from(u.payload)
        .subarray(1472, 1992)
        .every((b) => b === 0xff),
    ).toBe(true);
  });

  it('drops incomplete datagrams after the timeout in capture time', () => {
    const { problems, events } = runFrames([
      { linktype: 101, data: frag(0, 1480, true), ts: 100 },
      { linktype: 101, data: udpIp(), ts: 131 },
      { linktype: 101, data: frag(1480, 2960, true), ts: 131.5 },
    ]);
    expect(problems.map((p) => [p.frame, p.code])).toEqual([
      [2, 'fragment-timeout'],
      [3, 'fragment-incomplete'],
    ]);
    expect(udps(events)).toHaveLength(1);
  });

  it('bounds the datagrams in flight', () => {
    const { problems } = runFrames(
      [1, 2, 3].map((id) => ({ linktype: 101, data: frag(0, 1480, true, id) })),
      { fragments: { maxDatagrams: 2 } },
    );
    expect(problems.map((p) => [p.frame, p.code])).toEqual([
      [3, 'fragment-overflow'],
      [3, 'fragment-incomplete'],
      [3, 'fragment-incomplete'],
    ]);
    expect(problems[0].message).toContain('id 1');
  });

  it('bounds the bytes held', () => {
    const { problems } = runFrames(
      [
        { linktype: 101, data: frag(0, 1480, true, 1) },
        { linktype: 101, data: frag(0, 1480, true, 2) },
      ],
      {
        fragments: { maxBytes: 2000 },
      },
    );
    expect(problems.map((p) => p.code)).toEqual(['fragment-overflow', 'fragment-incomplete']);
  });

  it('flags malformed fragments', () => {
    const { problems } = runFrames([{ linktype: 101, data: frag(0, 1001, true) }]);
    expect(problems.map((p) => p.code)).toEqual(['bad-fragment']);
  });
});

describe('UDP', () => {
  it('delivers datagrams whole and in capture order', () => {
    const { events } = runFrames([
      { linktype: 1, data: udpFrame('10.0.0.1', 5065, '10.0.0.255', 5064, text('one')) },
      { linktype: 1, data: udpFrame('10.0.0.2', 5064, '10.0.0.1', 5065, text('two')) },
      { linktype: 1, data: udpFrame('10.0.0.1', 5065, '10.0.0.255', 5064, new Uint8Array(0)) },
    ]);
    expect(udps(events).map((u) => [u.packet.frame, u.packet.src, Buffer.from(u.payload).toString()])).toEqual([
      [1, '10.0.0.1', 'one'],
      [2, '10.0.0.2', 'two'],
      [3, '10.0.0.1', ''],
    ]);
  });

  it('a live pipeline ended without frames reports nothing', () => {
    expect(runFrames([]).events).toEqual([]);
  });

  it('stops after IPv4 when transport decoding is off', () => {
    const { events, pipeline } = runFrames([{ linktype: 101, data: udpIp() }], { transport: false });
    expect(events).toEqual([]);
    expect(pipeline.stats).toMatchObject({ ipv4: 1, udp: 0 });
  });
});

describe('packet records: number fields', () => {
  it('keep timestamps and TCP sequence and acknowledgement numbers exact, whatever their size', () => {
    // The fields are made "tagged" at load (pipeline.ts keepNumberFieldsTagged): values of every kind
    // must come out as they went in, doubles and numbers of 2^31 and more included.
    const numbers = [2 ** 32 - 1, 0, 2 ** 31, 1, 2 ** 31 - 1, 2 ** 31 + 1, 0x9e3779b9, 7];
    const times = [1_700_000_000.123456, -0, 0, 0.1 + 0.2, 2 ** 31, 1e-7, 2 ** 53 - 1, 1_700_000_000.999999];
    const frames = numbers.map((n, i) => ({
      linktype: 101,
      data: ipv4({
        src: '10.0.0.1',
        dst: '10.0.0.2',
        proto: 6,
        payload: tcp({ sport: 40000 + i, dport: 5064, seq: n, ack: numbers[numbers.length - 1 - i], flags: 0x10 }),
      }),
      ts: times[i],
    }));
    const { events } = runFrames(frames);
    const opens = events.filter((e) => e.type === 'tcp-open').map((e) => e.packet);
    expect(opens).toHaveLength(numbers.length);
    opens.forEach((p, i) => {
      expect(Object.is(p.timestamp, times[i]), `timestamp ${i}`).toBe(true);
      expect(p.transport).toMatchObject({ seq: numbers[i], ack: numbers[numbers.length - 1 - i] });
    });
  });
});
