/**
 * Time series for the dashboard's charts, kept in the decoding worker: per IOC (messages, bytes, request
 * latency percentiles, connected channels), per client endpoint (messages, bytes) and per PV (messages,
 * bytes, monitor updates, value). Memory is bounded: every series is two fixed rings (1 s slots for the
 * last 10 minutes, 1 min slots for the last 24 hours) and each kind tracks a capped set of keys — the
 * busiest, re-chosen every {@link REBALANCE_SECONDS} of capture time, plus the PVs a page asks for — with
 * everything beyond the cap summed into one `other` series so totals stay right.
 *
 * The per-message cost is a map lookup per kind and a few typed-array increments: slots are zeroed lazily
 * when a series moves past them, so nothing runs per second over all series, and percentiles are computed
 * once per slot when it is left (from the analysis package's BoundedSample, the implementation `ca-shark
 * report` uses). Time is capture time (a replayed file charts the file's times).
 */
import { BoundedSample, type LatencyPercentiles, latencyPercentiles } from '@ca-shark/analysis';
import type { CaRecord } from '@ca-shark/decoder';
import { hostOf, latencyKind } from './aggregates.js';

/** A ring of fixed slots: `slots` slots of `step` seconds. */
export interface SeriesTier {
  step: number;
  slots: number;
}

/** The rings every series has: 1 s for 10 minutes, 1 min for 24 hours. */
export const SERIES_TIERS: readonly SeriesTier[] = [
  { step: 1, slots: 600 },
  { step: 60, slots: 1440 },
];

/** Capture seconds between two choices of the busiest keys. */
export const REBALANCE_SECONDS = 10;

/**
 * The held records of the last minutes (history-ring.ts's HeldRecords), from which a PV's chart opened after
 * them gets its past: messages, bytes, monitor updates and scalar values per slot.
 */
export interface PvPast {
  /** Capture time of the oldest record held, null when none. */
  readonly oldestTime: number | null;
  /** Calls `visit` for every held record of `pv`, oldest first (`value`: {@link chartValueOf}, NaN for none). */
  eachOfPv(pv: string, visit: (time: number, size: number, command: string, value: number) => void): void;
}

/** Bounds of a {@link SeriesStore}. */
export interface SeriesLimits {
  /** IOCs (server endpoints) tracked; the rest are summed in `other`. */
  iocs: number;
  /** Client endpoints tracked. */
  clients: number;
  /** PVs tracked by activity. */
  pvs: number;
  /** PVs a page asked for, tracked besides (the least recently asked for is let go first). */
  pinnedPvs: number;
  /** Capture seconds a pin lasts after the last time a page asked for the PV. */
  pinSeconds: number;
}

/**
 * Default bounds. Worst case memory (Float32 counts, Float64 values, 2,040 slots a series): 256 IOCs ×
 * 65 KB + 256 clients × 16 KB + 192 PVs × 73 KB ≈ 35 MB, reached only with that many busy keys.
 */
export const DEFAULT_SERIES_LIMITS: SeriesLimits = {
  iocs: 256,
  clients: 256,
  pvs: 128,
  pinnedPvs: 64,
  pinSeconds: 600,
};

/** Latency samples kept per IOC and slot for its percentiles (count, mean, min and max stay exact). */
const LATENCY_SAMPLES_PER_SLOT = 256;

/** A candidate replaces a tracked key only when it was this many times busier since the last rebalance. */
const SWAP_MARGIN = 1.5;

/** Keys waiting to be tracked, counted between two rebalances, at most this many times the cap. */
const CANDIDATES_PER_TRACKED = 8;

/** Layout of one kind of series: Float32 fields (`empty` is a fresh slot) and Float64 fields. */
interface SeriesLayout {
  counts: readonly string[];
  empty: Float32Array;
  values: number;
  latency: boolean;
}

