/** Messages between the main thread (capture, HTTP, WebSocket) and the decoding worker. */
import type { DecoderOptions } from '@ca-shark/decoder';
import type { AlertNotice } from './alerts/alerts.js';
import type { AlertInput } from './alerts/book.js';
import type { AlertsConfig } from './alerts/config.js';
import type { NatsRole } from './nats/worker-side.js';
import type { WireRecord } from './engine.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import type { RecordRingOptions } from './record-ring.js';
import type { HistoryRequest, HistoryResult } from './history.js';
import type { HistoryOptions } from './history-ring.js';
import type { SpoolWriteRequest } from './history-spool.js';
import type { HistoryQuery } from './series-history.js';
import type { PcapRequest } from './pcap-export.js';
import type { CaptureCounters, SourceDescription } from './sources/types.js';
import type { SpoolShare } from './sources/spool.js';
import type { ReportOptions } from './model.js';
import type { SeriesRequest } from './series.js';
import type { StatsView } from './views.js';
import type { PublishedViews } from './views-publisher.js';

/**
 * What the main thread asks the worker for and waits on. Views (snapshot, tables) are never asked for: the
 * worker publishes them on a cadence (`views`) and the main thread serves its latest copy.
 */
export type Query = 'stats' | 'report' | 'metrics' | 'alerts';

/** Main → worker. */
export type ToWorker =
  | {
      type: 'init';
      decoder: DecoderOptions;
      logLevel: string;
      tty: boolean;
      description: SourceDescription;
      /** Bounds of the ring of streamed records (defaults: DEFAULT_RECORD_RING). */
      recordRing?: Partial<RecordRingOptions>;
      /** Bounds of the held records (`--history`; defaults: DEFAULT_HISTORY). */
      history?: HistoryOptions;
      /** Bytes of the raw packet ring behind `/api/pcap` (0: none; default DEFAULT_PACKET_RING_BYTES). */
      packetRing?: number;
      /** Snapshot length of live capture, for the exported interface descriptions. */
      snaplen?: number;
      /** Nice value the worker's thread takes before anything else (thread-nice.ts; default 0: unchanged). */
      decoderNice?: number;
      /** Warm the record path up before the first frame (worker-warmup.ts). */
      warmUp?: boolean;
      /**
       * File and stdin: the most frame bytes ever in flight to the worker (the pull window and a batch or two
       * being packed); the packet ring's blocks are asked for this far ahead, not RING_BLOCKS_AHEAD.
       */
      ringAheadBytes?: number;
      /** Stdin's spool on disk (sources/spool.ts): the packet ring keeps places in it, not copies. */
      spool?: SpoolShare;
      /**
       * Live capture: a batch that waited longer than the stall bound in force (the worker stalled) is dropped
       * unread, unless at most the kept bytes in force were in flight as it was posted (see
       * decoder-backlog.ts). Three Int32 cells the capture side keeps up to date: the stall bound in ms (0:
       * none), the kept bytes, and 1 while it sheds (its backlog held: the stream governor thins the streams);
       * a bound that tightens applies at once to the batches already waiting.
       */
      stallBounds: SharedArrayBuffer;
      /** Alert thresholds and severities (default DEFAULT_ALERTS_CONFIG). */
      alerts?: AlertsConfig;
      /** A sensor batches records for NATS; a central replays sensors' batches (see nats/). */
      nats?: NatsRole;
    }
  /** Central: an alert about a sensor (its drops, its silence). */
  | { type: 'alert'; alert: AlertInput }
  /** Central: one sensor's record batch to replay; answered by `replayed` with the same token. */
  | { type: 'replay'; sensor: string; buffer: ArrayBuffer; token: number; reset: boolean }
  /**
   * `frames` frames packed (frame-batch.ts) in the first `length` bytes of the transferred `buffer`, posted
   * at `postedAt` (Date.now()): how long it waited tells the worker whether it keeps up (stream-governor.ts).
   * `backlog`: frame bytes in flight when it was posted, itself included (the lag bound's minimum).
   */
  | { type: 'frames'; buffer: ArrayBuffer; length: number; frames: number; postedAt: number; backlog: number }
  | { type: 'describe'; description: SourceDescription }
  | { type: 'poll'; capture: CaptureCounters; hub: { clients: number; dropped: number }; decoderDropped: number }
  | { type: 'end' }
  /**
   * Records per second each stream is read at most (see Hub.demand): `everything` for consumers of every
   * record (clients subscribed to everything; Infinity for a record listener, which must get them all; 0
   * for none), `subscriptions` as [id, rate] pairs (an id not listed keeps every record it matches). The
   * worker samples each stream down to its rate before serialising anything; with no stream, it sends none.
   */
  | { type: 'demand'; everything: number; subscriptions: [number, number][] }
  /** A distinct WebSocket filter in use (canonical, checked by the main thread); ids are never reused. */
  | { type: 'subscribe'; id: number; filter: SubscriptionFilter }
  /** No client uses subscription `id` any more. */
  | { type: 'unsubscribe'; id: number }
  /**
   * Tests only: the worker blocks, as in a batch that never ends, until the Int32 at `gate[0]` becomes
   * non-zero (set with Atomics.store and Atomics.notify). Holds the decoder busy without timing anything.
   */
  | { type: 'hold'; gate: SharedArrayBuffer }
  | { type: 'query'; id: number; what: Query; sections?: string[]; report?: ReportOptions }
  /** Ids of records the hub sent to clients (kept for longer, see StreamedRecords). */
  | { type: 'sent'; ids: Float64Array }
  /** The full JSON text of streamed record `record` (its id), answered as a `reply` with null when gone. */
  | { type: 'record'; id: number; record: number }
  /** A chart series or the top talkers (series.ts), answered as a `reply` with their JSON text. */
  | { type: 'series'; id: number; request: SeriesRequest }
  /** Held records for a client that subscribed with `since` (answered by `history-start`, then `history`). */
  | { type: 'history'; req: HistoryRequest }
  /** Nobody waits for history request `request` any more. */
  | { type: 'history-cancel'; request: number }
  /** The chart aggregates over a range (`GET /api/history`), answered as a `reply` with the JSON text. */
  | { type: 'history-series'; id: number; query: HistoryQuery }
  /** Starts pcap export `id` (pcap-export.ts); the worker answers with its first `pcap-chunk`. */
  | { type: 'pcap'; id: number; request: PcapRequest }
  /** The next chunk of export `id`, or stop it. */
  | { type: 'pcap-pull'; id: number }
  | { type: 'pcap-cancel'; id: number }
  /** A block for the packet ring's store, allocated and written once (pre-faulted) by the capture thread. */
  | { type: 'ring-block'; buffer: ArrayBuffer }
  /** Acknowledge alert group `key`; answered as a `reply` with true, or false when no such group is held. */
  | { type: 'ack'; id: number; key: string };

