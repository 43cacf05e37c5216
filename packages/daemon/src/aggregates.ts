/**
 * Small live aggregates the daemon keeps beside the decoder's conversation state, for what the state does
 * not hold: latency samples per server (for percentiles), per-channel activity and closed channels, which
 * search found which channel, which circuits belong to which client process, recent failures and the
 * message rate. Every table is bounded.
 */
import {
  BoundedSample,
  type LatencyPercentiles,
  type Steps,
  describeSample,
  eachSteps,
  filterSteps,
  isFailure,
  latencyPercentiles,
  runSteps,
  topSteps,
} from '@ca-shark/analysis';
import { BoundedMap, type CaRecord, type ChannelInfo } from '@ca-shark/decoder';
import type { ChannelDisplay } from './channel-display.js';
import type { ErrorView } from './views.js';

/** The record {@link recordFailed} answered for last, and its answer. */
let failedRecord: CaRecord | undefined;
let failedAnswer = false;

/**
 * `isFailure(record)`, worked out once per record: the engine (recent errors), the chart history (the
 * errors series) and the held records (their error bit) all ask it of every record in turn, and a status response's answer reads its status
 * field by name, a keyed load that is megamorphic over the commands' shapes. A record's command is not
 * changed once decoded, so the answer for the same object stays true.
 */
export function recordFailed(record: CaRecord): boolean {
  if (record !== failedRecord) {
    failedAnswer = isFailure(record);
    failedRecord = record;
  }
  return failedAnswer;
}

/** Latency kind from the request command a response answers. */
export function latencyKind(requestCommand: string): string | undefined {
  switch (requestCommand) {
    case 'SearchRequest':
      return 'search';
    case 'CreateChanRequest':
      return 'create';
    case 'ReadNotifyRequest':
      return 'read';
    case 'WriteNotifyRequest':
      return 'write';
    case 'EchoRequest':
      return 'echo';
    case 'EventAddRequest':
      return 'monitor';
    default:
      return undefined;
  }
}

/**
 * Least-recently-set map that forgets its oldest entries beyond `max`: setting a key, new or not, makes it
 * the youngest. Eviction is the decoder's O(1) amortised BoundedMap eviction.
 */
export class BoundedLru<K, V> extends BoundedMap<K, V> {
  constructor(max: number) {
    super(max);
  }

  override set(key: K, value: V): this {
    const existed = this.has(key);
    super.set(key, value);
    if (existed) this.touch(key);
    return this;
  }
}

/** The percentiles of some durations (seconds), or null for none. */
export function summaryOf(values: readonly number[]): LatencyPercentiles | null {
  return values.length > 0 ? latencyPercentiles(describeSample(values)) : null;
}

/** Latency samples kept per server and kind for percentiles (count, mean, min and max stay exact). */
const LATENCY_SAMPLES_PER_KIND = 512;

/**
 * Per server: latency samples by kind. Percentiles come from the analysis package's BoundedSample (a
 * uniform sample of the whole run, exact count/mean/min/max), the implementation `ca-shark report` uses,
 * so the API can never show a mean outside [min, max] or percentiles of other samples than the mean's.
 */
export class ServerLatencies {
  private readonly byServer = new BoundedLru<string, Map<string, BoundedSample>>(10_000);
  constructor(private readonly samplesPerKind = LATENCY_SAMPLES_PER_KIND) {}

  add(server: string, kind: string, latency: number): void {
    let kinds = this.byServer.get(server);
    if (kinds === undefined) {
      kinds = new Map();
      this.byServer.set(server, kinds);
    }
    let sample = kinds.get(kind);
    if (sample === undefined) {
      sample = new BoundedSample(this.samplesPerKind);
      kinds.set(kind, sample);
    }
    sample.add(latency);
  }

  summaries(server: string): Record<string, LatencyPercentiles> {
    const out: Record<string, LatencyPercentiles> = {};
    const kinds = this.byServer.get(server);
    if (kinds === undefined) return out;
    for (const [kind, sample] of kinds) if (sample.count > 0) out[kind] = latencyPercentiles(sample.describe());
    return out;
  }
}

