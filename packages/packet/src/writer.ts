/**
 * Writes classic pcap captures of Ethernet/IPv4 UDP and TCP traffic: for tests, benchmarks and tools that
 * make captures of their own. The IPv4 header checksum is computed; UDP/TCP checksums are left 0 (legal
 * for UDP; capture readers, ours included, do not check TCP's).
 *
 * @example
 * const w = new PcapWriter();
 * w.udp(1_700_000_000, '10.0.0.5', 40000, '10.0.0.255', 5064, datagram);
 * const tcp = new TcpConversation(w, '10.0.0.5', 45000, '10.0.0.9', 5064).open(1_700_000_000.1);
 * tcp.send(1_700_000_000.2, true, request).send(1_700_000_000.3, false, reply).close(1_700_000_001);
 * writeFileSync('made.pcap', w.bytes());
 */
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from './tcp.js';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const ETH_HEADER = 14;
const IP_HEADER = 20;
const UDP_HEADER = 8;
const TCP_HEADER = 20;
const ETHERTYPE_IPV4 = 0x0800;
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/** TCP PSH flag: data segments carry it, as stacks usually set it. */
const TCP_PSH = 0x08;

function ipBytes(ip: string): number[] {
  return ip.split('.').map((x) => Number(x));
}

/** Builds a pcap file in memory, record by record (microsecond timestamps, LINKTYPE_ETHERNET). */
export class PcapWriter {
  private parts: Uint8Array[] = [];
  private ipId = 1;
  /** Frames written (also the frame number of the last one). */
  frames = 0;
  /** Every written frame's link-layer bytes with its time, for live-frame (pushFrame) tests. */
  readonly keepFrames: boolean;
  readonly linkFrames: { ts: number; bytes: Uint8Array }[] = [];

  constructor(options: { keepFrames?: boolean; snaplen?: number } = {}) {
    this.keepFrames = options.keepFrames ?? false;
    const h = new Uint8Array(24);
    const v = new DataView(h.buffer);
    v.setUint32(0, PCAP_MAGIC_US, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, options.snaplen ?? 262144, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.parts.push(h);
  }

  /** Appends one Ethernet frame; `caplen` < frame length simulates a snaplen cut. */
  frame(ts: number, frame: Uint8Array, caplen = frame.length): void {
    const rec = new Uint8Array(16 + caplen);
    const v = new DataView(rec.buffer);
    const sec = Math.floor(ts);
    v.setUint32(0, sec, true);
    v.setUint32(4, Math.round((ts - sec) * 1e6), true);
    v.setUint32(8, caplen, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, caplen), 16);
    this.parts.push(rec);
    this.frames++;
    if (this.keepFrames) this.linkFrames.push({ ts, bytes: frame.subarray(0, caplen) });
  }

