import type { RoleCertainty } from '@ca-shark/protocol';
import type { RequestRef } from './record.js';
import type { StateLimits } from './options.js';
import { BoundedMap, capMap } from './bounded-map.js';
import { ExpiryHeap } from './expiry.js';
import type { IdTable } from './id-table.js';

// capMap moved to bounded-map.ts; re-exported for the decoder's call sites.
export { capMap };

/** Lifecycle of a channel as seen on the wire. */
export type ChannelStatus =
  | 'creating' // CREATE_CHAN request seen, no reply yet
  | 'connected' // CREATE_CHAN reply seen (or channel first seen mid-circuit by its SID)
  | 'failed' // CREATE_CH_FAIL
  | 'disconnected' // SERVER_DISCONN
  | 'clearing' // CLEAR_CHANNEL request seen
  | 'cleared' // CLEAR_CHANNEL reply seen, or its circuit closed
  | 'unknown'; // seen only by its CID in a message that does not say more

/** One channel (CID/SID pair on one circuit). */
export interface ChannelInfo {
  /** Serial id, unique within the decoder. */
  id: number;
  /** TCP flow id of the circuit. */
  circuit: number;
  cid: number | null;
  sid: number | null;
  /** PV name, null until something in the capture reveals it. */
  pv: string | null;
  /** Native DBR type and element count from the CREATE_CHAN reply. */
  nativeType: number | null;
  nativeCount: number | null;
  /** ACCESS_RIGHTS bits: 1 read, 2 write. */
  accessRights: number | null;
  status: ChannelStatus;
  /** The CREATE_CHAN request, when seen. */
  created: RequestRef | null;
  /** Capture time of the CREATE_CHAN reply. */
  connectedAt: number | null;
  /** Seconds from CREATE_CHAN request to its reply. */
  connectLatency: number | null;
  /** Capture time it was cleared, failed or lost its circuit. */
  endedAt: number | null;
  /** ENUM state strings learned from a GR/CTRL_ENUM reply. */
  enumStrings: string[] | null;
  /** Messages that were about this channel. */
  messages: number;
  /** Server and client endpoints "ip:port". */
  server: string | null;
  client: string | null;
}

/** A pending READ_NOTIFY / WRITE_NOTIFY / READ. */
export interface PendingIo {
  ioid: number;
  kind: 'read' | 'write';
  /** The channel of the request's SID (null only if the state dropped it). */
  channel: ChannelInfo | null;
  /** DBR type and count asked for. */
  dataType: number;
  dataCount: number;
  request: RequestRef;
  /** Side ('a' | 'b') that sent the request, for ID-based role inference. */
  side: 'a' | 'b';
}

/** One EVENT_ADD subscription. */
export interface SubscriptionInfo {
  subscriptionid: number;
  /** Null for updates of a subscription whose EVENT_ADD was not captured, until its cancel names the SID. */
  channel: ChannelInfo | null;
  /** DBE_* event mask (1 value, 2 archive, 4 alarm, 8 property). */
  mask: number;
  dataType: number;
  dataCount: number;
  /** The EVENT_ADD, when captured. */
  request: RequestRef | null;
  /** Frame and time of the first update, null until it arrives. */
  firstUpdate: RequestRef | null;
  updates: number;
  /** The EVENT_CANCEL request once sent. */
  cancel: RequestRef | null;
  side: 'a' | 'b';
}

