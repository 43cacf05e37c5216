/**
 * The page's one connection to the daemon: a WebSocket with reconnect (exponential back-off with
 * jitter), the subscription filter, local pause, and backpressure. Live rows ({@link LiveRecord}) are
 * appended to a fixed-size ring as they arrive (cheap), but listeners are told at most once per
 * `renderIntervalMs`, so the page renders a few times a second whatever the message rate. The counts of
 * the `records` frames (matched, sent, sampling) and their times are kept so the page can say what it is
 * not shown and how far behind it is. Framework-free so it is tested in Node.
 */
import type {
  ClientMessage,
  HistoryMessage,
  LiveRecord,
  RecordJSON,
  RecordsMessage,
  ServerMessage,
  SnapshotMessage,
  SourceInfo,
  SubscribeFilter,
} from './contract.js';
import { compileLiveFilter, FilterError, normalizeFilter } from './filter.js';
import { LatencyTracker } from './latency.js';
import { isFullRecord, liveRecordOf } from './live-record.js';
import { RingBuffer } from './ring.js';

/**
 * Where the newest row of the last records frame spent its time on its way to the page, ms: from capture to
 * the daemon's decoder queue (`capture`: libpcap's delivery and the batching of frames), waiting for and in
 * the decoder (`decoder`), waiting for the daemon's main thread (`main`), in the daemon's per-client sample
 * until the frame was sent (`hub`), and from the daemon's send to the page's data worker (`transit`: the
 * socket and the worker's own queue).
 */
export interface LagStages {
  capture: number;
  decoder: number;
  main: number;
  hub: number;
  transit: number;
}

/**
 * Default least time between two renders (ms). The newest row waits up to this long in the worker before the
 * page draws it and then stays on screen about as long, so it is part of the Live view's lag twice (the
 * page's part was 0.16-0.54 s p50 in the load bench). 150 ms cut that to 0.13-0.19 s for two thirds more
 * renders, each re-rendering the view shown, on a page whose main thread is what the issue's limits are
 * about: not taken (session 8, docs/performance.md).
 */
export const RENDER_INTERVAL_MS = 250;

/** A test of Live rows (the subscription). */
type LivePredicate = (r: LiveRecord) => boolean;

/** Full records kept from a daemon that sends them (before the compact stream) for the detail panel. */
const LEGACY_HELD = 10_000;

/** The subset of the browser WebSocket the client uses (so tests can pass a fake). */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

/** Connection state shown in the status bar. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Timer functions, injectable for tests. */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

/** Options of {@link LiveClient}. */
export interface LiveClientOptions {
  /** WebSocket URL of the daemon's `/ws`. */
  url: string;
  /** Most rows kept for the live table (default 100 000). */
  capacity?: number;
  /** Least time between two notifications of listeners (default {@link RENDER_INTERVAL_MS}: four renders a second). */
  renderIntervalMs?: number;
  /** First reconnect delay (default 500 ms), doubled after each failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Longest reconnect delay (default 10 s). */
  maxBackoffMs?: number;
  /** Random fraction in [0, 1) used to spread reconnects; default Math.random. */
  random?: () => number;
  /** Creates the socket; default `new WebSocket(url)`. */
  createSocket?: (url: string) => SocketLike;
  timers?: Timers;
  /** Points kept for the rate charts (default 6000: over an hour at one a second, or a day of the daemon's history). */
  historyLength?: number;
}

/** What the `records` frames said: the stream's counts, rates and timing. */
export interface StreamStatus {
  /** Records that matched this page's filter at the daemon since the connection opened. */
  matched: number;
  /** Of those, records the daemon sent (the rest were left out of its sample). */
  sent: number;
  /** Smoothed per-second rates of the last frame (matched, sent). */
  matchedRate: number;
  sentRate: number;
  /** The daemon is sending a sample, not everything. */
  sampling: boolean;
  /** Local wall-clock ms when the last records frame arrived (0 before the first). */
  lastFrameAt: number;
  /**
   * How far behind the newest row was when the last frame arrived: the daemon's send time minus the
   * newest row's capture time, in ms (null until a frame with rows came).
   */
  frameLagMs: number | null;
  /** Where the newest row of the last frame with rows was held up (null: unknown, e.g. an older daemon). */
  stages: LagStages | null;
  /**
   * The held records the daemon sent for the current subscription (before live ones): how many matched
   * and were sent so far, and whether all of them arrived (`done`). Null before a subscription asked.
   */
  history: { matched: number; sent: number; sampling: boolean; done: boolean } | null;
}

