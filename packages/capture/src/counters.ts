/** libpcap's counters are C `u_int`: they wrap at 2^32 (after about 12 hours at 100k packets/s). */
const U32_RANGE = 2 ** 32;

/** libpcap's counters for one live capture, since it was opened. */
export interface CaptureStats {
  /** Packets the kernel handed to this capture's socket (on Linux `lo`, both directions: see docs/capture.md). */
  received: number;
  /** Packets the kernel dropped because the capture buffer was full. */
  dropped: number;
  /** Packets the interface itself dropped (driver or NIC), when the platform reports it. */
  ifDropped: number;
  /**
   * Frames captured but discarded here because an async-iterator consumer fell more than its `maxQueue`
   * frames behind. Zero with callback delivery.
   */
  queueDropped: number;
}

/**
 * Widens 32-bit counters that wrap into plain numbers that do not: each reading adds the difference from the
 * previous one modulo 2^32. Correct as long as it is fed at least once per wrap period.
 */
export class WrappingCounter {
  private last = 0;
  private total = 0;

  /** Feeds a raw 32-bit reading and returns the widened total. */
  update(raw: number): number {
    const delta = (raw - this.last + U32_RANGE) % U32_RANGE;
    this.last = raw;
    this.total += delta;
    return this.total;
  }

  /** The widened total as of the last reading. */
  get value(): number {
    return this.total;
  }
}
