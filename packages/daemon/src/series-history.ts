/**
 * Per-second aggregates kept for a long time, so the dashboard's charts open with their past instead of
 * empty (`GET /api/history`): the traffic (messages, bytes, searches, failures per second) and the latency
 * of each server and kind (count, sum, max per second), by capture time.
 *
 * Each series keeps points only for seconds that had something (sparse), in tiers: one point a second for
 * the last 24 h of capture time, then one a minute for 7 days more; a point leaving a tier is merged into
 * the next one (sums added, maxima kept), and the last tier forgets it. Every record counts in exactly one
 * point of one tier, so totals over any range are exact at the resolution it is held at. Bounded: a tier
 * holds at most span / step points per series, and there are at most {@link MAX_LATENCY_SERIES} latency
 * series.
 */
import type { CaRecord } from '@ca-shark/decoder';
import { recordFailed } from './aggregates.js';

/** One resolution of a series: points `step` seconds wide, kept for `span` seconds of capture time. */
export interface Tier {
  step: number;
  span: number;
}

/** 1 s points for 24 h, then 1 min points for 7 days. */
export const DEFAULT_TIERS: readonly Tier[] = [
  { step: 1, span: 86_400 },
  { step: 60, span: 7 * 86_400 },
];

/** How two values of one field for the same time merge. */
export type Merge = 'sum' | 'max';

/** Latency series (server and kind) kept at most; later ones are counted in `omittedSeries`. */
export const MAX_LATENCY_SERIES = 256;
/** How far back an out-of-order record looks for its own second before joining the newest point. */
const REORDER_LOOKBACK = 8;
/** Most points of one series in one answer; a longer range gets a coarser step. */
export const MAX_POINTS = 5000;

/** A growable ring of points (time + fields), oldest first. */
class PointRing {
  private capacity = 0;
  private head = 0;
  count = 0;
  private times = new Float64Array(0);
  private values: Float64Array<ArrayBuffer>[];

  constructor(
    private readonly fields: number,
    private readonly maxPoints: number,
  ) {
    this.values = Array.from({ length: fields }, () => new Float64Array(0));
  }

  private slot(i: number): number {
    const s = this.head + i;
    return s >= this.capacity ? s - this.capacity : s;
  }

  time(i: number): number {
    return this.times[this.slot(i)];
  }

  value(i: number, field: number): number {
    return this.values[field][this.slot(i)];
  }

  get full(): boolean {
    return this.count >= this.maxPoints;
  }

  /** Index of the point at time `t` among the last few, or -1. */
  findRecent(t: number): number {
    for (let i = this.count - 1; i >= 0 && i >= this.count - REORDER_LOOKBACK; i--) if (this.time(i) === t) return i;
    return -1;
  }

  merge(i: number, merges: readonly Merge[], values: readonly number[]): void {
    const s = this.slot(i);
    for (let f = 0; f < this.fields; f++) {
      const col = this.values[f];
      col[s] = merges[f] === 'sum' ? col[s] + values[f] : Math.max(col[s], values[f]);
    }
  }

  push(t: number, values: readonly number[]): void {
    if (this.count === this.capacity) this.grow();
    const s = this.slot(this.count);
    this.times[s] = t;
    for (let f = 0; f < this.fields; f++) this.values[f][s] = values[f];
    this.count += 1;
  }

  /** Removes the oldest point, copying its fields into `into`; returns its time. */
  shift(into: number[]): number {
    const s = this.head;
    for (let f = 0; f < this.fields; f++) into[f] = this.values[f][s];
    this.head = s + 1 === this.capacity ? 0 : s + 1;
    this.count -= 1;
    return this.times[s];
  }

  private grow(): void {
    const capacity = Math.min(this.maxPoints, Math.max(64, this.capacity * 2));
    const copy = (old: Float64Array): Float64Array<ArrayBuffer> => {
      const out = new Float64Array(capacity);
      for (let i = 0; i < this.count; i++) out[i] = old[this.slot(i)];
      return out;
    };
    this.times = copy(this.times);
    this.values = this.values.map(copy);
    this.head = 0;
    this.capacity = capacity;
  }
}

/** A series as an answer gives it: column arrays, oldest first; `dt` is the seconds each point covers. */
export interface SeriesColumns {
  t: number[];
  dt: number[];
  /** One array per field, in the series' field order. */
  values: number[][];
}