/** One TCP virtual circuit. */
export interface CircuitInfo {
  /** TCP flow id (stable within one decoder). */
  id: number;
  /** Endpoints "ip:port" of the flow's two ends, `a` = first seen. */
  a: string;
  b: string;
  /** Client and server "ip:port", null until roles are known. */
  client: string | null;
  server: string | null;
  /** Which end is the client, and how that was decided. */
  clientSide: 'a' | 'b' | null;
  roleCertainty: RoleCertainty;
  /** Why the flow is CA: a configured server port, its opening CA messages, or a server endpoint learned from a search reply, beacon or circuit. */
  recognisedBy: 'port' | 'opening' | 'learned-port';
  /** Minor protocol versions announced by the client (VERSION, CREATE_CHAN) and the server (VERSION). */
  clientMinor: number | null;
  serverMinor: number | null;
  /** Circuit priority 0..99 from the client's VERSION. */
  priority: number | null;
  /** From HOST_NAME and CLIENT_NAME. */
  hostName: string | null;
  userName: string | null;
  /** Capture times: first packet seen, latest CA bytes, end (FIN, RST, timeout or eviction). */
  openedAt: number;
  lastSeen: number;
  closedAt: number | null;
  closeReason: string | null;
  /** CA messages, their bytes, and Malformed records on this circuit. */
  messages: number;
  bytes: number;
  malformed: number;
  /** Live channels by CID and by SID (a channel seen mid-circuit may be in one map only). */
  channelsByCid: Map<number, ChannelInfo>;
  channelsBySid: Map<number, ChannelInfo>;
  /** CREATE_CHAN requests without reply, by CID. */
  pendingCreates: Map<number, { pv: string; request: RequestRef }>;
  /**
   * READ_NOTIFY / READ / WRITE_NOTIFY requests without reply, by IOID: read it as a `ReadonlyMap` (`get`,
   * `has`, `size`, `keys`, `values`, `entries`, iteration and `forEach`, in request order).
   */
  pendingIo: IdTable<PendingIo>;
  /** Live subscriptions by subscription ID. */
  subscriptions: Map<number, SubscriptionInfo>;
  /** CLEAR_CHANNEL requests without reply, by SID. */
  pendingClears: Map<number, RequestRef>;
  /** The latest ECHO (or READ_SYNC) request without reply. */
  pendingEcho: RequestRef | null;
}

/** A CA server endpoint learned from search replies, beacons or circuits. */
export interface ServerInfo {
  /** TCP endpoint "ip:port". */
  address: string;
  ip: string;
  port: number;
  /** How it was learned. */
  learnedFrom: { search: boolean; beacon: boolean; circuit: boolean };
  firstSeen: number;
  lastSeen: number;
  /** Server minor version from beacons or search replies. */
  minor: number | null;
  searchReplies: number;
  circuits: number;
  beacons: number;
  lastBeaconId: number | null;
  lastBeaconTime: number | null;
  /** Beacon counter went back (server restart). */
  beaconRestarts: number;
  /** Same beacon counter seen again (duplicate route or repeater copy). */
  beaconRepeats: number;
}

/** A client UDP socket (search source). */
export interface ClientInfo {
  /** UDP socket "ip:port". */
  address: string;
  /** Client minor version from its VERSION or SEARCH messages. */
  minor: number | null;
  firstSeen: number;
  lastSeen: number;
  /** Datagrams led by a sequence-numbered VERSION, and SEARCH requests (retries included). */
  searchDatagrams: number;
  searches: number;
  /** Sequence number of its latest search datagram. */
  lastSequence: number | null;
  /** REPEATER_REGISTER messages and empty registration datagrams sent to the repeater port. */
  repeaterRegistrations: number;
}

/** A searched name from one client socket. */
export interface SearchInfo {
  /** Client socket "ip:port". */
  client: string;
  cid: number;
  pv: string;
  /** First and latest request (retries reuse the CID). */
  first: RequestRef;
  last: RequestRef;
  requests: number;
  /** UDP datagram sequence numbers (VERSION `p1`, 4.11+) of the first and latest request, when sent. */
  firstSequence: number | null;
  lastSequence: number | null;
  /** Server TCP endpoints that answered (one frozen empty array shared by the unanswered entries). */
  answeredBy: string[];
  /** First answer. */
  firstReply: RequestRef | null;
  notFound: number;
}

/** Counters over the whole capture. */
export interface Statistics {
  /** Records emitted (messages + malformed). */
  records: number;
  /** CA messages decoded. */
  messages: number;
  /** Message bytes (headers + payloads). */
  bytes: number;
  malformed: number;
  /** Records by command name (e.g. 'ReadNotifyResponse'). */
  byCommand: Record<string, number>;
  udpDatagrams: number;
  tcpFlowsCa: number;
  tcpFlowsOther: number;
  /** Packet-layer problems by code. */
  problems: Record<string, number>;
  /** TCP flows not decoded because they were never recognised as CA, and their payload bytes. */
  skipped: { flows: number; bytes: number };
  /** Entries dropped to keep the state within its limits (not by normal expiry). */
  evicted: {
    circuits: number;
    channels: number;
    searches: number;
    pending: number;
    servers: number;
    clients: number;
    flows: number;
  };
}

/** One command name's record count (see {@link ConversationState.commandCounts}). */
export interface CommandCount {
  readonly name: string;
  n: number;
}

/** Where a statistics object keeps its command counts (see {@link newStatistics}). */
const COMMAND_COUNTS = Symbol('commandCounts');

