/**
 * The IOC simulator: a CA server (UDP name resolution, beacons, TCP circuits) over a {@link PvDatabase},
 * written to behave like RSRV where the reference says how, and to be driven by tests (reply delays,
 * restart, PV removal).
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {
  AccessRights,
  CA_MINOR_VERSION,
  CA_REPEATER_PORT,
  CA_SERVER_PORT,
  Command,
  DbrType,
  Deframer,
  ECA_NORMAL,
  Eca,
  build,
  LEGACY_MAX_PAYLOAD,
  SearchReply,
  dbrAlignedSize,
  decodeDbr,
  deframeDatagram,
  encodeDbr,
  encodeMessage,
  isValidDbrType,
} from '@ca-shark/protocol';
import type { CaFault, CaFrame, DbrMetadata } from '@ca-shark/protocol';
import { nativeTypeOf, readElements, writeElements } from './convert.js';
import type { Elements } from './convert.js';
import { Prng } from './prng.js';
import { ownPeriodMs, PvDatabase, standardPvs } from './pvs.js';
import type { NativeType, Pv, PvSpec, PvUpdate } from './pvs.js';
import { isLoopback, payloadString } from './util.js';

/** Options of {@link startIoc}. Every field is optional. */
export interface IocOptions {
  /** Prefix of the standard PV names (default 'sim:'). */
  prefix?: string;
  /** Number of extra generated PVs `${prefix}pv0..` (default 0). */
  pvs?: number;
  /** Further PVs to serve, in addition to the standard set. */
  extraPvs?: readonly PvSpec[];
  /** Serve the standard set (default true). With false only `extraPvs` are served. */
  standardPvs?: boolean;
  /** Update rate of the periodic PVs in Hz (default 10; 0 stops them, except the 100 ms counter). */
  rate?: number;
  /** UDP search port (default 5064; 0 = any free port). Shared with other IOCs (SO_REUSEADDR). */
  port?: number;
  /**
   * TCP port (default: the UDP port; if that is busy a dynamic port, as RSRV does; 0 = dynamic).
   * Announced in search replies and beacons.
   */
  tcpPort?: number;
  /** Address to serve on (default '127.0.0.1': loopback only). '0.0.0.0' serves every interface. */
  host?: string;
  /**
   * Broadcast address whose searches are also received (default '127.255.255.255' when `host` is a
   * loopback address). A socket bound to 127.0.0.1 does not receive broadcasts, so a second UDP socket is
   * bound to this address on the same port.
   */
  broadcastAddress?: string;
  /** Beacon destination port (default 5065, `EPICS_CA_REPEATER_PORT`). */
  beaconPort?: number;
  /** Beacon destination address (default '127.0.0.1'). */
  beaconAddress?: string;
  /** First beacon interval in ms (default 20); it doubles up to `beaconPeriodMs`. */
  beaconInitialMs?: number;
  /** Steady beacon period in ms (default 15000, `EPICS_CAS_BEACON_PERIOD`). */
  beaconPeriodMs?: number;
  /** Send beacons (default true). */
  beacons?: boolean;
  /** Seed of the value generator (default 1). */
  seed?: number;
  /** Delay every TCP reply by this many ms (a slow IOC); changeable later through `handle.hooks`. */
  replyDelayMs?: number;
  /** Delay search replies by this many ms. */
  searchReplyDelayMs?: number;
  /** Largest DBR payload served; larger reads answer ECA_TOLARGE (default 64 MiB). */
  maxArrayBytes?: number;
  /** Time source in ms (default Date.now): timestamps of values. */
  clock?: () => number;
  /** Diagnostic events (circuit open/close, protocol faults). */
  log?: (event: IocLogEvent) => void;
}

/** One diagnostic event of the simulator. */
export interface IocLogEvent {
  level: 'info' | 'warn';
  msg: string;
  [field: string]: unknown;
}

/** Knobs a test may turn while the IOC runs. */
export interface IocHooks {
  /** Delay of TCP replies in ms. */
  replyDelayMs: number;
  /** Delay of UDP search replies in ms. */
  searchReplyDelayMs: number;
  /** When true, searches get no answer at all (an IOC that stopped resolving names). */
  ignoreSearches: boolean;
}

/** Counters of what the IOC did, for tests and the CLI. */
export interface IocStats {
  searchDatagrams: number;
  searchRequests: number;
  searchReplies: number;
  notFoundReplies: number;
  beacons: number;
  circuitsAccepted: number;
  circuitsOpen: number;
  channelsOpen: number;
  subscriptions: number;
  readRequests: number;
  writeRequests: number;
  updatesSent: number;
  errorsSent: number;
  faults: number;
}