/** A sparse series of points over time, in {@link Tier}s. */
export class TieredSeries {
  private readonly rings: PointRing[];
  private readonly scratch: number[];
  private readonly moved: number[];

  constructor(
    private readonly merges: readonly Merge[],
    private readonly tiers: readonly Tier[] = DEFAULT_TIERS,
  ) {
    this.rings = tiers.map((tier) => new PointRing(merges.length, Math.max(1, Math.ceil(tier.span / tier.step))));
    this.scratch = new Array<number>(merges.length).fill(0);
    this.moved = new Array<number>(merges.length).fill(0);
  }

  /** Adds `values` (one per field) at capture time `t` (seconds). */
  add(t: number, values: readonly number[]): void {
    this.addTo(0, Math.floor(t / this.tiers[0].step) * this.tiers[0].step, values);
  }

  private addTo(level: number, bucket: number, values: readonly number[]): void {
    const ring = this.rings[level];
    const tier = this.tiers[level];
    if (ring.count > 0) {
      const newest = ring.time(ring.count - 1);
      if (bucket <= newest) {
        // Out of order (or the same second): its own point when it is still among the last, else the newest.
        const i = bucket === newest ? ring.count - 1 : ring.findRecent(bucket);
        ring.merge(i >= 0 ? i : ring.count - 1, this.merges, values);
        return;
      }
    }
    // Points beyond the tier's span (or its capacity) move on to the next tier.
    while (ring.count > 0 && (ring.time(0) <= bucket - tier.span || ring.full)) {
      const moved = level + 1 < this.rings.length ? this.moved : this.scratch;
      const t = ring.shift(moved);
      if (level + 1 < this.rings.length) {
        const next = this.tiers[level + 1];
        this.addTo(level + 1, Math.floor(t / next.step) * next.step, moved.slice());
      }
    }
    ring.push(bucket, values);
  }

  /** Time of the oldest point held, or null. */
  get oldest(): number | null {
    for (let level = this.rings.length - 1; level >= 0; level--)
      if (this.rings[level].count > 0) return this.rings[level].time(0);
    return null;
  }

  /**
   * Points with `since <= t <= until`, oldest first, merged into buckets of `step` seconds when `step` is
   * coarser than what a tier holds (a bucket's time is its start; `dt` its width).
   */
  columns(since: number, until: number, step: number): SeriesColumns {
    const out: SeriesColumns = { t: [], dt: [], values: this.merges.map(() => []) };
    for (let level = this.rings.length - 1; level >= 0; level--) {
      const ring = this.rings[level];
      const width = Math.max(step, this.tiers[level].step);
      for (let i = 0; i < ring.count; i++) {
        const t = ring.time(i);
        if (t < since || t > until) continue;
        const bucket = Math.floor(t / width) * width;
        const last = out.t.length - 1;
        if (last >= 0 && out.t[last] === bucket) {
          for (let f = 0; f < this.merges.length; f++) {
            const col = out.values[f];
            const v = ring.value(i, f);
            col[last] = this.merges[f] === 'sum' ? col[last] + v : Math.max(col[last], v);
          }
          out.dt[last] = Math.max(out.dt[last], width);
          continue;
        }
        out.t.push(bucket);
        out.dt.push(width);
        for (let f = 0; f < this.merges.length; f++) out.values[f].push(ring.value(i, f));
      }
    }
    return out;
  }
}

/**
 * The latency kind the dashboard charts for a response completing one (undefined for any other command). A
 * switch: indexing an object by the command's name was a megamorphic keyed load for every record.
 */
function latencyKindOf(command: string): string | undefined {
  switch (command) {
    case 'ReadNotifyResponse':
      return 'read';
    case 'WriteNotifyResponse':
      return 'write';
    case 'SearchResponse':
      return 'search';
    case 'CreateChanResponse':
      return 'connect';
    default:
      return undefined;
  }
}

/** Traffic fields, in order. */
const TRAFFIC_MERGES: readonly Merge[] = ['sum', 'sum', 'sum', 'sum'];
/** Latency fields, in order: count, sum, max. */
const LATENCY_MERGES: readonly Merge[] = ['sum', 'sum', 'max'];

