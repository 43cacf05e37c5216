/**
 * Synthetic CA captures for the end-to-end tests and the bench: classic pcap, Ethernet, IPv4, UDP and
 * TCP (with a handshake so the decoder knows the client), CA messages from the protocol encoder.
 */
import { build, concatBytes, DbrType } from '@ca-shark/protocol';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
const PCAP_SNAPLEN = 262144;
const PCAP_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;
/** LINKTYPE_ETHERNET. */
export const LINKTYPE_ETHERNET = 1;

const ETHER_HEADER_LEN = 14;
const ETHERTYPE_IPV4 = 0x0800;
const IPV4_HEADER_LEN = 20;
const IPV4_VERSION_IHL = 0x45;
const IPV4_DONT_FRAGMENT = 0x4000;
const IPV4_TTL = 64;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const UDP_HEADER_LEN = 8;
const TCP_HEADER_LEN = 20;
const TCP_DATA_OFFSET_WORDS = 5;
const TCP_WINDOW = 65535;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** One captured packet. */
export interface Packet {
  /** Unix seconds. */
  t: number;
  data: Uint8Array;
}

/** A classic pcap file (little-endian, microseconds) holding `packets`. */
export function pcapFile(packets: readonly Packet[], linktype = LINKTYPE_ETHERNET): Uint8Array {
  let size = PCAP_HEADER_LEN;
  for (const p of packets) size += PCAP_RECORD_HEADER_LEN + p.data.length;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint32(0, PCAP_MAGIC_US, true);
  v.setUint16(4, PCAP_VERSION_MAJOR, true);
  v.setUint16(6, PCAP_VERSION_MINOR, true);
  v.setUint32(16, PCAP_SNAPLEN, true);
  v.setUint32(20, linktype, true);
  let off = PCAP_HEADER_LEN;
  for (const p of packets) {
    const sec = Math.floor(p.t);
    const usec = Math.round((p.t - sec) * 1e6);
    v.setUint32(off, sec, true);
    v.setUint32(off + 4, usec, true);
    v.setUint32(off + 8, p.data.length, true);
    v.setUint32(off + 12, p.data.length, true);
    out.set(p.data, off + PCAP_RECORD_HEADER_LEN);
    off += PCAP_RECORD_HEADER_LEN + p.data.length;
  }
  return out;
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

let ipId = 1;

function ipv4Frame(src: string, dst: string, protocol: number, transport: Uint8Array): Uint8Array {
  const total = IPV4_HEADER_LEN + transport.length;
  const out = new Uint8Array(ETHER_HEADER_LEN + total);
  const v = new DataView(out.buffer);
  out.set([0x02, 0, 0, 0, 0, 2], 0);
  out.set([0x02, 0, 0, 0, 0, 1], 6);
  v.setUint16(12, ETHERTYPE_IPV4);
  const ip = ETHER_HEADER_LEN;
  out[ip] = IPV4_VERSION_IHL;
  v.setUint16(ip + 2, total);
  v.setUint16(ip + 4, ipId++ & 0xffff);
  v.setUint16(ip + 6, IPV4_DONT_FRAGMENT);
  out[ip + 8] = IPV4_TTL;
  out[ip + 9] = protocol;
  out.set(ipv4Bytes(src), ip + 12);
  out.set(ipv4Bytes(dst), ip + 16);
  let sum = 0;
  for (let i = 0; i < IPV4_HEADER_LEN; i += 2) sum += v.getUint16(ip + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(ip + 10, ~sum & 0xffff);
  out.set(transport, ip + IPV4_HEADER_LEN);
  return out;
}

/** An Ethernet/IPv4/UDP frame. */
export function udpFrame(src: string, sport: number, dst: string, dport: number, payload: Uint8Array): Uint8Array {
  const udp = new Uint8Array(UDP_HEADER_LEN + payload.length);
  const v = new DataView(udp.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  v.setUint16(4, udp.length);
  udp.set(payload, UDP_HEADER_LEN);
  return ipv4Frame(src, dst, IPPROTO_UDP, udp);
}

/** One direction's sequence state of a TCP connection. */
interface TcpSide {
  ip: string;
  port: number;
  seq: number;
}

/** A TCP connection that produces frames with consistent sequence numbers. */
export class TcpConversation {
  private readonly a: TcpSide;
  private readonly b: TcpSide;

  constructor(client: string, clientPort: number, server: string, serverPort: number) {
    this.a = { ip: client, port: clientPort, seq: 1000 };
    this.b = { ip: server, port: serverPort, seq: 5000 };
  }

  /** SYN, SYN-ACK, ACK. */
  handshake(t: number): Packet[] {
    const syn = this.segment(this.a, this.b, TCP_SYN, new Uint8Array(0));
    this.a.seq++;
    const synAck = this.segment(this.b, this.a, TCP_SYN | TCP_ACK, new Uint8Array(0));
    this.b.seq++;
    const ack = this.segment(this.a, this.b, TCP_ACK, new Uint8Array(0));
    return [
      { t, data: syn },
      { t, data: synAck },
      { t, data: ack },
    ];
  }

  /** Data from the client. */
  fromClient(t: number, ...messages: Uint8Array[]): Packet {
    return { t, data: this.data(this.a, this.b, messages) };
  }

  /** Data from the server. */
  fromServer(t: number, ...messages: Uint8Array[]): Packet {
    return { t, data: this.data(this.b, this.a, messages) };
  }

  private data(from: TcpSide, to: TcpSide, messages: Uint8Array[]): Uint8Array {
    let len = 0;
    for (const m of messages) len += m.length;
    const payload = new Uint8Array(len);
    let off = 0;
    for (const m of messages) {
      payload.set(m, off);
      off += m.length;
    }
    const frame = this.segment(from, to, TCP_PSH | TCP_ACK, payload);
    from.seq = (from.seq + payload.length) >>> 0;
    return frame;
  }

  private segment(from: TcpSide, to: TcpSide, flags: number, payload: Uint8Array): Uint8Array {
    const tcp = new Uint8Array(TCP_HEADER_LEN + payload.length);
    const v = new DataView(tcp.buffer);
    v.setUint16(0, from.port);
    v.setUint16(2, to.port);
    v.setUint32(4, from.seq);
    v.setUint32(8, flags & TCP_SYN && !(flags & TCP_ACK) ? 0 : to.seq);
    tcp[12] = TCP_DATA_OFFSET_WORDS << 4;
    tcp[13] = flags;
    v.setUint16(14, TCP_WINDOW);
    tcp.set(payload, TCP_HEADER_LEN);
    return ipv4Frame(from.ip, to.ip, IPPROTO_TCP, tcp);
  }
}

/** Addresses of the synthetic workload. */
export const WORKLOAD = {
  client: '127.0.0.1',
  server: '127.0.0.2',
  clientUdpPort: 40000,
  clientTcpPort: 40001,
  serverTcpPort: 5064,
} as const;

const ECA_NORMAL = 1;
const ECA_GETFAIL = 152;
const ECA_BADMONID = 242;

/**
 * A CA session with about `messages` messages: searches and replies, a circuit with host/user names,
 * channels `wl:0..3` (one creation refused, one failed read, one ERROR), then read notifies and monitor
 * updates (several messages per segment) until the count is reached.
 */
export function workloadCapture(messages: number): { bytes: Uint8Array; messages: number } {
  const { client, server, clientUdpPort, clientTcpPort, serverTcpPort } = WORKLOAD;
  const packets: Packet[] = [];
  let count = 0;
  // Whole microseconds, so that every timestamp is exact in the capture.
  const startUs = 1_700_000_000 * 1e6;
  let step = 0;
  let t = startUs / 1e6;
  const tick = (): number => (t = (startUs + ++step * 100) / 1e6);
  const names = ['wl:0', 'wl:1', 'wl:2', 'wl:missing'];
  names.forEach((name, cid) => {
    packets.push({
      t: tick(),
      data: udpFrame(
        client,
        clientUdpPort,
        server,
        5064,
        concatBytes([build.versionRequest({ sequence: cid }), build.searchRequest({ name, cid })]),
      ),
    });
    count += 2;
    if (name === 'wl:missing') return;
    packets.push({
      t: tick(),
      data: udpFrame(
        server,
        5064,
        client,
        clientUdpPort,
        concatBytes([build.versionResponse({ sequence: cid }), build.searchResponse({ port: serverTcpPort, cid })]),
      ),
    });
    count += 2;
  });
  const c = new TcpConversation(client, clientTcpPort, server, serverTcpPort);
  packets.push(...c.handshake(tick()));
  packets.push(
    c.fromClient(
      tick(),
      build.versionRequest(),
      build.hostNameRequest({ name: 'bench-host' }),
      build.clientNameRequest({ name: 'bench-user' }),
    ),
  );
  packets.push(c.fromServer(tick(), build.versionResponse()));
  count += 4;
  names.forEach((name, cid) => {
    packets.push(c.fromClient(tick(), build.createChanRequest({ name, cid })));
    count++;
    if (name === 'wl:missing') packets.push(c.fromServer(tick(), build.createChFailResponse({ cid })));
    else
      packets.push(
        c.fromServer(
          tick(),
          build.accessRightsResponse({ cid, access_rights: 3 }),
          build.createChanResponse({ data_type: DbrType.DOUBLE, data_count: 1, cid, sid: 100 + cid }),
        ),
      );
    count += name === 'wl:missing' ? 1 : 2;
  });
  packets.push(
    c.fromClient(
      tick(),
      build.eventAddRequest({ data_type: DbrType.TIME_DOUBLE, sid: 100, subscriptionid: 1, mask: 5 }),
    ),
  );
  packets.push(
    c.fromServer(
      tick(),
      build.eventAddResponse({
        data_type: DbrType.TIME_DOUBLE,
        data: [0],
        subscriptionid: 1,
        metadata: { status: 0, severity: 0, timestamp: t },
      }),
    ),
  );
  packets.push(c.fromClient(tick(), build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 101, ioid: 1 })));
  packets.push(
    c.fromServer(
      tick(),
      build.readNotifyResponse({ data_type: DbrType.DOUBLE, data_count: 1, status: ECA_GETFAIL, ioid: 1 }),
    ),
  );
  const badCancel = build.eventCancelRequest({ data_type: DbrType.DOUBLE, sid: 102, subscriptionid: 99 });
  packets.push(c.fromClient(tick(), badCancel));
  packets.push(
    c.fromServer(
      tick(),
      build.errorResponse({
        original_request: badCancel,
        cid: 2,
        status_code: ECA_BADMONID,
        error_message: 'bad monitor id',
      }),
    ),
  );
  count += 6;
  let ioid = 10;
  let value = 0;
  while (count < messages) {
    packets.push(
      c.fromClient(
        tick(),
        build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 101, ioid }),
        build.readNotifyRequest({ data_type: DbrType.DOUBLE, sid: 102, ioid: ioid + 1 }),
      ),
    );
    packets.push(
      c.fromServer(
        tick(),
        build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [value], status: ECA_NORMAL, ioid }),
        build.readNotifyResponse({ data_type: DbrType.DOUBLE, data: [value + 1], status: ECA_NORMAL, ioid: ioid + 1 }),
        build.eventAddResponse({
          data_type: DbrType.TIME_DOUBLE,
          data: [value],
          subscriptionid: 1,
          metadata: { status: 0, severity: 0, timestamp: t },
        }),
      ),
    );
    count += 5;
    ioid += 2;
    value += 0.5;
  }
  return { bytes: pcapFile(packets), messages: count };
}
