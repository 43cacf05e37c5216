/**
 * Decoding comes first: when the decoding worker falls behind live capture, the record stream to WebSocket
 * clients gives way, never the decoder. Serialising and handing over a streamed record costs the worker about
 * half what decoding a message does, so at 85k msgs/s a client reading 20,000 records/s (30,000 serialised,
 * with the hub's margin) made the worker fall seconds behind on a shared 2-core machine, until the main
 * thread dropped whole frame batches (issue 12).
 *
 * The governor watches how long each frame batch waited in the worker's queue (its lag) and sets the share
 * of their rates the streams get: halved while the lag is above {@link HIGH_LAG_MS}, grown back by a
 * quarter while it is below {@link LOW_LAG_MS}, each at most once per {@link ADJUST_MS} of capture. The
 * streams then sample harder (frames say so: `sampling`, `matched` > `sent`); counts and aggregates stay
 * exact, since only serialisation is skipped. The newest record of each batch still reaches every stream,
 * so the Live view stays fresh. Pure: the caller supplies the clock.
 */

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

/** The share of their rates the record streams get while the decoder catches up. */
export class StreamGovernor {
  private value = 1;
  /** When the share was last looked at (ms). */
  private lastLook = -Infinity;
  /** The largest lag seen since the last adjustment (ms). */
  private worstLag = 0;

  /** Share of their rates (0..1] the streams get now. */
  get share(): number {
    return this.value;
  }

  /**
   * No stream is open: there is nothing to thin, so the share is whole again (`/api/stats` would otherwise
   * report a sampled stream nobody reads), and a client that subscribes starts at its full rate; a decoder
   * still behind halves it again within a few adjustments.
   */
  reset(): void {
    this.value = 1;
    this.worstLag = 0;
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
    if (nowMs - this.lastLook < ADJUST_MS) return;
    this.lastLook = nowMs;
    const worst = this.worstLag;
    this.worstLag = 0;
    if (worst > HIGH_LAG_MS) this.value = Math.max(MIN_SHARE, this.value * DECREASE);
    else if (worst < LOW_LAG_MS) this.value = Math.min(1, this.value * INCREASE);
  }
}
