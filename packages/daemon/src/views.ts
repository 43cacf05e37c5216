/**
 * The JSON shapes the daemon serves (REST and WebSocket snapshots), with their JSON schemas. Fastify
 * serialises responses through these schemas, so a field missing here never reaches a client: keep the
 * types and the schemas side by side.
 */
import type { LatencyPercentiles } from '@ca-shark/analysis';
import type { CaptureCounters, SourceDescription } from './sources/types.js';
import type { HistorySpoolStatus } from './history-spool.js';
import type { SpoolStatus } from './sources/spool.js';
import type { AlertGroup, AlertTotals } from './alerts/book.js';
import type { ChannelDisplay } from './channel-display.js';

/** Capture counters (libpcap's pcap_stats for live capture). */
export type CaptureStatsView = CaptureCounters;

/** `/api/stats` and `snapshot.stats`. */
export interface StatsView {
  /** Frames handed to the decoder. */
  packets: number;
  /** Bytes of those frames as captured. */
  bytes: number;
  /** CA messages decoded (Malformed included). */
  messages: number;
  /** Messages per second over the last few seconds of wall time. */
  messagesPerSecond: number;
  /** Messages per command class name. */
  perCommand: Record<string, number>;
  /** Malformed records. */
  malformed: number;
  /** Frames captured but dropped before decoding because the decoder fell behind (never silent). */
  decoderDropped: number;
  /** TCP flows not decoded because they were never recognised as CA (see `--ports`), and their bytes. */
  skippedFlows: { flows: number; bytes: number };
  /**
   * How long the oldest frame batch not yet decoded has waited (ms): how far decoding is behind capture
   * (0 while it keeps up). Only from a daemon that decodes in a worker.
   */
  decoderLagMs?: number;
  /**
   * Share (0..1] of their asked-for rates the record streams may take: below 1 while live decoding catches
   * up, when clients are sent a thinner sample so that no frame is dropped, and at most twice what the
   * streams' matches lately filled, so a flood after a quiet spell starts thin (see stream-governor.ts).
   * 1 while no stream is open.
   */
  streamShare?: number;
  /**
   * Nice value the decoding worker's thread runs at (`--decoder-nice`, read back from the kernel); absent
   * where threads have no priority of their own (not Linux).
   */
  decoderNice?: number;
  capture: CaptureStatsView;
  websocket: WebSocketStatsView;
  /**
   * What the packet ring (`GET /api/pcap`) holds and let go; absent when it holds nothing (`--packet-ring 0`,
   * a central). Counters of the ring, read as they are.
   */
  packetRing?: PacketRingView;
  /** What the held history (`subscribe` with `since`) holds and let go; absent with `--history 0`. */
  history?: HistoryHeldView;
  /** Stdin's spool (`--stdin` only, absent with `--spool-dir none`). */
  spool?: SpoolStatus;
}

/** `stats.packetRing`: how far back `GET /api/pcap` reaches. */
export interface PacketRingView {
  /** Bytes counted against the bound (`--packet-ring`), and the bound. */
  bytes: number;
  maxBytes: number;
  /** Frames and messages held. */
  frames: number;
  messages: number;
  /** Capture time (Unix s) of the oldest packet the export can write, and of the newest message (null: none). */
  oldestTime: number | null;
  newestTime: number | null;
  /** Frames and messages let go since start (the bound, or a spool that overwrote their bytes). */
  evictedFrames: number;
  droppedMessages: number;
}

/** `stats.history`: how far back a subscription's `since` reaches. */
export interface HistoryHeldView {
  records: number;
  /** The bounds (`--history RECORDS,DURATION`); `maxSeconds` null for no time bound. */
  maxRecords: number;
  maxSeconds: number | null;
  /** Capture time (Unix s) of the oldest record held (null: none). */
  oldestTime: number | null;
  /** Records let go since start, by either bound, or lost with a spooled chunk that could not be read back. */
  dropped: number;
  /** Where full chunks go (`--spool-dir`; history-spool.ts), and how the disk keeps up; absent: in memory. */
  spool?: HistorySpoolStatus;
}

