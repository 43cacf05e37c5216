/**
 * The packet pipeline: capture bytes (or live frames) in, ordered TCP stream data, UDP datagrams and
 * problems out. One object per capture; everything is synchronous and driven by capture time.
 */
import { dottedQuad } from './format.js';
import { viewOf } from './view.js';
import { FragmentReassembler, type FragmentOptions } from './fragments.js';
import {
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  implausibleLinkHeader,
  isRawLink,
  linkRecord,
  locateNetwork,
  type NetworkLocation,
} from './link.js';
import { unsupportedLinktypeMessage } from './input-errors.js';
import { LINKTYPE, linktypeName } from './linktypes.js';
import {
  CaptureReader,
  type CaptureHandler,
  type CaptureHeader,
  type CaptureInterface,
  type CaptureReaderOptions,
  type RawFrameSink,
} from './reader.js';
import { TcpReassembler, type TcpOptions, type TcpSink, type TcpStats } from './tcp.js';
import type { Ipv4Record, PacketEvent, PacketInfo, TcpFlow, TransportRecord } from './types.js';

const IPV4_MIN_HEADER = 20;
const IP_OFF_VHL = 0;
const IP_OFF_TOTAL_LEN = 2;
const IP_OFF_ID = 4;
const IP_OFF_FRAG = 6;
const IP_OFF_TTL = 8;
const IP_OFF_PROTO = 9;
const IP_OFF_SRC = 12;
const IP_OFF_DST = 16;
const IP_FLAG_MF = 0x2000;
const IP_FRAG_OFFSET_MASK = 0x1fff;
const IP_FRAG_UNIT = 8;
const IP_FLAGS_SHIFT = 13;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

const TCP_MIN_HEADER = 20;
/** An untagged Ethernet header (for {@link samplePacketInfo}). */
const ETHERNET_HEADER = 14;
const TCP_OFF_SPORT = 0;
const TCP_OFF_SEQ = 4;
const TCP_OFF_ACK = 8;
const TCP_OFF_DATA_OFFSET = 12;
const TCP_OFF_FLAGS = 13;
const TCP_OFF_SUM = 16;

const UDP_HEADER = 8;
const UDP_OFF_SPORT = 0;
const UDP_OFF_LEN = 4;

const EMPTY = new Uint8Array(0);

/** Interfaces remembered for "reported once": a file with more is hostile, and stays bounded. */
const MAX_REPORTED_LINKS = 4096;

/** Options of {@link PacketPipeline}. */
export interface PacketPipelineOptions {
  /** Receives every event, in capture order, synchronously. */
  onEvent: (event: PacketEvent) => void;
  /** Called once the capture format is known (not for live frames). */
  onHeader?: (header: CaptureHeader) => void;
  /** Called for each capture interface description. */
  onInterface?: (iface: CaptureInterface) => void;
  reader?: CaptureReaderOptions;
  tcp?: TcpOptions;
  fragments?: FragmentOptions;
  /**
   * Decode TCP and UDP (default true). When false the pipeline stops after IPv4: only counters and
   * problems come out (for throughput measurements and pure statistics).
   */
  transport?: boolean;
  /**
   * Makes the packet records events carry (default {@link makePacketInfo}). shark()'s packet thread
   * ships the inputs instead, and events refer to what this returns.
   */
  packetInfo?: PacketInfoMaker;
  /**
   * Receives every `tcp-data` event instead of `onEvent`, as its fields with its data as the range
   * `bytes[start, end)`, valid during the call only: no event object and no view is made (one each per
   * TCP segment with data, by far the most frequent event; a view costs about 100 ns). The decoder reads
   * the range in place.
   */
  onTcpData?: (
    flow: TcpFlow,
    from: 'a' | 'b',
    packet: PacketInfo,
    bytes: Uint8Array,
    start: number,
    end: number,
  ) => void;
}