/** The search that found a channel: which client socket asked, and the two durations that matter. */
export interface SearchMatch {
  /** Client UDP socket "ip:port" that searched (the client process's search port). */
  socket: string;
  /** Server "ip:port" whose reply this is. */
  server: string;
  /** The server's reply time: latest request before the reply → reply (seconds). */
  replyTime: number;
  /** The client's wait: its first request for the name → this reply (seconds). */
  timeToFind: number;
  /** Capture time of the reply. */
  at: number;
}

/** Answers kept per (client host, CID, PV) until a channel creation claims one. */
const ANSWERS_PER_KEY = 8;

/**
 * Pairs channel creations with the search replies that led to them. A client searches from its UDP socket
 * and creates the channel on a TCP circuit from another port, so the link is (client host, CID, PV,
 * server): the latest unclaimed reply before the creation. Claiming it means five processes on one host
 * that search the same names with the same CIDs each get their own answer, not the newest one's.
 */
export class SearchMatcher {
  private readonly answers = new BoundedLru<string, SearchMatch[]>(50_000);

  /** Notes a search reply for `cid`/`pv` to client socket `socket` ("ip:port"). */
  answered(socket: string, cid: number, pv: string, match: SearchMatch): void {
    const key = matchKey(hostOf(socket), cid, pv);
    let list = this.answers.get(key);
    if (list === undefined) {
      list = [];
      this.answers.set(key, list);
    }
    list.push(match);
    if (list.length > ANSWERS_PER_KEY) list.shift();
  }

  /**
   * Claims the reply that found the channel a client endpoint `client` ("ip:port" of its circuit) created
   * with `cid` and `pv` on a circuit to `server` (null when unknown) by a request at capture time `before`:
   * the latest unclaimed matching reply received before it, or null.
   */
  claim(client: string, cid: number, pv: string, server: string | null, before: number): SearchMatch | null {
    const list = this.answers.get(matchKey(hostOf(client), cid, pv));
    if (list === undefined) return null;
    for (let i = list.length - 1; i >= 0; i--) {
      const m = list[i];
      if (m.at <= before && (server === null || m.server === server)) return list.splice(i, 1)[0];
    }
    return null;
  }
}

function matchKey(host: string, cid: number, pv: string): string {
  return `${host}/${cid}/${pv}`;
}

/** "ip:port" → "ip". */
export function hostOf(endpoint: string): string {
  const colon = endpoint.lastIndexOf(':');
  return colon < 0 ? endpoint : endpoint.slice(0, colon);
}

/** Circuit ids are folded into this many bits of a read's key (the ioid takes 32 more). */
const READ_KEY_CIRCUIT_BITS = 21;
const READ_KEY_CIRCUIT_MASK = 2 ** READ_KEY_CIRCUIT_BITS - 1;
/** Slots of a fresh {@link PendingReads} table (a power of two); it doubles when half full. */
const READ_TABLE_INITIAL_SLOTS = 64;
/** Generation number of an empty slot. */
const EMPTY = 0;

/**
 * The channel of each pending read, by circuit and ioid: the decoder forgets a read when its reply arrives,
 * before the daemon sees the reply. Reads come and go with every request and reply, and a JS Map that churns
 * like that reallocates its hash table every few reads (it shrinks when it empties, rehashes when deleted
 * entries fill it); once the Map is in the old generation, each dead table links to the next, which keeps
 * every new one alive through scavenges, so all of them were promoted: about a fifth of the decoding worker's
 * promoted bytes. This is an open-addressing table in typed arrays instead (linear probing, backward-shift
 * deletion), allocated again only when it doubles. Reads are taken in two generations: new reads go into the
 * younger one, and when it holds half of `max` the older one, whose reads were never answered, is dropped
 * and the younger becomes the older.
 */
