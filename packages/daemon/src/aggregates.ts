/**
 * Small live aggregates the daemon keeps beside the decoder's conversation state, for what the state does
 * not hold: recent latencies per server (for percentiles), the last value per channel, recent failures and
 * the message rate. Every table is bounded.
 */
import { BoundedMap } from '@ca-shark/decoder';
import type { ErrorView, LatencySummary } from './views.js';

/** Latest N samples; percentiles are computed on demand (snapshots, API), not per record. */
class Reservoir {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;
  total = 0;
  sum = 0;

  constructor(size: number) {
    this.samples = new Float64Array(size);
  }

  add(value: number): void {
    this.samples[this.next] = value;
    this.next = (this.next + 1) % this.samples.length;
    if (this.filled < this.samples.length) this.filled += 1;
    this.total += 1;
    this.sum += value;
  }

  summary(): LatencySummary {
    const sorted = Array.from(this.samples.subarray(0, this.filled)).sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      count: this.total,
      mean: this.sum / this.total,
      min: sorted[0],
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: sorted[sorted.length - 1],
    };
  }
}

/** Latency kind from the request command a response answers. */
export function latencyKind(requestCommand: string): string | undefined {
  switch (requestCommand) {
    case 'SearchRequest':
      return 'search';
    case 'CreateChanRequest':
      return 'create';
    case 'ReadNotifyRequest':
      return 'read';
    case 'WriteNotifyRequest':
      return 'write';
    case 'EchoRequest':
      return 'echo';
    case 'EventAddRequest':
      return 'monitor';
    default:
      return undefined;
  }
}

/**
 * Least-recently-set map that forgets its oldest entries beyond `max`: setting a key, new or not, makes it
 * the youngest. Eviction is the decoder's O(1) amortised BoundedMap eviction.
 */
export class BoundedLru<K, V> extends BoundedMap<K, V> {
  constructor(max: number) {
    super(max);
  }

  override set(key: K, value: V): this {
    const existed = this.has(key);
    super.set(key, value);
    if (existed) this.touch(key);
    return this;
  }
}

/** Per server: latency reservoirs by kind. */
export class ServerLatencies {
  private readonly byServer = new BoundedLru<string, Map<string, Reservoir>>(10_000);
  constructor(private readonly samplesPerKind = 512) {}

  add(server: string, kind: string, latency: number): void {
    let kinds = this.byServer.get(server);
    if (kinds === undefined) {
      kinds = new Map();
      this.byServer.set(server, kinds);
    }
    let reservoir = kinds.get(kind);
    if (reservoir === undefined) {
      reservoir = new Reservoir(this.samplesPerKind);
      kinds.set(kind, reservoir);
    }
    reservoir.add(latency);
  }

  summaries(server: string): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    const kinds = this.byServer.get(server);
    if (kinds === undefined) return out;
    for (const [kind, reservoir] of kinds) out[kind] = reservoir.summary();
    return out;
  }
}

/** Last value and update count of a channel, keyed by circuit and PV. */
export interface ChannelActivity {
  lastValue: unknown;
  updates: number;
  firstUpdate: number;
  lastUpdate: number;
}

/** Values are trimmed to this many elements so snapshots of waveform channels stay small. */
export const MAX_VALUE_ELEMENTS = 16;

/** Messages per second over a sliding window of wall-clock samples. */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly counts: number[] = [];
  constructor(private readonly windowMs = 5000) {}

  /** Records the running total at time `now` (ms). */
  sample(now: number, total: number): void {
    this.times.push(now);
    this.counts.push(total);
    while (this.times.length > 2 && now - this.times[0] > this.windowMs) {
      this.times.shift();
      this.counts.shift();
    }
  }

  /** Rate over the window, or 0 with fewer than two samples. */
  rate(): number {
    const n = this.times.length;
    if (n < 2) return 0;
    const dt = (this.times[n - 1] - this.times[0]) / 1000;
    return dt > 0 ? (this.counts[n - 1] - this.counts[0]) / dt : 0;
  }
}

/** The latest failures, newest last. */
export class RecentErrors {
  private readonly items: ErrorView[] = [];
  constructor(private readonly max = 200) {}

  add(item: ErrorView): void {
    this.items.push(item);
    if (this.items.length > this.max) this.items.shift();
  }

  list(): ErrorView[] {
    return this.items.slice();
  }
}
