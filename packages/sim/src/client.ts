/**
 * A CA client for workloads and tests: UDP search with back-off, one TCP circuit per server, channels,
 * reads, writes, subscriptions, and reconnection (search again) when a circuit or channel is lost.
 * It speaks like libca (4.13): VERSION with a sequence number before each search datagram, CID in WRITE.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import {
  CA_MINOR_VERSION,
  CA_SERVER_PORT,
  Command,
  DbrType,
  Deframer,
  ECA_NORMAL,
  EventMask,
  SearchReply,
  build,
  concatBytes,
  decodeDbr,
  deframeDatagram,
  dbrTypeId,
  ecaName,
  ipv4ToString,
  readHeader,
} from '@ca-shark/protocol';
import type { CaFrame, DbrValue } from '@ca-shark/protocol';
import { isLoopback, payloadString } from './util.js';

/** Options of {@link connectClient}. */
export interface ClientOptions {
  /**
   * Where to send searches: 'host' or 'host:port' entries (like `EPICS_CA_ADDR_LIST`), e.g.
   * ['127.255.255.255']. Default ['127.0.0.1'].
   */
  addrList?: readonly string[];
  /** Port for entries without one (default 5064, `EPICS_CA_SERVER_PORT`). */
  serverPort?: number;
  /** CLIENT_NAME (default the OS user name). */
  userName?: string;
  /** HOST_NAME (default the OS host name). */
  hostName?: string;
  /** Circuit priority 0..99 (default 0). */
  priority?: number;
  /** First search retry interval in ms (default 50); it doubles per retry up to `maxSearchIntervalMs`. */
  searchIntervalMs?: number;
  /** Longest search retry interval in ms (default 2000). */
  maxSearchIntervalMs?: number;
  /** Ask servers for NOT_FOUND replies (SEARCH `dt` DO_REPLY; libca never does). Default false. */
  doReply?: boolean;
  /** Default timeout of connections, reads and writes in ms (default 5000). */
  timeoutMs?: number;
  /**
   * Register with the CA repeater on 127.0.0.1 at this port (as libca does, with an empty datagram from
   * the search socket, repeated every second until confirmed) and count the beacons it forwards.
   */
  repeaterPort?: number;
  /**
   * Sees every byte this client sends and receives (UDP datagrams whole, TCP chunks as they come), e.g.
   * to check a session with the decoder. `stream` names the circuit ('udp' for searches).
   */
  wireTap?: (event: { direction: 'send' | 'receive'; stream: string; bytes: Uint8Array }) => void;
}

/** A read or update: the decoded DBR value and the ECA status it came with. */
export interface ChannelValue extends DbrValue {
  /** ECA status code of the reply (1 = ECA_NORMAL). */
  status: number;
}

/** Counters of a client, for workloads and tests. */
export interface ClientStats {
  searchDatagrams: number;
  searchRequests: number;
  searchReplies: number;
  notFound: number;
  circuits: number;
  connects: number;
  disconnects: number;
  reads: number;
  writes: number;
  updates: number;
  errors: number;
  /** Beacons forwarded by the repeater. */
  beacons: number;
  /** True once the repeater confirmed the registration. */
  repeaterConfirmed: boolean;
}

/** A failure reported by the server with an ECA code (or a local timeout/disconnect). */
export class CaError extends Error {
  /** ECA status code, or 0 for local failures (timeout, disconnect, closed). */
  readonly status: number;
  constructor(message: string, status = 0) {
    super(message);
    this.name = 'CaError';
    this.status = status;
  }
}

type ChannelState = 'searching' | 'connecting' | 'connected' | 'closed';

/** Options of a read. */
export interface GetOptions {
  /** DBR type id or name (default the native type). */
  type?: number | string;
  /** Element count (default the native count; 0 = current length). */
  count?: number;
  timeoutMs?: number;
}

/** Options of a write. */
export interface PutOptions {
  /** DBR type id or name of the sent values (default the native type; strings default to STRING). */
  type?: number | string;
  /** WRITE_NOTIFY and wait for the reply (default true); false sends a plain WRITE. */
  notify?: boolean;
  timeoutMs?: number;
}