// Count fields (Float32 slots).
const MESSAGES = 0;
const BYTES = 1;
// IOC
const LAT_COUNT = 2;
const LAT_P50 = 3;
const LAT_P90 = 4;
const LAT_P99 = 5;
const LAT_MAX = 6;
const CHANNELS = 7;
// PV
const UPDATES = 2;
// PV value fields (Float64 slots).
const VALUE = 0;
const VALUE_MIN = 1;
const VALUE_MAX = 2;
const PV_VALUES = 3;

function layout(
  counts: readonly string[],
  unsampled: readonly number[],
  values: number,
  latency: boolean,
): SeriesLayout {
  const empty = new Float32Array(counts.length);
  for (const i of unsampled) empty[i] = Number.NaN;
  return { counts, empty, values, latency };
}

const IOC_LAYOUT = layout(
  ['messages', 'bytes', 'latencyCount', 'p50', 'p90', 'p99', 'max', 'channels'],
  [LAT_P50, LAT_P90, LAT_P99, LAT_MAX, CHANNELS],
  0,
  true,
);
const CLIENT_LAYOUT = layout(['messages', 'bytes'], [], 0, false);
const PV_LAYOUT = layout(['messages', 'bytes', 'updates'], [], PV_VALUES, false);

/** One key's rings. */
class Series {
  /** Absolute slot index (time / step) of the newest slot per tier; -1 before the first. */
  readonly heads: Float64Array;
  /** Offset of the head slot's first count field per tier (the common case needs no arithmetic). */
  readonly bases: Int32Array;
  readonly counts: Float32Array[];
  readonly values: Float64Array[];
  /** Latency of the head slot per tier, while it fills. */
  readonly samples: (BoundedSample | null)[];
  /** Capture time the key has been tracked from (slots before it are unknown, not zero). */
  since = Number.NaN;
  /** Messages since the last rebalance (how busy it is). */
  recent = 0;
  /** Count fields per slot. */
  readonly width: number;

  constructor(private readonly layout: SeriesLayout) {
    const n = SERIES_TIERS.length;
    this.width = layout.counts.length;
    this.heads = new Float64Array(n).fill(-1);
    this.bases = new Int32Array(n);
    this.counts = SERIES_TIERS.map((t) => new Float32Array(t.slots * layout.counts.length));
    this.values = SERIES_TIERS.map((t) => new Float64Array(layout.values > 0 ? t.slots * layout.values : 0));
    this.samples = SERIES_TIERS.map(() => null);
  }

  /**
   * Starts over for another key (its buffers are reused). Nothing is cleared now: slots before `since`
   * read as unknown, and the slots from `since` on are cleared as the head reaches them.
   */
  reset(since: number): void {
    for (let tier = 0; tier < SERIES_TIERS.length; tier++) {
      const step = SERIES_TIERS[tier].step;
      this.heads[tier] = Math.floor(since / step) - 1;
    }
    this.samples.fill(null);
    this.since = since;
    this.recent = 0;
  }

  /**
   * The ring index of absolute slot `s` of tier `tier`, moving the head (and clearing the slots it passes)
   * when `s` is newer; -1 for a slot already out of the ring.
   */
  slot(tier: number, s: number): number {
    const { slots } = SERIES_TIERS[tier];
    const head = this.heads[tier];
    if (s > head) {
      this.finishLatency(tier, head);
      const first = s - head > slots ? s - slots + 1 : head + 1;
      const empty = this.layout.empty;
      const width = empty.length;
      const counts = this.counts[tier];
      const vw = this.layout.values;
      const values = this.values[tier];
      for (let a = first; a <= s; a++) {
        const i = a % slots;
        counts.set(empty, i * width);
        if (vw > 0) values.fill(Number.NaN, i * vw, i * vw + vw);
      }
      this.heads[tier] = s;
      this.bases[tier] = (s % slots) * width;
    } else if (s <= head - slots) {
      return -1;
    }
    return s % slots;
  }

