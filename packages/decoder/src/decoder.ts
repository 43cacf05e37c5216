import { PacketPipeline } from '@ca-shark/packet';
import type { PacketEvent, PacketInfo, PacketProblem, PacketStats, TcpFlow } from '@ca-shark/packet';
import {
  Command,
  DbrType,
  Deframer,
  HEADER_SIZE,
  HeaderOffset,
  decodeCommand,
  deframeDatagram,
  guessRole,
  ipv4ToString,
  oneSidedRole,
  readCString,
} from '@ca-shark/protocol';
import type { CaCommand, CaFault, CaFrame, Role, RoleCertainty } from '@ca-shark/protocol';
import { classifyOpening } from './classify.js';
import type { OpeningVerdict } from './classify.js';
import { ADDRESS_FROM_SOURCE, EVENT_ADD_MASK_OFFSET, hex } from './wire.js';
import { resolveOptions } from './options.js';
import type { DecoderOptions, ResolvedOptions } from './options.js';
import type { CaRecord, MalformedCommand, RequestRef } from './record.js';
import { BoundedMap } from './bounded-map.js';
import { ConversationState, capMap, searchIpKey } from './state.js';
import type { ChannelInfo, CircuitInfo, DecoderState, SearchInfo, SubscriptionInfo } from './state.js';

type Side = 'a' | 'b';
const other = (s: Side): Side => (s === 'a' ? 'b' : 'a');

/** UDP VERSIONs carry a flag and a sequence number instead of priority (§3.1). */
const UDP_DECODE = Object.freeze({ udp: true });
/** Bytes of a direction looked at to recognise a CA opening. */
const CLASSIFY_WINDOW = 2048;
/** Servers remembered per search entry. */
const MAX_ANSWERS = 16;
/** Skipped flows listed one by one (all are counted in `statistics.skipped`). */
const MAX_SKIPPED_LISTED = 100;

interface EarlyChunk {
  side: Side;
  packet: PacketInfo;
  data: Uint8Array;
}

/** Per TCP flow: recognition status, early bytes, deframers. */
interface FlowCtx {
  flow: TcpFlow;
  status: 'pending' | 'ca' | 'other';
  early: EarlyChunk[];
  earlyBytes: { a: number; b: number };
  deframerA: Deframer | null;
  deframerB: Deframer | null;
  circuit: CircuitInfo | null;
  /** Latest packet of the flow (the context of messages flushed at its end). */
  lastPacket: PacketInfo | null;
  /** Set while a gap made the start of the stream unknown (classification then uses the sequence test). */
  midStream: boolean;
  /** Set once bytes of this flow were skipped because it was not recognised as CA. */
  skipped: SkippedFlow | null;
}

/**
 * A TCP flow whose payload was not decoded because it was never recognised as Channel Access: its
 * opening did not look like CA and it is on no known server port (`--ports` / `extraServerPorts` name
 * servers on other ports), or the input ended before its first bytes told.
 */
export interface SkippedFlow {
  /** TCP flow id (as `CaRecord.circuit` would be). */
  id: number;
  /** Endpoints "ip:port"; `a` sent the first packet seen. */
  a: string;
  b: string;
  /** The endpoint that opened the connection (SYN seen), when known. */
  opener?: 'a' | 'b';
  /** Frame of the packet that completed the flow's first payload bytes. */
  firstFrame: number;
  /** Payload bytes not decoded (the flow may be recognised later, e.g. when a beacon names its port). */
  bytes: number;
  /** 'not-ca': its first bytes are not a CA opening; 'undecided': it ended before they told. */
  reason: 'not-ca' | 'undecided';
}

/** A buffered message or fault while an undirected circuit is looked ahead. */
type Held = { frame: CaFrame; fault?: undefined } | { frame?: undefined; fault: CaFault };

/** Callbacks of {@link createDecoder}. */
export interface DecoderCallbacks {
  /** Called once per CA message or malformed run, in capture order. */
  onRecord?: (record: CaRecord) => void;
  /** Packet-layer problems (never lost: also counted in `state.statistics.problems`). */
  onProblem?: (problem: PacketProblem) => void;
  /**
   * A CA circuit ended (FIN, RST, idle timeout or eviction): `closedAt` and `closeReason` are set. Called
   * after the circuit's last record; its channels have ended with it.
   */
  onCircuitClose?: (circuit: CircuitInfo) => void;
}

/** Options of {@link createDecoder}: decoder options plus callbacks. */
export interface CreateDecoderOptions extends DecoderOptions, DecoderCallbacks {}

/**
 * The push API: feed packet events (or capture bytes, or live frames) and receive one {@link CaRecord} per
 * CA message through `onRecord`. Owns the conversation state, readable as {@link CaDecoder.state}.
 */
export interface CaDecoder {
  /** Read-only conversation state: circuits, channels, servers, clients, searches, statistics. */
  readonly state: DecoderState;
  /** Record callback; may be replaced at any time. */
  onRecord: (record: CaRecord) => void;
  /** Packet-problem callback; may be replaced at any time. */
  onProblem: (problem: PacketProblem) => void;
  /** Circuit-end callback; may be replaced at any time. */
  onCircuitClose: (circuit: CircuitInfo) => void;
  /** Feeds one event of the packet layer. */
  feed(event: PacketEvent): void;
  /** Feeds pcap or pcapng bytes (any chunking). */
  pushCapture(chunk: Uint8Array): void;
  /** Feeds one live frame (link type, Unix seconds, captured bytes, original length). */
  pushFrame(linktype: number, timestamp: number, bytes: Uint8Array, origlen?: number): void;
  /** Ends the input: flushes the packet layer and the deframers (cut messages come out truncated). */
  end(): void;
  /** Packet-layer counters when capture bytes or frames were pushed (undefined with `feed` only). */
  readonly packetStats: PacketStats | undefined;
  /**
   * TCP flows whose bytes were skipped as not CA, the first 100 in order (all are counted in
   * `state.statistics.skipped`). Undecided flows are added when they close or at {@link CaDecoder.end}.
   */
  readonly skippedFlows: readonly SkippedFlow[];
}

/** Creates a push decoder. */
export function createDecoder(options: CreateDecoderOptions = {}): CaDecoder {
  return new Decoder(options);
}

/** @internal The decoder. Exported for the shark() generator only. */
export class Decoder implements CaDecoder {
  readonly opts: ResolvedOptions;
  private readonly st: ConversationState;
  onRecord: (record: CaRecord) => void;
  onProblem: (problem: PacketProblem) => void;
  onCircuitClose: (circuit: CircuitInfo) => void;
  private readonly flows = new BoundedMap<number, FlowCtx>();
  private pipeline: PacketPipeline | null = null;
  /**
   * Set before the first {@link pushCapture} when pushed bytes are never changed afterwards (shark()'s own
   * file chunks and buffers): see the packet reader's `stableInput`.
   */
  stableCaptureInput = false;
  readonly skippedFlows: SkippedFlow[] = [];

  // Current message context, so the deframer callbacks are allocated once.
  private curCtx: FlowCtx | null = null;
  private curSide: Side = 'a';
  private curPacket: PacketInfo | null = null;
  private held: Held[] | null = null;
  private udpRole: Role | null = null;
  /** Sequence number of the current search datagram (its leading VERSION), null when it has none. */
  private udpSequence: number | null = null;
  private udpCertainty: RoleCertainty = 'guess';
  /** "ip:port" of the current datagram's ends, built once per datagram rather than per message. */
  private udpSrc = '';
  private udpDst = '';

