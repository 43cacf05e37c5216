/**
 * TCP reassembly: per direction of each connection, bytes are delivered once and in sequence order.
 * Retransmissions and overlaps keep the bytes seen first; out-of-order segments wait (bounded) for the hole
 * before them; a hole that cannot be filled becomes an explicit gap so the consumer can resynchronise.
 * A hole the receiver has acknowledged cannot be filled (the sender will not send those bytes again: the
 * capture missed them, or a filtered export left them out), so it becomes a gap at once, and the bytes
 * after it keep the packet that carried them.
 * All times are capture time (seconds), so replaying a file behaves exactly like the live capture did.
 */
import { dottedQuad } from './format.js';
import type { PacketEvent, PacketInfo, TcpFlow } from './types.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** Limits and timeouts of the TCP reassembler (times in seconds of capture time). */
export interface TcpOptions {
  /** Out-of-order bytes held per direction (default 4 MiB) before the hole is declared a gap. */
  maxBufferPerDirection?: number;
  /** Out-of-order bytes held over all connections (default 64 MiB). */
  maxBufferTotal?: number;
  /** Out-of-order segments held per direction (default 4096). */
  maxSegmentsPerDirection?: number;
  /** How long a hole may stay open before it is reported as a gap (default 10 s). */
  gapTimeout?: number;
  /** A connection without packets for this long is closed with reason 'timeout' (default 600 s). */
  idleTimeout?: number;
  /** How long a closed connection is remembered so that late packets do not reopen it (default 30 s). */
  closedLinger?: number;
  /** Connections tracked at once (default 65536); beyond it the least recently active are evicted. */
  maxFlows?: number;
}

/** Counters of the TCP reassembler. */
export interface TcpStats {
  /** Connections currently tracked (open or lingering after close). */
  flows: number;
  /** Connections ever seen. */
  flowsTotal: number;
  flowsClosed: number;
  flowsTimedOut: number;
  flowsEvicted: number;
  segments: number;
  /** Stream bytes delivered. */
  bytes: number;
  /** Bytes dropped because they had been delivered already (retransmissions, overlaps). */
  duplicateBytes: number;
  /** Segments that arrived ahead of a hole and were buffered. */
  outOfOrderSegments: number;
  /** Out-of-order bytes held right now. */
  bufferedBytes: number;
  gaps: number;
  /** Stream bytes the capture never saw (sum of gap lengths). */
  gapBytes: number;
}

/** Where the reassembler gets packet records and sends events. */
export interface TcpSink {
  /** The record of the packet being processed (built on demand). */
  current(): PacketInfo;
  emit(event: PacketEvent): void;
  /**
   * Stream bytes `bytes[start, end)`: the `tcp-data` event's fields, its data as a range of the bytes that
   * hold it (see PacketPipelineOptions.onTcpData).
   */
  data(flow: TcpFlow, from: 'a' | 'b', packet: PacketInfo, bytes: Uint8Array, start: number, end: number): void;
}

interface Segment {
  seq: number;
  data: Uint8Array;
  /** The packet that carried the bytes, for delivery after a gap. */
  info: PacketInfo;
}

/**
 * How far past the next expected byte an acknowledgement may reach and still be believed: the largest TCP
 * window (2^30 with window scaling). Anything further is not an acknowledgement of this stream.
 */
const MAX_ACK_AHEAD = 1 << 30;

/**
 * A sequence number not known yet. Not 0 on purpose: sequence numbers above 2^30 are not small integers,
 * and a field that starts as one changes representation at the first of them, which deoptimised the
 * compiled reassembly code early in every capture ("wrong map" in checkHoles and deliver).
 */
const SEQ_UNKNOWN = NaN;

class Direction {
  started = false;
  /** A SYN was seen from this side, with sequence number `isn`. */
  syn = false;
  isn = SEQ_UNKNOWN;
  /** Next expected sequence number (mod 2^32). */
  next = SEQ_UNKNOWN;
  /** Buffered out-of-order segments: sorted, non-overlapping, all ahead of `next`. */
  segs: Segment[] = [];
  buffered = 0;
  fin = false;
  finSeq = SEQ_UNKNOWN;
  done = false;
  hole = false;
  /** Capture time (a fractional number, like every timestamp) the current hole opened. */
  holeSince = -Infinity;
  /** The latest acknowledgement number the peer sent for this direction's bytes. */
  peerAck = SEQ_UNKNOWN;
}

