import { PacketPipeline } from '@ca-shark/packet';
import type { PacketEvent, PacketInfo, PacketProblem, PacketStats, TcpFlow } from '@ca-shark/packet';
import { Command, DbrType, Deframer, decodeCommand, guessRole, oneSidedRole } from '@ca-shark/protocol';
import type { CaFault, CaFrame, Role, RoleCertainty } from '@ca-shark/protocol';
import { classifyOpening } from './classify.js';
import type { OpeningVerdict } from './classify.js';
import { resolveOptions } from './options.js';
import type { DecoderOptions, ResolvedOptions } from './options.js';
import type { CaRecord } from './record.js';
import { BoundedMap } from './bounded-map.js';
import { ConversationState, capMap } from './state.js';
import type { ChannelInfo, CircuitInfo, DecoderState } from './state.js';
import { ChannelBook, other, payloadString } from './channels.js';
import type { Side } from './channels.js';
import { RecordEmitter, portGuess } from './emit.js';
import { SearchBook } from './search.js';
import { UdpHandler } from './udp.js';

/** Bytes of a direction looked at to recognise a CA opening. */
const CLASSIFY_WINDOW = 2048;
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
  private readonly records: RecordEmitter;
  private readonly channels: ChannelBook;
  private readonly searches: SearchBook;
  private readonly udp: UdpHandler;
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

  private readonly onTcpFrameCb = (frame: CaFrame): void => {
    if (this.held) this.held.push({ frame: copyFrame(frame) });
    else this.tcpFrame(this.curCtx as FlowCtx, this.curSide, this.curPacket as PacketInfo, frame);
  };
  private readonly onTcpFaultCb = (fault: CaFault): void => {
    if (this.held) this.held.push({ fault });
    else this.tcpFault(this.curCtx as FlowCtx, this.curSide, this.curPacket as PacketInfo, fault);
  };
  constructor(options: CreateDecoderOptions = {}) {
    this.opts = resolveOptions(options);
    this.st = new ConversationState(this.opts.limits);
    this.records = new RecordEmitter(this.st.statistics, this.opts.keepBytes, this);
    this.channels = new ChannelBook(this.st, this.opts.limits);
    const learned = (ip: string, port: number, packet: PacketInfo): void => this.serverLearned(ip, port, packet);
    this.searches = new SearchBook(this.st, this.opts.limits, learned);
    this.udp = new UdpHandler(this.st, this.opts, this.records, this.searches, learned);
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
        this.udp.datagramIn(ev.packet, ev.payload);
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
    // A fault on a circuit whose direction is unknown gets a role guessed from the ports.
    const record =
      c.clientSide === null
        ? this.records.draft(packet, portGuess(packet), 'guess')
        : this.records.draft(packet, side === c.clientSide ? 'request' : 'response', c.roleCertainty);
    record.circuit = c.id;
    record.server = c.server ?? undefined;
    record.client = c.client ?? undefined;
    this.records.sendMalformed(record, fault);
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
    // The handlers return the channel and set the request (and PV) they found on the record.
    const record = this.records.draft(packet, role, certainty);
    const book = this.channels;
    // An empty ID-1 reply is a cancel confirmation only when it answers a cancel (or names a known SID
    // with no live subscription); otherwise it is an empty 4.13 update. Asked before the handler forgets
    // the subscription.
    const emptyEventIsUpdate =
      frame.command === Command.EVENT_ADD && !isReq && frame.payloadSize === 0 && !book.isCancelConfirmation(c, frame);
    let channel: ChannelInfo | null;
    switch (frame.command) {
      case Command.READ_NOTIFY:
      case Command.READ:
      case Command.WRITE_NOTIFY:
        channel = isReq ? book.ioRequest(c, side, frame, packet) : book.ioReply(c, frame, record);
        break;
      case Command.WRITE:
        channel = book.write(c, frame);
        break;
      case Command.EVENT_ADD:
        channel = isReq
          ? book.eventAddRequest(c, side, frame, packet)
          : book.eventAddReply(c, side, frame, packet, record);
        break;
      default:
        channel = this.otherTcpCommand(c, side, frame, packet, record);
        break;
    }

    if (channel) {
      channel.messages++;
      if (record.pv === null) record.pv = channel.pv;
    }
    const enumStrings = channel?.enumStrings;
    const command =
      enumStrings || emptyEventIsUpdate
        ? decodeCommand(frame, role, { enumStrings: enumStrings ?? undefined, emptyEventIsUpdate })
        : decodeCommand(frame, role);
    if (!isReq && channel && (frame.dataType === DbrType.GR_ENUM || frame.dataType === DbrType.CTRL_ENUM)) {
      const meta = command.metadata as { enumStrings?: string[] } | undefined;
      if (meta?.enumStrings) channel.enumStrings = meta.enumStrings;
    }
    record.circuit = c.id;
    record.server = c.server ?? undefined;
    record.client = c.client ?? undefined;
    this.records.send(record, command, frame);
  }

  /**
   * {@link tcpFrame}'s handling of the commands other than reads, writes and monitors. Apart on purpose:
   * TurboFan deoptimises a function when a branch it never ran is reached, and a capture meets rare
   * commands (an IOC restart's disconnects, errors) late; inside tcpFrame each first sighting recompiled
   * it with all it inlines. Returns the channel; sets the request and PV on `record` like the handlers.
   */
  private otherTcpCommand(
    c: CircuitInfo,
    side: Side,
    frame: CaFrame,
    packet: PacketInfo,
    record: CaRecord,
  ): ChannelInfo | null {
    const isReq = record.role === 'request';
    const book = this.channels;
    switch (frame.command) {
      case Command.VERSION:
        if (isReq) {
          c.priority = frame.dataType;
          c.clientMinor = frame.dataCount;
        } else c.serverMinor = frame.dataCount;
        return null;
      case Command.CLIENT_NAME:
        if (isReq) c.userName = payloadString(frame);
        return null;
      case Command.HOST_NAME:
        if (isReq) c.hostName = payloadString(frame);
        return null;
      case Command.CREATE_CHAN:
        return isReq ? book.createRequest(c, frame, packet) : book.createReply(c, frame, packet, record);
      case Command.ACCESS_RIGHTS:
        return book.accessRights(c, frame);
      case Command.CREATE_CH_FAIL:
      case Command.SERVER_DISCONN:
        return book.channelGone(c, frame, packet, record);
      case Command.EVENT_CANCEL:
        return book.eventCancel(c, frame, packet);
      case Command.CLEAR_CHANNEL:
        return book.clearChannel(c, frame, packet, record);
      case Command.ECHO:
      case Command.READ_SYNC:
        book.echo(c, frame, packet, record);
        return null;
      case Command.ERROR:
        return book.errorContext(c, frame, record);
      case Command.SEARCH:
      case Command.NOT_FOUND: {
        // SEARCH over TCP to a name server (4.12+).
        const clientAddr = c.client ?? (isReq ? sideAddress(c, side) : sideAddress(c, other(side)));
        const serverAddr = c.server ?? (isReq ? sideAddress(c, other(side)) : sideAddress(c, side));
        this.searches.search(packet, frame, record, clientAddr, serverAddr, null, null);
        return null;
      }
      default:
        return null;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// Helpers

function sideAddress(c: CircuitInfo, side: Side): string {
  return side === 'a' ? c.a : c.b;
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

/** Copies a frame so it outlives the deframer callback. */
function copyFrame(f: CaFrame): CaFrame {
  const bytes = f.bytes.slice();
  const payloadStart = f.headerSize;
  return { ...f, bytes, payload: bytes.subarray(payloadStart, payloadStart + f.payload.length) };
}

function makePipeline(onEvent: (ev: PacketEvent) => void, stableInput: boolean): PacketPipeline {
  return new PacketPipeline({ onEvent, reader: { stableInput } });
}