  private readonly onTcpFrameCb = (frame: CaFrame): void => {
    if (this.held) this.held.push({ frame: copyFrame(frame) });
    else this.tcpFrame(this.curCtx as FlowCtx, this.curSide, this.curPacket as PacketInfo, frame);
  };
  private readonly onTcpFaultCb = (fault: CaFault): void => {
    if (this.held) this.held.push({ fault });
    else this.tcpFault(this.curCtx as FlowCtx, this.curSide, this.curPacket as PacketInfo, fault);
  };
  private readonly onUdpFrameCb = (frame: CaFrame): void => this.udpFrame(this.curPacket as PacketInfo, frame);
  private readonly onUdpFaultCb = (fault: CaFault): void => {
    const p = this.curPacket as PacketInfo;
    const client = this.udpRole === 'request' ? this.udpSrc : this.udpRole === 'response' ? this.udpDst : undefined;
    const server = this.udpRole === 'request' ? this.udpDst : this.udpRole === 'response' ? this.udpSrc : undefined;
    this.malformed(p, fault, this.udpRole, this.udpCertainty, undefined, server, client);
  };

  constructor(options: CreateDecoderOptions = {}) {
    this.opts = resolveOptions(options);
    this.st = new ConversationState(this.opts.limits);
    this.onRecord = options.onRecord ?? (() => {});
    this.onProblem = options.onProblem ?? (() => {});
    this.onCircuitClose = options.onCircuitClose ?? (() => {});
  }

  get state(): DecoderState {
    return this.st;
  }

  get packetStats(): PacketStats | undefined {
    return this.pipeline?.stats;
  }

  // ----------------------------------------------------------------------------------------------
  // Inputs

  pushCapture(chunk: Uint8Array): void {
    this.ensurePipeline().pushCapture(chunk);
  }

  pushFrame(linktype: number, timestamp: number, bytes: Uint8Array, origlen = bytes.length): void {
    this.ensurePipeline().pushFrame(linktype, timestamp, bytes, origlen);
  }

  end(): void {
    this.pipeline?.end();
    // End of input: what the deframers still hold is a cut message or a pending fault.
    for (const ctx of this.flows.values()) {
      this.flushFlow(ctx);
      this.skipUndecided(ctx);
    }
  }

  private flushFlow(ctx: FlowCtx): void {
    if (ctx.status !== 'ca') return;
    const packet = ctx.lastPacket;
    if (!packet) return;
    for (const side of ['a', 'b'] as const) {
      const d = side === 'a' ? ctx.deframerA : ctx.deframerB;
      if (d) this.deframe(ctx, side, packet, d, null);
    }
  }

  private ensurePipeline(): PacketPipeline {
    if (!this.pipeline) this.pipeline = makePipeline((ev) => this.feed(ev), this.stableCaptureInput);
    return this.pipeline;
  }

  feed(ev: PacketEvent): void {
    switch (ev.type) {
      case 'udp':
        this.udp(ev.packet, ev.payload);
        break;
      case 'tcp-data':
        this.tcpData(ev.flow, ev.from, ev.packet, ev.data);
        break;
      case 'tcp-open':
        this.flowCtx(ev.flow, ev.packet);
        break;
      case 'tcp-gap':
        this.tcpGap(ev.flow, ev.from, ev.packet, ev.length);
        break;
      case 'tcp-close':
        this.tcpClose(ev.flow, ev.packet, ev.reason);
        break;
      case 'problem':
        this.problem(ev);
        break;
    }
  }

  // ----------------------------------------------------------------------------------------------
  // TCP: which flows are CA

  private isKnownServer(ip: string, port: number): boolean {
    if (this.opts.serverPorts.has(port)) return true;
    const s = this.st.servers.get(`${ip}:${port}`);
    return s !== undefined;
  }

  private flowCtx(flow: TcpFlow, packet: PacketInfo): FlowCtx {
    let ctx = this.flows.get(flow.id);
    if (ctx) {
      ctx.flow = flow;
      return ctx;
    }
    ctx = {
      flow,
      status: 'pending',
      early: [],
      earlyBytes: { a: 0, b: 0 },
      deframerA: null,
      deframerB: null,
      circuit: null,
      lastPacket: packet,
      midStream: flow.opener === undefined,
      skipped: null,
    };
    this.flows.set(flow.id, ctx);
    this.st.statistics.evicted.flows += capMap(this.flows, this.opts.limits.maxFlows, (old) => {
      this.skipUndecided(old);
      this.endFlow(old, packet, 'evicted');
    });
    const aServer = this.isKnownServer(flow.a.ip, flow.a.port);
    const bServer = this.isKnownServer(flow.b.ip, flow.b.port);
    if (aServer || bServer) {
      const portSide: Side | null = aServer && !bServer ? 'b' : bServer && !aServer ? 'a' : null;
      const configured = this.opts.serverPorts.has(flow.a.port) || this.opts.serverPorts.has(flow.b.port);
      const by = configured ? 'port' : 'learned-port';
      this.becomeCa(ctx, packet, by, flow.opener ?? portSide, flow.opener || portSide ? 'certain' : 'guess');
    }
    return ctx;
  }

  private becomeCa(
    ctx: FlowCtx,
    packet: PacketInfo,
    recognisedBy: CircuitInfo['recognisedBy'],
    clientSide: Side | null,
    certainty: RoleCertainty,
  ): void {
    const wasOther = ctx.status === 'other';
    ctx.status = 'ca';
    this.st.statistics.tcpFlowsCa++;
    if (wasOther) this.st.statistics.tcpFlowsOther--;
    const { flow } = ctx;
    const circuit: CircuitInfo = {
      id: flow.id,
      a: `${flow.a.ip}:${flow.a.port}`,
      b: `${flow.b.ip}:${flow.b.port}`,
      client: null,
      server: null,
      clientSide: null,
      roleCertainty: 'guess',
      recognisedBy,
      clientMinor: null,
      serverMinor: null,
      priority: null,
      hostName: null,
      userName: null,
      openedAt: packet.timestamp,
      lastSeen: packet.timestamp,
      closedAt: null,
      closeReason: null,
      messages: 0,
      bytes: 0,
      malformed: 0,
      channelsByCid: new Map(),
      channelsBySid: new Map(),
      pendingCreates: new Map(),
      pendingIo: new Map(),
      subscriptions: new Map(),
      pendingClears: new Map(),
      pendingEcho: null,
    };
    ctx.circuit = circuit;
    this.st.circuits.set(circuit.id, circuit);
    this.st.statistics.evicted.circuits += capMap(this.st.circuits, this.opts.limits.maxCircuits, (c) =>
      this.st.dropCircuit(c),
    );
    if (clientSide) this.setClientSide(circuit, clientSide, certainty, packet.timestamp);
    const max = this.opts.maxMessageSize;
    ctx.deframerA = new Deframer({ maxPayloadSize: max });
    ctx.deframerB = new Deframer({ maxPayloadSize: max });
    if (wasOther || ctx.midStream) {
      // The start of the stream is not ours: make the deframers look for a plausible header first.
      ctx.deframerA.gap();
      ctx.deframerB.gap();
    }
    if (circuit.clientSide !== null && circuit.roleCertainty === 'certain') {
      // Roles from the TCP handshake: each deframer can refuse payloads its direction never carries. Not
      // for inferred roles: a wrong guess would turn good messages into faults.
      ctx.deframerA.direction = circuit.clientSide === 'a' ? 'to-server' : 'to-client';
      ctx.deframerB.direction = circuit.clientSide === 'a' ? 'to-client' : 'to-server';
    }
    const early = ctx.early;
    ctx.early = [];
    for (const c of early) this.caData(ctx, c.side, c.packet, c.data);
  }