/**
 * When the newest record of a WebSocket `records` frame passed each stage of the daemon (Unix s, the
 * daemon's clock; live capture only, each absent when not known): its frame batch posted to the decoding
 * worker (`postedAt`), the records handed back by the worker (`decodedAt`) and received by the hub
 * (`publishedAt`). With the frame's `time` (sent) and the record's capture time they split the Live view's
 * lag into stages (the dashboard's status bar).
 */
export interface RecordsFrameTimes {
  postedAt?: number;
  decodedAt?: number;
  publishedAt?: number;
}

/**
 * WebSocket record delivery (`/api/stats` `websocket`): exact counts of records that matched clients'
 * filters, were sent, and were sampled out (not sent because a client could not take them all).
 */
export interface WebSocketStatsView {
  clients: number;
  /** Records matched but not sent, summed over clients since start: the same number as `sampledOut`. */
  dropped: number;
  matched?: number;
  sent?: number;
  sampledOut?: number;
  /** One entry per connected client. */
  perClient?: WebSocketClientView[];
}

/** One connected WebSocket client's record delivery. */
export interface WebSocketClientView {
  id: number;
  matched: number;
  sent: number;
  sampledOut: number;
  /** Records waiting for its next frame. */
  pending: number;
  /** Its latest records frame was a sample. */
  sampling: boolean;
  /** Smoothed records per second matched for it and sent to it. */
  matchedPerSecond: number;
  sentPerSecond: number;
  /** Records per second it is sent at most now (less than it asked for while its socket drains slowly). */
  rate: number;
}

/**
 * A channel as seen by one client on one circuit: one row per (circuit, CID), so two clients (or one client
 * twice) on the same PV are separate rows. Closed channels stay listed, within a bounded history.
 */