/** The answer of `GET /api/history` (see docs/websocket.md). */
export interface HistoryAnswer {
  since: number;
  until: number;
  step: number;
  /** Capture second of the newest record: its point may still grow (unless `eof`). Null before any. */
  newest: number | null;
  traffic: { t: number[]; dt: number[]; messages: number[]; bytes: number[]; searches: number[]; errors: number[] };
  latency: { server: string; kind: string; t: number[]; dt: number[]; count: number[]; sum: number[]; max: number[] }[];
  /** Latency series not kept (beyond {@link MAX_LATENCY_SERIES}). */
  omittedSeries: number;
}

/** What `GET /api/history` asks: capture-time range and step, each optional. */
export interface HistoryQuery {
  since?: number;
  until?: number;
  step?: number;
}

/** The chart aggregates of every decoded record (runs in the decoding worker). */
export class ChartHistory {
  private readonly traffic: TieredSeries;
  private readonly latency = new Map<string, { server: string; kind: string; series: TieredSeries }>();
  private omitted = 0;
  private newest: number | null = null;
  private readonly trafficValues = [0, 0, 0, 0];
  private readonly latencyValues = [1, 0, 0];
  /**
   * The latency series the last reply went to, and its server's address, port and kind: replies come in
   * runs from one server, and the key of the map (two strings joined per reply, then hashed) was most of
   * the cost of a reply here. Entries are never removed, so the one remembered stays valid.
   */
  private lastEntry: { server: string; kind: string; series: TieredSeries } | undefined;
  private lastSrc = '';
  private lastPort = -1;
  private lastKind = '';

  constructor(private readonly tiers: readonly Tier[] = DEFAULT_TIERS) {
    this.traffic = new TieredSeries(TRAFFIC_MERGES, tiers);
  }

  add(record: CaRecord): void {
    const t = record.timestamp;
    if (this.newest === null || t > this.newest) this.newest = t;
    const cmd = record.command.name;
    const v = this.trafficValues;
    v[0] = 1;
    v[1] = record.size;
    v[2] = cmd === 'SearchRequest' ? 1 : 0;
    v[3] = recordFailed(record) ? 1 : 0;
    this.traffic.add(t, v);
    const latency = record.latency;
    const kind = latencyKindOf(cmd);
    if (kind === undefined || latency === undefined || !(latency >= 0)) return;
    const src = record.src;
    const port = record.transport.sport;
    let entry = this.lastEntry;
    if (entry === undefined || src !== this.lastSrc || port !== this.lastPort || kind !== this.lastKind) {
      // A search reply comes from the server's UDP port, not the TCP port that names it elsewhere.
      const server = kind === 'search' ? src : `${src}:${port}`;
      const key = `${server}|${kind}`;
      entry = this.latency.get(key);
      if (entry === undefined) {
        if (this.latency.size >= MAX_LATENCY_SERIES) {
          this.omitted += 1;
          return;
        }
        entry = { server, kind, series: new TieredSeries(LATENCY_MERGES, this.tiers) };
        this.latency.set(key, entry);
      }
      this.lastEntry = entry;
      this.lastSrc = src;
      this.lastPort = port;
      this.lastKind = kind;
    }
    const lv = this.latencyValues;
    lv[1] = latency;
    lv[2] = latency;
    entry.series.add(t, lv);
  }

  /** The series over a range (default: everything held), at `step` seconds or coarser. */
  answer(query: HistoryQuery = {}): HistoryAnswer {
    const oldest = this.traffic.oldest ?? 0;
    const since = Math.max(query.since ?? oldest, oldest);
    const until = query.until ?? (this.newest === null ? since : Math.floor(this.newest));
    const span = Math.max(0, until - since);
    // Coarse enough that no series has more than MAX_POINTS points.
    const step = Math.max(1, Math.floor(query.step ?? 1), Math.ceil(span / MAX_POINTS));
    const traffic = this.traffic.columns(since, until, step);
    return {
      since,
      until,
      step,
      newest: this.newest === null ? null : Math.floor(this.newest),
      traffic: {
        t: traffic.t,
        dt: traffic.dt,
        messages: traffic.values[0],
        bytes: traffic.values[1],
        searches: traffic.values[2],
        errors: traffic.values[3],
      },
      latency: [...this.latency.values()].flatMap(({ server, kind, series }) => {
        const c = series.columns(since, until, step);
        if (c.t.length === 0) return [];
        return [{ server, kind, t: c.t, dt: c.dt, count: c.values[0], sum: c.values[1], max: c.values[2] }];
      }),
      omittedSeries: this.omitted,
    };
  }
}
