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
 * Runs `fn` in a new task after the next frame: the animation frame callback runs just before that frame's
 * rendering, and the timeout it schedules runs after the frame. Returns a function that cancels `fn` if it
 * has not run yet.
 */
export function afterPaint(fn: () => void, timers: PaintTimers = browserTimers): () => void {
  let timeout: unknown = null;
  let done = false;
  const frame = timers.requestAnimationFrame(() => {
    timeout = timers.setTimeout(() => {
      done = true;
      fn();
    }, 0);
  });
  return () => {
    if (done) return;
    done = true;
    timers.cancelAnimationFrame(frame);
    if (timeout !== null) timers.clearTimeout(timeout);
  };
}