export class PendingReads {
  /** Per slot: the circuit (its low {@link READ_KEY_CIRCUIT_BITS} bits) and ioid of the read, its channel. */
  private circuits = new Int32Array(READ_TABLE_INITIAL_SLOTS);
  private ioids = new Uint32Array(READ_TABLE_INITIAL_SLOTS);
  private channels: (Readonly<ChannelInfo> | undefined)[] = new Array(READ_TABLE_INITIAL_SLOTS).fill(undefined);
  /** Per slot: the generation the read belongs to, {@link EMPTY} for none. */
  private generations = new Uint32Array(READ_TABLE_INITIAL_SLOTS);
  private mask = READ_TABLE_INITIAL_SLOTS - 1;
  /** The younger generation's number; the older one's is one less. */
  private generation = 2;
  private young = 0;
  private old = 0;
  private readonly half: number;

  constructor(max = 100_000) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  /** Reads held (at most `max`). */
  get size(): number {
    return this.young + this.old;
  }

  set(circuit: number, ioid: number, channel: Readonly<ChannelInfo>): void {
    const c = circuit & READ_KEY_CIRCUIT_MASK;
    const io = ioid >>> 0;
    const slot = this.find(c, io);
    if (slot >= 0) {
      // Asked again: the read is the younger generation's, as a new one would be.
      if (this.generations[slot] !== this.generation) {
        this.generations[slot] = this.generation;
        this.old -= 1;
        this.young += 1;
      }
      this.channels[slot] = channel;
    } else {
      if (2 * (this.young + this.old + 1) > this.mask + 1) this.rebuild(2 * (this.mask + 1), false);
      this.place(c, io, channel, this.generation);
      this.young += 1;
    }
    if (this.young >= this.half) {
      // The older generation's reads were never answered: dropped, and the younger one takes its place.
      this.rebuild(this.mask + 1, true);
      this.generation += 1;
      this.old = this.young;
      this.young = 0;
    }
  }

  /** The channel of the read, forgotten as it is returned. */
  take(circuit: number, ioid: number): Readonly<ChannelInfo> | undefined {
    const slot = this.find(circuit & READ_KEY_CIRCUIT_MASK, ioid >>> 0);
    if (slot < 0) return undefined;
    const channel = this.channels[slot];
    if (this.generations[slot] === this.generation) this.young -= 1;
    else this.old -= 1;
    this.remove(slot);
    return channel;
  }

  /** The slot holding the read, or -1. */
  private find(c: number, io: number): number {
    const mask = this.mask;
    for (let slot = readHash(c, io) & mask; ; slot = (slot + 1) & mask) {
      if (this.generations[slot] === EMPTY) return -1;
      if (this.ioids[slot] === io && this.circuits[slot] === c) return slot;
    }
  }

  /** Puts a read (absent) into the first free slot of its probe sequence. */
  private place(c: number, io: number, channel: Readonly<ChannelInfo> | undefined, generation: number): void {
    const mask = this.mask;
    let slot = readHash(c, io) & mask;
    while (this.generations[slot] !== EMPTY) slot = (slot + 1) & mask;
    this.circuits[slot] = c;
    this.ioids[slot] = io;
    this.channels[slot] = channel;
    this.generations[slot] = generation;
  }

  /**
   * Empties `slot`, moving back the reads after it in its cluster that probed past it, so that every read
   * stays reachable from its home slot without markers for deleted ones.
   */
  private remove(slot: number): void {
    const mask = this.mask;
    let hole = slot;
    for (let next = (hole + 1) & mask; this.generations[next] !== EMPTY; next = (next + 1) & mask) {
      const home = readHash(this.circuits[next], this.ioids[next]) & mask;
      // The read at `next` may move to the hole unless its home lies cyclically in (hole, next].
      const stays = hole <= next ? home > hole && home <= next : home > hole || home <= next;
      if (stays) continue;
      this.circuits[hole] = this.circuits[next];
      this.ioids[hole] = this.ioids[next];
      this.channels[hole] = this.channels[next];
      this.generations[hole] = this.generations[next];
      hole = next;
    }
    this.generations[hole] = EMPTY;
    this.channels[hole] = undefined;
  }