/** `byCommand`'s getter, one function for all statistics objects (they then share one hidden class). */
function byCommandOf(this: { [COMMAND_COUNTS]: ReadonlyMap<string, CommandCount> }): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, c] of this[COMMAND_COUNTS]) out[name] = c.n;
  return out;
}

/**
 * Zeroed statistics whose `byCommand` is read from `counts`: an enumerable getter in the same place as the
 * data property it replaces (so spreads, JSON and structured clones see it as before), making a new plain
 * object at each read, names in the order they were first counted, as the object counted in place had
 * them. Added by `defineProperty` to a literal without it: a getter written in the literal, or a data
 * property redefined as one, makes the object a dictionary, and the counters above it (`records`,
 * `messages`, `bytes`, counted per record) generic `LoadIC`/`StoreIC` calls.
 */
function newStatistics(counts: ReadonlyMap<string, CommandCount>): Statistics {
  const head = { records: 0, messages: 0, bytes: 0, malformed: 0 };
  Object.defineProperty(head, 'byCommand', { get: byCommandOf, enumerable: true, configurable: true });
  const stats = head as Statistics;
  stats.udpDatagrams = 0;
  stats.tcpFlowsCa = 0;
  stats.tcpFlowsOther = 0;
  stats.problems = {};
  stats.skipped = { flows: 0, bytes: 0 };
  stats.evicted = { circuits: 0, channels: 0, searches: 0, pending: 0, servers: 0, clients: 0, flows: 0 };
  Object.defineProperty(stats, COMMAND_COUNTS, { value: counts });
  return stats;
}

/** The read-only view of the conversation state given to analyses and the daemon. */
export interface DecoderState {
  readonly circuits: ReadonlyMap<number, Readonly<CircuitInfo>>;
  readonly channels: ReadonlyMap<number, Readonly<ChannelInfo>>;
  readonly servers: ReadonlyMap<string, Readonly<ServerInfo>>;
  readonly clients: ReadonlyMap<string, Readonly<ClientInfo>>;
  readonly searches: ReadonlyMap<string, Readonly<SearchInfo>>;
  readonly statistics: Readonly<Statistics>;
}

/** The mutable state the decoder owns. Everything outside the decoder sees it as {@link DecoderState}. */
export class ConversationState implements DecoderState {
  // BoundedMaps so that capMap() evicts in O(1) amortised however many entries were deleted before.
  readonly circuits = new BoundedMap<number, CircuitInfo>();
  readonly channels = new BoundedMap<number, ChannelInfo>();
  readonly servers = new BoundedMap<string, ServerInfo>();
  readonly clients = new BoundedMap<string, ClientInfo>();
  readonly searches = new BoundedMap<string, SearchInfo>();
  /** Latest search per client IP and CID, to name channels of circuits seen without their CREATE_CHAN. */
  readonly searchesByIpCid = new BoundedMap<string, SearchInfo>();
  /** UDP VERSION requests per client socket and sequence number, to pair search replies' VERSIONs. */
  readonly versionRequests = new BoundedMap<string, RequestRef>();
  /**
   * Records by command name, counted by {@link RecordEmitter}; `statistics.byCommand` is made from it when
   * read. A plain object counted in place was a dictionary (its keys are added by computed-key stores),
   * and each record cost a megamorphic keyed load and store on it, 1-1.5 % of a `shark()` pass (perf,
   * session 17); a `Map` of counters costs one lookup. Entries keep the order names were first seen in.
   */
  readonly commandCounts = new Map<string, CommandCount>();
  readonly statistics: Statistics = newStatistics(this.commandCounts);
  private nextChannelId = 1;
  private lastSweep = -Infinity;
  /**
   * The entries {@link sweep} may expire, by the time their age counts from (closedAt, endedAt, the last
   * request's time): pushed when that time is set, so that a sweep looks at the old entries only. Keys
   * only: a popped pair is judged by its key's entry at the time (see expire), and an entry the caps
   * evicted is not held here until its time comes (a storm of short circuits held 26 MB of them).
   */
  private readonly closedCircuits = new ExpiryHeap<number>();
  private readonly endedChannels = new ExpiryHeap<number>();
  private readonly searchAges = new ExpiryHeap<string>();
  private readonly versionAges = new ExpiryHeap<string>();
  /** The latest time {@link searched} / {@link setVersionRequest} were given: a time before it may be a step back. */
  private latestSearch = -Infinity;
  private latestVersion = -Infinity;

  constructor(readonly limits: StateLimits) {}

