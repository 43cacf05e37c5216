/**
 * `ca-shark stats`: the summary caproto's `benchmark_connections.py` example prints (unanswered channel
 * creations, per-server connection latency described like pandas' `describe()`), extended to search
 * replies, read and write notifies, message counts per command, the most searched PVs and the circuits
 * with their client host and user names.
 *
 * Latencies come from the decoder (`record.latency`, seconds from the request to this response); the
 * collector does not pair requests and responses itself, except to find channel creations that were
 * never answered, which needs the requests still pending at the end.
 */

import type { CommandFields } from '@ca-shark/protocol';
import { BoundedMap, compareText } from './bounded.js';
import { BoundedSample, type Description, describeSample } from './describe.js';

/** The part of a decoded record that the statistics read. */
export interface StatsRecord {
  readonly frame?: number;
  readonly timestamp: number;
  readonly src: string;
  readonly dst: string;
  readonly transport: { readonly protocol: string; readonly sport: number; readonly dport: number };
  readonly command: CommandFields;
  readonly pv?: string | null;
  readonly role?: string | null;
  readonly latency?: number | null;
  /** Stable circuit id from the decoder, when the message travelled on a TCP circuit. */
  readonly circuit?: string | number | null;
  /** Server endpoint `ip:port` of the conversation, when the decoder knows it. */
  readonly server?: string | null;
  /** Client endpoint `ip:port` of the conversation, when the decoder knows it. */
  readonly client?: string | null;
  /** For a response: the request it answers (its capture time is what `t` of a connection shows). */
  readonly request?: { readonly timestamp: number } | null;
}

/** pandas-style description of a sample; std is the sample standard deviation (null when count < 2). */
export interface LatencySummary {
  count: number;
  mean: number;
  std: number | null;
  min: number;
  '25%': number;
  '50%': number;
  '75%': number;
  max: number;
}

/** One answered channel creation: the row of the peer's "Raw data" table. */
export interface ConnectionSample {
  pv: string | null;
  /** Server endpoint `ip:port`. */
  server: string;
  /** Time of the request (Unix seconds). */
  t: number;
  /** Seconds from request to CreateChanResponse. */
  dt: number;
}

/** A channel creation request that saw no CreateChanResponse nor CreateChFailResponse. */
export interface UnansweredCreation {
  pv: string | null;
  cid: number | null;
  client: string;
  server: string;
  timestamp: number;
  frame: number | null;
}

/** One TCP circuit as seen in the capture. */
export interface CircuitSummary {
  client: string;
  server: string;
  /** From HOST_NAME, when the capture holds it. */
  host: string | null;
  /** From CLIENT_NAME, when the capture holds it. */
  user: string | null;
  /** Channels created on the circuit (CreateChanResponse count). */
  channels: number;
  messages: number;
  first: number;
  last: number;
}

/** Everything `ca-shark stats` reports; also its `--json` output. */
export interface StatsReport {
  messages: number;
  /** First and last record timestamps, null for an empty input. */
  first: number | null;
  last: number | null;
  unansweredCreations: UnansweredCreation[];
  /** Channel creations that the server refused (CreateChFailResponse). */
  failedCreations: number;
  connections: ConnectionSample[];
  /** Per server endpoint (`ip:port` of the responder), sorted by endpoint. */
  latency: {
    connection: Record<string, LatencySummary>;
    search: Record<string, LatencySummary>;
    readNotify: Record<string, LatencySummary>;
    writeNotify: Record<string, LatencySummary>;
  };
  /** Message count per command class name, most frequent first (ties by name). */
  commands: Record<string, number>;
  /** Most searched PV names with their SearchRequest counts, most first (ties by name). */
  topSearched: { pv: string; count: number }[];
  circuits: CircuitSummary[];
  /** TCP flows the decoder skipped as not CA (see `--ports`), and their payload bytes. */
  skippedFlows: { flows: number; bytes: number };
  /**
   * Rows left out to keep memory and output bounded (present only when some were): connection samples
   * beyond the first {@link STATS_MAX_ROWS}, unanswered creations and circuits beyond the first
   * {@link STATS_MAX_ROWS} listed (and those forgotten beyond the tracking caps).
   */
  omitted?: { connections?: number; unansweredCreations?: number; circuits?: number };
}