/** A running simulated IOC. */
export interface IocHandle {
  readonly prefix: string;
  readonly host: string;
  /** UDP search port actually bound. */
  readonly udpPort: number;
  /** TCP port actually bound (announced in search replies and beacons). */
  readonly tcpPort: number;
  /** The served PVs. Add PVs at any time; remove them with {@link IocHandle.removePv}. */
  readonly db: PvDatabase;
  readonly hooks: IocHooks;
  readonly stats: Readonly<IocStats>;
  /** Names of every served PV. */
  pvNames(): string[];
  /** Adds a PV (it is found by the next search). */
  addPv(spec: PvSpec): Pv;
  /** Removes a PV; its channels get SERVER_DISCONN. Returns false if it did not exist. */
  removePv(name: string): boolean;
  /**
   * Stops the IOC: closes the sockets and every circuit. With `disconnect`, each open channel first gets
   * a SERVER_DISCONN (as a PCAS server shutting down politely does).
   */
  stop(options?: { disconnect?: boolean }): Promise<void>;
  /**
   * Simulates an IOC reboot: drops every circuit, stays silent for `downMs` (default 0), then serves
   * again on the same ports with the beacon counter restarted from 0. PV values are kept.
   */
  restart(options?: { downMs?: number }): Promise<void>;
}

const DEFAULT_PREFIX = 'sim:';
const DEFAULT_RATE_HZ = 10;
const DEFAULT_BEACON_PERIOD_MS = 15000;
const DEFAULT_BEACON_INITIAL_MS = 20;
const DEFAULT_MAX_ARRAY_BYTES = 64 * 1024 * 1024;
/** Largest reply datagram: an Ethernet payload (ETHERNET_MAX_UDP in RSRV). */
const MAX_UDP_REPLY = 1472;
/** Highest priority a client may ask for (RSRV drops the circuit above it). */
const MAX_PRIORITY = 99;
/** RSRV caps an ERROR payload (header copy + text). */
const MAX_ERROR_PAYLOAD = 512;
/** Field suffix that names a record's value, as in `sim:double.VAL`. */
const VAL_FIELD = '.VAL';
/** Largest native count announced to a pre-4.9 client (no extended header). */
const LEGACY_MAX_COUNT = 0xfffe;
/** ERROR `p1` when the failing request names no channel. */
const NO_CID = 0xffffffff;
/** Oldest client minor a current server answers (4.4: search by name). */
const MIN_SEARCH_MINOR = 4;
/** First minor with the extended header (4.9), UDP VERSION with sequence numbers (4.11), count 0 (4.13). */
const MINOR_EXTENDED_HEADER = 9;
const MINOR_UDP_VERSION = 11;
const MINOR_DYNAMIC_COUNT = 13;
/** Outgoing bytes queued on a circuit above which subscription updates are coalesced (flow control). */
const CIRCUIT_HIGH_WATER = 1 << 20;
/** Largest zero-filled payload of a failed READ_NOTIFY or update; larger failures go out as ERROR. */
const MAX_ZERO_FILL = LEGACY_MAX_PAYLOAD;
/** EVENT_ADD payload: mask u16 at offset 12. */
const EVENT_ADD_MASK_OFFSET = 12;
const EVENT_ADD_PAYLOAD_SIZE = 16;
/** UDP VERSION `dt` flag: "p1 is a sequence number". */
const VERSION_SEQUENCE_FLAG = 1;

/** Record type names for DBR_CLASS_NAME reads, by native type. */
const CLASS_NAMES: Readonly<Record<NativeType, [scalar: string, array: string]>> = {
  STRING: ['stringout', 'waveform'],
  SHORT: ['longout', 'waveform'],
  FLOAT: ['ao', 'waveform'],
  ENUM: ['mbbo', 'waveform'],
  CHAR: ['longout', 'waveform'],
  LONG: ['longout', 'waveform'],
  DOUBLE: ['ao', 'waveform'],
};

function ecaCode(name: string): number {
  const code = Eca[`ECA_${name}`];
  if (code === undefined) throw new Error(`unknown ECA code ${name}`);
  return code;
}
const ECA_BADCHID = ecaCode('BADCHID');
const ECA_BADTYPE = ecaCode('BADTYPE');
const ECA_BADCOUNT = ecaCode('BADCOUNT');
const ECA_BADMONID = ecaCode('BADMONID');
const ECA_BADMASK = ecaCode('BADMASK');
const ECA_NOWTACCESS = ecaCode('NOWTACCESS');
const ECA_PUTFAIL = ecaCode('PUTFAIL');
const ECA_TOLARGE = ecaCode('TOLARGE');
const ECA_INTERNAL = ecaCode('INTERNAL');
const ECA_16KARRAYCLIENT = ecaCode('16KARRAYCLIENT');

/** Starts a simulated IOC and resolves once its sockets listen. */
export async function startIoc(options: IocOptions = {}): Promise<IocHandle> {
  const ioc = new Ioc(options);
  await ioc.start();
  return ioc;
}

interface Channel {
  sid: number;
  cid: number;
  pv: Pv;
  subscriptions: Map<number, Subscription>;
}

interface Subscription {
  id: number;
  channel: Channel;
  dataType: number;
  /** Count as requested (0 = current length). */
  count: number;
  mask: number;
  /** An update is owed (events off, or the circuit is congested). */
  pending: boolean;
  unlisten: () => void;
}