/** Worker → main. */
export type FromWorker =
  /**
   * A batch of records in capture order, and for each subscription (EVERYTHING for clients subscribed to
   * everything) that keeps some of them the ascending indexes of those it keeps, and how many records it
   * matched in all (matched and sampled in the worker, against the subscriptions it had when it decoded them).
   * `postedAt`: when the capture thread posted the newest frame batch decoded into them (Date.now() ms; absent
   * for records replayed from sensors): how long decoding held the newest record up (Live's lag stages);
   * `decodedAt`: when the worker posted this message (Date.now() ms), so the main thread's own queue shows.
   */
  | {
      type: 'records';
      items: WireRecord[];
      matches: Map<number, Uint32Array>;
      matched: Map<number, number>;
      postedAt?: number;
      decodedAt?: number;
    }
  /** `batchBytes`: bytes of frame batches decoded so far (the main thread bounds what is in flight). */
  | { type: 'stats'; stats: StatsView; eof: boolean; linktype?: number }
  /**
   * Sent after every `frames` batch is decoded: `batchBytes` of batches decoded so far. The main thread's
   * credit for flow control: it bounds the bytes in flight, pausing file and stdin sources (or, for live
   * capture, dropping batches) while the worker is behind. `dropped`: frames of that batch left undecoded
   * because it waited too long (live capture; counted as decoder drops).
   */
  | { type: 'decoded'; batchBytes: number; dropped: number }
  /**
   * A frame batch's buffer handed back for a later batch: it is decoded and nothing in the worker points
   * into it any more (the packet ring let go of its last frame from it).
   */
  | { type: 'free'; buffer: ArrayBuffer }
  /** A held records' chunk to write to the history spool: written on the main thread's writer (history-spool.ts). */
  | SpoolWriteRequest
  /**
   * The packet ring will need `count` more blocks of `bytes` (answered by as many `ring-block` messages):
   * the capture thread takes their page faults, not the decoder.
   */
  | { type: 'ring-blocks'; count: number; bytes: number }
  /** Views computed on the worker's cadence; the main thread answers from the latest ones. */
  | ({ type: 'views' } & PublishedViews)
  | { type: 'reply'; id: number; value: unknown; error?: string }
  /**
   * History request `request` was taken: every record up to its seam went out in `records` batches before
   * this message, every later one goes in batches after it.
   */
  | { type: 'history-start'; request: number }
  /** The held records a history request sends. */
  | { type: 'history'; result: HistoryResult }
  /** A chunk of pcap export `id` (its buffer transferred); `done` without a chunk at the end. */
  | { type: 'pcap-chunk'; id: number; chunk?: Uint8Array; done: boolean; error?: string; changed?: boolean }
  /** Alert groups that opened or came back (for the webhook). */
  | { type: 'alerts'; notices: AlertNotice[] }
  /** Sensor: a record batch to publish (nats/codec.ts). */
  | { type: 'batch'; buffer: ArrayBuffer; records: number }
  /** Central: batch `token` is in the engine's state (or could not be read: `error`). */
  | { type: 'replayed'; token: number; records: number; error?: string };