/** Rows kept in each list of the stats report. */
export const STATS_MAX_ROWS = 100_000;
/** Pending creations, searched PVs and circuits tracked at once (the oldest are forgotten beyond). */
const STATS_MAX_TRACKED = 100_000;
/**
 * Latencies kept per server and kind for the quartiles, as `ca-shark report` keeps them: all of them up to
 * this many, then a uniform sample (count, mean, min and max stay exact).
 */
export const STATS_LATENCY_SAMPLE = 4096;

/** Options for {@link StatsCollector}. */
export interface StatsOptions {
  /** How many PVs `topSearched` lists (default 10). */
  top?: number;
  /** Rows kept in each list of the report (default {@link STATS_MAX_ROWS}). */
  maxRows?: number;
  /** Latencies kept per server and kind for the quartiles (default {@link STATS_LATENCY_SAMPLE}). */
  latencySample?: number;
}

type LatencyKind = keyof StatsReport['latency'];

const LATENCY_KIND: Readonly<Record<string, LatencyKind>> = {
  CreateChanResponse: 'connection',
  SearchResponse: 'search',
  ReadNotifyResponse: 'readNotify',
  WriteNotifyResponse: 'writeNotify',
};

/**
 * Accumulates statistics over a record stream: call {@link StatsCollector.add} for each record, then
 * {@link StatsCollector.report}. Memory is bounded: latencies are sampled, lists and tables capped.
 */
export class StatsCollector {
  private readonly top: number;
  private readonly maxRows: number;
  private readonly latencySample: number;
  private messages = 0;
  private first: number | null = null;
  private last: number | null = null;
  private readonly skipped = { flows: 0, bytes: 0 };
  /** Messages per command name: a counter object per name, so a record costs one lookup. */
  private readonly commandCounts = new Map<string, { count: number }>();
  private readonly searched = new BoundedMap<string, number>(STATS_MAX_TRACKED);
  private readonly pending = new BoundedMap<string, UnansweredCreation>(STATS_MAX_TRACKED);
  private connectionsOmitted = 0;
  private failed = 0;
  private readonly connections = new ConnectionColumns();
  private readonly samples: Record<LatencyKind, Map<string, BoundedSample>> = {
    connection: new Map(),
    search: new Map(),
    readNotify: new Map(),
    writeNotify: new Map(),
  };
  private readonly circuits = new BoundedMap<string, CircuitSummary>(STATS_MAX_TRACKED);
  private lastCircuitId: string | number | null = null;
  private lastCircuit: CircuitSummary | null = null;
  /** The sample of the latest latency's kind and server (responses come in runs of one server). */
  private lastSamplesKind: LatencyKind | null = null;
  private lastSamplesServer: string | null = null;
  private lastSamples: BoundedSample | null = null;

  constructor(options: StatsOptions = {}) {
    this.top = options.top ?? 10;
    this.maxRows = options.maxRows ?? STATS_MAX_ROWS;
    this.latencySample = options.latencySample ?? STATS_LATENCY_SAMPLE;
  }

