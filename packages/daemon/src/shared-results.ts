/**
 * Results of queries to the decoding worker (views, the analysis report), shared between callers: a request
 * that arrives while the same one is being computed waits for it, and a result is served again for
 * `maxAgeMs` after it arrived. A burst of API clients or dashboard polls then costs the worker one
 * computation and the main thread one copy of the answer, not one each (60 concurrent `/api/report` calls
 * had pushed the daemon from 299 to 509 MB).
 */
export class SharedResults {
  private readonly entries = new Map<string, { promise: Promise<unknown>; settledAt: number | null }>();

  /**
   * @param maxAgeMs how long a result is served again after it arrived (0: only requests made while it was
   *   being computed share it)
   * @param maxKeys distinct queries remembered (the oldest is forgotten beyond)
   * @param now clock in ms (tests pass their own)
   */
  constructor(
    private readonly maxAgeMs: number,
    private readonly maxKeys = 64,
    private readonly now: () => number = Date.now,
  ) {}

  /** The shared result for `key`, computed by `compute` when there is none in flight or fresh enough. */
  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const existing = this.entries.get(key);
    if (existing !== undefined && (existing.settledAt === null || this.now() - existing.settledAt < this.maxAgeMs)) {
      return existing.promise as Promise<T>;
    }
    const entry: { promise: Promise<unknown>; settledAt: number | null } = {
      promise: Promise.resolve(),
      settledAt: null,
    };
    entry.promise = compute().then(
      (value) => {
        entry.settledAt = this.now();
        return value;
      },
      (err: unknown) => {
        // A failure is never served again: the next caller asks anew.
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw err;
      },
    );
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return entry.promise as Promise<T>;
  }
}