class FlowState {
  closed = false;
  readonly dirs: [Direction, Direction] = [new Direction(), new Direction()];
  constructor(
    readonly flow: TcpFlow,
    readonly epA: number,
    readonly lo: number,
    readonly hi: number,
    public lastSeen: number,
    /** Last packet record used in an event of this flow: the packet for events raised by timers. */
    public info: PacketInfo,
  ) {}
}

const SIDES = ['a', 'b'] as const;
/** Slots of the reassembler's cache of recent flows (a power of two). */
const FLOW_CACHE_SLOTS = 64;

/**
 * The cache slot of the flow between endpoint keys `lo` and `hi` (ip × 65536 + port): the low bits of
 * their ports, which differ between the connections of one host pair (ephemeral client ports).
 */
function flowSlot(lo: number, hi: number): number {
  return (lo ^ hi) & (FLOW_CACHE_SLOTS - 1);
}
const PORT_SPAN = 65536;
const SWEEP_INTERVAL = 1;

export class TcpReassembler {
  readonly stats: TcpStats = {
    flows: 0,
    flowsTotal: 0,
    flowsClosed: 0,
    flowsTimedOut: 0,
    flowsEvicted: 0,
    segments: 0,
    bytes: 0,
    duplicateBytes: 0,
    outOfOrderSegments: 0,
    bufferedBytes: 0,
    gaps: 0,
    gapBytes: 0,
  };
  private readonly maxPerDir: number;
  private readonly maxTotal: number;
  private readonly maxSegs: number;
  private readonly gapTimeout: number;
  private readonly idleTimeout: number;
  private readonly closedLinger: number;
  private readonly maxFlows: number;
  /** lower endpoint key → higher endpoint key → connection; endpoint key = ip × 65536 + port. */
  private readonly table = new Map<number, Map<number, FlowState>>();
  private nextId = 1;
  private now = -Infinity;
  private lastSweep = -Infinity;
  /** The flow whose packet is being processed: its events use the current packet record. */
  private active: FlowState | undefined;
  /**
   * Flows of recent segments, by {@link flowSlot} of their endpoint keys (a slot holds the last flow
   * looked up there, still in the table). A capture interleaves the segments of its busy connections, and
   * each table lookup boxes its two endpoint keys (numbers above 2^32) and hashes them: the one-entry cache
   * this replaced (the previous segment's flow) missed on a quarter of the segments of real traffic and
   * on more of the bench's, whose waveform connections run side by side.
   */
  private readonly recent: (FlowState | undefined)[] = new Array<FlowState | undefined>(FLOW_CACHE_SLOTS).fill(
    undefined,
  );

  constructor(
    private readonly sink: TcpSink,
    options: TcpOptions = {},
  ) {
    this.maxPerDir = options.maxBufferPerDirection ?? 4 * 1024 * 1024;
    this.maxTotal = options.maxBufferTotal ?? 64 * 1024 * 1024;
    this.maxSegs = options.maxSegmentsPerDirection ?? 4096;
    this.gapTimeout = options.gapTimeout ?? 10;
    this.idleTimeout = options.idleTimeout ?? 600;
    this.closedLinger = options.closedLinger ?? 30;
    this.maxFlows = options.maxFlows ?? 65536;
  }

  /**
   * One TCP segment. `bytes[start, end)` holds the captured data (a range, not a view of its own: a view
   * per segment cost about 100 ns); `missing` counts payload bytes the IP header
   * announced but the capture cut off (snaplen); `ackNumber` is the acknowledgement number (read when `flags`
   * has {@link TCP_ACK}).
   */
  segment(
    now: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    seq: number,
    flags: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    missing: number,
    ackNumber = 0,
  ): void {
    this.stats.segments++;
    if (now > this.now) this.now = now;
    const epS = src * PORT_SPAN + sport;
    const epD = dst * PORT_SPAN + dport;
    const lo = epS < epD ? epS : epD;
    const hi = epS < epD ? epD : epS;
    const slot = flowSlot(lo, hi);
    const recent = this.recent[slot];
    let fs = recent !== undefined && recent.lo === lo && recent.hi === hi ? recent : this.table.get(lo)?.get(hi);
    const syn = (flags & TCP_SYN) !== 0;
    const ack = (flags & TCP_ACK) !== 0;
    if (fs !== undefined && this.now - fs.lastSeen > (fs.closed ? this.closedLinger : this.idleTimeout)) {
      // Expired before the sweep got to it: this packet belongs to a new connection (or a new mid-stream view).
      if (!fs.closed) this.close(fs, 'timeout');
      this.remove(fs);
      fs = undefined;
    }
    if (fs !== undefined) {
      if (fs.closed) {
        // Late ACKs and retransmissions of a finished connection are dropped; a SYN starts a new one.
        if (!syn) {
          fs.lastSeen = this.now;
          return;
        }
        this.remove(fs);
        fs = undefined;
      } else if (syn && !ack) {
        const d = fs.dirs[epS === fs.epA ? 0 : 1];
        if (d.started && !(d.syn && d.isn === seq)) {
          // A fresh SYN with another initial sequence number: the old connection is gone unseen.
          this.close(fs, 'evicted');
          this.remove(fs);
          fs = undefined;
        }
      }
    }
    let created = false;
    if (fs === undefined) {
      if ((flags & TCP_RST) !== 0) return;
      fs = this.newFlow(src, sport, dst, dport, epS, lo, hi);
      created = true;
    }
    this.recent[slot] = fs;
    this.active = fs;
    try {
      this.process(fs, epS === fs.epA ? 0 : 1, seq, flags, bytes, start, end, missing, created, ackNumber);
    } finally {
      this.active = undefined;
    }
  }