  /** The offset of absolute slot `s`'s first count field in tier `tier` (see {@link slot}), -1 when gone. */
  offset(tier: number, s: number): number {
    if (s === this.heads[tier]) return this.bases[tier];
    const i = this.slot(tier, s);
    return i < 0 ? -1 : i * this.width;
  }

  /** Writes the percentiles of the head slot's latency sample (done once, when the slot is left). */
  private finishLatency(tier: number, head: number): void {
    const sample = this.samples[tier];
    if (sample === null || head < 0) return;
    this.samples[tier] = null;
    writePercentiles(this.counts[tier], (head % SERIES_TIERS[tier].slots) * this.layout.counts.length, sample);
  }

  addLatency(tier: number, s: number, latency: number): void {
    if (s !== this.heads[tier]) return; // a late response: its slot's percentiles are already written
    let sample = this.samples[tier];
    if (sample === null) {
      sample = new BoundedSample(LATENCY_SAMPLES_PER_SLOT);
      this.samples[tier] = sample;
    }
    sample.add(latency);
    this.counts[tier][(s % SERIES_TIERS[tier].slots) * this.layout.counts.length + LAT_COUNT] += 1;
  }

  /** The latency percentiles of the head slot still filling (null when none). */
  headLatency(tier: number): LatencyPercentiles | null {
    const sample = this.samples[tier];
    return sample === null ? null : latencyPercentiles(sample.describe());
  }
}

function writePercentiles(counts: Float32Array, base: number, sample: BoundedSample): void {
  const p = latencyPercentiles(sample.describe());
  counts[base + LAT_P50] = p.p50;
  counts[base + LAT_P90] = p.p90;
  counts[base + LAT_P99] = p.p99;
  counts[base + LAT_MAX] = p.max;
}

/** The series of one kind: a capped set of tracked keys, candidates for the cap, and `other`. */
class SeriesSet {
  readonly tracked = new Map<string, Series>();
  /** Pinned keys → capture time of the latest request for them. */
  readonly pinned = new Map<string, number>();
  private readonly candidates = new Map<string, number>();
  readonly other: Series;
  /** The key {@link lookup} found tracked last, and its series. */
  private lastKey: string | undefined;
  private lastSeries: Series | undefined;

  constructor(
    private readonly layout: SeriesLayout,
    private readonly cap: number,
    private readonly maxPinned = 0,
  ) {
    this.other = new Series(layout);
  }

  /** The series a record of `key` counts in: its own, or `other` while the key is not tracked. */
  lookup(key: string, now: number): Series {
    // Records come in runs of one endpoint (a TCP segment's messages): the last tracked hit is kept.
    if (key === this.lastKey) return this.lastSeries as Series;
    const s = this.tracked.get(key);
    if (s !== undefined) {
      this.lastKey = key;
      this.lastSeries = s;
      return s;
    }
    if (this.tracked.size - this.pinned.size < this.cap) return this.track(key, now, null);
    const n = this.candidates.get(key);
    if (n !== undefined) this.candidates.set(key, n + 1);
    else if (this.candidates.size < this.cap * CANDIDATES_PER_TRACKED) this.candidates.set(key, 1);
    return this.other;
  }

  /** Forgets the last hit of {@link lookup}: called whenever a key stops being tracked. */
  private forgetLast(): void {
    this.lastKey = undefined;
    this.lastSeries = undefined;
  }

  private track(key: string, now: number, reuse: Series | null): Series {
    const s = reuse ?? new Series(this.layout);
    s.reset(now);
    this.tracked.set(key, s);
    return s;
  }

  /** Tracks `key` whatever the cap (up to `maxPinned` pins) until `pinSeconds` after the last call. */
  pin(key: string, now: number): boolean {
    if (this.maxPinned === 0) return false;
    if (!this.pinned.has(key) && this.pinned.size >= this.maxPinned) {
      // Let go of the pin asked for longest ago: it stays tracked only if it is busy enough.
      let oldest: string | undefined;
      let oldestTime = Infinity;
      for (const [k, t] of this.pinned)
        if (t < oldestTime) {
          oldest = k;
          oldestTime = t;
        }
      if (oldest !== undefined) this.pinned.delete(oldest);
    }
    this.pinned.set(key, now);
    if (!this.tracked.has(key)) {
      this.candidates.delete(key);
      this.track(key, now, null);
    }
    return true;
  }