  private setClientSide(c: CircuitInfo, side: Side, certainty: RoleCertainty, now: number): void {
    c.clientSide = side;
    c.roleCertainty = certainty;
    c.client = side === 'a' ? c.a : c.b;
    c.server = side === 'a' ? c.b : c.a;
    for (const ch of c.channelsByCid.values()) {
      ch.client = c.client;
      ch.server = c.server;
    }
    for (const ch of c.channelsBySid.values()) {
      ch.client = c.client;
      ch.server = c.server;
    }
    const colon = c.server.lastIndexOf(':');
    const srv = this.st.server(c.server.slice(0, colon), Number(c.server.slice(colon + 1)), now);
    srv.learnedFrom.circuit = true;
    srv.circuits++;
  }

  private tcpData(flow: TcpFlow, from: Side, packet: PacketInfo, data: Uint8Array): void {
    const ctx = this.flowCtx(flow, packet);
    if (ctx.status === 'ca') {
      this.caData(ctx, from, packet, data);
      return;
    }
    if (ctx.status === 'other') {
      this.skipBytes(ctx, data.length);
      return;
    }
    // Not decided: keep a copy (bounded) and look at this direction's first bytes.
    ctx.early.push({ side: from, packet, data: data.slice() });
    ctx.earlyBytes[from] += data.length;
    const verdict = classifyOpening(firstBytes(ctx.early, from, CLASSIFY_WINDOW), ctx.midStream);
    this.applyVerdict(ctx, from, packet, verdict);
  }

  private applyVerdict(ctx: FlowCtx, from: Side, packet: PacketInfo, verdict: OpeningVerdict): void {
    if (verdict.kind === 'ca') {
      const opener = ctx.flow.opener;
      if (opener) this.becomeCa(ctx, packet, 'opening', opener, 'certain');
      else if (verdict.side)
        this.becomeCa(ctx, packet, 'opening', verdict.side === 'client' ? from : other(from), 'inferred');
      else this.becomeCa(ctx, packet, 'opening', null, 'guess');
    } else if (verdict.kind === 'no' || ctx.earlyBytes[from] > this.opts.limits.earlyBytes) {
      ctx.status = 'other';
      this.st.statistics.tcpFlowsOther++;
      this.skipFlow(ctx, 'not-ca');
      ctx.early = [];
    }
  }

  /** Counts a flow's buffered bytes as skipped (the flow is not CA, or the input ended undecided). */
  private skipFlow(ctx: FlowCtx, reason: SkippedFlow['reason']): void {
    const first = ctx.early[0];
    if (first === undefined) return;
    const { flow } = ctx;
    const skipped: SkippedFlow = {
      id: flow.id,
      a: `${flow.a.ip}:${flow.a.port}`,
      b: `${flow.b.ip}:${flow.b.port}`,
      opener: flow.opener,
      firstFrame: first.packet.frame,
      bytes: 0,
      reason,
    };
    ctx.skipped = skipped;
    this.st.statistics.skipped.flows++;
    if (this.skippedFlows.length < MAX_SKIPPED_LISTED) this.skippedFlows.push(skipped);
    this.skipBytes(ctx, ctx.earlyBytes.a + ctx.earlyBytes.b);
  }

  private skipBytes(ctx: FlowCtx, n: number): void {
    if (ctx.skipped) ctx.skipped.bytes += n;
    this.st.statistics.skipped.bytes += n;
  }

  /** A flow that ends still undecided loses the bytes it held. */
  private skipUndecided(ctx: FlowCtx): void {
    if (ctx.status !== 'pending') return;
    this.skipFlow(ctx, 'undecided');
    ctx.early = [];
  }

  /** A newly learned server endpoint turns matching undecided or non-CA flows into circuits. */
  private serverLearned(ip: string, port: number, packet: PacketInfo): void {
    for (const ctx of this.flows.values()) {
      if (ctx.status === 'ca') continue;
      const { a, b } = ctx.flow;
      const aHit = a.ip === ip && a.port === port;
      const bHit = b.ip === ip && b.port === port;
      if (!aHit && !bHit) continue;
      const side: Side = aHit ? 'b' : 'a';
      this.becomeCa(ctx, packet, 'learned-port', ctx.flow.opener ?? side, 'certain');
    }
  }

  private problem(p: PacketProblem): void {
    const probs = this.st.statistics.problems;
    probs[p.code] = (probs[p.code] ?? 0) + 1;
    this.onProblem(p);
  }

  private tcpGap(flow: TcpFlow, from: Side, packet: PacketInfo, length: number): void {
    const ctx = this.flowCtx(flow, packet);
    if (ctx.status !== 'other') {
      // Bytes of a CA (or maybe CA) stream the capture never saw: the deframer reports only the bytes it
      // skips to resynchronise, which are none when the gap ends on a message boundary.
      const src = from === 'a' ? flow.a : flow.b;
      const dst = from === 'a' ? flow.b : flow.a;
      const size = length >= 0 ? `${length} bytes` : 'bytes';
      this.problem({
        type: 'problem',
        frame: packet.frame,
        timestamp: packet.timestamp,
        code: 'tcp-gap',
        message: `frame ${packet.frame}: TCP ${src.ip}:${src.port} -> ${dst.ip}:${dst.port}: ${size} missing from the capture`,
      });
    }
    if (ctx.status === 'ca') {
      (from === 'a' ? ctx.deframerA : ctx.deframerB)?.gap();
    } else if (ctx.status === 'pending') {
      // The opening is lost: judge what follows as a mid-stream start.
      ctx.early = ctx.early.filter((c) => c.side !== from);
      ctx.earlyBytes[from] = 0;
      ctx.midStream = true;
    }
  }

  private tcpClose(flow: TcpFlow, packet: PacketInfo, reason: string): void {
    const ctx = this.flows.get(flow.id);
    if (!ctx) return;
    this.flows.delete(flow.id);
    this.flushFlow(ctx);
    this.skipUndecided(ctx);
    this.endFlow(ctx, packet, reason);
  }

  private endFlow(ctx: FlowCtx, packet: PacketInfo, reason: string): void {
    const c = ctx.circuit;
    if (!c || c.closedAt !== null) return;
    c.closedAt = packet.timestamp;
    c.closeReason = reason;
    for (const ch of c.channelsByCid.values()) this.endChannel(ch, packet.timestamp);
    for (const ch of c.channelsBySid.values()) this.endChannel(ch, packet.timestamp);
    c.pendingIo.clear();
    c.subscriptions.clear();
    c.pendingCreates.clear();
    c.pendingClears.clear();
    this.onCircuitClose(c);
  }