  /**
   * A connection seen for the first time, added to the table. Out of {@link segment}, which runs for every
   * packet: a new flow is rare, and its code made the per-packet function longer (so V8 optimised it later)
   * and its optimised code larger.
   */
  private newFlow(
    src: number,
    sport: number,
    dst: number,
    dport: number,
    epS: number,
    lo: number,
    hi: number,
  ): FlowState {
    if (this.stats.flows >= this.maxFlows) this.evict();
    let inner = this.table.get(lo);
    if (inner === undefined) {
      inner = new Map();
      this.table.set(lo, inner);
    }
    const flow: TcpFlow = {
      id: this.nextId++,
      a: { ip: dottedQuad(src), port: sport },
      b: { ip: dottedQuad(dst), port: dport },
    };
    const fs = new FlowState(flow, epS, lo, hi, this.now, this.sink.current());
    inner.set(hi, fs);
    this.stats.flows++;
    this.stats.flowsTotal++;
    return fs;
  }

  private process(
    fs: FlowState,
    from: 0 | 1,
    seq: number,
    flags: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    missing: number,
    created: boolean,
    ackNumber: number,
  ): void {
    fs.lastSeen = this.now;
    const d = fs.dirs[from];
    if ((flags & TCP_SYN) !== 0) {
      if (fs.flow.opener === undefined) fs.flow.opener = SIDES[(flags & TCP_ACK) !== 0 ? 1 - from : from];
      if (!d.syn) {
        d.syn = true;
        d.isn = seq;
      }
      seq = (seq + 1) >>> 0;
      if (!d.started) {
        d.started = true;
        d.next = seq;
      }
    }
    if (created) this.sink.emit({ type: 'tcp-open', packet: this.info(fs), flow: fs.flow });
    if ((flags & TCP_RST) !== 0) {
      this.close(fs, 'rst');
      return;
    }
    // The acknowledgement first: the peer's bytes it covers come before this segment's own.
    if ((flags & TCP_ACK) !== 0) {
      const peer = fs.dirs[1 - from];
      peer.peerAck = ackNumber;
      if (peer.segs.length > 0) this.flushAcked(fs, from === 0 ? 1 : 0);
    }
    if (end > start || missing > 0) this.data(fs, from, seq, bytes, start, end, missing);
    if ((flags & TCP_FIN) !== 0 && !d.fin) {
      const finSeq = (seq + (end - start) + missing) >>> 0;
      if (!d.started) {
        d.started = true;
        d.next = finSeq;
      }
      d.fin = true;
      d.finSeq = finSeq;
      this.updateHole(d);
    }
    this.checkHoles(fs);
    this.checkDone(fs);
  }

  private data(
    fs: FlowState,
    from: 0 | 1,
    seq: number,
    bytes: Uint8Array,
    start: number,
    end: number,
    missing: number,
  ): void {
    const d = fs.dirs[from];
    if (!d.started) {
      // Capture started mid-connection: the first data seen defines the stream start.
      d.started = true;
      d.next = seq;
    }
    const len = end - start;
    const rel = (seq - d.next) | 0;
    if (rel + len + missing <= 0) {
      this.stats.duplicateBytes += len;
      return;
    }
    if (rel <= 0) {
      if (rel + len > 0) {
        this.stats.duplicateBytes -= rel;
        this.deliver(fs, from, bytes, start - rel, end);
      } else {
        this.stats.duplicateBytes += len;
      }
      if (missing > 0) {
        const skip = (seq + len + missing - d.next) | 0;
        if (skip > 0) this.gap(fs, from, skip);
      }
      this.drain(fs, from);
      return;
    }
    if (len === 0) {
      this.updateHole(d);
      return;
    }
    this.stats.outOfOrderSegments++;
    this.buffer(d, rel, seq, bytes, start, end, this.sink.current());
    this.updateHole(d);
    this.flushAcked(fs, from);
    while (
      d.segs.length > 0 &&
      (d.buffered > this.maxPerDir || d.segs.length > this.maxSegs || this.stats.bufferedBytes > this.maxTotal)
    ) {
      this.flushOne(fs, from);
    }
  }

