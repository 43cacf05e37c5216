/**
 * The decoding worker's backlog, as the capture side sees it: frame batches posted and not yet decoded, how
 * old the oldest one is, and how fast the worker drains them. In live capture it decides which batches are
 * shed (issue 12): a batch is dropped only when the worker, at the rate it has been decoding, would reach it
 * later than the lag bound, so what it can catch up with in time is decoded and only the excess is shed.
 *
 * The earlier rule dropped every new batch while the oldest one in flight was older than the bound. Once it
 * fired, the batches left in flight were all posted before it, so their age only grew and it kept dropping
 * until the backlog was nearly gone: an on/off cycle that threw away far more than the worker was short of
 * (84-88 % decoded at 175 Mbit/s with the page open, where no bound decoded all of it 2.0 s behind at worst).
 * Predicting the wait from the bytes in flight and the measured drain rate, once the oldest batch is past the
 * bound, sheds at batch granularity: while
 * the worker is short of the offered rate, the backlog holds at about one bound's worth of its work and
 * roughly one batch in (decode rate / offered rate) is taken.
 *
 * The rate cannot see a worker that stopped (a long garbage collection, a starved thread): a backlog whose
 * oldest batch waited more than {@link STALL_FACTOR} bounds is shed whatever the prediction, and the worker
 * drops unread a batch that waited that long (see engine-worker.ts). Pure: the caller supplies the clock.
 *
 * Two bounds (session 8): a worker that keeps up on average may fall behind by up to `maxLagMs` in its
 * pauses before anything is shed, but once it was short (a batch shed) the backlog is held to the tighter
 * `holdLagMs` until the worker has kept up (the oldest batch waiting less than a quarter of that) for
 * {@link HOLD_MS}. Under a steady overload the share decoded is the same whatever the backlog's length
 * (everything beyond the worker's rate is shed either way), so holding it short costs no more frames and
 * keeps the Live view close to the wire: at 250 Mbit/s with the page open the newest row's time waiting for
 * the decoder was 1.4-2.3 s (p50) with one bound of 1 s. The price: a worker that keeps up between long
 * stops is held after the first and loses more in the next.
 */

/**
 * A backlog whose oldest batch waited this many lag bounds means the worker stalled: shed regardless of
 * the predicted wait. With the default 1 s bound, 1.5 s: the stream, the page's tick and its drawing add
 * 0.4-0.8 s (Live was 1.4-1.8 s behind with batches 1 s old at most), and Live promises 2 s.
 */
export const STALL_FACTOR = 1.5;
/** Time constant of the drain rate's moving average (ms): a few hundred batches, a few views publications. */
export const DRAIN_RATE_TAU_MS = 1000;
/**
 * After a batch was shed, the backlog is held to {@link BacklogBounds.holdLagMs} until the worker kept up
 * for this long (ms): its oldest waiting batch never older than {@link CAUGHT_UP_SHARE} of the hold bound.
 */
export const HOLD_MS = 3000;
/** A worker whose oldest waiting batch is younger than this share of the hold bound has caught up. */
export const CAUGHT_UP_SHARE = 0.25;

/** Bounds of a {@link DecoderBacklog}. */
export interface BacklogBounds {
  /** Longest predicted wait (ms) of a batch before it is decoded; Infinity: no lag bound. */
  maxLagMs: number;
  /**
   * The same bound while the worker is short of the offered rate (from a batch shed until it kept up for
   * {@link HOLD_MS}; meanwhile `minDropBytes` does not apply and the predicted wait alone decides); at most
   * `maxLagMs`. Absent: no hold, the one bound of session 7.
   */
  holdLagMs?: number;
  /** The lag bound sheds nothing while at most this many frame bytes are in flight (unless held). */
  minDropBytes: number;
  /** Frame bytes in flight beyond which every batch is shed, whatever the lag (memory bound). */
  maxBytes: number;
}

/**
 * Frame batches posted to the worker and not yet decoded: cumulative bytes and post time of each, oldest
 * first. The oldest one's age is how far decoding is behind capture.
 */
export class InFlightBatches {
  private readonly ends: number[] = [];
  private readonly times: number[] = [];
  private head = 0;

