import {
  type AnalysisRecord,
  Analyzer,
  circuitEndReason,
  type Report,
  type Steps,
  eachSteps,
  isFailure,
  mapSteps,
  recordToJSON,
  resolveSections,
  runSteps,
  topSteps,
} from '@ca-shark/analysis';
import {
  type CaRecord,
  type ChannelInfo,
  type CircuitInfo,
  type DecoderOptions,
  type DecoderState,
  DEFAULT_REPEATER_PORT,
  createDecoder,
} from '@ca-shark/decoder';
import { type LiveRecord, type ValueFormat, failureStatus, summarizeFields } from '@ca-shark/analysis/summary';
import { type CommandFields, dbrTypeName } from '@ca-shark/protocol';
import { type PacketEvent, PacketPipeline } from '@ca-shark/packet';
import type { Logger } from 'pino';
import {
  BoundedLru,
  ChannelTable,
  PendingReads,
  RateMeter,
  RecentErrors,
  SearchMatcher,
  ServerLatencies,
  hostOf,
  latencyKind,
  recordFailed,
  rowValue,
  summaryOf,
} from './aggregates.js';
import type { DaemonModel, ReportOptions, TableName, ViewText } from './model.js';
import { ALERT_SECTIONS, type AlertNotice, EngineAlerts, alertMetrics } from './alerts/alerts.js';
import type { AlertInput } from './alerts/book.js';
import type { AlertsConfig } from './alerts/config.js';
import { cutReport } from './report-cut.js';
import { ServerMetrics } from './server-metrics.js';
import { type ChannelDisplay, learnDisplay } from './channel-display.js';
import { type PvPast, type SeriesLimits, type SeriesRequest, SeriesStore } from './series.js';
import type { CaptureCounters, SourceDescription, SourceProblem, SourceSink } from './sources/types.js';
import type {
  ChannelView,
  ClientView,
  HealthView,
  HistoryHeldView,
  PacketRingView,
  SearchView,
  ServerView,
  SnapshotView,
  SourceView,
  StatsView,
  UnansweredView,
} from './views.js';
import type { PacketRing } from './packet-ring.js';
import type { HeldRecords } from './history-ring.js';

/**
 * What `stats` says of the packet ring and the held history (`packetRing`, `history`), each absent when it
 * holds nothing by configuration: counters and one lookup by frame number, cheap enough for every stats
 * message (the decoding worker sends one every 250 ms).
 */
export function heldStats(
  ring: PacketRing | undefined,
  held: HeldRecords | undefined,
): { packetRing?: PacketRingView; history?: HistoryHeldView } {
  const out: { packetRing?: PacketRingView; history?: HistoryHeldView } = {};
  if (ring !== undefined) {
    const r = ring.stats;
    out.packetRing = {
      bytes: r.bytes,
      maxBytes: r.maxBytes,
      frames: r.frames,
      messages: r.messages,
      oldestTime: ring.oldestTime,
      newestTime: ring.newestTime,
      evictedFrames: r.evictedFrames,
      droppedMessages: r.droppedMessages,
    };
  }
  if (held !== undefined && held.bounds.maxRecords > 0) {
    const b = held.bounds;
    out.history = {
      records: held.size,
      maxRecords: b.maxRecords,
      // JSON has no Infinity: no time bound is null.
      maxSeconds: Number.isFinite(b.maxSeconds) ? b.maxSeconds : null,
      oldestTime: held.oldestTime,
      dropped: held.dropped,
      ...(held.spoolStatus !== undefined ? { spool: held.spoolStatus } : {}),
    };
  }
  return out;
}

/**
 * A record as it crosses from the decoding worker to the main thread: the JSON text of its
 * {@link LiveRecord}, what WebSocket clients are sent, and nothing else. WebSocket subscriptions are matched
 * in the worker (see subscriptions.ts), so the main thread needs no field of the record; a string also
 * crosses threads about 20 times cheaper than an object with the fields filters used to read.
 */
export type WireRecord = string;

/** A record as a central replays it: with the sensor that captured it (set by nats/worker-side.ts's decorate). */
export type SensedRecord = CaRecord & { sensor?: string };

/**
 * The {@link WireRecord} of a decoded record: the compact form a live row shows (endpoints, command, PV,
 * one-line summary, latency, status), under the daemon-wide sequence number `id`. The full record is
 * {@link fullRecordJSON}, served on demand. `channel` formats the value as its channel's display settings say;
 * `sensor` names the sensor a central got the record from. `summary` is the record's {@link summarizeFields}
 * line with that `channel` when the caller made it already (making it is half the cost of serialising a
 * streamed record).
 */
export function toWire(
  record: CaRecord,
  id: number,
  channel?: ValueFormat,
  sensor?: string,
  summary: string = summarizeFields(record.command, undefined, channel),
): WireRecord {
  const command = record.command;
  const transport = record.transport;
  const live: LiveRecord = {
    id,
    frame: record.frame,
    t: record.timestamp,
    src: `${record.src}:${transport.sport}`,
    dst: `${record.dst}:${transport.dport}`,
    proto: transport.protocol,
    cmd: command.name,
    pv: record.pv,
    summary,
    latency: record.latency ?? null,
    status: failureStatus(command),
    error: isFailure(record),
    size: record.size,
    ...(sensor !== undefined ? { sensor } : {}),
  };
  return JSON.stringify(live);
}

/** The `id` of a {@link WireRecord} (its JSON text starts with it), or NaN for any other text. */
export function wireRecordId(wire: WireRecord): number {
  const prefix = '{"id":';
  if (!wire.startsWith(prefix)) return Number.NaN;
  const end = wire.indexOf(',', prefix.length);
  return Number(wire.slice(prefix.length, end));
}

