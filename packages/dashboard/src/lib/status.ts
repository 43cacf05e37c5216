/**
 * Wording of the status bar: where packets come from, how the connection is doing, and how fresh and
 * complete the Live view is (lag, staleness, sampling, records not sent).
 */
import type { SnapshotMessage, SourceInfo } from './contract.js';
import { isEmptyFilter } from './filter.js';
import type { ConnectionState } from './live-client.js';
import type { ClientStatus } from './worker-protocol.js';

/** A Live view further behind than this (ms) is shown as "behind". */
export const BEHIND_MS = 2000;
/** No records frame (or snapshot) for this long (ms) while traffic flows means the view is stale. */
export const STALE_MS = 3000;

const LINK_TYPES: Readonly<Record<number, string>> = {
  0: 'NULL',
  1: 'EN10MB',
  101: 'RAW',
  108: 'LOOP',
  113: 'LINUX_SLL',
  228: 'IPV4',
  276: 'LINUX_SLL2',
};

/** Link type as its libpcap name (`EN10MB`), keeping unknown numbers. */
export function linkTypeName(v: unknown): string {
  if (typeof v === 'number') return LINK_TYPES[v] ?? `linktype ${v}`;
  return typeof v === 'string' ? v : '';
}

/** A central daemon: it takes its records from sensors over NATS (rows name their sensor, it holds no packets). */
export function isCentral(source: SourceInfo | null | undefined): boolean {
  return source?.kind === 'nats';
}

/** One line describing the daemon's source, e.g. `live lo (EN10MB) filter "udp port 5064"`. */
export function describeSource(s: SourceInfo | null): string {
  if (!s) return 'unknown source';
  const parts: string[] = [s.kind];
  if (s.iface) parts.push(s.iface);
  if (s.file) parts.push(s.file);
  // A central: its NATS servers and the sensors it takes records from.
  if (s.nats) parts.push(s.nats);
  if (s.sensors && s.sensors.length > 0) parts.push(`sensors ${s.sensors.join(',')}`);
  if (s.linktype !== undefined) parts.push(`(${linkTypeName(s.linktype)})`);
  if (s.filter) parts.push(`filter "${s.filter}"`);
  return parts.join(' ');
}

/** Connection state in words, with the seconds left before the next attempt when reconnecting. */
export function describeConnection(
  state: ConnectionState,
  nextAttemptAt: number,
  now: number,
  attempts: number,
): string {
  switch (state) {
    case 'open':
      return 'connected';
    case 'connecting':
      return 'connecting…';
    case 'closed':
      return 'disconnected';
    case 'reconnecting': {
      const left = Math.max(0, Math.ceil((nextAttemptAt - now) / 1000));
      return left > 0 ? `reconnecting in ${left} s (attempt ${attempts})` : `reconnecting (attempt ${attempts})…`;
    }
    default:
      return String(state);
  }
}

/** How fresh and complete the Live view is. */
export interface StreamHealth {
  /**
   * How far behind the newest row is, ms: at the last frame, the daemon's send time minus the newest
   * row's capture time, plus the time since that frame while records are expected. Null when unknown
   * or meaningless (no rows yet, or a replayed file whose capture times are in the past).
   */
  lagMs: number | null;
  /** `lagMs` over {@link BEHIND_MS}. */
  behind: boolean;
  /** Why the view is stale ('' when it is not): records or snapshots stopped while traffic flows. */
  stale: string;
  /** The daemon sends this page a sample. */
  sampling: boolean;
  /** Records that matched the filter and never reached the page (left out of samples, or dropped). */
  notSent: number;
  /** Per second, smoothed: matched and sent. */
  matchedRate: number;
  sentRate: number;
}

/**
 * The stream's health at local wall-clock `now` (ms), from the worker's status and the latest snapshot.
 * "Traffic flows" is the daemon's word: the last frame's matched rate, or (with no filter) the snapshot's
 * message rate.
 */
export function streamHealth(st: ClientStatus, snapshot: SnapshotMessage | null, now: number): StreamHealth {
  const s = st.stream;
  const open = st.state === 'open';
  const mps = snapshot?.stats?.messagesPerSecond ?? 0;
  const flowing = open && (s.matchedRate > 0 || (isEmptyFilter(st.filter) && mps > 0));
  const sinceFrame = s.lastFrameAt > 0 ? Math.max(0, now - s.lastFrameAt) : 0;
  const replay = st.source?.kind === 'file' || st.source?.kind === 'stdin';
  let lagMs: number | null = null;
  if (s.frameLagMs !== null && !replay) lagMs = s.frameLagMs + (flowing ? sinceFrame : 0);
  let stale = '';
  if (flowing && s.lastFrameAt > 0 && sinceFrame > STALE_MS) {
    stale = `no records for ${Math.floor(sinceFrame / 1000)} s while the daemon reports traffic`;
  } else if (open && st.lastSnapshotAt > 0 && now - st.lastSnapshotAt > STALE_MS) {
    stale = `no snapshot for ${Math.floor((now - st.lastSnapshotAt) / 1000)} s: the tables are frozen`;
  }
  return {
    lagMs,
    behind: lagMs !== null && lagMs > BEHIND_MS,
    stale,
    sampling: s.sampling,
    notSent: Math.max(0, s.matched - s.sent) + st.serverDropped,
    matchedRate: s.matchedRate,
    sentRate: s.sentRate,
  };
}

/** A lag in words: `120 ms`, `3.2 s`, `2 min`. */
export function formatLag(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min`;
}