  /** Moves the reads into fresh arrays of `slots` slots, without the older generation's when `dropOld`. */
  private rebuild(slots: number, dropOld: boolean): void {
    const { circuits, ioids, channels, generations } = this;
    this.circuits = new Int32Array(slots);
    this.ioids = new Uint32Array(slots);
    this.channels = new Array(slots).fill(undefined);
    this.generations = new Uint32Array(slots);
    this.mask = slots - 1;
    for (let i = 0; i < generations.length; i++) {
      const generation = generations[i];
      if (generation === EMPTY || (dropOld && generation !== this.generation)) continue;
      this.place(circuits[i], ioids[i], channels[i], generation);
    }
  }
}

/** Home slot hash of a read's key (before masking): the circuit and ioid mixed, so neighbours spread. */
function readHash(c: number, io: number): number {
  let h = Math.imul(c, 0x9e3779b1) ^ io;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return (h ^ (h >>> 13)) >>> 0;
}

/** What the daemon adds to a decoder channel: monitor activity, last value, the search that found it. */
export interface ChannelActivity {
  /** The decoder's channel: one per (circuit, CID), updated in place by the decoder, kept here after it forgets it. */
  readonly info: Readonly<ChannelInfo>;
  /** The latest value as its row shows it (see {@link shownValue}); null before one. */
  lastValue: unknown;
  /**
   * The entry's own array for the first elements of a long value, written over by each update (null before
   * one): `lastValue` when the latest value was long, and then copied by whoever keeps the value.
   */
  valueCopy: unknown[] | null;
  /** Precision, units, enum strings from a GR/CTRL reply for the channel, null before one. */
  display: ChannelDisplay | null;
  /** Monitor updates seen. */
  updates: number;
  /** Capture times of the first and latest value (read reply or update), null before one. */
  firstUpdate: number | null;
  lastUpdate: number | null;
  search: SearchMatch | null;
}

/**
 * The channels the Channels view lists: every channel the decoder knows (one per client circuit and CID),
 * plus a bounded history of closed ones, which the decoder forgets a while after they end. Rows are the
 * decoder's own channel objects, so their state is never a stale copy.
 */
export class ChannelTable {
  private readonly live = new Map<Readonly<ChannelInfo>, ChannelActivity>();
  /** Closed channels, oldest first. */
  private readonly closed = new BoundedMap<Readonly<ChannelInfo>, ChannelActivity>();
  /** Closed channels dropped to stay within the history (reported so truncation is never silent). */
  closedDropped = 0;

  /**
   * @param closedMax closed channels kept for the view
   * @param liveMax open channels tracked; above it (nobody read the view for long while channels churned)
   *   ended ones move to the history and the oldest others are forgotten. Above the decoder's channel limit.
   */
  constructor(
    private readonly closedMax = 10_000,
    private readonly liveMax = 250_000,
  ) {}

  /** The activity entry of a channel, created on first sight. */
  track(info: Readonly<ChannelInfo>): ChannelActivity {
    let entry = this.live.get(info) ?? this.closed.get(info);
    if (entry === undefined) {
      entry = {
        info,
        lastValue: null,
        valueCopy: null,
        display: null,
        updates: 0,
        firstUpdate: null,
        lastUpdate: null,
        search: null,
      };
      this.live.set(info, entry);
      if (this.live.size > this.liveMax) this.shrink();
    }
    return entry;
  }

  /** Retires ended channels, then forgets the oldest until a tenth of the room is free (amortised). */
  private shrink(): void {
    this.retire(() => true);
    const target = Math.floor(this.liveMax * 0.9);
    for (const info of this.live.keys()) {
      if (this.live.size <= target) break;
      this.live.delete(info);
    }
  }

