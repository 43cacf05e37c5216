/**
 * WebSocket fan-out: every decoded record goes to the clients whose subscription matches it, batched into at
 * most one frame per tick. The hub never matches a record itself: it announces each distinct subscription
 * to a {@link SubscriptionMatcher} (the decoding worker), which hands back, with every batch of records,
 * which records each subscription keeps. A glob from a client and a PV name off the wire therefore never
 * cost the thread that serves HTTP anything but the copy of the result.
 *
 * A client is sent what it can take, never a stale queue: each has a record budget (a token bucket at
 * {@link HubOptions.maxRecordsPerSecond}, halved while its socket is slow to drain), and when more records
 * match than the budget allows, its frame carries an evenly spaced sample of the interval with the newest
 * record always last (see sampler.ts). Every frame says how many matched and how many it carries, so a
 * page can say "showing 2,000 of 85,000 msgs/s"; the hub counts matched, sent and sampled-out records
 * exactly. A client whose socket does not drain at all (over the high-water mark) receives nothing until
 * it does; its sample keeps thinning meanwhile. Capture and decoding never wait for a client.
 *
 * Everything else a client is sent goes through the same per-client state, so what the daemon holds for one
 * client is bounded whatever it does: snapshots keep only the newest, replies (hello, errors, acknowledgements)
 * wait in a byte-bounded queue while the socket is backed up, and a client that overflows that queue (it
 * keeps sending requests but reads no answers) is closed with 1008.
 */
import { HISTORY_SECONDS, HistoryFeed } from './history-feed.js';
import type { HistoryResult } from './history.js';
import { EvenSample } from './sampler.js';
import { EVERYTHING } from './subscriptions.js';
import type { RecordsFrameTimes, WebSocketStatsView } from './views.js';

/**
 * The part of a `ws` WebSocket the hub uses (kept small so tests can pass a fake). Records frames are
 * handed over as UTF-8 bytes with `{ binary: false }`: they still go out as text frames.
 */
export interface HubSocket {
  readonly bufferedAmount: number;
  readonly readyState: number;
  send(data: string): void;
  send(data: Buffer, options: { binary: boolean }): void;
  close(code?: number, reason?: string): void;
}

const TEXT_FRAME = { binary: false } as const;
const COMMA = 0x2c;

/**
 * A records frame as UTF-8 bytes: `head`, the record texts separated by commas, `tail`, each written once
 * into a buffer of the right size. Joining the texts and then letting `ws` measure and encode the joined
 * string cost seven times as much (6.5 µs a record on the main thread, most of it at 20,000 records/s: a
 * joined frame with one non-Latin-1 character, such as a waveform summary's "…", is a two-byte string).
 */
export function recordsFrame(head: string, parts: readonly string[], tail: string): Buffer {
  let size = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, parts.length - 1);
  for (const part of parts) size += Buffer.byteLength(part);
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[at++] = COMMA;
    at += out.write(parts[i], at);
  }
  out.write(tail, at);
  return out;
}

/**
 * Where the hub announces subscriptions: the side that matches records (the decoding worker) compiles each
 * filter it is given and reports matches by id with every batch ({@link BatchMatches}). Ids are never reused,
 * so a match for a removed subscription that was already on its way is ignored.
 */
export interface SubscriptionMatcher<F> {
  add(id: number, filter: F): void;
  remove(id: number): void;
}

/**
 * Which records of one batch each subscription keeps: subscription id → ascending indexes into the batch. A
 * subscription that is absent keeps none of them. {@link EVERYTHING} lists those for clients subscribed to
 * everything; without it (and without counts) those clients are offered the whole batch.
 */
export type BatchMatches = ReadonlyMap<number, ArrayLike<number>>;

/**
 * How many records each subscription (and {@link EVERYTHING}) matched in the batch, when the matcher sampled
 * before handing the batch over: those beyond its indexes were matched but left out, and count as such.
 */
export type BatchCounts = ReadonlyMap<number, number>;

/**
 * Records per second each stream is read at most: what the matcher may sample down to. `everything` is for
 * clients subscribed to everything (0: none); `subscriptions` by subscription id.
 */
export interface HubDemand {
  everything: number;
  subscriptions: Map<number, number>;
}

