import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { resolveSections } from '@ca-shark/analysis';
import type { DecoderOptions } from '@ca-shark/decoder';
import { inputErrorLine } from '@ca-shark/packet';
import type { Logger } from 'pino';
import type { AlertNotice } from './alerts/alerts.js';
import type { AlertsConfig } from './alerts/config.js';
import type { AlertInput } from './alerts/book.js';
import { type WireRecord, wireRecordId } from './engine.js';
import { DecoderBacklog } from './decoder-backlog.js';
import { DaemonError } from './errors.js';
import { DEFAULT_FLUSH_BYTES, FramePacker } from './frame-batch.js';
import type { Hub } from './hub.js';
import type { DaemonModel, ReportOptions, TableName, TableText, ViewText } from './model.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import type { RecordRingOptions } from './record-ring.js';
import type { SeriesRequest } from './series.js';
import type { HistoryRequest } from './history.js';
import type { HistoryOptions } from './history-ring.js';
import { SpoolWriter } from './history-spool.js';
import { SLOW_SPOOL_WRITE_MS } from './spool-file.js';
import type { HistoryQuery } from './series-history.js';
import { SharedResults } from './shared-results.js';
import type { PcapRequest } from './pcap-export.js';
import { PcapStreams } from './pcap-route.js';
import { type Source, type SourceProblem, type SourceSink, inputLabel, isPullSource } from './sources/types.js';
import { type HealthView, type SourceView, type StatsView, emptySnapshot } from './views.js';
import type { SpoolStatus } from './sources/spool.js';
import type { PublishedViews } from './views-publisher.js';
import type { FromWorker, Query, ToWorker } from './worker-protocol.js';
import type { NatsRole } from './nats/worker-side.js';

/** Options of a {@link RemoteEngine}. */
export interface RemoteEngineOptions {
  source: Source;
  /** Its subscriptions are matched in the worker; it gets each batch with the worker's matches. */
  hub: Hub<WireRecord, SubscriptionFilter>;
  logger: Logger;
  logLevel: string;
  decoder: DecoderOptions;
  /** Frames are handed to the worker at least this often (ms). */
  batchMs?: number;
  /** Queries the worker must answer within this many ms. */
  queryTimeoutMs?: number;
  /**
   * Live capture: frame bytes handed to the worker and not yet decoded, beyond which new batches are
   * dropped (and counted, logged and alerted) instead of queueing without bound. Default 64 MiB.
   */
  maxInFlightBytes?: number;
  /**
   * Live capture: a batch the worker would get to more than this many ms after it was posted, predicted
   * from the bytes in flight and the rate the worker has been decoding at, is dropped the same way; so is
   * every batch while the oldest one in flight waited 1.5 times this (a stalled worker; decoder-backlog.ts'
   * STALL_FACTOR), and the worker drops unread a batch that waited that long. Once a batch was shed, the
   * backlog is held to {@link HOLD_LAG_SHARE} of this until the worker keeps up again. Decoding never runs
   * much more than this far behind capture, the Live view stays within 2 s of the wire (about 1.2 s while
   * shedding), and only what the worker could not have caught up with is shed (issue 12). Default
   * {@link DEFAULT_MAX_DECODER_LAG_MS}.
   */
  maxDecoderLagMs?: number;
  /**
   * Live capture: once a batch was shed, the backlog is held to this bound (ms, at most `maxDecoderLagMs`)
   * until the worker has kept up for 3 s (decoder-backlog.ts); Infinity: no hold, one bound. Default
   * {@link HOLD_LAG_SHARE} of `maxDecoderLagMs`.
   */
  holdDecoderLagMs?: number;
  /**
   * Live capture: the lag bound drops frames only while at least this many frame bytes are in flight
   * (default {@link DEFAULT_MIN_LAG_DROP_BYTES}). A smaller backlog is decoded in moments once the worker
   * runs again, so a worker held up by a loaded machine at a low packet rate loses nothing.
   */
  minLagDropBytes?: number;
  /** Bounds of the ring of streamed records kept for `GET /api/record/:id` (default DEFAULT_RECORD_RING). */
  recordRing?: Partial<RecordRingOptions>;
  /** Bounds of the held records (`--history`; default DEFAULT_HISTORY). */
  history?: HistoryOptions;
  /** Bytes of the raw packet ring behind `/api/pcap` (0: none; default 256 MiB). */
  packetRing?: number;
  /** Snapshot length of live capture (named in exported interface descriptions). */
  snaplen?: number;
  /**
   * Nice value the decoding worker thread takes at start (thread-nice.ts; Linux), leaving this thread's
   * alone. Default 0: it runs as the daemon (`ca-sharkd` itself defaults to DEFAULT_DECODER_NICE).
   */
  decoderNice?: number;
  /**
   * Warm the worker's record path up with a generated capture (worker-warmup.ts): shortly after it reports
   * ready, a pass per turn of its event loop until the first frames arrive, about half a second of CPU in
   * all, so that a live flood's first seconds are not decoded cold. Default false (`ca-sharkd` warms live
   * capture and --demo up).
   */
  warmUp?: boolean;
  /**
   * File and stdin: frame bytes handed to the worker and not yet decoded beyond which the source is paused
   * (see {@link SourceSink.waitForRoom}) until the worker catches up. Nothing is dropped. Default
   * {@link DEFAULT_PULL_WINDOW_BYTES}.
   */
  pullWindowBytes?: number;
  /** Alert thresholds and severities (default DEFAULT_ALERTS_CONFIG). */
  alerts?: AlertsConfig;
  /** Called on the main thread for every alert group that opens or comes back (the webhook). */
  onAlert?: (notice: AlertNotice) => void;
  /** The daemon's NATS role: a sensor gets record batches to publish, a central replays them (see nats/). */
  nats?: NatsRole;
  /** Sensor: receives every record batch the worker finished (nats/codec.ts), in order. */
  onBatch?: (bytes: Uint8Array, records: number) => void;
  /**
   * File and stdin: what comes after the decoder must have room too (a sensor's publish buffer), else the
   * source waits on this as on the decoder. Undefined while there is room.
   */
  downstreamRoom?: () => Promise<void> | undefined;
}