/** Options of a subscription. */
export interface SubscribeOptions {
  type?: number | string;
  /** Default the native count; 0 = current length. */
  count?: number;
  /** Event mask (default DBE_VALUE | DBE_ALARM). */
  mask?: number;
}

interface Pending {
  resolve: (v: ChannelValue | number) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  command: number;
}

/** Longest delay a Node timer takes (a longer one fires at once). */
const MAX_TIMER_MS = 0x7fffffff;

/** Resolves a DBR type given as an id or name. */
function typeId(type: number | string | undefined, fallback: number): number {
  if (type === undefined) return fallback;
  if (typeof type === 'number') return type;
  const id = dbrTypeId(type);
  if (id === undefined) throw new CaError(`unknown DBR type ${type}`);
  return id;
}

/** A subscription; it survives reconnections until cancelled. */
export class ClientSubscription {
  readonly id: number;
  readonly channel: ClientChannel;
  readonly dataType: number;
  readonly count: number;
  readonly mask: number;
  /** Updates received so far. */
  updates = 0;
  cancelled = false;
  private readonly listener: (value: ChannelValue) => void;
  /** @internal settled by the cancel confirmation (or the ERROR refusing the cancel). */
  confirm: ((error?: CaError) => void) | undefined;

  /** @internal */
  constructor(
    channel: ClientChannel,
    id: number,
    dataType: number,
    count: number,
    mask: number,
    listener: (value: ChannelValue) => void,
  ) {
    this.channel = channel;
    this.id = id;
    this.dataType = dataType;
    this.count = count;
    this.mask = mask;
    this.listener = listener;
  }

  /** @internal */
  deliver(value: ChannelValue): void {
    this.updates += 1;
    this.listener(value);
  }

  /** Sends EVENT_CANCEL and waits for the server's confirmation (or the circuit's loss). */
  cancel(timeoutMs?: number): Promise<void> {
    return this.channel.unsubscribe(this, timeoutMs);
  }
}

