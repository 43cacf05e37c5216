import type { ChannelView, ClientView, HealthView, SearchView, ServerView, SourceView, StatsView } from './views.js';

/**
 * What the HTTP and WebSocket layers read: views of the decoder's conversation state and the daemon's
 * counters. The engine implements it; tests may pass their own.
 */
export interface DaemonModel {
  source(): SourceView;
  health(): HealthView;
  stats(): StatsView;
  /** Tables may come from another thread, hence the promises. */
  channels(): ChannelView[] | Promise<ChannelView[]>;
  servers(): ServerView[] | Promise<ServerView[]>;
  clients(): ClientView[] | Promise<ClientView[]>;
  searches(): SearchView[] | Promise<SearchView[]>;
  /** The analysis report (all sections, or those named); throws for an unknown section name. */
  report(sections?: readonly string[]): unknown | Promise<unknown>;
  /** JSON text of a `snapshot` frame ({@link SnapshotView}). */
  snapshotText(): string | Promise<string>;
  /**
   * The full JSON text of streamed record `id` (see record-ring.ts), undefined when it is no longer held.
   * A model without it holds no records (`/api/record/:id` answers 404).
   */
  record?(id: number): string | undefined | Promise<string | undefined>;
}