/** The stream's counts before any frame. */
export function emptyStreamStatus(): StreamStatus {
  return {
    matched: 0,
    sent: 0,
    matchedRate: 0,
    sentRate: 0,
    sampling: false,
    lastFrameAt: 0,
    frameLagMs: null,
    stages: null,
    history: null,
  };
}

/** One point of the rate history, from two successive snapshots. */
export interface RatePoint {
  /** Unix seconds. */
  t: number;
  messagesPerSecond: number;
  searchesPerSecond: number;
}

const WS_OPEN = 1;

/** Timers of the real clock. */
export const defaultTimers: Timers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** Search requests counted in the daemon's per-command statistics. */
const SEARCH_COMMANDS = ['SearchRequest'];

/** The live connection and what it has received. */
export class LiveClient {
  /** Rows of the live table (after the filter), newest first through `ring.newest(i)`. */
  readonly rows: RingBuffer<LiveRecord>;
  /** Counts and timing of the record stream. */
  readonly stream: StreamStatus = emptyStreamStatus();
  /** Local wall-clock ms when the last snapshot arrived (0 before the first). */
  lastSnapshotAt = 0;
  /** Latencies of the responses received. */
  readonly latency = new LatencyTracker();
  /** Rates derived from successive snapshots. */
  readonly rates: RingBuffer<RatePoint>;

  /** Whether the daemon's input ended, when and with how many messages (from its history; null: not known). */
  input: { eof: boolean; endedAt: number | null; messages: number } | null = null;
  state: ConnectionState = 'closed';
  source: SourceInfo | null = null;
  daemonVersion = '';
  snapshot: SnapshotMessage | null = null;
  /** Records the daemon dropped for this page (its queue for us overflowed). */
  serverDropped = 0;
  /** Records received over the connection's lifetime. */
  received = 0;
  /** Records that arrived while paused and were pushed out of the hold buffer before resume. */
  heldDropped = 0;
  /** Reconnect attempts since the last successful open. */
  attempts = 0;
  /** Time of the next reconnect attempt (ms, timers.now clock), when reconnecting. */
  nextAttemptAt = 0;
  lastError = '';
  /**
   * Why the last filter asked for was refused ('' when it was not): the shared filter's FilterError, or
   * the daemon's `error` answer to the subscription. The filter in force then stays the previous one.
   */
  filterError = '';
  /** The caller's number for the last filter asked for, so it can tell which request a refusal is about. */
  filterSeq = 0;

  private paused = false;
  /** Rate points come from the daemon's per-second history (not from snapshots) once it sent some. */
  private daemonRates = false;
  private readonly held: RingBuffer<LiveRecord>;
  /** Full records of a daemon from before the compact stream, by their (negative) local ids. */
  private readonly legacy = new Map<number, RecordJSON>();
  private legacyId = 0;
  private filter: SubscribeFilter = {};
  /** The last filter the daemon confirmed (`subscribed`): what to fall back to when it refuses one. */
  private confirmed: SubscribeFilter = {};
  /** Filters sent and not yet answered, oldest first (the daemon answers subscriptions in order). */
  private unanswered: SubscribeFilter[] = [];
  private predicate: LivePredicate = () => true;
  private socket: SocketLike | null = null;
  private reconnectTimer: unknown = null;
  private renderTimer: unknown = null;
  private lastRender = 0;
  private stopped = true;
  private readonly listeners = new Set<() => void>();
  private readonly opts: Required<Omit<LiveClientOptions, 'createSocket' | 'timers' | 'random'>> & {
    createSocket: (url: string) => SocketLike;
    timers: Timers;
    random: () => number;
  };

  constructor(options: LiveClientOptions) {
    this.opts = {
      capacity: 100_000,
      renderIntervalMs: RENDER_INTERVAL_MS,
      initialBackoffMs: 500,
      maxBackoffMs: 10_000,
      historyLength: 6000,
      random: Math.random,
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      timers: defaultTimers,
      ...options,
    };
    this.rows = new RingBuffer(this.opts.capacity);
    this.held = new RingBuffer(this.opts.capacity);
    this.rates = new RingBuffer(this.opts.historyLength);
  }

