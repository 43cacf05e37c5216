/**
 * The decoding worker: runs the {@link Engine} (decoder, conversation state, views) off the main thread, so
 * a burst of packets never delays an HTTP answer or a WebSocket send. It also matches every record against
 * the WebSocket subscriptions (a filter's cost, however bad the glob and long the PV name, is paid here, never
 * on the thread that serves HTTP), and samples each subscription down to the rate its clients read before it
 * serialises anything (see {@link BatchSampler}): records nobody will receive are counted, never built.
 * Records go back in batches as {@link WireRecord}s with, per subscription, the indexes it keeps and how
 * many it matched. Views (the snapshot, the API tables) are computed here and published on a cadence
 * (see views-publisher.ts): the main thread answers from the latest copy and never waits for the decoder.
 * Views and reports are computed a slice at a time (see slices.ts), with the message queue (frame batches,
 * subscriptions, stats) served between slices, so a costly one delays only itself.
 *
 * Every record gets the next daemon-wide sequence number (its `id`); those that are streamed, and for
 * longer those the hub says it sent, are kept in bounded rings ({@link StreamedRecords}) so that one can
 * be fetched in full when a page opens its row.
 */
import { tmpdir } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { type CaRecord, DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '@ca-shark/decoder';
import type { Steps } from '@ca-shark/analysis';
import type { ValueFormat } from '@ca-shark/analysis/summary';
import type { AlertNotice } from './alerts/alerts.js';
import { Engine, type SensedRecord, type WireRecord, fullRecordJSON, heldStats, toWire } from './engine.js';
import { unpackFrames } from './frame-batch.js';
import { NatsWorkerSide } from './nats/worker-side.js';
import { createLogger } from './logger.js';
import { DEFAULT_PACKET_RING_BYTES, PacketRing } from './packet-ring.js';
import { FrameFile, type FrameReader, SpoolFile } from './frame-file.js';
import type { SpoolShare } from './sources/spool.js';
import { PcapExports } from './pcap-export.js';
import { TABLE_NAMES } from './model.js';
import { StreamedRecords, estimateRecordBytes, keepRecordBytes } from './record-ring.js';
import { DEFAULT_REPORT_LIMIT } from './report-cut.js';
import type { CaptureCounters, SourceDescription } from './sources/types.js';
import { SliceRunner } from './slices.js';
import { BatchSampler } from './subscriptions.js';
import { StreamGovernor } from './stream-governor.js';
import { lowerThreadPriority } from './thread-nice.js';
import { isPullSource } from './sources/types.js';
import { type PublishedViews, ViewPublisher, tableBuffers } from './views-publisher.js';
import { WorkerWarmUp } from './worker-warmup.js';
import { RecordHistory } from './history.js';
import type { HistoryOptions } from './history-ring.js';
import { HistorySpool } from './history-spool.js';
import type { StatsView } from './views.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** Records are sent at least this often while they flow, or once this many are waiting. */
const FLUSH_MS = 20;
const FLUSH_RECORDS = 2000;
const STATS_MS = 250;
/** The snapshot and the tables are published this often (when something changed). */
const VIEWS_MS = 1000;
/**
 * Share of the worker's time publishing may take: a costlier publication (a huge capture) is followed by a
 * longer pause, so its views age a little more while decoding keeps its pace.
 */
const VIEWS_BUDGET = 0.1;
/** How often the worker's timer checks whether views are due. */
const VIEWS_TICK_MS = 100;
/** The warm-up (worker-warmup.ts) starts this long after the worker is ready (ms). */
const WARM_UP_AFTER_MS = 300;
/** Longest run of view or report steps before the worker serves its message queue again (ms). */
const SLICE_MS = 8;

const port = parentPort;
if (port === null) throw new Error('engine-worker must run in a worker thread');

let engine: Engine | undefined;
let description: SourceDescription = { kind: 'live' };
let capture: CaptureCounters = { received: 0, dropped: 0, ifDropped: 0 };
let hub = { clients: 0, dropped: 0 };
let decoderDropped = 0;
/** Records of the batch being built that some stream matched, and their ids (sampled at {@link flush}). */
let batch: CaRecord[] = [];
let batchIds: number[] = [];
/** The channel's display format of each record in `batch` (precision, units, enum strings), if known. */
let batchDisplays: (ValueFormat | undefined)[] = [];
/** Whether history holds records (then a PV chart opened late starts from them). */
let holdsHistory = false;
/** When the batch being built started (ms): each stream keeps its rate's share of that time. */
let batchStart = performance.now();
/** When the newest frame batch decoded was posted (Date.now() ms; 0: none yet): sent with the records. */
let newestPostedAt = 0;
/** Daemon-wide record sequence: the id of the latest record decoded. */
let sequence = 0;
/** The latest streamed and sent records, for `GET /api/record/:id` (bounds from the `init` message). */
let ring = new StreamedRecords<CaRecord>(estimateRecordBytes);
const sampler = new BatchSampler();
/**
 * Live capture: the streams give way while decoding falls behind (a file or stdin waits for the decoder
 * instead, so its streams are never thinned for it).
 */
const governor = new StreamGovernor();
let governed = false;
/**
 * Live capture: a batch that waited longer than the stall bound in force (`init`'s `stallBounds`: cell
 * {@link STALL_MS}, 0: none) is dropped unread, unless no more than the kept bytes in force (cell
 * {@link KEEP_BYTES}) were in flight as it was posted. The capture side sheds the batches the worker would
 * reach too late (decoder-backlog.ts); this catches those a stall held up, and those waiting when the bounds
 * tightened.
 */
let stallBounds: Int32Array<ArrayBufferLike> = new Int32Array(3);
const STALL_MS = 0;
const KEEP_BYTES = 1;
/** Cell of `stallBounds`: 1 while the capture side sheds (its backlog is held), 0 otherwise. */
const SHEDDING = 2;
let batchBytes = 0;
let lastFlush = 0;
let lastStats = 0;
let decodeErrors = 0;
let log: ReturnType<typeof createLogger> | undefined;
let publisher: ViewPublisher | undefined;
let nextViews = 0;
/** Held records and chart aggregates (see history.ts). */
let history = new RecordHistory({ bounds: { maxRecords: 0 } });
let historyPumping = false;
/** The raw packet ring behind `/api/pcap` (undefined with --packet-ring 0). */
let packetRing: PacketRing | undefined;
let snaplen = 0;
/**
 * Blocks for the packet ring's store that the capture thread allocated and wrote once, so the page faults
 * of fresh memory are not paid on this thread; up to {@link RING_BLOCKS_AHEAD} wait here or are asked for.
 */
const ringBlocks: Uint8Array[] = [];
let ringBlocksAsked = 0;
/**
 * Blocks asked for ahead of need, live. An answer queues behind the frame batches in flight (up to a second
 * of traffic live), so fewer ahead than that and the store outruns them (with 4 ahead, half the blocks of a
 * file's ingest were still allocated here).
 */
const RING_BLOCKS_AHEAD = 32;
/**
 * Blocks asked for at a time (fewer only for the store's last ones). A message to the capture thread costs
 * this thread up to milliseconds while that thread is writing fresh blocks (its page faults and this
 * thread's allocation contend for the process's memory map): asked one at a time, the asks were 2 % of this
 * thread's CPU profile in `-r --speed max`.
 */
const RING_BLOCKS_ASK = 4;
/**
 * Blocks asked for ahead of need (stdin, or a file the ring could not open: as many as its bytes in flight
 * fill, see `init`'s `ringAheadBytes`, and a batch of asks more; a replayed file's ring asks for none).
 * Every block ahead is memory written and held until the store takes it: at the end of a file, 32 blocks
 * were 32 MiB of peak RSS and about 0.1 s of the capture thread's CPU for nothing.
 */
let ringBlocksAhead = RING_BLOCKS_AHEAD;

/**
 * The replayed file (or stdin's spool) the packet ring reads frames back from (frame-file.ts), or undefined
 * for any other source, or when the file cannot be opened here (the ring then copies frames, as for live
 * capture).
 */
function openRingFile(
  source: SourceDescription,
  spool: SpoolShare | undefined,
  logger: ReturnType<typeof createLogger>,
): FrameReader | undefined {
  if (spool !== undefined) return new SpoolFile(spool);
  if (source.kind !== 'file' || source.file === undefined) return undefined;
  try {
    return FrameFile.open(source.file);
  } catch (err) {
    // The source reports an unreadable file itself, in one line; this is only how the ring keeps frames.
    logger.debug({ err: (err as Error).message }, 'the packet ring keeps copies of frames: the file cannot be opened');
    return undefined;
  }
}

/** Asks the capture thread for the blocks the packet ring will take next (none once it has them all). */
function askRingBlocks(): void {
  const ring = packetRing;
  if (ring === undefined) return;
  const coming = ringBlocks.length + ringBlocksAsked;
  const count = Math.min(ringBlocksAhead, ring.blocksToCome) - coming;
  if (count <= 0 || count < Math.min(RING_BLOCKS_ASK, ring.blocksToCome - coming)) return;
  ringBlocksAsked += count;
  post({ type: 'ring-blocks', count, bytes: ring.blockBytes });
}
const exports = new PcapExports(
  () => packetRing,
  (linktype) => ({ linktype, snaplen, ...(description.iface !== undefined ? { name: description.iface } : {}) }),
  (id, chunk, done, error, changed) =>
    post(
      {
        type: 'pcap-chunk',
        id,
        done,
        ...(chunk !== undefined ? { chunk } : {}),
        ...(error !== undefined ? { error } : {}),
        ...(changed === true ? { changed } : {}),
      },
      chunk !== undefined ? [chunk.buffer as ArrayBuffer] : [],
    ),
);
/** Views and reports being computed, a slice at a time. */
const slices = new SliceRunner();
let sliceScheduled = false;
/** A publication of views is in progress. */
let publishing = false;
/** Its steps (see {@link publishViews}: one due at once replaces it). */
let publication: Steps<PublishedViews> | undefined;
/** Alert groups opened or back since the last flush (few: groups are deduplicated). */
let notices: AlertNotice[] = [];
/** Sensor or central duties (NATS), when the daemon has one. */
let nats: NatsWorkerSide | undefined;
/** This thread's nice value once set at start (`--decoder-nice`), for `/api/stats`; undefined: not known. */
let decoderNice: number | undefined;

const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

function flush(): void {
  const now = performance.now();
  lastFlush = now;
  // Every record of the interval is batched for NATS, sampled or not.
  nats?.flush();
  if (notices.length > 0) {
    post({ type: 'alerts', notices });
    notices = [];
  }
  if (batch.length === 0) return;
  // Since the last batch taken, pauses included: the streams' buckets refill over a quiet spell.
  const seconds = (now - batchStart) / 1000;
  batchStart = now;
  const { picked, matches, matched, fill } = governed
    ? sampler.take(seconds, governor.share, governor.floor)
    : sampler.take(seconds);
  // What the streams would have taken: the governor holds their share near it (a flood starts thin).
  if (governed) governor.filled(fill);
  // Serialised only now, and only the records some stream keeps.
  const items: WireRecord[] = new Array<WireRecord>(picked.length);
  for (let i = 0; i < picked.length; i++) {
    const record = batch[picked[i]];
    const id = batchIds[picked[i]];
    ring.streamed(id, record);
    // A central's record carries the sensor it came from (NatsWorkerSide's decorate).
    const sensor = (record as SensedRecord).sensor;
    items[i] = toWire(record, id, batchDisplays[picked[i]], sensor);
  }
  batch = [];
  batchIds = [];
  batchDisplays = [];
  const buffers: ArrayBuffer[] = [];
  for (const indexes of matches.values()) buffers.push(indexes.buffer as ArrayBuffer);
  post(
    {
      type: 'records',
      items,
      matches,
      matched,
      ...(newestPostedAt > 0 ? { postedAt: newestPostedAt, decodedAt: Date.now() } : {}),
    },
    buffers,
  );
}

/** Hands a decoded frame batch's buffer back to the capture thread (see frame-batch.ts). */
function freeBuffer(buffer: ArrayBufferLike): void {
  // Only transferred batches come here; a SharedArrayBuffer (never sent) would have nothing to hand back.
  if (buffer instanceof ArrayBuffer) post({ type: 'free', buffer }, [buffer]);
}

function sendStats(): void {
  lastStats = performance.now();
  if (engine === undefined) return;
  const linktype = engine.source().linktype;
  const stats = workerStats(engine);
  post({ type: 'stats', stats, eof: engine.eof, ...(linktype !== undefined ? { linktype } : {}) });
}

/**
 * The engine's counters with what only the worker knows: the streams' share, this thread's nice, what the
 * packet ring and the held history hold and let go.
 */
function workerStats(e: Engine): StatsView {
  return {
    ...e.stats(),
    streamShare: governor.share,
    ...(decoderNice !== undefined ? { decoderNice } : {}),
    ...heldStats(packetRing, holdsHistory ? history.held : undefined),
  };
}

/**
 * Lowers this thread's CPU priority to `nice` (thread-nice.ts), first thing at start: the warm-up and
 * every batch after it run behind the HTTP, WebSocket and capture thread, and nothing needs the root the
 * daemon may drop later.
 */
function applyNice(nice: number, logger: ReturnType<typeof createLogger>): void {
  const outcome = lowerThreadPriority(nice);
  if (outcome.tid === undefined) {
    // Said once (info: the default asks for it everywhere): the worker runs at the daemon's priority.
    if (nice > 0)
      logger.info({ decoderNice: nice, reason: outcome.reason }, "decoding thread keeps the daemon's priority");
    return;
  }
  decoderNice = outcome.nice;
  if (outcome.nice !== nice) {
    logger.info(
      { decoderNice: nice, nice: outcome.nice, tid: outcome.tid },
      'the daemon already runs nicer than --decoder-nice: the decoding thread keeps its nice value',
    );
  } else if (nice > 0) {
    logger.debug(
      { nice, tid: outcome.tid },
      'decoding thread runs at a lower priority than the HTTP and capture thread',
    );
  }
}

/**
 * Runs the warm-up (worker-warmup.ts) a pass per turn of the event loop while the capture is quiet: frame
 * batches and queries are served between passes (the capture starts as before, at `ready`), and the first
 * frame batch ends it, since real traffic then warms the path and must not wait behind a pass.
 */
function warmUpInTurns(warm: WorkerWarmUp, start: number): void {
  const more = batchBytes === 0 && warm.step();
  if (more) {
    setImmediate(() => warmUpInTurns(warm, start));
    return;
  }
  log?.debug({ ...warm.result, ms: Math.round(performance.now() - start) }, 'record path warmed up');
}

/**
 * Where the held records' full chunks go (history-spool.ts): `--spool-dir`, else the system's temporary
 * directory; none with `--spool-dir none` or no history.
 */
function historySpool(
  options: HistoryOptions | undefined,
  logger: ReturnType<typeof createLogger>,
): { spool?: HistorySpool } {
  const dir = options?.spoolDir === undefined ? tmpdir() : options.spoolDir;
  if (dir === null || options?.maxRecords === 0) return {};
  // Its writes are made on the main thread (history-spool.ts SpoolWriter), whose event loop decoding does not hold.
  const spool = new HistorySpool(dir, (message, err) => logger.warn({ dir, err }, message), {
    send: (request) => post(request),
  });
  // Made now, at the worker's start (the daemon waits for it), not when the first chunk fills: before the
  // daemon drops root privileges (`--user`), which could leave the directory unwritable.
  spool.open();
  return { spool };
}

/** Runs history scans a slice at a time, yielding to frame batches between slices. */
function pumpHistory(): void {
  historyPumping = false;
  const result = history.step();
  if (result !== undefined) post({ type: 'history', result });
  scheduleHistory();
}

function scheduleHistory(): void {
  if (!history.busy || historyPumping) return;
  historyPumping = true;
  setImmediate(pumpHistory);
}

/**
 * Runs a slice of the pending views and reports on the next turn of the event loop, after the messages
 * (frame batches) that arrived meanwhile, and again until none is left.
 */
function scheduleSlices(): void {
  if (sliceScheduled || slices.pending === 0) return;
  sliceScheduled = true;
  setImmediate(() => {
    sliceScheduled = false;
    slices.run(SLICE_MS);
    scheduleSlices();
  });
}

/**
 * Starts a publication of the views when one is due and none is in progress; they are computed a slice at a
 * time. `now`: at once, to the end (start-up, end of input), finishing one in progress first.
 */
function publishViews(now = false): void {
  const p = publisher;
  if (p === undefined) return;
  if (now) {
    // One in progress is dropped, not finished first: its views would be replaced at once by these, and
    // finishing it cost a second full publication in one go at the end of input (about 6 MB of promoted
    // rows and JSON per publication of the 1 GB capture's channels, and its texts copied to the main thread).
    if (publication !== undefined && slices.cancel(publication)) {
      publishing = false;
      // Parts it finished count as published in the publisher, but their text was never sent.
      p.forget();
    }
    slices.finish();
  } else if (publishing || performance.now() < nextViews) return;
  publishing = true;
  const steps = p.publishSteps(TABLE_NAMES);
  publication = steps;
  slices.add(
    steps,
    (views) => {
      publishing = false;
      publication = undefined;
      // Records first, so a view never shows what the stream has not delivered yet.
      flush();
      // The tables' bytes move to the main thread; the worker keeps no copy.
      post({ type: 'views', ...views }, tableBuffers(views));
      // Its own steps' time, pauses excluded: views take at most VIEWS_BUDGET of the worker.
      const pause = Math.max(VIEWS_MS, views.costMs / VIEWS_BUDGET);
      nextViews = performance.now() + pause;
      if (views.costMs > VIEWS_MS * VIEWS_BUDGET)
        log?.debug(
          { costMs: Math.round(views.costMs), nextInMs: Math.round(pause) },
          'views are costly: published less often',
        );
    },
    (err) => {
      publishing = false;
      publication = undefined;
      nextViews = performance.now() + VIEWS_MS;
      log?.error({ err: err.message, stack: err.stack }, 'computing the views failed');
    },
  );
  if (now) slices.finish();
  else scheduleSlices();
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init': {
      description = message.description;
      governed = !isPullSource(description);
      const logger = createLogger(message.logLevel, message.tty).child({ thread: 'decoder' });
      log = logger;
      applyNice(message.decoderNice ?? 0, logger);
      ring = new StreamedRecords<CaRecord>(estimateRecordBytes, message.recordRing);
      history = new RecordHistory({ bounds: message.history ?? {}, ...historySpool(message.history, logger) });
      holdsHistory = history.held.bounds.maxRecords > 0;
      const ringBytes = message.packetRing ?? DEFAULT_PACKET_RING_BYTES;
      // A replayed file's ring keeps each frame's place in the file, not a copy: no block is asked for.
      const ringFile = ringBytes > 0 ? openRingFile(description, message.spool, logger) : undefined;
      packetRing =
        ringBytes > 0
          ? new PacketRing(
              ringBytes,
              ringFile !== undefined
                ? { file: ringFile }
                : {
                    takeBlock: () => {
                      const block = ringBlocks.pop();
                      askRingBlocks();
                      return block;
                    },
                  },
            )
          : undefined;
      if (packetRing !== undefined && message.ringAheadBytes !== undefined)
        ringBlocksAhead = Math.min(
          RING_BLOCKS_AHEAD,
          Math.ceil(message.ringAheadBytes / packetRing.blockBytes) + RING_BLOCKS_ASK,
        );
      askRingBlocks();
      snaplen = message.snaplen ?? 0;
      stallBounds = new Int32Array(message.stallBounds);
      const packets = packetRing;
      if (message.nats !== undefined) {
        const ports = {
          serverPort: message.decoder.serverPort ?? DEFAULT_SERVER_PORT,
          repeaterPort: message.decoder.repeaterPort ?? DEFAULT_REPEATER_PORT,
        };
        nats = new NatsWorkerSide(message.nats, post, ports, logger);
      }
      engine = new Engine({
        ...nats?.engineOptions(),
        ...(packets !== undefined ? { packets } : {}),
        describe: () => description,
        counters: () => capture,
        hubStats: () => hub,
        decoderDropped: () => decoderDropped,
        logger,
        decoder: message.decoder,
        ...(message.alerts !== undefined ? { alerts: message.alerts } : {}),
        onAlert: (notice) => notices.push(notice),
        publish: (record, channel) => {
          packets?.record(record);
          // A sensor publishes every record, whatever its clients sample.
          nats?.record(record);
          const id = ++sequence;
          // Its summary line is made only if a history request returns it (see history-ring.ts).
          history.add(id, record, channel);
          // Matched against the streams the worker has now: a change applies from the next record on.
          if (sampler.size === 0 || !sampler.offer(record, batch.length)) return;
          // A record some stream matched may be asked for in full (its hex dump): its lent bytes are copied.
          keepRecordBytes(record);
          batch.push(record);
          batchIds.push(id);
          batchDisplays.push(channel);
          if (batch.length >= FLUSH_RECORDS) flush();
        },
      });
      nats?.attach(engine);
      // A PV chart opened late starts with what the held records say about the PV.
      if (holdsHistory) engine.setSeriesPast(history.held);
      publisher = new ViewPublisher(engine);
      setInterval(flush, FLUSH_MS);
      setInterval(sendStats, STATS_MS);
      setInterval(publishViews, VIEWS_TICK_MS);
      // Every view exists on the main thread before anything asks for one.
      publishViews(true);
      // The first stats message tells the main thread the decoder is ready.
      sendStats();
      // After the main thread has opened the capture and bound its port, which it does once this is ready.
      if (message.warmUp === true) {
        setTimeout(() => warmUpInTurns(new WorkerWarmUp(logger), performance.now()), WARM_UP_AFTER_MS);
      }
      break;
    }
    case 'frames': {
      const e = engine;
      if (e === undefined) return;
      const stallMs = governed ? Atomics.load(stallBounds, STALL_MS) : 0;
      if (
        stallMs > 0 &&
        message.backlog > Atomics.load(stallBounds, KEEP_BYTES) &&
        Date.now() - message.postedAt > stallMs
      ) {
        // Live capture: a batch that waited this long is dropped unread (counted by the main thread), so a
        // starved worker catches up with the wire at once instead of decoding ever older frames.
        batchBytes += message.length;
        post({ type: 'decoded', batchBytes, dropped: message.frames });
        freeBuffer(message.buffer);
        break;
      }
      if (governed) {
        const now = Date.now();
        // With no stream open there is nothing to thin (decoding lag itself is in `decoderLagMs`).
        if (sampler.size > 0) governor.observe(now - message.postedAt, now, Atomics.load(stallBounds, SHEDDING) === 1);
        else governor.reset();
      }
      const packets = packetRing;
      unpackFrames(message.buffer, message.length, (linktype, timestamp, bytes, origlen, interfaceId, place) => {
        packets?.placeNext(place, bytes);
        try {
          e.frame(linktype, timestamp, bytes, origlen, interfaceId);
        } catch (err) {
          // A decoder bug must cost one frame, not the whole capture: count it, show the first ones.
          decodeErrors += 1;
          if (decodeErrors <= 5 || decodeErrors % 10_000 === 0) {
            log?.error(
              {
                err: (err as Error).message,
                stack: (err as Error).stack,
                decodeErrors,
                linktype,
                caplen: bytes.length,
              },
              'decoder failed on a frame; skipped it',
            );
          }
        }
      });
      batchBytes += message.length;
      newestPostedAt = message.postedAt;
      post({ type: 'decoded', batchBytes, dropped: 0 });
      // The decoder and the packet ring copied whatever outlives a frame: the buffer goes back to the
      // capture thread for a later batch.
      freeBuffer(message.buffer);
      // While batches keep arriving the worker drains its message queue without running timers: keep
      // records and counters flowing from here too.
      const now = performance.now();
      if (now - lastFlush >= FLUSH_MS) flush();
      if (now - lastStats >= STATS_MS) sendStats();
      if (now >= nextViews) publishViews();
      break;
    }
    case 'ring-block':
      ringBlocksAsked -= 1;
      ringBlocks.push(new Uint8Array(message.buffer));
      break;
    case 'demand':
      sampler.setRates(message.everything, new Map(message.subscriptions));
      break;
    case 'alert':
      engine?.addAlert(message.alert);
      break;
    case 'replay':
      nats?.replay(message.sensor, message.buffer, message.token, message.reset);
      break;
    case 'subscribe':
      try {
        sampler.add(message.id, message.filter);
      } catch (err) {
        // The main thread checked the filter before sending it: this is a bug, and the subscription keeps nothing.
        log?.error(
          { err: (err as Error).message, subscription: message.id },
          'cannot compile a WebSocket subscription',
        );
      }
      break;
    case 'unsubscribe':
      sampler.remove(message.id);
      break;
    case 'describe':
      description = message.description;
      break;
    case 'poll':
      capture = message.capture;
      hub = message.hub;
      decoderDropped = message.decoderDropped;
      engine?.poll();
      break;
    case 'end':
      engine?.end();
      flush();
      nats?.flush(true);
      // The final views before the final stats: once the main thread sees eof, its copies are final too.
      publishViews(true);
      sendStats();
      break;
    case 'sent':
      ring.markSent(message.ids);
      break;
    case 'record': {
      // Serialised only now: the stream never pays for the full form of a record nobody opens.
      const record = ring.get(message.record);
      post({
        type: 'reply',
        id: message.id,
        value: record === undefined ? null : fullRecordJSON(record, message.record),
      });
      break;
    }
    case 'series':
      post({ type: 'reply', id: message.id, value: engine?.seriesText(message.request) ?? null });
      break;
    case 'history':
      // Every record up to the seam leaves in the batches before `history-start`, later ones after it.
      flush();
      try {
        history.begin(message.req, sequence);
      } catch (err) {
        // The main thread checked the filter: a bug. The client gets an empty history rather than none.
        log?.error({ err: (err as Error).message }, 'cannot compile a history filter');
        post({ type: 'history-start', request: message.req.request });
        const empty = { items: [], ranks: [], matched: 0, seam: sequence, oldest: null };
        post({ type: 'history', result: { request: message.req.request, ...empty } });
        break;
      }
      post({ type: 'history-start', request: message.req.request });
      scheduleHistory();
      break;
    case 'history-cancel':
      history.cancel(message.request);
      break;
    case 'history-series':
      post({ type: 'reply', id: message.id, value: JSON.stringify(history.answer(message.query)) });
      break;
    case 'pcap':
      exports.start(message.id, message.request);
      break;
    case 'pcap-pull':
      exports.next(message.id);
      break;
    case 'pcap-cancel':
      exports.cancel(message.id);
      break;
    case 'ack': {
      const done = engine?.acknowledgeAlert(message.key) ?? false;
      post({ type: 'reply', id: message.id, value: done });
      // Every page sees the acknowledgement at once, not at the next publication.
      if (done) publishViews(true);
      break;
    }
    case 'hold':
      Atomics.wait(new Int32Array(message.gate), 0, 0);
      break;
    case 'query': {
      const e = engine;
      const id = message.id;
      const fail = (err: Error): void => post({ type: 'reply', id, value: null, error: err.message });
      // Pending records first, so an answer never shows what the stream has not delivered yet.
      const reply = (value: unknown): void => {
        flush();
        post({ type: 'reply', id, value });
      };
      if (e === undefined) fail(new Error('decoder not started'));
      else if (message.what === 'stats') reply(workerStats(e));
      else if (message.what === 'metrics') reply(e.metricsText());
      else if (message.what === 'alerts') reply(e.alertsText());
      else {
        // The report walks every PV: computed a slice at a time like the views.
        slices.add(e.reportTextSteps(message.sections, message.report ?? { limit: DEFAULT_REPORT_LIMIT }), reply, fail);
        scheduleSlices();
      }
      break;
    }
  }
});