  private endChannel(ch: ChannelInfo, now: number): void {
    if (ch.endedAt === null) ch.endedAt = now;
    if (ch.status !== 'failed' && ch.status !== 'disconnected') ch.status = 'cleared';
  }

  // ----------------------------------------------------------------------------------------------
  // TCP: messages of a CA circuit

  private caData(ctx: FlowCtx, side: Side, packet: PacketInfo, data: Uint8Array): void {
    const c = ctx.circuit as CircuitInfo;
    c.lastSeen = packet.timestamp;
    this.st.sweep(packet.timestamp);
    ctx.lastPacket = packet;
    const deframer = (side === 'a' ? ctx.deframerA : ctx.deframerB) as Deframer;
    if (c.clientSide !== null) {
      this.deframe(ctx, side, packet, deframer, data);
      return;
    }
    // Undirected circuit: look at the whole chunk first, so a one-sided command anywhere in it
    // directs the messages before it as well.
    const held: Held[] = [];
    this.held = held;
    try {
      this.deframe(ctx, side, packet, deframer, data);
    } finally {
      this.held = null;
    }
    if (c.clientSide === null) {
      for (const h of held) {
        const r = h.frame ? oneSidedRole(h.frame) : undefined;
        if (r) {
          this.setClientSide(c, r === 'request' ? side : other(side), 'inferred', packet.timestamp);
          break;
        }
      }
    }
    for (const h of held) {
      if (h.frame) this.tcpFrame(ctx, side, packet, h.frame);
      else this.tcpFault(ctx, side, packet, h.fault);
    }
  }

  /**
   * Pushes `data` into a direction's deframer (or ends it when `data` is null) with the callbacks pointed
   * at this flow, direction and packet. No closure on this hot path; the previous context is restored
   * because a message can teach a server port that makes another flow replay its early bytes.
   */
  private deframe(ctx: FlowCtx, side: Side, packet: PacketInfo, deframer: Deframer, data: Uint8Array | null): void {
    const prevCtx = this.curCtx;
    const prevSide = this.curSide;
    const prevPacket = this.curPacket;
    this.curCtx = ctx;
    this.curSide = side;
    this.curPacket = packet;
    try {
      if (data) deframer.push(data, this.onTcpFrameCb, this.onTcpFaultCb);
      else deframer.end(this.onTcpFrameCb, this.onTcpFaultCb);
    } finally {
      this.curCtx = prevCtx;
      this.curSide = prevSide;
      this.curPacket = prevPacket;
    }
  }

  private tcpFault(ctx: FlowCtx, side: Side, packet: PacketInfo, fault: CaFault): void {
    const c = ctx.circuit as CircuitInfo;
    c.malformed++;
    const role: Role | null = c.clientSide === null ? null : side === c.clientSide ? 'request' : 'response';
    this.malformed(packet, fault, role, c.roleCertainty, c.id, c.server ?? undefined, c.client ?? undefined);
  }

  /** Role of a message on a circuit whose client end is not known yet. */
  private undirectedRole(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): [Role, RoleCertainty] {
    const now = packet.timestamp;
    const one = oneSidedRole(frame);
    if (one) {
      this.setClientSide(c, one === 'request' ? side : other(side), 'inferred', now);
      return [one, 'inferred'];
    }
    // ID tracking: an IOID or subscription ID the other side asked for marks a reply.
    const cmd = frame.command;
    if (
      cmd === Command.READ_NOTIFY ||
      cmd === Command.WRITE_NOTIFY ||
      cmd === Command.READ ||
      cmd === Command.EVENT_ADD
    ) {
      const p = c.pendingIo.get(frame.parameter2);
      const s = c.subscriptions.get(frame.parameter2);
      if ((p && p.side !== side) || (s && s.side !== side)) {
        this.setClientSide(c, other(side), 'inferred', now);
        return ['response', 'inferred'];
      }
    }
    const g = guessRole(frame);
    return [g ? g.role : portGuess(packet), 'guess'];
  }

  private tcpFrame(ctx: FlowCtx, side: Side, packet: PacketInfo, frame: CaFrame): void {
    const c = ctx.circuit as CircuitInfo;
    let role: Role;
    let certainty: RoleCertainty;
    if (c.clientSide !== null) {
      role = side === c.clientSide ? 'request' : 'response';
      certainty = c.roleCertainty;
    } else {
      [role, certainty] = this.undirectedRole(c, side, frame, packet);
    }
    c.messages++;
    c.bytes += frame.headerSize + frame.payloadSize;

    const isReq = role === 'request';
    // The handlers below return the channel and leave the request and PV they found in `out`.
    const out = this.out;
    out.request = undefined;
    out.pv = null;
    out.confirmation = false;
    let channel: ChannelInfo | null;
    switch (frame.command) {
      case Command.READ_NOTIFY:
      case Command.READ:
      case Command.WRITE_NOTIFY:
        channel = isReq ? this.ioRequest(c, side, frame, packet) : this.ioReply(c, frame);
        break;
      case Command.WRITE:
        channel = this.channelBySid(c, frame.parameter1);
        break;
      case Command.EVENT_ADD:
        channel = isReq ? this.eventAddRequest(c, side, frame, packet) : this.eventAddReply(c, side, frame, packet);
        break;
      default:
        channel = this.otherTcpCommand(c, side, frame, packet, isReq);
        break;
    }

    const request = out.request;
    let pv: string | null = out.pv;
    if (channel) {
      channel.messages++;
      if (pv === null) pv = channel.pv;
    }
    const enumStrings = channel?.enumStrings;
    // An empty ID-1 reply is a cancel confirmation only when it answers a cancel (or names a known SID
    // with no live subscription); otherwise it is an empty 4.13 update.
    const emptyEventIsUpdate =
      frame.command === Command.EVENT_ADD && !isReq && frame.payloadSize === 0 && !out.confirmation;
    const command =
      enumStrings || emptyEventIsUpdate
        ? decodeCommand(frame, role, { enumStrings: enumStrings ?? undefined, emptyEventIsUpdate })
        : decodeCommand(frame, role);
    if (!isReq && channel && (frame.dataType === DbrType.GR_ENUM || frame.dataType === DbrType.CTRL_ENUM)) {
      const meta = 'metadata' in command ? command.metadata : undefined;
      if (meta?.enumStrings) channel.enumStrings = meta.enumStrings;
    }
    this.emit(packet, command, pv, role, certainty, c.id, request, c.server ?? undefined, c.client ?? undefined, frame);
  }