  /**
   * Swaps the least busy unpinned keys for busier candidates (their history starts now), expires pins and
   * trims the set back to its cap.
   */
  rebalance(now: number, pinSeconds: number): void {
    this.forgetLast();
    for (const [k, t] of this.pinned) if (now - t > pinSeconds) this.pinned.delete(k);
    const unpinned: [string, Series][] = [];
    for (const entry of this.tracked) if (!this.pinned.has(entry[0])) unpinned.push(entry);
    unpinned.sort((a, b) => a[1].recent - b[1].recent);
    let excess = unpinned.length - this.cap;
    const spare: Series[] = [];
    for (let i = 0; i < excess; i++) {
      this.tracked.delete(unpinned[i][0]);
      spare.push(unpinned[i][1]);
    }
    if (excess < 0) excess = 0;
    const candidates = Array.from(this.candidates).sort((a, b) => b[1] - a[1]);
    let next = excess;
    for (const [key, count] of candidates) {
      if (this.tracked.size - this.pinned.size < this.cap) {
        this.track(key, now, spare.pop() ?? null);
        continue;
      }
      // Some hysteresis, so that keys about as busy as each other do not swap (and lose history) every time.
      if (next >= unpinned.length || count <= unpinned[next][1].recent * SWAP_MARGIN) break;
      const [oldKey, old] = unpinned[next++];
      this.tracked.delete(oldKey);
      this.track(key, now, old);
    }
    this.candidates.clear();
    for (const s of this.tracked.values()) s.recent = 0;
  }
}

/** One chart's series as served (`GET /api/series/...`). */
export interface SeriesView {
  kind: 'ioc' | 'pv' | 'client';
  key: string;
  /** False when the key is not tracked (an idle PV, or an IOC beyond the cap): every point is null. */
  tracked: boolean;
  /** Capture time the key has been tracked from (points before it are null), null when not tracked. */
  since: number | null;
  /** Seconds per point. */
  step: number;
  /** Capture time (Unix seconds) of the first point's slot; point i covers [start + i·step, + step). */
  start: number;
  /** Per field, one value per point (null: unknown). Rates are per second. */
  fields: Record<string, (number | null)[]>;
}

/** Top talkers over a time range (`GET /api/talkers`). */
export interface TalkersView {
  from: number;
  to: number;
  step: number;
  /** Per kind, the busiest keys by messages and by bytes (totals over the range). */
  hosts: TalkerLists;
  iocs: TalkerLists;
  clients: TalkerLists;
  pvs: TalkerLists;
  /** Messages and bytes of IOCs and clients beyond the tracked caps (counted, not named). */
  untracked: { iocs: TalkerRow; clients: TalkerRow };
}

export interface TalkerRow {
  key: string;
  messages: number;
  bytes: number;
}

export interface TalkerLists {
  byMessages: TalkerRow[];
  byBytes: TalkerRow[];
}

/**
 * A time range asked for, in capture time: `from`/`to` (Unix seconds), or the `last` seconds up to `to`;
 * absent ends: the last 10 minutes up to the newest record.
 */
export interface SeriesRange {
  from?: number;
  to?: number;
  last?: number;
}

/** What the API asks the store (crosses from the main thread to the worker). */
export type SeriesRequest =
  | ({ what: 'ioc' | 'pv' | 'client'; key: string } & SeriesRange)
  | ({ what: 'talkers'; limit?: number } & SeriesRange)
  | { what: 'keys' };

/** The keys tracked now (`GET /api/series`). */
export interface SeriesKeysView {
  /** Capture time of the newest record, null before any. */
  now: number | null;
  tiers: readonly SeriesTier[];
  iocs: string[];
  clients: string[];
  pvs: string[];
  pinned: string[];
}

