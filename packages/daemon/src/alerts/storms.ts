/**
 * Search storms as alerts: a PV (or one client process) searched again and again above a rate held over a
 * window, not merely more than the others. A client's first search of a channel is never counted, so a
 * client starting up, a panel opening hundreds of PVs or a simulator starting is not a storm; libca's
 * back-off of a missing PV (down to one search every few seconds or minutes) stays far below the rate.
 */
import { BoundedLru } from '../aggregates.js';
import type { AlertBook } from './book.js';
import type { AlertsConfig } from './config.js';

/** PVs and client processes whose rates are tracked at once (the least recently searched are forgotten). */
const MAX_TRACKED = 50_000;

/**
 * Searches counted in a sliding window approximated by two fixed ones (the previous window's count,
 * weighted by how much of it still overlaps): two numbers per PV, O(1) per search.
 */
class WindowRate {
  start: number;
  current = 0;
  previous = 0;
  /** First search of the current run: searched without a quiet window since. */
  runStart: number;
  last: number;
  /** Storm: when it began (the run's start), null when none. */
  stormSince: number | null = null;
  /** Searches in the storm not yet handed to the alert book. */
  pending = 0;

  constructor(t: number) {
    this.start = t;
    this.runStart = t;
    this.last = t;
  }

  /** Searches within the last `window` seconds at `t`. */
  within(t: number, window: number): number {
    const elapsed = t - this.start;
    if (elapsed >= 2 * window) return 0;
    if (elapsed >= window) return this.current * Math.max(0, 1 - (elapsed - window) / window);
    return this.previous * (1 - elapsed / window) + this.current;
  }

  add(t: number, window: number): void {
    if (t - this.last > window) this.runStart = t;
    const elapsed = t - this.start;
    if (elapsed >= window) {
      this.previous = elapsed < 2 * window ? this.current : 0;
      this.current = 0;
      this.start += window * Math.floor(elapsed / window);
    }
    this.current += 1;
    if (t > this.last) this.last = t;
  }
}

/** Watches repeated searches per PV and per client process and raises `search-storm` / `search-client`. */
export class StormDetector {
  private readonly pvs = new BoundedLru<string, WindowRate>(MAX_TRACKED);
  private readonly clients = new BoundedLru<string, WindowRate>(MAX_TRACKED);
  /** PVs and clients in a storm now (the only ones {@link flush} visits). */
  private readonly stormingPvs = new Map<string, WindowRate>();
  private readonly stormingClients = new Map<string, WindowRate>();

  constructor(private readonly config: AlertsConfig['searchStorm']) {}

  /**
   * Counts a repeated search (the same client and channel searched before) of `pv` by `client` at capture
   * time `t`. First searches are not counted: callers skip them.
   */
  repeat(pv: string, client: string, t: number): void {
    const { window, pvRate, clientRate } = this.config;
    this.count(this.pvs, this.stormingPvs, pv, t, pvRate * window);
    this.count(this.clients, this.stormingClients, client, t, clientRate * window);
  }

  private count(
    table: BoundedLru<string, WindowRate>,
    storming: Map<string, WindowRate>,
    key: string,
    t: number,
    limit: number,
  ): void {
    let rate = table.get(key);
    if (rate === undefined) {
      rate = new WindowRate(t);
      table.set(key, rate);
    }
    rate.add(t, this.config.window);
    if (rate.stormSince !== null) rate.pending += 1;
    else if (rate.within(t, this.config.window) >= limit) {
      rate.stormSince = rate.runStart;
      // Every search of the window that crossed the limit belongs to the storm.
      rate.pending = Math.round(rate.within(t, this.config.window));
      storming.set(key, rate);
    }
  }

  /**
   * Hands what storms added since the last call to `book` (one raising per storming PV or client) and
   * ends the storms whose rate fell below half the limit by capture time `now`.
   */
  flush(book: AlertBook, now: number): void {
    const { window, pvRate, clientRate } = this.config;
    this.flushTable(book, now, this.stormingPvs, pvRate, (pv, perSecond) => ({
      kind: 'search-storm',
      message: `${pv} searched ${perSecond.toFixed(1)}/s over the last ${window} s (limit ${pvRate}/s), repeated searches of the same channels`,
    }));
    this.flushTable(book, now, this.stormingClients, clientRate, (client, perSecond) => ({
      kind: 'search-client',
      message: `client ${client} repeats searches at ${perSecond.toFixed(1)}/s over the last ${window} s (limit ${clientRate}/s)`,
    }));
  }

  private flushTable(
    book: AlertBook,
    now: number,
    storming: Map<string, WindowRate>,
    limit: number,
    describe: (subject: string, perSecond: number) => { kind: 'search-storm' | 'search-client'; message: string },
  ): void {
    const window = this.config.window;
    for (const [subject, rate] of storming) {
      const perSecond = rate.within(Math.max(now, rate.last), window) / window;
      if (rate.pending > 0) {
        book.raise({
          ...describe(subject, perSecond),
          subject,
          time: rate.last,
          since: rate.stormSince ?? rate.last,
          count: rate.pending,
        });
        rate.pending = 0;
      }
      if (perSecond < limit / 2) this.end(storming, subject, rate);
    }
  }

  private end(storming: Map<string, WindowRate>, key: string, rate: WindowRate): void {
    rate.stormSince = null;
    storming.delete(key);
  }
}