/**
 * Default bound of the decoder's backlog in live capture (ms): a batch the worker would reach later than
 * this after it was captured, at the rate it has been decoding, is dropped (counted as a decoder drop; see
 * decoder-backlog.ts). One second of backlog, plus the decoding of the last batch and the page's own tick,
 * keeps Live under 2 s.
 */
export const DEFAULT_MAX_DECODER_LAG_MS = 1000;

/**
 * Once the decoder was short of the offered rate (a batch shed), its backlog is held to this share of
 * `--max-lag` until it keeps up again (see decoder-backlog.ts): 0.4 s by default, so a worker that cannot keep
 * up decodes what it can about 0.4-0.6 s behind the wire and the Live view stays within about 1.2 s.
 */
export const HOLD_LAG_SHARE = 0.4;

/** Default of {@link RemoteEngineOptions.minLagDropBytes}: 4 MiB, about 0.13 s of traffic at 250 Mbit/s. */
export const DEFAULT_MIN_LAG_DROP_BYTES = 4 * 1024 * 1024;
/**
 * File and stdin: the default of {@link RemoteEngineOptions.pullWindowBytes}. 4 MiB is four batches, about
 * 0.2 s of the worker's decoding on the bench's realistic capture, so it always has the next one queued
 * while it decodes; each batch in flight is a buffer of about 1 MiB of touched pages on the capture thread
 * (and for stdin, a packet-ring block allocated ahead): 8 MiB held 4-10 MB more peak RSS for no CPU seen.
 */
export const DEFAULT_PULL_WINDOW_BYTES = 4 * 1024 * 1024;

/** Distinct input errors kept for the exit message (a corrupt file can repeat one per frame). */
const MAX_FAILURES = 20;
/** How long one analysis report answers every `/api/report` request (ms). */
const REPORT_MAX_AGE_MS = 1000;
/** How long after that a report is still served at once while the worker computes a new one (ms). */
const REPORT_STALE_MS = 30_000;

const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
/**
 * The decoding worker's young generation, MB (V8 makes it three semi-spaces' worth: two of 4 MB and their
 * large-object room). V8 grows a busy isolate's semi-spaces to 16 MB each, 32 MB of pages the worker then
 * keeps for good: 25-30 MB of the daemon's peak RSS on the bench's 100 MB capture (196 → 172 MB with `-r`).
 * Semi-spaces of 8 MB (24 here, sessions 13-15) kept 8 MB more than these: the worker's young objects are
 * mostly a batch's records and their decoded values, dead by the next scavenge at either size (held records
 * are columns, not objects). The 100 MB capture's peak fell by 8-12 MB; on the 1 GB one, twice the
 * scavenges took about the same time and promoted a little more (its old generation ends about as much
 * larger as the young one is smaller), so that peak is no higher (docs/performance.md, "Session 16: the
 * daemon's peak RSS").
 */