const NO_MATCHES: BatchMatches = new Map();

/** Options of a {@link Hub}; defaults in {@link DEFAULT_HUB_OPTIONS}. */
export interface HubOptions {
  /**
   * Records a client is sent per second at most (its budget when it keeps up); a client may ask for less
   * (or more, up to {@link MAX_CLIENT_RATE}) with {@link Hub.setRate}. Beyond it, the client gets a sample.
   */
  maxRecordsPerSecond: number;
  /** Bytes of records a client's pending sample holds at most between frames. */
  maxSampleBytes: number;
  /** A client whose socket buffers more than this many bytes receives nothing until it drains. */
  highWaterBytes: number;
  /**
   * A client whose socket still buffers more than this many bytes at a tick is slow to read: its record
   * rate is halved (down to {@link MIN_CLIENT_RATE}); below it, the rate grows back by a quarter per tick.
   */
  slowBytes: number;
  /** Bytes of replies kept for a client while its socket drains; beyond this it is closed with 1008. */
  maxReplyBytes: number;
  /** Wall clock in ms since the epoch (tests drive it by hand). */
  now: () => number;
  /** Told the serialised records of every records frame sent (the daemon keeps those for longer). */
  onSent?: (records: readonly string[]) => void;
  /** Told a history request nobody waits for any more (its client re-subscribed or left). */
  onHistoryCancel?: (request: number) => void;
}

/**
 * Defaults. At worst a client holds the socket's high-water mark plus one frame, its pending sample, the
 * reply budget and one snapshot: about 13 MB plus a snapshot.
 */
export const DEFAULT_HUB_OPTIONS: HubOptions = {
  maxRecordsPerSecond: 2000,
  maxSampleBytes: 2 * 1024 * 1024,
  highWaterBytes: 8 * 1024 * 1024,
  slowBytes: 1024 * 1024,
  maxReplyBytes: 1024 * 1024,
  now: Date.now,
};

/** The least record rate a client is held to, however slow it reads: the newest row stays fresh. */
export const MIN_CLIENT_RATE = 10;
/** The most records per second a client may ask for. */
export const MAX_CLIENT_RATE = 20_000;
/** Seconds of records a client may be sent in one frame after a pause (the token bucket's depth). */
const BURST_SECONDS = 1;
/** Time constant of the smoothed rates in a records frame (seconds). */
const RATE_TAU_SECONDS = 0.5;
/** A slow client's rate shrinks by this factor per tick, and grows back by the next. */
const RATE_DECREASE = 0.5;
const RATE_INCREASE = 1.25;

const OPEN = 1;
/** WebSocket close code "policy violation" (RFC 6455 section 7.4.1). */
export const CLOSE_POLICY_VIOLATION = 1008;

/** One distinct filter in use, shared by every client that subscribed with it. */
interface HubSubscription {
  readonly id: number;
  /** Canonical text of the filter: clients with equal filters share the subscription. */
  readonly key: string;
  clients: number;
}

/** A rate smoothed exponentially over about {@link RATE_TAU_SECONDS}. */
class SmoothedRate {
  value = 0;

  /** Adds `count` events over the last `seconds`. */
  update(count: number, seconds: number): void {
    if (seconds <= 0) return;
    const alpha = 1 - Math.exp(-seconds / RATE_TAU_SECONDS);
    this.value += alpha * (count / seconds - this.value);
  }
}

/**
 * Per-client state. Records matched for the client wait in an {@link EvenSample} (bounded, evenly spaced
 * over the interval, newest kept) until its next frame; a token bucket says how many that frame may carry.
 */