/** Counters of a {@link PacketPipeline}. */
export interface PacketStats {
  /** Frames seen (packet records and live frames). */
  frames: number;
  /** Captured bytes of those frames. */
  bytes: number;
  ipv4: number;
  /** IPv6 packets: recognised and skipped (CA is IPv4). */
  ipv6: number;
  /** Frames that carry neither IPv4 nor IPv6 (ARP, LLDP, ...). */
  nonIp: number;
  /** IPv4 packets that are neither TCP nor UDP (ICMP, ...). */
  otherIp: number;
  /** Frames of link types the layer does not decode. */
  unsupportedLink: number;
  udp: number;
  tcp: number;
  /** Frames cut short by the snapshot length (caplen < origlen) where that hid bytes the layers needed. */
  truncated: number;
  /** Frames with a bad header or length. */
  malformed: number;
  /** Problem events emitted (reader, link, IP, fragments). */
  problems: number;
  /** IPv4 fragments received. */
  fragments: number;
  /** Datagrams rebuilt from fragments. */
  reassembled: number;
  /** Gaps reported in TCP streams (same as tcp.gaps). */
  tcpGaps: number;
  /** TCP reassembly counters. */
  tcpStats: TcpStats;
}

/**
 * Turns capture bytes into packet events. Feed a capture with `pushCapture(chunk)` / `end()`, or live frames
 * with `pushFrame(...)`; events arrive synchronously through `options.onEvent`.
 */
export class PacketPipeline {
  private readonly onEvent: (event: PacketEvent) => void;
  private readonly reader: CaptureReader;
  private readonly frags: FragmentReassembler;
  private readonly tcpR: TcpReassembler;
  private readonly decodeTransport: boolean;
  private readonly makeInfo: PacketInfoMaker;
  private readonly counters = {
    frames: 0,
    bytes: 0,
    ipv4: 0,
    ipv6: 0,
    nonIp: 0,
    otherIp: 0,
    unsupportedLink: 0,
    udp: 0,
    tcp: 0,
    truncated: 0,
    malformed: 0,
    problems: 0,
    fragments: 0,
    reassembled: 0,
  };
  private readonly loc: NetworkLocation = { offset: 0, ethertype: 0 };
  private readonly reportedLinks = new Set<string>();
  private captureStarted = false;
  private liveFrames = 0;
  private ended = false;
  private now = 0;

  // The frame being decoded, bytes fBuf[fStart, fEnd); its record is built only when an event needs it.
  private fNo = 0;
  private fSection = 0;
  private fIf = 0;
  private fLinktype = 0;
  private fTs = 0;
  private fCaplen = 0;
  private fOrig = 0;
  private fBuf: Uint8Array = EMPTY;
  private fStart = 0;
  private fEnd = 0;
  private curInfo: PacketInfo | undefined;
  private ipBuf: Uint8Array = new Uint8Array(0);
  private ipOff = 0;
  private ipHl = 0;
  private ipSrc = 0;
  private ipDst = 0;
  private l4Proto = 0;