class Ioc implements IocHandle {
  readonly prefix: string;
  readonly host: string;
  readonly db: PvDatabase;
  readonly hooks: IocHooks;
  readonly stats: IocStats = {
    searchDatagrams: 0,
    searchRequests: 0,
    searchReplies: 0,
    notFoundReplies: 0,
    beacons: 0,
    circuitsAccepted: 0,
    circuitsOpen: 0,
    channelsOpen: 0,
    subscriptions: 0,
    readRequests: 0,
    writeRequests: 0,
    updatesSent: 0,
    errorsSent: 0,
    faults: 0,
  };
  udpPort = 0;
  tcpPort = 0;
  readonly clock: () => number;
  readonly maxArrayBytes: number;
  private readonly options: IocOptions;
  private readonly prng: Prng;
  private readonly loopbackOnly: boolean;
  private udp: dgram.Socket | undefined;
  private udpBroadcast: dgram.Socket | undefined;
  private beaconSocket: dgram.Socket | undefined;
  private tcp: net.Server | undefined;
  private readonly circuits = new Set<Circuit>();
  private timers: NodeJS.Timeout[] = [];
  /** Periods (ms) that already have a timer: counters and PVs with their own update period. */
  private readonly ownPeriods = new Set<number>();
  private beaconTimer: NodeJS.Timeout | undefined;
  private beaconId = 0;
  private nextSid = 0;
  private running = false;
  private readonly unlistenRemove: () => void;

  constructor(options: IocOptions) {
    this.options = options;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    this.host = options.host ?? '127.0.0.1';
    this.loopbackOnly = isLoopback(this.host);
    this.clock = options.clock ?? Date.now;
    this.maxArrayBytes = options.maxArrayBytes ?? DEFAULT_MAX_ARRAY_BYTES;
    this.prng = new Prng(options.seed ?? 1);
    this.hooks = {
      replyDelayMs: options.replyDelayMs ?? 0,
      searchReplyDelayMs: options.searchReplyDelayMs ?? 0,
      ignoreSearches: false,
    };
    const specs: PvSpec[] = [];
    if (options.standardPvs !== false) {
      specs.push(...standardPvs({ prefix: this.prefix, generated: options.pvs ?? 0, seed: options.seed ?? 1 }));
    }
    if (options.extraPvs) specs.push(...options.extraPvs);
    this.db = new PvDatabase(specs, this.clock());
    this.unlistenRemove = this.db.onRemove((pv) => {
      for (const circuit of this.circuits) circuit.dropPv(pv);
    });
  }

  pvNames(): string[] {
    return this.db.names();
  }

  addPv(spec: PvSpec): Pv {
    const pv = this.db.add(spec, this.clock());
    if (this.running) this.ensureOwnTimer(pv);
    return pv;
  }

  removePv(name: string): boolean {
    return this.db.remove(name);
  }

  /** The PV a channel name means: its own name, or the name with the `.VAL` field suffix. */
  lookup(name: string): Pv | undefined {
    return this.db.get(name) ?? (name.endsWith(VAL_FIELD) ? this.db.get(name.slice(0, -VAL_FIELD.length)) : undefined);
  }

  allocateSid(): number {
    const sid = this.nextSid;
    this.nextSid = (this.nextSid + 1) >>> 0;
    return sid;
  }

  log(event: IocLogEvent): void {
    this.options.log?.(event);
  }

  async start(): Promise<void> {
    try {
      await this.openUdp(this.options.port ?? CA_SERVER_PORT);
      await this.openTcp(this.options.tcpPort);
      if (this.options.beacons !== false) await this.openBeacons();
    } catch (err) {
      // Do not leave half the sockets bound when, say, the TCP port is taken.
      await this.closeAll(false);
      this.unlistenRemove();
      throw err;
    }
    this.startUpdates();
    this.running = true;
    this.log({
      level: 'info',
      msg: 'ioc started',
      host: this.host,
      udpPort: this.udpPort,
      tcpPort: this.tcpPort,
      pvs: this.db.size,
    });
  }

  async stop(options: { disconnect?: boolean } = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.closeAll(options.disconnect === true);
    this.unlistenRemove();
    this.log({ level: 'info', msg: 'ioc stopped' });
  }

  async restart(options: { downMs?: number } = {}): Promise<void> {
    if (!this.running) throw new Error('restart of a stopped IOC');
    this.running = false;
    await this.closeAll(false);
    if (options.downMs) await new Promise((resolve) => setTimeout(resolve, options.downMs));
    this.beaconId = 0;
    await this.openUdp(this.udpPort);
    await this.openTcp(this.tcpPort);
    if (this.options.beacons !== false) await this.openBeacons();
    this.startUpdates();
    this.running = true;
    this.log({ level: 'info', msg: 'ioc restarted', udpPort: this.udpPort, tcpPort: this.tcpPort });
  }

