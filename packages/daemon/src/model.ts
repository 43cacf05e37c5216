import type { SeriesRequest } from './series.js';
import type { HistoryRequest } from './history.js';
import type { HistoryQuery } from './series-history.js';
import type { HealthView, SourceView, StatsView } from './views.js';

/** The tables the API serves (`/api/<name>`). */
export type TableName = 'channels' | 'servers' | 'clients' | 'searches';

/** Every {@link TableName}. */
export const TABLE_NAMES: readonly TableName[] = ['channels', 'servers', 'clients', 'searches'];

/**
 * A view as computed once and shared by every request that reads it: its JSON text (serialised once, sent
 * as it is to every client) and when it was computed.
 */
export interface ViewText {
  text: string;
  /** Wall clock (Unix seconds) when the view was computed, or last found unchanged. */
  time: number;
}

/**
 * A table as {@link ViewText}, or as the UTF-8 bytes of its JSON text: the decoding worker publishes its
 * tables as bytes (views-publisher.ts), sent as they are.
 */
export interface TableText {
  text: string | Uint8Array;
  /** Wall clock (Unix seconds) when the table was computed, or last found unchanged. */
  time: number;
}

/** How `/api/report` is cut. */
export interface ReportOptions {
  /**
   * Rows per report table; beyond it the rest are counted in `omitted`. Null: every row the analyses keep
   * (their own cap, 1,000 per table).
   */
  limit: number | null;
}

/**
 * What the HTTP and WebSocket layers read: views of the decoder's conversation state and the daemon's
 * counters. The engine implements it; tests may pass their own.
 */
export interface DaemonModel {
  source(): SourceView;
  health(): HealthView;
  stats(): StatsView;
  /**
   * A table as JSON text (a row array, e.g. ChannelView[]). The decoding worker publishes them on a cadence,
   * so this is the latest published copy, answered at once whatever the decoder is doing.
   */
  tableText(name: TableName): TableText | Promise<TableText>;
  /**
   * The analysis report (all sections, or those named) as JSON text, cut per {@link ReportOptions}; throws
   * (or rejects with) the analysis package's SectionError for an unknown section name.
   */
  reportText(sections: readonly string[] | undefined, options: ReportOptions): ViewText | Promise<ViewText>;
  /** JSON text of a `snapshot` frame ({@link SnapshotView}). */
  snapshotText(): string | Promise<string>;
  /**
   * The full JSON text of streamed record `id` (see record-ring.ts), undefined when it is no longer held.
   * A model without it holds no records (`/api/record/:id` answers 404).
   */
  record?(id: number): string | undefined | Promise<string | undefined>;
  /**
   * Acknowledges alert group `key` (its `kind subject`); false when no such group is held. A model without
   * it has no alerts to acknowledge (`POST /api/alerts/ack` answers 404).
   */
  acknowledgeAlert?(key: string): boolean | Promise<boolean>;
  /** Every alert group held and the totals (`{groups, totals}`) as JSON text; without it, 404. */
  alertsText?(): string | Promise<string>;
  /** Further Prometheus families for `/metrics` (per-server series), in the text format. */
  metricsText?(): string | Promise<string>;
  /**
   * JSON text of a chart series, the top talkers or the tracked keys (see series.ts). A model without it
   * keeps no series (`/api/series/*` and `/api/talkers` answer 404).
   */
  seriesText?(request: SeriesRequest): string | Promise<string>;
  /**
   * Starts the scan of held records for a client that subscribed with `since` (see history.ts); the answers
   * reach the hub. A model without it holds no records: `since` is then ignored.
   */
  requestHistory?(request: HistoryRequest): void;
  /** Stops a scan nobody waits for any more. */
  cancelHistory?(request: number): void;
  /**
   * The chart aggregates over a capture-time range as the JSON text of a `GET /api/history` answer, with
   * the input's state (`eof`, `endedAt`, `messages`) added. A model without it answers 404.
   */
  historyText?(query: HistoryQuery): Promise<string>;
}
