/**
 * Per-server Prometheus series: messages, bytes and request-latency histograms per CA server (IOC), for
 * Grafana panels such as "slow IOC". Cardinality stays bounded: the busiest `topN` servers have their own
 * series and every other server's traffic counts under `server="other"`. Every series only ever grows,
 * as Prometheus counters must: a server that drops out of the top keeps its counts for when it returns,
 * and what it did while not in the top stays in "other".
 */
import { BoundedLru } from './aggregates.js';

/** Latency histogram bucket bounds in seconds (1 ms ... 10 s, a CA reply is usually well under 10 ms). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Servers with their own series by default. */
export const DEFAULT_TOP_SERVERS = 20;
/** The label of the series that sums every server outside the top. */
export const OTHER_SERVER = 'other';
/** Servers tracked for ranking at most (the least recently added are forgotten). */
const MAX_TRACKED = 10_000;
/** Ranks are redone at most this often (seconds of wall clock), on a scrape. */
const RERANK_SECONDS = 60;

/** One latency histogram: counts per bucket (not cumulative; the last one is +Inf), sum and count. */
class Histogram {
  readonly counts = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i] += 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** The counters of one series. */
class Series {
  messages = 0;
  bytes = 0;
  readonly latency = new Map<string, Histogram>();

  add(bytes: number, kind: string | undefined, latency: number | undefined): void {
    this.messages += 1;
    this.bytes += bytes;
    if (kind === undefined || latency === undefined) return;
    let h = this.latency.get(kind);
    if (h === undefined) {
      h = new Histogram();
      this.latency.set(kind, h);
    }
    h.observe(latency);
  }
}

interface Tracked {
  /** Messages since the last ranking. */
  recent: number;
  /** Its own series, kept once given (null until it first makes the top). */
  series: Series | null;
  /** True while in the top: its traffic goes to `series`, else to "other". */
  labelled: boolean;
}

/** Escapes a Prometheus label value. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Per-server message, byte and latency series with a bounded number of servers. */
export class ServerMetrics {
  private readonly servers = new BoundedLru<string, Tracked>(MAX_TRACKED);
  private readonly other = new Series();
  private labelled = 0;
  private rankedAt = Number.NEGATIVE_INFINITY;
  /** The server of the previous message and its entry: messages come in runs from one circuit. */
  private lastServer = '';
  private lastTracked: Tracked | undefined;

  constructor(
    private readonly topN = DEFAULT_TOP_SERVERS,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** One message to or from `server`: its size, and the latency of the request it answers if any. */
  add(server: string, bytes: number, kind: string | undefined, latency: number | undefined): void {
    let t = server === this.lastServer ? this.lastTracked : this.servers.get(server);
    if (t === undefined) {
      // While there is room every server gets its own series at once: exact from the first message.
      const own = this.labelled < this.topN;
      t = { recent: 0, series: own ? new Series() : null, labelled: own };
      if (own) this.labelled += 1;
      this.servers.set(server, t);
    }
    this.lastServer = server;
    this.lastTracked = t;
    t.recent += 1;
    (t.labelled && t.series !== null ? t.series : this.other).add(bytes, kind, latency);
  }

  /**
   * Gives the top places to the servers with the most messages since the last ranking. A server that
   * leaves the top stops getting its own series (its counts are kept); one that enters gets its own.
   */
  rank(): void {
    this.rankedAt = this.now();
    const all = [...this.servers.entries()];
    // Ties keep the servers already in the top.
    all.sort((a, b) => b[1].recent - a[1].recent || Number(b[1].labelled) - Number(a[1].labelled));
    const top = new Set(all.slice(0, this.topN).map(([server]) => server));
    let labelled = 0;
    for (const [server, t] of all) {
      t.labelled = top.has(server);
      if (t.labelled) {
        t.series ??= new Series();
        labelled += 1;
      }
      t.recent = 0;
    }
    this.labelled = labelled;
  }

  /** The per-server families in the Prometheus text format (ranks again when a minute has passed). */
  render(): string {
    if (this.now() - this.rankedAt >= RERANK_SECONDS) this.rank();
    const rows: [string, Series][] = [];
    for (const [server, t] of this.servers.entries())
      if (t.labelled && t.series !== null) rows.push([server, t.series]);
    rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    rows.push([OTHER_SERVER, this.other]);
    const lines: string[] = [];
    const family = (name: string, type: string, help: string): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    family(
      'ca_sharkd_server_messages_total',
      'counter',
      `CA messages to and from each server (the ${this.topN} busiest; server="other" for the rest).`,
    );
    for (const [server, s] of rows)
      lines.push(`ca_sharkd_server_messages_total{server="${label(server)}"} ${s.messages}`);
    family('ca_sharkd_server_bytes_total', 'counter', 'CA message bytes to and from each server (same servers).');
    for (const [server, s] of rows) lines.push(`ca_sharkd_server_bytes_total{server="${label(server)}"} ${s.bytes}`);
    const name = 'ca_sharkd_server_request_latency_seconds';
    family(
      name,
      'histogram',
      'Request to reply time per server and request kind (search, create, read, write, monitor, echo).',
    );
    for (const [server, s] of rows) {
      const kinds = [...s.latency.keys()].sort();
      for (const kind of kinds) {
        const h = s.latency.get(kind) as Histogram;
        const labels = `server="${label(server)}",kind="${label(kind)}"`;
        let cumulative = 0;
        for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
          cumulative += h.counts[i];
          lines.push(`${name}_bucket{${labels},le="${LATENCY_BUCKETS[i]}"} ${cumulative}`);
        }
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`);
        lines.push(`${name}_sum{${labels}} ${h.sum}`);
        lines.push(`${name}_count{${labels}} ${h.count}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}