/**
 * The full record in the shared JSON form (`ca-shark --json`, with `raw` hex bytes), led by its `id`:
 * what `GET /api/record/:id` answers.
 */
export function fullRecordJSON(record: CaRecord, id: number): string {
  return `{"id":${id},${recordToJSON(record).slice(1)}`;
}

/** Options of an {@link Engine}. */
export interface EngineOptions {
  /** What the source is (for health and hello). */
  describe: () => SourceDescription;
  /** libpcap's counters, read on demand. */
  counters: () => CaptureCounters;
  /**
   * Receives every record, in capture order, with what is known of its channel's display (precision,
   * units, enum strings from earlier GR/CTRL replies) when it carries a value. The record's message bytes
   * are lent for the call only (the decoder's `keepBytes: 'lend'` and `lentBytes`): a receiver that keeps a
   * record and wants its bytes copies them then (record-ring.ts's keepRecordBytes).
   */
  publish: (record: CaRecord, channel?: ValueFormat) => void;
  /** WebSocket counters for the stats view. */
  hubStats: () => { clients: number; dropped: number };
  /** Frames dropped before reaching the decoder (the worker's backlog bound); default none. */
  decoderDropped?: () => number;
  logger: Logger;
  /**
   * Decoder options (CA ports, limits); `keepBytes` is always 'lend': every record's bytes are there while it
   * is published, and copied only by those who keep them (the dashboard's hex dump, a NATS sensor).
   */
  decoder?: DecoderOptions;
  /** Rows per table in snapshots (API answers are capped at `apiRows`). */
  snapshotRows?: number;
  apiRows?: number;
  /** Wall clock in ms (tests). */
  now?: () => number;
  /** Bounds of the chart series (see series.ts). */
  series?: Partial<SeriesLimits>;
  /** Sees the frames and packet events on their way to the decoder (the packet ring, packet-ring.ts). */
  packets?: PacketTap;
  /** Alert thresholds and severities (default DEFAULT_ALERTS_CONFIG). */
  alerts?: AlertsConfig;
  /** Called when an alert group opens or comes back (the daemon's webhook). */
  onAlert?: (notice: AlertNotice) => void;
  /** Called when the decoder ends a circuit (a sensor publishes it, see nats/). */
  circuitClosed?: (circuit: CircuitInfo) => void;
  /** Called with every record before the engine uses it (a central fills in what its sensor knew). */
  decorate?: (record: CaRecord) => void;
  /** A central's sensor of a circuit, for the views (undefined: not a central, or forgotten). */
  circuitSensor?: (circuit: number) => string | undefined;
}

/**
 * Watches frames and packet events go into the decoder. With a tap the engine runs the packet layer itself
 * and feeds the decoder its events, so the tap sees each event just before the decoder and learns which
 * frames carried which records.
 */
export interface PacketTap {
  /** Frame `frame` (numbered from 1 as the decoder numbers them) is about to be decoded. */
  frame(
    frame: number,
    linktype: number,
    timestamp: number,
    bytes: Uint8Array,
    origlen: number,
    interfaceId: number,
  ): void;
  /** A packet event of the current frame, before the decoder gets it. */
  event(event: PacketEvent): void;
  /** The decoder has handled the last event (and emitted its records). */
  afterEvent(): void;
  /** The current frame is decoded. */
  frameDone(frame: number): void;
}

/** Beacon history of one server for the period estimate. */
interface BeaconTrack {
  last: number;
  periods: number[];
}

const BEACON_PERIODS_KEPT = 8;

/** Access rights bits → text. */
function accessText(bits: number | null): string | null {
  if (bits === null) return null;
  const read = (bits & 1) !== 0;
  const write = (bits & 2) !== 0;
  return read && write ? 'rw' : read ? 'r' : write ? 'w' : '-';
}

/** The decoder's channel states as the Channels view names them ('cleared' is 'closed' there). */
function channelState(status: string): string {
  return status === 'cleared' ? 'closed' : status;
}

/** Client endpoints listed per never-answered PV. */
const UNANSWERED_CLIENTS_LISTED = 20;
/** Never-answered PVs a snapshot lists. */
const UNANSWERED_LISTED = 100;

/** A searched PV while its figures are gathered (see Engine.searchRows). */
interface SearchRow extends Omit<SearchView, 'clients' | 'timeToFind'> {
  /** The first client endpoint that searched it. */
  client: string;
  /** Every client endpoint that searched it, once a second one did (null: only `client`). */
  clients: Set<string> | null;
  /** First search → first reply per client and CID answered (seconds), null for none. */
  waits: number[] | null;
}

/** The servers of a PV nobody answered (shared, never modified). */
const NO_SERVERS: string[] = [];

/** Circuit endpoints listed per client process row. */
const CIRCUIT_ENDPOINTS_LISTED = 20;

/** The first `n` values of a set, in insertion order. */
function firstOf<T>(set: ReadonlySet<T>, n: number): T[] {
  const out: T[] = [];
  for (const v of set) {
    if (out.length >= n) break;
    out.push(v);
  }
  return out;
}

/** The latest `n` values of an insertion-ordered map. */
function latest<V>(map: ReadonlyMap<unknown, V>, n: number): V[] {
  const all = Array.from(map.values());
  return all.length > n ? all.slice(all.length - n) : all;
}