  newChannel(circuit: CircuitInfo): ChannelInfo {
    const ch: ChannelInfo = {
      id: this.nextChannelId++,
      circuit: circuit.id,
      cid: null,
      sid: null,
      pv: null,
      nativeType: null,
      nativeCount: null,
      accessRights: null,
      status: 'unknown',
      created: null,
      connectedAt: null,
      connectLatency: null,
      endedAt: null,
      enumStrings: null,
      messages: 0,
      server: circuit.server,
      client: circuit.client,
    };
    this.channels.set(ch.id, ch);
    this.statistics.evicted.channels += capMap(this.channels, this.limits.maxChannels, (c) => this.unindexChannel(c));
    return ch;
  }

  /** Removes a channel from its circuit's CID/SID indexes (IDs may then be reused). */
  unindexChannel(ch: ChannelInfo): void {
    const circuit = this.circuits.get(ch.circuit);
    if (!circuit) return;
    if (ch.cid !== null && circuit.channelsByCid.get(ch.cid) === ch) circuit.channelsByCid.delete(ch.cid);
    if (ch.sid !== null && circuit.channelsBySid.get(ch.sid) === ch) circuit.channelsBySid.delete(ch.sid);
  }

  /** Drops a circuit and all its channels from the state. */
  dropCircuit(circuit: CircuitInfo): void {
    this.circuits.delete(circuit.id);
    for (const ch of circuit.channelsByCid.values()) this.channels.delete(ch.id);
    for (const ch of circuit.channelsBySid.values()) this.channels.delete(ch.id);
  }

  server(ip: string, port: number, now: number): ServerInfo {
    const address = `${ip}:${port}`;
    let s = this.servers.get(address);
    if (!s) {
      s = {
        address,
        ip,
        port,
        learnedFrom: { search: false, beacon: false, circuit: false },
        firstSeen: now,
        lastSeen: now,
        minor: null,
        searchReplies: 0,
        circuits: 0,
        beacons: 0,
        lastBeaconId: null,
        lastBeaconTime: null,
        beaconRestarts: 0,
        beaconRepeats: 0,
      };
      this.servers.set(address, s);
      this.statistics.evicted.servers += capMap(this.servers, this.limits.maxServers);
    }
    s.lastSeen = now;
    return s;
  }

  client(address: string, now: number): ClientInfo {
    let c = this.clients.get(address);
    if (!c) {
      c = {
        address,
        minor: null,
        firstSeen: now,
        lastSeen: now,
        searchDatagrams: 0,
        searches: 0,
        lastSequence: null,
        repeaterRegistrations: 0,
      };
      this.clients.set(address, c);
      this.statistics.evicted.clients += capMap(this.clients, this.limits.maxClients);
    }
    c.lastSeen = now;
    return c;
  }

  /** A circuit's `closedAt` was set: {@link sweep} drops it `closedCircuitTtl` later. */
  circuitClosed(c: CircuitInfo): void {
    if (c.closedAt === null) return;
    const heap = this.closedCircuits;
    heap.push(c.closedAt, c.id);
    if (heap.overfull(this.circuits.size)) {
      heap.clear();
      for (const k of this.circuits.values()) if (k.closedAt !== null) heap.push(k.closedAt, k.id);
    }
  }

  /** A channel's `endedAt` was set: {@link sweep} forgets it `clearedChannelTtl` later. */
  channelEnded(ch: ChannelInfo): void {
    if (ch.endedAt === null) return;
    const heap = this.endedChannels;
    heap.push(ch.endedAt, ch.id);
    if (heap.overfull(this.channels.size)) {
      heap.clear();
      for (const k of this.channels.values()) if (k.endedAt !== null) heap.push(k.endedAt, k.id);
    }
  }

  /**
   * `searches` holds a new `s` under `key` (`repeated`: false), or the `s` it held got a new last request
   * (`repeated`: true): {@link sweep} drops it `searchTtl` after its last request.
   *
   * A repeat pushes nothing while capture time goes forward: the entry's pair is no later than its new time,
   * and a sweep that pops that pair while the entry is young pushes it again by its current time. A pair
   * per repeat (a search retried for minutes) kept every superseded request ref and lookup key until a
   * rebuild, and grew V8's young generation with them.
   */
  searched(key: string, s: SearchInfo, repeated: boolean): void {
    const t = s.last.timestamp;
    const heap = this.searchAges;
    if (t < this.latestSearch || !repeated) heap.push(t, key);
    if (t > this.latestSearch) this.latestSearch = t;
    if (heap.overfull(this.searches.size)) {
      heap.clear();
      this.searches.forEach((v, k) => heap.push(v.last.timestamp, k));
    }
  }