class HubClient {
  readonly id: number;
  readonly socket: HubSocket;
  /** The client's subscription; undefined = everything. */
  subscription: HubSubscription | undefined;
  paused = false;
  /** Records matched, sent, and matched but not sent (sampled out or discarded), since it connected. */
  matched = 0;
  sent = 0;
  sampledOut = 0;
  /** Records per second it asked for (the hub's default unless it sent a `rate` request). */
  maxRate: number;
  /** Records per second it is sent at most now: {@link maxRate}, less while its socket is slow to drain. */
  rate: number;
  /** Records its next frame may carry (a token bucket filled at {@link rate}). */
  tokens = 0;
  /** Whether its latest records frame carried less than what matched. */
  sampling = false;
  /** Matched and sent since the last tick, for the smoothed rates. */
  tickMatched = 0;
  tickSent = 0;
  readonly matchedRate = new SmoothedRate();
  readonly sentRate = new SmoothedRate();
  sample: EvenSample;
  /** Replies waiting for the socket to drain, oldest first, and their total length. */
  replies: string[] = [];
  replyBytes = 0;
  /** The newest snapshot not yet sent (an older one is worthless once a newer exists). */
  snapshot: string | undefined;
  /** Held records asked for with `since`, until the last of them is sent (see history-feed.ts). */
  history: HistoryFeed | undefined;
  /**
   * Where the newest record offered to it was held up (ms since the epoch, 0: not known): when its frame
   * batch was posted to the decoder, when the decoder handed its records over, and when they reached the
   * hub. Sent with each records frame so a page can say which stage its lag comes from.
   */
  postedAt = 0;
  decodedAt = 0;
  publishedAt = 0;
  private readonly maxSampleBytes: number;

  constructor(id: number, socket: HubSocket, rate: number, maxSampleBytes: number) {
    this.id = id;
    this.socket = socket;
    this.maxRate = rate;
    this.rate = rate;
    this.maxSampleBytes = maxSampleBytes;
    this.sample = this.newSample();
  }

  /** A sample holding about two frames' worth at the client's asked-for rate. */
  newSample(): EvenSample {
    return new EvenSample(Math.ceil(2 * this.maxRate * BURST_SECONDS), this.maxSampleBytes);
  }

  offer(json: string): void {
    this.matched += 1;
    this.tickMatched += 1;
    this.sample.offer(json);
  }

  /** Counts `n` records matched for it that the matcher left out before the batch reached the hub. */
  skip(n: number): void {
    this.matched += n;
    this.tickMatched += n;
    this.sample.skip(n);
  }

  /**
   * Its newest record's batch was posted to the decoder at `postedAt`, its records handed over at
   * `decodedAt` and they reached the hub at `now` (ms).
   */
  stamp(postedAt: number, decodedAt: number, now: number): void {
    this.postedAt = postedAt;
    this.decodedAt = decodedAt;
    this.publishedAt = now;
  }

  /** Forgets the pending sample (subscription change, pause, close): those records are never sent. */
  discard(): void {
    this.sampledOut += this.sample.offered;
    this.sample.clear();
  }

  /** Takes the pending sample within the token budget: the records of the next frame. */
  take(): string[] {
    const offered = this.sample.offered;
    const records = this.sample.take(this.tokens);
    this.tokens = Math.max(0, this.tokens - records.length);
    this.sent += records.length;
    this.tickSent += records.length;
    this.sampledOut += offered - records.length;
    return records;
  }

  /** Takes the queued replies, oldest first. */
  takeReplies(): string[] {
    const out = this.replies;
    this.replies = [];
    this.replyBytes = 0;
    return out;
  }
}

/** Counters of the hub, shown in `/api/stats` and `/metrics`. */
export interface HubStats {
  clients: number;
  /** Records that matched a client's filter, summed over clients (also disconnected ones). */
  matched: number;
  /** Records sent, summed over clients. */
  sent: number;
  /** Records matched but never sent (sampled out, or pending when a client changed its filter or left). */
  sampledOut: number;
  /**
   * Records matched but not sent, as older daemons counted drops for slow clients: the same number as
   * {@link HubStats.sampledOut} (the hub no longer queues, so it loses no record in any other way).
   */
  dropped: number;
  /** Frames sent (records, snapshots, replies). */
  frames: number;
  /** Records waiting in clients' samples for their next frame. */
  pending: number;
  /** Clients closed (1008) because they read too little of what they asked for. */
  overBudget: number;
}

/** One connected client, for `/api/stats`, `/metrics` and tests. */
export interface HubClientInfo {
  id: number;
  matched: number;
  sent: number;
  sampledOut: number;
  /** Records waiting in its sample, and their bytes. */
  pending: number;
  pendingRecordBytes: number;
  /** Bytes of replies and snapshot waiting for the socket to drain. */
  pendingBytes: number;
  /** Whether its latest records frame was a sample. */
  sampling: boolean;
  /** Records per second it is sent at most now, and what it asked for. */
  rate: number;
  maxRate: number;
  /** Smoothed records per second matched for it and sent to it. */
  matchedPerSecond: number;
  sentPerSecond: number;
  paused: boolean;
  bufferedAmount: number;
}

