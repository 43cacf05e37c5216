import { PacketPipeline } from '@ca-shark/packet';
import type { PacketEvent, PacketInfo, PacketProblem, PacketStats, TcpFlow } from '@ca-shark/packet';
import { ChannelBook } from './channels.js';
import { CircuitHandler } from './circuit.js';
import { RecordEmitter } from './emit.js';
import { FlowTable } from './flows.js';
import type { SkippedFlow } from './flows.js';
import { resolveOptions } from './options.js';
import type { DecoderOptions, ResolvedOptions } from './options.js';
import type { CaRecord } from './record.js';
import { SearchBook } from './search.js';
import { ConversationState } from './state.js';
import type { CircuitInfo, DecoderState } from './state.js';
import { UdpHandler } from './udp.js';
import { warmUpOnce } from './warmup.js';

export type { SkippedFlow } from './flows.js';

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
  /**
   * Also treats `port` as a CA server port from now on (a central daemon learns the ports of the sensors
   * whose records it replays).
   */
  addServerPort(port: number): void;
}

/** Creates a push decoder. */
export function createDecoder(options: CreateDecoderOptions = {}): CaDecoder {
  warmUpOnce();
  return new Decoder(options);
}

/**
 * @internal The decoder: takes packet-layer events and hands each to the module whose job it is (see
 * docs/internals.md). Exported for the shark() generator only.
 *
 *   UDP datagram ──▶ UdpHandler ──┬─▶ SearchBook (searches, also over TCP)
 *   TCP event ─────▶ FlowTable ───┴─▶ CircuitHandler ──▶ ChannelBook
 *                                        all ──▶ RecordEmitter ──▶ onRecord
 */
export class Decoder implements CaDecoder {
  readonly opts: ResolvedOptions;
  private readonly st: ConversationState;
  private readonly flows: FlowTable;
  private readonly udp: UdpHandler;
  onRecord: (record: CaRecord) => void;
  onProblem: (problem: PacketProblem) => void;
  onCircuitClose: (circuit: CircuitInfo) => void;
  private pipeline: PacketPipeline | null = null;
  /**
   * Set before the first {@link pushCapture} when pushed bytes are never changed afterwards (shark()'s own
   * file chunks and buffers): see the packet reader's `stableInput`.
   */
  stableCaptureInput = false;
  /**
   * The packet layer's counters as last reported by shark()'s packet thread, which runs the packet layer
   * in a worker and feeds this decoder through {@link Decoder.udpIn} and the `tcp*` methods.
   */
  remotePacketStats: PacketStats | undefined = undefined;

  constructor(options: CreateDecoderOptions = {}) {
    this.onRecord = options.onRecord ?? (() => {});
    this.onProblem = options.onProblem ?? (() => {});
    this.onCircuitClose = options.onCircuitClose ?? (() => {});
    const opts = resolveOptions(options);
    const st = new ConversationState(opts.limits);
    this.opts = opts;
    this.st = st;
    const records = new RecordEmitter(st.statistics, opts.keepBytes, this, st.commandCounts);
    const channels = new ChannelBook(st, opts.limits);
    // A search reply or beacon naming a new server endpoint may turn waiting flows into circuits.
    const learned = (ip: string, port: number, packet: PacketInfo): void => this.flows.serverLearned(ip, port, packet);
    const searches = new SearchBook(st, opts.limits, learned);
    const circuits = new CircuitHandler(st, opts, records, channels, searches);
    this.flows = new FlowTable(st, opts, circuits, channels, this);
    this.udp = new UdpHandler(st, opts, records, searches, learned);
  }

  get state(): DecoderState {
    return this.st;
  }

  get packetStats(): PacketStats | undefined {
    return this.pipeline?.stats ?? this.remotePacketStats;
  }

  get skippedFlows(): readonly SkippedFlow[] {
    return this.flows.skippedFlows;
  }

  addServerPort(port: number): void {
    this.opts.serverPorts.add(port);
  }

  pushCapture(chunk: Uint8Array): void {
    this.ensurePipeline().pushCapture(chunk);
  }

  pushFrame(linktype: number, timestamp: number, bytes: Uint8Array, origlen = bytes.length): void {
    this.ensurePipeline().pushFrame(linktype, timestamp, bytes, origlen);
  }

  end(): void {
    this.pipeline?.end();
    this.flows.end();
  }

  feed(ev: PacketEvent): void {
    switch (ev.type) {
      case 'udp':
        this.udp.datagramIn(ev.packet, ev.payload);
        break;
      case 'tcp-data':
        this.flows.data(ev.flow, ev.from, ev.packet, ev.data);
        break;
      case 'tcp-open':
        this.flows.open(ev.flow, ev.packet);
        break;
      case 'tcp-gap':
        this.flows.gap(ev.flow, ev.from, ev.packet, ev.length);
        break;
      case 'tcp-close':
        this.flows.close(ev.flow, ev.packet, ev.reason);
        break;
      case 'problem':
        this.problem(ev);
        break;
    }
  }

  // The events of feed() one by one, without an event object each: shark()'s packet thread rebuilds the
  // events' parts from shared memory and hands them over this way.

  /** A UDP datagram (the `udp` event). */
  udpIn(packet: PacketInfo, payload: Uint8Array): void {
    this.udp.datagramIn(packet, payload);
  }

  /** Stream bytes of a TCP flow (the `tcp-data` event). */
  tcpData(flow: TcpFlow, from: 'a' | 'b', packet: PacketInfo, data: Uint8Array): void {
    this.flows.data(flow, from, packet, data);
  }

  /** Bytes lost in a TCP flow (the `tcp-gap` event). */
  tcpGap(flow: TcpFlow, from: 'a' | 'b', packet: PacketInfo, length: number): void {
    this.flows.gap(flow, from, packet, length);
  }

  /** A new TCP flow (the `tcp-open` event). */
  tcpOpen(flow: TcpFlow, packet: PacketInfo): void {
    this.flows.open(flow, packet);
  }

  /** A TCP flow ended (the `tcp-close` event). */
  tcpClose(flow: TcpFlow, packet: PacketInfo, reason: 'fin' | 'rst' | 'timeout' | 'evicted'): void {
    this.flows.close(flow, packet, reason);
  }

  /** Counts a problem (packet layer, or a TCP gap in a CA flow) and passes it on. */
  problem(p: PacketProblem): void {
    const probs = this.st.statistics.problems;
    probs[p.code] = (probs[p.code] ?? 0) + 1;
    this.onProblem(p);
  }

  private ensurePipeline(): PacketPipeline {
    this.pipeline ??= new PacketPipeline({
      onEvent: (ev) => this.feed(ev),
      // Stream bytes, most of the events, come without an event object or a view each.
      onTcpData: (flow, from, packet, bytes, start, end) => this.flows.dataIn(flow, from, packet, bytes, start, end),
      reader: { stableInput: this.stableCaptureInput },
    });
    return this.pipeline;
  }
}