/**
 * The daemon's decoding core: takes frames, runs them through the decoder, publishes records, and answers
 * with views of the decoder's conversation state. It runs in a worker thread (see engine-worker.ts) so that
 * decoding never blocks the HTTP server; it works the same in-process.
 */
export class Engine implements DaemonModel, SourceSink {
  private readonly describe: () => SourceDescription;
  private readonly counters: () => CaptureCounters;
  private readonly publish: (record: CaRecord, channel?: ValueFormat) => void;
  /** The display of the current record's channel, when it carries a value (see channelActivity). */
  private recordDisplay: ChannelDisplay | undefined;
  private readonly hubStats: () => { clients: number; dropped: number };
  private readonly decoderDropped: () => number;
  private lastDecoderDropped = 0;
  private readonly log: Logger;
  private readonly decoder: ReturnType<typeof createDecoder>;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly snapshotRows: number;
  private readonly apiRows: number;
  private packets = 0;
  private bytes = 0;
  private ended = false;
  private problems = 0;
  private readonly rate = new RateMeter();
  private readonly latencies = new ServerLatencies();
  /** Per-IOC, per-client and per-PV time series for the charts. */
  private readonly series: SeriesStore;
  /** Channels (one per circuit and CID) with their activity, and the closed ones' history. */
  private readonly channelTable = new ChannelTable();
  /** Search replies waiting for the channel creation they lead to. */
  private readonly searchMatches = new SearchMatcher();
  private readonly pendingReads = new PendingReads();
  /** Circuit id → the search socket "ip:port" of the client process that opened it. */
  private readonly circuitProcess = new BoundedLru<number, string>(10_000);
  private readonly beacons = new BoundedLru<string, BeaconTrack>(10_000);
  private readonly errors = new RecentErrors();
  /** Per-server Prometheus series (messages, bytes, latency histograms) for the busiest servers. */
  private readonly serverMetrics = new ServerMetrics();
  /** Deduplicated alert groups and their sources (storms, analyses, drops). */
  private readonly alerts: EngineAlerts;
  private lastCapture: CaptureCounters = { received: 0, dropped: 0, ifDropped: 0 };
  private linktype: number | undefined;
  private readonly listeners: ((record: CaRecord) => void)[] = [];
  private readonly decorate: ((record: CaRecord) => void) | undefined;
  private readonly circuitSensor: ((circuit: number) => string | undefined) | undefined;
  private readonly repeater: number;
  /** The analyses of @ca-shark/analysis, kept live (search storms, duplicates, beacon anomalies, ...). */
  private readonly analyzer = new Analyzer();
  /** Aggregations shared by the views of one publication (see {@link Engine.shared}). */
  private sharedWork: Map<string, unknown> | undefined;
  private readonly tap: PacketTap | undefined;
  /** The packet layer, run here when a tap watches it (else the decoder runs its own). */
  private readonly pipeline: PacketPipeline | undefined;

  constructor(options: EngineOptions) {
    this.describe = options.describe;
    this.counters = options.counters;
    this.publish = options.publish;
    this.hubStats = options.hubStats;
    this.decoderDropped = options.decoderDropped ?? (() => 0);
    this.log = options.logger;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.snapshotRows = options.snapshotRows ?? 500;
    this.apiRows = options.apiRows ?? 10_000;
    this.alerts = new EngineAlerts(options.alerts, options.onAlert);
    this.series = new SeriesStore(options.series);
    this.decorate = options.decorate;
    this.circuitSensor = options.circuitSensor;
    this.repeater = options.decoder?.repeaterPort ?? DEFAULT_REPEATER_PORT;
    const circuitClosed = options.circuitClosed;
    this.decoder = createDecoder({
      ...options.decoder,
      keepBytes: 'lend',
      onRecord: (record: CaRecord) => this.onRecord(record),
      onCircuitClose: (circuit) => {
        const reason = circuitEndReason(circuit.closeReason);
        if (reason !== null) {
          this.analyzer.closeCircuit(circuit.id, circuit.closedAt ?? circuit.lastSeen, reason);
        }
        circuitClosed?.(circuit);
      },
    });
    const tap = options.packets;
    this.tap = tap;
    if (tap !== undefined) {
      const decoder = this.decoder;
      this.pipeline = new PacketPipeline({
        onEvent: (event) => {
          tap.event(event);
          decoder.feed(event);
          tap.afterEvent();
        },
      });
    }
  }

  /** The decoder's conversation state (read-only). */
  get state(): DecoderState {
    return this.decoder.state;
  }

  /** True once the source reached its end (stdin EOF, end of a replayed file). */
  get eof(): boolean {
    return this.ended;
  }

  /**
   * Moves whenever a view could have changed (frames taken, records decoded, alerts raised, the input
   * ended): a view computed at one generation is still exact while it stays the same.
   */
  get generation(): number {
    return this.packets + this.decoder.state.statistics.records + this.alerts.book.changes + (this.ended ? 1 : 0);
  }

  /** Wall clock in Unix seconds, the time views carry. */
  wallTime(): number {
    return this.now() / 1000;
  }

  /** Calls `listener` for every record (benchmarks and tests). */
  onRecordListener(listener: (record: CaRecord) => void): void {
    this.listeners.push(listener);
  }

  // ---- SourceSink ----

  frame(linktype: number, timestamp: number, bytes: Uint8Array, origlen: number, interfaceId = 0): void {
    this.packets += 1;
    this.bytes += bytes.length;
    this.linktype = linktype;
    const tap = this.tap;
    if (tap === undefined || this.pipeline === undefined) {
      this.decoder.pushFrame(linktype, timestamp, bytes, origlen);
      return;
    }
    tap.frame(this.packets, linktype, timestamp, bytes, origlen, interfaceId);
    this.pipeline.pushFrame(linktype, timestamp, bytes, origlen);
    tap.frameDone(this.packets);
  }