  constructor(options: PacketPipelineOptions) {
    this.onEvent = options.onEvent;
    this.decodeTransport = options.transport ?? true;
    this.makeInfo = options.packetInfo ?? makePacketInfo;
    const handler: CaptureHandler = {
      // Not called: frames arrive through the raw sink below.
      frame: (f) =>
        this.frame(f.frame, f.section, f.interfaceId, f.linktype, f.timestamp, f.caplen, f.origlen, f.data, 0),
      problem: (p) => {
        this.counters.problems++;
        this.onEvent(p);
      },
      header: (h) => options.onHeader?.(h),
      interface: (i) => options.onInterface?.(i),
    };
    const raw: RawFrameSink = {
      rawFrame: (frame, section, ifid, linktype, ts, caplen, origlen, buf, start) =>
        this.frame(frame, section, ifid, linktype, ts, caplen, origlen, buf, start),
    };
    this.reader = new CaptureReader(handler, options.reader, raw);
    this.frags = new FragmentReassembler(options.fragments ?? {}, (code, message) => this.report(code, message));
    const sink: TcpSink = {
      current: () => this.current(),
      emit: (e) => this.onEvent(e),
      data:
        options.onTcpData ??
        ((flow, from, packet, bytes, start, end) =>
          this.onEvent({
            type: 'tcp-data',
            packet,
            flow,
            from,
            data: new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start),
          })),
    };
    this.tcpR = new TcpReassembler(sink, options.tcp);
  }

  /** The capture header once known (undefined for live frames). */
  get header(): CaptureHeader | undefined {
    return this.reader.header;
  }

  /** A snapshot of the counters. */
  get stats(): PacketStats {
    const tcpStats = { ...this.tcpR.stats };
    return { ...this.counters, tcpGaps: tcpStats.gaps, tcpStats };
  }

  /** Feed the next chunk of a pcap / pcapng capture (an empty chunk marks the input as a capture). */
  pushCapture(chunk: Uint8Array): void {
    this.captureStarted = true;
    this.reader.push(chunk);
  }

  /**
   * Feed one live frame (e.g. from libpcap). Frames are numbered in the order pushed.
   * @param linktype pcap LINKTYPE_ of the interface
   * @param timestamp seconds since the Unix epoch
   * @param bytes the captured bytes
   * @param origlen length on the wire (default: bytes.length)
   */
  pushFrame(linktype: number, timestamp: number, bytes: Uint8Array, origlen: number = bytes.length): void {
    this.frame(++this.liveFrames, -1, 0, linktype, timestamp, bytes.length, origlen, bytes, 0);
  }

  /** End of input: reports a truncated capture, incomplete fragments, and flushes buffered TCP data. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    // Live frames need no capture header; a capture (even an empty one) must have had one.
    if (this.captureStarted) this.reader.end();
    this.frags.flush();
    this.tcpR.flush();
  }

  private frame(
    frame: number,
    section: number,
    ifid: number,
    linktype: number,
    ts: number,
    caplen: number,
    origlen: number,
    buf: Uint8Array,
    start: number,
  ): void {
    const c = this.counters;
    c.frames++;
    c.bytes += caplen;
    if (ts > this.now) this.now = ts;
    this.fNo = frame;
    this.fSection = section;
    this.fIf = ifid;
    this.fLinktype = linktype;
    this.fTs = ts;
    this.fCaplen = caplen;
    this.fOrig = origlen;
    // Stored only when it changes: the frames of a pushed slice share its view, which is young while the
    // pipeline is old, so each store was a write barrier's call (a remembered-set entry).
    if (this.fBuf !== buf) this.fBuf = buf;
    this.fStart = start;
    this.fEnd = start + caplen;
    this.curInfo = undefined;
    this.decode();
    // Timers run on capture time, whatever the frame carried.
    if (this.decodeTransport) this.tcpR.advance(ts);
  }

  private decode(): void {
    const c = this.counters;
    const loc = this.loc;
    const linktype = this.fLinktype;
    if (!locateNetwork(linktype, this.fBuf, this.fStart, this.fEnd, loc)) {
      c.unsupportedLink++;
      const key = `${this.fSection}/${this.fIf}/${linktype}`;
      if (!this.reportedLinks.has(key) && this.reportedLinks.size < MAX_REPORTED_LINKS) {
        this.reportedLinks.add(key);
        this.report(
          'unknown-linktype',
          unsupportedLinktypeMessage(this.fSection < 0 ? 'live capture' : `interface ${this.fIf}`, linktype),
        );
      }
      return;
    }
    if (loc.offset < 0) {
      this.bad('bad-link-header', `frame too short for its ${linktypeName(linktype)} header (${this.fCaplen} bytes)`);
      return;
    }
    if (loc.ethertype === ETHERTYPE_IPV4) this.ipv4(this.fBuf, loc.offset, this.fEnd);
    else if (loc.ethertype === ETHERTYPE_IPV6) c.ipv6++;
    else this.nonIp(linktype);
  }

  /** A frame that is neither IPv4 nor IPv6: counted, or reported where its link header cannot be real. */
  private nonIp(linktype: number): void {
    const why = implausibleLinkHeader(linktype, this.fBuf, this.fStart);
    if (why === null) this.counters.nonIp++;
    else this.bad(isRawLink(linktype) ? 'bad-ip-header' : 'bad-link-header', why);
  }

  private ipv4(buf: Uint8Array, ip: number, frameEnd: number): void {
    const avail = frameEnd - ip;
    const cut = this.fCaplen < this.fOrig;
    if (avail < IPV4_MIN_HEADER) {
      if (cut) this.truncated(`only ${avail} bytes of the IPv4 header were captured`);
      else this.bad('bad-ip-header', `only ${avail} bytes of IPv4 header in the frame`);
      return;
    }
    const vhl = buf[ip + IP_OFF_VHL];
    const hl = (vhl & 0x0f) * 4;
    if (vhl >> 4 !== 4 || hl < IPV4_MIN_HEADER) {
      this.bad('bad-ip-header', `IPv4 version ${vhl >> 4}, header length ${hl}`);
      return;
    }
    if (hl > avail) {
      if (cut) this.truncated(`only ${avail} of the ${hl} bytes of the IPv4 header were captured`);
      else this.bad('bad-ip-header', `IPv4 header length ${hl} exceeds the ${avail} bytes of the frame`);
      return;
    }
    const totalLen = (buf[ip + IP_OFF_TOTAL_LEN] << 8) | buf[ip + IP_OFF_TOTAL_LEN + 1];
    if (totalLen < hl) {
      this.bad('bad-ip-length', `IPv4 total length ${totalLen} is below its header length ${hl}`);
      return;
    }
    this.counters.ipv4++;
    // Trailing Ethernet padding lies beyond the IP total length and is cut off here.
    let end = ip + totalLen;
    let missing = 0;
    if (totalLen > avail) {
      missing = totalLen - avail;
      end = frameEnd;
      if (cut) {
        this.truncated(`IPv4 packet of ${totalLen} bytes: ${missing} bytes cut off by the snapshot length`);
      } else {
        this.bad('bad-ip-length', `IPv4 total length ${totalLen} exceeds the ${avail} bytes of the frame`);
        return;
      }
    }
    const frag = (buf[ip + IP_OFF_FRAG] << 8) | buf[ip + IP_OFF_FRAG + 1];
    // 32-bit fields by one checked load each (see viewOf); the header's 20 bytes are there (checked above).
    const v = viewOf(buf);
    const src = v.getUint32(ip + IP_OFF_SRC);
    const dst = v.getUint32(ip + IP_OFF_DST);
    const proto = buf[ip + IP_OFF_PROTO];
    if ((frag & (IP_FLAG_MF | IP_FRAG_OFFSET_MASK)) !== 0) {
      this.counters.fragments++;
      if (missing > 0) {
        this.report('bad-fragment', 'truncated IPv4 fragment dropped');
        return;
      }
      const whole = this.frags.add(
        buf,
        ip,
        hl,
        end,
        src,
        dst,
        (buf[ip + IP_OFF_ID] << 8) | buf[ip + IP_OFF_ID + 1],
        proto,
        (frag & IP_FRAG_OFFSET_MASK) * IP_FRAG_UNIT,
        (frag & IP_FLAG_MF) !== 0,
        this.now,
      );
      if (whole === undefined) return;
      this.counters.reassembled++;
      buf = whole;
      ip = 0;
      end = whole.length;
    } else if (this.counters.fragments > 0) {
      this.frags.expire(this.now);
    }
    if (this.ipBuf !== buf) this.ipBuf = buf; // as fBuf in frame()
    this.ipOff = ip;
    this.ipHl = hl;
    this.ipSrc = src;
    this.ipDst = dst;
    this.l4Proto = proto;
    if (!this.decodeTransport) return;
    if (proto === IPPROTO_TCP) this.tcp(buf, ip + hl, end, src, dst, missing);
    else if (proto === IPPROTO_UDP) this.udp(buf, ip + hl, end, missing);
    else this.counters.otherIp++;
  }

  private tcp(buf: Uint8Array, l4: number, end: number, src: number, dst: number, missing: number): void {
    const avail = end - l4;
    // A header cut off by the snapshot length was reported as truncated already.
    if (avail < TCP_MIN_HEADER) {
      if (missing === 0) this.bad('bad-tcp-header', `only ${avail} bytes of TCP header`);
      return;
    }
    const off = (buf[l4 + TCP_OFF_DATA_OFFSET] >> 4) * 4;
    if (off < TCP_MIN_HEADER || off > avail) {
      if (missing === 0 || off < TCP_MIN_HEADER)
        this.bad('bad-tcp-header', `TCP data offset ${off} with ${avail} bytes of segment`);
      return;
    }
    this.counters.tcp++;
    // The ports as one word at TCP_OFF_SPORT (source | destination), and the sequence and ACK numbers, by
    // one checked load each (see viewOf).
    const v = viewOf(buf);
    const ports = v.getUint32(l4 + TCP_OFF_SPORT);
    this.tcpR.segment(
      this.fTs,
      src,
      ports >>> 16,
      dst,
      ports & 0xffff,
      v.getUint32(l4 + TCP_OFF_SEQ),
      buf[l4 + TCP_OFF_FLAGS],
      buf,
      l4 + off,
      end,
      missing,
      v.getUint32(l4 + TCP_OFF_ACK),
    );
  }

  private udp(buf: Uint8Array, l4: number, end: number, missing: number): void {
    const avail = end - l4;
    if (avail < UDP_HEADER) {
      if (missing === 0) this.bad('bad-udp-header', `only ${avail} bytes of UDP header`);
      return;
    }
    const ulen = (buf[l4 + UDP_OFF_LEN] << 8) | buf[l4 + UDP_OFF_LEN + 1];
    if (ulen < UDP_HEADER) {
      this.bad('bad-udp-length', `UDP length ${ulen} is below the header size`);
      return;
    }
    if (ulen > avail) {
      // A cut-off datagram was reported as truncated already; a UDP length beyond IP's is malformed.
      if (missing === 0) this.bad('bad-udp-length', `UDP length ${ulen} exceeds the ${avail} bytes IPv4 carries`);
      return;
    }
    this.counters.udp++;
    this.onEvent({
      type: 'udp',
      packet: this.current(),
      payload: new Uint8Array(buf.buffer, buf.byteOffset + l4 + UDP_HEADER, ulen - UDP_HEADER),
    });
  }

  private truncated(message: string): void {
    this.counters.truncated++;
    this.report('truncated', message);
  }

  private bad(code: string, message: string): void {
    this.counters.malformed++;
    this.report(code, message);
  }

  /** Emit a problem about the current frame. */
  private report(code: string, message: string): void {
    this.counters.problems++;
    const frame = this.fNo;
    this.onEvent({
      type: 'problem',
      frame,
      timestamp: frame > 0 ? this.fTs : undefined,
      code,
      message: frame > 0 ? `frame ${frame}: ${message}` : message,
    });
  }

  /** The record of the packet being decoded (built once, on first use). */
  private current(): PacketInfo {
    if (this.curInfo !== undefined) return this.curInfo;
    // this.loc still describes this frame: events come out while it is decoded.
    const info = this.makeInfo(
      this.fNo,
      this.fTs,
      this.fCaplen,
      this.fOrig,
      this.fIf,
      this.fLinktype,
      this.fBuf,
      this.fStart,
      this.fEnd,
      this.loc.ethertype,
      this.ipBuf,
      this.ipOff,
      this.ipHl,
      this.ipSrc,
      this.ipDst,
      this.l4Proto,
    );
    this.curInfo = info;
    return info;
  }
}