  private ipv4(src: string, dst: string, proto: number, l4: Uint8Array): Uint8Array {
    const f = new Uint8Array(ETH_HEADER + IP_HEADER + l4.length);
    f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1], 0);
    f[12] = ETHERTYPE_IPV4 >> 8;
    f[13] = ETHERTYPE_IPV4 & 0xff;
    const ip = f.subarray(ETH_HEADER);
    const v = new DataView(ip.buffer, ip.byteOffset);
    ip[0] = 0x45;
    v.setUint16(2, IP_HEADER + l4.length);
    v.setUint16(4, this.ipId++ & 0xffff);
    v.setUint16(6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    ip.set(ipBytes(src), 12);
    ip.set(ipBytes(dst), 16);
    let sum = 0;
    for (let i = 0; i < IP_HEADER; i += 2) sum += (ip[i] << 8) | ip[i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(10, ~sum & 0xffff);
    ip.set(l4, IP_HEADER);
    return f;
  }

  udp(ts: number, src: string, sport: number, dst: string, dport: number, payload: Uint8Array): void {
    const l4 = new Uint8Array(UDP_HEADER + payload.length);
    const v = new DataView(l4.buffer);
    v.setUint16(0, sport);
    v.setUint16(2, dport);
    v.setUint16(4, UDP_HEADER + payload.length);
    l4.set(payload, UDP_HEADER);
    this.frame(ts, this.ipv4(src, dst, PROTO_UDP, l4));
  }

  tcp(
    ts: number,
    src: string,
    sport: number,
    dst: string,
    dport: number,
    flags: number,
    seq: number,
    ack: number,
    payload: Uint8Array = new Uint8Array(0),
    caplen?: number,
  ): void {
    const l4 = new Uint8Array(TCP_HEADER + payload.length);
    const v = new DataView(l4.buffer);
    v.setUint16(0, sport);
    v.setUint16(2, dport);
    v.setUint32(4, seq >>> 0);
    v.setUint32(8, ack >>> 0);
    l4[12] = (TCP_HEADER / 4) << 4;
    l4[13] = flags;
    v.setUint16(14, 65535);
    l4.set(payload, TCP_HEADER);
    const f = this.ipv4(src, dst, PROTO_TCP, l4);
    this.frame(ts, f, caplen === undefined ? f.length : ETH_HEADER + IP_HEADER + TCP_HEADER + caplen);
  }

  /** Takes the bytes written so far (the writer keeps going), to stream a large capture to a file. */
  drain(): Uint8Array[] {
    const out = this.parts;
    this.parts = [];
    return out;
  }

  /** The whole capture. */
  bytes(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** One TCP connection written to a {@link PcapWriter}, keeping both directions' sequence numbers. */
export class TcpConversation {
  private cseq: number;
  private sseq: number;

  /** `isn` sets the initial sequence numbers (client, server); real stacks pick them anywhere in 32 bits. */
  constructor(
    readonly b: PcapWriter,
    readonly client: string,
    readonly cport: number,
    readonly server: string,
    readonly sport: number,
    isn: readonly [number, number] = [999, 49999],
  ) {
    this.cseq = isn[0] + 1;
    this.sseq = isn[1] + 1;
  }

  /** SYN, SYN+ACK, ACK. */
  open(ts: number): this {
    this.b.tcp(ts, this.client, this.cport, this.server, this.sport, TCP_SYN, this.cseq - 1, 0);
    this.b.tcp(ts, this.server, this.sport, this.client, this.cport, TCP_SYN | TCP_ACK, this.sseq - 1, this.cseq);
    this.b.tcp(ts, this.client, this.cport, this.server, this.sport, TCP_ACK, this.cseq, this.sseq);
    return this;
  }

  /** Data from the client (`fromClient`) or the server, as one segment. */
  send(ts: number, fromClient: boolean, data: Uint8Array, caplen?: number): this {
    if (fromClient) {
      this.b.tcp(
        ts,
        this.client,
        this.cport,
        this.server,
        this.sport,
        TCP_PSH | TCP_ACK,
        this.cseq,
        this.sseq,
        data,
        caplen,
      );
      this.cseq = (this.cseq + data.length) >>> 0;
    } else {
      this.b.tcp(
        ts,
        this.server,
        this.sport,
        this.client,
        this.cport,
        TCP_PSH | TCP_ACK,
        this.sseq,
        this.cseq,
        data,
        caplen,
      );
      this.sseq = (this.sseq + data.length) >>> 0;
    }
    return this;
  }

  /** Skips `n` bytes of one direction's sequence space (a segment the capture lost). */
  lose(fromClient: boolean, n: number): this {
    if (fromClient) this.cseq += n;
    else this.sseq += n;
    return this;
  }

  /** FIN from the client, FIN from the server, last ACK. */
  close(ts: number): this {
    this.b.tcp(ts, this.client, this.cport, this.server, this.sport, TCP_FIN | TCP_ACK, this.cseq, this.sseq);
    this.cseq++;
    this.b.tcp(ts, this.server, this.sport, this.client, this.cport, TCP_FIN | TCP_ACK, this.sseq, this.cseq);
    this.sseq++;
    this.b.tcp(ts, this.client, this.cport, this.server, this.sport, TCP_ACK, this.cseq, this.sseq);
    return this;
  }

  /** RST from the client: the connection ends at once. */
  reset(ts: number): this {
    this.b.tcp(ts, this.client, this.cport, this.server, this.sport, TCP_RST | TCP_ACK, this.cseq, this.sseq);
    return this;
  }
}