  /** Also decodes `port` as a CA server port (a central learns its sensors' ports). */
  addServerPort(port: number): void {
    this.decoder.addServerPort(port);
  }

  /** The CA repeater port the decoder knows. */
  get repeaterPort(): number {
    return this.repeater;
  }

  /** One packet-layer event rebuilt from a sensor's records (central mode, see nats/replay.ts). */
  feed(event: PacketEvent): void {
    this.packets += 1;
    if (event.type !== 'problem') this.bytes += event.packet.caplen;
    this.decoder.feed(event);
  }

  problem(problem: SourceProblem): void {
    this.problems += 1;
    if (this.problems <= 10) this.log.warn({ frame: problem.frame, code: problem.code }, problem.message);
  }

  end(): void {
    if (this.ended) return;
    this.pipeline?.end();
    this.decoder.end();
    this.ended = true;
    const stats = this.decoder.state.statistics;
    this.log.info(
      { packets: this.packets, messages: stats.records, malformed: stats.malformed },
      'input ended; serving the final state',
    );
  }

  error(err: Error): void {
    this.log.error({ err: err.message }, 'capture source failed; serving what was decoded so far');
  }

  // ---- records ----

  private onRecord(record: CaRecord): void {
    this.decorate?.(record);
    const cmd = record.command;
    this.recordDisplay = undefined;
    // Undirected faults (role null) say nothing the analyses could use.
    if (record.role !== null) this.analyzer.add(record as CaRecord & AnalysisRecord);
    if (record.server !== undefined) {
      const kind = record.request !== undefined ? latencyKind(record.request.command) : undefined;
      if (kind !== undefined && record.latency !== undefined) this.latencies.add(record.server, kind, record.latency);
      this.serverMetrics.add(record.server, record.size, kind, record.latency);
    }
    this.channelActivity(record);
    if (cmd.name === 'SearchRequest' && record.pv !== null && record.client !== undefined) {
      const search = this.decoder.state.searches.get(`${record.client}/${cmd.cid}`);
      this.alerts.search(record.pv, record.client, record.timestamp, search !== undefined && search.requests > 1);
    }
    this.series.add(record);
    if (cmd.name === 'Beacon' && record.server !== undefined) {
      const track = this.beacons.get(record.server);
      if (track === undefined) this.beacons.set(record.server, { last: record.timestamp, periods: [] });
      else {
        track.periods.push(record.timestamp - track.last);
        if (track.periods.length > BEACON_PERIODS_KEPT) track.periods.shift();
        track.last = record.timestamp;
      }
    }
    if (recordFailed(record)) {
      // Whichever of these fields the failed command has.
      const fields: CommandFields = cmd;
      const status = fields.status;
      const sensor = (record as SensedRecord).sensor;
      this.errors.add({
        ...(sensor !== undefined ? { sensor } : {}),
        time: record.timestamp,
        command: cmd.name,
        pv: record.pv,
        src: `${record.src}:${record.transport.sport}`,
        dst: `${record.dst}:${record.transport.dport}`,
        detail:
          typeof fields.reason === 'string'
            ? fields.reason
            : typeof fields.status_name === 'string'
              ? fields.status_name
              : typeof fields.error_message === 'string'
                ? fields.error_message
                : status !== undefined
                  ? `status ${String(status)}`
                  : cmd.name,
      });
    }
    this.publish(record, this.recordDisplay);
    for (const listener of this.listeners) listener(record);
  }

  /**
   * Per-channel bookkeeping the decoder's state does not keep: values and update counts, the search reply
   * that found the channel, and which client process (search socket) opened which circuit.
   */
  private channelActivity(record: CaRecord): void {
    const cmd = record.command;
    const state = this.decoder.state;
    switch (cmd.name) {
      case 'SearchResponse': {
        const cid = cmd.cid;
        if (typeof cid !== 'number' || record.pv === null || record.client === undefined || record.server === undefined)
          return;
        const search = state.searches.get(`${record.client}/${cid}`);
        const replyTime = record.latency;
        if (search === undefined || replyTime === undefined) return;
        this.searchMatches.answered(record.client, cid, record.pv, {
          socket: record.client,
          server: record.server,
          replyTime,
          timeToFind: record.timestamp - search.first.timestamp,
          at: record.timestamp,
        });
        return;
      }
      case 'CreateChanResponse': {
        const cid = cmd.cid;
        if (
          typeof cid !== 'number' ||
          record.circuit === undefined ||
          record.pv === null ||
          record.client === undefined
        )
          return;
        const channel = state.circuits.get(record.circuit)?.channelsByCid.get(cid);
        if (channel === undefined) return;
        const entry = this.channelTable.track(channel);
        const match = this.searchMatches.claim(
          record.client,
          cid,
          record.pv,
          record.server ?? null,
          record.request?.timestamp ?? record.timestamp,
        );
        if (match === null) return;
        entry.search = match;
        if (this.circuitProcess.get(record.circuit) === undefined)
          this.circuitProcess.set(record.circuit, match.socket);
        return;
      }
      case 'ReadNotifyRequest':
      case 'ReadRequest': {
        if (record.circuit === undefined || typeof cmd.sid !== 'number' || typeof cmd.ioid !== 'number') return;
        const channel = state.circuits.get(record.circuit)?.channelsBySid.get(cmd.sid);
        if (channel !== undefined) this.pendingReads.set(record.circuit, cmd.ioid, channel);
        return;
      }
      case 'ReadNotifyResponse':
      case 'ReadResponse':
      case 'EventAddResponse': {
        if (record.circuit === undefined) return;
        const isUpdate = cmd.name === 'EventAddResponse';
        const circuit = state.circuits.get(record.circuit);
        let channel: Readonly<ChannelInfo> | null | undefined;
        if (!isUpdate && typeof cmd.ioid === 'number') {
          // libca refreshes monitors with a READ_NOTIFY that reuses the subscription id.
          channel = this.pendingReads.take(record.circuit, cmd.ioid) ?? circuit?.subscriptions.get(cmd.ioid)?.channel;
        } else if (isUpdate && typeof cmd.subscriptionid === 'number') {
          channel = circuit?.subscriptions.get(cmd.subscriptionid)?.channel;
        }
        if (channel !== null && channel !== undefined && cmd.data !== undefined) {
          const entry = this.channelTable.value(channel, cmd.data, isUpdate, record.timestamp);
          entry.display = learnDisplay(entry.display, cmd.data_type, cmd.metadata);
          this.recordDisplay = entry.display ?? undefined;
        }
        return;
      }
      default:
        return;
    }
  }

