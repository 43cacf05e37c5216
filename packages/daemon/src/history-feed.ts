/**
 * One WebSocket client's history delivery, on the main thread: what the hub holds for a client between
 * its `{type:'subscribe', since}` and the last history frame. Three phases:
 *
 * 1. `waiting` for the worker to take the request: record batches still arriving were decoded before it
 *    (their records are the history's, up to the seam), so the hub offers them to nobody on this client's
 *    behalf.
 * 2. `scanning`: the worker set the seam; batches now carry only later records, which the hub keeps in the
 *    client's live sample as usual but does not send yet (history first).
 * 3. `sending`: the scan's sample arrived; it goes out in frames of at most {@link HISTORY_FRAME_RECORDS}
 *    records, one per tick while the client's socket keeps up, then a `history` summary, then live frames.
 */
import type { HistoryResult } from './history.js';

/** Records in one history frame. */
export const HISTORY_FRAME_RECORDS = 2000;
/** Seconds of a client's record rate its history may hold (10,000 records at the default 2,000/s). */
export const HISTORY_SECONDS = 5;

/** A client's history in delivery (see the module comment). */
export class HistoryFeed {
  phase: 'waiting' | 'scanning' | 'sending' = 'waiting';
  private result: HistoryResult | undefined;
  /** Items sent so far, and the rank of the last one sent (-1 before any). */
  private next = 0;
  private lastRank = -1;

  constructor(
    readonly request: number,
    readonly since: number,
  ) {}

  /** The worker's scan result: delivery can start. */
  take(result: HistoryResult): void {
    this.result = result;
    this.phase = 'sending';
  }

  /** Records sent in history frames so far. */
  get sent(): number {
    return this.next;
  }

  /**
   * The next frame to send (a `records` frame flagged `history`, or the closing `history` summary), or
   * undefined when everything was sent. `now` is the daemon's wall clock in ms.
   */
  nextFrame(now: number): { text: string; done: boolean } | undefined {
    const r = this.result;
    if (r === undefined) return undefined;
    if (this.next < r.items.length) {
      const end = Math.min(r.items.length, this.next + HISTORY_FRAME_RECORDS);
      const last = end === r.items.length;
      // Each frame stands for the matches since the previous one; the last one for every match left.
      const upTo = last ? r.matched - 1 : r.ranks[end - 1];
      const matched = upTo - this.lastRank;
      const parts = r.items.slice(this.next, end);
      this.lastRank = upTo;
      this.next = end;
      return {
        text:
          `{"type":"records","history":true,"time":${now / 1000},"records":[${parts.join(',')}],` +
          `"matched":${matched},"sent":${parts.length},"sampling":${parts.length < matched}}`,
        done: false,
      };
    }
    this.result = undefined;
    return {
      text: JSON.stringify({
        type: 'history',
        since: this.since,
        matched: r.matched,
        sent: r.items.length,
        sampling: r.items.length < r.matched,
        oldest: r.oldest,
      }),
      done: true,
    };
  }
}