/** One channel of a {@link CaClient}. */
export class ClientChannel {
  readonly name: string;
  readonly cid: number;
  state: ChannelState = 'searching';
  /** Server id, native DBR type and count, access rights: valid while connected. */
  sid = 0;
  nativeType = 0;
  nativeCount = 0;
  accessRights = 0;
  /** Server address 'host:port' while connecting or connected. */
  server: string | undefined;
  /** @internal */
  circuit: ClientCircuit | undefined;
  /** @internal search back-off state. */
  searchInterval = 0;
  nextSearchAt = 0;
  searchAttempts = 0;
  /** @internal */
  readonly subscriptions = new Map<number, ClientSubscription>();
  private readonly client: CaClient;
  private waiters: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];
  private readonly connectionListeners = new Set<(connected: boolean) => void>();

  /** @internal */
  constructor(client: CaClient, name: string, cid: number) {
    this.client = client;
    this.name = name;
    this.cid = cid;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Called with true on each connection and false on each loss. Returns the unsubscribe function. */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  /** Resolves when the channel is connected (at once if it is). */
  waitConnected(timeoutMs = this.client.timeoutMs): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new CaError(`${this.name}: channel closed`));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            reject(new CaError(`${this.name}: not connected after ${timeoutMs} ms`));
          },
          Math.min(timeoutMs, MAX_TIMER_MS),
        ),
      };
      this.waiters.push(waiter);
    });
  }

  /** READ_NOTIFY. Rejects with a {@link CaError} carrying the ECA status when the server refuses. */
  async get(options: GetOptions = {}): Promise<ChannelValue> {
    const circuit = this.requireCircuit();
    const dataType = typeId(options.type, this.nativeType);
    const count = options.count ?? this.nativeCount;
    const ioid = this.client.nextIoid();
    const result = await circuit.request(
      ioid,
      Command.READ_NOTIFY,
      build.readNotifyRequest({ data_type: dataType, data_count: count, sid: this.sid, ioid }),
      options.timeoutMs ?? this.client.timeoutMs,
    );
    this.client.stats.reads += 1;
    const value = result as ChannelValue;
    if (value.status !== ECA_NORMAL)
      throw new CaError(`${this.name}: read failed: ${ecaName(value.status)}`, value.status);
    return value;
  }

  /**
   * WRITE_NOTIFY (default) or WRITE. Values are numbers or strings; one value or an array. Resolves
   * with the ECA status (ECA_NORMAL) or rejects with a {@link CaError} carrying the failure status.
   */
  async put(value: number | string | readonly (number | string)[], options: PutOptions = {}): Promise<number> {
    const circuit = this.requireCircuit();
    const values = Array.isArray(value) ? (value as readonly (number | string)[]) : [value as number | string];
    const fallback =
      typeof values[0] === 'string' && this.nativeType !== DbrType.STRING ? DbrType.STRING : this.nativeType;
    const dataType = typeId(options.type, fallback);
    this.client.stats.writes += 1;
    if (options.notify === false) {
      // libca puts the CID in WRITE's p2.
      circuit.send(build.writeRequest({ data: values, data_type: dataType, sid: this.sid, ioid: this.cid }));
      return ECA_NORMAL;
    }
    const ioid = this.client.nextIoid();
    const status = (await circuit.request(
      ioid,
      Command.WRITE_NOTIFY,
      build.writeNotifyRequest({ data: values, data_type: dataType, sid: this.sid, ioid }),
      options.timeoutMs ?? this.client.timeoutMs,
    )) as number;
    if (status !== ECA_NORMAL) throw new CaError(`${this.name}: write failed: ${ecaName(status)}`, status);
    return status;
  }

  /**
   * EVENT_ADD. The listener gets every update (the first answers at once). The subscription is
   * re-established after a reconnection. Works on a channel that is not connected yet.
   */
  subscribe(options: SubscribeOptions, listener: (value: ChannelValue) => void): ClientSubscription {
    const id = this.client.nextIoid();
    const sub = new ClientSubscription(
      this,
      id,
      typeId(options.type, -1),
      options.count ?? -1,
      options.mask ?? EventMask.DBE_VALUE | EventMask.DBE_ALARM,
      listener,
    );
    this.subscriptions.set(id, sub);
    if (this.state === 'connected') this.circuit?.sendEventAdd(this, sub);
    return sub;
  }

  /** @internal */
  unsubscribe(sub: ClientSubscription, timeoutMs = this.client.timeoutMs): Promise<void> {
    if (sub.cancelled) return Promise.resolve();
    sub.cancelled = true;
    this.subscriptions.delete(sub.id);
    const circuit = this.circuit;
    if (this.state !== 'connected' || circuit === undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CaError(`${this.name}: no EVENT_CANCEL confirmation`)), timeoutMs);
      sub.confirm = (error?: CaError) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      circuit.cancels.set(sub.id, sub);
      circuit.send(
        build.eventCancelRequest({
          data_type: this.subscribedType(sub),
          data_count: this.subscribedCount(sub),
          sid: this.sid,
          subscriptionid: sub.id,
        }),
      );
    });
  }

  /** @internal */
  subscribedType(sub: ClientSubscription): number {
    return sub.dataType < 0 ? this.nativeType : sub.dataType;
  }

  /** @internal */
  subscribedCount(sub: ClientSubscription): number {
    return sub.count < 0 ? this.nativeCount : sub.count;
  }

  /** CLEAR_CHANNEL (waits for the server's echo) and stops searching for this name. */
  async clear(timeoutMs = this.client.timeoutMs): Promise<void> {
    const circuit = this.circuit;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    this.client.forget(this);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new CaError(`${this.name}: channel closed`));
    }
    if (wasConnected && circuit !== undefined) {
      await circuit.clearChannel(this, timeoutMs);
    }
    circuit?.detach(this);
    this.circuit = undefined;
  }

  /** @internal The client is closing: fail whoever waits for a connection. */
  abandon(): void {
    this.state = 'closed';
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new CaError(`${this.name}: client closed`));
    }
  }

  /** @internal The CREATE_CHAN reply arrived. */
  markConnected(sid: number, nativeType: number, nativeCount: number): void {
    this.sid = sid;
    this.nativeType = nativeType;
    this.nativeCount = nativeCount;
    this.state = 'connected';
    this.client.stats.connects += 1;
    for (const sub of this.subscriptions.values()) this.circuit?.sendEventAdd(this, sub);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
    for (const l of [...this.connectionListeners]) l(true);
  }

  /** @internal The circuit broke or the server dropped the channel: search again. */
  markDisconnected(): void {
    const was = this.state;
    this.circuit = undefined;
    this.server = undefined;
    if (was === 'closed') return;
    this.state = 'searching';
    if (was === 'connected') {
      this.client.stats.disconnects += 1;
      for (const l of [...this.connectionListeners]) l(false);
    }
    this.client.scheduleSearch(this, true);
  }

  private requireCircuit(): ClientCircuit {
    if (this.state !== 'connected' || this.circuit === undefined) throw new CaError(`${this.name}: not connected`);
    return this.circuit;
  }
}