  // ---- periodic work ----

  /**
   * Samples the message rate and libpcap's counters; called every second by the server. Rising drops are
   * logged at warn and become an alert: dropped packets are never silent.
   */
  poll(): void {
    this.rate.sample(this.now(), this.decoder.state.statistics.records);
    const capture = this.counters();
    const newDrops = capture.dropped - this.lastCapture.dropped + (capture.ifDropped - this.lastCapture.ifDropped);
    if (newDrops > 0) {
      this.log.warn(
        { dropped: capture.dropped, ifDropped: capture.ifDropped, received: capture.received, new: newDrops },
        'libpcap dropped packets: decoding cannot keep up or the capture buffer is too small (--buffer-size)',
      );
      this.alerts.drops(
        'capture-drops',
        this.now() / 1000,
        `libpcap dropped ${newDrops} packets (${capture.dropped + capture.ifDropped} in total); raise --buffer-size or narrow the filter`,
      );
    }
    this.lastCapture = { ...capture };
    const decoderDropped = this.decoderDropped();
    if (decoderDropped > this.lastDecoderDropped) {
      this.alerts.drops(
        'decoder-drops',
        this.now() / 1000,
        `decoding fell behind: ${decoderDropped - this.lastDecoderDropped} frames dropped before decoding (${decoderDropped} in total); narrow the capture filter`,
      );
      this.lastDecoderDropped = decoderDropped;
    }
  }

  /** The per-server Prometheus families (see server-metrics.ts) and the alert groups held. */
  metricsText(): string {
    return this.serverMetrics.render() + alertMetrics(this.alerts.book.totals());
  }

  /** Every alert group held and the totals (`GET /api/alerts`), as JSON text. */
  alertsText(): string {
    return JSON.stringify({ groups: this.alerts.book.list(), totals: this.alerts.book.totals() });
  }

  /** Acknowledges alert group `key` (see AlertBook); false when no such group is held. */
  acknowledgeAlert(key: string): boolean {
    return this.alerts.book.acknowledge(key, this.wallTime());
  }

  /** Raises an alert from outside the engine (a central's about one of its sensors) into the alert groups. */
  addAlert(alert: AlertInput): void {
    this.alerts.book.raise(alert);
  }

  // ---- DaemonModel ----

  source(): SourceView {
    const d = this.describe();
    const linktype = d.linktype ?? this.linktype;
    return { ...d, ...(linktype !== undefined ? { linktype } : {}) };
  }

  health(): HealthView {
    return { status: 'ok', uptime: (this.now() - this.startedAt) / 1000, source: this.source(), eof: this.ended };
  }

  stats(): StatsView {
    const s = this.decoder.state.statistics;
    const hub = this.hubStats();
    return {
      packets: this.packets,
      bytes: this.bytes,
      messages: s.records,
      messagesPerSecond: this.rate.rate(),
      perCommand: { ...s.byCommand },
      malformed: s.malformed,
      decoderDropped: this.decoderDropped(),
      skippedFlows: { ...s.skipped },
      capture: this.counters(),
      websocket: { clients: hub.clients, dropped: hub.dropped },
    };
  }

  channels(limit = this.apiRows): ChannelView[] {
    return runSteps(this.channelsSteps(limit));
  }

