/**
 * The shapes the daemon sends over `/ws` and `/api` (see docs/websocket.md of the daemon). Fields that
 * the daemon documents as open-ended are typed loosely and read through the helpers in this folder, so a
 * field the page does not know is shown generically instead of breaking the page.
 */

/** Where the daemon's packets come from. */
export interface SourceInfo {
  kind: 'live' | 'stdin' | 'file' | 'demo' | string;
  iface?: string;
  linktype?: string | number;
  filter?: string;
  file?: string;
}

/** The decoded CA command of a record (caproto class name and field names). */
export interface CommandJSON {
  name: string;
  id?: number;
  data?: unknown;
  metadata?: Record<string, unknown> | null;
  [field: string]: unknown;
}

/** One decoded CA message as the daemon serialises it (the decoder record made JSON-safe). */
export interface RecordJSON {
  frame?: number;
  timestamp: number;
  src: string;
  dst: string;
  ethernet?: unknown;
  ip?: unknown;
  transport?: { protocol?: string; sport?: number; dport?: number; [k: string]: unknown };
  command: CommandJSON;
  pv?: string | null;
  role?: string;
  role_certainty?: string | boolean;
  circuit?: string | number;
  request?: { frame?: number; timestamp?: number; command?: string | CommandJSON };
  latency?: number | null;
  server?: string;
  client?: string;
  size?: number;
  /** Hex of the message bytes. */
  raw?: string;
}

/** Capture and pipeline counters (`/api/stats` and `snapshot.stats`). */
export interface StatsJSON {
  packets?: number;
  bytes?: number;
  messages?: number;
  messagesPerSecond?: number;
  perCommand?: Record<string, number>;
  malformed?: number;
  capture?: { received?: number; dropped?: number; ifDropped?: number };
  websocket?: { clients?: number; dropped?: number };
}

