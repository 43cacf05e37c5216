import type { PacketInfo, PacketProblem, TcpFlow } from '@ca-shark/packet';
import type { RoleCertainty } from '@ca-shark/protocol';
import { BoundedMap } from './bounded-map.js';
import { other } from './channels.js';
import type { ChannelBook, Side } from './channels.js';
import type { CircuitHandler, TcpCircuit } from './circuit.js';
import { classifyOpening } from './classify.js';
import type { ResolvedOptions } from './options.js';
import { capMap } from './state.js';
import type { CircuitInfo, ConversationState } from './state.js';

/** Bytes of a direction looked at to recognise a CA opening. */
const CLASSIFY_WINDOW = 2048;
/** Skipped flows listed one by one (all are counted in `statistics.skipped`). */
const MAX_SKIPPED_LISTED = 100;

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

/** Where the flow table reports: the decoder's problem counter and its circuit-end callback. */
export interface FlowEvents {
  problem(problem: PacketProblem): void;
  onCircuitClose(circuit: CircuitInfo): void;
}

interface EarlyChunk {
  side: Side;
  packet: PacketInfo;
  data: Uint8Array;
}

/** Per TCP flow: recognition status, early bytes, and the circuit once it is CA. */
interface FlowCtx {
  flow: TcpFlow;
  status: 'pending' | 'ca' | 'other';
  /** Copies of the bytes seen while undecided (bounded by `limits.earlyBytes` per direction). */
  early: EarlyChunk[];
  earlyBytes: { a: number; b: number };
  circuit: TcpCircuit | null;
  /** Latest packet of the flow (the context of messages flushed at its end). */
  lastPacket: PacketInfo | null;
  /** Set while a gap made the start of the stream unknown (classification then uses the sequence test). */
  midStream: boolean;
  /** Set once bytes of this flow were skipped because it was not recognised as CA. */
  skipped: SkippedFlow | null;
}

/**
 * TCP flow recognition: which flows are CA circuits (a server port, a CA opening, or a server endpoint
 * learned from a search reply or beacon), what an undecided flow's early bytes become, gaps and closes.
 * Bytes of CA flows go to the {@link CircuitHandler}.
 */
export class FlowTable {
  private readonly flows = new BoundedMap<number, FlowCtx>();
  /** The first {@link MAX_SKIPPED_LISTED} skipped flows. */
  readonly skippedFlows: SkippedFlow[] = [];

  constructor(
    private readonly st: ConversationState,
    private readonly opts: ResolvedOptions,
    private readonly circuits: CircuitHandler,
    private readonly channels: ChannelBook,
    private readonly events: FlowEvents,
  ) {}

  /** A flow's first packet (SYN or first data seen). */
  open(flow: TcpFlow, packet: PacketInfo): void {
    this.flowCtx(flow, packet);
  }

  /** Payload bytes of one direction. */
  data(flow: TcpFlow, from: Side, packet: PacketInfo, data: Uint8Array): void {
    const ctx = this.flowCtx(flow, packet);
    if (ctx.circuit !== null) {
      this.caData(ctx, ctx.circuit, from, packet, data);
      return;
    }
    if (ctx.status === 'other') {
      this.skipBytes(ctx, data.length);
      return;
    }
    // Not decided: keep a copy (bounded) and look at this direction's first bytes.
    ctx.early.push({ side: from, packet, data: data.slice() });
    ctx.earlyBytes[from] += data.length;
    this.classify(ctx, from, packet);
  }

  /**
   * {@link data} of the bytes `bytes[start, end)`, valid during the call: a circuit's are read where they
   * are (the packet layer's `onTcpData`), no view is made for them.
   */
  dataIn(flow: TcpFlow, from: Side, packet: PacketInfo, bytes: Uint8Array, start: number, end: number): void {
    const ctx = this.flowCtx(flow, packet);
    if (ctx.circuit !== null) {
      ctx.lastPacket = packet;
      this.circuits.dataIn(ctx.circuit, from, packet, bytes, start, end);
      return;
    }
    this.data(flow, from, packet, new Uint8Array(bytes.buffer, bytes.byteOffset + start, end - start));
  }