/** One TCP circuit of a client to one server. */
class ClientCircuit {
  readonly key: string;
  readonly cancels = new Map<number, ClientSubscription>();
  serverMinor = 0;
  private readonly client: CaClient;
  private readonly socket: net.Socket;
  private readonly deframer = new Deframer();
  private readonly channels = new Map<number, ClientChannel>();
  private readonly pending = new Map<number, Pending>();
  private readonly clears = new Map<number, () => void>();
  private connected = false;
  private closed = false;
  private queue: Uint8Array[] = [];

  constructor(client: CaClient, host: string, port: number) {
    this.client = client;
    this.key = `${host}:${port}`;
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('connect', () => {
      this.connected = true;
      const opening = [
        build.versionRequest({ priority: client.priority, version: CA_MINOR_VERSION }),
        build.clientNameRequest({ name: client.userName }),
        build.hostNameRequest({ name: client.hostName }),
        ...this.queue,
      ];
      this.queue = [];
      this.write(concatBytes(opening));
    });
    this.socket.on('data', (data) => this.onData(data));
    this.socket.on('error', () => this.teardown());
    this.socket.on('close', () => this.teardown());
  }

  attach(ch: ClientChannel): void {
    this.channels.set(ch.cid, ch);
    ch.circuit = this;
    ch.server = this.key;
    ch.state = 'connecting';
    this.send(build.createChanRequest({ name: ch.name, cid: ch.cid, version: CA_MINOR_VERSION }));
  }

  detach(ch: ClientChannel): void {
    this.channels.delete(ch.cid);
    if (this.channels.size === 0) this.close();
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (!this.connected) this.queue.push(bytes);
    else this.write(bytes);
  }

  private write(bytes: Uint8Array): void {
    this.client.tap('send', this.key, bytes);
    this.socket.write(bytes);
  }

  sendEventAdd(ch: ClientChannel, sub: ClientSubscription): void {
    this.send(
      build.eventAddRequest({
        data_type: ch.subscribedType(sub),
        data_count: ch.subscribedCount(sub),
        sid: ch.sid,
        subscriptionid: sub.id,
        mask: sub.mask,
      }),
    );
  }