export interface ChannelView {
  /** A central's sensor that saw the channel's circuit (absent elsewhere). */
  sensor?: string;
  pv: string;
  /** Client endpoint "ip:port" of the circuit. */
  client: string | null;
  /** Server endpoint "ip:port", when known. */
  server: string | null;
  circuit: number | null;
  cid: number | null;
  sid: number | null;
  /**
   * 'creating' | 'connected' | 'clearing' | 'unknown' while open; 'closed' (cleared, or its circuit ended),
   * 'failed' (CREATE_CH_FAIL) or 'disconnected' (SERVER_DISCONN) once ended.
   */
  state: string;
  /** Capture time the channel ended (cleared, failed, disconnected or its circuit closed), null while open. */
  closedAt: number | null;
  /** Native DBR type name, e.g. 'DOUBLE'. */
  nativeType: string | null;
  count: number | null;
  /** 'read' | 'write' flags as text ('rw', 'r', 'w', '-'), when known. */
  access: string | null;
  subscriptions: number;
  /** Monitor updates seen. */
  updates: number;
  /** Monitor updates per second over the channel's lifetime (capture time). */
  updateRate: number | null;
  /** Last value seen (read reply or monitor update), JSON form. */
  lastValue: unknown;
  /** Precision, units and enum strings from a GR/CTRL reply seen for the channel, null before one. */
  display: ChannelDisplay | null;
  /** The server's reply time to the search that found this channel (its latest request → reply), seconds. */
  searchLatency: number | null;
  /** The client's wait for that name: its first search request → the reply, seconds (retries included). */
  timeToFind: number | null;
  /** CREATE_CHAN request → reply, seconds. */
  connectLatency: number | null;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** Channel counts behind a cut list of {@link ChannelView} rows (snapshots list at most 500). */
export interface ChannelTotals {
  open: number;
  /** Closed channels in the history (the latest 10,000). */
  closed: number;
  /** Closed channels dropped from the history to keep it bounded. */
  closedDropped: number;
}

/** A CA server (IOC) endpoint. */
export interface ServerView {
  /** A central's sensors whose circuits reach the server, comma-separated (absent elsewhere). */
  sensor?: string;
  /** "ip:port" of its TCP endpoint. */
  address: string;
  circuits: number;
  channels: number;
  beacons: number;
  /** Mean beacon period (seconds) over the recent beacons, when at least two were seen. */
  beaconPeriod: number | null;
  lastBeacon: number | null;
  lastBeaconId: number | null;
  /**
   * Latency summaries in seconds per kind ('search', 'create', 'read', 'write', 'echo', 'monitor'). 'search'
   * is the server's reply time to the request it answers, not the client's wait across retries.
   */
  latency: Record<string, LatencySummary>;
}

/**
 * Percentiles of one latency kind (seconds): the analysis package's {@link LatencyPercentiles}, computed by
 * its BoundedSample (exact count, mean, min and max; percentiles of a uniform sample of the whole run).
 */
export type LatencySummary = LatencyPercentiles;

/**
 * A CA client process. The wire has no process id: a process is its UDP search socket, with the circuits
 * whose channels its searches found; a circuit whose channels no captured search found is a row of its own.
 */
export interface ClientView {
  /** A central's sensors that saw the process's circuits, comma-separated (absent elsewhere). */
  sensor?: string;
  /** Row key: "udp ip:port" of the search socket, or "tcp ip:port" of a circuit not linked to one. */
  process: string;
  /** Client IPv4 address. */
  host: string;
  /** HOST_NAME it announced on its circuits, when seen. */
  hostname: string | null;
  /** CLIENT_NAME (user) it announced on its circuits, when seen. */
  user: string | null;
  /** UDP port it searches from, when its searches were captured. */
  searchPort: number | null;
  /** Client ends "ip:port" of its circuits (at most 20 listed; `circuits` counts them all). */
  circuitEndpoints: string[];
  circuits: number;
  channels: number;
  searches: number;
  /** Searches per second over the capture span of its search socket. */
  searchRate: number;
  /** Its wait for names: first search → first reply, over its answered searches (seconds), or null. */
  timeToFind: LatencySummary | null;
}

/** One searched PV (`/api/searches` rows, `snapshot.searches.top`). */
export interface SearchView {
  pv: string;
  count: number;
  /** Distinct client endpoints that searched it. */
  clients: number;
  answered: boolean;
  /** Servers that answered ("ip:port"). */
  servers: string[];
  /** Clients' wait for the name (first search → first reply) over the client sockets answered, seconds. */
  timeToFind: LatencySummary | null;
  firstSeen: number;
  lastSeen: number;
}

/** One never-answered PV (`snapshot.searches.unanswered`). */
export interface UnansweredView {
  pv: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** Client endpoints that asked. */
  clients: string[];
}

/** A failure worth listing (errors view). */
export interface ErrorView {
  /** A central's sensor that captured the message (absent elsewhere). */
  sensor?: string;
  time: number;
  command: string;
  pv: string | null;
  src: string;
  dst: string;
  /** ECA status name or the malformed reason. */
  detail: string;
}

/** One alert group: a kind of problem about one subject, deduplicated (see alerts/book.ts). */
export type AlertView = AlertGroup;

/** `/api/health`. */
export interface HealthView {
  status: 'ok';
  uptime: number;
  source: SourceView;
  eof: boolean;
}

/** Source description as served (see sources/types.ts). */
export type SourceView = SourceDescription;

/** `snapshot` WebSocket frame. */
export interface SnapshotView {
  type: 'snapshot';
  time: number;
  stats: StatsView;
  channels: ChannelView[];
  /** How many channels `channels` was cut from: named open ones, closed ones kept, closed ones forgotten. */
  channelTotals: ChannelTotals;
  servers: ServerView[];
  clients: ClientView[];
  searches: { top: SearchView[]; unanswered: UnansweredView[] };
  errors: ErrorView[];
  /** Alert groups, most serious first, then unacknowledged, then latest; 300 at most. */
  alerts: AlertView[];
  alertTotals: AlertTotals;
  /** Live results of @ca-shark/analysis, in the report's JSON form (docs/report.md); lists are capped at 50. */
  analysis: {
    never_found: unknown[];
    duplicates: unknown[];
    beacon_anomalies: unknown[];
    writes: unknown[];
    redundant_subscriptions: unknown[];
  };
}

/** A snapshot of nothing decoded yet, with the given stats. */
export function emptySnapshot(time: number, stats: StatsView): SnapshotView {
  return {
    type: 'snapshot',
    time,
    stats,
    channels: [],
    channelTotals: { open: 0, closed: 0, closedDropped: 0 },
    servers: [],
    clients: [],
    searches: { top: [], unanswered: [] },
    errors: [],
    alerts: [],
    alertTotals: { groups: { error: 0, warn: 0, info: 0 }, open: { error: 0, warn: 0, info: 0 }, forgotten: 0 },
    analysis: { never_found: [], duplicates: [], beacon_anomalies: [], writes: [], redundant_subscriptions: [] },
  };
}

// ---- JSON schemas (draft-07 subset that fastify's serializer understands) ----

const num = { type: 'number' } as const;
const int = { type: 'integer' } as const;
const str = { type: 'string' } as const;
const nullableNum = { type: ['number', 'null'] } as const;
const nullableInt = { type: ['integer', 'null'] } as const;
const nullableStr = { type: ['string', 'null'] } as const;

/** Schema of {@link SourceView}. */
export const sourceSchema = {
  type: 'object',
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['live', 'stdin', 'file', 'demo', 'nats'] },
    iface: str,
    linktype: int,
    filter: str,
    file: str,
    speed: { anyOf: [num, { type: 'string', enum: ['max'] }] },
    nats: str,
    sensors: { type: 'array', items: str },
  },
} as const;