  /** Bytes of one direction the capture never saw. */
  gap(flow: TcpFlow, from: Side, packet: PacketInfo, length: number): void {
    const ctx = this.flowCtx(flow, packet);
    if (ctx.status !== 'other') {
      // Bytes of a CA (or maybe CA) stream the capture never saw: the deframer reports only the bytes it
      // skips to resynchronise, which are none when the gap ends on a message boundary.
      const src = from === 'a' ? flow.a : flow.b;
      const dst = from === 'a' ? flow.b : flow.a;
      const size = length >= 0 ? `${length} bytes` : 'bytes';
      this.events.problem({
        type: 'problem',
        frame: packet.frame,
        timestamp: packet.timestamp,
        code: 'tcp-gap',
        message: `frame ${packet.frame}: TCP ${src.ip}:${src.port} -> ${dst.ip}:${dst.port}: ${size} missing from the capture`,
      });
    }
    if (ctx.circuit !== null) {
      (from === 'a' ? ctx.circuit.a : ctx.circuit.b).gap(packet, length);
    } else if (ctx.status === 'pending') {
      // The opening is lost: judge what follows as a mid-stream start.
      ctx.early = ctx.early.filter((c) => c.side !== from);
      ctx.earlyBytes[from] = 0;
      ctx.midStream = true;
    }
  }

  /** The flow ended (FIN, RST, idle timeout). */
  close(flow: TcpFlow, packet: PacketInfo, reason: string): void {
    const ctx = this.flows.get(flow.id);
    if (!ctx) return;
    this.flows.delete(flow.id);
    this.flush(ctx);
    this.skipUndecided(ctx);
    this.endFlow(ctx, packet, reason);
  }

  /** End of input: what the deframers still hold is a cut message or a pending fault. */
  end(): void {
    for (const ctx of this.flows.values()) {
      this.flush(ctx);
      this.skipUndecided(ctx);
    }
  }

  /** A newly learned server endpoint turns matching undecided or non-CA flows into circuits. */
  serverLearned(ip: string, port: number, packet: PacketInfo): void {
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

  private isKnownServer(ip: string, port: number): boolean {
    return this.opts.serverPorts.has(port) || this.st.servers.has(`${ip}:${port}`);
  }

  private flowCtx(flow: TcpFlow, packet: PacketInfo): FlowCtx {
    const ctx = this.flows.get(flow.id);
    if (ctx) {
      ctx.flow = flow;
      return ctx;
    }
    return this.newFlow(flow, packet);
  }

  /**
   * Apart from {@link flowCtx} on purpose: the eviction callback below captures `packet`, and V8 then
   * allocates a context for it on every call of the function that makes the closure, even when the
   * closure is never made. In flowCtx that was one allocation per TCP segment (4 % of all bytes
   * allocated decoding realistic.pcap).
   */
  private newFlow(flow: TcpFlow, packet: PacketInfo): FlowCtx {
    const ctx: FlowCtx = {
      flow,
      status: 'pending',
      early: [],
      earlyBytes: { a: 0, b: 0 },
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

  /** Looks at the first bytes of `from` of an undecided flow: CA, not CA, or not yet known. */
  private classify(ctx: FlowCtx, from: Side, packet: PacketInfo): void {
    const verdict = classifyOpening(firstBytes(ctx.early, from, CLASSIFY_WINDOW), ctx.midStream);
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
    // The start of the stream is not ours when bytes were skipped or the capture began mid-stream.
    const circuit = this.circuits.open(
      ctx.flow,
      packet,
      recognisedBy,
      clientSide,
      certainty,
      wasOther || ctx.midStream,
    );
    ctx.circuit = circuit;
    const early = ctx.early;
    ctx.early = [];
    for (const c of early) this.caData(ctx, circuit, c.side, c.packet, c.data);
  }

  private caData(ctx: FlowCtx, circuit: TcpCircuit, side: Side, packet: PacketInfo, data: Uint8Array): void {
    ctx.lastPacket = packet;
    this.circuits.data(circuit, side, packet, data);
  }

  private flush(ctx: FlowCtx): void {
    if (ctx.circuit !== null && ctx.lastPacket !== null) this.circuits.end(ctx.circuit, ctx.lastPacket);
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

  private endFlow(ctx: FlowCtx, packet: PacketInfo, reason: string): void {
    const c = ctx.circuit?.info;
    if (!c || c.closedAt !== null) return;
    c.closedAt = packet.timestamp;
    this.st.circuitClosed(c);
    c.closeReason = reason;
    this.channels.circuitEnded(c, packet.timestamp);
    this.events.onCircuitClose(c);
  }
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