  request(ioid: number, command: number, bytes: Uint8Array, timeoutMs: number): Promise<ChannelValue | number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(ioid);
          reject(new CaError(`request ${ioid} timed out after ${timeoutMs} ms`));
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
      this.pending.set(ioid, { resolve, reject, timer, command });
      this.send(bytes);
    });
  }

  clearChannel(ch: ClientChannel, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.clears.delete(ch.cid);
        reject(new CaError(`${ch.name}: no CLEAR_CHANNEL reply`));
      }, timeoutMs);
      this.clears.set(ch.cid, () => {
        clearTimeout(timer);
        resolve();
      });
      this.send(build.clearChannelRequest({ sid: ch.sid, cid: ch.cid }));
    });
  }

  /** Sends ECHO and resolves when the server answers. */
  echo(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CaError('no ECHO reply')), timeoutMs);
      this.echoWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.send(build.echoRequest());
    });
  }

  private readonly echoWaiters: (() => void)[] = [];

  close(): void {
    if (this.closed) return;
    this.socket.end();
    this.teardown();
  }

  private onData(data: Buffer): void {
    this.client.tap('receive', this.key, data);
    this.deframer.push(
      data,
      (frame: CaFrame) => this.handle(frame),
      () => {
        // A server that breaks framing cannot be trusted further: drop the circuit, search again.
        this.client.stats.errors += 1;
        this.socket.destroy();
        this.teardown();
      },
    );
  }

  private handle(frame: CaFrame): void {
    switch (frame.command) {
      case Command.VERSION:
        this.serverMinor = frame.dataCount;
        return;
      case Command.ACCESS_RIGHTS: {
        const ch = this.channels.get(frame.parameter1);
        if (ch) ch.accessRights = frame.parameter2;
        return;
      }
      case Command.CREATE_CHAN: {
        const ch = this.channels.get(frame.parameter1);
        if (ch && ch.state === 'connecting') ch.markConnected(frame.parameter2, frame.dataType, frame.dataCount);
        return;
      }
      case Command.CREATE_CH_FAIL:
      case Command.SERVER_DISCONN: {
        const ch = this.channels.get(frame.parameter1);
        if (ch) {
          this.channels.delete(ch.cid);
          ch.markDisconnected();
        }
        return;
      }
      case Command.READ_NOTIFY:
      case Command.WRITE_NOTIFY: {
        const p = this.pending.get(frame.parameter2);
        if (!p) return;
        this.pending.delete(frame.parameter2);
        clearTimeout(p.timer);
        if (frame.command === Command.WRITE_NOTIFY) {
          p.resolve(frame.parameter1);
        } else {
          p.resolve({ ...decodeDbr(frame.dataType, frame.dataCount, frame.payload), status: frame.parameter1 });
        }
        return;
      }
      case Command.EVENT_ADD: {
        const cancelled = this.cancels.get(frame.parameter2);
        if (cancelled && frame.payloadSize === 0) {
          this.cancels.delete(frame.parameter2);
          cancelled.confirm?.();
          return;
        }
        for (const ch of this.channels.values()) {
          const sub = ch.subscriptions.get(frame.parameter2);
          if (sub === undefined) continue;
          this.client.stats.updates += 1;
          sub.deliver({ ...decodeDbr(frame.dataType, frame.dataCount, frame.payload), status: frame.parameter1 });
          return;
        }
        return;
      }
      case Command.CLEAR_CHANNEL: {
        const done = this.clears.get(frame.parameter2);
        this.clears.delete(frame.parameter2);
        done?.();
        return;
      }
      case Command.ECHO:
        this.echoWaiters.shift()?.();
        return;
      case Command.ERROR:
        this.onError(frame);
        return;
      default:
        return;
    }
  }

  private onError(frame: CaFrame): void {
    this.client.stats.errors += 1;
    const status = frame.parameter2;
    const original = readHeader(frame.payload);
    const text = original ? payloadString(frame.payload.subarray(original.headerSize)) : '';
    if (original === undefined) return;
    const failed = new CaError(`${ecaName(status)}: ${text}`, status);
    if (original.command === Command.EVENT_CANCEL) {
      const sub = this.cancels.get(original.parameter2);
      if (sub) {
        this.cancels.delete(original.parameter2);
        sub.confirm?.(failed);
        return;
      }
    }
    const p = this.pending.get(original.parameter2);
    if (p && p.command === original.command) {
      this.pending.delete(original.parameter2);
      clearTimeout(p.timer);
      p.reject(failed);
      return;
    }
    this.client.reportError(failed, original.command);
  }

  private teardown(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.dropCircuit(this);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new CaError('circuit lost'));
    }
    this.pending.clear();
    for (const sub of this.cancels.values()) sub.confirm?.();
    this.cancels.clear();
    for (const done of this.clears.values()) done();
    this.clears.clear();
    this.socket.destroy();
    for (const ch of [...this.channels.values()]) ch.markDisconnected();
    this.channels.clear();
  }
}

