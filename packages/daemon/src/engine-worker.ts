/**
 * The decoding worker: runs the {@link Engine} (decoder, conversation state, views) off the main thread, so
 * a burst of packets never delays an HTTP answer or a WebSocket send. It also matches every record against
 * the WebSocket subscriptions (a filter's cost, however bad the glob and long the PV name, is paid here, never
 * on the thread that serves HTTP). Records go back in batches as {@link WireRecord}s with, per subscription,
 * the indexes it keeps. Views (the snapshot, the API tables) are computed here and published on a cadence
 * (see views-publisher.ts): the main thread answers from the latest copy and never waits for the decoder.
 *
 * Every record gets the next daemon-wide sequence number (its `id`); those that are streamed, and for
 * longer those the hub says it sent, are kept in bounded rings ({@link StreamedRecords}) so that one can
 * be fetched in full when a page opens its row.
 */
import { parentPort } from 'node:worker_threads';
import { type CaRecord, DEFAULT_REPEATER_PORT, DEFAULT_SERVER_PORT } from '@ca-shark/decoder';
import { Engine, type WireRecord, fullRecordJSON, toWire } from './engine.js';
import { unpackFrames } from './frame-batch.js';
import { NatsWorkerSide } from './nats/worker-side.js';
import { createLogger } from './logger.js';
import { TABLE_NAMES } from './model.js';
import { StreamedRecords, estimateRecordBytes } from './record-ring.js';
import { DEFAULT_REPORT_LIMIT } from './report-cut.js';
import type { CaptureCounters, SourceDescription } from './sources/types.js';
import { BatchMatcher } from './subscriptions.js';
import { ViewPublisher } from './views-publisher.js';
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

const port = parentPort;
if (port === null) throw new Error('engine-worker must run in a worker thread');

let engine: Engine | undefined;
let description: SourceDescription = { kind: 'live' };
let capture: CaptureCounters = { received: 0, dropped: 0, ifDropped: 0 };
let hub = { clients: 0, dropped: 0 };
let decoderDropped = 0;
let outgoing: WireRecord[] = [];
/** Daemon-wide record sequence: the id of the latest record decoded. */
let sequence = 0;
/** The latest streamed and sent records, for `GET /api/record/:id` (bounds from the `init` message). */
let ring = new StreamedRecords<CaRecord>(estimateRecordBytes);
const matcher = new BatchMatcher();
/** Some consumer wants every record (see the `wanted` message). */
let wantAll = false;
let batchBytes = 0;
let lastFlush = 0;
let lastStats = 0;
let decodeErrors = 0;
let log: ReturnType<typeof createLogger> | undefined;
let publisher: ViewPublisher | undefined;
let nextViews = 0;
/** Sensor or central duties (NATS), when the daemon has one. */
let nats: NatsWorkerSide | undefined;

const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

function flush(): void {
  lastFlush = performance.now();
  nats?.flush();
  if (outgoing.length === 0) return;
  const items = outgoing;
  outgoing = [];
  const matches = matcher.take();
  const buffers: ArrayBuffer[] = [];
  for (const indexes of matches.values()) buffers.push(indexes.buffer as ArrayBuffer);
  post({ type: 'records', items, matches }, buffers);
}

/** Drops the batch being built (nobody wants its records any more). */
function discard(): void {
  outgoing = [];
  matcher.clear();
}

function sendStats(): void {
  lastStats = performance.now();
  if (engine === undefined) return;
  const linktype = engine.source().linktype;
  post({ type: 'stats', stats: engine.stats(), eof: engine.eof, ...(linktype !== undefined ? { linktype } : {}) });
}

