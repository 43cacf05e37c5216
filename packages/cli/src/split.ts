/**
 * Printing a capture file on two threads, two ways.
 *
 * `--json` ({@link JsonSplitPrinter}): the main thread decodes and writes every line, except the digits
 * of long waveforms (most of the text of a capture with big DOUBLE arrays), which it leaves as holes in a
 * batch of lines and hands to the worker with the waveforms' values; the worker fills the holes and hands
 * the bytes back, and the main thread writes them in order. Decoding happens once; when the worker falls
 * behind, the main thread fills a batch's holes itself instead of waiting.
 *
 * Text, when forced ({@link SplitPrinter}): both threads decode the whole file, each cheaply skipping the
 * lines of the other: the main thread prints the even batches of records (lines.ts) and the worker
 * formats the odd ones and hands over their bytes, which the main thread writes in order.
 *
 * Either way damage, problems, counts and exit statuses are all the main thread's, exactly as in a
 * single-threaded run; the worker only formats. Used for regular files only (stdin and pipes are read
 * once, by the main thread, as they arrive), and only when the process may use more than one CPU
 * (`taskset -c 0` gives one); see {@link useSplit}.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CaRecord } from '@ca-shark/decoder';
import { JsonBuffer, writeNumbers, writeRecordJSON } from '@ca-shark/analysis';
import type { CliOptions } from './args.js';
import type { LineWriter } from './output.js';

/** Files smaller than this print on one thread: starting a worker costs more than it saves. */
export const SPLIT_MIN_BYTES = 4 << 20;
/** Batches the worker may run ahead of the main thread (bounds the memory of waiting text). */
export const MAX_AHEAD = 3;

/**
 * Young generation of the worker's heap, MB (V8's default is larger): a decoding worker's (text split),
 * and a --json worker's, which makes few objects (4 MB: 5 MB less peak RSS than 12 on realistic.pcap).
 */
const WORKER_YOUNG_MB = 12;
const NUMBERS_WORKER_YOUNG_MB = 4;

/** Environment variable: `1` prints on one thread, `2` on two (tests and benchmarks). Unset: decided here. */
export const THREADS_ENV = 'CA_SHARK_THREADS';

/**
 * Whether to print a file of `size` bytes on two threads. By default only `--json`, whose waveform digits
 * the worker writes while the main thread decodes. The text line now costs less than decoding: on
 * realistic.pcap two threads took 4.5-5.7 s CPU and 167-182 MiB against 2.4-3.5 s and 105-129 MiB on
 * one, with no shorter wall time on a loaded 2-core machine (docs/performance.md).
 */
export function useSplit(options: CliOptions, size: number, env: NodeJS.ProcessEnv): boolean {
  if (options.command !== 'print') return false;
  const forced = env[THREADS_ENV];
  if (forced === '1') return false;
  if (forced === '2') return true;
  return options.json && size >= SPLIT_MIN_BYTES && availableParallelism() > 1;
}

/** What the main thread tells the worker: the job of a text split, or `numbers` for a --json one. */
export type WorkerJob = SplitJob | NumbersJob;

/**
 * The job of a --json split: batches come on the worker's message port; their bytes go back on `port`,
 * each one counted in `filled` ([0], Atomics) so that the main thread, busy decoding, can take them
 * synchronously (receiveMessageOnPort) instead of when its event loop next turns.
 */
export interface NumbersJob {
  kind: 'numbers';
  port: MessagePort;
  filled: SharedArrayBuffer;
}

