import type { PacketInfo, TcpFlow } from '@ca-shark/packet';
import { Command, DbrType, Deframer, decodeCommand, guessRole, oneSidedRole } from '@ca-shark/protocol';
import type { CaFault, CaFrame, DecodeCommandOptions, Role, RoleCertainty } from '@ca-shark/protocol';
import type { ResolvedOptions } from './options.js';
import type { CaRecord } from './record.js';
import { other, payloadString } from './channels.js';
import type { ChannelBook, Side } from './channels.js';
import { portGuess } from './emit.js';
import type { RecordEmitter } from './emit.js';
import type { SearchBook } from './search.js';
import { capMap } from './state.js';
import { IdTable } from './id-table.js';
import type { ChannelInfo, CircuitInfo, ConversationState } from './state.js';

/** Decoding options without DBR values (`decodeValues: false`), made once. */
const SKIP_DATA: DecodeCommandOptions = Object.freeze({ skipData: true });
const SKIP_DATA_EMPTY_UPDATE: DecodeCommandOptions = Object.freeze({ skipData: true, emptyEventIsUpdate: true });

/** A buffered message or fault while an undirected circuit is looked ahead. */
type Held = { frame: CaFrame; fault?: undefined } | { frame?: undefined; fault: CaFault };

/**
 * One direction of a circuit: its deframer, with callbacks made once per direction (no closure per
 * chunk on the hot path), and the packet whose bytes it is deframing.
 */
class Direction {
  readonly deframer: Deframer;
  /** The packet whose bytes are being deframed (the context of the messages they complete). */
  packet: PacketInfo | null = null;
  /** Set while the messages of an undirected circuit are held back to look for its direction. */
  held: Held[] | null = null;

  readonly onFrame = (frame: CaFrame): void => {
    if (this.held) this.held.push({ frame: copyFrame(frame) });
    else this.handler.message(this.circuit, this.side, this.packet as PacketInfo, frame);
  };
  readonly onFault = (fault: CaFault): void => {
    if (this.held) this.held.push({ fault });
    else this.handler.fault(this.circuit, this.side, this.packet as PacketInfo, fault);
  };

  constructor(
    private readonly handler: CircuitHandler,
    private readonly circuit: CircuitInfo,
    private readonly side: Side,
    maxPayloadSize: number,
    handOverLarge: boolean,
  ) {
    // Nothing here keeps a frame past the callback (held frames are copied): one frame object serves all.
    this.deframer = new Deframer({ maxPayloadSize, reuseFrames: true, handOverLarge });
  }

  /**
   * `lostBytes` bytes (negative: an unknown number) the capture never saw. With the count the deframer can
   * step over a gap inside a message's payload, or keep its place at a message boundary, instead of
   * hunting for the next plausible header.
   */
  gap(packet: PacketInfo, lostBytes: number): void {
    this.packet = packet;
    this.deframer.gap(lostBytes >= 0 ? lostBytes : undefined, this.onFrame);
  }

  /** Pushes `data[start, end)` into the deframer. */
  deframe(packet: PacketInfo, data: Uint8Array, start: number, end: number): void {
    // No restore needed afterwards: a message can make another flow replay its early bytes, but never
    // this one, which is a circuit already.
    this.packet = packet;
    this.deframer.pushRange(data, start, end, this.onFrame, this.onFault);
  }

  /** Ends the stream: what the deframer holds comes out cut. */
  end(packet: PacketInfo): void {
    this.packet = packet;
    this.deframer.end(this.onFrame, this.onFault);
  }
}

/** A CA circuit: its state entry and its two directions. */
export interface TcpCircuit {
  readonly info: CircuitInfo;
  readonly a: Direction;
  readonly b: Direction;
}

/**
 * The messages of CA circuits (TCP flows recognised as CA): deframing per direction, the role of each
 * message (from the handshake, or inferred from one-sided commands and IDs), and the per-command
 * bookkeeping, delegated to the {@link ChannelBook} (and the {@link SearchBook} for name-server searches).
 */