/** Largest search datagram libca sends. */
const MAX_SEARCH_DATAGRAM = 1024;
/** At most this many search datagrams leave per tick of {@link SEARCH_TICK_MS}. */
const MAX_SEARCH_DATAGRAMS_PER_TICK = 16;
const SEARCH_TICK_MS = 10;
const DEFAULT_SEARCH_INTERVAL_MS = 50;
const DEFAULT_MAX_SEARCH_INTERVAL_MS = 2000;
const DEFAULT_TIMEOUT_MS = 5000;
/** Repeater registration: one try a second, for ten seconds. */
const REPEATER_RETRY_MS = 1000;
const REPEATER_ATTEMPTS = 10;

/** A search destination. */
interface Destination {
  host: string;
  port: number;
}

/** Parses 'host' / 'host:port' entries (space or comma separated strings allowed). */
export function parseAddrList(entries: readonly string[], defaultPort: number): Destination[] {
  const out: Destination[] = [];
  for (const entry of entries.flatMap((e) => e.split(/[\s,]+/))) {
    if (entry.length === 0) continue;
    const [host, port] = entry.split(':');
    const p = port === undefined ? defaultPort : Number(port);
    if (!host || !Number.isInteger(p) || p <= 0 || p > 65535) throw new RangeError(`bad address list entry "${entry}"`);
    out.push({ host, port: p });
  }
  return out;
}

