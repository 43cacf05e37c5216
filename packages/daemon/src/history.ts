/**
 * History in the decoding worker: the held records ({@link HeldRecords}) and the chart aggregates
 * ({@link ChartHistory}) of every decoded record, and the scans that answer `{type:'subscribe', since}`.
 *
 * A scan runs the subscription's filter (the shared `@ca-shark/analysis/filter`, the very predicate live
 * records are matched with) over the held records from `since` up to the seam: the newest record decoded
 * when the request arrived. Records after the seam reach the client through the live stream, so history and
 * live meet without a gap or a duplicate. Scans go in slices of {@link SCAN_SLICE} records between frame
 * batches, so a million held records never stall decoding; what a scan keeps is an evenly spaced sample of
 * at most `limit` matching records, the newest always last, and it says how many matched.
 */
import { compileFilter, type RecordPredicate } from '@ca-shark/analysis/filter';
import type { ValueFormat } from '@ca-shark/analysis/summary';
import type { CaRecord } from '@ca-shark/decoder';
import { HeldRecords, type HistoryBounds } from './history-ring.js';
import type { ChunkSpool } from './history-spool.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import { ChartHistory, type HistoryAnswer, type HistoryQuery, type Tier } from './series-history.js';

/** Held records a scan looks at per slice (about a millisecond of filtering). */
export const SCAN_SLICE = 20_000;

/** A client's request for held records (main thread → worker). */
export interface HistoryRequest {
  /** Request number (the hub's, never reused). */
  request: number;
  /** Canonical filter; undefined for every record. */
  filter: SubscriptionFilter | undefined;
  /** Capture time (Unix seconds): records at or after it are sent. */
  since: number;
  /** Records sent at most (an evenly spaced sample beyond). */
  limit: number;
}

/** The result of a scan (worker → main thread). */
export interface HistoryResult {
  request: number;
  /** Records sent, as LiveRecord JSON text, oldest first. */
  items: string[];
  /**
   * For each item, how many matching records precede it (0-based rank among the matches): frames of a
   * sample say how many matched records each one stands for.
   */
  ranks: number[];
  /** Records that matched (held, since `since`, up to the seam). */
  matched: number;
  /** The seam: the newest record id the history covers (later ones come live). */
  seam: number;
  /** Capture time of the oldest record held (null: none held), so a client knows how far back it reaches. */
  oldest: number | null;
}

/** A scan in progress. */
interface Scan {
  readonly req: HistoryRequest;
  readonly test: RecordPredicate;
  readonly seam: number;
  /** Next id to look at. */
  next: number;
  /** Ids of the matching records, ascending (grown by doubling). */
  matches: Float64Array;
  count: number;
}

/** Evenly spaced picks of `k` among `n` (0-based, ascending, the last always n-1), as the live sampler picks. */
export function evenPicks(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  if (k <= 1) return n === 0 ? [] : [n - 1];
  const out = new Array<number>(k);
  for (let i = 0; i < k; i++) out[i] = Math.round((i * (n - 1)) / (k - 1));
  return out;
}

/** Options of a {@link RecordHistory}. */
export interface RecordHistoryOptions {
  bounds?: Partial<HistoryBounds>;
  tiers?: readonly Tier[];
  /** Where the held records' full chunks go (history-spool.ts); none keeps them in memory. */
  spool?: ChunkSpool;
}

/** Held records, chart aggregates and history scans of the decoding worker. */
export class RecordHistory {
  readonly held: HeldRecords;
  readonly charts: ChartHistory;
  private readonly scans: Scan[] = [];

  constructor(options: RecordHistoryOptions = {}) {
    this.held = new HeldRecords(options.bounds, options.spool);
    this.charts = new ChartHistory(options.tiers);
  }

  /** Takes one decoded record under its daemon-wide id (`channel`: its channel's display, when known). */
  add(id: number, record: CaRecord, channel?: ValueFormat): void {
    this.held.add(id, record, channel);
    this.charts.add(record);
  }

  /**
   * Starts a scan for `req` covering records up to `seam` (the newest id decoded so far: the caller has
   * flushed every record up to it to the live stream's batches already). Throws FilterError for a bad filter
   * (the main thread checked it first).
   */
  begin(req: HistoryRequest, seam: number): void {
    this.cancel(req.request);
    this.scans.push({
      req,
      test: req.filter === undefined ? () => true : compileFilter(req.filter),
      seam,
      next: this.held.oldestId,
      matches: new Float64Array(256),
      count: 0,
    });
  }

  /** Forgets scan `request` (its client re-subscribed or left). */
  cancel(request: number): void {
    const i = this.scans.findIndex((s) => s.req.request === request);
    if (i >= 0) this.scans.splice(i, 1);
  }

  /** True while some scan has work left. */
  get busy(): boolean {
    return this.scans.length > 0;
  }

  /**
   * Looks at up to `budget` held records for the oldest scan; returns its result when it is done, else
   * undefined. Call again while {@link busy}.
   */
  step(budget = SCAN_SLICE): HistoryResult | undefined {
    const scan = this.scans[0];
    if (scan === undefined) return undefined;
    const held = this.held;
    // Records dropped from the ring meanwhile are skipped: the position is found again by id.
    const pos = held.positionOf(scan.next);
    const end = Math.min(held.size, held.positionOf(scan.seam + 1));
    const stop = Math.min(end, pos + budget);
    held.match(pos, stop, scan.req.since, scan.test, (id) => {
      if (scan.count === scan.matches.length) {
        const grown = new Float64Array(scan.matches.length * 2);
        grown.set(scan.matches);
        scan.matches = grown;
      }
      scan.matches[scan.count++] = id;
    });
    if (stop < end) {
      scan.next = held.idAt(stop);
      return undefined;
    }
    this.scans.shift();
    return this.finish(scan);
  }

  private finish(scan: Scan): HistoryResult {
    const items: string[] = [];
    const ranks: number[] = [];
    for (const rank of evenPicks(scan.count, scan.req.limit)) {
      const pos = this.held.positionOf(scan.matches[rank]);
      // Gone since it matched (the ring moved on during the scan): counted as matched, not sent.
      if (pos >= this.held.size || this.held.idAt(pos) !== scan.matches[rank]) continue;
      // Its chunk could not be read back from the spool since (history-spool.ts): gone too.
      if (!this.held.readable(pos)) continue;
      items.push(this.held.wire(pos));
      ranks.push(rank);
    }
    return {
      request: scan.req.request,
      items,
      ranks,
      matched: scan.count,
      seam: scan.seam,
      oldest: this.held.oldestTime,
    };
  }

  /** The chart aggregates over a range (`GET /api/history`). */
  answer(query: HistoryQuery): HistoryAnswer {
    return this.charts.answer(query);
  }
}