  /**
   * {@link tcpFrame}'s handling of the commands other than reads, writes and monitors. Apart on purpose:
   * TurboFan deoptimises a function when a branch it never ran is reached, and a capture meets rare
   * commands (an IOC restart's disconnects, errors) late; inside tcpFrame each first sighting recompiled
   * it with all it inlines. Returns the channel; leaves the request and PV in `out` like the handlers.
   */
  private otherTcpCommand(
    c: CircuitInfo,
    side: Side,
    frame: CaFrame,
    packet: PacketInfo,
    isReq: boolean,
  ): ChannelInfo | null {
    const out = this.out;
    let channel: ChannelInfo | null = null;
    switch (frame.command) {
      case Command.VERSION:
        if (isReq) {
          c.priority = frame.dataType;
          c.clientMinor = frame.dataCount;
        } else c.serverMinor = frame.dataCount;
        break;
      case Command.CLIENT_NAME:
        if (isReq) c.userName = payloadString(frame);
        break;
      case Command.HOST_NAME:
        if (isReq) c.hostName = payloadString(frame);
        break;
      case Command.CREATE_CHAN:
        channel = isReq ? this.createRequest(c, frame, packet) : this.createReply(c, frame, packet);
        break;
      case Command.ACCESS_RIGHTS:
        channel = this.channelByCid(c, frame.parameter1);
        channel.accessRights = frame.parameter2;
        break;
      case Command.CREATE_CH_FAIL:
      case Command.SERVER_DISCONN:
        channel = this.channelGone(c, frame, packet);
        break;
      case Command.EVENT_CANCEL:
        channel = this.eventCancel(c, frame, packet);
        break;
      case Command.CLEAR_CHANNEL:
        channel = this.clearChannel(c, frame, packet, isReq);
        break;
      case Command.ECHO:
      case Command.READ_SYNC:
        if (isReq) c.pendingEcho = makeRef(packet, requestName(frame.command));
        else if (c.pendingEcho) {
          out.request = c.pendingEcho;
          c.pendingEcho = null;
        }
        break;
      case Command.ERROR:
        channel = this.errorContext(c, frame);
        break;
      case Command.SEARCH:
      case Command.NOT_FOUND: {
        // SEARCH over TCP to a name server (4.12+).
        const clientAddr = c.client ?? (isReq ? sideAddress(c, side) : sideAddress(c, other(side)));
        const serverAddr = c.server ?? (isReq ? sideAddress(c, other(side)) : sideAddress(c, side));
        const r = this.search(packet, frame, isReq, clientAddr, serverAddr, null);
        out.pv = r.pv;
        out.request = r.request;
        break;
      }
      default:
        break;
    }
    return channel;
  }

  /** Scratch results of the message handlers (one object for all messages: no allocation per message). */
  private readonly out: { request: RequestRef | undefined; pv: string | null; confirmation: boolean } = {
    request: undefined,
    pv: null,
    confirmation: false,
  };

  private createRequest(c: CircuitInfo, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const cid = frame.parameter1;
    const pv = payloadString(frame);
    const ref = makeRef(packet, 'CreateChanRequest');
    let channel = c.channelsByCid.get(cid) ?? null;
    // A CID seen before (reused after a clear, or a repeat) starts a new channel.
    if (channel && (channel.sid !== null || (channel.pv !== null && channel.pv !== pv))) {
      this.st.unindexChannel(channel);
      channel = null;
    }
    channel ??= this.channelByCid(c, cid);
    channel.pv = pv;
    channel.status = 'creating';
    channel.created = ref;
    c.pendingCreates.set(cid, { pv, request: ref });
    this.st.statistics.evicted.pending += capMap(c.pendingCreates, this.opts.limits.maxPendingPerCircuit);
    if (c.clientMinor === null) c.clientMinor = frame.parameter2;
    this.out.pv = pv;
    return channel;
  }

  private createReply(c: CircuitInfo, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const cid = frame.parameter1;
    const pend = c.pendingCreates.get(cid);
    if (pend) {
      this.out.request = pend.request;
      c.pendingCreates.delete(cid);
    }
    const channel = this.linkSid(c, this.channelByCid(c, cid), frame.parameter2);
    if (channel.pv === null && pend) channel.pv = pend.pv;
    channel.nativeType = frame.dataType;
    channel.nativeCount = frame.dataCount;
    channel.status = 'connected';
    channel.connectedAt = packet.timestamp;
    if (pend) channel.connectLatency = packet.timestamp - pend.request.timestamp;
    return channel;
  }

  /** CREATE_CH_FAIL (answers a create) or SERVER_DISCONN: the channel of `p1` = CID ends. */
  private channelGone(c: CircuitInfo, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const cid = frame.parameter1;
    const failed = frame.command === Command.CREATE_CH_FAIL;
    const pend = failed ? c.pendingCreates.get(cid) : undefined;
    if (pend) {
      this.out.request = pend.request;
      c.pendingCreates.delete(cid);
    }
    const channel = this.channelByCid(c, cid);
    if (channel.pv === null && pend) channel.pv = pend.pv;
    channel.status = failed ? 'failed' : 'disconnected';
    channel.endedAt = packet.timestamp;
    this.st.unindexChannel(channel);
    return channel;
  }

  /** READ_NOTIFY / READ / WRITE_NOTIFY request: `p1` = SID, `p2` = IOID. */
  private ioRequest(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const channel = this.channelBySid(c, frame.parameter1);
    const ioid = frame.parameter2;
    c.pendingIo.set(ioid, {
      ioid,
      kind: frame.command === Command.WRITE_NOTIFY ? 'write' : 'read',
      channel,
      dataType: frame.dataType,
      dataCount: frame.dataCount,
      request: makeIoRef(packet, requestName(frame.command)),
      side,
    });
    this.st.statistics.evicted.pending += capMap(c.pendingIo, this.opts.limits.maxPendingPerCircuit);
    return channel;
  }

  /** Their reply: `p2` = IOID. */
  private ioReply(c: CircuitInfo, frame: CaFrame): ChannelInfo | null {
    const ioid = frame.parameter2;
    const p = c.pendingIo.get(ioid);
    if (p) {
      this.out.request = p.request;
      takePending(c, ioid);
      return p.channel;
    }
    // libca refreshes monitors with a READ_NOTIFY reusing the subscription id.
    return c.subscriptions.get(ioid)?.channel ?? null;
  }

  private eventAddRequest(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const channel = this.channelBySid(c, frame.parameter1);
    const pl = frame.payload;
    const mask =
      pl.length >= EVENT_ADD_MASK_OFFSET + 2 ? (pl[EVENT_ADD_MASK_OFFSET] << 8) | pl[EVENT_ADD_MASK_OFFSET + 1] : 0;
    const sub: SubscriptionInfo = {
      subscriptionid: frame.parameter2,
      channel,
      mask,
      dataType: frame.dataType,
      dataCount: frame.dataCount,
      request: makeRef(packet, 'EventAddRequest'),
      firstUpdate: null,
      updates: 0,
      cancel: null,
      side,
    };
    c.subscriptions.set(frame.parameter2, sub);
    this.st.statistics.evicted.pending += capMap(c.subscriptions, this.opts.limits.maxPendingPerCircuit);
    return channel;
  }

  /** ID 1 from the server: a monitor update, or (no payload) the confirmation of a cancel. */
  private eventAddReply(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): ChannelInfo | null {
    const subid = frame.parameter2;
    let sub = c.subscriptions.get(subid);
    if (frame.payloadSize === 0 && (sub?.cancel || !sub || frame.dataCount !== 0)) {
      // Answers a cancel; or, with no live subscription or with elements but no payload, confirms a cancel
      // we did not see (p1 = SID). Only a known subscription's count-0 reply is an empty 4.13 update.
      this.out.confirmation = true;
      if (sub?.cancel) this.out.request = sub.cancel;
      if (sub) c.subscriptions.delete(subid);
      return sub?.channel ?? c.channelsBySid.get(frame.parameter1) ?? null;
    }
    if (!sub) {
      // Capture began after the EVENT_ADD: group the updates by subscription id.
      sub = {
        subscriptionid: subid,
        channel: null,
        mask: 0,
        dataType: frame.dataType,
        dataCount: frame.dataCount,
        request: null,
        firstUpdate: null,
        updates: 0,
        cancel: null,
        side: other(side),
      };
      c.subscriptions.set(subid, sub);
      this.st.statistics.evicted.pending += capMap(c.subscriptions, this.opts.limits.maxPendingPerCircuit);
    }
    sub.updates++;
    if (!sub.firstUpdate) {
      sub.firstUpdate = makeRef(packet, 'EventAddResponse');
      if (sub.request) this.out.request = sub.request;
    }
    return sub.channel;
  }