/** A CA client context: one UDP search socket and the circuits it opened. */
export class CaClient {
  readonly stats: ClientStats = {
    searchDatagrams: 0,
    searchRequests: 0,
    searchReplies: 0,
    notFound: 0,
    circuits: 0,
    connects: 0,
    disconnects: 0,
    reads: 0,
    writes: 0,
    updates: 0,
    errors: 0,
    beacons: 0,
    repeaterConfirmed: false,
  };
  readonly userName: string;
  readonly hostName: string;
  readonly priority: number;
  readonly timeoutMs: number;
  private readonly destinations: Destination[];
  private readonly udp: dgram.Socket;
  private readonly channelsByCid = new Map<number, ClientChannel>();
  private readonly circuits = new Map<string, ClientCircuit>();
  private readonly searchInterval: number;
  private readonly maxSearchInterval: number;
  private readonly doReply: boolean;
  private readonly errorListeners = new Set<(error: CaError, command: number) => void>();
  private readonly wireTap: ClientOptions['wireTap'];
  private nextCid = 1;
  private nextId = 1;
  private sequence = 0;
  private searchTimer: NodeJS.Timeout | undefined;
  private searchTimerAt = 0;
  private repeaterTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /** @internal use {@link connectClient}. */
  constructor(options: ClientOptions, udp: dgram.Socket) {
    this.destinations = parseAddrList(options.addrList ?? ['127.0.0.1'], options.serverPort ?? CA_SERVER_PORT);
    this.userName = options.userName ?? safeUserName();
    this.hostName = options.hostName ?? os.hostname();
    this.priority = options.priority ?? 0;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.searchInterval = options.searchIntervalMs ?? DEFAULT_SEARCH_INTERVAL_MS;
    this.maxSearchInterval = options.maxSearchIntervalMs ?? DEFAULT_MAX_SEARCH_INTERVAL_MS;
    this.doReply = options.doReply ?? false;
    this.wireTap = options.wireTap;
    this.udp = udp;
    udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo.address));
    if (options.repeaterPort !== undefined) this.registerWithRepeater(options.repeaterPort, 0);
  }

  private registerWithRepeater(port: number, attempt: number): void {
    if (this.closed || this.stats.repeaterConfirmed || attempt >= REPEATER_ATTEMPTS) return;
    const empty = new Uint8Array(0);
    this.tap('send', 'udp', empty);
    this.udp.send(empty, port, '127.0.0.1');
    this.repeaterTimer = setTimeout(() => this.registerWithRepeater(port, attempt + 1), REPEATER_RETRY_MS);
  }

  /** Local UDP port searches leave from. */
  get searchPort(): number {
    return this.udp.address().port;
  }

  /** Creates a channel and starts searching for it. */
  channel(name: string): ClientChannel {
    if (this.closed) throw new CaError('client closed');
    const ch = new ClientChannel(this, name, this.nextCid++);
    this.channelsByCid.set(ch.cid, ch);
    this.scheduleSearch(ch, true);
    return ch;
  }

  /** Creates a channel and waits until it is connected. */
  async connect(name: string, timeoutMs = this.timeoutMs): Promise<ClientChannel> {
    const ch = this.channel(name);
    try {
      await ch.waitConnected(timeoutMs);
    } catch (err) {
      await ch.clear();
      throw err;
    }
    return ch;
  }

  /** Channels not connected yet (searching or connecting). */
  get unconnected(): ClientChannel[] {
    return [...this.channelsByCid.values()].filter((c) => c.state !== 'connected');
  }

  /** Every channel of this client. */
  get channels(): ClientChannel[] {
    return [...this.channelsByCid.values()];
  }

  /** Number of open circuits. */
  get circuitCount(): number {
    return this.circuits.size;
  }

  /** Sends ECHO on every circuit and waits for the replies. */
  async echo(timeoutMs = this.timeoutMs): Promise<void> {
    await Promise.all([...this.circuits.values()].map((c) => c.echo(timeoutMs)));
  }

  /** EVENTS_OFF on every circuit: the servers hold subscription updates back (flow control). */
  eventsOff(): void {
    for (const c of this.circuits.values()) c.send(build.eventsOffRequest());
  }

  /** EVENTS_ON on every circuit: updates resume (servers send what changed meanwhile). */
  eventsOn(): void {
    for (const c of this.circuits.values()) c.send(build.eventsOnRequest());
  }

  /** Listener of ERROR messages that match no pending request (e.g. a failed plain WRITE). */
  onError(listener: (error: CaError, command: number) => void): () => void {
    this.errorListeners.add(listener);
    return () => this.errorListeners.delete(listener);
  }

  /** Closes every circuit and the search socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.searchTimer) clearTimeout(this.searchTimer);
    if (this.repeaterTimer) clearTimeout(this.repeaterTimer);
    for (const ch of this.channelsByCid.values()) ch.abandon();
    for (const c of [...this.circuits.values()]) c.close();
    this.circuits.clear();
    await new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }

  /** @internal */
  nextIoid(): number {
    const id = this.nextId;
    this.nextId = (this.nextId + 1) >>> 0;
    return id;
  }

  /** @internal */
  tap(direction: 'send' | 'receive', stream: string, bytes: Uint8Array): void {
    this.wireTap?.({ direction, stream, bytes });
  }

  /** @internal */
  forget(ch: ClientChannel): void {
    this.channelsByCid.delete(ch.cid);
  }

  /** @internal */
  reportError(error: CaError, command: number): void {
    for (const l of [...this.errorListeners]) l(error, command);
  }

  /** @internal */
  dropCircuit(circuit: ClientCircuit): void {
    if (this.circuits.get(circuit.key) === circuit) this.circuits.delete(circuit.key);
  }

  /** @internal (Re)starts the search back-off of a channel. */
  scheduleSearch(ch: ClientChannel, reset: boolean): void {
    if (this.closed || ch.state !== 'searching') return;
    if (reset) {
      ch.searchInterval = this.searchInterval;
      ch.nextSearchAt = Date.now();
    }
    // Creating many channels at once must not rescan them all each time: only move the timer earlier.
    if (this.searchTimer === undefined || ch.nextSearchAt < this.searchTimerAt) this.armSearchTimer(ch.nextSearchAt);
  }

  /** Arms the search timer for `at`, or for the earliest channel due when `at` is not given. */
  private armSearchTimer(at?: number): void {
    if (this.closed) return;
    let next = at ?? Infinity;
    if (at === undefined) {
      for (const ch of this.channelsByCid.values()) {
        if (ch.state === 'searching' && ch.nextSearchAt < next) next = ch.nextSearchAt;
      }
    }
    if (this.searchTimer) clearTimeout(this.searchTimer);
    this.searchTimer = undefined;
    if (next === Infinity) return;
    this.searchTimerAt = next;
    this.searchTimer = setTimeout(() => this.searchDue(), Math.max(0, next - Date.now()));
  }

  private searchDue(): void {
    this.searchTimer = undefined;
    if (this.closed) return;
    const now = Date.now();
    const due: ClientChannel[] = [];
    for (const ch of this.channelsByCid.values()) {
      if (ch.state === 'searching' && ch.nextSearchAt <= now + 1) due.push(ch);
    }
    // Longest-waiting first, so a paced burst cannot starve the channels at its tail.
    due.sort((a, b) => a.nextSearchAt - b.nextSearchAt);
    const reply = this.doReply ? SearchReply.DO_REPLY : SearchReply.DONT_REPLY;
    let batch: Uint8Array[] = [];
    let size = 0;
    let datagrams = 0;
    const flush = (): void => {
      if (batch.length === 0) return;
      datagrams += 1;
      this.sequence = (this.sequence + 1) >>> 0;
      const datagram = concatBytes([
        build.versionRequest({ sequence: this.sequence, version: CA_MINOR_VERSION }),
        ...batch,
      ]);
      for (const d of this.destinations) {
        this.tap('send', 'udp', datagram);
        this.udp.send(datagram, d.port, d.host);
        this.stats.searchDatagrams += 1;
      }
      batch = [];
      size = 0;
    };
    for (const ch of due) {
      const msg = build.searchRequest({ name: ch.name, cid: ch.cid, version: CA_MINOR_VERSION, reply });
      if (size + msg.length + 16 > MAX_SEARCH_DATAGRAM) {
        flush();
        // Pace bursts (thousands of names at once) so socket buffers do not drop them: the rest are
        // still due and go out on the next tick.
        if (datagrams >= MAX_SEARCH_DATAGRAMS_PER_TICK) {
          this.armSearchTimer(now + SEARCH_TICK_MS);
          return;
        }
      }
      batch.push(msg);
      size += msg.length;
      this.stats.searchRequests += 1;
      ch.searchAttempts += 1;
      ch.nextSearchAt = now + ch.searchInterval;
      ch.searchInterval = Math.min(ch.searchInterval * 2, this.maxSearchInterval);
    }
    flush();
    this.armSearchTimer();
  }

  private onDatagram(msg: Buffer, source: string): void {
    this.tap('receive', 'udp', msg);
    deframeDatagram(
      msg,
      (frame: CaFrame) => {
        if (frame.command === Command.NOT_FOUND) {
          this.stats.notFound += 1;
          return;
        }
        if (frame.command === Command.REPEATER_CONFIRM) {
          this.stats.repeaterConfirmed = true;
          return;
        }
        if (frame.command === Command.RSRV_IS_UP) {
          this.stats.beacons += 1;
          return;
        }
        if (frame.command !== Command.SEARCH) return;
        this.stats.searchReplies += 1;
        const ch = this.channelsByCid.get(frame.parameter2);
        if (ch === undefined || ch.state !== 'searching') return;
        const host = frame.parameter1 === 0xffffffff ? source : ipv4ToString(frame.parameter1);
        this.attach(ch, host, frame.dataType);
      },
      () => {
        this.stats.errors += 1;
      },
    );
  }

  private attach(ch: ClientChannel, host: string, port: number): void {
    const key = `${host}:${port}`;
    let circuit = this.circuits.get(key);
    if (circuit === undefined) {
      circuit = new ClientCircuit(this, host, port);
      this.circuits.set(key, circuit);
      this.stats.circuits += 1;
    }
    circuit.attach(ch);
  }
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'ca-sim';
  }
}

/** Opens a client context (binds its UDP search socket). */
export async function connectClient(options: ClientOptions = {}): Promise<CaClient> {
  const destinations = parseAddrList(options.addrList ?? ['127.0.0.1'], options.serverPort ?? CA_SERVER_PORT);
  // Stay on loopback when every destination is there (a loopback socket can still broadcast to 127.255.255.255).
  const local = destinations.every((d) => isLoopback(d.host)) ? '127.0.0.1' : '0.0.0.0';
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(0, local, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  udp.setBroadcast(true);
  return new CaClient(options, udp);
}