/** Default talkers per list. */
const TALKERS_LISTED = 10;
const DEFAULT_RANGE_SECONDS = 600;

/** Converts a Float32 slot value to JSON (NaN: unknown). */
const num = (x: number): number | null => (Number.isNaN(x) ? null : x);

/**
 * The value a PV's chart plots for a message: the scalar of a monitor update or read reply, NaN for any
 * other message or a waveform (the held records keep it too, history-ring.ts).
 */
export function chartValueOf(command: CaRecord['command']): number {
  const name = command.name;
  if (name !== 'EventAddResponse' && name !== 'ReadNotifyResponse' && name !== 'ReadResponse') return Number.NaN;
  return scalarOf((command as { data?: unknown }).data);
}

/** Counts a PV's monitor update (`update`) and plots its value at the slots of one second. */
function pvPoint(s: Series, slots: Float64Array, update: boolean, value: number): void {
  for (let tier = 0; tier < SERIES_TIERS.length; tier++) {
    const o = s.offset(tier, slots[tier]);
    if (o < 0) continue;
    if (update) s.counts[tier][o + UPDATES] += 1;
    if (Number.isNaN(value)) continue;
    const v = s.values[tier];
    const b = (o / PV_LAYOUT.counts.length) * PV_VALUES;
    v[b + VALUE] = value;
    if (!(v[b + VALUE_MIN] <= value)) v[b + VALUE_MIN] = value;
    if (!(v[b + VALUE_MAX] >= value)) v[b + VALUE_MAX] = value;
  }
}

/** The scalar numeric value of a DBR payload, NaN for arrays, strings and none. */
function scalarOf(data: unknown): number {
  // Plain arrays first: the decoder makes every value of up to 256 elements one (a typed array only for
  // longer waveforms), and reading `length` and `[0]` of any value whatever its kind was a megamorphic
  // load, 1.2 % of the decoding worker's time on realistic traffic.
  if (Array.isArray(data)) {
    if (data.length !== 1) return Number.NaN;
    const v: unknown = data[0];
    return typeof v === 'number' ? v : Number.NaN;
  }
  if (data === undefined || data === null) return Number.NaN;
  const a = data as ArrayLike<unknown>;
  if (a.length !== 1) return Number.NaN;
  const v = a[0];
  return typeof v === 'number' ? v : Number.NaN;
}

/** Per-IOC, per-client and per-PV series (see the module comment). */
export class SeriesStore {
  private readonly iocs: SeriesSet;
  private readonly clients: SeriesSet;
  private readonly pvs: SeriesSet;
  private readonly limits: SeriesLimits;
  /** Capture time of the newest record, NaN before any. */
  private now = Number.NaN;
  private lastRebalance = -1;
  /** The absolute slot per tier of the newest record's second, and where that second ends. */
  private readonly current = new Float64Array(SERIES_TIERS.length);
  private currentEnd = Number.NaN;
  private currentStart = Number.NaN;
  /** Slots per tier of a record outside the current second (scratch). */
  private readonly scratch = new Float64Array(SERIES_TIERS.length);

  constructor(limits: Partial<SeriesLimits> = {}) {
    this.limits = { ...DEFAULT_SERIES_LIMITS, ...limits };
    this.iocs = new SeriesSet(IOC_LAYOUT, this.limits.iocs);
    this.clients = new SeriesSet(CLIENT_LAYOUT, this.limits.clients);
    this.pvs = new SeriesSet(PV_LAYOUT, this.limits.pvs, this.limits.pinnedPvs);
  }