  /** {@link Engine.channels} in steps (see slices.ts). */
  *channelsSteps(limit = this.apiRows): Steps<ChannelView[]> {
    const state = this.decoder.state;
    // A channel seen by SID first is merged into the one its CID names; its activity follows it there.
    yield* this.shareSteps('channel-sync', () =>
      this.channelTable.syncSteps(state.channels, (gone) =>
        gone.sid === null ? undefined : state.circuits.get(gone.circuit)?.channelsBySid.get(gone.sid),
      ),
    );
    const wanted = yield* this.channelTable.rowsSteps(limit);
    // One pass over the subscriptions of the circuits involved, not one per channel.
    const subscriptions = new Map<Readonly<ChannelInfo>, number>();
    const circuits = new Set(wanted.map((entry) => entry.info.circuit));
    for (const id of circuits) {
      const circuit = state.circuits.get(id);
      if (circuit === undefined) continue;
      yield* eachSteps(Array.from(circuit.subscriptions.values()), (sub) => {
        if (sub.channel !== null && sub.cancel === null)
          subscriptions.set(sub.channel, (subscriptions.get(sub.channel) ?? 0) + 1);
      });
    }
    const sensorOf = this.circuitSensor;
    return yield* mapSteps(wanted, (entry): ChannelView => {
      const { info: ch, updates, display, firstUpdate, lastUpdate, search } = entry;
      const circuit = state.circuits.get(ch.circuit);
      const span = firstUpdate !== null && lastUpdate !== null ? lastUpdate - firstUpdate : 0;
      const sensor = sensorOf?.(ch.circuit);
      return {
        ...(sensor !== undefined ? { sensor } : {}),
        pv: ch.pv ?? '',
        client: ch.client ?? circuit?.client ?? null,
        server: ch.server ?? circuit?.server ?? null,
        circuit: ch.circuit,
        cid: ch.cid,
        sid: ch.sid,
        state: channelState(ch.status),
        closedAt: ch.endedAt,
        nativeType: ch.nativeType === null ? null : (dbrTypeName(ch.nativeType) ?? String(ch.nativeType)),
        count: ch.nativeCount,
        access: accessText(ch.accessRights),
        subscriptions: ch.endedAt === null ? (subscriptions.get(ch) ?? 0) : 0,
        updates,
        updateRate: updates > 1 && span > 0 ? (updates - 1) / span : null,
        lastValue: rowValue(entry),
        display,
        searchLatency: search?.replyTime ?? null,
        timeToFind: search?.timeToFind ?? null,
        connectLatency: ch.connectLatency,
        firstSeen: ch.created?.timestamp ?? ch.connectedAt,
        lastSeen: ch.endedAt ?? lastUpdate ?? ch.connectedAt,
      };
    });
  }

  servers(limit = this.apiRows): ServerView[] {
    return runSteps(this.serversSteps(limit));
  }

  /** {@link Engine.servers} in steps. */
  *serversSteps(limit = this.apiRows): Steps<ServerView[]> {
    const state = this.decoder.state;
    const sensorOf = this.circuitSensor;
    const { counts: channelsPerServer, sensors } = yield* this.shareSteps('channels-per-server', function* () {
      const counts = new Map<string, number>();
      // A central: the sensors whose circuits reach each server (one unless two subnets share addresses).
      const sensors = new Map<string, Set<string>>();
      yield* eachSteps(Array.from(state.channels.values()), (ch) => {
        if (ch.server === null) return;
        counts.set(ch.server, (counts.get(ch.server) ?? 0) + 1);
        const sensor = sensorOf?.(ch.circuit);
        if (sensor === undefined) return;
        let set = sensors.get(ch.server);
        if (set === undefined) sensors.set(ch.server, (set = new Set()));
        set.add(sensor);
      });
      return { counts, sensors };
    });
    return latest(state.servers, limit).map((s) => {
      const track = this.beacons.get(s.address);
      const periods = track?.periods ?? [];
      const seenBy = sensors.get(s.address);
      return {
        ...(seenBy !== undefined ? { sensor: [...seenBy].sort().join(',') } : {}),
        address: s.address,
        circuits: s.circuits,
        channels: channelsPerServer.get(s.address) ?? 0,
        beacons: s.beacons,
        beaconPeriod: periods.length > 0 ? periods.reduce((a, b) => a + b, 0) / periods.length : null,
        lastBeacon: s.lastBeaconTime,
        lastBeaconId: s.lastBeaconId,
        latency: this.latencies.summaries(s.address),
      };
    });
  }

  /**
   * One row per client process: its search socket with the circuits its searches led to (linked when a
   * channel creation claims a search reply), or a lone circuit whose channels no captured search found.
   */
  clients(limit = this.apiRows): ClientView[] {
    return runSteps(this.clientsSteps(limit));
  }