  /** A batch was posted at `at` (ms); `end` is the bytes posted so far, it included. */
  push(end: number, at: number): void {
    this.ends.push(end);
    this.times.push(at);
  }

  /** The worker decoded every batch up to `bytes` (cumulative). */
  decoded(bytes: number): void {
    while (this.head < this.ends.length && this.ends[this.head] <= bytes) this.head += 1;
    // Compacted now and then, not per batch: the queue is short and shifting it each time would be O(n).
    if (this.head > 1024 || this.head === this.ends.length) {
      this.ends.splice(0, this.head);
      this.times.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Age (ms) at `now` of the oldest batch not yet decoded; 0 when none waits. */
  lagMs(now: number): number {
    return this.head < this.times.length ? Math.max(0, now - this.times[this.head]) : 0;
  }
}

/**
 * How fast the worker decodes frame bytes while it has some waiting (bytes per ms of wall time, so a worker
 * starved of CPU or busy with views counts as slower): an exponentially weighted average over the intervals
 * between two `decoded` answers during which it was never short of work. Intervals in which it may have
 * waited for frames say nothing about its speed and are left out.
 */
export class DrainRate {
  private bytes = 0;
  private ms = 0;
  private lastAt = NaN;
  private lastDecoded = 0;
  /** Bytes posted when the last answer came: the worker had those to go on with. */
  private postedThen = 0;

  /** Bytes per ms, or undefined before the worker was first seen busy. */
  get value(): number | undefined {
    return this.ms > 0 ? this.bytes / this.ms : undefined;
  }

  /**
   * Work was posted at `at` (ms) to a worker that had none: it starts from here, with `decoded` bytes done
   * and `posted` (the new batch included) to go on with.
   */
  start(decoded: number, posted: number, at: number): void {
    this.lastAt = at;
    this.lastDecoded = decoded;
    this.postedThen = posted;
  }

  /**
   * The worker answered at `at` (ms) having decoded `decoded` bytes in all, while `posted` were posted.
   * `unread`: the latest batch was dropped unread (it cost the worker nothing, so it says nothing of its rate).
   */
  sample(decoded: number, posted: number, at: number, unread = false): void {
    const dt = at - this.lastAt;
    // Every byte decoded since the last answer was already posted then: the worker never waited for frames.
    if (!unread && dt > 0 && decoded <= this.postedThen && decoded > this.lastDecoded) {
      const keep = Math.exp(-dt / DRAIN_RATE_TAU_MS);
      this.bytes = this.bytes * keep + (decoded - this.lastDecoded);
      this.ms = this.ms * keep + dt;
    }
    this.lastAt = at;
    this.lastDecoded = decoded;
    this.postedThen = posted;
  }
}

/** Why a batch is not posted (see {@link DecoderBacklog.admit}). */
export type ShedReason = 'bytes' | 'lag' | 'stall';

/** The capture side's account of the worker's backlog, and the live shedding rule. */
export class DecoderBacklog {
  private posted = 0;
  private decodedBytes = 0;
  private readonly batches = new InFlightBatches();
  private readonly rate = new DrainRate();
  /** The backlog is held to the hold bound: a batch was shed and the worker has not kept up since. */
  private holding = false;
  /** Since when (ms) the worker has kept up, NaN while it has not. */
  private caughtUpAt = NaN;
  private readonly holdLagMs: number;

  /** Whether a shed holds the backlog at all (a hold bound was given). */
  private readonly holds: boolean;

  constructor(private readonly bounds: BacklogBounds) {
    this.holdLagMs = Math.min(bounds.maxLagMs, bounds.holdLagMs ?? bounds.maxLagMs);
    this.holds = bounds.holdLagMs !== undefined;
  }

  /** Whether the backlog is held: a batch was shed and the worker has not kept up since. */
  get held(): boolean {
    return this.holding;
  }

  /** The lag bound (ms) in force: the hold bound while the worker is short, else the wide one. */
  get boundMs(): number {
    return this.holding ? this.holdLagMs : this.bounds.maxLagMs;
  }

  /** Waiting longer than this (ms) means the worker stalled: a batch posted now is then dropped unread. */
  get stallMs(): number {
    return STALL_FACTOR * this.boundMs;
  }

  /**
   * Frame bytes in flight up to which nothing is shed for lag: `minDropBytes`, or none while held. A small
   * backlog drains in moments once a worker that keeps up runs again (a loaded machine at a low packet
   * rate), but a worker known to be short may take seconds over it: at the start of a 250 Mbit/s flood a
   * cold worker decoded 4 MiB in 1.5-3 s, and that was how far behind Live was.
   */
  get keepBytes(): number {
    return this.holding ? 0 : this.bounds.minDropBytes;
  }

  /** Frame bytes posted and not yet decoded. */
  get inFlight(): number {
    return this.posted - this.decodedBytes;
  }

  /** Frame bytes posted so far. */
  get postedBytes(): number {
    return this.posted;
  }

  /** The worker's measured drain rate (bytes per ms), undefined until it was seen busy. */
  get drainRate(): number | undefined {
    return this.rate.value;
  }

  /** Age (ms) at `now` of the oldest batch not yet decoded (0: none waits): how far decoding is behind. */
  lagMs(now: number): number {
    return this.batches.lagMs(now);
  }

  /**
   * How long (ms) a batch posted now would wait before the worker gets to it, at its measured rate: 0
   * while nothing waits or before any rate is known.
   */
  predictedWaitMs(): number {
    const rate = this.rate.value;
    return rate === undefined || this.inFlight === 0 ? 0 : this.inFlight / rate;
  }

  /**
   * Live capture: undefined when a batch of `length` bytes may be posted at `now` (ms), else why it is shed:
   * `bytes`, over the memory bound; `lag`, the oldest batch waited longer than the lag bound in force
   * ({@link boundMs}) and the worker would reach this one later than the bound too; `stall`, the oldest batch
   * already waited {@link STALL_FACTOR} bounds (the worker stopped; the rate cannot tell). A batch shed
   * holds the backlog to the hold bound until the worker kept up for {@link HOLD_MS}.
   */
  admit(length: number, now: number): ShedReason | undefined {
    const lag = this.batches.lagMs(now);
    if (lag > CAUGHT_UP_SHARE * this.holdLagMs) this.caughtUpAt = NaN;
    else if (Number.isNaN(this.caughtUpAt)) this.caughtUpAt = now;
    if (this.holding && now - this.caughtUpAt >= HOLD_MS) this.holding = false;
    const reason = this.shedReason(length, lag);
    if (reason !== undefined && this.holds) this.holding = true;
    return reason;
  }

  private shedReason(length: number, lag: number): ShedReason | undefined {
    if (this.inFlight > this.bounds.maxBytes) return 'bytes';
    if (this.inFlight + length <= this.keepBytes) return undefined;
    const maxLagMs = this.boundMs;
    if (lag > STALL_FACTOR * maxLagMs) return 'stall';
    // While the oldest batch is within the bound, decoding is not behind, whatever the rate predicts: the
    // rate is an average over batches of very different cost per byte (a 240 KB waveform decodes faster per
    // byte than a batch of small monitors), and trusting it alone shed 4-6 % at 175 Mbit/s with no client
    // where the worker, unbounded, was never more than 0.9 s behind. A worker held (it was short and has not
    // kept up since) is known to be behind: there the prediction alone decides, or a batch admitted while the
    // oldest was just within the bound would wait a bound more behind it (0.8 s at half the offered rate).
    if (!this.holding && lag <= maxLagMs) return undefined;
    return this.predictedWaitMs() > maxLagMs ? 'lag' : undefined;
  }

  /** A batch of `length` bytes was posted at `at` (ms). */
  post(length: number, at: number): void {
    const idle = this.inFlight === 0;
    this.posted += length;
    if (idle) this.rate.start(this.decodedBytes, this.posted, at);
    this.batches.push(this.posted, at);
  }

  /**
   * The worker decoded every batch up to `bytes` in all, as known at `at` (ms); `unread`: it dropped the
   * latest one unread (a stall).
   */
  decoded(bytes: number, at: number, unread = false): void {
    this.decodedBytes = bytes;
    this.batches.decoded(bytes);
    this.rate.sample(bytes, this.posted, at, unread);
  }
}