  /** Account for one record. */
  add(r: StatsRecord): void {
    const name = r.command.name;
    this.messages++;
    if (this.first === null || r.timestamp < this.first) this.first = r.timestamp;
    if (this.last === null || r.timestamp > this.last) this.last = r.timestamp;
    const counter = this.commandCounts.get(name);
    if (counter !== undefined) counter.count++;
    else this.commandCounts.set(name, { count: 1 });

    // The endpoints are made from the addresses only when the decoder did not name them (rarely): two
    // strings per record were a third of this method's time.
    let client = r.client;
    let server = r.server;
    if (client == null || server == null) {
      const srcEp = `${r.src}:${r.transport.sport}`;
      const dstEp = `${r.dst}:${r.transport.dport}`;
      const isResponse = r.role === 'response' || (r.role === undefined && name.endsWith('Response'));
      client ??= isResponse ? dstEp : srcEp;
      server ??= isResponse ? srcEp : dstEp;
    }

    // The decoder's latency; for a channel creation the pending request gives one when the decoder did not.
    let dt = typeof r.latency === 'number' && Number.isFinite(r.latency) ? r.latency : null;
    if (name === 'SearchRequest') {
      const pv = r.command.pv ?? r.pv ?? null;
      if (pv !== null) this.searched.set(pv, (this.searched.get(pv) ?? 0) + 1);
    } else if (name === 'CreateChanRequest') {
      const cid = r.command.cid ?? null;
      this.pending.set(creationKey(client, server, cid), {
        pv: r.command.pv ?? r.pv ?? null,
        cid,
        client,
        server,
        timestamp: r.timestamp,
        frame: r.frame ?? null,
      });
    } else if (name === 'CreateChanResponse' || name === 'CreateChFailResponse') {
      const key = creationKey(client, server, r.command.cid ?? null);
      const request = this.pending.get(key);
      this.pending.delete(key);
      if (name === 'CreateChFailResponse') {
        this.failed++;
      } else {
        if (dt === null && request !== undefined) dt = r.timestamp - request.timestamp;
        if (dt !== null) {
          const t = r.request?.timestamp ?? request?.timestamp ?? r.timestamp - dt;
          if (this.connections.length < this.maxRows) this.connections.push(r.pv ?? request?.pv ?? null, server, t, dt);
          else this.connectionsOmitted++;
        }
      }
    }

    const kind = LATENCY_KIND[name];
    if (kind !== undefined && dt !== null) {
      let list = this.lastSamples;
      if (kind !== this.lastSamplesKind || server !== this.lastSamplesServer || list === null) {
        const bucket = this.samples[kind];
        let found = bucket.get(server);
        if (found === undefined) bucket.set(server, (found = new BoundedSample(this.latencySample)));
        this.lastSamplesKind = kind;
        this.lastSamplesServer = server;
        this.lastSamples = list = found;
      }
      list.add(dt);
    }

    if (r.transport.protocol === 'tcp') {
      const id = r.circuit;
      // A run of records of one circuit finds it without the key string and the lookup: the table is
      // read with get (no refresh), and only an insertion, which replaces the remembered circuit, evicts.
      let c = id !== undefined && id !== null && id === this.lastCircuitId ? this.lastCircuit : null;
      if (c === null) {
        const key = id !== undefined && id !== null ? String(id) : `${client}>${server}`;
        c = this.circuits.get(key) ?? null;
        if (c === null) {
          c = {
            client,
            server,
            host: null,
            user: null,
            channels: 0,
            messages: 0,
            first: r.timestamp,
            last: r.timestamp,
          };
          this.circuits.set(key, c);
        }
        this.lastCircuitId = id ?? null;
        this.lastCircuit = c;
      }
      c.messages++;
      if (r.timestamp < c.first) c.first = r.timestamp;
      if (r.timestamp > c.last) c.last = r.timestamp;
      if (name === 'HostNameRequest') c.host = r.command.host_name ?? c.host;
      else if (name === 'ClientNameRequest') c.user = r.command.client_name ?? c.user;
      else if (name === 'CreateChanResponse') c.channels++;
    }
  }

  /** Adds TCP flows the decoder skipped as not CA (from its `statistics.skipped`). */
  addSkippedFlows(flows: number, bytes: number): void {
    this.skipped.flows += flows;
    this.skipped.bytes += bytes;
  }