/** The stage times a records frame carries (the page's contract, views.ts): the client's fields of those names. */
const FRAME_TIMES = ['postedAt', 'decodedAt', 'publishedAt'] as const satisfies readonly (keyof RecordsFrameTimes)[];

/** `,"postedAt":…` for each stage time of the client's newest record that is known (ms → Unix s). */
function frameTimes(client: Pick<HubClient, (typeof FRAME_TIMES)[number]>): string {
  let out = '';
  for (const key of FRAME_TIMES) if (client[key] > 0) out += `,"${key}":${client[key] / 1000}`;
  return out;
}

/** One decimal is all a rate in a frame needs. */
function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/**
 * Fan-out of records to WebSocket clients. Call {@link Hub.publish} for each batch of records with its
 * matches, {@link Hub.tick} every batching interval (the daemon's timer does) and {@link Hub.broadcast} for
 * snapshots. `F` is the (canonical) filter type the {@link SubscriptionMatcher} understands.
 */
export class Hub<R, F = unknown> {
  private readonly options: HubOptions;
  private readonly clients = new Map<HubSocket, HubClient>();
  private readonly subscriptions = new Map<string, HubSubscription>();
  /** Filters by subscription id, to replay them to a matcher attached later. */
  private readonly filters = new Map<number, F>();
  private matcher: SubscriptionMatcher<F> | undefined;
  private nextSubscription = 1;
  /** Clients subscribed to everything (they need every record, matched or not). */
  private unfiltered = 0;
  private nextId = 1;
  private nextHistory = 1;
  /** Totals of clients that left. */
  private readonly gone = { matched: 0, sent: 0, sampledOut: 0 };
  private frames = 0;
  /** Time of the previous tick (ms), for the token buckets and smoothed rates. */
  private lastTick: number;
  private overBudget = 0;
  private readonly serialize: (record: R) => string;

  constructor(serialize: (record: R) => string, options: Partial<HubOptions> = {}) {
    this.serialize = serialize;
    this.options = { ...DEFAULT_HUB_OPTIONS, ...options };
    this.lastTick = this.options.now();
  }

  /**
   * Attaches the side that matches records; it is told every subscription in use now and from now on.
   * Until one is attached, filtered clients receive nothing.
   */
  attach(matcher: SubscriptionMatcher<F>): void {
    this.matcher = matcher;
    for (const [id, filter] of this.filters) matcher.add(id, filter);
  }

  /** Registers a connected socket; it receives every record until it subscribes. */
  add(socket: HubSocket): number {
    const client = new HubClient(this.nextId++, socket, this.options.maxRecordsPerSecond, this.options.maxSampleBytes);
    // Its first frame may carry a tick's worth at once; the bucket fills from there.
    client.tokens = client.rate * BURST_SECONDS;
    this.clients.set(socket, client);
    this.unfiltered += 1;
    return client.id;
  }

