/**
 * Messages between the page and its data worker. The worker owns the WebSocket, parses every frame and
 * keeps the 100,000-row ring; the page only receives what it shows (the visible window of rows, the
 * latest snapshot, chart series), so the main thread's work does not grow with the message rate.
 */
import type { LiveRecord, RecordJSON, SnapshotMessage, SourceInfo, SubscribeFilter } from './contract.js';
import type { LatencyKind, LatencyPoint } from './latency.js';
import type { TableId } from './columns.js';
import type { ConnectionState, RatePoint, StreamStatus } from './live-client.js';
import type { TableQuery, TableWindows } from './table-engine.js';
import type { TableFormat } from './export.js';

/** Counters and state shown in the status bar. */
export interface ClientStatus {
  state: ConnectionState;
  source: SourceInfo | null;
  daemonVersion: string;
  serverDropped: number;
  received: number;
  heldDropped: number;
  attempts: number;
  /** Wall-clock ms of the next reconnect attempt. */
  nextAttemptAt: number;
  lastError: string;
  paused: boolean;
  heldCount: number;
  rowCount: number;
  capacity: number;
  /** The filter in force. */
  filter: SubscribeFilter;
  /** Why the filter numbered `filterSeq` was refused (shared FilterError or the daemon's error), '' if it was not. */
  filterError: string;
  /** Number of the last filter command the worker handled. */
  filterSeq: number;
  /** Counts and timing of the record stream (sampling, records not sent, lag). */
  stream: StreamStatus;
  /** Local wall-clock ms when the last snapshot arrived (0 before the first). */
  lastSnapshotAt: number;
  /** Whether the daemon's input (a replayed file, stdin) ended, when, with how many messages; null: not known. */
  input: { eof: boolean; endedAt: number | null; messages: number } | null;
}

/** One row of the live table with a sequence number that identifies it for selection. */
export interface WindowRow {
  seq: number;
  record: LiveRecord;
}

/** Latency series of one server and kind, as plain data. */
export interface LatencySeriesData {
  server: string;
  kind: LatencyKind;
  count: number;
  histogram: number[];
  /** Per-second points, oldest first. */
  points: LatencyPoint[];
}

/** Worker → page. Optional parts are present when they changed since the previous update. */
export interface WorkerUpdate {
  type: 'update';
  status: ClientStatus;
  /** Rows `[start, start + rows.length)` counted from the newest. */
  window: { start: number; rows: WindowRow[] };
  /** The snapshot without its big lists (they come as `tables`). */
  snapshot?: SnapshotMessage;
  /** Windows of the open big tables that changed. */
  tables?: TableWindows;
  rates?: RatePoint[];
  latency?: LatencySeriesData[];
}

/** Worker → page: the answer to a `record` command. */
export interface RecordAnswer {
  type: 'record';
  id: number;
  /** The full record, or null when it could not be had (see `error`). */
  record: RecordJSON | null;
  /** Why not: the daemon's word (`record 12 is no longer held`) or the failure. */
  error: string | null;
}

/** Worker → page: the answer to an `export` command, the table's text. */
export interface ExportAnswer {
  type: 'export';
  id: number;
  text: string;
  rows: number;
}

/** Everything the worker posts. */
export type WorkerMessage = WorkerUpdate | RecordAnswer | ExportAnswer;

/** Page → worker. */
export type WorkerCommand =
  | { type: 'start'; url: string }
  | { type: 'stop' }
  | { type: 'window'; start: number; end: number }
  | { type: 'filter'; filter: SubscribeFilter; seq: number }
  /** `newestSeq`: the newest row on the page's screen; rows that reached the worker after it stay hidden. */
  | { type: 'pause'; newestSeq?: number }
  | { type: 'resume' }
  | { type: 'clear' }
  | { type: 'latency'; on: boolean }
  /** Open, change or (null) close a big table: the worker sorts and filters it and sends the rows on screen. */
  | { type: 'table'; id: TableId; query: TableQuery | null }
  /** Fetch the full record `id` from `url` (`/api/record/:id` beside the page, with its token). */
  | { type: 'record'; id: number; url: string }
  /**
   * The whole of a table as the page shows it (its filter and sort, every row, not only those on screen) in
   * `format`; `live` is the Live table (newest first), which takes no query.
   */
  | { type: 'export'; id: number; table: TableId | 'live'; query: TableQuery | null; format: TableFormat };
