import type {
  ChannelView, ClientView, HealthView, SearchView, ServerView, SnapshotView, SourceView, StatsView,
} from './views.js';

/**
 * What the HTTP and WebSocket layers read: views of the decoder's conversation state and the daemon's
 * counters. The engine implements it; tests may pass their own.
 */
export interface DaemonModel {
  source(): SourceView;
  health(): HealthView;
  stats(): StatsView;
  channels(): ChannelView[];
  servers(): ServerView[];
  clients(): ClientView[];
  searches(): SearchView[];
  snapshot(): SnapshotView;
}