const WORKER_YOUNG_GENERATION_MB = 12;
/**
 * How far V8 lets an isolate's old generation grow past what its last full collection kept, percent (V8's
 * `--heap-growing-percent`; a flag of the whole process, so the main thread's small heap gets it too). V8's
 * own factor goes up to 4x while collections are cheap, and they are in the worker, whose lasting objects
 * are few (held records are columns): on the bench's 1 GB capture its old generation went from 14 MB kept
 * to 58 MB before the next collection, and to 86 MB of pages, with nothing held. At 100 % (twice what was
 * kept) the daemon's peak RSS on that file fell by 45-60 MB (docs/performance.md, "Session 13: the daemon's
 * memory"). At 30 % it falls by 5-10 MB more on that file, where what the worker keeps grows over the whole
 * run (22-25 MB after its last collection, against 12.5 MB on the 100 MB capture): the worker made 11 full
 * collections instead of 6, 0.14-0.18 s more of its ~16 s of CPU by `--trace-gc` (session 13 measured 6-12 %
 * of CPU for 30 %, when held records were objects on the heap; docs/performance.md, "Session 20: the
 * daemon's peak RSS flat to 1 GB").
 */
const HEAP_GROWING_PERCENT = 30;
/**
 * V8's name for it on node's command line (V8 takes `_` for `-` in flag names; node refuses V8 flags like
 * this one in NODE_OPTIONS).
 */
const HEAP_GROWING_FLAG = /(?:^|\s)--heap[-_]growing[-_]percent(?:[=\s]|$)/;

/**
 * Sets V8's `--heap-growing-percent` to {@link HEAP_GROWING_PERCENT}, unless node was started with one of
 * its own. The flag is the whole process's: it also applies to the main thread and, when the daemon is
 * embedded (startDaemon) or tested, to the host's isolates, so a value given on purpose stands
 * (`node --heap-growing-percent=0` keeps V8's own factor). Returns whether it set it.
 */
export function setHeapGrowingPercent(
  execArgv: readonly string[] = process.execArgv,
  set: (flags: string) => void = setFlagsFromString,
): boolean {
  if (HEAP_GROWING_FLAG.test(execArgv.join(' '))) return false;
  set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}

/** `stats.spool` when stdin is spooled. */
function spoolStats(spool: SpoolStatus | undefined): { spool?: SpoolStatus } {
  return spool !== undefined ? { spool } : {};
}

/**
 * The main thread's side of the decoding worker: a {@link SourceSink} that packs frames into batches for
 * the worker, and a {@link DaemonModel} that answers at once from the main thread whatever the decoder is
 * doing: health and stats from its own counters, the snapshot and the tables from the latest copies the worker
 * published (see views-publisher.ts). Only the analysis report is asked for, shared and cached.
 */
export class RemoteEngine implements DaemonModel, SourceSink {
  private readonly worker: Worker;
  private readonly input: Source;
  private readonly hub: Hub<WireRecord, SubscriptionFilter>;
  private readonly log: Logger;
  private readonly packer: FramePacker;
  private readonly batchTimer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private readonly queryTimeoutMs: number;
  private latest: StatsView | undefined;
  private ended = false;
  private endSent = false;
  private linktype: number | undefined;
  private problems = 0;
  private nextQuery = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly endWaiters: (() => void)[] = [];
  private readonly listeners: ((record: WireRecord) => void)[] = [];
  private exited = false;
  /** File and stdin are paused, never dropped (see {@link RemoteEngineOptions.pullWindowBytes}). */
  private readonly pull: boolean;
  private readonly pullWindow: number;
  private roomWaiters: (() => void)[] = [];
  private readonly failures: DaemonError[] = [];
  private decoderDropped = 0;
  private ringBlocks = 0;
  private reportedDropped = 0;
  /** Batches posted and not yet decoded: the decoder's lag, its drain rate and the live shedding rule. */
  private readonly backlog: DecoderBacklog;
  /**
   * The stall bound in force (ms; 0: none), the kept bytes (see DecoderBacklog.keepBytes) and whether the
   * backlog is held, shared with the worker, which drops unread what waited longer unless no more than those
   * bytes were in flight, and keeps the record streams thinned while the backlog is held.
   */
  private readonly stallBounds = new Int32Array(new SharedArrayBuffer(12));
  /** The report is the costliest answer: computed at most once a second, whoever asks. */
  private readonly reports = new SharedResults(REPORT_MAX_AGE_MS, 64, Date.now, REPORT_STALE_MS);
  /** The latest snapshot the worker published (JSON text; see {@link RemoteEngine.snapshotText}). */
  private snapshot: PublishedViews['snapshot'] | undefined;
  /** The latest table texts the worker published. */
  private readonly tables = new Map<TableName, TableText>();
  /** Worker time the last publication of views took (ms). */
  private lastViewsCostMs = 0;
  /** pcap exports in progress (`/api/pcap`). */
  private readonly pcapStreams = new PcapStreams(
    (id, request) => this.post({ type: 'pcap', id, request }),
    (id) => this.post({ type: 'pcap-pull', id }),
    (id) => this.post({ type: 'pcap-cancel', id }),
  );
  /** Why `GET /api/pcap` has nothing to give, or undefined when the worker keeps packets. */
  readonly noPackets: string | undefined;
  private readonly onAlert: ((notice: AlertNotice) => void) | undefined;
  private readonly onBatch: ((bytes: Uint8Array, records: number) => void) | undefined;
  private readonly downstreamRoom: (() => Promise<void> | undefined) | undefined;
  /** Central: replayed batches waiting for the worker's word. */
  private readonly replays = new Map<number, { resolve: (records: number) => void; reject: (e: Error) => void }>();
  private nextReplay = 1;
  private readyResolve!: () => void;
  private readonly readyPromise = new Promise<void>((resolve) => (this.readyResolve = resolve));

