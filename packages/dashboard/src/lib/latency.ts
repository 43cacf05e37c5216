/**
 * Latency statistics per server and kind, accumulated from the records the page receives: a
 * log-scale histogram and a per-second time series, both of fixed size, so the page's memory does not
 * grow with the capture.
 */
import type { LiveRecord } from './contract.js';
import { RingBuffer } from './ring.js';

/** The request/response pairs whose latency the page charts. */
export const LATENCY_KINDS = ['search', 'connect', 'read', 'write'] as const;
/** One of {@link LATENCY_KINDS}. */
export type LatencyKind = (typeof LATENCY_KINDS)[number];

const KIND_OF_RESPONSE: Readonly<Record<string, LatencyKind>> = {
  SearchResponse: 'search',
  CreateChanResponse: 'connect',
  ReadNotifyResponse: 'read',
  WriteNotifyResponse: 'write',
};

/** Histogram buckets: upper bounds in seconds, 4 per decade from 10 µs to 10 s, then overflow. */
export const LATENCY_BUCKETS: readonly number[] = (() => {
  const out: number[] = [];
  for (let exp = -5; exp < 1; exp++)
    for (const m of [1, 1.8, 3.2, 5.6]) out.push(Number((m * 10 ** exp).toPrecision(2)));
  out.push(10);
  return out;
})();

/** Index of the histogram bucket for a latency (the last index is overflow). */
export function bucketIndex(seconds: number): number {
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) return i;
  return LATENCY_BUCKETS.length;
}

/** One second of latencies. */
export interface LatencyPoint {
  /** Unix second. */
  t: number;
  count: number;
  sum: number;
  max: number;
}

/** Latencies of one kind at one server. */
export interface LatencySeries {
  server: string;
  kind: LatencyKind;
  count: number;
  /** Counts per bucket of {@link LATENCY_BUCKETS}, plus overflow. */
  histogram: number[];
  /** Per-second points, oldest first within the ring. */
  series: RingBuffer<LatencyPoint>;
}

/** Accumulates latencies by server and kind, bounded in servers and in seconds of history. */
export class LatencyTracker {
  private readonly byKey = new Map<string, LatencySeries>();
  private readonly serverSet = new Set<string>();
  /** Changes whenever a latency is added. */
  version = 0;

  constructor(
    private readonly maxServers = 64,
    private readonly historySeconds = 1200,
  ) {}

  /** The kind of latency a record carries, or null. */
  static kindOf(r: LiveRecord): LatencyKind | null {
    if (typeof r.latency !== 'number' || !Number.isFinite(r.latency) || r.latency < 0) return null;
    return KIND_OF_RESPONSE[r.cmd] ?? null;
  }

  /** Adds a record's latency if it has one. */
  add(r: LiveRecord): void {
    const kind = LatencyTracker.kindOf(r);
    if (kind === null) return;
    // A response comes from the server. A search reply comes from its UDP port, not the server's TCP
    // port that names it elsewhere: the host alone says more.
    const server = kind === 'search' ? r.src.replace(/:\d+$/, '') : r.src;
    const s = this.seriesOf(server, kind);
    if (!s) return;
    const latency = r.latency as number;
    s.count++;
    s.histogram[bucketIndex(latency)]++;
    const sec = Math.floor(r.t);
    const last = s.series.newest(0);
    if (last && last.t === sec) {
      last.count++;
      last.sum += latency;
      if (latency > last.max) last.max = latency;
    } else if (!last || sec > last.t) {
      s.series.push({ t: sec, count: 1, sum: latency, max: latency });
    }
    this.version++;
  }

  /**
   * Puts the daemon's per-second points of one server and kind (its history, every record counted) before
   * the points taken from records here: those at or before the daemon's newest point are replaced by it.
   */
  seed(server: string, kind: LatencyKind, points: readonly LatencyPoint[]): void {
    if (points.length === 0) return;
    const s = this.seriesOf(server, kind);
    if (!s) return;
    const last = points[points.length - 1].t;
    const later = s.series
      .sliceNewest(0, s.series.size)
      .reverse()
      .filter((p) => p.t > last);
    s.series.clear();
    s.series.pushAll(points.map((p) => ({ ...p })));
    s.series.pushAll(later);
    this.version++;
  }

  /** The series of a server and kind, made when first needed; undefined past the server bound. */
  private seriesOf(server: string, kind: LatencyKind): LatencySeries | undefined {
    const key = `${server}\u0000${kind}`;
    let s = this.byKey.get(key);
    if (!s) {
      if (!this.serverSet.has(server)) {
        if (this.serverSet.size >= this.maxServers) return undefined;
        this.serverSet.add(server);
      }
      s = {
        server,
        kind,
        count: 0,
        histogram: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
        series: new RingBuffer<LatencyPoint>(this.historySeconds),
      };
      this.byKey.set(key, s);
    }
    return s;
  }

  /** All series, sorted by server then kind. */
  all(): LatencySeries[] {
    return [...this.byKey.values()].sort((a, b) =>
      a.server === b.server
        ? LATENCY_KINDS.indexOf(a.kind) - LATENCY_KINDS.indexOf(b.kind)
        : a.server < b.server
          ? -1
          : 1,
    );
  }

  /** The servers seen, sorted. */
  servers(): string[] {
    return [...this.serverSet].sort();
  }

  /** Forgets everything. */
  clear(): void {
    this.byKey.clear();
    this.serverSet.clear();
    this.version++;
  }
}