  /** Counts one record (the per-message path: a lookup per kind and a few increments). */
  add(record: CaRecord): void {
    const t = record.timestamp;
    let slots = this.current;
    if (!(t >= this.currentStart && t < this.currentEnd)) {
      // Once a second (or for a late record): the slots of its time in each tier.
      if (!(t <= this.now)) {
        this.now = t;
        const r = Math.floor(t / REBALANCE_SECONDS);
        if (r !== this.lastRebalance) {
          this.lastRebalance = r;
          this.rebalance(t);
        }
        this.currentStart = Math.floor(t);
        this.currentEnd = this.currentStart + 1;
      } else {
        slots = this.scratch;
      }
      for (let tier = 0; tier < SERIES_TIERS.length; tier++) slots[tier] = Math.floor(t / SERIES_TIERS[tier].step);
    } else if (t > this.now) {
      this.now = t;
    }
    const size = record.size;
    const server = record.server;
    if (server !== undefined) {
      const s = this.iocs.lookup(server, t);
      count(s, slots, size);
      if (record.latency !== undefined && record.request !== undefined) {
        const kind = latencyKind(record.request.command);
        if (kind !== undefined && kind !== 'monitor') {
          for (let tier = 0; tier < SERIES_TIERS.length; tier++) s.addLatency(tier, slots[tier], record.latency);
        }
      }
    }
    const client = record.client;
    if (client !== undefined) count(this.clients.lookup(client, t), slots, size);
    const pv = record.pv;
    if (pv !== null) {
      const s = this.pvs.lookup(pv, t);
      count(s, slots, size);
      if (s !== this.pvs.other) this.pvValue(s, record, slots);
    }
  }

  private pvValue(s: Series, record: CaRecord, slots: Float64Array): void {
    const cmd = record.command;
    const update = cmd.name === 'EventAddResponse';
    if (!update && cmd.name !== 'ReadNotifyResponse' && cmd.name !== 'ReadResponse') return;
    // Read only for the tracked PVs: the value of every other message is never touched here.
    pvPoint(s, slots, update, scalarOf((cmd as { data?: unknown }).data));
  }

  /**
   * Records the connected channels per IOC (server endpoint → count) at the newest record's time; called
   * when views are published (about once a second), so slots between two calls stay unknown.
   */
  sampleChannels(perServer: ReadonlyMap<string, number>): void {
    const t = this.now;
    if (Number.isNaN(t)) return;
    for (const [key, s] of this.iocs.tracked) {
      const n = perServer.get(key) ?? 0;
      for (let tier = 0; tier < SERIES_TIERS.length; tier++) {
        const i = s.slot(tier, Math.floor(t / SERIES_TIERS[tier].step));
        if (i >= 0) s.counts[tier][i * IOC_LAYOUT.counts.length + CHANNELS] = n;
      }
    }
  }

  private rebalance(now: number): void {
    this.iocs.rebalance(now, Infinity);
    this.clients.rebalance(now, Infinity);
    this.pvs.rebalance(now, this.limits.pinSeconds);
  }

  /** Where a PV's series newly tracked for a chart gets its past (the worker's held records). */
  setPast(past: PvPast | undefined): void {
    this.past = past;
  }
  private past: PvPast | undefined;

  /**
   * Asks for a PV's series (a page opened its chart): tracked from now on if it was not, and then filled
   * from the held records since the oldest one, so the chart opens with the minutes before it was asked for.
   */
  pinPv(pv: string): void {
    const now = Number.isNaN(this.now) ? 0 : this.now;
    const known = this.pvs.tracked.has(pv);
    this.pvs.pin(pv, now);
    const s = this.pvs.tracked.get(pv);
    const past = this.past;
    const oldest = past?.oldestTime ?? null;
    if (known || s === undefined || past === undefined || oldest === null || oldest > now) return;
    s.reset(oldest);
    const slots = this.scratch;
    past.eachOfPv(pv, (t, size, command, value) => {
      for (let tier = 0; tier < SERIES_TIERS.length; tier++) slots[tier] = Math.floor(t / SERIES_TIERS[tier].step);
      count(s, slots, size);
      const update = command === 'EventAddResponse';
      if (update || !Number.isNaN(value)) pvPoint(s, slots, update, value);
    });
    // The series carries on from here with every new record (heads move forward from the last held one).
    for (let tier = 0; tier < SERIES_TIERS.length; tier++) s.slot(tier, Math.floor(now / SERIES_TIERS[tier].step));
  }