/** Schema of {@link HealthView}. */
export const healthSchema = {
  type: 'object',
  required: ['status', 'uptime', 'source', 'eof'],
  properties: { status: { type: 'string', enum: ['ok'] }, uptime: num, source: sourceSchema, eof: { type: 'boolean' } },
} as const;

/** Schema of {@link StatsView}. */
export const statsSchema = {
  type: 'object',
  required: [
    'packets',
    'bytes',
    'messages',
    'messagesPerSecond',
    'perCommand',
    'malformed',
    'decoderDropped',
    'capture',
    'websocket',
  ],
  properties: {
    packets: int,
    bytes: int,
    messages: int,
    messagesPerSecond: num,
    perCommand: { type: 'object', additionalProperties: int },
    malformed: int,
    decoderDropped: int,
    decoderLagMs: num,
    streamShare: num,
    decoderNice: int,
    capture: {
      type: 'object',
      required: ['received', 'dropped', 'ifDropped'],
      properties: { received: int, dropped: int, ifDropped: int },
    },
    websocket: {
      type: 'object',
      required: ['clients', 'dropped'],
      properties: {
        clients: int,
        dropped: int,
        matched: int,
        sent: int,
        sampledOut: int,
        perClient: {
          type: 'array',
          items: {
            type: 'object',
            required: ['id', 'matched', 'sent', 'sampledOut', 'pending', 'sampling'],
            properties: {
              id: int,
              matched: int,
              sent: int,
              sampledOut: int,
              pending: int,
              sampling: { type: 'boolean' },
              matchedPerSecond: num,
              sentPerSecond: num,
              rate: num,
            },
          },
        },
      },
    },
    packetRing: {
      type: 'object',
      required: [
        'bytes',
        'maxBytes',
        'frames',
        'messages',
        'oldestTime',
        'newestTime',
        'evictedFrames',
        'droppedMessages',
      ],
      properties: {
        bytes: int,
        maxBytes: int,
        frames: int,
        messages: int,
        oldestTime: nullableNum,
        newestTime: nullableNum,
        evictedFrames: int,
        droppedMessages: int,
      },
    },
    history: {
      type: 'object',
      required: ['records', 'maxRecords', 'maxSeconds', 'oldestTime', 'dropped'],
      properties: { records: int, maxRecords: int, maxSeconds: nullableNum, oldestTime: nullableNum, dropped: int },
    },
    spool: {
      type: 'object',
      required: ['dir', 'bytes', 'bytesWritten', 'tmpfs', 'stopped'],
      properties: { dir: str, bytes: int, bytesWritten: int, tmpfs: { type: 'boolean' }, stopped: nullableStr },
    },
  },
} as const;