  /** Insert the parts of a segment not yet buffered (earlier bytes win), copying them. */
  private buffer(
    d: Direction,
    rel: number,
    seq: number,
    bytes: Uint8Array,
    start: number,
    stop: number,
    info: PacketInfo,
  ): void {
    const segs = d.segs;
    const end = rel + (stop - start);
    let s = rel;
    let i = 0;
    while (s < end) {
      while (i < segs.length && ((segs[i].seq - d.next) | 0) + segs[i].data.length <= s) i++;
      const next = i < segs.length ? segs[i] : undefined;
      const nextRel = next === undefined ? end : (next.seq - d.next) | 0;
      if (next !== undefined && nextRel <= s) {
        const skipTo = nextRel + next.data.length;
        this.stats.duplicateBytes += Math.min(skipTo, end) - s;
        s = skipTo;
        continue;
      }
      const e = Math.min(end, nextRel);
      segs.splice(i, 0, { seq: (seq + (s - rel)) >>> 0, data: bytes.slice(start + s - rel, start + e - rel), info });
      d.buffered += e - s;
      this.stats.bufferedBytes += e - s;
      i++;
      s = e;
    }
  }

  /**
   * Deliver buffered segments that the stream has reached. `own`: each with the packet that carried it
   * (after a gap), not the current one (whose bytes filled the hole).
   */
  private drain(fs: FlowState, from: 0 | 1, own = false): void {
    const d = fs.dirs[from];
    let n = 0;
    while (n < d.segs.length) {
      const s = d.segs[n];
      const r = (s.seq - d.next) | 0;
      if (r > 0) break;
      n++;
      d.buffered -= s.data.length;
      this.stats.bufferedBytes -= s.data.length;
      const end = r + s.data.length;
      if (end > 0) {
        this.stats.duplicateBytes -= r;
        this.deliver(fs, from, s.data, -r, s.data.length, own ? s.info : undefined);
      } else {
        this.stats.duplicateBytes += s.data.length;
      }
    }
    if (n > 0) d.segs.splice(0, n);
    this.updateHole(d);
  }

  private updateHole(d: Direction): void {
    const hole = d.segs.length > 0 || (d.fin && d.next !== d.finSeq);
    if (hole && !d.hole) d.holeSince = this.now;
    d.hole = hole;
  }

  /** Declare the first hole of a direction a gap and deliver what follows it. */
  private flushOne(fs: FlowState, from: 0 | 1): void {
    const d = fs.dirs[from];
    if (d.segs.length > 0) {
      const r = (d.segs[0].seq - d.next) | 0;
      if (r > 0) this.gap(fs, from, r, d.segs[0].info);
      this.drain(fs, from, true);
      // A following hole starts now.
      if (d.hole) d.holeSince = this.now;
    } else if (d.fin && d.next !== d.finSeq) {
      const r = (d.finSeq - d.next) | 0;
      if (r > 0) this.gap(fs, from, r);
      else d.next = d.finSeq;
      this.updateHole(d);
    }
  }

  /**
   * Holes before buffered segments that the peer acknowledged: the receiver has those bytes, so no
   * retransmission will bring them; they are gaps now (only the acknowledged part of a hole).
   */
  private flushAcked(fs: FlowState, from: 0 | 1): void {
    const d = fs.dirs[from];
    while (d.segs.length > 0) {
      const acked = (d.peerAck - d.next) | 0;
      if (!(acked > 0 && acked <= MAX_ACK_AHEAD)) return;
      const hole = (d.segs[0].seq - d.next) | 0;
      this.gap(fs, from, Math.min(acked, hole), d.segs[0].info);
      this.drain(fs, from, true);
      if (d.hole) d.holeSince = this.now;
    }
  }

  private flushHoles(fs: FlowState, from: 0 | 1): void {
    const d = fs.dirs[from];
    while (d.hole) this.flushOne(fs, from);
  }

