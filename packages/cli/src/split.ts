/**
 * Printing a capture file on two threads. Formatting JSON lines costs several times the decoding, and
 * decoding is sequential (TCP reassembly, conversation state), so both threads decode the whole file,
 * each cheaply skipping the lines of the other: the main thread prints
 * the even batches of records (lines.ts) and the worker formats the odd ones and hands over their bytes,
 * which the main thread writes in order. Damage, problems, counts and exit statuses are all the main
 * thread's, exactly as in a single-threaded run; the worker only formats.
 *
 * Used for regular files only (stdin and pipes are read once, by the main thread, as they arrive), and
 * only when the process may use more than one CPU (`taskset -c 0` gives one); see {@link useSplit}.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CliOptions } from './args.js';

/** Files smaller than this print on one thread: starting a worker costs more than it saves. */
export const SPLIT_MIN_BYTES = 4 << 20;
/** Batches the worker may run ahead of the main thread (bounds the memory of waiting text). */
export const MAX_AHEAD = 3;

/** Young generation of the worker's heap, MB (V8's default is larger). */
const WORKER_YOUNG_MB = 12;

/** Environment variable: `1` prints on one thread, `2` on two (tests and benchmarks). Unset: decided here. */
export const THREADS_ENV = 'CA_SHARK_THREADS';

/**
 * Whether to print a file of `size` bytes on two threads. By default only `--json`: its formatting costs
 * 3-4 times the decoding, so halving it pays for the second decode. The text line now costs less than
 * decoding: on realistic.pcap two threads took 4.5-5.7 s CPU and 167-182 MiB against 2.4-3.5 s and
 * 105-129 MiB on one, with no shorter wall time on a loaded 2-core machine (docs/performance.md).
 */
export function useSplit(options: CliOptions, size: number, env: NodeJS.ProcessEnv): boolean {
  if (options.command !== 'print') return false;
  const forced = env[THREADS_ENV];
  if (forced === '1') return false;
  if (forced === '2') return true;
  return options.json && size >= SPLIT_MIN_BYTES && availableParallelism() > 1;
}

/** What the main thread tells the worker. */
export interface SplitJob {
  argv: readonly string[];
  path: string;
  color: boolean;
  /** Int32Array over a SharedArrayBuffer: [0] = batches the main thread has taken. */
  taken: SharedArrayBuffer;
}

/** A message from the worker: the bytes of one odd batch, the end, or a failure. */
export type SplitMessage =
  { kind: 'batch'; batch: number; bytes: Uint8Array } | { kind: 'end' } | { kind: 'error'; message: string };

/** Tests and tsx run the CLI from its TypeScript sources, where the worker needs tsx's loader too. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * The main thread's side: starts the worker and gives the bytes of each odd batch when the main thread
 * reaches its place.
 */
export class SplitPrinter {
  private readonly worker: Worker;
  private readonly ready = new Map<number, Uint8Array>();
  private waiting: { batch: number; resolve: (b: Uint8Array) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;
  private readonly taken: Int32Array;

  constructor(argv: readonly string[], path: string, color: boolean) {
    const shared = new SharedArrayBuffer(4);
    this.taken = new Int32Array(shared);
    const job: SplitJob = { argv, path, color, taken: shared };
    const entry = RUNNING_FROM_SOURCE
      ? new URL('./split-worker-boot.mjs', import.meta.url)
      : new URL('./split-worker.js', import.meta.url);
    this.worker = new Worker(entry, {
      workerData: job,
      execArgv: RUNNING_FROM_SOURCE ? ['--conditions=source'] : [],
      // A smaller young generation than the default keeps the second heap's pages (peak RSS) down.
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
    });
    this.worker.on('message', (m: SplitMessage) => {
      if (m.kind === 'batch') {
        const w = this.waiting;
        if (w !== null && w.batch === m.batch) {
          this.waiting = null;
          w.resolve(m.bytes);
        } else this.ready.set(m.batch, m.bytes);
      } else if (m.kind === 'error') this.fail(new Error(`printing worker: ${m.message}`));
    });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (this.waiting !== null) this.fail(new Error(`printing worker exited (${code}) before its batch`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(this.failure);
  }

  /** The bytes the worker formatted for odd batch `batch`. */
  take(batch: number): Promise<Uint8Array> | Uint8Array {
    const bytes = this.ready.get(batch);
    this.release();
    if (bytes !== undefined) {
      this.ready.delete(batch);
      return bytes;
    }
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { batch, resolve, reject };
    });
  }

  /** One more batch taken: the worker may run further ahead. */
  private release(): void {
    Atomics.add(this.taken, 0, 1);
    Atomics.notify(this.taken, 0);
  }

  /** Stops the worker (at the end, or when the output has gone). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