const latencySummarySchema = {
  type: 'object',
  required: ['count', 'mean', 'min', 'p50', 'p90', 'p99', 'max'],
  properties: { count: int, mean: num, min: num, p50: num, p90: num, p99: num, max: num },
} as const;

/** Schema of {@link ChannelView}. */
export const channelSchema = {
  type: 'object',
  required: [
    'pv',
    'client',
    'server',
    'circuit',
    'cid',
    'sid',
    'state',
    'closedAt',
    'nativeType',
    'count',
    'access',
    'subscriptions',
    'updates',
    'updateRate',
    'lastValue',
    'display',
    'searchLatency',
    'timeToFind',
    'connectLatency',
    'firstSeen',
    'lastSeen',
  ],
  properties: {
    pv: str,
    client: nullableStr,
    server: nullableStr,
    circuit: nullableInt,
    cid: nullableInt,
    sid: nullableInt,
    state: str,
    closedAt: nullableNum,
    nativeType: nullableStr,
    count: nullableInt,
    access: nullableStr,
    subscriptions: int,
    updates: int,
    updateRate: nullableNum,
    lastValue: {},
    display: {
      type: ['object', 'null'],
      properties: { precision: int, units: str, enumStrings: { type: 'array', items: str } },
    },
    searchLatency: nullableNum,
    timeToFind: nullableNum,
    connectLatency: nullableNum,
    firstSeen: nullableNum,
    lastSeen: nullableNum,
  },
} as const;

/** Schema of {@link ServerView}. */
export const serverSchema = {
  type: 'object',
  required: ['address', 'circuits', 'channels', 'beacons', 'beaconPeriod', 'lastBeacon', 'lastBeaconId', 'latency'],
  properties: {
    address: str,
    circuits: int,
    channels: int,
    beacons: int,
    beaconPeriod: nullableNum,
    lastBeacon: nullableNum,
    lastBeaconId: nullableInt,
    latency: { type: 'object', additionalProperties: latencySummarySchema },
  },
} as const;

/** Schema of {@link ClientView}. */
export const clientSchema = {
  type: 'object',
  required: [
    'process',
    'host',
    'hostname',
    'user',
    'searchPort',
    'circuitEndpoints',
    'circuits',
    'channels',
    'searches',
    'searchRate',
    'timeToFind',
  ],
  properties: {
    process: str,
    host: str,
    hostname: nullableStr,
    user: nullableStr,
    searchPort: nullableInt,
    circuitEndpoints: { type: 'array', items: str },
    circuits: int,
    channels: int,
    searches: int,
    searchRate: num,
    timeToFind: { anyOf: [latencySummarySchema, { type: 'null' }] },
  },
} as const;

/** Schema of {@link SearchView}. */
export const searchSchema = {
  type: 'object',
  required: ['pv', 'count', 'clients', 'answered', 'servers', 'timeToFind', 'firstSeen', 'lastSeen'],
  properties: {
    pv: str,
    count: int,
    clients: int,
    answered: { type: 'boolean' },
    servers: { type: 'array', items: str },
    timeToFind: { anyOf: [latencySummarySchema, { type: 'null' }] },
    firstSeen: num,
    lastSeen: num,
  },
} as const;

/** Schema of `/api/report`: the analysis report (docs/report.md), passed through as it is. */
export const reportSchema = { type: 'object', additionalProperties: true } as const;

/** Wraps an item schema into an array schema. */
export function arrayOf<T extends object>(items: T): { type: 'array'; items: T } {
  return { type: 'array', items };
}