export class CircuitHandler {
  /** See {@link lending}. */
  private lent: DecodeCommandOptions | null = null;

  constructor(
    private readonly st: ConversationState,
    private readonly opts: ResolvedOptions,
    private readonly records: RecordEmitter,
    private readonly channels: ChannelBook,
    private readonly searches: SearchBook,
  ) {}

  /**
   * Makes a circuit of `flow`. `clientSide` is the client's end when known; `resync` when the start of
   * the stream is not ours (mid-stream capture, or bytes already skipped), so that the deframers look
   * for a plausible header first.
   */
  open(
    flow: TcpFlow,
    packet: PacketInfo,
    recognisedBy: CircuitInfo['recognisedBy'],
    clientSide: Side | null,
    certainty: RoleCertainty,
    resync: boolean,
  ): TcpCircuit {
    const info: CircuitInfo = {
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
      pendingIo: new IdTable(),
      subscriptions: new Map(),
      pendingClears: new Map(),
      pendingEcho: null,
    };
    this.st.circuits.set(info.id, info);
    this.st.statistics.evicted.circuits += capMap(this.st.circuits, this.opts.limits.maxCircuits, (c) =>
      this.st.dropCircuit(c),
    );
    if (clientSide) this.setClientSide(info, clientSide, certainty, packet.timestamp);
    const opts = this.opts;
    const max = opts.maxMessageSize;
    // A large message's memory can become its array's unless the record keeps or lends the message's
    // bytes (read after decoding, when the array is swapped in them) or arrays are lent memory.
    const handOver = opts.keepBytes === false && opts.arrayMemory === undefined && opts.decodeValues !== false;
    const circuit: TcpCircuit = {
      info,
      a: new Direction(this, info, 'a', max, handOver),
      b: new Direction(this, info, 'b', max, handOver),
    };
    const da = circuit.a.deframer;
    const db = circuit.b.deframer;
    if (resync) {
      da.gap();
      db.gap();
    }
    if (info.clientSide !== null && info.roleCertainty === 'certain') {
      // Roles from the TCP handshake: each deframer can refuse payloads its direction never carries. Not
      // for inferred roles: a wrong guess would turn good messages into faults.
      da.direction = info.clientSide === 'a' ? 'to-server' : 'to-client';
      db.direction = info.clientSide === 'a' ? 'to-client' : 'to-server';
    }
    return circuit;
  }

  /** Bytes of one direction of a circuit. */
  data(circuit: TcpCircuit, side: Side, packet: PacketInfo, data: Uint8Array): void {
    this.dataIn(circuit, side, packet, data, 0, data.length);
  }

  /** {@link data} of the bytes `bytes[start, end)`, read where they are. */
  dataIn(circuit: TcpCircuit, side: Side, packet: PacketInfo, bytes: Uint8Array, start: number, end: number): void {
    const c = circuit.info;
    c.lastSeen = packet.timestamp;
    this.st.sweep(packet.timestamp);
    const dir = side === 'a' ? circuit.a : circuit.b;
    if (c.clientSide !== null) {
      dir.deframe(packet, bytes, start, end);
      return;
    }
    // Undirected circuit: look at the whole chunk first, so a one-sided command anywhere in it
    // directs the messages before it as well.
    const held: Held[] = [];
    dir.held = held;
    try {
      dir.deframe(packet, bytes, start, end);
    } finally {
      dir.held = null;
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
      if (h.frame) this.message(c, side, packet, h.frame);
      else this.fault(c, side, packet, h.fault);
    }
  }

  /** End of the stream (the flow closed or the input ended): what the deframers hold comes out cut. */
  end(circuit: TcpCircuit, packet: PacketInfo): void {
    circuit.a.end(packet);
    circuit.b.end(packet);
  }