  /**
   * `length` bytes of a direction are lost. `info`: the packet after the hole (a message the gap cuts is
   * told there, in its own direction), when the gap is declared while another packet is processed.
   */
  private gap(fs: FlowState, from: 0 | 1, length: number, info?: PacketInfo): void {
    const d = fs.dirs[from];
    d.next = (d.next + length) >>> 0;
    this.stats.gaps++;
    this.stats.gapBytes += length;
    this.sink.emit({ type: 'tcp-gap', packet: info ?? this.info(fs), flow: fs.flow, from: SIDES[from], length });
  }

  /** Delivers the stream bytes `bytes[start, end)`. */
  private deliver(fs: FlowState, from: 0 | 1, bytes: Uint8Array, start: number, end: number, info?: PacketInfo): void {
    const d = fs.dirs[from];
    const n = end - start;
    d.next = (d.next + n) >>> 0;
    this.stats.bytes += n;
    this.sink.data(fs.flow, SIDES[from], info ?? this.info(fs), bytes, start, end);
  }

  private info(fs: FlowState): PacketInfo {
    if (this.active === fs) fs.info = this.sink.current();
    return fs.info;
  }

  /** Report holes that stayed open longer than the gap timeout. */
  private checkHoles(fs: FlowState): void {
    const [a, b] = fs.dirs;
    if (a.hole && this.now - a.holeSince > this.gapTimeout) this.flushHoles(fs, 0);
    if (b.hole && this.now - b.holeSince > this.gapTimeout) this.flushHoles(fs, 1);
  }

  private checkDone(fs: FlowState): void {
    const [a, b] = fs.dirs;
    if (!a.done && a.fin && !a.hole) a.done = true;
    if (!b.done && b.fin && !b.hole) b.done = true;
    if (a.done && b.done) this.close(fs, 'fin');
  }

  private close(fs: FlowState, reason: 'fin' | 'rst' | 'timeout' | 'evicted'): void {
    if (fs.closed) return;
    this.flushHoles(fs, 0);
    this.flushHoles(fs, 1);
    fs.closed = true;
    this.stats.flowsClosed++;
    if (reason === 'timeout') this.stats.flowsTimedOut++;
    if (reason === 'evicted') this.stats.flowsEvicted++;
    this.sink.emit({ type: 'tcp-close', packet: this.info(fs), flow: fs.flow, reason });
  }

  private remove(fs: FlowState): void {
    const inner = this.table.get(fs.lo);
    if (inner?.get(fs.hi) !== fs) return;
    inner.delete(fs.hi);
    if (inner.size === 0) this.table.delete(fs.lo);
    const slot = flowSlot(fs.lo, fs.hi);
    if (this.recent[slot] === fs) this.recent[slot] = undefined;
    this.stats.flows--;
    for (const d of fs.dirs) {
      this.stats.bufferedBytes -= d.buffered;
      d.buffered = 0;
      d.segs = [];
    }
  }

  /**
   * Let capture time pass: expire idle connections and report holes open too long. Events raised here
   * carry the last packet record of their connection.
   */
  advance(now: number): void {
    if (now > this.now) this.now = now;
    if (this.now - this.lastSweep < SWEEP_INTERVAL) return;
    this.lastSweep = this.now;
    for (const inner of this.table.values()) {
      for (const fs of inner.values()) {
        const idle = this.now - fs.lastSeen;
        if (fs.closed) {
          if (idle > this.closedLinger) this.remove(fs);
        } else if (idle > this.idleTimeout) {
          this.close(fs, 'timeout');
          this.remove(fs);
        } else {
          this.checkHoles(fs);
          this.checkDone(fs);
        }
      }
    }
  }

  /**
   * End of capture: deliver what is still buffered (after explicit gaps). Connections whose both sides sent
   * FIN close; the others stay open.
   */
  flush(): void {
    for (const inner of this.table.values()) {
      for (const fs of inner.values()) {
        if (fs.closed) continue;
        this.flushHoles(fs, 0);
        this.flushHoles(fs, 1);
        this.checkDone(fs);
      }
    }
  }

  /** Evict the least recently active eighth of the connections to make room. */
  private evict(): void {
    const all: FlowState[] = [];
    for (const inner of this.table.values()) for (const fs of inner.values()) all.push(fs);
    all.sort((x, y) => x.lastSeen - y.lastSeen);
    const n = Math.max(1, all.length >> 3);
    for (let i = 0; i < n; i++) {
      const fs = all[i];
      if (!fs.closed) this.close(fs, 'evicted');
      this.remove(fs);
    }
  }
}