  /** Moves ended channels to the history; forgets open ones `isCurrent` denies; trims the history. */
  private retire(isCurrent: (info: Readonly<ChannelInfo>, entry: ChannelActivity) => boolean): void {
    runSteps(this.retireSteps(isCurrent));
  }

  private *retireSteps(isCurrent: (info: Readonly<ChannelInfo>, entry: ChannelActivity) => boolean): Steps<void> {
    // Over a copy: between steps the decoder adds and ends channels.
    yield* eachSteps(Array.from(this.live), ([info, entry]) => {
      if (this.live.get(info) !== entry) return;
      if (info.endedAt !== null) {
        this.live.delete(info);
        this.closed.set(info, entry);
      } else if (!isCurrent(info, entry)) {
        this.live.delete(info);
      }
    });
    this.closedDropped += this.closed.trimTo(this.closedMax);
  }

  /**
   * A value for the channel (read reply or monitor update) at capture time `t`, as decoded (a waveform is
   * trimmed here, see {@link shownValue}); returns its entry.
   */
  value(info: Readonly<ChannelInfo>, value: unknown, isUpdate: boolean, t: number): ChannelActivity {
    const entry = this.track(info);
    entry.lastValue = shownValue(entry, value);
    if (isUpdate) entry.updates += 1;
    entry.firstUpdate ??= t;
    entry.lastUpdate = t;
    return entry;
  }

  /**
   * Brings the table up to date with the decoder's channels: adopts channels not seen yet, moves ended ones
   * to the closed history, and forgets live ones the decoder dropped without an end (merged into another
   * channel object or evicted by its limits).
   */
  sync(
    current: ReadonlyMap<number, Readonly<ChannelInfo>>,
    mergedInto: (gone: Readonly<ChannelInfo>) => Readonly<ChannelInfo> | undefined = () => undefined,
  ): void {
    runSteps(this.syncSteps(current, mergedInto));
  }

  /** {@link ChannelTable.sync} in steps. */
  *syncSteps(
    current: ReadonlyMap<number, Readonly<ChannelInfo>>,
    mergedInto: (gone: Readonly<ChannelInfo>) => Readonly<ChannelInfo> | undefined = () => undefined,
  ): Steps<void> {
    yield* eachSteps(Array.from(current.values()), (info) => {
      if (!this.live.has(info) && !this.closed.has(info)) this.track(info);
    });
    const merged: [Readonly<ChannelInfo>, ChannelActivity][] = [];
    yield* this.retireSteps((info, entry) => {
      if (current.get(info.id) === info) return true;
      const keep = mergedInto(info);
      if (keep !== undefined && keep !== info) merged.push([keep, entry]);
      return false;
    });
    for (const [keep, entry] of merged) mergeActivity(this.track(keep), entry);
  }

  /**
   * Named channels, live ones first, then closed ones (latest closed first); at most `limit`. When live
   * channels alone exceed the limit, the most recently active are kept.
   */
  rows(limit: number): ChannelActivity[] {
    return runSteps(this.rowsSteps(limit));
  }

  /** {@link ChannelTable.rows} in steps. */
  *rowsSteps(limit: number): Steps<ChannelActivity[]> {
    let out = yield* filterSteps(Array.from(this.live.values()), (entry) => entry.info.pv !== null);
    if (out.length > limit) out = (yield* topSteps(out, limit, (a, b) => lastActive(b) - lastActive(a))).rows;
    if (out.length < limit) {
      const closed = Array.from(this.closed.values());
      for (let i = closed.length - 1; i >= 0 && out.length < limit; i--)
        if (closed[i].info.pv !== null) out.push(closed[i]);
    }
    return out;
  }

  /** Named channels: open ones and those in the closed history, and how many closed ones were dropped. */
  totals(): { open: number; closed: number; closedDropped: number } {
    return runSteps(this.totalsSteps());
  }