  private eventCancel(c: CircuitInfo, frame: CaFrame, packet: PacketInfo): ChannelInfo {
    const channel = this.channelBySid(c, frame.parameter1);
    const sub = c.subscriptions.get(frame.parameter2);
    if (sub) {
      sub.cancel = makeRef(packet, 'EventCancelRequest');
      if (sub.channel === null) sub.channel = channel;
    }
    return channel;
  }

  /** CLEAR_CHANNEL both ways: `p1` = SID, `p2` = CID (which also links the two for mid-circuit captures). */
  private clearChannel(c: CircuitInfo, frame: CaFrame, packet: PacketInfo, isReq: boolean): ChannelInfo {
    const sid = frame.parameter1;
    const channel = this.linkCid(c, this.channelBySid(c, sid), frame.parameter2);
    if (isReq) {
      channel.status = 'clearing';
      c.pendingClears.set(sid, makeRef(packet, 'ClearChannelRequest'));
      this.st.statistics.evicted.pending += capMap(c.pendingClears, this.opts.limits.maxPendingPerCircuit);
    } else {
      this.out.request = c.pendingClears.get(sid);
      c.pendingClears.delete(sid);
      channel.status = 'cleared';
      channel.endedAt = packet.timestamp;
      this.st.unindexChannel(channel);
    }
    return channel;
  }

  /** ERROR (§3.15): `p1` = CID, the payload starts with the failed request's header. */
  private errorContext(c: CircuitInfo, frame: CaFrame): ChannelInfo | null {
    let channel: ChannelInfo | null =
      frame.parameter1 !== ADDRESS_FROM_SOURCE ? (c.channelsByCid.get(frame.parameter1) ?? null) : null;
    let request: RequestRef | undefined;
    const pl = frame.payload;
    if (pl.length >= HEADER_SIZE) {
      const cmd = (pl[HeaderOffset.COMMAND] << 8) | pl[HeaderOffset.COMMAND + 1];
      const id2 = readU32(pl, HeaderOffset.PARAMETER2);
      const id1 = readU32(pl, HeaderOffset.PARAMETER1);
      if (cmd === Command.READ_NOTIFY || cmd === Command.WRITE_NOTIFY || cmd === Command.READ) {
        const p = c.pendingIo.get(id2);
        if (p) {
          request = p.request;
          channel ??= p.channel;
          takePending(c, id2);
        }
      } else if (cmd === Command.EVENT_ADD || cmd === Command.EVENT_CANCEL) {
        const s = c.subscriptions.get(id2);
        if (s) {
          request = s.cancel ?? s.request ?? undefined;
          channel ??= s.channel;
          if (cmd === Command.EVENT_ADD) c.subscriptions.delete(id2);
        }
      } else if (cmd === Command.CREATE_CHAN) {
        const p = c.pendingCreates.get(id1);
        if (p) {
          request = p.request;
          c.pendingCreates.delete(id1);
          channel ??= c.channelsByCid.get(id1) ?? null;
        }
      }
      if (!channel && (cmd === Command.WRITE || cmd === Command.READ_NOTIFY || cmd === Command.EVENT_ADD)) {
        channel = c.channelsBySid.get(id1) ?? null;
      }
    }
    this.out.request = request;
    return channel;
  }

  private channelByCid(c: CircuitInfo, cid: number): ChannelInfo {
    let ch = c.channelsByCid.get(cid);
    if (!ch) {
      ch = this.st.newChannel(c);
      ch.cid = cid;
      c.channelsByCid.set(cid, ch);
      this.nameFromSearch(c, ch);
    }
    return ch;
  }

  private channelBySid(c: CircuitInfo, sid: number): ChannelInfo {
    let ch = c.channelsBySid.get(sid);
    if (!ch) {
      ch = this.st.newChannel(c);
      ch.sid = sid;
      ch.status = 'connected';
      c.channelsBySid.set(sid, ch);
    }
    return ch;
  }

  /** `ch` (known by CID) has SID `sid`: join it with a channel seen earlier by that SID. */
  private linkSid(c: CircuitInfo, ch: ChannelInfo, sid: number): ChannelInfo {
    const bySid = c.channelsBySid.get(sid);
    if (bySid && bySid !== ch) {
      if (bySid.cid === null) return this.merge(c, ch, bySid);
      // The SID was reused: the old channel is gone.
      this.st.unindexChannel(bySid);
    }
    ch.sid = sid;
    c.channelsBySid.set(sid, ch);
    return ch;
  }

  /** `ch` (known by SID) has CID `cid`. */
  private linkCid(c: CircuitInfo, ch: ChannelInfo, cid: number): ChannelInfo {
    if (ch.cid === cid) return ch;
    const byCid = c.channelsByCid.get(cid);
    if (byCid && byCid !== ch && (byCid.sid === null || byCid.sid === ch.sid)) return this.merge(c, byCid, ch);
    if (ch.cid === null) {
      ch.cid = cid;
      if (!byCid) c.channelsByCid.set(cid, ch);
      this.nameFromSearch(c, ch);
    }
    return ch;
  }

  /** Merges `gone` (seen by SID only) into `keep` (seen by CID) and repoints everything at `keep`. */
  private merge(c: CircuitInfo, keep: ChannelInfo, gone: ChannelInfo): ChannelInfo {
    keep.pv ??= gone.pv;
    keep.sid ??= gone.sid;
    keep.nativeType ??= gone.nativeType;
    keep.nativeCount ??= gone.nativeCount;
    keep.accessRights ??= gone.accessRights;
    keep.enumStrings ??= gone.enumStrings;
    keep.messages += gone.messages;
    if (keep.status === 'unknown') keep.status = gone.status;
    this.st.channels.delete(gone.id);
    if (keep.sid !== null) c.channelsBySid.set(keep.sid, keep);
    for (const p of c.pendingIo.values()) if (p.channel === gone) p.channel = keep;
    for (const s of c.subscriptions.values()) if (s.channel === gone) s.channel = keep;
    this.nameFromSearch(c, keep);
    return keep;
  }

  /** Names a channel known by CID from a search of the same client host answered by this server. */
  private nameFromSearch(c: CircuitInfo, ch: ChannelInfo): void {
    if (ch.pv !== null || ch.cid === null || c.client === null) return;
    const s = this.st.searchesByIpCid.get(searchIpKey(c.client, ch.cid));
    if (s && (c.server === null || s.answeredBy.includes(c.server))) ch.pv = s.pv;
  }

  // ----------------------------------------------------------------------------------------------
  // UDP

  private isServerUdpPort(port: number): boolean {
    return this.opts.serverPorts.has(port);
  }

