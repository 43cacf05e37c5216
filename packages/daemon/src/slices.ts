/**
 * Time-sliced work in the decoding worker: views and reports are computed as steps (see
 * `@ca-shark/analysis` steps.ts) a slice at a time, and the worker returns to its message queue (frame
 * batches, subscriptions, queries) between slices. A costly computation (100,000 channels) therefore
 * delays only its own result, never decoding, the record stream or the counters.
 */
import type { Steps } from '@ca-shark/analysis';

/** One computation in progress. */
interface Job {
  readonly steps: Steps<unknown>;
  readonly done: (value: unknown) => void;
  readonly fail: (err: Error) => void;
}

/** Runs computations in steps, oldest first, at most `budgetMs` per {@link SliceRunner.run}. */
export class SliceRunner {
  private readonly jobs: Job[] = [];

  constructor(private readonly clock: () => number = () => performance.now()) {}

  /** Queues a computation; `done` gets its result, `fail` what it threw. */
  add<T>(steps: Steps<T>, done: (value: T) => void, fail: (err: Error) => void): void {
    this.jobs.push({ steps, done: done as Job['done'], fail });
  }

  /** Computations queued or in progress. */
  get pending(): number {
    return this.jobs.length;
  }

  /**
   * Runs steps of the queued computations, oldest first, until `budgetMs` has passed (at least one step);
   * returns whether any remains. A step that throws ends its computation only.
   */
  run(budgetMs: number): boolean {
    const start = this.clock();
    while (this.jobs.length > 0) {
      this.step();
      if (this.clock() - start >= budgetMs) break;
    }
    return this.jobs.length > 0;
  }

  /**
   * Drops the computation of `steps` (queued or in progress) without its `done` or `fail`; its generator is
   * closed, so its `finally` blocks run. False when it is not queued (it ended already).
   */
  cancel(steps: Steps<unknown>): boolean {
    const i = this.jobs.findIndex((job) => job.steps === steps);
    if (i < 0) return false;
    this.jobs.splice(i, 1);
    steps.return(undefined);
    return true;
  }

  /** Runs every queued computation to its end at once (the input ended: the final views are due now). */
  finish(): void {
    while (this.jobs.length > 0) this.step();
  }

  private step(): void {
    const job = this.jobs[0];
    let finished: boolean;
    let value: unknown;
    try {
      const next = job.steps.next();
      finished = next.done === true;
      value = next.value;
    } catch (err) {
      this.jobs.shift();
      job.fail(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (!finished) return;
    this.jobs.shift();
    job.done(value);
  }
}

/**
 * Runs `steps` and returns its result with the time its own steps took (ms), pauses excluded: what a
 * computation cost the thread, however many slices it was spread over.
 */
export function* timedSteps<T>(steps: Steps<T>, clock: () => number): Steps<[T, number]> {
  let spent = 0;
  for (;;) {
    const before = clock();
    const next = steps.next();
    spent += clock() - before;
    if (next.done === true) return [next.value, spent];
    yield;
  }
}