  /**
   * Sets `key`'s VERSION request: {@link sweep} drops it `searchTtl` after its time. Pushes only for a new
   * key or when capture time went back, as {@link searched} does for repeats (a client's sequence numbers
   * wrap, and a repeater-less client may send the same one again).
   */
  setVersionRequest(key: string, ref: RequestRef): void {
    const map = this.versionRequests;
    const before = map.size;
    map.set(key, ref);
    const t = ref.timestamp;
    const heap = this.versionAges;
    if (t < this.latestVersion || map.size !== before) heap.push(t, key);
    if (t > this.latestVersion) this.latestVersion = t;
    if (heap.overfull(map.size)) {
      heap.clear();
      map.forEach((v, k) => heap.push(v.timestamp, k));
    }
  }

  /**
   * Expires closed circuits, ended channels, stale searches and search datagrams' VERSION requests; runs at
   * most once per capture second. Each table's candidates come off its {@link ExpiryHeap} oldest first,
   * until the first that is young enough to stay: the same entries as a walk of the whole tables would
   * remove (2-3 % of the decoder's time on the search storm of the bench's capture, when it walked them).
   */
  sweep(now: number): void {
    if (now - this.lastSweep < 1) return;
    this.lastSweep = now;
    this.expire(now);
  }

  private expire(now: number): void {
    const { closedCircuitTtl, clearedChannelTtl, searchTtl } = this.limits;
    const circuits = this.closedCircuits;
    while (now - circuits.earliest > closedCircuitTtl) {
      const t = circuits.earliest;
      const c = this.circuits.get(circuits.earliestKey);
      circuits.pop();
      // Another time than the pair's: the entry has a pair of its own for it (pushed when it was set).
      if (c !== undefined && c.closedAt === t) this.dropCircuit(c);
    }
    // After the circuits, as a walk did: a dropped circuit's indexed channels are gone from `channels` now.
    const channels = this.endedChannels;
    while (now - channels.earliest > clearedChannelTtl) {
      const t = channels.earliest;
      const ch = this.channels.get(channels.earliestKey);
      channels.pop();
      if (ch !== undefined && ch.endedAt === t) {
        this.unindexChannel(ch);
        this.channels.delete(ch.id);
      }
    }
    // A popped search or VERSION pair is judged by its key's entry now: gone, old enough, or young (its time
    // was set again since the pair was pushed, which pushes nothing while time goes forward: pushed again).
    const searches = this.searchAges;
    while (now - searches.earliest > searchTtl) {
      const k = searches.earliestKey;
      searches.pop();
      const s = this.searches.get(k);
      if (s === undefined) continue;
      const t = s.last.timestamp;
      if (now - t > searchTtl) {
        this.searches.delete(k);
        const ipKey = searchIpKey(s.client, s.cid);
        if (this.searchesByIpCid.get(ipKey) === s) this.searchesByIpCid.delete(ipKey);
      } else {
        searches.push(t, k);
      }
    }
    // A VERSION request is only looked up by the replies to its datagram: kept as long as a search, not for
    // the whole capture (every search datagram of 4.11+ clients leads with one).
    const versions = this.versionAges;
    while (now - versions.earliest > searchTtl) {
      const k = versions.earliestKey;
      versions.pop();
      const ref = this.versionRequests.get(k);
      if (ref === undefined) continue;
      if (now - ref.timestamp > searchTtl) this.versionRequests.delete(k);
      else versions.push(ref.timestamp, k);
    }
  }
}

/**
 * The key "address/id" of {@link ConversationState.searches} (address = client socket, id = CID) and of
 * `versionRequests` (id = sequence number), made to be kept in the map: a template literal makes a chain of
 * three strings (88 bytes for "127.0.0.1:40000/100000"), `join` one flat string (40 bytes). Lookups build
 * the same key with a template literal (short-lived, and quicker to make).
 */
export function keptKey(address: string, id: number): string {
  return [address, id].join('/');
}

/** Key of {@link ConversationState.searchesByIpCid}. */
export function searchIpKey(clientAddress: string, cid: number): string {
  const colon = clientAddress.lastIndexOf(':');
  return `${colon < 0 ? clientAddress : clientAddress.slice(0, colon)}/${cid}`;
}
