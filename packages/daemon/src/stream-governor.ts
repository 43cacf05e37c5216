/**
 * Decoding comes first: when the decoding worker falls behind live capture, the record stream to WebSocket
 * clients gives way, never the decoder. Serialising and handing over a streamed record costs the worker about
 * half what decoding a message does, so at 85k msgs/s a client reading 20,000 records/s (30,000 serialised,
 * with the hub's margin) made the worker fall seconds behind on a shared 2-core machine, until the main
 * thread dropped whole frame batches (issue 12).
 *
 * The governor watches how long each frame batch waited in the worker's queue (its lag) and sets the share
 * of their rates the streams get: halved while the lag is above {@link HIGH_LAG_MS}, grown back by a
 * quarter per {@link ADJUST_MS} while it is below {@link LOW_LAG_MS}, adjusted at most once per
 * {@link ADJUST_MS} of capture. The
 * streams then sample harder (frames say so: `sampling`, `matched` > `sent`); counts and aggregates stay
 * exact, since only serialisation is skipped. The newest record of each batch still reaches every stream,
 * so the Live view stays fresh. Pure: the caller supplies the clock.
 *
 * The lag shows a flood late: a fresh worker was 100 % busy for the first seconds of one in the load bench
 * while batches took 0.4 s to wait 200 ms and the share another 0.8 s to be halved eight times, so it spent
 * those seconds serialising about 30,000 records a second for a client reading 20,000 (issue 12, session
 * 9). So the share also never exceeds {@link USE_HEADROOM} times what the streams' matches filled of their
 * rates lately ({@link StreamGovernor.filled}; that use is remembered with a half-life of
 * {@link USE_MEMORY_MS}): streams that matched little start a flood thin, like TCP's congestion window
 * after an idle spell, and double per adjustment while the worker keeps up (slow start), by a quarter once
 * the lag has cut them. Until the lag cuts them, each stream keeps {@link START_RATE} records/s whatever
 * the share ({@link StreamGovernor.floor}): a burst of a few hundred records after a quiet spell (a
 * `caget` of many PVs) still reaches its clients whole, for about 1 % of the worker.
 */
import { MIN_GOVERNED_RATE } from './subscriptions.js';

/** A batch that waited longer than this (ms) before the worker decoded it means the worker is behind. */
export const HIGH_LAG_MS = 200;
/** Below this lag (ms) the worker keeps up: the streams may take more again. */
export const LOW_LAG_MS = 50;
/** Least time between two adjustments (ms): one change must show in the lag before the next. */
export const ADJUST_MS = 100;
/**
 * Least share the streams keep; each also keeps MIN_GOVERNED_RATE records/s within its own rate (see
 * subscriptions.ts).
 */
export const MIN_SHARE = 1 / 256;
const DECREASE = 0.5;
const INCREASE = 1.25;
/** Growth per adjustment in slow start (after an idle spell, until the first decrease). */
const SLOW_START_INCREASE = 2;
/** The most time (ms) one adjustment grows the share for, however long ago the last one was. */
const MAX_GROWTH_MS = 10 * ADJUST_MS;
/** The share may be this many times what the streams' matches lately filled of their rates. */
export const USE_HEADROOM = 2;
/**
 * Half-life (ms) of the memory of the streams' use: a burst every second or two is still met whole, a flood
 * after a quiet spell starts thin.
 */
export const USE_MEMORY_MS = 2000;
/**
 * Records per second a stream keeps in a slow start (its own rate permitting), before the lag ever cut
 * the share; once it has, {@link MIN_GOVERNED_RATE}.
 */
export const START_RATE = 1000;

/** The share of their rates the record streams get: what the decoder can spare, and what they lately used. */
export class StreamGovernor {
  private value = 1;
  /** When the share was last looked at (ms). */
  private lastLook = -Infinity;
  /** The largest lag seen since the last adjustment (ms). */
  private worstLag = 0;
  /** Seconds of their full rates the streams' matches filled since the last adjustment. */
  private fill = 0;
  /** The most share the streams' recent use allows (decays by half every {@link USE_MEMORY_MS}). */
  private ceiling = MIN_SHARE;
  /** Doubling, not growing by a quarter: no decrease since the streams last used less than their share. */
  private slowStart = true;

  /** Share of their rates (0..1] the streams get now. */
  get share(): number {
    return this.value;
  }

  /**
   * Records per second each stream keeps however small the share (its own rate permitting):
   * {@link START_RATE} in a slow start, {@link MIN_GOVERNED_RATE} once the lag has cut the share.
   */
  get floor(): number {
    return this.slowStart ? START_RATE : MIN_GOVERNED_RATE;
  }

  /**
   * No stream is open: there is nothing to thin, so the share is whole again (`/api/stats` would otherwise
   * report a sampled stream nobody reads). Nothing is known of the use of a stream that opens next: its
   * first adjustment starts it slow (the share at its floor, {@link START_RATE} records/s kept).
   */
  reset(): void {
    this.value = 1;
    this.lastLook = -Infinity;
    this.worstLag = 0;
    this.fill = 0;
    this.ceiling = MIN_SHARE;
    this.slowStart = true;
  }

  /**
   * Takes what a batch handed to the streams would have filled of their full rates, in seconds of those
   * rates (`BatchPick.fill`): the streams' use, which bounds the share at the next adjustment.
   */
  filled(seconds: number): void {
    this.fill += seconds;
  }

  /**
   * Takes the lag of a batch about to be decoded (`lagMs`: how long it waited since it was posted) at time
   * `nowMs`, and adjusts the share when one is due. `short`: the capture side is shedding frames the decoder
   * cannot keep up with (its backlog is held, decoder-backlog.ts), so the decoder is behind whatever this
   * batch's wait: the held backlog keeps waits at 0.1-0.6 s, under and around {@link HIGH_LAG_MS}, and
   * without this the streams took back decoder time while frames were dropped (in the load bench more
   * records went to clients and fewer messages were decoded than with main's one-second backlog).
   */
  observe(lagMs: number, nowMs: number, short = false): void {
    const lag = short ? Math.max(lagMs, HIGH_LAG_MS + 1) : Math.max(0, lagMs);
    if (lag > this.worstLag) this.worstLag = lag;
    const elapsed = nowMs - this.lastLook;
    if (elapsed < ADJUST_MS) return;
    this.lastLook = nowMs;
    const worst = this.worstLag;
    this.worstLag = 0;
    // The first adjustment knows no interval: what was filled before it counts as no use.
    const used = Number.isFinite(elapsed) ? this.fill / (elapsed / 1000) : 0;
    const memory = Number.isFinite(elapsed) ? this.ceiling * 2 ** (-elapsed / USE_MEMORY_MS) : 0;
    this.fill = 0;
    const bound = Math.max(USE_HEADROOM * used, memory);
    this.ceiling = Math.max(MIN_SHARE, Math.min(1, bound));
    let value = this.value;
    if (worst > HIGH_LAG_MS) {
      value *= DECREASE;
      this.slowStart = false;
    } else if (worst < LOW_LAG_MS) {
      // Growth is per ADJUST_MS that passed: batches a second apart (a 1 Hz burst) grow the share as fast
      // as a steady stream does.
      const steps = Math.min(elapsed, MAX_GROWTH_MS) / ADJUST_MS;
      value *= (this.slowStart ? SLOW_START_INCREASE : INCREASE) ** steps;
    }
    // Streams that used less than their share start again from their use when traffic rises.
    if (value > bound) this.slowStart = true;
    this.value = Math.max(MIN_SHARE, Math.min(1, this.ceiling, value));
  }
}