  constructor(options: RemoteEngineOptions) {
    this.input = options.source;
    this.hub = options.hub;
    this.log = options.logger;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 5000;
    const maxLagMs = options.maxDecoderLagMs ?? DEFAULT_MAX_DECODER_LAG_MS;
    const minLagDropBytes = options.minLagDropBytes ?? DEFAULT_MIN_LAG_DROP_BYTES;
    const holdLagMs = options.holdDecoderLagMs ?? maxLagMs * HOLD_LAG_SHARE;
    this.backlog = new DecoderBacklog({
      maxLagMs,
      ...(Number.isFinite(holdLagMs) ? { holdLagMs } : {}),
      minDropBytes: minLagDropBytes,
      maxBytes: options.maxInFlightBytes ?? 64 * 1024 * 1024,
    });
    this.pull = isPullSource(this.input.description);
    if (!this.pull) this.shareStallBound();
    this.pullWindow = options.pullWindowBytes ?? DEFAULT_PULL_WINDOW_BYTES;
    this.onAlert = options.onAlert;
    this.onBatch = options.onBatch;
    this.downstreamRoom = options.downstreamRoom;
    const entry = RUNNING_FROM_SOURCE
      ? new URL('./engine-worker-boot.mjs', import.meta.url)
      : new URL('./engine-worker.js', import.meta.url);
    // Read by V8 at every collection: set before the worker's isolate exists, and for the main thread's.
    setHeapGrowingPercent();
    this.worker = new Worker(entry, {
      execArgv: RUNNING_FROM_SOURCE ? ['--conditions=source'] : [],
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
    });
    this.worker.on('message', (m: FromWorker) => this.onMessage(m));
    this.worker.on('error', (err) =>
      this.log.error(
        { err: err.message, stack: err.stack },
        'decoding worker failed: the daemon keeps serving but decodes nothing more',
      ),
    );
    this.worker.on('exit', (code) => {
      this.exited = true;
      // Its history spool's descriptor closed with it: no queued write may go to that number.
      this.spoolWriter.cancel();
      // Nothing will be decoded any more: a paused source must not wait for ever.
      this.releaseRoom();
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`decoding worker exited (${code})`));
      }
      this.pending.clear();
      this.pcapStreams.failAll(`decoding worker exited (${code})`);
      for (const [, r] of this.replays) r.reject(new Error(`decoding worker exited (${code})`));
      this.replays.clear();
    });
    this.post({
      type: 'init',
      decoder: options.decoder,
      logLevel: options.logLevel,
      tty: process.stderr.isTTY === true,
      description: this.input.description,
      ...(options.recordRing !== undefined ? { recordRing: options.recordRing } : {}),
      ...(options.history !== undefined ? { history: options.history } : {}),
      ...(options.packetRing !== undefined ? { packetRing: options.packetRing } : {}),
      ...(options.snaplen !== undefined ? { snaplen: options.snaplen } : {}),
      ...(options.decoderNice !== undefined ? { decoderNice: options.decoderNice } : {}),
      ...(options.warmUp === true ? { warmUp: true } : {}),
      // What can be in flight beyond the window: the batch that crossed it, and the one being packed.
      ...(this.pull ? { ringAheadBytes: this.pullWindow + 2 * DEFAULT_FLUSH_BYTES } : {}),
      ...(this.input.spool !== undefined ? { spool: this.input.spool } : {}),
      // The worker sheds only what a stall left waiting (the shared cells say how long that is now); the
      // prediction is made here, where batches are posted.
      stallBounds: this.stallBounds.buffer as SharedArrayBuffer,
      ...(options.alerts !== undefined ? { alerts: options.alerts } : {}),
      ...(options.nats !== undefined ? { nats: options.nats } : {}),
    });
    this.noPackets =
      options.nats === 'central'
        ? "a central holds no packets (its sensors send decoded messages): download them from a sensor's dashboard"
        : options.packetRing === 0
          ? 'this daemon keeps no packets (started with --packet-ring 0)'
          : undefined;
    // Messages reach the worker in order: a subscription applies to every batch posted after it.
    this.hub.attach({
      add: (id, filter) => this.post({ type: 'subscribe', id, filter }),
      remove: (id) => this.post({ type: 'unsubscribe', id }),
    });
    this.packer = new FramePacker((buffer, length, frames) => {
      const postedAt = Date.now();
      const backlog = this.backlog.inFlight + length;
      // Live capture cannot wait: a batch the worker would not reach in time is dropped (it still decodes
      // what it has, so the stream goes on with fresh frames within the bound).
      if (!this.pull) {
        const shed = this.backlog.admit(length, postedAt);
        // The bounds in force may have changed with this batch: the worker applies them to every batch waiting.
        this.shareStallBound();
        if (shed !== undefined) {
          this.decoderDropped += frames;
          this.packer.recycle(buffer);
          return;
        }
      }
      this.backlog.post(length, postedAt);
      // A client that connected since the last timer tick must not miss the records of these frames.
      this.updateDemand();
      this.post({ type: 'frames', buffer, length, frames, postedAt, backlog }, [buffer]);
    });
    this.batchTimer = setInterval(() => {
      this.updateDemand();
      // A file or stdin whose worker still has batches to decode gets nothing sooner from a partial batch:
      // it is flushed once full (or at the end, or once the worker has caught up). Flushed every 10 ms
      // regardless, `-r --speed max` sent batches of any size, each in a buffer of its own: 26 batch
      // buffers were in flight at once instead of the window's few, their pages faulted in for nothing.
      if (!this.pull || this.backlog.inFlight === 0) this.packer.flush();
    }, options.batchMs ?? 10);
    this.batchTimer.unref();
  }

  /** Tells the worker the stall bound and kept bytes in force (see {@link stallBounds}). */
  private shareStallBound(): void {
    const stall = this.backlog.stallMs;
    Atomics.store(this.stallBounds, 0, Number.isFinite(stall) ? Math.max(1, Math.round(stall)) : 0);
    Atomics.store(this.stallBounds, 1, this.backlog.keepBytes);
    Atomics.store(this.stallBounds, 2, this.backlog.held ? 1 : 0);
  }

  /** Wall clock (Unix s) when the worker had decoded the whole input, null while it has not. */
  private endedAt: number | null = null;
  /** Writes the history spool's chunks for the worker (history-spool.ts). */
  private readonly spoolWriter = new SpoolWriter();
  /** The demand last told to the worker (its JSON text). */
  private demand = '';

  /**
   * Tells the worker how many records per second each stream is read at most (see Hub.demand): it samples
   * down to that before serialising. A record listener takes every record.
   */
  private updateDemand(): void {
    const demand = this.hub.demand();
    const everything = this.listeners.length > 0 ? Infinity : demand.everything;
    const subscriptions = [...demand.subscriptions];
    const key = JSON.stringify([everything === Infinity ? 'all' : everything, subscriptions]);
    if (key === this.demand) return;
    this.demand = key;
    this.post({ type: 'demand', everything, subscriptions });
  }

  private post(message: ToWorker, transfer: ArrayBuffer[] = []): void {
    if (!this.exited) this.worker.postMessage(message, transfer);
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'records':
        this.hub.publish(m.items, m.matches, m.matched, m.postedAt, m.decodedAt);
        for (const l of this.listeners) for (const item of m.items) l(item);
        break;
      case 'decoded':
        this.backlog.decoded(m.batchBytes, Date.now(), m.dropped > 0);
        this.decoderDropped += m.dropped;
        if (this.roomWaiters.length > 0 && this.hasRoom()) this.releaseRoom();
        break;
      case 'free':
        this.packer.recycle(m.buffer);
        break;
      case 'spool-write':
        // Written here, where the event loop is not held by decoding: the worker sees the end at once.
        this.spoolWriter.write(m);
        break;
      case 'ring-blocks':
        this.prefaultRingBlocks(m.count, m.bytes);
        break;
      case 'stats':
        this.readyResolve();
        this.latest = m.stats;
        if (m.linktype !== undefined) this.linktype = m.linktype;
        if (m.eof && !this.ended) {
          this.ended = true;
          this.endedAt = Date.now() / 1000;
          for (const w of this.endWaiters.splice(0)) w();
        }
        break;
      case 'views':
        this.snapshot = m.snapshot;
        for (const [name, view] of Object.entries(m.tables) as [TableName, TableText | { time: number }][]) {
          const held = this.tables.get(name);
          if ('text' in view) this.tables.set(name, view);
          else if (held !== undefined) this.tables.set(name, { text: held.text, time: view.time });
        }
        this.lastViewsCostMs = m.costMs;
        break;
      case 'history-start':
        this.hub.historyStarted(m.request);
        break;
      case 'history':
        this.hub.historyResult(m.result);
        break;
      case 'pcap-chunk':
        this.pcapStreams.chunk(m);
        break;
      case 'alerts':
        for (const notice of m.notices) this.onAlert?.(notice);
        break;
      case 'batch':
        this.onBatch?.(new Uint8Array(m.buffer), m.records);
        break;
      case 'replayed': {
        const r = this.replays.get(m.token);
        if (r === undefined) return;
        this.replays.delete(m.token);
        if (m.error !== undefined) r.reject(new Error(m.error));
        else r.resolve(m.records);
        break;
      }
      case 'reply': {
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.error !== undefined) p.reject(new Error(m.error));
        else p.resolve(m.value);
        break;
      }
    }
  }

  /**
   * Allocates `count` blocks of `bytes` for the worker's packet ring and writes each once, so their pages
   * are faulted in here, not on the decoder's thread (fresh memory costs about 3.5 ms of CPU per MiB on the
   * benchmark machine: a third of a 256 MiB ring's cost per message while it fills). One block a turn of
   * the event loop, so capture and HTTP are held up a few ms at most.
   */
  private prefaultRingBlocks(count: number, bytes: number): void {
    if (count <= 0 || this.exited) return;
    setImmediate(() => {
      if (this.exited) return;
      const buffer = new ArrayBuffer(bytes);
      // Writing touches every page: the kernel maps them now.
      new Uint8Array(buffer).fill(0);
      this.post({ type: 'ring-block', buffer }, [buffer]);
      this.ringBlocks += 1;
      this.prefaultRingBlocks(count - 1, bytes);
    });
  }

  private query<T>(what: Query, sections?: string[], report?: ReportOptions): Promise<T> {
    return this.ask(what, (id) => ({
      type: 'query',
      id,
      what,
      ...(sections !== undefined ? { sections } : {}),
      ...(report !== undefined ? { report } : {}),
    }));
  }

  /** Posts the message `make` builds for a new request id and resolves with the worker's `reply`. */
  private ask<T>(label: string, make: (id: number) => ToWorker): Promise<T> {
    const id = this.nextQuery++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`decoder did not answer "${label}" within ${this.queryTimeoutMs} ms`));
      }, this.queryTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.post(make(id));
    });
  }

  /**
   * The pcapng chunks of the packets of the held messages matching `request` (`GET /api/pcap`), or
   * undefined when the daemon keeps no packets.
   */
  pcap(request: PcapRequest): AsyncIterable<Uint8Array> | undefined {
    return this.noPackets === undefined ? this.pcapStreams.open(request) : undefined;
  }

  /**
   * Central: replays one sensor's record batch (its bytes are transferred); resolves with its record count
   * once every record is in the engine's state and on its way to clients, rejects when it is unreadable.
   * `reset`: the sensor restarted, forget its circuits first.
   */
  replay(sensor: string, bytes: Uint8Array, reset = false): Promise<number> {
    const token = this.nextReplay++;
    const buffer =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? (bytes.buffer as ArrayBuffer)
        : // A copy: `slice` of a Node Buffer (what the NATS client hands over) would share its pool.
          (new Uint8Array(bytes).buffer as ArrayBuffer);
    this.updateDemand();
    return new Promise<number>((resolve, reject) => {
      if (this.exited) {
        reject(new Error('decoding worker exited'));
        return;
      }
      this.replays.set(token, { resolve, reject });
      this.post({ type: 'replay', sensor, buffer, token, reset }, [buffer]);
    });
  }

  /** Central: raises an alert about a sensor in the engine's alerts. */
  alert(alert: AlertInput): void {
    this.post({ type: 'alert', alert });
  }

  /** Resolves once the worker has loaded and its decoder takes frames. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Calls `listener` with the JSON text of every record (tests, benchmarks). */
  onRecord(listener: (record: WireRecord) => void): void {
    this.listeners.push(listener);
    this.updateDemand();
  }

  /** True once the source ended and the worker decoded everything before the end. */
  get eof(): boolean {
    return this.ended;
  }

  /** Resolves once the input ended and every record of it was published. */
  whenEnded(): Promise<void> {
    return this.ended ? Promise.resolve() : new Promise((resolve) => this.endWaiters.push(resolve));
  }

  /**
   * Why the input (file or stdin) was unreadable, one error per distinct message in the order seen, worded
   * like `ca-shark`'s errors about the same input; empty for a clean input and for live capture.
   */
  get inputFailures(): readonly DaemonError[] {
    return this.failures;
  }

  private hasRoom(): boolean {
    return this.exited || this.backlog.inFlight <= this.pullWindow;
  }

  private releaseRoom(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  // ---- SourceSink ----

  waitForRoom(): Promise<void> | undefined {
    if (!this.pull) return undefined;
    const own = this.hasRoom() ? undefined : new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    const downstream = this.downstreamRoom?.();
    if (downstream === undefined) return own;
    return own === undefined ? downstream : Promise.all([own, downstream]).then(() => undefined);
  }

  frame(
    linktype: number,
    timestamp: number,
    bytes: Uint8Array,
    origlen: number,
    interfaceId = 0,
    place?: number,
  ): void {
    this.packer.add(linktype, timestamp, bytes, origlen, interfaceId, place);
  }

  /** The packer copies the bytes into the batch before returning, so a transient view is safe. */
  frameView(
    linktype: number,
    timestamp: number,
    bytes: Uint8Array,
    origlen: number,
    interfaceId = 0,
    place?: number,
  ): void {
    this.packer.add(linktype, timestamp, bytes, origlen, interfaceId, place);
  }

  problem(problem: SourceProblem): void {
    this.problems += 1;
    if (this.problems <= 10) this.log.warn({ frame: problem.frame, code: problem.code }, problem.message);
  }

  end(): void {
    if (this.endSent) return;
    this.endSent = true;
    this.packer.flush();
    this.post({ type: 'end' });
  }

  error(err: Error): void {
    if (this.pull) {
      const failure =
        err instanceof DaemonError
          ? err
          : new DaemonError('bad-capture', inputErrorLine(inputLabel(this.input.description), err.message));
      if (this.failures.length < MAX_FAILURES && !this.failures.some((f) => f.message === failure.message))
        this.failures.push(failure);
    }
    this.log.error({ err: err.message }, 'capture source failed; serving what was decoded so far');
  }

  /**
   * Test hook: blocks the decoding worker, as in a batch that never ends, until the returned function is
   * called. Frames and messages queue up meanwhile; views keep being served from the latest copies.
   */
  holdWorker(): () => void {
    const gate = new SharedArrayBuffer(4);
    this.post({ type: 'hold', gate });
    return () => {
      const cell = new Int32Array(gate);
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
    };
  }

  /** Blocks of the packet ring's store pre-faulted here and handed to the worker so far. */
  get ringBlocksGiven(): number {
    return this.ringBlocks;
  }

  /** Frame batch buffers the capture side allocated so far (tests: the worker hands them back for reuse). */
  get batchBuffersAllocated(): number {
    return this.packer.buffersAllocated;
  }

  /** Worker time the latest publication of views took (ms): what views cost the decoder. */
  get viewsCostMs(): number {
    return this.lastViewsCostMs;
  }

  /** Hands the worker libpcap's and the hub's counters; it logs and raises alerts for new drops. */
  poll(): void {
    this.packer.flush();
    if (this.decoderDropped > this.reportedDropped) {
      this.log.warn(
        { decoderDropped: this.decoderDropped, new: this.decoderDropped - this.reportedDropped },
        'the decoder cannot keep up: frames dropped before decoding (narrow the capture filter)',
      );
      this.reportedDropped = this.decoderDropped;
    }
    const hub = this.hub.stats();
    this.post({
      type: 'poll',
      capture: this.input.counters(),
      hub: { clients: hub.clients, dropped: hub.dropped },
      decoderDropped: this.decoderDropped,
    });
  }

  /** Stops the worker after it decoded what it was given. */
  async close(): Promise<void> {
    clearInterval(this.batchTimer);
    this.releaseRoom();
    this.packer.flush();
    if (this.exited) return;
    // The answer comes after every batch sent before it has been decoded: final counters for the summary.
    const final = await this.query<StatsView>('stats').catch(() => undefined);
    if (final !== undefined) this.latest = final;
    // The history spool's descriptor goes with the worker: its last writes end first (a stalled disk is not
    // waited on for longer than a spool waits for a write).
    await Promise.race([
      this.spoolWriter.idle(),
      new Promise((resolve) => setTimeout(resolve, SLOW_SPOOL_WRITE_MS).unref()),
    ]);
    this.spoolWriter.cancel();
    await this.worker.terminate();
  }

  // ---- DaemonModel ----

  source(): SourceView {
    const d = this.input.description;
    const linktype = d.linktype ?? this.linktype;
    return { ...d, ...(linktype !== undefined ? { linktype } : {}) };
  }

  health(): HealthView {
    return { status: 'ok', uptime: (Date.now() - this.startedAt) / 1000, source: this.source(), eof: this.ended };
  }

  stats(): StatsView {
    const base: StatsView = this.latest ?? {
      packets: 0,
      bytes: 0,
      messages: 0,
      messagesPerSecond: 0,
      perCommand: {},
      malformed: 0,
      decoderDropped: 0,
      skippedFlows: { flows: 0, bytes: 0 },
      capture: { received: 0, dropped: 0, ifDropped: 0 },
      websocket: { clients: 0, dropped: 0 },
    };
    return {
      ...base,
      decoderDropped: this.decoderDropped,
      decoderLagMs: this.backlog.lagMs(Date.now()),
      capture: this.input.counters(),
      websocket: this.hub.view(),
      // The spool is written on this thread: its state is read here, not a stats message old.
      ...spoolStats(this.input.spoolStatus),
    };
  }

  tableText(name: TableName): TableText {
    // Until the worker's first publication (it publishes at start-up), nothing was decoded: no rows.
    return this.tables.get(name) ?? { text: '[]', time: this.startedAt / 1000 };
  }

  reportText(sections: readonly string[] | undefined, options: ReportOptions): Promise<ViewText> {
    const list = sections === undefined ? [] : [...sections];
    // Checked here, so a wrong name is refused at once and never costs the worker anything.
    resolveSections(list);
    const key = `${list.join(',')}|${options.limit ?? 'full'}`;
    return this.reports.get(key, () => this.query<ViewText>('report', list, options));
  }

  /**
   * The latest published snapshot with the stats `/api/stats` answers now in place of those it was
   * published with: views may be a publication behind a busy worker, the counters never are, so the
   * status bar and the API agree (the worker's counters are at most one stats message, 250 ms, old).
   */
  snapshotText(): string {
    const s = this.snapshot;
    if (s === undefined) return JSON.stringify(emptySnapshot(Date.now() / 1000, this.stats()));
    return `{"type":"snapshot","time":${s.time},"stats":${JSON.stringify(this.stats())},${s.text.slice(s.bodyStart)}`;
  }

  /** Tells the worker which streamed records were sent to a client: it keeps those for longer. */
  sent(records: readonly WireRecord[]): void {
    const ids = new Float64Array(records.length);
    for (let i = 0; i < records.length; i++) ids[i] = wireRecordId(records[i]);
    this.post({ type: 'sent', ids }, [ids.buffer]);
  }

  /** The per-server Prometheus families, from the worker (one question per scrape). */
  metricsText(): Promise<string> {
    return this.query<string>('metrics');
  }

  /** Every alert group the worker holds, with the totals, as JSON text. */
  alertsText(): Promise<string> {
    return this.query<string>('alerts');
  }

  /** Acknowledges alert group `key` in the worker; false when it holds no such group. */
  acknowledgeAlert(key: string): Promise<boolean> {
    return this.ask<boolean>('ack', (id) => ({ type: 'ack', id, key }));
  }

  /** JSON text of a chart series or the top talkers, computed by the worker (see series.ts). */
  async seriesText(request: SeriesRequest): Promise<string> {
    const text = await this.ask<string | null>(`series ${request.what}`, (id) => ({ type: 'series', id, request }));
    if (text === null) throw new Error('decoder not started');
    return text;
  }

  /** The full JSON text of streamed record `id`, or undefined when the ring no longer holds it. */
  async record(id: number): Promise<string | undefined> {
    const text = await this.ask<string | null>('record', (request) => ({ type: 'record', id: request, record: id }));
    return text ?? undefined;
  }

  requestHistory(req: HistoryRequest): void {
    this.post({ type: 'history', req });
  }

  cancelHistory(request: number): void {
    this.post({ type: 'history-cancel', request });
  }

  /** The chart aggregates (asked of the worker) with the input's state, as `GET /api/history` answers. */
  async historyText(query: HistoryQuery): Promise<string> {
    const text = await this.ask<string>('history', (id) => ({ type: 'history-series', id, query }));
    const messages = this.stats().messages;
    return `{"eof":${this.ended},"endedAt":${this.endedAt},"messages":${messages},${text.slice(1)}`;
  }
}
