/**
 * Work that may wait until the page has painted: a view's first frame shows its tables, and each deferred
 * piece (a uPlot chart costs 100-250 ms of main thread when both cores are busy) then runs in a task of its
 * own, so a tab switch is never one long task (issue 12: no main-thread task over 100 ms).
 */

/** The browser's scheduling functions (injected by tests). */
export interface PaintTimers {
  requestAnimationFrame(fn: () => void): number;
  cancelAnimationFrame(id: number): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

const browserTimers: PaintTimers = {
  requestAnimationFrame: (fn) => requestAnimationFrame(fn),
  cancelAnimationFrame: (id) => cancelAnimationFrame(id),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
};

/**
 * Runs `fn` in a new task after the next frame (after the `frames`-th frame from now): the animation frame
 * callback runs just before that frame's rendering, and the timeout it schedules runs after the frame.
 * Returns a function that cancels `fn` if it has not run yet.
 */
export function afterPaint(fn: () => void, timers: PaintTimers = browserTimers, frames = 1): () => void {
  let timeout: unknown = null;
  let done = false;
  let frame = 0;
  const onFrame = (left: number): void => {
    if (left > 1) {
      frame = timers.requestAnimationFrame(() => onFrame(left - 1));
      return;
    }
    timeout = timers.setTimeout(() => {
      done = true;
      fn();
    }, 0);
  };
  frame = timers.requestAnimationFrame(() => onFrame(frames));
  return () => {
    if (done) return;
    done = true;
    timers.cancelAnimationFrame(frame);
    if (timeout !== null) timers.clearTimeout(timeout);
  };
}

/**
 * Frames painted before a view's first deferred piece: the view's first frame, and one more for its main
 * table, whose rows the data worker answers within about a frame of the switch (they come before the
 * secondary pieces, which otherwise took the task in between). Each further piece waits one frame.
 */
export const FIRST_PIECE_FRAMES = 2;

/**
 * Deferred work of a view, one piece per task, each after a frame painted once the previous piece ran
 * (the first after {@link FIRST_PIECE_FRAMES}): a view with several tables and charts shows them one
 * after the other, and no piece waits in a task behind the others (issue 12). Pieces run in the order
 * they were added (components mount in document order).
 */
export class PaintQueue {
  private readonly jobs: { fn: () => void }[] = [];
  /** Cancels the pending {@link afterPaint} of the head job, or null when none is booked. */
  private booked: (() => void) | null = null;

  constructor(private readonly timers: PaintTimers = browserTimers) {}

  /** Queues `fn`; returns a function that takes it out again if it has not run yet. */
  add(fn: () => void): () => void {
    const job = { fn };
    this.jobs.push(job);
    this.book(FIRST_PIECE_FRAMES);
    return () => {
      const at = this.jobs.indexOf(job);
      if (at < 0) return;
      this.jobs.splice(at, 1);
      if (this.jobs.length === 0) {
        this.booked?.();
        this.booked = null;
      }
    };
  }

  /** Pieces waiting (for tests and diagnostics). */
  get size(): number {
    return this.jobs.length;
  }

  private book(frames: number): void {
    if (this.booked !== null || this.jobs.length === 0) return;
    this.booked = afterPaint(
      () => {
        this.booked = null;
        const job = this.jobs.shift();
        try {
          job?.fn();
        } finally {
          this.book(1);
        }
      },
      this.timers,
      frames,
    );
  }
}

/** The page's queue of deferred view pieces. */
export const paintQueue = new PaintQueue();