/**
 * Makes a packet's {@link PacketInfo} from its frame fields, its link bytes `linkBuf[linkStart, linkEnd)`
 * and the IPv4 packet at `ipBuf[ip]` (header length `hl`, addresses `src`/`dst` as numbers, transport
 * protocol `l4Proto`). {@link PacketPipeline} calls it once per packet that an event needs; shark()'s
 * packet thread replaces it to ship these inputs to the thread that decodes CA, which calls it there.
 * Reads at most {@link LINK_RECORD_MAX_BYTES} link bytes and `hl` + {@link PACKET_INFO_L4_BYTES} IP bytes.
 */
export function makePacketInfo(
  frame: number,
  timestamp: number,
  caplen: number,
  origlen: number,
  interfaceId: number,
  linktype: number,
  linkBuf: Uint8Array,
  linkStart: number,
  linkEnd: number,
  ethertype: number,
  b: Uint8Array,
  ip: number,
  hl: number,
  ipSrc: number,
  ipDst: number,
  l4Proto: number,
): PacketInfo {
  // The header fields by 32-bit big-endian words: one checked load each, where the fields byte by byte were
  // three dozen (see viewOf). The words, at IP_OFF_VHL, IP_OFF_ID and IP_OFF_TTL: version and header
  // length, TOS, total length | ID, flags and fragment offset | TTL, protocol, checksum.
  const v = viewOf(b);
  const w0 = v.getUint32(ip + IP_OFF_VHL);
  const w1 = v.getUint32(ip + IP_OFF_ID);
  const w2 = v.getUint32(ip + IP_OFF_TTL);
  const fragField = w1 & 0xffff;
  const src = dottedQuad(ipSrc);
  const dst = dottedQuad(ipDst);
  const ipRec: Ipv4Record = {
    version: 4,
    hl,
    tos: (w0 >>> 16) & 0xff,
    len: w0 & 0xffff,
    id: w1 >>> 16,
    flags: fragField >> IP_FLAGS_SHIFT,
    offset: (fragField & IP_FRAG_OFFSET_MASK) * IP_FRAG_UNIT,
    ttl: w2 >>> 24,
    p: (w2 >>> 16) & 0xff,
    sum: w2 & 0xffff,
    src,
    dst,
  };
  // A copy (also of a Buffer, whose slice() is a view): the record outlives the frame, whose buffer the
  // caller may refill (shark() does).
  if (hl > IPV4_MIN_HEADER) ipRec.options = new Uint8Array(b.subarray(ip + IPV4_MIN_HEADER, ip + hl));
  const l4 = ip + hl;
  let transport: TransportRecord;
  if (l4Proto === IPPROTO_TCP) {
    // Words at TCP_OFF_SPORT, TCP_OFF_DATA_OFFSET and TCP_OFF_SUM: ports | data offset, flags, window |
    // checksum, urgent pointer (the whole fixed header is there: the pipeline checked it).
    const t0 = v.getUint32(l4 + TCP_OFF_SPORT);
    const t3 = v.getUint32(l4 + TCP_OFF_DATA_OFFSET);
    const t4 = v.getUint32(l4 + TCP_OFF_SUM);
    transport = {
      protocol: 'tcp',
      sport: t0 >>> 16,
      dport: t0 & 0xffff,
      seq: v.getUint32(l4 + TCP_OFF_SEQ),
      ack: v.getUint32(l4 + TCP_OFF_ACK),
      off: (t3 >>> 28) * 4,
      flags: (t3 >>> 16) & 0xff,
      win: t3 & 0xffff,
      sum: t4 >>> 16,
      urp: t4 & 0xffff,
    };
  } else {
    // Words at UDP_OFF_SPORT and UDP_OFF_LEN: ports | length, checksum.
    const u0 = v.getUint32(l4 + UDP_OFF_SPORT);
    const u1 = v.getUint32(l4 + UDP_OFF_LEN);
    transport = {
      protocol: 'udp',
      sport: u0 >>> 16,
      dport: u0 & 0xffff,
      ulen: u1 >>> 16,
      sum: u1 & 0xffff,
    };
  }
  return {
    frame,
    timestamp,
    caplen,
    origlen,
    interfaceId,
    link: linkRecord(linktype, linkBuf, linkStart, linkEnd, ethertype),
    ip: ipRec,
    transport,
    src,
    dst,
  };
}