  /** Registers a listener called (throttled) after changes; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the connection (and keeps reopening it until {@link stop}). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection and stops reconnecting. */
  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer !== null) this.opts.timers.clearTimeout(this.reconnectTimer);
    if (this.renderTimer !== null) this.opts.timers.clearTimeout(this.renderTimer);
    this.reconnectTimer = null;
    this.renderTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = null;
      s.onmessage = null;
      s.close(1000, 'page closed');
    }
    this.state = 'closed';
    this.emit();
  }

  /** The subscription in force. */
  get currentFilter(): SubscribeFilter {
    return this.filter;
  }

  /**
   * Replaces the subscription: clears the table, tells the daemon, and filters locally too. An invalid
   * filter changes nothing but {@link filterError}; returns whether the filter was taken.
   */
  setFilter(filter: SubscribeFilter, seq = this.filterSeq + 1): boolean {
    this.filterSeq = seq;
    const f = normalizeFilter(filter);
    let predicate: LivePredicate;
    try {
      predicate = compileLiveFilter(f);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      this.filterError = err.message;
      this.scheduleRender(true);
      return false;
    }
    this.filterError = '';
    this.apply(f, predicate);
    return true;
  }

  private apply(f: SubscribeFilter, predicate: LivePredicate): void {
    this.filter = f;
    this.predicate = predicate;
    this.rows.clear();
    this.held.clear();
    this.subscribe();
    this.scheduleRender(true);
  }

  /**
   * Tells the daemon the filter, asking for every record it holds that matches (`since: 0`) before the
   * live ones: the table starts with the past, not empty.
   */
  private subscribe(): void {
    if (this.socket && this.socket.readyState === WS_OPEN) {
      this.unanswered.push(this.filter);
      this.stream.history = { matched: 0, sent: 0, sampling: false, done: false };
      this.send({ type: 'subscribe', filter: this.filter, since: 0 });
    }
  }

  /** The daemon's answer to the oldest unanswered subscription: confirmed, or refused with a message. */
  private answered(refusal: string | null): void {
    const f = this.unanswered.shift();
    if (f === undefined) {
      if (refusal !== null) this.lastError = refusal;
      return;
    }
    if (refusal === null) {
      this.confirmed = f;
      return;
    }
    // Only the filter in force is worth falling back from; a later one is already on its way.
    if (this.unanswered.length > 0 || f !== this.filter) return;
    this.filterError = refusal;
    this.apply(this.confirmed, compileLiveFilter(this.confirmed));
  }

  /** True while the table is frozen. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Number of records waiting for resume. */
  get heldCount(): number {
    return this.held.size;
  }

  /** Freezes the table; records keep arriving into a bounded hold buffer. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.scheduleRender(true);
  }

  /** Unfreezes the table and appends what arrived meanwhile. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const backlog = this.held.sliceNewest(0, this.held.size).reverse();
    this.held.clear();
    this.rows.pushAll(backlog);
    this.scheduleRender(true);
  }

  /** Toggles pause. */
  togglePause(): void {
    if (this.paused) this.resume();
    else this.pause();
  }

  /** Forgets the rows and latencies received so far. */
  clear(): void {
    this.rows.clear();
    this.held.clear();
    this.latency.clear();
    this.scheduleRender(true);
  }

  private send(msg: ClientMessage): void {
    if (this.socket && this.socket.readyState === WS_OPEN) this.socket.send(JSON.stringify(msg));
  }

  private connect(): void {
    this.reconnectTimer = null;
    this.state = this.attempts === 0 ? 'connecting' : 'reconnecting';
    let socket: SocketLike;
    try {
      socket = this.opts.createSocket(this.opts.url);
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.state = 'open';
      this.attempts = 0;
      this.lastError = '';
      // The daemon starts every connection with "everything": restate our filter. Its history of the filter
      // comes again, so what the table held is dropped rather than shown twice.
      this.unanswered = [];
      this.rows.clear();
      this.held.clear();
      this.latency.clear();
      this.subscribe();
      this.scheduleRender(true);
    };
    socket.onmessage = (ev) => {
      if (typeof ev.data === 'string') this.handleText(ev.data);
    };
    socket.onerror = () => {
      this.lastError = 'connection error';
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.stopped) return;
      this.scheduleReconnect();
    };
    this.emit();
  }

  /** Delay before reconnect attempt number `attempt` (1-based), with up to 20 % jitter. */
  backoffDelay(attempt: number): number {
    const base = Math.min(this.opts.maxBackoffMs, this.opts.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(base * (1 + 0.2 * this.opts.random()));
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer !== null) return;
    this.attempts++;
    this.state = 'reconnecting';
    const delay = this.backoffDelay(this.attempts);
    this.nextAttemptAt = this.opts.timers.now() + delay;
    this.reconnectTimer = this.opts.timers.setTimeout(() => this.connect(), delay);
    this.scheduleRender(true);
  }

  /** Handles one text frame from the daemon; malformed frames are ignored and counted as an error. */
  handleText(text: string): void {
    let msg: ServerMessage;
    try {
      msg = JSON.parse(text) as ServerMessage;
    } catch {
      this.lastError = 'unreadable frame from the daemon';
      return;
    }
    this.handleMessage(msg);
  }

  /** Handles one decoded message from the daemon. */
  handleMessage(msg: ServerMessage): void {
    switch (msg?.type) {
      case 'hello':
        this.daemonVersion = msg.version;
        this.source = msg.source ?? null;
        this.scheduleRender(true);
        break;
      case 'records':
        if (Array.isArray(msg.records)) this.addRecords(msg);
        break;
      case 'snapshot':
        this.addSnapshot(msg);
        break;
      case 'subscribed':
        this.answered(null);
        break;
      case 'history':
        this.historyDone(msg);
        break;
      case 'error':
        this.answered(typeof msg.message === 'string' ? msg.message : 'the daemon refused the request');
        this.scheduleRender(true);
        break;
      case 'dropped':
        if (typeof msg.count === 'number') this.serverDropped += msg.count;
        this.scheduleRender(false);
        break;
      default:
        break;
    }
  }

  private historyDone(msg: HistoryMessage): void {
    const h = this.stream.history;
    if (h === null) return;
    h.matched = typeof msg.matched === 'number' ? msg.matched : h.matched;
    h.sent = typeof msg.sent === 'number' ? msg.sent : h.sent;
    h.sampling = msg.sampling === true;
    h.done = true;
    this.scheduleRender(true);
  }

  /**
   * Rate points from the daemon's per-second history (capture time, every record counted): from then on
   * the rate chart follows them instead of differences of snapshots. Points not newer than the newest held
   * are skipped, so overlapping answers add nothing twice.
   */
  addRateHistory(points: readonly RatePoint[]): void {
    if (!this.daemonRates) {
      this.daemonRates = true;
      this.rates.clear();
    }
    for (const p of points) {
      const newest = this.rates.newest(0);
      if (newest === undefined || p.t > newest.t) this.rates.push(p);
    }
    this.scheduleRender(false);
  }

  private addRecords(msg: RecordsMessage): void {
    const target = this.paused ? this.held : this.rows;
    let newest: number | null = null;
    let items = 0;
    for (const item of msg.records) {
      if (!item || typeof item !== 'object') continue;
      const r = isFullRecord(item) ? this.fromFullRecord(item) : item;
      if (typeof r.cmd !== 'string' || typeof r.t !== 'number') continue;
      items++;
      this.received++;
      newest = r.t;
      this.latency.add(r);
      if (!this.predicate(r)) continue;
      if (this.paused && this.held.size === this.held.capacity) this.heldDropped++;
      target.push(r);
    }
    const st = this.stream;
    if (msg.history === true) {
      // Past records: they say nothing of the live stream's rate or lag.
      if (st.history !== null) {
        st.history.matched += typeof msg.matched === 'number' ? msg.matched : items;
        st.history.sent += items;
      }
      this.scheduleRender(false);
      return;
    }
    const now = this.opts.timers.now();
    st.matched += typeof msg.matched === 'number' ? msg.matched : items;
    st.sent += typeof msg.sent === 'number' ? msg.sent : items;
    if (msg.rate && typeof msg.rate.matched === 'number' && typeof msg.rate.sent === 'number') {
      st.matchedRate = msg.rate.matched;
      st.sentRate = msg.rate.sent;
    }
    st.sampling = msg.sampling === true;
    st.lastFrameAt = now;
    // Without the daemon's send time (an older daemon) the page's own clock stands in for it.
    if (newest !== null) {
      const sentAt = typeof msg.time === 'number' ? msg.time : now / 1000;
      st.frameLagMs = Math.max(0, (sentAt - newest) * 1000);
      st.stages = lagStages(msg, newest, now);
    } else if (msg.matched === 0) st.frameLagMs = 0;
    this.scheduleRender(false);
  }

  /** A daemon from before the compact stream sent a full record: keep it for the detail, show its row. */
  private fromFullRecord(r: RecordJSON): LiveRecord {
    const id = --this.legacyId;
    this.legacy.set(id, r);
    if (this.legacy.size > LEGACY_HELD) this.legacy.delete(id + LEGACY_HELD);
    return liveRecordOf(r, id);
  }

  /** The full record of a row from a daemon that streamed full records (negative ids), if still kept. */
  legacyRecord(id: number): RecordJSON | undefined {
    return this.legacy.get(id);
  }

  private addSnapshot(snap: SnapshotMessage): void {
    const prev = this.snapshot;
    this.snapshot = snap;
    this.lastSnapshotAt = this.opts.timers.now();
    const stats = snap.stats ?? {};
    // A rate needs two snapshots; the first one only sets the baseline.
    if (
      !this.daemonRates &&
      prev &&
      typeof prev.time === 'number' &&
      typeof snap.time === 'number' &&
      snap.time > prev.time
    ) {
      const dt = timeSeconds(snap.time) - timeSeconds(prev.time);
      const now = countOf(stats.perCommand, SEARCH_COMMANDS);
      const before = countOf(prev.stats?.perCommand, SEARCH_COMMANDS);
      if (dt > 0) {
        this.rates.push({
          t: timeSeconds(snap.time),
          messagesPerSecond: typeof stats.messagesPerSecond === 'number' ? stats.messagesPerSecond : 0,
          // A daemon restart resets its counters: count from zero then.
          searchesPerSecond: (now >= before ? now - before : now) / dt,
        });
      }
    }
    this.scheduleRender(false);
  }

  /** Notifies listeners now (`urgent`) or at the next render slot. */
  private scheduleRender(urgent: boolean): void {
    if (this.renderTimer !== null) return;
    const now = this.opts.timers.now();
    const wait = urgent ? 0 : Math.max(0, this.lastRender + this.opts.renderIntervalMs - now);
    if (wait === 0 && urgent) {
      this.emit();
      return;
    }
    this.renderTimer = this.opts.timers.setTimeout(() => {
      this.renderTimer = null;
      this.emit();
    }, wait);
  }

  private emit(): void {
    this.lastRender = this.opts.timers.now();
    for (const l of this.listeners) l();
  }
}