  /** Forgets a socket (on close). */
  remove(socket: HubSocket): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.discard();
    this.gone.matched += client.matched;
    this.gone.sent += client.sent;
    this.gone.sampledOut += client.sampledOut;
    client.takeReplies();
    client.snapshot = undefined;
    this.cancelHistory(client);
    this.release(client.subscription);
    if (client.subscription === undefined) this.unfiltered -= 1;
    this.clients.delete(socket);
  }

  /**
   * Replaces a client's subscription with `filter` (canonical: equal filters must have equal JSON text);
   * `undefined` means every record. Its pending sample is discarded, and from now on it receives only records matched
   * for the new subscription: a batch matched before the matcher knew it has no matches for it (unless
   * another client already used the same filter, whose matches are the new filter's too).
   */
  subscribe(socket: HubSocket, filter: F | undefined): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    const old = client.subscription;
    // Acquire before release: re-sending the same filter keeps its subscription and loses nothing.
    const next = filter === undefined ? undefined : this.acquire(filter);
    client.subscription = next;
    this.release(old);
    this.unfiltered += (next === undefined ? 1 : 0) - (old === undefined ? 1 : 0);
    client.discard();
    this.cancelHistory(client);
  }

  /**
   * Makes a client that just subscribed wait for held records since `since` (Unix seconds) before live ones;
   * returns the request number and how many records the history may send, for the worker's scan. Call
   * {@link historyStarted} and {@link historyResult} with the worker's answers.
   */
  awaitHistory(socket: HubSocket, since: number): { request: number; limit: number } | undefined {
    const client = this.clients.get(socket);
    if (client === undefined) return undefined;
    this.cancelHistory(client);
    const request = this.nextHistory++;
    client.history = new HistoryFeed(request, since);
    return { request, limit: Math.ceil(client.maxRate * HISTORY_SECONDS) };
  }

  /** The worker set the seam of history `request`: later batches carry live records for its client. */
  historyStarted(request: number): void {
    const feed = this.feed(request);
    if (feed !== undefined && feed.phase === 'waiting') feed.phase = 'scanning';
  }

  /** The worker's scan for `request`: sent from the next tick on, before any live record. */
  historyResult(result: HistoryResult): void {
    this.feed(result.request)?.take(result);
  }

  private feed(request: number): HistoryFeed | undefined {
    for (const client of this.clients.values()) if (client.history?.request === request) return client.history;
    return undefined;
  }

  private cancelHistory(client: HubClient): void {
    const feed = client.history;
    if (feed === undefined) return;
    client.history = undefined;
    if (feed.phase !== 'sending') this.options.onHistoryCancel?.(feed.request);
  }

  /** True while a client is subscribed to everything: then every record is wanted, matched or not. */
  get wantsEverything(): boolean {
    return this.unfiltered > 0;
  }

  /**
   * The most records per second any client reads, per subscription and for clients subscribed to
   * everything (paused clients read none): the matcher needs to hand over no more than that.
   */
  demand(): HubDemand {
    let everything = 0;
    const subscriptions = new Map<number, number>();
    for (const client of this.clients.values()) {
      const rate = client.paused ? 0 : client.maxRate;
      const sub = client.subscription;
      if (sub === undefined) everything = Math.max(everything, rate);
      else subscriptions.set(sub.id, Math.max(subscriptions.get(sub.id) ?? 0, rate));
    }
    return { everything, subscriptions };
  }

  /** Distinct filtered subscriptions in use (clients with equal filters share one). */
  get subscriptionCount(): number {
    return this.subscriptions.size;
  }

  private acquire(filter: F): HubSubscription {
    const key = JSON.stringify(filter);
    let sub = this.subscriptions.get(key);
    if (sub === undefined) {
      sub = { id: this.nextSubscription++, key, clients: 0 };
      this.subscriptions.set(key, sub);
      this.filters.set(sub.id, filter);
      this.matcher?.add(sub.id, filter);
    }
    sub.clients += 1;
    return sub;
  }

  private release(sub: HubSubscription | undefined): void {
    if (sub === undefined) return;
    sub.clients -= 1;
    if (sub.clients > 0) return;
    this.subscriptions.delete(sub.key);
    this.filters.delete(sub.id);
    this.matcher?.remove(sub.id);
  }

  /** Pauses or resumes delivery of records to one client (snapshots still flow). */
  setPaused(socket: HubSocket, paused: boolean): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.paused = paused;
    if (paused) client.discard();
  }

  /**
   * Sets the records per second a client is sent at most (clamped to {@link MIN_CLIENT_RATE} ..
   * {@link MAX_CLIENT_RATE}); returns the rate in force.
   */
  setRate(socket: HubSocket, perSecond: number): number | undefined {
    const client = this.clients.get(socket);
    if (client === undefined) return undefined;
    const rate = Math.min(MAX_CLIENT_RATE, Math.max(MIN_CLIENT_RATE, Math.round(perSecond)));
    client.discard();
    client.maxRate = rate;
    client.rate = rate;
    client.tokens = Math.min(client.tokens, rate * BURST_SECONDS);
    client.sample = client.newSample();
    return rate;
  }

  /**
   * Offers a batch of records, in capture order: to each client the records `matches` lists for its
   * subscription (none when absent; for clients subscribed to everything, {@link EVERYTHING}'s, or every
   * record when neither it nor `counts` is given). `counts`, from a matcher that sampled, says how many
   * each subscription matched: the rest count as matched and sampled out. Each record is serialised at most
   * once, and only if someone wants it; it joins each client's pending sample. `postedAt`: when the
   * newest of these records' frame batches was posted to the decoder, `decodedAt`: when the decoder handed
   * them over (ms since the epoch; 0: not known).
   */
  publish(
    records: readonly R[],
    matches: BatchMatches = NO_MATCHES,
    counts?: BatchCounts,
    postedAt = 0,
    decodedAt = 0,
  ): void {
    if (this.clients.size === 0 || (records.length === 0 && counts === undefined)) return;
    const texts = new Array<string | undefined>(records.length);
    const text = (i: number): string => (texts[i] ??= this.serialize(records[i]));
    const now = this.options.now();
    for (const client of this.clients.values()) {
      // Until the worker sets the seam of its history, batches hold records the history will carry.
      if (client.paused || client.history?.phase === 'waiting') continue;
      const key = client.subscription?.id ?? EVERYTHING;
      const indexes = matches.get(key);
      if (indexes === undefined && key === EVERYTHING && counts === undefined) {
        for (let i = 0; i < records.length; i++) client.offer(text(i));
        if (records.length > 0) client.stamp(postedAt, decodedAt, now);
        continue;
      }
      let offered = 0;
      if (indexes !== undefined) {
        for (let k = 0; k < indexes.length; k++) {
          const i = indexes[k];
          // A matcher that reports an index outside the batch is a bug; deliver nothing rather than undefined.
          if (i >= records.length) continue;
          client.offer(text(i));
          offered += 1;
        }
      }
      const total = counts?.get(key) ?? offered;
      if (total > offered) client.skip(total - offered);
      if (offered > 0) client.stamp(postedAt, decodedAt, now);
    }
  }

  /**
   * The batching interval's work (the daemon's timer calls it): refills each client's budget, adapts its
   * rate to how fast its socket drains, and sends it what waits (one records frame at most) unless its
   * socket is still over the high-water mark.
   */
  tick(): void {
    const now = this.options.now();
    const seconds = Math.max(0, (now - this.lastTick) / 1000);
    this.lastTick = now;
    for (const client of this.clients.values()) {
      if (client.socket.bufferedAmount > this.options.slowBytes)
        client.rate = Math.max(MIN_CLIENT_RATE, client.rate * RATE_DECREASE);
      else client.rate = Math.min(client.maxRate, client.rate * RATE_INCREASE);
      client.tokens = Math.min(client.rate * BURST_SECONDS, client.tokens + client.rate * seconds);
      this.flush(client, true, now);
      client.matchedRate.update(client.tickMatched, seconds);
      client.sentRate.update(client.tickSent, seconds);
      client.tickMatched = 0;
      client.tickSent = 0;
    }
  }

  /**
   * Offers a snapshot to every client. A client still draining keeps only this newest one, sent when it
   * drains; snapshots are never queued up behind each other.
   */
  broadcast(frame: string): void {
    for (const client of this.clients.values()) {
      client.snapshot = frame;
      this.flush(client, false);
    }
  }

  /** Offers a snapshot to one client (its first picture of the state), replacing one not yet sent. */
  snapshotTo(socket: HubSocket, frame: string): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.snapshot = frame;
    this.flush(client, false);
  }

  /**
   * Sends a reply (hello, errors, acknowledgements) to one client, in order with its other replies. While the
   * socket drains the reply waits within {@link HubOptions.maxReplyBytes}; a client beyond that is closed.
   */
  sendTo(socket: HubSocket, frame: string): void {
    const client = this.clients.get(socket);
    if (client === undefined) return;
    client.replies.push(frame);
    client.replyBytes += frame.length;
    if (client.replyBytes > this.options.maxReplyBytes) {
      this.closeOverBudget(client);
      return;
    }
    this.flush(client, false);
  }

  /**
   * Writes a client's pending replies and snapshot to its socket unless the socket is over the high-water
   * mark; on a tick (`now` given), also its records frame when records matched and its budget allows one,
   * so records keep their cadence of at most one frame per tick.
   */
  private flush(client: HubClient, records: boolean, now = 0): void {
    const socket = client.socket;
    if (socket.readyState !== OPEN) return;
    if (socket.bufferedAmount > this.options.highWaterBytes) return;
    if (client.replies.length > 0) for (const reply of client.takeReplies()) this.send(socket, reply);
    if (client.snapshot !== undefined) {
      this.send(socket, client.snapshot);
      client.snapshot = undefined;
    }
    if (!records) return;
    if (client.history !== undefined) {
      // History first, one frame a tick while the socket keeps up; live records wait in the sample.
      if (socket.bufferedAmount > this.options.slowBytes) return;
      const frame = client.history.nextFrame(now);
      if (frame === undefined) return;
      this.send(socket, frame.text);
      if (frame.done) client.history = undefined;
      return;
    }
    if (client.sample.offered === 0 || client.tokens < 1) return;
    const matched = client.sample.offered;
    const parts = client.take();
    this.options.onSent?.(parts);
    client.sampling = parts.length < matched;
    this.frames += 1;
    socket.send(
      recordsFrame(
        `{"type":"records","time":${now / 1000},"records":[`,
        parts,
        `],"matched":${matched},"sent":${parts.length},"rate":{"matched":${round1(client.matchedRate.value)},` +
          `"sent":${round1(client.sentRate.value)}},"sampling":${client.sampling}${frameTimes(client)}}`,
      ),
      TEXT_FRAME,
    );
  }

  /** Closes a client that asks for more than it reads, and frees what was kept for it at once. */
  private closeOverBudget(client: HubClient): void {
    this.overBudget += 1;
    const socket = client.socket;
    this.remove(socket);
    try {
      socket.close(CLOSE_POLICY_VIOLATION, 'too many unread replies');
    } catch {
      // Already gone: nothing more to free.
    }
  }

  private send(socket: HubSocket, frame: string): void {
    this.frames += 1;
    socket.send(frame);
  }

  /** Connected clients. */
  get size(): number {
    return this.clients.size;
  }

  /** Totals over all clients, including those that already left. */
  stats(): HubStats {
    let { matched, sent, sampledOut } = this.gone;
    let pending = 0;
    for (const client of this.clients.values()) {
      matched += client.matched;
      sent += client.sent;
      sampledOut += client.sampledOut;
      pending += client.sample.offered;
    }
    return {
      clients: this.clients.size,
      matched,
      sent,
      sampledOut,
      dropped: sampledOut,
      frames: this.frames,
      pending,
      overBudget: this.overBudget,
    };
  }

  /** The `websocket` part of `/api/stats`: totals and one entry per connected client. */
  view(): WebSocketStatsView {
    const totals = this.stats();
    return {
      clients: totals.clients,
      dropped: totals.dropped,
      matched: totals.matched,
      sent: totals.sent,
      sampledOut: totals.sampledOut,
      perClient: this.clientInfo().map((c) => ({
        id: c.id,
        matched: c.matched,
        sent: c.sent,
        sampledOut: c.sampledOut,
        pending: c.pending,
        sampling: c.sampling,
        matchedPerSecond: c.matchedPerSecond,
        sentPerSecond: c.sentPerSecond,
        rate: c.rate,
      })),
    };
  }

  /** One entry per connected client. */
  clientInfo(): HubClientInfo[] {
    return [...this.clients.values()].map((c) => ({
      id: c.id,
      matched: c.matched,
      sent: c.sent,
      sampledOut: c.sampledOut,
      pending: c.sample.offered,
      pendingRecordBytes: c.sample.heldBytes,
      pendingBytes: c.replyBytes + (c.snapshot?.length ?? 0),
      sampling: c.sampling,
      rate: c.rate,
      maxRate: c.maxRate,
      matchedPerSecond: round1(c.matchedRate.value),
      sentPerSecond: round1(c.sentRate.value),
      paused: c.paused,
      bufferedAmount: c.socket.bufferedAmount,
    }));
  }

  /** Closes every client (shutdown). */
  closeAll(code = 1001, reason = 'ca-sharkd shutting down'): void {
    for (const client of this.clients.values()) {
      try {
        client.socket.close(code, reason);
      } catch {
        // A socket that is already gone needs no goodbye.
      }
    }
  }
}