/**
 * A packet record nobody sees, made as {@link makePacketInfo} makes them (an all-zero IPv4/TCP packet with
 * a fractional timestamp), for the code that runs at load to settle the shapes of the records built on
 * packet records: {@link keepNumberFieldsTagged} here, and the decoder's record emitter. `ethernet` puts an
 * all-zero Ethernet header in front, whose link record is the untagged Ethernet one (and the first kept by
 * the cache of shared link records); without it the frame has no link bytes and its link record no
 * addresses. Each caller keeps the variant it was written with, so that V8 sees the shapes it always saw.
 */
export function samplePacketInfo(ethernet: boolean): PacketInfo {
  const ip = ethernet ? ETHERNET_HEADER : 0;
  const frame = new Uint8Array(ip + IPV4_MIN_HEADER + TCP_MIN_HEADER);
  // The link bytes are the whole frame, as the emitter's sample had them; none without the header.
  const caplen = ethernet ? frame.length : 0;
  return makePacketInfo(
    1,
    SAMPLE_TIMESTAMP,
    caplen,
    caplen,
    0,
    LINKTYPE.ETHERNET,
    frame,
    0,
    caplen,
    ETHERTYPE_IPV4,
    frame,
    ip,
    IPV4_MIN_HEADER,
    0,
    0,
    IPPROTO_TCP,
  );
}
/** Fractional, as most capture timestamps are: the fields that copy it see a double first. */
const SAMPLE_TIMESTAMP = 0.5;

/** The IP bytes past the header that {@link makePacketInfo} reads: a TCP header's fixed part (UDP's is 8). */
export const PACKET_INFO_L4_BYTES = TCP_MIN_HEADER;

/** The signature of {@link makePacketInfo}, for {@link PacketPipelineOptions.packetInfo}. */
export type PacketInfoMaker = typeof makePacketInfo;

/**
 * Keeps the fields of packet records that hold large numbers "tagged": V8 gives an object field one
 * representation for all objects of a shape, and a field whose first values are doubles (a timestamp,
 * a sequence number of 2^31 or more) becomes a double field, which gives every new object a box of its
 * own for the value (16 bytes each). A tagged field holds the number it is given: small integers
 * unboxed, others by reference, so a record that copies a packet's `timestamp` shares its number instead
 * of boxing it again. Run once at load, on records nobody sees (the same as the deframer does for frames).
 */
function keepNumberFieldsTagged(): void {
  const info = samplePacketInfo(false);
  const loose = (o: object): Record<string, unknown> => o as Record<string, unknown>;
  loose(info).timestamp = null;
  loose(info.transport).seq = null;
  loose(info.transport).ack = null;
}
keepNumberFieldsTagged();