  private udp(packet: PacketInfo, payload: Uint8Array): void {
    const t = packet.transport;
    const sport = t.sport;
    const dport = t.dport;
    const rep = this.opts.repeaterPort;
    const sS = this.isServerUdpPort(sport);
    const dS = this.isServerUdpPort(dport);
    // Repeater → client traffic comes from an ephemeral port to a client's search socket.
    const toClient = !sS && !dS && dport !== rep && sport !== rep && this.st.clients.has(`${packet.dst}:${dport}`);
    if (!sS && !dS && dport !== rep && sport !== rep && !toClient) return;
    this.st.statistics.udpDatagrams++;
    this.st.sweep(packet.timestamp);
    if (dS && !sS) {
      this.udpRole = 'request';
      this.udpCertainty = 'certain';
    } else if (sS && !dS) {
      this.udpRole = 'response';
      this.udpCertainty = 'certain';
    } else if (sport === rep && dport !== rep) {
      this.udpRole = 'response';
      this.udpCertainty = 'certain';
    } else {
      this.udpRole = null;
      this.udpCertainty = 'guess';
    }
    if (payload.length === 0) {
      if (dport === rep) this.emptyRegistration(packet);
      return;
    }
    const prev = this.curPacket;
    this.curPacket = packet;
    this.udpSequence = null;
    this.udpSrc = endpoint(packet, 'src');
    this.udpDst = endpoint(packet, 'dst');
    deframeDatagram(payload, this.onUdpFrameCb, this.onUdpFaultCb, {
      maxPayloadSize: this.opts.maxMessageSize,
      truncated: packet.caplen < packet.origlen,
    });
    this.curPacket = prev;
  }

  /** libca registers with its repeater by an empty datagram (§3.5). */
  private emptyRegistration(packet: PacketInfo): void {
    const client = endpoint(packet, 'src');
    this.st.client(client, packet.timestamp).repeaterRegistrations++;
    const command: CaCommand = {
      name: 'RepeaterRegisterRequest',
      id: Command.REPEATER_REGISTER,
      client_address: null,
      empty: true,
    };
    this.emit(packet, command, null, 'request', 'certain', undefined, undefined, undefined, client, null);
  }

  private udpFrame(packet: PacketInfo, frame: CaFrame): void {
    let role: Role;
    let certainty: RoleCertainty;
    const dstAddr = this.udpDst;
    if (this.udpRole) {
      role = this.udpRole;
      certainty = this.udpCertainty;
    } else {
      const one = oneSidedRole(frame);
      if (one) {
        role = one;
        certainty = packet.transport.dport === this.opts.repeaterPort ? 'certain' : 'inferred';
      } else if (this.st.clients.has(dstAddr)) {
        role = 'response';
        certainty = 'inferred';
      } else {
        role = guessRole(frame)?.role ?? portGuess(packet);
        certainty = 'guess';
      }
    }
    const isReq = role === 'request';
    const srcAddr = this.udpSrc;
    let client: string | undefined = isReq ? srcAddr : dstAddr;
    let server: string | undefined = isReq ? dstAddr : srcAddr;
    let pv: string | null = null;
    let request: RequestRef | undefined;
    const now = packet.timestamp;
    const st = this.st;

    switch (frame.command) {
      case Command.VERSION:
        // dt = 1: p1 is the datagram sequence number (4.11+); all-zero VERSIONs are repeater no-ops.
        if (frame.dataType === 1) {
          if (isReq) {
            const cl = st.client(srcAddr, now);
            cl.minor = frame.dataCount;
            cl.searchDatagrams++;
            cl.lastSequence = frame.parameter1;
            this.udpSequence = frame.parameter1;
            st.versionRequests.set(`${srcAddr}/${frame.parameter1}`, makeRef(packet, 'VersionRequest'));
            capMap(st.versionRequests, this.opts.limits.maxSearches);
          } else {
            request = st.versionRequests.get(`${dstAddr}/${frame.parameter1}`);
          }
        }
        break;
      case Command.SEARCH:
      case Command.NOT_FOUND: {
        const r = this.search(packet, frame, isReq, client, server, packet.src);
        pv = r.pv;
        request = r.request;
        if (r.server) server = r.server;
        break;
      }
      case Command.RSRV_IS_UP: {
        const ip = frame.parameter2 !== 0 ? ipv4ToString(frame.parameter2) : packet.src;
        const port = frame.dataCount !== 0 ? frame.dataCount : this.opts.serverPort;
        const known = st.servers.has(`${ip}:${port}`);
        const srv = st.server(ip, port, now);
        srv.learnedFrom.beacon = true;
        srv.beacons++;
        if (frame.dataType !== 0) srv.minor = frame.dataType;
        const id = frame.parameter1;
        if (srv.lastBeaconId !== null) {
          if (id === srv.lastBeaconId) srv.beaconRepeats++;
          else if (id < srv.lastBeaconId) srv.beaconRestarts++;
        }
        srv.lastBeaconId = id;
        srv.lastBeaconTime = now;
        server = srv.address;
        client = undefined;
        if (!known) this.serverLearned(ip, port, packet);
        break;
      }
      case Command.REPEATER_REGISTER:
        st.client(srcAddr, now).repeaterRegistrations++;
        server = undefined;
        break;
      case Command.REPEATER_CONFIRM:
        server = undefined;
        break;
      default:
        break;
    }
    const command = decodeCommand(frame, role, UDP_DECODE);
    this.emit(packet, command, pv, role, certainty, undefined, request, server, client, frame);
  }

  /**
   * SEARCH / NOT_FOUND bookkeeping (UDP, or TCP to a name server). Requests are keyed by client socket
   * and CID. Retries reuse the CID: the reply's `request` is the LATEST request before it, so `latency` is
   * the server's reply time; charging it the client's back-off between retries would make a 2 ms IOC look
   * minutes slow. The client's wait (first request to first reply) stays in the state's SearchInfo.
   */
  private search(
    packet: PacketInfo,
    frame: CaFrame,
    isReq: boolean,
    clientAddr: string,
    serverAddr: string,
    sourceIp: string | null,
  ): { pv: string | null; request?: RequestRef; server?: string } {
    const st = this.st;
    const now = packet.timestamp;
    if (frame.command === Command.SEARCH && isReq) {
      const cid = frame.parameter1;
      const pv = payloadString(frame);
      const key = `${clientAddr}/${cid}`;
      const ref = makeRef(packet, 'SearchRequest');
      const cl = st.client(clientAddr, now);
      cl.searches++;
      if (cl.minor === null) cl.minor = frame.dataCount;
      let s = st.searches.get(key);
      const seq = sourceIp !== null ? this.udpSequence : null;
      if (s && s.pv === pv) {
        s.requests++;
        s.last = ref;
        s.lastSequence = seq;
      } else {
        s = {
          client: clientAddr,
          cid,
          pv,
          first: ref,
          last: ref,
          requests: 1,
          firstSequence: seq,
          lastSequence: seq,
          answeredBy: [],
          firstReply: null,
          notFound: 0,
        };
        st.searches.delete(key);
        st.searches.set(key, s);
        st.searchesByIpCid.set(searchIpKey(clientAddr, cid), s);
        st.statistics.evicted.searches += capMap(st.searches, this.opts.limits.maxSearches);
        capMap(st.searchesByIpCid, this.opts.limits.maxSearches);
      }
      return { pv };
    }
    // Reply: SEARCH carries the CID in p2, NOT_FOUND in p1 (= p2).
    const cid = frame.command === Command.SEARCH ? frame.parameter2 : frame.parameter1;
    const s: SearchInfo | undefined = st.searches.get(`${clientAddr}/${cid}`);
    if (frame.command === Command.NOT_FOUND) {
      if (s) s.notFound++;
      return { pv: s?.pv ?? null, request: s?.last };
    }
    // The server's TCP endpoint: port in dt, address in p1 (0xFFFFFFFF = this datagram's source).
    const ip =
      frame.parameter1 === ADDRESS_FROM_SOURCE || frame.parameter1 === 0
        ? (sourceIp ?? hostOf(serverAddr))
        : ipv4ToString(frame.parameter1);
    const port = frame.dataType;
    const known = st.servers.has(`${ip}:${port}`);
    const srv = st.server(ip, port, now);
    srv.learnedFrom.search = true;
    srv.searchReplies++;
    if (frame.payload.length >= 2) srv.minor = (frame.payload[0] << 8) | frame.payload[1];
    if (s) {
      if (!s.answeredBy.includes(srv.address) && s.answeredBy.length < MAX_ANSWERS) s.answeredBy.push(srv.address);
      s.firstReply ??= makeRef(packet, 'SearchResponse');
    }
    if (!known) this.serverLearned(ip, port, packet);
    return { pv: s?.pv ?? null, request: s?.last, server: srv.address };
  }