  /** The statistics so far (the collector can keep accumulating afterwards). */
  report(): StatsReport {
    const latency = {
      connection: describeGroups(this.samples.connection),
      search: describeGroups(this.samples.search),
      readNotify: describeGroups(this.samples.readNotify),
      writeNotify: describeGroups(this.samples.writeNotify),
    };
    const commands = Object.fromEntries(
      [...this.commandCounts]
        .map(([command, { count }]): [string, number] => [command, count])
        .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0])),
    );
    const topSearched = [...this.searched]
      .sort((a, b) => b[1] - a[1] || compareText(a[0], b[0]))
      .slice(0, this.top)
      .map(([pv, count]) => ({ pv, count }));
    const circuits = [...this.circuits.values()].map((c) => ({ ...c })).sort((a, b) => a.first - b.first);
    const unanswered = [...this.pending.values()].sort((a, b) => a.timestamp - b.timestamp);
    const omitted: NonNullable<StatsReport['omitted']> = {};
    if (this.connectionsOmitted > 0) omitted.connections = this.connectionsOmitted;
    if (unanswered.length > this.maxRows || this.pending.evicted > 0) {
      omitted.unansweredCreations = Math.max(0, unanswered.length - this.maxRows) + this.pending.evicted;
    }
    if (circuits.length > this.maxRows || this.circuits.evicted > 0) {
      omitted.circuits = Math.max(0, circuits.length - this.maxRows) + this.circuits.evicted;
    }
    return {
      messages: this.messages,
      first: this.first,
      last: this.last,
      unansweredCreations: unanswered.slice(0, this.maxRows),
      failedCreations: this.failed,
      connections: this.connections.rows(),
      latency,
      commands,
      topSearched,
      circuits: circuits.slice(0, this.maxRows),
      skippedFlows: { ...this.skipped },
      ...(Object.keys(omitted).length > 0 ? { omitted } : {}),
    };
  }
}

/** Collect statistics over a whole record stream (sync or async iterable). */
export async function computeStats(
  records: AsyncIterable<StatsRecord> | Iterable<StatsRecord>,
  options: StatsOptions = {},
): Promise<StatsReport> {
  const collector = new StatsCollector(options);
  for await (const r of records) collector.add(r);
  return collector.report();
}

/**
 * pandas-style `describe()` of a non-empty sample (mean, sample std, linear-interpolated quartiles), with
 * the column names pandas prints.
 */
export function latencySummary(values: readonly number[]): LatencySummary {
  return summaryOf(describeSample(values));
}

function summaryOf(d: Description): LatencySummary {
  return {
    count: d.count,
    mean: d.mean,
    std: Number.isNaN(d.std) ? null : d.std,
    min: d.min,
    '25%': d.p25,
    '50%': d.p50,
    '75%': d.p75,
    max: d.max,
  };
}

function describeGroups(groups: Map<string, BoundedSample>): Record<string, LatencySummary> {
  const out: Record<string, LatencySummary> = {};
  for (const key of [...groups.keys()].sort()) {
    const sample = groups.get(key);
    if (sample !== undefined && sample.count > 0) out[key] = summaryOf(sample.describe());
  }
  return out;
}

/**
 * The answered channel creations, a column per field: two numbers and two shared strings a row instead of
 * an object with two boxed numbers (about a quarter of the memory: V8 keeps an array of numbers unboxed);
 * rows are made for the report only.
 */
class ConnectionColumns {
  private readonly pvs: (string | null)[] = [];
  private readonly servers: string[] = [];
  private readonly times: number[] = [];
  private readonly durations: number[] = [];

  get length(): number {
    return this.pvs.length;
  }

  push(pv: string | null, server: string, t: number, dt: number): void {
    this.pvs.push(pv);
    this.servers.push(server);
    this.times.push(t);
    this.durations.push(dt);
  }

  rows(): ConnectionSample[] {
    const out: ConnectionSample[] = [];
    for (let i = 0; i < this.pvs.length; i++) {
      out.push({ pv: this.pvs[i], server: this.servers[i], t: this.times[i], dt: this.durations[i] });
    }
    return out;
  }
}

function creationKey(client: string, server: string, cid: number | null): string {
  return `${client}>${server}#${cid ?? ''}`;
}