  /** Answers an API request (see {@link SeriesRequest}). */
  answer(request: SeriesRequest): SeriesView | TalkersView | SeriesKeysView {
    switch (request.what) {
      case 'keys':
        return this.keys();
      case 'talkers':
        return this.talkers(request, request.limit ?? TALKERS_LISTED);
      case 'pv':
        this.pinPv(request.key);
        return this.series('pv', request.key, request);
      default:
        return this.series(request.what, request.key, request);
    }
  }

  keys(): SeriesKeysView {
    return {
      now: num(this.now),
      tiers: SERIES_TIERS,
      iocs: Array.from(this.iocs.tracked.keys()),
      clients: Array.from(this.clients.tracked.keys()),
      pvs: Array.from(this.pvs.tracked.keys()),
      pinned: Array.from(this.pvs.pinned.keys()),
    };
  }

  /** The tier and absolute slots covering a range (the 1 s ring when it still holds the whole range). */
  private window(range: SeriesRange): { tier: number; first: number; last: number } {
    const now = Number.isNaN(this.now) ? 0 : this.now;
    const to = Math.min(range.to ?? now, now);
    const from = Math.min(range.from ?? to - (range.last ?? DEFAULT_RANGE_SECONDS), to);
    let tier = 0;
    while (tier < SERIES_TIERS.length - 1) {
      const { step, slots } = SERIES_TIERS[tier];
      // One slot of slack: "the last 600 s" spans 601 slots and is served by the 600 s ring.
      if (Math.floor(from / step) >= Math.floor(now / step) - slots) break;
      tier += 1;
    }
    const { step, slots } = SERIES_TIERS[tier];
    const newest = Math.floor(now / step);
    const last = Math.floor(to / step);
    const first = Math.max(Math.floor(from / step), newest - slots + 1, last - slots + 1);
    return { tier, first, last };
  }

  private setOf(kind: SeriesView['kind']): { set: SeriesSet; layout: SeriesLayout } {
    if (kind === 'ioc') return { set: this.iocs, layout: IOC_LAYOUT };
    if (kind === 'client') return { set: this.clients, layout: CLIENT_LAYOUT };
    return { set: this.pvs, layout: PV_LAYOUT };
  }

  series(kind: SeriesView['kind'], key: string, range: SeriesRange): SeriesView {
    const { tier, first, last } = this.window(range);
    const { step } = SERIES_TIERS[tier];
    const { set, layout: lay } = this.setOf(kind);
    const s = set.tracked.get(key);
    const n = Math.max(0, last - first + 1);
    const fields: Record<string, (number | null)[]> = {};
    const names =
      kind === 'ioc'
        ? ['messages', 'bytes', 'latencyCount', 'p50', 'p90', 'p99', 'max', 'channels']
        : kind === 'pv'
          ? ['messages', 'bytes', 'updates', 'value', 'min', 'max']
          : ['messages', 'bytes'];
    for (const name of names) fields[name] = new Array<number | null>(n).fill(null);
    if (s !== undefined) {
      const width = lay.counts.length;
      const { slots } = SERIES_TIERS[tier];
      const head = s.heads[tier];
      const sinceSlot = Math.floor(s.since / step);
      const live = kind === 'ioc' ? s.headLatency(tier) : null;
      for (let k = 0; k < n; k++) {
        const a = first + k;
        if (a < sinceSlot) continue;
        const read = (field: number): number =>
          a > head || a <= head - slots ? lay.empty[field] : s.counts[tier][(a % slots) * width + field];
        fields.messages[k] = read(MESSAGES) / step;
        fields.bytes[k] = read(BYTES) / step;
        if (kind === 'ioc') {
          fields.latencyCount[k] = read(LAT_COUNT);
          const current = a === head && live !== null;
          fields.p50[k] = current ? live.p50 : num(read(LAT_P50));
          fields.p90[k] = current ? live.p90 : num(read(LAT_P90));
          fields.p99[k] = current ? live.p99 : num(read(LAT_P99));
          fields.max[k] = current ? live.max : num(read(LAT_MAX));
          fields.channels[k] = num(read(CHANNELS));
        } else if (kind === 'pv') {
          fields.updates[k] = read(UPDATES) / step;
          if (a <= head && a > head - slots) {
            const b = (a % slots) * PV_VALUES;
            const v = s.values[tier];
            fields.value[k] = num(v[b + VALUE]);
            fields.min[k] = num(v[b + VALUE_MIN]);
            fields.max[k] = num(v[b + VALUE_MAX]);
          }
        }
      }
    }
    return {
      kind,
      key,
      tracked: s !== undefined,
      since: s === undefined ? null : s.since,
      step,
      start: first * step,
      fields,
    };
  }