/** Publishes the views when they are due, or at once (`now`). */
function publishViews(now = false): void {
  if (publisher === undefined) return;
  const start = performance.now();
  if (!now && start < nextViews) return;
  // Records first, so a view never shows what the stream has not delivered yet.
  flush();
  const views = publisher.publish(TABLE_NAMES);
  post({ type: 'views', ...views });
  const cost = performance.now() - start;
  const pause = Math.max(VIEWS_MS, cost / VIEWS_BUDGET);
  nextViews = start + pause;
  if (cost > VIEWS_MS * VIEWS_BUDGET)
    log?.debug({ costMs: Math.round(cost), nextInMs: Math.round(pause) }, 'views are costly: published less often');
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'init': {
      description = message.description;
      const logger = createLogger(message.logLevel, message.tty).child({ thread: 'decoder' });
      log = logger;
      ring = new StreamedRecords<CaRecord>(estimateRecordBytes, message.recordRing);
      if (message.nats !== undefined) {
        const ports = {
          serverPort: message.decoder.serverPort ?? DEFAULT_SERVER_PORT,
          repeaterPort: message.decoder.repeaterPort ?? DEFAULT_REPEATER_PORT,
        };
        nats = new NatsWorkerSide(message.nats, post, ports, logger);
      }
      engine = new Engine({
        ...nats?.engineOptions(),
        describe: () => description,
        counters: () => capture,
        hubStats: () => hub,
        decoderDropped: () => decoderDropped,
        logger,
        decoder: message.decoder,
        publish: (record) => {
          nats?.record(record);
          const id = ++sequence;
          // Matched against the subscriptions the worker has now: a change applies from the next record on.
          const kept = matcher.size > 0 && matcher.match(record, outgoing.length);
          if (!kept && !wantAll) return;
          ring.streamed(id, record);
          outgoing.push(toWire(record, id, nats?.sensor));
          if (outgoing.length >= FLUSH_RECORDS) flush();
        },
      });
      nats?.attach(engine);
      publisher = new ViewPublisher(engine);
      setInterval(flush, FLUSH_MS);
      setInterval(sendStats, STATS_MS);
      setInterval(publishViews, VIEWS_TICK_MS);
      // Every view exists on the main thread before anything asks for one.
      publishViews(true);
      // The first stats message tells the main thread the decoder is ready.
      sendStats();
      break;
    }
    case 'frames': {
      const e = engine;
      if (e === undefined) return;
      unpackFrames(message.buffer, message.length, (linktype, timestamp, bytes, origlen) => {
        try {
          e.frame(linktype, timestamp, bytes, origlen);
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
      post({ type: 'decoded', batchBytes });
      // While batches keep arriving the worker drains its message queue without running timers: keep
      // records and counters flowing from here too.
      const now = performance.now();
      if (now - lastFlush >= FLUSH_MS) flush();
      if (now - lastStats >= STATS_MS) sendStats();
      if (now >= nextViews) publishViews();
      break;
    }
    case 'alert':
      engine?.addAlert(message.alert);
      break;
    case 'replay':
      nats?.replay(message.sensor, message.buffer, message.token, message.reset);
      break;
    case 'wanted':
      wantAll = message.all;
      if (!wantAll && matcher.size === 0) discard();
      break;
    case 'subscribe':
      try {
        matcher.add(message.id, message.filter);
      } catch (err) {
        // The main thread checked the filter before sending it: this is a bug, and the subscription keeps nothing.
        log?.error(
          { err: (err as Error).message, subscription: message.id },
          'cannot compile a WebSocket subscription',
        );
      }
      break;
    case 'unsubscribe':
      matcher.remove(message.id);
      if (!wantAll && matcher.size === 0) discard();
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
    case 'hold':
      Atomics.wait(new Int32Array(message.gate), 0, 0);
      break;
    case 'query': {
      const e = engine;
      try {
        if (e === undefined) throw new Error('decoder not started');
        const value =
          message.what === 'stats'
            ? e.stats()
            : e.reportText(message.sections, message.report ?? { limit: DEFAULT_REPORT_LIMIT });
        // Pending records first, so an answer never shows what the stream has not delivered yet.
        flush();
        post({ type: 'reply', id: message.id, value });
      } catch (err) {
        post({ type: 'reply', id: message.id, value: null, error: (err as Error).message });
      }
      break;
    }
  }
});
