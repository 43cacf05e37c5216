/**
 * Results of costly computations (the analysis report), shared between callers: a request that arrives
 * while the same one is being computed waits for it, and a result is served again for `maxAgeMs` after it
 * arrived. Past that, for `staleMs` more, the old result is still served at once while one new computation
 * runs behind it. A burst of API clients then costs the worker one computation and the main thread one copy
 * of the answer, not one each (60 concurrent `/api/report` calls had pushed the daemon from 299 to 509 MB),
 * and a decoder that is busy makes the answer older, not later.
 */
export class SharedResults {
  private readonly entries = new Map<string, Entry>();

  /**
   * @param maxAgeMs how long a result is served again after it arrived (0: only requests made while it was
   *   being computed share it)
   * @param maxKeys distinct queries remembered (the oldest is forgotten beyond)
   * @param now clock in ms (tests pass their own)
   * @param staleMs how long past `maxAgeMs` a result is still served while a new one is computed
   */
  constructor(
    private readonly maxAgeMs: number,
    private readonly maxKeys = 64,
    private readonly now: () => number = Date.now,
    private readonly staleMs = 0,
  ) {}

  /** The shared result for `key`, computed by `compute` when there is none in flight or fresh enough. */
  get<T>(key: string, compute: () => Promise<T>): Promise<T> {
    const existing = this.entries.get(key);
    if (existing !== undefined) {
      if (existing.settledAt === null) return existing.promise as Promise<T>;
      const age = this.now() - existing.settledAt;
      if (age < this.maxAgeMs) return existing.promise as Promise<T>;
      if (age < this.maxAgeMs + this.staleMs) {
        if (!existing.refreshing) {
          existing.refreshing = true;
          // The new entry replaces this one once it has its result; a failure leaves this one in place.
          const fresh = this.start(key, compute, existing);
          fresh.promise.catch(() => (existing.refreshing = false));
        }
        return existing.promise as Promise<T>;
      }
    }
    return this.start(key, compute).promise as Promise<T>;
  }

  /** Starts a computation: registered at once, or (a refresh) in place of `replaces` once it has a result. */
  private start(key: string, compute: () => Promise<unknown>, replaces?: Entry): Entry {
    const entry: Entry = { promise: Promise.resolve(), settledAt: null, refreshing: false };
    entry.promise = compute().then(
      (value) => {
        entry.settledAt = this.now();
        if (replaces !== undefined && this.entries.get(key) === replaces) this.remember(key, entry);
        return value;
      },
      (err: unknown) => {
        // A failure is never served again: the next caller asks anew.
        if (this.entries.get(key) === entry) this.entries.delete(key);
        throw err;
      },
    );
    if (replaces === undefined) this.remember(key, entry);
    return entry;
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}

interface Entry {
  promise: Promise<unknown>;
  /** When the result arrived (ms), null while it is computed. */
  settledAt: number | null;
  /** A newer result is being computed to replace this one. */
  refreshing: boolean;
}