/** The job of a text split: the worker decodes the file too. */
export interface SplitJob {
  kind: 'lines';
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
    const job: SplitJob = { kind: 'lines', argv, path, color, taken: shared };
    this.worker = startWorker(job);
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

/** Starts the printing worker (split-worker.ts) on `job`. */
function startWorker(job: WorkerJob, transfer: readonly MessagePort[] = []): Worker {
  const young = job.kind === 'numbers' ? NUMBERS_WORKER_YOUNG_MB : WORKER_YOUNG_MB;
  const entry = RUNNING_FROM_SOURCE
    ? new URL('./split-worker-boot.mjs', import.meta.url)
    : new URL('./split-worker.js', import.meta.url);
  return new Worker(entry, {
    workerData: job,
    transferList: [...transfer],
    execArgv: RUNNING_FROM_SOURCE ? ['--conditions=source'] : [],
    // A smaller young generation than the default keeps the second heap's pages (peak RSS) down.
    resourceLimits: { maxYoungGenerationSizeMb: young },
  });
}

/** Waveforms with at least this many elements are left to the worker (shorter ones cost less than a hole). */
export const LONG_WAVEFORM = 64;
/** A batch of lines is handed over once its waveforms hold this many values... */
const BATCH_VALUES = 1 << 16;
/** ...or its lines this many bytes. */
const BATCH_BYTES = 256 * 1024;
/** Room past BATCH_BYTES for the line that crosses it. */
const BATCH_SLACK = 64 * 1024;
/** Batches handed to the worker and not back yet: past this the main thread fills holes itself. */
const MAX_POSTED = 4;
/** Batches waiting to be written: past this the main thread waits for the oldest (bounds memory). */
const MAX_QUEUED = 8;

/** A batch of --json lines for the worker: text with holes, and the values that fill them. */
export interface HoleBatch {
  id: number;
  /** The lines, `bytes.subarray(0, length)`, without the holes' digits. */
  bytes: Uint8Array;
  length: number;
  /** Pairs (byte offset of a hole, number of values), offsets ascending. */
  holes: Int32Array;
  holeCount: number;
  /** The values of the holes, one after the other. */
  values: Float64Array;
}

/** A message from the numbers worker: the bytes of a batch with its holes filled, or a failure. */
export type FilledMessage = { kind: 'filled'; id: number; bytes: Uint8Array } | { kind: 'error'; message: string };

/** The lines of one batch, with the long waveforms left out as holes (JsonSink's deferNumbers). */
class BatchLines extends JsonBuffer {
  constructor() {
    super(0);
    // Room for a whole batch (growing by doubling would copy it several times), not zero-filled, and a
    // Buffer like the output block's: the JSON writer then sees one kind of byte array on this thread.
    this.bytes = Buffer.allocUnsafe(BATCH_BYTES + BATCH_SLACK);
  }

  holes = new Int32Array(64);
  holeCount = 0;
  values = new Float64Array(0);
  valueCount = 0;

  deferNumbers(items: ArrayLike<number>): boolean {
    const n = items.length;
    if (n < LONG_WAVEFORM) return false;
    if (2 * this.holeCount + 2 > this.holes.length) {
      const more = new Int32Array(this.holes.length * 2);
      more.set(this.holes);
      this.holes = more;
    }
    if (this.valueCount + n > this.values.length) {
      const more = new Float64Array(Math.max(this.values.length * 2, this.valueCount + n));
      more.set(this.values.subarray(0, this.valueCount));
      this.values = more;
    }
    this.holes[2 * this.holeCount] = this.length;
    this.holes[2 * this.holeCount + 1] = n;
    this.holeCount++;
    this.values.set(items, this.valueCount);
    this.valueCount += n;
    return true;
  }

  newline(): void {
    this.reserve(1);
    this.bytes[this.length++] = NEWLINE;
  }
}

const NEWLINE = 0x0a;
/** Bytes a waveform value takes in JSON, about (a full-precision double and its comma). */
const DIGITS_PER_VALUE = 20;

/** The bytes of `batch` with its holes filled (what the worker does; the main thread too when it is behind). */
export function fillHoles(batch: Omit<HoleBatch, 'id'>): Uint8Array {
  let valueCount = 0;
  for (let h = 0; h < batch.holeCount; h++) valueCount += batch.holes[2 * h + 1];
  const out = new JsonBuffer(batch.length + valueCount * DIGITS_PER_VALUE);
  const { bytes, holes, values } = batch;
  let from = 0;
  let value = 0;
  for (let h = 0; h < batch.holeCount; h++) {
    const at = holes[2 * h];
    const count = holes[2 * h + 1];
    out.reserve(at - from);
    out.bytes.set(bytes.subarray(from, at), out.length);
    out.length += at - from;
    writeNumbers(out, values.subarray(value, value + count));
    value += count;
    from = at;
  }
  out.reserve(batch.length - from);
  out.bytes.set(bytes.subarray(from, batch.length), out.length);
  out.length += batch.length - from;
  return out.bytes.subarray(0, out.length);
}

/** A batch in output order: its bytes once known. */
interface Queued {
  id: number;
  bytes: Uint8Array | null;
}

/**
 * The main thread's side of a two-thread `--json` print: {@link record} writes each line straight into
 * the output when nothing waits before it, and into a batch otherwise; {@link backlog} writes the batches
 * that are done, in order.
 */
export class JsonSplitPrinter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly filled: Int32Array;
  private current: BatchLines | null = null;
  private readonly queue: Queued[] = [];
  private posted = 0;
  private nextId = 0;
  private failure: Error | null = null;

