/**
 * The shapes the daemon sends over `/ws` and `/api` (see docs/websocket.md of the daemon), as the shared
 * packages define them, imported as types only so no node code reaches the bundle: the record and its
 * command are the decoder's JSON types (`CaRecordJSON`, `CaCommandJSON`: a union discriminated by the
 * command's `name`, no index signature), the row and snapshot types are the daemon's own (`views.ts`) and
 * the analysis report's. What is declared here is what only the page needs: the messages the page sends
 * and the typed form of `snapshot.analysis`.
 */
import type {
  BeaconAnomaly,
  CaCommandJSON,
  CaRecordJSON,
  DuplicateEntry,
  NeverFoundEntry,
  RedundantSubscriptionEntry,
  SearchStormEntry,
  WriteEntry,
} from '@ca-shark/analysis';
import type {
  AlertView,
  ChannelView,
  ClientView,
  ErrorView,
  RecordsFrameTimes,
  SearchView,
  ServerView,
  SnapshotView,
  SourceView,
  StatsView,
  UnansweredView,
} from '@ca-shark/daemon';

/** Where the daemon's packets come from. */
export type SourceInfo = SourceView;

/** Percentiles of one latency kind (seconds). */
export type { LatencySummary } from '@ca-shark/daemon';

/**
 * The decoded CA command of a record: the decoder's typed command in its JSON form, a union discriminated
 * by the caproto class `name` (`@ca-shark/protocol`'s `CaCommandJSON`).
 */
export type CommandJSON = CaCommandJSON;

/**
 * One decoded CA message as the daemon serialises it (`/api/record/:id`, the WS `record` reply): the
 * decoder's record in JSON form, the same type `ca-shark --json` prints and its schema is generated from.
 */
export type RecordJSON = CaRecordJSON;

/**
 * One row of the Live table as the daemon streams it (`records` frames): what the row shows, the summary
 * made by the daemon with the shared `@ca-shark/analysis/summary`. The full record is
 * `GET /api/record/:id`.
 */
export type { LiveRecord } from '@ca-shark/analysis/summary';
import type { LiveRecord } from '@ca-shark/analysis/summary';

/**
 * A `records` frame. `matched` and `sent` count since this client's previous records frame: when the
 * daemon samples (`sampling`), `records` is a representative subset of the `matched` records, newest
 * always included. Daemons before the compact stream sent full {@link RecordJSON}s and none of the counts.
 * From live capture the frame also says when its newest record passed the daemon's stages
 * ({@link RecordsFrameTimes}: `postedAt`, `decodedAt`, `publishedAt`; daemons before session 8 send none).
 */
export interface RecordsMessage extends RecordsFrameTimes {
  type: 'records';
  /** Daemon wall clock (Unix s) when the frame was sent. */
  time?: number;
  records: (LiveRecord | RecordJSON)[];
  matched?: number;
  sent?: number;
  /** Per second, smoothed over a second or two. */
  rate?: { matched: number; sent: number };
  sampling?: boolean;
  /** Held records sent because the subscription asked for them with `since`, before any live one. */
  history?: boolean;
}

/** Sent after the last history frame: how many held records matched and how many were sent. */
export interface HistoryMessage {
  type: 'history';
  since: number;
  matched: number;
  sent: number;
  sampling: boolean;
  /** Capture time of the oldest record the daemon holds (null: none). */
  oldest: number | null;
}

/** Capture and pipeline counters (`/api/stats` and `snapshot.stats`). */
export type StatsJSON = StatsView;

/** A channel as seen by one client on one circuit. */
export type ChannelRow = ChannelView;

/** A CA server (IOC) endpoint. */
export type ServerRow = ServerView;

/** A CA client host. */
export type ClientRow = ClientView;

/** A PV with its search count (`snapshot.searches.top`). */
export type TopSearch = SearchView;

/** A PV that was searched and never answered (`snapshot.searches.unanswered`). */
export type UnansweredSearch = UnansweredView;

/** A failure worth listing (errors view). */
export type ErrorRow = ErrorView;

/** An anomaly from the analyses. */
export type AlertRow = AlertView;

/** A PV searched and never answered (report `never_found[]`, docs/report.md). */
export type NeverFoundRow = NeverFoundEntry;

/** A PV answered by more than one server, or by one over several paths (report `duplicates[]`). */
export type DuplicateRow = DuplicateEntry;

/** One server's answers to a PV that several answer (report `duplicates[].answers[]`). */
export type DuplicateAnswer = DuplicateEntry['answers'][number];

/** A beacon anomaly with its likely cause (report `beacons[].anomalies[]`). */
export type BeaconAnomalyRow = BeaconAnomaly;

/** A write and its outcome (report `writes[]`). */
export type WriteRow = WriteEntry;

/** Several live subscriptions to one PV on one circuit (report `redundant_subscriptions[]`). */
export type RedundantSubscriptionRow = RedundantSubscriptionEntry;

/** A PV's search statistics with the storm verdict (report `search_storms[]`, from `/api/report`). */
export type SearchStormRow = SearchStormEntry;

/**
 * The live analyses in a snapshot (`snapshot.analysis`); each list is capped at 50. The daemon types
 * them `unknown[]` because it forwards the report's JSON form; these are the analysis package's rows.
 */
export interface SnapshotAnalysis {
  never_found: NeverFoundEntry[];
  duplicates: DuplicateEntry[];
  beacon_anomalies: BeaconAnomaly[];
  writes: WriteEntry[];
  redundant_subscriptions: RedundantSubscriptionEntry[];
}

/** A periodic state snapshot: the daemon's {@link SnapshotView} with its analysis lists typed. */
export type SnapshotMessage = Omit<SnapshotView, 'analysis'> & { analysis: SnapshotAnalysis };

/** What the page asks the daemon to send (replaces the previous subscription; `{}` = everything). */
export interface SubscribeFilter {
  pv?: string[];
  host?: string[];
  command?: string[];
  errors?: boolean;
  /** Sensor name globs (a central daemon's records carry their sensor). */
  sensor?: string[];
}

/** Messages the daemon sends. */
export type ServerMessage =
  | { type: 'hello'; version: string; source: SourceView }
  | RecordsMessage
  | SnapshotMessage
  | { type: 'dropped'; count: number }
  /** The answer to a `subscribe`: the filter now in force. */
  | { type: 'subscribed'; filter: SubscribeFilter; since?: number }
  | HistoryMessage
  /** A refused request (an invalid filter, say), with the daemon's reason. */
  | { type: 'error'; message: string };

/** Messages the page sends. */
export type ClientMessage =
  /** `since` (Unix s, 0: everything held) asks for the held records matching the filter before live ones. */
  { type: 'subscribe'; filter: SubscribeFilter; since?: number } | { type: 'pause' } | { type: 'resume' };
