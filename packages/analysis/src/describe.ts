/**
 * Summary statistics of a sample, as pandas' `describe()` prints them (the shape caproto's
 * benchmark examples show), with the quartiles interpolated linearly between closest ranks.
 */
export interface Description {
  count: number;
  mean: number;
  /** Sample standard deviation (n − 1), NaN for fewer than two values, as pandas does. */
  std: number;
  min: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The latency figures the daemon's views and the dashboard show: count, mean, extremes and the upper
 * percentiles of a {@link Description}. One shape everywhere, so a table cannot mix percentile methods.
 */
export type LatencyPercentiles = Pick<Description, 'count' | 'mean' | 'min' | 'p50' | 'p90' | 'p99' | 'max'>;

/** The {@link LatencyPercentiles} of a description. */
export function latencyPercentiles(d: Description): LatencyPercentiles {
  return { count: d.count, mean: d.mean, min: d.min, p50: d.p50, p90: d.p90, p99: d.p99, max: d.max };
}

/** Linear-interpolated quantile of an ascending-sorted array (q in [0, 1]). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (n - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const weight = position - lower;
  return sorted[lower] + (sorted[upper] - sorted[lower]) * weight;
}

/** Describes a sample; an empty sample gives count 0 and NaN elsewhere. */
export function describeSample(values: Iterable<number>): Description {
  const sorted = Float64Array.from(values).sort();
  const count = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = count ? sum / count : Number.NaN;
  let squares = 0;
  for (const v of sorted) squares += (v - mean) ** 2;
  return {
    count,
    mean,
    std: count > 1 ? Math.sqrt(squares / (count - 1)) : Number.NaN,
    min: count ? sorted[0] : Number.NaN,
    p25: quantileSorted(sorted, 0.25),
    p50: quantileSorted(sorted, 0.5),
    p75: quantileSorted(sorted, 0.75),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    max: count ? sorted[count - 1] : Number.NaN,
  };
}

/**
 * A bounded sample: keeps every value up to `capacity`, then a uniform reservoir sample (Vitter's
 * algorithm R) with a deterministic generator, so percentiles stay honest on long captures while memory
 * stays flat. count, sum, min and max stay exact.
 */
export class BoundedSample {
  private readonly values: number[] = [];
  private seen = 0;
  private state = 0x9e3779b9;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;

  constructor(private readonly capacity = 4096) {}

  add(value: number): void {
    this.seen++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.values.length < this.capacity) {
      this.values.push(value);
      return;
    }
    const slot = this.nextRandom() % this.seen;
    if (slot < this.capacity) this.values[slot] = value;
  }

  get count(): number {
    return this.seen;
  }

  /** Description with exact count/mean/min/max and percentiles from the sample. */
  describe(): Description {
    const d = describeSample(this.values);
    if (this.seen === 0) return d;
    return { ...d, count: this.seen, mean: this.sum / this.seen, min: this.min, max: this.max };
  }

  /** xorshift32: deterministic, so reports are reproducible. */
  private nextRandom(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
}