  private async closeAll(disconnect: boolean): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    if (this.beaconTimer) clearTimeout(this.beaconTimer);
    this.beaconTimer = undefined;
    const closing: Promise<void>[] = [];
    for (const s of [this.udp, this.udpBroadcast, this.beaconSocket]) {
      if (s) closing.push(new Promise<void>((resolve) => s.close(() => resolve())));
    }
    this.udp = this.udpBroadcast = this.beaconSocket = undefined;
    const tcp = this.tcp;
    this.tcp = undefined;
    if (tcp) closing.push(new Promise<void>((resolve) => tcp.close(() => resolve())));
    for (const circuit of [...this.circuits]) circuit.close(disconnect);
    await Promise.all(closing);
  }

  forgetCircuit(circuit: Circuit, channels: number): void {
    if (!this.circuits.delete(circuit)) return;
    this.stats.circuitsOpen -= 1;
    this.log({
      level: 'info',
      msg: 'circuit closed',
      client: circuit.peer,
      user: circuit.userName,
      host: circuit.hostName,
      channels,
    });
  }

  // ---- periodic updates ----------------------------------------------------------------------

  private startUpdates(): void {
    const rate = this.options.rate ?? DEFAULT_RATE_HZ;
    if (rate > 0) {
      this.timers.push(
        setInterval(() => this.tickWhere((u) => ownPeriodMs(u) === undefined), Math.max(1, 1000 / rate)),
      );
    }
    this.ownPeriods.clear();
    for (const pv of this.db.all()) this.ensureOwnTimer(pv);
  }

  /**
   * Counters and PVs with their own `periodMs` (waveforms at a given rate) tick independently of the
   * rate: one timer per distinct period.
   */
  private ensureOwnTimer(pv: Pv): void {
    const period = ownPeriodMs(pv.update);
    if (period === undefined || this.ownPeriods.has(period)) return;
    this.ownPeriods.add(period);
    this.timers.push(setInterval(() => this.tickWhere((u) => ownPeriodMs(u) === period), Math.max(1, period)));
  }

  private tickWhere(selected: (update: PvUpdate) => boolean): void {
    const now = this.clock();
    for (const pv of this.db.all()) {
      if (pv.update !== undefined && selected(pv.update)) pv.tick(this.prng, now);
    }
  }

  // ---- UDP: searches and beacons ---------------------------------------------------------------

  private async openUdp(port: number): Promise<void> {
    const udp = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    udp.on('message', (msg, rinfo) => this.onSearchDatagram(msg, rinfo));
    udp.on('error', (err) => this.log({ level: 'warn', msg: 'udp error', err: err.message }));
    await bindUdp(udp, port, this.host);
    this.udp = udp;
    this.udpPort = udp.address().port;
    const broadcast = this.options.broadcastAddress ?? (this.loopbackOnly ? '127.255.255.255' : undefined);
    if (broadcast !== undefined && broadcast !== this.host) {
      const bc = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      bc.on('message', (msg, rinfo) => this.onSearchDatagram(msg, rinfo));
      bc.on('error', (err) => this.log({ level: 'warn', msg: 'udp broadcast error', err: err.message }));
      await bindUdp(bc, this.udpPort, broadcast);
      this.udpBroadcast = bc;
    }
  }

  private onSearchDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Sockets bound to 0.0.0.0 or a broadcast address could see other hosts: keep loopback promises.
    if (this.loopbackOnly && !isLoopback(rinfo.address)) return;
    if (!this.running || this.hooks.ignoreSearches) return;
    this.stats.searchDatagrams += 1;
    const replies: Uint8Array[] = [];
    let sequence: number | undefined;
    let bad = false;
    deframeDatagram(
      msg,
      (frame: CaFrame) => {
        if (frame.command === Command.VERSION) {
          if (frame.dataType === VERSION_SEQUENCE_FLAG && frame.dataCount >= MINOR_UDP_VERSION)
            sequence = frame.parameter1;
          return;
        }
        if (frame.command !== Command.SEARCH) return;
        this.stats.searchRequests += 1;
        const reply = this.searchReply(frame, true);
        if (reply) replies.push(reply);
      },
      () => {
        bad = true;
      },
    );
    if (bad) this.stats.faults += 1;
    if (replies.length === 0) return;
    const datagrams = batchReplies(replies, sequence);
    const send = (): void => {
      const udp = this.udp;
      if (!udp) return;
      for (const d of datagrams) udp.send(d, rinfo.port, rinfo.address);
    };
    if (this.hooks.searchReplyDelayMs > 0) setTimeout(send, this.hooks.searchReplyDelayMs);
    else send();
  }

  /** Reply to one SEARCH (UDP or TCP), or `undefined` when none is due. */
  searchReply(frame: CaFrame, udp: boolean): Uint8Array | undefined {
    const clientMinor = frame.dataCount;
    if (clientMinor < MIN_SEARCH_MINOR) return undefined;
    const name = payloadString(frame.payload);
    const cid = frame.parameter1;
    if (this.lookup(name) !== undefined) {
      this.stats.searchReplies += 1;
      // p1 0xFFFFFFFF (the builder's default): "use this datagram's source address", as RSRV does.
      return build.searchResponse({ port: this.tcpPort, cid, tcp: !udp });
    }
    if (frame.dataType !== SearchReply.DO_REPLY) return undefined;
    this.stats.notFoundReplies += 1;
    // PCAS style: NOT_FOUND also over UDP, a copy of the request header without its payload.
    return build.notFoundResponse({ reply: SearchReply.DO_REPLY, version: clientMinor, cid });
  }

  private async openBeacons(): Promise<void> {
    const sock = dgram.createSocket({ type: 'udp4' });
    sock.on('error', (err) => this.log({ level: 'warn', msg: 'beacon error', err: err.message }));
    await bindUdp(sock, 0, this.host === '0.0.0.0' ? '0.0.0.0' : this.host);
    const address = this.options.beaconAddress ?? '127.0.0.1';
    if (address.endsWith('.255')) sock.setBroadcast(true);
    this.beaconSocket = sock;
    const port = this.options.beaconPort ?? CA_REPEATER_PORT;
    const period = this.options.beaconPeriodMs ?? DEFAULT_BEACON_PERIOD_MS;
    let interval = Math.min(this.options.beaconInitialMs ?? DEFAULT_BEACON_INITIAL_MS, period);
    const beat = (): void => {
      if (this.beaconSocket !== sock) return;
      const msg = build.beacon({ version: CA_MINOR_VERSION, server_port: this.tcpPort, beacon_id: this.beaconId });
      this.beaconId = (this.beaconId + 1) >>> 0;
      this.stats.beacons += 1;
      sock.send(msg, port, address);
      this.beaconTimer = setTimeout(beat, interval);
      interval = Math.min(interval * 2, period);
    };
    beat();
  }

  // ---- TCP circuits ------------------------------------------------------------------------------

  private async openTcp(requested: number | undefined): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    const tryListen = (port: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen({ port, host: this.host, exclusive: true }, () => {
          server.off('error', onError);
          resolve();
        });
      });
    if (requested !== undefined) {
      await tryListen(requested);
    } else {
      try {
        await tryListen(this.udpPort);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
        // Like RSRV: keep the shared UDP port, take any free TCP port and announce it.
        await tryListen(0);
      }
    }
    server.on('error', (err) => this.log({ level: 'warn', msg: 'tcp error', err: err.message }));
    this.tcp = server;
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('TCP server has no port');
    this.tcpPort = address.port;
  }

  private onConnection(socket: net.Socket): void {
    if (!this.running || (this.loopbackOnly && !isLoopback(socket.remoteAddress ?? ''))) {
      socket.destroy();
      return;
    }
    const circuit = new Circuit(this, socket);
    this.circuits.add(circuit);
    this.stats.circuitsAccepted += 1;
    this.stats.circuitsOpen += 1;
    this.log({ level: 'info', msg: 'circuit open', client: `${socket.remoteAddress}:${socket.remotePort}` });
  }
}