/** Percentiles of one latency kind (seconds). */
export interface LatencySummary {
  count: number;
  mean: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** A channel as seen by one client on one circuit. */
export interface ChannelRow {
  pv: string;
  client: string | null;
  server: string | null;
  circuit: number | null;
  cid: number | null;
  sid: number | null;
  /** 'searching' | 'connected' | 'failed' | 'cleared' | 'disconnected'. */
  state: string;
  nativeType: string | null;
  count: number | null;
  /** 'rw', 'r', 'w', '-' when known. */
  access: string | null;
  subscriptions: number;
  updates: number;
  updateRate: number | null;
  lastValue: unknown;
  searchLatency: number | null;
  connectLatency: number | null;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** A CA server (IOC) endpoint. */
export interface ServerRow {
  address: string;
  circuits: number;
  channels: number;
  beacons: number;
  beaconPeriod: number | null;
  lastBeacon: number | null;
  lastBeaconId: number | null;
  /** Per kind: 'search', 'create', 'read', 'write', 'echo'. */
  latency: Record<string, LatencySummary>;
}

/** A CA client host. */
export interface ClientRow {
  host: string;
  hostname: string | null;
  user: string | null;
  circuits: number;
  channels: number;
  searches: number;
  searchRate: number;
}

/** A PV with its search count (`snapshot.searches.top`). */
export interface TopSearch {
  pv: string;
  count: number;
  clients: number;
  answered: boolean;
  servers?: string[];
  firstSeen?: number;
  lastSeen?: number;
}

/** A PV that was searched and never answered (`snapshot.searches.unanswered`). */
export interface UnansweredSearch {
  pv: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  clients: string[];
}

/** A failure worth listing (errors view). */
export interface ErrorRow {
  time: number;
  command: string;
  pv: string | null;
  src: string;
  dst: string;
  /** ECA status name or the malformed reason. */
  detail: string;
}

/** An anomaly from the analyses. */
export interface AlertRow {
  time: number;
  kind: string;
  severity: 'info' | 'warn' | 'error';
  message: string;
}

/** A PV searched and never answered (report `never_found[]`, docs/report.md). */
export interface NeverFoundRow {
  pv: string;
  /** Search requests, retries included. */
  count: number;
  first_seen: number;
  last_seen: number;
  /** Searching processes, `"ip:port"`. */
  clients: string[];
  /** Searching hosts (IP). */
  hosts: string[];
}

/** One server's answers to a PV that several answer (report `duplicates[].answers[]`). */
export interface DuplicateAnswer {
  server: string;
  /** Datagram sources the answer arrived from. */
  via: string[];
  first_seen: number;
  count: number;
}

/** A PV answered by more than one server, or by one over several paths (report `duplicates[]`). */
export interface DuplicateRow {
  pv: string;
  servers: string[];
  verdict: 'duplicate' | 'multi-path';
  answers: DuplicateAnswer[];
}

/** A beacon anomaly with its likely cause (report `beacons[].anomalies[]`). */
export interface BeaconAnomalyRow {
  server: string;
  time: number;
  /** `restart`, `missed-beacon`, `network-interruption`, `duplicate-route`, `lost-beacons`, `address-mismatch`, `no-beacons`. */
  cause: string;
  detail: string;
  beacon_id?: number;
  period?: number;
  average_period?: number;
}

/** A write and its outcome (report `writes[]`). */
export interface WriteRow {
  time: number;
  frame?: number;
  client: string;
  host: string | null;
  user: string | null;
  server: string | null;
  pv: string | null;
  command: 'WriteRequest' | 'WriteNotifyRequest' | string;
  data_type: number | null;
  data_count: number | null;
  /** First 16 elements. */
  value: unknown[];
  /** ECA status of the reply; null when nothing answered (plain WRITE has no reply on success). */
  status: number | null;
  status_name: string | null;
}

/** Several live subscriptions to one PV on one circuit (report `redundant_subscriptions[]`). */
export interface RedundantSubscriptionRow {
  pv: string;
  circuit: number;
  client: string | null;
  server: string | null;
  /** Most live subscriptions to the PV at once on the circuit. */
  count: number;
  subscriptionids: number[];
  first_seen: number;
}

/** A PV's search statistics with the storm verdict (report `search_storms[]`, from `/api/report`). */
export interface SearchStormRow {
  pv: string;
  count: number;
  /** Searches per second over the PV's searched span. */
  rate: number;
  first_seen: number;
  last_seen: number;
  answered: boolean;
  answers: number;
  unanswered_ratio: number;
  /** Most searches one client made for one channel. */
  retries: number;
  oldest_unanswered_age: number | null;
  clients: string[];
  flagged: boolean;
  reasons: string[];
}

/** The live analyses in a snapshot (`snapshot.analysis`); each list is capped at 50. */
export interface SnapshotAnalysis {
  never_found: NeverFoundRow[];
  duplicates: DuplicateRow[];
  beacon_anomalies: BeaconAnomalyRow[];
  writes: WriteRow[];
  redundant_subscriptions: RedundantSubscriptionRow[];
}

/** A periodic state snapshot. */
export interface SnapshotMessage {
  type: 'snapshot';
  time: number;
  stats: StatsJSON;
  channels: ChannelRow[];
  servers: ServerRow[];
  clients: ClientRow[];
  searches: { top: TopSearch[]; unanswered: UnansweredSearch[] };
  errors: ErrorRow[];
  alerts: AlertRow[];
  /** Absent from daemons older than the live analyses. */
  analysis?: SnapshotAnalysis;
}

/** What the page asks the daemon to send (replaces the previous subscription; `{}` = everything). */
export interface SubscribeFilter {
  pv?: string[];
  host?: string[];
  command?: string[];
  errors?: boolean;
}

/** Messages the daemon sends. */
export type ServerMessage =
  | { type: 'hello'; version: string; source: SourceInfo }
  | { type: 'records'; records: RecordJSON[] }
  | SnapshotMessage
  | { type: 'dropped'; count: number };

/** Messages the page sends. */
export type ClientMessage =
  | { type: 'subscribe'; filter: SubscribeFilter }
  | { type: 'pause' }
  | { type: 'resume' };