  /** {@link ChannelTable.totals} in steps. */
  *totalsSteps(): Steps<{ open: number; closed: number; closedDropped: number }> {
    let open = 0;
    yield* eachSteps(Array.from(this.live.keys()), (info) => {
      if (info.pv !== null) open += 1;
    });
    let closed = 0;
    for (const info of this.closed.keys()) if (info.pv !== null) closed += 1;
    return { open, closed, closedDropped: this.closedDropped };
  }

  get size(): { live: number; closed: number } {
    return { live: this.live.size, closed: this.closed.size };
  }
}

/** Folds the activity of a channel object the decoder merged away (seen by SID first) into its survivor. */
function mergeActivity(keep: ChannelActivity, gone: ChannelActivity): void {
  keep.updates += gone.updates;
  if (gone.lastUpdate !== null && (keep.lastUpdate === null || gone.lastUpdate > keep.lastUpdate)) {
    keep.lastUpdate = gone.lastUpdate;
    keep.lastValue = gone.lastValue;
    keep.valueCopy = gone.valueCopy;
  }
  if (gone.firstUpdate !== null && (keep.firstUpdate === null || gone.firstUpdate < keep.firstUpdate))
    keep.firstUpdate = gone.firstUpdate;
  keep.search ??= gone.search;
  if (gone.display !== null) keep.display = { ...gone.display, ...keep.display };
}

function lastActive(a: ChannelActivity): number {
  return a.lastUpdate ?? a.info.connectedAt ?? a.info.created?.timestamp ?? 0;
}

/** Values are trimmed to this many elements so snapshots of waveform channels stay small. */
export const MAX_VALUE_ELEMENTS = 16;

/**
 * A decoded value as a channel's row shows it: as it is when short (the decoder makes a new one per message
 * and never changes it), else its first {@link MAX_VALUE_ELEMENTS} elements as a plain array (views are JSON;
 * waveforms decode to typed arrays). That array is the entry's own `valueCopy`, written over element by
 * element at each update: a new one per update was about 2 % of the worker's allocations on waveform
 * traffic. Whoever keeps a row's value past the next record copies it ({@link rowValue}).
 */
function shownValue(entry: ChannelActivity, data: unknown): unknown {
  if (Array.isArray(data) && data.length <= MAX_VALUE_ELEMENTS) return data;
  if (!Array.isArray(data) && !(ArrayBuffer.isView(data) && !(data instanceof DataView))) return data ?? null;
  const elements = data as ArrayLike<unknown>;
  const n = Math.min(elements.length, MAX_VALUE_ELEMENTS);
  let out = entry.valueCopy;
  if (out === null || out.length !== n) entry.valueCopy = out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = elements[i];
  return out;
}

/** A row's latest value to keep (a view): a copy of the entry's own array, which the next update overwrites. */
export function rowValue(entry: ChannelActivity): unknown {
  const value = entry.lastValue;
  return value !== null && value === entry.valueCopy ? entry.valueCopy.slice() : value;
}

/** Messages per second over a sliding window of wall-clock samples. */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly counts: number[] = [];
  constructor(private readonly windowMs = 5000) {}

  /** Records the running total at time `now` (ms). */
  sample(now: number, total: number): void {
    this.times.push(now);
    this.counts.push(total);
    while (this.times.length > 2 && now - this.times[0] > this.windowMs) {
      this.times.shift();
      this.counts.shift();
    }
  }

  /** Rate over the window, or 0 with fewer than two samples. */
  rate(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    const dt = (this.times[n - 1] - this.times[0]) / 1000;
    return dt > 0 ? (this.counts[n - 1] - this.counts[0]) / dt : 0;
  }
}

/** The latest failures, newest last. */
export class RecentErrors {
  private readonly items: ErrorView[] = [];
  constructor(private readonly max = 200) {}

  add(item: ErrorView): void {
    this.items.push(item);
    if (this.items.length > this.max) this.items.shift();
  }

  list(): ErrorView[] {
    return this.items.slice();
  }
}