/** Packs replies into datagrams of at most {@link MAX_UDP_REPLY} bytes, each led by the VERSION echo. */
function batchReplies(replies: readonly Uint8Array[], sequence: number | undefined): Buffer[] {
  const lead = sequence === undefined ? undefined : build.versionResponse({ sequence });
  const out: Buffer[] = [];
  let current: Uint8Array[] = [];
  let size = 0;
  const flush = (): void => {
    if (current.length > 0) out.push(Buffer.concat(lead ? [lead, ...current] : current));
    current = [];
    size = 0;
  };
  const leadSize = lead?.length ?? 0;
  for (const r of replies) {
    if (current.length > 0 && leadSize + size + r.length > MAX_UDP_REPLY) flush();
    current.push(r);
    size += r.length;
  }
  flush();
  return out;
}

function bindUdp(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    socket.once('error', onError);
    socket.bind({ port, address }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

/** One TCP virtual circuit: deframes requests, answers them, pushes subscription updates. */
class Circuit {
  private readonly ioc: Ioc;
  private readonly socket: net.Socket;
  private readonly deframer: Deframer;
  private readonly channels = new Map<number, Channel>();
  private readonly subscriptions = new Map<number, Subscription>();
  private clientMinor = 0;
  private eventsOn = true;
  private closed = false;
  private outQueue: Uint8Array[] = [];
  private flushScheduled = false;
  userName = '';
  hostName = '';
  priority = 0;
  /** The client's 'address:port'. */
  readonly peer: string;

  constructor(ioc: Ioc, socket: net.Socket) {
    this.ioc = ioc;
    this.socket = socket;
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    // Writes above the array limit arrive as truncated frames and are refused with ECA_TOLARGE.
    this.deframer = new Deframer({ maxPayloadSize: ioc.maxArrayBytes });
    socket.setNoDelay(true);
    socket.on('data', (data) => this.onData(data));
    socket.on('close', () => this.teardown());
    socket.on('error', () => this.teardown());
    socket.on('drain', () => this.flushPendingUpdates());
    // RSRV queues its VERSION as soon as it accepts the connection (4.11+).
    this.send(build.versionResponse());
  }

  close(disconnect: boolean): void {
    if (this.closed) return;
    if (disconnect) {
      for (const ch of this.channels.values()) this.send(this.serverDisconn(ch));
      this.flush();
      this.socket.end();
      this.teardown(false);
    } else {
      this.teardown();
    }
  }

  /** A PV was removed from the database: SERVER_DISCONN its channels here. */
  dropPv(pv: Pv): void {
    for (const ch of [...this.channels.values()]) {
      if (ch.pv !== pv) continue;
      this.removeChannel(ch);
      this.send(this.serverDisconn(ch));
    }
  }

  private serverDisconn(ch: Channel): Uint8Array {
    return build.serverDisconnResponse({ cid: ch.cid });
  }

  private teardown(destroy = true): void {
    if (this.closed) return;
    this.closed = true;
    const channels = this.channels.size;
    for (const ch of [...this.channels.values()]) this.removeChannel(ch);
    this.outQueue = [];
    this.ioc.forgetCircuit(this, channels);
    if (destroy) this.socket.destroy();
  }

  private onData(data: Buffer): void {
    this.deframer.push(
      data,
      (frame: CaFrame) => {
        // The frame's views are only valid during the callback; a delayed reply needs a copy.
        const delay = this.ioc.hooks.replyDelayMs;
        if (delay > 0) {
          const copy = copyFrame(frame);
          setTimeout(() => this.handle(copy), delay);
        } else {
          this.handle(frame);
        }
      },
      (fault: CaFault) => this.fault(fault.code, fault.message),
    );
    // The deframer reports skipped bytes once it has resynchronised; a server need not wait for that.
    if (!this.closed && this.deframer.resynchronising) this.fault('bad-header', 'implausible message header');
  }

  /** RSRV disconnects a client that breaks the framing; the simulator does the same, after saying why. */
  private fault(code: string, detail: string): void {
    if (this.closed) return;
    this.ioc.stats.faults += 1;
    this.ioc.log({ level: 'warn', msg: 'protocol fault, closing circuit', code, detail });
    this.teardown();
  }

  private handle(frame: CaFrame): void {
    if (this.closed) return;
    switch (frame.command) {
      case Command.VERSION:
        if (frame.dataType > MAX_PRIORITY) {
          this.teardown();
          return;
        }
        this.priority = frame.dataType;
        this.clientMinor = frame.dataCount;
        return;
      case Command.CLIENT_NAME:
        this.userName = payloadString(frame.payload);
        return;
      case Command.HOST_NAME:
        this.hostName = payloadString(frame.payload);
        return;
      case Command.CREATE_CHAN:
        this.createChannel(frame);
        return;
      case Command.READ_NOTIFY:
      case Command.READ:
        this.read(frame);
        return;
      case Command.WRITE:
      case Command.WRITE_NOTIFY:
        this.write(frame);
        return;
      case Command.EVENT_ADD:
        this.eventAdd(frame);
        return;
      case Command.EVENT_CANCEL:
        this.eventCancel(frame);
        return;
      case Command.EVENTS_OFF:
        this.eventsOn = false;
        return;
      case Command.EVENTS_ON:
        this.eventsOn = true;
        this.flushPendingUpdates();
        return;
      case Command.ECHO:
      case Command.READ_SYNC:
        this.send(frame.command === Command.ECHO ? build.echoResponse() : build.readSyncResponse());
        return;
      case Command.CLEAR_CHANNEL:
        this.clearChannel(frame);
        return;
      case Command.SEARCH: {
        const reply = this.ioc.searchReply(frame, false);
        if (reply) this.send(reply);
        return;
      }
      default:
        this.sendError(frame, NO_CID, ECA_INTERNAL, `command ${frame.command} is not a request`);
    }
  }

  private createChannel(frame: CaFrame): void {
    const cid = frame.parameter1;
    // 3.13-era clients send no VERSION: CREATE_CHAN p2 carries their minor.
    if (this.clientMinor === 0) this.clientMinor = frame.parameter2;
    const pv = this.ioc.lookup(payloadString(frame.payload));
    if (pv === undefined) {
      this.send(build.createChFailResponse({ cid }));
      return;
    }
    const sid = this.ioc.allocateSid();
    const ch: Channel = { sid, cid, pv, subscriptions: new Map() };
    this.channels.set(sid, ch);
    this.ioc.stats.channelsOpen += 1;
    const rights = pv.writable ? AccessRights.READ_WRITE : AccessRights.READ;
    this.send(build.accessRightsResponse({ cid, access_rights: rights }));
    const count = this.clientMinor < MINOR_EXTENDED_HEADER ? Math.min(pv.maxCount, LEGACY_MAX_COUNT) : pv.maxCount;
    this.send(build.createChanResponse({ data_type: DbrType[pv.type], data_count: count, cid, sid }));
  }

  private removeChannel(ch: Channel): void {
    if (!this.channels.delete(ch.sid)) return;
    this.ioc.stats.channelsOpen -= 1;
    for (const sub of ch.subscriptions.values()) this.removeSubscription(sub);
  }

  private removeSubscription(sub: Subscription): void {
    sub.unlisten();
    sub.channel.subscriptions.delete(sub.id);
    if (this.subscriptions.get(sub.id) === sub) this.subscriptions.delete(sub.id);
    this.ioc.stats.subscriptions -= 1;
  }

  private clearChannel(frame: CaFrame): void {
    const ch = this.channels.get(frame.parameter1);
    if (ch === undefined) {
      this.sendError(frame, NO_CID, ECA_BADCHID, `no channel with SID ${frame.parameter1}`);
      return;
    }
    this.removeChannel(ch);
    this.send(build.clearChannelResponse({ sid: ch.sid, cid: ch.cid }));
  }

  /** The channel a request names by SID, or an ERROR sent and `undefined`. */
  private channelFor(frame: CaFrame): Channel | undefined {
    const ch = this.channels.get(frame.parameter1);
    if (ch === undefined) this.sendError(frame, NO_CID, ECA_BADCHID, `no channel with SID ${frame.parameter1}`);
    return ch;
  }

  private read(frame: CaFrame): void {
    const ch = this.channelFor(frame);
    if (ch === undefined) return;
    this.ioc.stats.readRequests += 1;
    const { dataType } = frame;
    const notify = frame.command === Command.READ_NOTIFY;
    const reply = this.dbrReply(ch, dataType, frame.dataCount);
    if (typeof reply === 'number') {
      if (!notify || reply === ECA_BADTYPE) {
        this.sendError(frame, ch.cid, reply, 'read failed');
        return;
      }
      // A status slot exists: the failure travels in p1 with a zero-filled payload of the asked size
      // (unless that size is absurd: then an ERROR, so a bad request cannot make the IOC allocate much).
      const size = dbrAlignedSize(dataType, frame.dataCount) ?? 0;
      if (size > MAX_ZERO_FILL) {
        this.sendError(frame, ch.cid, reply, 'read failed');
        return;
      }
      this.send(
        encodeMessage(
          {
            command: Command.READ_NOTIFY,
            dataType,
            dataCount: frame.dataCount,
            parameter1: reply,
            parameter2: frame.parameter2,
          },
          new Uint8Array(size),
        ),
      );
      return;
    }
    this.send(
      encodeMessage(
        {
          command: frame.command,
          dataType,
          dataCount: reply.count,
          // READ (obsolete) replies carry the CID where READ_NOTIFY carries the status.
          parameter1: notify ? ECA_NORMAL : ch.cid,
          parameter2: frame.parameter2,
        },
        reply.payload,
      ),
    );
  }

  /** DBR payload of a channel for a type and requested count, or the ECA code of the failure. */
  private dbrReply(ch: Channel, dataType: number, requested: number): { payload: Uint8Array; count: number } | number {
    const pv = ch.pv;
    if (!isValidDbrType(dataType) || dataType === DbrType.PUT_ACKT || dataType === DbrType.PUT_ACKS) return ECA_BADTYPE;
    const dynamic = requested === 0 && this.clientMinor >= MINOR_DYNAMIC_COUNT;
    const count = dynamic ? pv.value.length : requested;
    if (count > pv.maxCount || (requested === 0 && !dynamic)) return ECA_BADCOUNT;
    const size = dbrAlignedSize(dataType, count) ?? 0;
    if (size > this.ioc.maxArrayBytes) return ECA_TOLARGE;
    if (size > LEGACY_MAX_PAYLOAD && this.clientMinor < MINOR_EXTENDED_HEADER) return ECA_16KARRAYCLIENT;
    const metadata = this.metadataFor(pv, dataType);
    let values: Elements;
    if (dataType === DbrType.CLASS_NAME) {
      const names = CLASS_NAMES[pv.type];
      values = Array.from({ length: count }, () => (pv.maxCount > 1 ? names[1] : names[0]));
    } else if (dataType === DbrType.STSACK_STRING) {
      values = readElements(pv, 'STRING', count);
    } else {
      const target = nativeTypeOf(dataType);
      if (target === undefined) return ECA_BADTYPE;
      values = readElements(pv, target, count);
    }
    return { payload: encodeDbr(dataType, values, metadata), count };
  }

  private metadataFor(pv: Pv, dataType: number): DbrMetadata {
    const l = pv.limits;
    const [low, high] = [l.displayLow ?? 0, l.displayHigh ?? 0];
    return {
      status: pv.status,
      severity: pv.severity,
      secondsPastEpoch: pv.time.secondsPastEpoch,
      nanoseconds: pv.time.nanoseconds,
      units: pv.units,
      precision: pv.precision,
      upperDisplayLimit: high,
      lowerDisplayLimit: low,
      upperAlarmLimit: l.alarmHigh ?? 0,
      upperWarningLimit: l.warningHigh ?? 0,
      lowerWarningLimit: l.warningLow ?? 0,
      lowerAlarmLimit: l.alarmLow ?? 0,
      upperControlLimit: l.controlHigh ?? high,
      lowerControlLimit: l.controlLow ?? low,
      enumStrings: [...pv.enumStrings],
      ackt: 0,
      acks: dataType === DbrType.STSACK_STRING ? pv.severity : 0,
    };
  }

  private write(frame: CaFrame): void {
    const ch = this.channelFor(frame);
    if (ch === undefined) return;
    this.ioc.stats.writeRequests += 1;
    const status = this.applyWrite(ch, frame);
    if (frame.command === Command.WRITE_NOTIFY) {
      this.send(
        build.writeNotifyResponse({
          data_type: frame.dataType,
          data_count: frame.dataCount,
          status,
          ioid: frame.parameter2,
        }),
      );
    } else if (status !== ECA_NORMAL) {
      this.sendError(frame, ch.cid, status, `write to ${ch.pv.name} failed`);
    }
  }

  private applyWrite(ch: Channel, frame: CaFrame): number {
    const pv = ch.pv;
    if (!pv.writable) return ECA_NOWTACCESS;
    const { dataType, dataCount } = frame;
    // Alarm acknowledgements: accepted, nothing to acknowledge in the simulator.
    if (dataType === DbrType.PUT_ACKT || dataType === DbrType.PUT_ACKS) return ECA_NORMAL;
    const source = dataType <= DbrType.DOUBLE ? nativeTypeOf(dataType) : undefined;
    if (source === undefined) return ECA_BADTYPE;
    if (dataCount === 0 || dataCount > pv.maxCount) return ECA_BADCOUNT;
    if (frame.truncated) return ECA_TOLARGE;
    const decoded = decodeDbr(dataType, dataCount, frame.payload);
    if (decoded.count < dataCount && !(source === 'STRING' && decoded.count > 0)) return ECA_BADCOUNT;
    // Waveforms decode to typed arrays; the PV keeps plain arrays.
    const data = decoded.data;
    const values = writeElements(pv, source, ArrayBuffer.isView(data) ? Array.from(data) : data);
    if (values === undefined) return ECA_PUTFAIL;
    const failure = pv.put(values, this.ioc.clock());
    if (failure === 'read-only') return ECA_NOWTACCESS;
    if (failure === 'bad-count') return ECA_BADCOUNT;
    if (failure === 'bad-value') return ECA_PUTFAIL;
    return ECA_NORMAL;
  }

  private eventAdd(frame: CaFrame): void {
    const ch = this.channelFor(frame);
    if (ch === undefined) return;
    if (frame.payload.length < EVENT_ADD_PAYLOAD_SIZE) {
      this.sendError(frame, ch.cid, ECA_INTERNAL, 'EVENT_ADD without its 16-byte payload');
      return;
    }
    const mask = new DataView(frame.payload.buffer, frame.payload.byteOffset, frame.payload.byteLength).getUint16(
      EVENT_ADD_MASK_OFFSET,
    );
    if (mask === 0) {
      this.sendError(frame, ch.cid, ECA_BADMASK, 'empty event mask');
      return;
    }
    const probe = this.dbrReply(ch, frame.dataType, frame.dataCount);
    if (typeof probe === 'number') {
      this.sendError(frame, ch.cid, probe, `subscription to ${ch.pv.name} failed`);
      return;
    }
    const id = frame.parameter2;
    const previous = this.subscriptions.get(id);
    if (previous) this.removeSubscription(previous);
    const sub: Subscription = {
      id,
      channel: ch,
      dataType: frame.dataType,
      count: frame.dataCount,
      mask,
      pending: false,
      unlisten: () => undefined,
    };
    sub.unlisten = ch.pv.onChange((changed) => {
      if ((changed & sub.mask) !== 0) this.postUpdate(sub);
    });
    this.subscriptions.set(id, sub);
    ch.subscriptions.set(id, sub);
    this.ioc.stats.subscriptions += 1;
    this.postUpdate(sub);
  }

  private postUpdate(sub: Subscription): void {
    if (!this.eventsOn || this.socket.writableLength > CIRCUIT_HIGH_WATER) {
      sub.pending = true;
      return;
    }
    sub.pending = false;
    const reply = this.dbrReply(sub.channel, sub.dataType, sub.count);
    this.ioc.stats.updatesSent += 1;
    if (typeof reply === 'number') {
      const size = dbrAlignedSize(sub.dataType, sub.count) ?? 0;
      this.send(
        encodeMessage(
          {
            command: Command.EVENT_ADD,
            dataType: sub.dataType,
            dataCount: sub.count,
            parameter1: reply,
            parameter2: sub.id,
          },
          new Uint8Array(size <= MAX_ZERO_FILL ? size : 0),
        ),
      );
      return;
    }
    this.send(
      encodeMessage(
        {
          command: Command.EVENT_ADD,
          dataType: sub.dataType,
          dataCount: reply.count,
          parameter1: ECA_NORMAL,
          parameter2: sub.id,
        },
        reply.payload,
      ),
    );
  }

  private flushPendingUpdates(): void {
    if (!this.eventsOn || this.closed) return;
    for (const sub of this.subscriptions.values()) {
      if (sub.pending) this.postUpdate(sub);
    }
  }

  private eventCancel(frame: CaFrame): void {
    const sub = this.subscriptions.get(frame.parameter2);
    if (sub === undefined || sub.channel.sid !== frame.parameter1) {
      const ch = this.channels.get(frame.parameter1);
      this.sendError(frame, ch?.cid ?? NO_CID, ECA_BADMONID, `no subscription ${frame.parameter2}`);
      return;
    }
    this.removeSubscription(sub);
    // RSRV confirms with EVENT_ADD carrying the subscription's type and count and p1 = SID.
    this.send(
      build.eventCancelResponse({
        data_type: sub.dataType,
        data_count: sub.count,
        sid: sub.channel.sid,
        subscriptionid: sub.id,
      }),
    );
  }

  private sendError(frame: CaFrame, cid: number, status: number, text: string): void {
    this.ioc.stats.errorsSent += 1;
    // RSRV caps the ERROR payload (header copy + text + NUL) at 512 bytes.
    const room = MAX_ERROR_PAYLOAD - frame.headerSize - 1;
    this.send(
      build.error({ original: frame.bytes.subarray(0, frame.headerSize), cid, status, message: text.slice(0, room) }),
    );
  }

  private send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.outQueue.push(bytes);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Replies produced by one burst of requests leave in one write, as RSRV's send buffer does.
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.outQueue.length === 0) return;
    const chunks = this.outQueue;
    this.outQueue = [];
    this.socket.write(chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks));
  }
}

/** A copy of a frame whose views stay valid after the deframer callback returns. */
function copyFrame(frame: CaFrame): CaFrame {
  const bytes = Uint8Array.from(frame.bytes);
  return {
    ...frame,
    bytes,
    payload: bytes.subarray(frame.headerSize, frame.headerSize + frame.payload.length),
  };
}