  constructor() {
    const channel = new MessageChannel();
    const filled = new SharedArrayBuffer(4);
    this.port = channel.port1;
    this.filled = new Int32Array(filled);
    this.worker = startWorker({ kind: 'numbers', port: channel.port2, filled }, [channel.port2]);
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (this.posted > 0) this.fail(new Error(`printing worker exited (${code}) with batches not done`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
  }

  /** Takes the batches the worker has filled so far (without waiting). */
  private poll(): void {
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      const message = m.message as FilledMessage;
      if (message.kind === 'error') {
        this.fail(new Error(`printing worker: ${message.message}`));
        continue;
      }
      this.posted--;
      const q = this.queue.find((e) => e.id === message.id);
      if (q !== undefined) q.bytes = message.bytes;
    }
  }

  /** Writes the line of `record` (into `out`, or into the batch that waits behind others). */
  record(out: LineWriter, record: CaRecord): void {
    let batch = this.current;
    if (batch === null) {
      if (this.queue.length === 0 && !hasLongWaveform(record)) {
        out.record(writeRecordJSON, record);
        return;
      }
      batch = this.current = new BatchLines();
    }
    writeRecordJSON(batch, record);
    batch.newline();
    if (batch.length >= BATCH_BYTES || batch.valueCount >= BATCH_VALUES) this.cut();
  }

  /** Ends the current batch: to the worker, or filled here when the worker is behind or not needed. */
  private cut(): void {
    const batch = this.current;
    if (batch === null) return;
    this.current = null;
    const id = this.nextId++;
    this.poll();
    if (batch.holeCount === 0 || this.posted >= MAX_POSTED) {
      this.queue.push({ id, bytes: batch.holeCount === 0 ? batch.bytes.subarray(0, batch.length) : fillHoles(batch) });
      return;
    }
    const message: HoleBatch = {
      id,
      bytes: batch.bytes,
      length: batch.length,
      holes: batch.holes,
      holeCount: batch.holeCount,
      values: batch.values,
    };
    this.port.postMessage(message, [batch.bytes.buffer as ArrayBuffer, batch.holes.buffer, batch.values.buffer]);
    this.posted++;
    this.queue.push({ id, bytes: null });
  }

  /**
   * Writes the batches that are done, in order; a promise when the main thread must wait for the worker
   * first (too many batches waiting), null otherwise.
   */
  backlog(out: LineWriter): Promise<void> | null {
    if (this.queue.length === 0) return null;
    this.poll();
    this.writeReady(out);
    return this.queue.length >= MAX_QUEUED ? this.waitHead(out) : null;
  }

  /** Writes everything still waiting (at the end of a file, or after a failure). */
  async finish(out: LineWriter): Promise<void> {
    this.cut();
    while (this.queue.length > 0) await this.waitHead(out);
  }

  private writeReady(out: LineWriter): void {
    const queue = this.queue;
    while (queue.length > 0 && queue[0].bytes !== null) out.bytes(queue.shift()!.bytes!);
  }

  private async waitHead(out: LineWriter): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.filled, 0);
      this.poll();
      if (this.queue.length === 0 || this.queue[0].bytes !== null) break;
      if (this.failure !== null) throw this.failure;
      // Asleep until the worker counts another batch; the timeout lets a crashed worker's error arrive.
      const wait = waitAsync(this.filled, 0, seen, FAILURE_CHECK_MS);
      if (wait.async) await wait.value;
    }
    this.writeReady(out);
  }

  /** Stops the worker. */
  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }
}

/** How often a main thread waiting for the worker looks for its failure, ms. */
const FAILURE_CHECK_MS = 500;

/** `Atomics.waitAsync` (ES2024; Node has it, the ES2023 lib this project compiles against does not). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Whether `record` carries a waveform that {@link BatchLines} would leave to the worker. */
function hasLongWaveform(record: CaRecord): boolean {
  const data = (record.command as { data?: unknown }).data;
  return ArrayBuffer.isView(data) && (data as unknown as ArrayLike<number>).length >= LONG_WAVEFORM;
}
