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
  return interpolate(sorted[lower], sorted[upper], position - lower);
}

/**
 * `low + (high - low) * weight`, the quantiles' interpolation, except where `high - low` overflows (values
 * of opposite signs near ±1.8e308): there the sum in two parts stays finite, and a quantile that falls on
 * a value (weight 0) is that value, not Infinity x 0 = NaN.
 */
function interpolate(low: number, high: number, weight: number): number {
  const span = high - low;
  if (Number.isFinite(span)) return low + span * weight;
  return weight === 0 ? low : low * (1 - weight) + high * weight;
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

  /**
   * Description with exact count/mean/min/max and percentiles from the sample; while every value is kept,
   * exactly {@link describeSample}'s description of them all.
   */
  describe(): Description {
    const d = describeSample(this.values);
    if (this.seen === this.values.length) return d;
    return { ...d, count: this.seen, mean: this.sum / this.seen, min: this.min, max: this.max };
  }

  /**
   * The `q` quantile of the sample, as {@link describeSample} gives it (the same value), without sorting:
   * ranking many samples by one percentile needs only that one (a selection in linear time).
   */
  quantile(q: number): number {
    return quantileUnsorted(this.values, q);
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

/** Scratch space of {@link quantileUnsorted}, grown as needed (samples are small and bounded). */
let selectScratch = new Float64Array(256);

/**
 * {@link quantileSorted} of `values` sorted, without sorting them: the two order statistics it interpolates
 * between are found by selection (quickselect on a scratch copy; `values` is left as it is).
 */
export function quantileUnsorted(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  if (selectScratch.length < n) selectScratch = new Float64Array(Math.max(n, 2 * selectScratch.length));
  const a = selectScratch;
  for (let i = 0; i < n; i++) a[i] = values[i];
  const position = (n - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const weight = position - lower;
  selectInPlace(a, lower, 0, n - 1);
  const low = a[lower];
  // After the selection everything right of `lower` is at least a[lower]: the next order statistic is
  // the least of them.
  let high = low;
  if (upper > lower) {
    high = a[upper];
    for (let i = upper + 1; i < n; i++) if (a[i] < high) high = a[i];
  }
  return interpolate(low, high, weight);
}

/**
 * Puts the `k`-th smallest of `a[left..right]` at `a[k]`, the smaller ones before it and the others after
 * (quickselect with a three-way partition, so runs of equal values cost no more than distinct ones).
 */
function selectInPlace(a: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    const pivot = medianOfThree(a[left], a[(left + right) >>> 1], a[right]);
    // a[left..lt) < pivot, a[lt..i) == pivot, a(gt..right] > pivot
    let lt = left;
    let i = left;
    let gt = right;
    while (i <= gt) {
      const v = a[i];
      if (v < pivot) swap(a, lt++, i++);
      else if (v > pivot) swap(a, i, gt--);
      else i++;
    }
    if (k < lt) right = lt - 1;
    else if (k > gt) left = gt + 1;
    else return;
  }
}

function medianOfThree(x: number, y: number, z: number): number {
  if (x < y) return y < z ? y : x < z ? z : x;
  return x < z ? x : y < z ? z : y;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}