  /** Messages and bytes of each tracked key over a range, busiest first. */
  talkers(range: SeriesRange, limit: number): TalkersView {
    const { tier, first, last } = this.window(range);
    const { step, slots } = SERIES_TIERS[tier];
    const total = (s: Series, width: number): { messages: number; bytes: number } => {
      let messages = 0;
      let bytes = 0;
      const head = s.heads[tier];
      const counts = s.counts[tier];
      for (let a = Math.max(first, head - slots + 1); a <= Math.min(last, head); a++) {
        const b = (a % slots) * width;
        messages += counts[b + MESSAGES];
        bytes += counts[b + BYTES];
      }
      return { messages, bytes };
    };
    const rows = (set: SeriesSet, width: number): TalkerRow[] => {
      const out: TalkerRow[] = [];
      for (const [key, s] of set.tracked) {
        const t = total(s, width);
        if (t.messages > 0) out.push({ key, ...t });
      }
      return out;
    };
    const iocs = rows(this.iocs, IOC_LAYOUT.counts.length);
    const clients = rows(this.clients, CLIENT_LAYOUT.counts.length);
    const pvs = rows(this.pvs, PV_LAYOUT.counts.length);
    // A host's traffic is what its IOCs and client endpoints carry (a host may be both).
    const byHost = new Map<string, TalkerRow>();
    for (const r of [...iocs, ...clients]) {
      const host = hostOf(r.key);
      const h = byHost.get(host);
      if (h === undefined) byHost.set(host, { key: host, messages: r.messages, bytes: r.bytes });
      else {
        h.messages += r.messages;
        h.bytes += r.bytes;
      }
    }
    const lists = (all: TalkerRow[]): TalkerLists => ({
      byMessages: [...all].sort((a, b) => b.messages - a.messages || b.bytes - a.bytes).slice(0, limit),
      byBytes: [...all].sort((a, b) => b.bytes - a.bytes || b.messages - a.messages).slice(0, limit),
    });
    return {
      from: first * step,
      to: (last + 1) * step,
      step,
      hosts: lists(Array.from(byHost.values())),
      iocs: lists(iocs),
      clients: lists(clients),
      pvs: lists(pvs),
      untracked: {
        iocs: { key: 'other', ...total(this.iocs.other, IOC_LAYOUT.counts.length) },
        clients: { key: 'other', ...total(this.clients.other, CLIENT_LAYOUT.counts.length) },
      },
    };
  }
}

/** Adds one message of `size` bytes to absolute slot `slots[tier]` of every tier of `s`. */
function count(s: Series, slots: Float64Array, size: number): void {
  s.recent += 1;
  for (let tier = 0; tier < slots.length; tier++) {
    const o = s.offset(tier, slots[tier]);
    if (o < 0) continue;
    const c = s.counts[tier];
    c[o + MESSAGES] += 1;
    c[o + BYTES] += size;
  }
}