/**
 * The stages of a frame's newest record (capture time `newest`, Unix s), received at local `now` (ms); null
 * when the daemon did not say when it posted and published it. Stages are rounded to whole ms and never
 * negative (the daemon's and the page's clocks are the same one only when both run on one machine).
 */
export function lagStages(msg: RecordsMessage, newest: number, now: number): LagStages | null {
  const { postedAt, decodedAt, publishedAt, time } = msg;
  if (
    typeof postedAt !== 'number' ||
    typeof decodedAt !== 'number' ||
    typeof publishedAt !== 'number' ||
    typeof time !== 'number'
  )
    return null;
  const ms = (later: number, earlier: number): number => Math.max(0, Math.round((later - earlier) * 1000));
  return {
    capture: ms(postedAt, newest),
    decoder: ms(decodedAt, postedAt),
    main: ms(publishedAt, decodedAt),
    hub: ms(time, publishedAt),
    transit: ms(now / 1000, time),
  };
}

/** Snapshot times may be Unix seconds or milliseconds; charts use seconds. */
function timeSeconds(t: number): number {
  return t > 1e11 ? t / 1000 : t;
}

function countOf(perCommand: Record<string, number> | undefined, names: readonly string[]): number {
  if (!perCommand) return 0;
  let n = 0;
  for (const k of names) n += typeof perCommand[k] === 'number' ? perCommand[k] : 0;
  return n;
}

/** The `/ws` URL next to the page, carrying the page's `?token=` along if it has one. */
export function defaultSocketUrl(loc: { protocol: string; host: string; search: string; pathname: string }): string {
  const scheme = loc.protocol === 'https:' ? 'wss' : 'ws';
  const token = new URLSearchParams(loc.search).get('token');
  // The page may be served under a path prefix (reverse proxy); /ws sits beside index.html.
  const base = loc.pathname.replace(/[^/]*$/, '');
  return `${scheme}://${loc.host}${base}ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
