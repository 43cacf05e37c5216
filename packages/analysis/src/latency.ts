import { BoundedMap, topN } from './bounded.js';
import { BoundedSample, type Description } from './describe.js';
import { type AnalysisRecord, numberField, sender, stringField } from './record.js';

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

interface Series {
  sample: BoundedSample;
  histogram: number[];
}

/** The server end a response came from, in the "ip:port" form the other analyses use (TCP port). */
export function respondingServer(record: AnalysisRecord): string {
  if (record.command.name === 'SearchResponse') {
    const ip = stringField(record, 'ip');
    const port = numberField(record, 'port');
    return `${!ip || ip === '255.255.255.255' ? record.src : ip}:${port ?? record.transport.sport}`;
  }
  return record.server ?? sender(record);
}

/** Request → response latencies per server and per PV, as histograms and percentiles. */
export class LatencyAnalysis {
  private readonly byServer = new BoundedMap<string, Series>(10_000);
  private readonly byPv = new BoundedMap<string, { pv: string; server: string; kind: LatencyKind; sample: BoundedSample }>(50_000);

  add(record: AnalysisRecord): void {
    const latency = record.latency;
    if (latency === undefined || record.role !== 'response') return;
    const kind = LATENCY_KIND[record.command.name];
    if (!kind) return;
    const server = respondingServer(record);
    const series = this.byServer.upsert(`${server}|${kind}`, () => ({
      sample: new BoundedSample(),
      histogram: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    }));
    series.sample.add(latency);
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && latency > LATENCY_BUCKETS[bucket]) bucket++;
    series.histogram[bucket]++;
    if (record.pv) {
      const pv = record.pv;
      this.byPv.upsert(`${pv}|${server}|${kind}`, () => ({ pv, server, kind, sample: new BoundedSample(1024) })).sample.add(latency);
    }
  }

  /** One row per server and kind, slowest median first. */
  servers(): LatencyEntry[] {
    const rows: LatencyEntry[] = [];
    for (const [key, series] of this.byServer.entries()) {
      const [server, kind] = key.split('|') as [string, LatencyKind];
      const { p25: _p25, p75: _p75, ...d } = series.sample.describe();
      rows.push({ server, kind, ...d, histogram: series.histogram });
    }
    return rows.sort((a, b) => b.p50 - a.p50);
  }

  /** The slowest PVs by 90th percentile. */
  slowestPvs(limit = 50): PvLatencyEntry[] {
    const rows = [...this.byPv.values()].map(({ pv, server, kind, sample }) => {
      const { p25: _p25, p75: _p75, ...d } = sample.describe();
      return { pv, server, kind, ...d };
    });
    return topN(rows, limit, (r) => r.p90);
  }
}