  /** {@link Engine.clients} in steps. */
  *clientsSteps(limit = this.apiRows): Steps<ClientView[]> {
    const out = yield* this.shareSteps('clients', () => this.clientRowsSteps());
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  private *clientRowsSteps(): Steps<ClientView[]> {
    const state = this.decoder.state;
    // `sensors`: a central's sensors that saw the row's circuits (null elsewhere).
    type Row = ClientView & { first: number; last: number; waits: number[]; sensors: Set<string> | null };
    // Keyed by endpoint, not by the row key, so the per-search lookups build no strings.
    const bySocket = new Map<string, Row>();
    const byCircuit = new Map<string, Row>();
    const row = (rows: Map<string, Row>, endpoint: string, udp: boolean): Row => {
      let r = rows.get(endpoint);
      if (r === undefined) {
        const colon = endpoint.lastIndexOf(':');
        r = {
          process: `${udp ? 'udp' : 'tcp'} ${endpoint}`,
          host: hostOf(endpoint),
          hostname: null,
          user: null,
          searchPort: udp && colon >= 0 ? Number(endpoint.slice(colon + 1)) : null,
          circuitEndpoints: [],
          circuits: 0,
          channels: 0,
          searches: 0,
          searchRate: 0,
          timeToFind: null,
          first: Infinity,
          last: -Infinity,
          waits: [],
          sensors: null,
        };
        rows.set(endpoint, r);
      }
      return r;
    };
    const socketRow = (socket: string): Row => row(bySocket, socket, true);
    yield* eachSteps(Array.from(state.clients.values()), (c) => {
      const r = socketRow(c.address);
      r.searches += c.searches;
      r.first = Math.min(r.first, c.firstSeen);
      r.last = Math.max(r.last, c.lastSeen);
    });
    yield* eachSteps(Array.from(state.searches.values()), (s) => {
      if (s.firstReply !== null) socketRow(s.client).waits.push(s.firstReply.timestamp - s.first.timestamp);
    });
    for (const c of Array.from(state.circuits.values())) {
      if (c.client === null) continue;
      const socket = this.circuitProcess.get(c.id);
      const r = socket !== undefined ? socketRow(socket) : row(byCircuit, c.client, false);
      r.circuits += 1;
      r.channels += c.channelsByCid.size;
      if (r.circuitEndpoints.length < CIRCUIT_ENDPOINTS_LISTED) r.circuitEndpoints.push(c.client);
      if (c.hostName !== null) r.hostname = c.hostName;
      if (c.userName !== null) r.user = c.userName;
      const sensor = this.circuitSensor?.(c.id);
      if (sensor !== undefined) (r.sensors ??= new Set()).add(sensor);
    }
    const out: ClientView[] = [];
    for (const { first, last, waits, sensors, ...view } of [...bySocket.values(), ...byCircuit.values()]) {
      if (sensors !== null) view.sensor = [...sensors].sort().join(',');
      const span = Number.isFinite(first) ? Math.max(1, last - first) : 1;
      out.push({ ...view, searchRate: view.searches / span, timeToFind: summaryOf(waits) });
    }
    return out;
  }

  /**
   * Per PV: its search figures, most searched first: the first {@link Engine.apiRows}, and the first
   * {@link UNANSWERED_LISTED} of those nobody answered. One pass over the decoder's searches serves the
   * searches table and the unanswered list (shared while views are published, see {@link Engine.shared}).
   */
  private *searchRowsSteps(): Steps<{ top: SearchRow[]; unanswered: SearchRow[] }> {
    return yield* this.shareSteps('searches', () => this.searchPassSteps());
  }

  private *searchPassSteps(): Steps<{ top: SearchRow[]; unanswered: SearchRow[] }> {
    const byPv = new Map<string, SearchRow>();
    yield* eachSteps(Array.from(this.decoder.state.searches.values()), (s) => {
      let r = byPv.get(s.pv);
      if (r === undefined) {
        r = {
          pv: s.pv,
          count: 0,
          answered: false,
          servers: NO_SERVERS,
          firstSeen: s.first.timestamp,
          lastSeen: s.last.timestamp,
          client: s.client,
          clients: null,
          waits: null,
        };
        byPv.set(s.pv, r);
      } else if (s.client !== r.client || r.clients !== null) {
        // Most PVs are searched by one client: a set only for those searched by several.
        (r.clients ??= new Set([r.client])).add(s.client);
      }
      r.count += s.requests;
      for (const server of s.answeredBy) {
        if (r.servers === NO_SERVERS) r.servers = [];
        if (!r.servers.includes(server)) r.servers.push(server);
      }
      r.answered ||= s.answeredBy.length > 0;
      if (s.firstReply !== null) (r.waits ??= []).push(s.firstReply.timestamp - s.first.timestamp);
      if (s.first.timestamp < r.firstSeen) r.firstSeen = s.first.timestamp;
      if (s.last.timestamp > r.lastSeen) r.lastSeen = s.last.timestamp;
    });
    const rows = Array.from(byPv.values());
    // Ties in code-unit order: a collator made this sort most of the work with 100,000 PVs.
    const order = (a: SearchRow, b: SearchRow): number => b.count - a.count || (a.pv < b.pv ? -1 : a.pv > b.pv ? 1 : 0);
    const top = yield* topSteps(rows, this.apiRows, order);
    const unanswered = yield* topSteps(
      rows.filter((r) => !r.answered),
      UNANSWERED_LISTED,
      order,
    );
    return { top: top.rows, unanswered: unanswered.rows };
  }

  searches(limit = this.apiRows): SearchView[] {
    return runSteps(this.searchesSteps(limit));
  }

  /** {@link Engine.searches} in steps. */
  *searchesSteps(limit = this.apiRows): Steps<SearchView[]> {
    const { top } = yield* this.searchRowsSteps();
    return yield* mapSteps(
      top.length > limit ? top.slice(0, limit) : top,
      ({ client: _client, clients, waits, ...view }): SearchView => ({
        ...view,
        servers: [...view.servers],
        clients: clients === null ? 1 : clients.size,
        timeToFind: waits === null ? null : summaryOf(waits),
      }),
    );
  }

  private *unansweredSteps(limit: number): Steps<UnansweredView[]> {
    const { unanswered } = yield* this.searchRowsSteps();
    return unanswered.slice(0, limit).map((r) => ({
      pv: r.pv,
      count: r.count,
      firstSeen: r.firstSeen,
      lastSeen: r.lastSeen,
      clients: r.clients === null ? [r.client] : firstOf(r.clients, UNANSWERED_CLIENTS_LISTED),
    }));
  }

  /**
   * Runs `fn` with the costly aggregations (searches per PV, client processes, channel sync) computed at most
   * once: the snapshot and the tables of one publication read the same decoder state.
   */
  shared<T>(fn: () => T): T {
    const outer = this.sharedWork;
    this.sharedWork = new Map();
    try {
      return fn();
    } finally {
      this.sharedWork = outer;
    }
  }

  /**
   * {@link Engine.shared} for a computation in steps: the aggregations are shared until it ends, across
   * the slices it is spread over (the worker runs one such computation at a time).
   */
  *sharedSteps<T>(steps: Steps<T>): Steps<T> {
    const outer = this.sharedWork;
    this.sharedWork = new Map();
    try {
      return yield* steps;
    } finally {
      this.sharedWork = outer;
    }
  }

  private *shareSteps<T>(key: string, compute: () => Steps<T>): Steps<T> {
    const work = this.sharedWork;
    if (work === undefined) return yield* compute();
    if (!work.has(key)) work.set(key, yield* compute());
    return work.get(key) as T;
  }

  /**
   * The analyses' report so far (the `ca-shark report --json` object), all sections or those named
   * (`searches`, `duplicates`, `beacons`, `latency`, `monitors`, `writes`, `errors`, `logs`, ...). Throws
   * the analysis package's SectionError for an unknown name.
   */
  report(sections?: readonly string[]): Partial<Report> {
    return runSteps(this.reportSteps(sections));
  }

  /** {@link Engine.report} in steps. */
  reportSteps(sections?: readonly string[]): Steps<Partial<Report>> {
    return this.analyzer.reportSteps(
      sections === undefined || sections.length === 0 ? undefined : resolveSections(sections),
    );
  }

  /** The report as `/api/report` serves it (see report-cut.ts), as JSON text. */
  reportText(sections: readonly string[] | undefined, options: ReportOptions): ViewText {
    return runSteps(this.reportTextSteps(sections, options));
  }

  /** {@link Engine.reportText} in steps. */
  *reportTextSteps(sections: readonly string[] | undefined, options: ReportOptions): Steps<ViewText> {
    const time = this.wallTime();
    const report = yield* this.reportSteps(sections);
    return { text: JSON.stringify(cutReport(report, options.limit, time)), time };
  }

  /** The rows of a table, `limit` at most. */
  table(name: TableName, limit = this.apiRows): ChannelView[] | ServerView[] | ClientView[] | SearchView[] {
    return runSteps(this.tableSteps(name, limit));
  }

  /** {@link Engine.table} in steps. */
  tableSteps(name: TableName, limit = this.apiRows): Steps<ChannelView[] | ServerView[] | ClientView[] | SearchView[]> {
    switch (name) {
      case 'channels':
        return this.channelsSteps(limit);
      case 'servers':
        return this.serversSteps(limit);
      case 'clients':
        return this.clientsSteps(limit);
      case 'searches':
        return this.searchesSteps(limit);
    }
  }

  /** The held records a PV chart opened late fills its past from (the worker's history). */
  setSeriesPast(past: PvPast | undefined): void {
    this.series.setPast(past);
  }

  /** A chart series, the top talkers or the tracked keys (see series.ts) as JSON text. */
  seriesText(request: SeriesRequest): string {
    return JSON.stringify(this.series.answer(request));
  }

  /** Connected channels per server endpoint, sampled into the IOC series when views are published. */
  private sampleSeriesChannels(): void {
    const counts = new Map<string, number>();
    for (const ch of this.decoder.state.channels.values()) {
      if (ch.server !== null && ch.status === 'connected') counts.set(ch.server, (counts.get(ch.server) ?? 0) + 1);
    }
    this.series.sampleChannels(counts);
  }

  tableText(name: TableName): ViewText {
    return { text: JSON.stringify(this.table(name)), time: this.wallTime() };
  }

  snapshotText(): string {
    return JSON.stringify(this.snapshot());
  }

  /** The parts of the report the dashboard shows live, each cut to its latest or largest entries. */
  private snapshotAnalysis(r: Partial<Report>): SnapshotView['analysis'] {
    return {
      never_found: (r.never_found ?? []).slice(0, 50),
      duplicates: (r.duplicates ?? []).slice(0, 50),
      beacon_anomalies: (r.beacons ?? []).flatMap((b) => b.anomalies).slice(-50),
      writes: (r.writes ?? []).slice(-50),
      redundant_subscriptions: (r.redundant_subscriptions ?? []).slice(0, 50),
    };
  }

  /**
   * Everything in a snapshot but its type, time and stats: the part that changes only with the
   * {@link generation} (the publisher serialises it once per generation).
   */
  snapshotBody(): Omit<SnapshotView, 'type' | 'time' | 'stats'> {
    return runSteps(this.snapshotBodySteps());
  }

  /** {@link Engine.snapshotBody} in steps. */
  *snapshotBodySteps(): Steps<Omit<SnapshotView, 'type' | 'time' | 'stats'>> {
    const n = this.snapshotRows;
    this.sampleSeriesChannels();
    // One pass of the analyses for the alerts and the analysis panel together.
    const report = yield* this.analyzer.reportSteps([
      ...ALERT_SECTIONS,
      'never_found',
      'writes',
      'redundant_subscriptions',
    ]);
    return {
      channels: yield* this.channelsSteps(n),
      channelTotals: yield* this.channelTable.totalsSteps(),
      servers: yield* this.serversSteps(n),
      clients: yield* this.clientsSteps(n),
      searches: { top: yield* this.searchesSteps(50), unanswered: yield* this.unansweredSteps(UNANSWERED_LISTED) },
      errors: this.errors.list(),
      ...this.alertsOf(report),
      analysis: this.snapshotAnalysis(report),
    };
  }

  /** The alert groups after taking in the analyses' latest findings. */
  private alertsOf(report: Partial<Report>): Pick<SnapshotView, 'alerts' | 'alertTotals'> {
    this.alerts.update(report, report.summary?.last_seen ?? this.wallTime());
    const view = this.alerts.view();
    return { alerts: view.groups, alertTotals: view.totals };
  }

  snapshot(): SnapshotView {
    return { type: 'snapshot', time: this.wallTime(), stats: this.stats(), ...this.snapshotBody() };
  }
}