  /** The client end of `c` is `side`: sets the endpoints of the circuit and its channels, books the server. */
  setClientSide(c: CircuitInfo, side: Side, certainty: RoleCertainty, now: number): void {
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

  /** Bytes of a direction that are no CA message: a Malformed record. */
  fault(c: CircuitInfo, side: Side, packet: PacketInfo, fault: CaFault): void {
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

  /** One CA message of a circuit: role, bookkeeping, record. */
  message(c: CircuitInfo, side: Side, packet: PacketInfo, frame: CaFrame): void {
    let role: Role;
    let certainty: RoleCertainty;
    if (c.clientSide !== null) {
      role = side === c.clientSide ? 'request' : 'response';
      certainty = c.roleCertainty;
    } else {
      role = this.undirectedRole(c, side, frame, packet);
      certainty = c.clientSide !== null ? 'inferred' : 'guess';
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
        channel = this.otherCommand(c, side, frame, packet, record);
        break;
    }

    if (channel) {
      channel.messages++;
      if (record.pv === null) record.pv = channel.pv;
    }
    const enumStrings = channel?.enumStrings;
    const values = this.opts.decodeValues;
    const skipValues =
      values === false ||
      (values === 'writes' && !(isReq && (frame.command === Command.WRITE || frame.command === Command.WRITE_NOTIFY)));
    const memory = this.opts.arrayMemory;
    const command = skipValues
      ? decodeCommand(frame, role, emptyEventIsUpdate ? SKIP_DATA_EMPTY_UPDATE : SKIP_DATA)
      : enumStrings || emptyEventIsUpdate
        ? decodeCommand(frame, role, { enumStrings: enumStrings ?? undefined, emptyEventIsUpdate, arrayMemory: memory })
        : decodeCommand(frame, role, memory === undefined ? undefined : this.lending(memory));
    if (!isReq && channel && (frame.dataType === DbrType.GR_ENUM || frame.dataType === DbrType.CTRL_ENUM)) {
      const meta = 'metadata' in command ? command.metadata : undefined;
      if (meta?.enumStrings) channel.enumStrings = meta.enumStrings;
    }
    record.circuit = c.id;
    record.server = c.server ?? undefined;
    record.client = c.client ?? undefined;
    this.records.send(record, command, frame);
  }

  /** Decoding options that put large arrays in `memory` (made once). */
  private lending(memory: (byteLength: number) => Uint8Array): DecodeCommandOptions {
    let lent = this.lent;
    if (lent === null || lent.arrayMemory !== memory) lent = this.lent = Object.freeze({ arrayMemory: memory });
    return lent;
  }

  /**
   * Role of a message on a circuit whose client end is not known yet. Directs the circuit (certainty
   * 'inferred') when the message tells; otherwise the role is a guess and the circuit stays undirected.
   */
  private undirectedRole(c: CircuitInfo, side: Side, frame: CaFrame, packet: PacketInfo): Role {
    const now = packet.timestamp;
    const one = oneSidedRole(frame);
    if (one) {
      this.setClientSide(c, one === 'request' ? side : other(side), 'inferred', now);
      return one;
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
        return 'response';
      }
    }
    const g = guessRole(frame);
    return g ? g.role : portGuess(packet);
  }

  /**
   * {@link message}'s handling of the commands other than reads, writes and monitors. Apart on purpose:
   * TurboFan deoptimises a function when a branch it never ran is reached, and a capture meets rare
   * commands (an IOC restart's disconnects, errors) late; inside `message` each first sighting recompiled
   * it with all it inlines. Returns the channel; sets the request and PV on `record` like the handlers.
   */
  private otherCommand(
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
        const here = side === 'a' ? c.a : c.b;
        const there = side === 'a' ? c.b : c.a;
        const clientAddr = c.client ?? (isReq ? here : there);
        const serverAddr = c.server ?? (isReq ? there : here);
        this.searches.search(packet, frame, record, clientAddr, serverAddr, null, null);
        return null;
      }
      default:
        return null;
    }
  }
}

/** Copies a frame so it outlives the deframer callback. */
function copyFrame(f: CaFrame): CaFrame {
  const bytes = f.bytes.slice();
  const payloadStart = f.headerSize;
  return { ...f, bytes, payload: bytes.subarray(payloadStart, payloadStart + f.payload.length) };
}