  // ----------------------------------------------------------------------------------------------
  // Records

  private malformed(
    packet: PacketInfo,
    fault: CaFault,
    role: Role | null,
    certainty: RoleCertainty,
    circuit: number | undefined,
    server: string | undefined,
    client: string | undefined,
  ): void {
    const command: MalformedCommand = {
      name: 'Malformed',
      id: -1,
      reason: fault.message,
      code: fault.code,
      length: fault.length,
      hex: hex(fault.sample),
    };
    this.st.statistics.malformed++;
    const r: Role = role ?? portGuess(packet);
    this.emit(
      packet,
      command,
      null,
      r,
      role ? certainty : 'guess',
      circuit,
      undefined,
      server,
      client,
      null,
      fault.length,
    );
  }

  private emit(
    packet: PacketInfo,
    command: CaCommand,
    pv: string | null,
    role: Role,
    certainty: RoleCertainty,
    circuit: number | undefined,
    request: RequestRef | undefined,
    server: string | undefined,
    client: string | undefined,
    frame: CaFrame | null,
    faultLength = 0,
  ): void {
    const stats = this.st.statistics;
    const size = frame ? frame.headerSize + frame.payloadSize : faultLength;
    stats.records++;
    if (frame) {
      stats.messages++;
      stats.bytes += size;
    }
    const name = command.name;
    stats.byCommand[name] = (stats.byCommand[name] ?? 0) + 1;
    const record: CaRecord = {
      frame: packet.frame,
      timestamp: packet.timestamp,
      interfaceId: packet.interfaceId,
      src: packet.src,
      dst: packet.dst,
      ethernet: packet.link,
      ip: packet.ip,
      transport: packet.transport,
      command,
      pv,
      role,
      role_certainty: certainty,
      circuit,
      request,
      latency: request ? packet.timestamp - request.timestamp : undefined,
      server,
      client,
      size,
      truncated: frame?.truncated ? true : undefined,
      raw: frame && this.opts.keepBytes ? frame.bytes.slice() : undefined,
    };
    this.onRecord(record);
  }
}

// ------------------------------------------------------------------------------------------------
// Helpers

/** Last resort for messages of the same shape both ways: the end with the higher (ephemeral) port is the client. */
function portGuess(packet: PacketInfo): Role {
  return packet.transport.sport < packet.transport.dport ? 'response' : 'request';
}

/** The name a SEARCH, CREATE_CHAN, CLIENT_NAME or HOST_NAME carries (NUL-terminated, padded). */
function payloadString(frame: CaFrame): string {
  return readCString(frame.payload, 0, frame.payload.length);
}

function makeRef(packet: PacketInfo, command: string): RequestRef {
  return { frame: packet.frame, timestamp: packet.timestamp, command };
}

/**
 * {@link makeRef} for read/write-notify requests. A separate allocation site on purpose: these refs live
 * for a round trip, the others (creates, subscriptions) for the whole channel, and V8 decides per site
 * whether to allocate straight in old space; shared, the long-lived ones made every ref an old object.
 */
function makeIoRef(packet: PacketInfo, command: string): RequestRef {
  return { frame: packet.frame, timestamp: packet.timestamp, command };
}

function requestName(cmd: number): string {
  switch (cmd) {
    case Command.READ_NOTIFY:
      return 'ReadNotifyRequest';
    case Command.READ:
      return 'ReadRequest';
    case Command.WRITE_NOTIFY:
      return 'WriteNotifyRequest';
    case Command.ECHO:
      return 'EchoRequest';
    case Command.READ_SYNC:
      return 'ReadSyncRequest';
    default:
      return 'Request';
  }
}

function endpoint(p: PacketInfo, which: 'src' | 'dst'): string {
  return which === 'src' ? `${p.src}:${p.transport.sport}` : `${p.dst}:${p.transport.dport}`;
}

function hostOf(address: string): string {
  const i = address.lastIndexOf(':');
  return i < 0 ? address : address.slice(0, i);
}

function sideAddress(c: CircuitInfo, side: Side): string {
  return side === 'a' ? c.a : c.b;
}

function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Up to `max` first bytes of one direction's buffered chunks. */
function firstBytes(chunks: EarlyChunk[], side: Side, max: number): Uint8Array {
  let n = 0;
  let only: Uint8Array | null = null;
  let parts = 0;
  for (const c of chunks) {
    if (c.side !== side) continue;
    n += c.data.length;
    only = c.data;
    parts++;
    if (n >= max) break;
  }
  if (parts === 1 && only) return only.length > max ? only.subarray(0, max) : only;
  const out = new Uint8Array(Math.min(n, max));
  let o = 0;
  for (const c of chunks) {
    if (c.side !== side || o >= out.length) continue;
    const take = Math.min(c.data.length, out.length - o);
    out.set(c.data.subarray(0, take), o);
    o += take;
  }
  return out;
}

/**
 * Removes an answered request. An emptied table is replaced by a new one: V8 rehashes a Map's table on
 * the way down and up again, and once the Map is old every rehash allocates in old space (measured: the
 * usual request/reply churn then cost more than decoding the replies, plus mark-compact GCs).
 */
function takePending(c: CircuitInfo, ioid: number): void {
  const m = c.pendingIo;
  m.delete(ioid);
  if (m.size === 0) c.pendingIo = new Map();
}

/** Copies a frame so it outlives the deframer callback. */
function copyFrame(f: CaFrame): CaFrame {
  const bytes = f.bytes.slice();
  const payloadStart = f.headerSize;
  return { ...f, bytes, payload: bytes.subarray(payloadStart, payloadStart + f.payload.length) };
}

function makePipeline(onEvent: (ev: PacketEvent) => void, stableInput: boolean): PacketPipeline {
  return new PacketPipeline({ onEvent, reader: { stableInput } });
}
