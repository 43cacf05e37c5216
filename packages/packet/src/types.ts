/**
 * Public record types of the packet layer. These are the contract with the CA decoder:
 * change them only together with its users.
 */

/** Link-layer record. `type` names the framing; fields that a framing lacks are absent. */
export interface LinkRecord {
  /** 'ethernet' | 'sll' | 'sll2' | 'null' | 'loop' | 'raw' */
  type: 'ethernet' | 'sll' | 'sll2' | 'null' | 'loop' | 'raw';
  /** pcap LINKTYPE_ number of the interface the packet came from. */
  linktype: number;
  /** Source hardware address as colon hex (Ethernet, SLL, SLL2), or undefined. */
  src?: string;
  /** Destination hardware address as colon hex (Ethernet only). */
  dst?: string;
  /** EtherType / protocol of the payload (0x0800 for IPv4). */
  ethertype: number;
  /** 802.1Q VLAN ids, outermost first (Ethernet only; absent when untagged). */
  vlan?: number[];
  /** SLL/SLL2 packet type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing). */
  packetType?: number;
  /** SLL2 interface index. */
  ifindex?: number;
}

/** IPv4 header, field names as in caproto's shark output (dpkt-like). */
export interface Ipv4Record {
  version: 4;
  /** Header length in bytes (IHL × 4). */
  hl: number;
  tos: number;
  /** Total length from the header. */
  len: number;
  id: number;
  /** Flags (3 bits: reserved, DF, MF). */
  flags: number;
  /** Fragment offset in bytes. */
  offset: number;
  ttl: number;
  /** Protocol number: 6 TCP, 17 UDP. */
  p: number;
  sum: number;
  src: string;
  dst: string;
  /** Raw option bytes when the header is longer than 20 bytes. */
  options?: Uint8Array;
}

export interface UdpRecord {
  protocol: 'udp';
  sport: number;
  dport: number;
  /** UDP length field (header + payload). */
  ulen: number;
  sum: number;
}

export interface TcpRecord {
  protocol: 'tcp';
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  /** Data offset in bytes. */
  off: number;
  /** Flag bits: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, URG 0x20, ECE 0x40, CWR 0x80. */
  flags: number;
  win: number;
  sum: number;
  urp: number;
}

export type TransportRecord = UdpRecord | TcpRecord;

/** One captured frame after link, IP and transport decoding. */
export interface PacketInfo {
  /** 1-based frame number in the capture (all frames count, also ones that were not IPv4). */
  frame: number;
  /** Seconds since the Unix epoch at the capture's precision (µs or ns resolution in a double). */
  timestamp: number;
  /** Bytes captured / bytes on the wire. */
  caplen: number;
  origlen: number;
  /** pcapng interface index (0 for classic pcap and live capture). */
  interfaceId: number;
  link: LinkRecord;
  ip: Ipv4Record;
  transport: TransportRecord;
  /** ip.src / ip.dst as dotted quads. */
  src: string;
  dst: string;
}

/** An endpoint of a flow. */
export interface Endpoint {
  ip: string;
  port: number;
}

/** A TCP connection as the reassembler tracks it. */
export interface TcpFlow {
  /** Stable id, unique within one pipeline, in order of first appearance. */
  id: number;
  /** The two endpoints; `a` is the source of the first packet seen. */
  a: Endpoint;
  b: Endpoint;
  /**
   * Which endpoint opened the connection: 'a' or 'b' when a SYN (or SYN+ACK) was seen,
   * undefined when the capture started mid-connection.
   */
  opener?: 'a' | 'b';
}

/** Why the packet layer could not use (part of) a frame. */
export interface PacketProblem {
  type: 'problem';
  frame: number;
  timestamp?: number;
  /** Short machine-readable code, e.g. 'truncated', 'bad-ip-header', 'unknown-linktype', 'ipv6'. */
  code: string;
  /** Human-readable detail naming what was wrong and where. */
  message: string;
  /**
   * Set (true) when the capture reader reads nothing more of its input after this problem (no capture
   * magic, a format it does not read, a record or block length no capture can have): a program reading a
   * pipe may stop reading there, the rest would be discarded. Absent otherwise.
   */
  endsInput?: true;
}

/** What the packet layer hands to the next stage, in capture order. */
export type PacketEvent =
  | { type: 'udp'; packet: PacketInfo; payload: Uint8Array }
  | {
      type: 'tcp-data';
      packet: PacketInfo;
      flow: TcpFlow;
      /** Which endpoint sent these bytes. */
      from: 'a' | 'b';
      /** The next in-order bytes of that direction's stream (no byte is delivered twice). */
      data: Uint8Array;
    }
  | {
      type: 'tcp-gap';
      packet: PacketInfo;
      flow: TcpFlow;
      from: 'a' | 'b';
      /** Number of stream bytes the capture never saw (may be an estimate when unknown: then -1). */
      length: number;
    }
  | { type: 'tcp-open'; packet: PacketInfo; flow: TcpFlow }
  | { type: 'tcp-close'; packet: PacketInfo; flow: TcpFlow; reason: 'fin' | 'rst' | 'timeout' | 'evicted' }
  | PacketProblem;
