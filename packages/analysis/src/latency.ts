import { type Bounded, BoundedMap, firstRows } from './bounded.js';
import { BoundedSample, type Description } from './describe.js';
import { type AnalysisRecord, respondingServer } from './record.js';
import { type Steps, mapSteps, runSteps, topSteps } from './steps.js';

/** Which exchange a latency measures, by the response that closes it. */
const LATENCY_KIND: Record<string, LatencyKind> = {
  SearchResponse: 'search',
  CreateChanResponse: 'create',
  ReadNotifyResponse: 'read',
  WriteNotifyResponse: 'write',
  EchoResponse: 'echo',
  EventAddResponse: 'monitor',
};

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

interface Series {
  sample: BoundedSample;
  histogram: number[];
}

/** Request → response latencies per server and per PV, as histograms and percentiles. */
export class LatencyAnalysis {
  /** server → kind → series */
  private readonly byServer = new BoundedMap<string, Map<LatencyKind, Series>>(10_000);
  /** pv → "server kind" → sample */
  private readonly byPv = new BoundedMap<string, Map<string, PvSeries>>(50_000);

  add(record: AnalysisRecord): void {
    const latency = record.latency;
    if (latency === undefined || record.role !== 'response') return;
    const kind = LATENCY_KIND[record.command.name];
    if (!kind) return;
    const server = respondingServer(record);
    const kinds = this.byServer.upsert(server, () => new Map());
    let series = kinds.get(kind);
    if (!series) {
      series = { sample: new BoundedSample(), histogram: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0) };
      kinds.set(kind, series);
    }
    series.sample.add(latency);
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && latency > LATENCY_BUCKETS[bucket]) bucket++;
    series.histogram[bucket]++;
    if (record.pv) {
      const pv = record.pv;
      const perPv = this.byPv.upsert(pv, () => new Map());
      const key = kind + server;
      let pvSeries = perPv.get(key);
      if (!pvSeries) perPv.set(key, (pvSeries = { pv, server, kind, sample: new BoundedSample(PV_SAMPLE_SIZE) }));
      pvSeries.sample.add(latency);
    }
  }

  /** One row per server and kind, slowest median first. */
  servers(limit = 1000): Bounded<LatencyEntry> {
    const rows: LatencyEntry[] = [];
    for (const [server, kinds] of this.byServer.entries()) {
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

  /** {@link LatencyAnalysis.slowestPvs} in steps (each series' percentiles cost a sort of its sample). */
  *slowestPvsSteps(limit = 50): Steps<Bounded<PvLatencyEntry>> {
    const series: PvSeries[] = [];
    for (const perPv of this.byPv.values()) for (const s of perPv.values()) series.push(s);
    const rows = yield* mapSteps(series, ({ pv, server, kind, sample }): PvLatencyEntry => {
      const { p25: _p25, p75: _p75, ...d } = sample.describe();
      return { pv, server, kind, ...d };
    });
    return yield* topSteps(rows, limit, (a, b) => b.p90 - a.p90);
  }
}
