import { type Bounded, BoundedMap, firstRows, RecentLookup } from './bounded.js';
import { BoundedSample, type Description } from './describe.js';
import { type AnalysisRecord, respondingServer } from './record.js';
import { type Steps, mapSteps, runSteps, topSteps } from './steps.js';

/**
 * Which exchange a latency measures, by the response that closes it; undefined for any other command. A
 * switch: indexing an object by the command's name was a megamorphic keyed load per response.
 */
function latencyKindOf(name: string): LatencyKind | undefined {
  switch (name) {
    case 'EventAddResponse':
      return 'monitor';
    case 'ReadNotifyResponse':
      return 'read';
    case 'WriteNotifyResponse':
      return 'write';
    case 'SearchResponse':
      return 'search';
    case 'CreateChanResponse':
      return 'create';
    case 'EchoResponse':
      return 'echo';
    default:
      return undefined;
  }
}

export type LatencyKind = 'search' | 'create' | 'read' | 'write' | 'echo' | 'monitor';

/** Upper bounds (seconds) of the latency histogram buckets; the last bucket is open-ended. */
export const LATENCY_BUCKETS = [1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3, 10];

export interface LatencyEntry extends Omit<Description, 'p25' | 'p75'> {
  server: string;
  kind: LatencyKind;
  /** Counts per bucket of LATENCY_BUCKETS, plus one for slower answers. */
  histogram: number[];
}

export interface PvLatencyEntry extends Omit<Description, 'p25' | 'p75'> {
  pv: string;
  server: string;
  kind: LatencyKind;
}

/** Latencies kept per PV, server and kind for percentiles (count, mean, min and max stay exact). */
const PV_SAMPLE_SIZE = 256;

interface PvSeries {
  pv: string;
  server: string;
  kind: LatencyKind;
  sample: BoundedSample;
}

/**
 * The series of one PV, in the order they first appeared (the report lists ties in that order). Found by a
 * scan while there are few (a PV is answered by one or two servers): no "kind server" key string per
 * response; a PV answered by many servers gets a map too.
 */
interface PvSeriesList {
  list: PvSeries[];
  byKey: Map<string, PvSeries> | null;
}

/** Series of one PV scanned before {@link PvSeriesList.byKey} is built. */
const PV_SERIES_SCAN = 8;

interface Series {
  sample: BoundedSample;
  histogram: number[];
}

/** Request → response latencies per server and per PV, as histograms and percentiles. */
export class LatencyAnalysis {
  /** server → kind → series */
  private readonly byServer = new RecentLookup(new BoundedMap<string, Map<LatencyKind, Series>>(10_000));
  /** pv → its series by server and kind */
  private readonly byPv = new RecentLookup(new BoundedMap<string, PvSeriesList>(50_000));

  /** A record whose command is `name`: responses with a latency count, the others are passed by. */
  add(record: AnalysisRecord, name: string): void {
    const latency = record.latency;
    if (latency === undefined || record.role !== 'response') return;
    const kind = latencyKindOf(name);
    if (kind === undefined) return;
    const server = respondingServer(record, name);
    const kinds = this.byServer.get(server) ?? this.byServer.add(server, new Map());
    let series = kinds.get(kind);
    if (!series) {
      series = { sample: new BoundedSample(), histogram: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0) };
      kinds.set(kind, series);
    }
    series.sample.add(latency);
    series.histogram[bucketOf(latency)]++;
    const pv = record.pv;
    if (pv) {
      const perPv = this.byPv.get(pv) ?? this.byPv.add(pv, { list: [], byKey: null });
      pvSeries(perPv, pv, server, kind).sample.add(latency);
    }
  }

  /** One row per server and kind, slowest median first. */
  servers(limit = 1000): Bounded<LatencyEntry> {
    const rows: LatencyEntry[] = [];
    for (const [server, kinds] of this.byServer.map.entries()) {
      for (const [kind, series] of kinds) {
        const { p25: _p25, p75: _p75, ...d } = series.sample.describe();
        rows.push({ server, kind, ...d, histogram: series.histogram });
      }
    }
    return firstRows(rows, limit, (a, b) => b.p50 - a.p50);
  }

  /** The slowest PVs by 90th percentile. */
  slowestPvs(limit = 50): Bounded<PvLatencyEntry> {
    return runSteps(this.slowestPvsSteps(limit));
  }

  /**
   * {@link LatencyAnalysis.slowestPvs} in steps. The ranking needs each series' 90th percentile only (a
   * selection); the whole description, which sorts the sample, is made for the rows shown.
   */
  *slowestPvsSteps(limit = 50): Steps<Bounded<PvLatencyEntry>> {
    const series: PvSeries[] = [];
    for (const perPv of this.byPv.map.values()) for (const s of perPv.list) series.push(s);
    const p90 = yield* mapSteps(series, (s) => s.sample.quantile(0.9));
    const positions = series.map((_, i) => i);
    const top = yield* topSteps(positions, limit, (a, b) => p90[b] - p90[a]);
    const rows = top.rows.map((i): PvLatencyEntry => {
      const { pv, server, kind, sample } = series[i];
      const { p25: _p25, p75: _p75, ...d } = sample.describe();
      return { pv, server, kind, ...d };
    });
    return { rows, omitted: top.omitted };
  }
}

/**
 * The histogram bucket of `latency`: the first whose upper bound it does not exceed (the last, open-ended,
 * when it exceeds them all). A binary search: monitor latencies (seconds since the subscription) passed
 * all thirteen bounds one by one.
 */
function bucketOf(latency: number): number {
  let low = 0;
  let high = LATENCY_BUCKETS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (latency > LATENCY_BUCKETS[middle]) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** The series of `pv` for `server` and `kind`, made when new. */
function pvSeries(perPv: PvSeriesList, pv: string, server: string, kind: LatencyKind): PvSeries {
  const list = perPv.list;
  if (perPv.byKey === null) {
    for (let i = 0; i < list.length; i++) {
      const s = list[i];
      if (s.kind === kind && s.server === server) return s;
    }
  } else {
    const found = perPv.byKey.get(kind + server);
    if (found !== undefined) return found;
  }
  const made: PvSeries = { pv, server, kind, sample: new BoundedSample(PV_SAMPLE_SIZE) };
  list.push(made);
  if (perPv.byKey !== null) perPv.byKey.set(kind + server, made);
  else if (list.length > PV_SERIES_SCAN) perPv.byKey = new Map(list.map((s) => [s.kind + s.server, s]));
  return made;
}
