/**
 * Printing a capture file on two threads: the main thread decodes the file and writes every line,
 * except the digits of numeric arrays (most of the text of a capture with waveforms, and most of the
 * cost of writing it), which it leaves as holes in a batch of lines and hands to the worker with the
 * arrays' values; the worker fills the holes and hands the bytes back, and the main thread writes them
 * in order. Decoding happens once; when the worker falls behind, the main thread fills a batch's holes
 * itself instead of waiting.
 *
 * Two kinds of holes: `--json` ({@link jsonBatches}) leaves the values of long waveforms (analysis's
 * JsonSink `deferNumbers`), the default text line ({@link textBatches}) the numpy repr of numeric
 * payloads (numpy-repr's `writeNumpyArray` through {@link TextBuffer.holes}).
 *
 * Damage, problems, counts and exit statuses are all the main thread's, exactly as in a single-threaded
 * run; the worker only writes digits. Used for regular files only (stdin and pipes are read once, by the
 * main thread, as they arrive), and only when the process may use more than one CPU (`taskset -c 0`
 * gives one) and, for text, when the machine is idle enough; see {@link useSplit}.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CaRecord } from '@ca-shark/decoder';
import type { DbrMetadata } from '@ca-shark/protocol';
import { JsonBuffer, writeNumbers, writeRecordJSON } from '@ca-shark/analysis';
import type { CliOptions } from './args.js';
import { MAX_METADATA_VALUES, metadataValues } from './caproto-repr.js';
import type { LineWrite } from './lines.js';
import {
  KIND_BY_INDEX,
  KIND_INDEX,
  NUMPY_EDGE_ITEMS,
  NUMPY_THRESHOLD,
  writeNumpyShown,
  type NumericKind,
} from './numpy-repr.js';
import type { LineWriter } from './output.js';
import { LAYOUT_NUMBERS, writeDataLayout } from './render.js';
import { TextBuffer, type ArrayHoles } from './text-buffer.js';

/** Files smaller than this print on one thread: starting a worker costs more than it saves. */
export const SPLIT_MIN_BYTES = 4 << 20;

/** Young generation of the worker's heap, MB: it makes few objects (5 MB less peak RSS than 12 on realistic.pcap). */
const WORKER_YOUNG_MB = 4;

/** Environment variable: `1` prints on one thread, `2` on two (tests and benchmarks). Unset: decided here. */
export const THREADS_ENV = 'CA_SHARK_THREADS';

/**
 * Whether to print a file of `size` bytes on two threads, on files of {@link SPLIT_MIN_BYTES} or more
 * when the process may use two CPUs or more (`taskset -c 0` gives one). `--json` then always does: its
 * worker takes the waveform digits, most of its text. The default text line does only when
 * {@link FREE_CPUS_FOR_TEXT} CPUs are free (see {@link Machine.load}): its main thread then runs a
 * seventh (realistic.pcap) to a third (1 GB) less, but the worker and the hand-over cost 0.3 s more CPU
 * on realistic.pcap, which a busy machine takes from others or from the main thread (docs/performance.md,
 * "Session 9: CLI output" and "Session 11: the text line on two threads"). The other print modes print on
 * one thread.
 */
export function useSplit(
  options: CliOptions,
  size: number,
  env: NodeJS.ProcessEnv,
  machine: Machine = thisMachine(),
): boolean {
  if (options.command !== 'print') return false;
  const forced = env[THREADS_ENV];
  if (forced === '1') return false;
  if (forced === '2') return true;
  if (size < SPLIT_MIN_BYTES || machine.cpus < 2) return false;
  return options.json || machine.cpus - machine.load >= FREE_CPUS_FOR_TEXT;
}

/** What {@link useSplit} weighs: the CPUs this process may use, and how many of them others keep busy. */
export interface Machine {
  cpus: number;
  /**
   * CPUs busy with other work: the lower of the 1-minute load average and the tasks other than this
   * thread running right now ({@link othersRunning}). The average alone still counts work that has
   * ended: run right after another 3-second job (as `pnpm bench:realistic` runs its rows), a 2-core
   * machine reads 1.0-1.4 with nothing else running, and the text line printed on one thread, 7.4 s
   * against about 6 s on two on the 1 GB capture.
   */
  load: number;
}

function thisMachine(): Machine {
  return { cpus: availableParallelism(), load: Math.min(loadavg()[0], othersRunning(readLoadavg(), ownRunning())) };
}

/**
 * Tasks running or runnable on the whole machine now that are not this process's: the 4th field of
 * Linux's /proc/loadavg (`running/total`) less `own`. Infinity where there is no such file (the load
 * average then decides alone).
 */
export function othersRunning(loadavgText: string | null, own: number): number {
  const running = loadavgText === null ? NaN : Number.parseInt(loadavgText.split(' ')[3] ?? '', 10);
  return Number.isFinite(running) ? Math.max(0, running - own) : Infinity;
}

function readLoadavg(): string | null {
  try {
    return readFileSync('/proc/loadavg', 'latin1');
  } catch {
    return null;
  }
}

/**
 * This process's threads running now (this one, and V8's compiler or GC threads, which may be busy
 * just after start-up): their state in /proc/self/task/TID/stat is `R`. At least 1, this thread.
 */
function ownRunning(): number {
  let running = 0;
  try {
    for (const tid of readdirSync(TASKS)) {
      try {
        const stat = readFileSync(`${TASKS}/${tid}/stat`, 'latin1');
        // The state follows the command name, which is in parentheses and may hold spaces.
        if (stat.charAt(stat.lastIndexOf(')') + 2) === 'R') running++;
      } catch {
        // The thread ended while being read.
      }
    }
  } catch {
    return 1;
  }
  return Math.max(1, running);
}
const TASKS = '/proc/self/task';

/**
 * CPUs that must be free for the default text line to print on two threads: one for this process's
 * main thread (not yet counted in the average when it starts), and about half of one for the worker
 * (0.3-0.4 s of CPU on realistic.pcap) and V8's own threads (GC and compiler, 0.5 s) beside a main thread
 * of 1.2-1.4 s. On a 2-core machine: nothing else running now, or a load average of 0.5 or less.
 */
export const FREE_CPUS_FOR_TEXT = 1.5;

/** What the main thread tells the worker: the kind of holes, the batches' shared memory, where to answer. */
export interface WorkerJob {
  kind: HoleKind;
  /**
   * Fill requests ({@link FillRequest}) come on the worker's message port; answers go back on `port`,
   * each one counted in `filled` ([0], Atomics) so that the main thread, busy decoding, can take them
   * synchronously (receiveMessageOnPort) instead of when its event loop next turns.
   */
  port: MessagePort;
  filled: SharedArrayBuffer;
}

/** `json`: the values of long waveforms (JsonSink's deferNumbers); `text`: numpy reprs (TextBuffer's holes). */
export type HoleKind = 'json' | 'text';

/**
 * The memory of one batch in flight, shared by both threads and reused batch after batch (fresh memory
 * for every batch cost more page faults than the digits the worker took over). The main thread writes a
 * batch's lines (holes left out) into `lines`, its holes and values; the worker writes the batch's whole
 * text, the lines with each hole's text in its place, into `text` and its length into `ends[0]`, so that
 * the main thread copies it out in one piece (copying it piece by piece around each hole took the main
 * thread 3-4 % of a text run).
 */
export interface SlotMemory {
  lines: SharedArrayBuffer;
  holes: SharedArrayBuffer;
  values: SharedArrayBuffer;
  text: SharedArrayBuffer;
  ends: SharedArrayBuffer;
}

/** Main thread → worker: fill the holes of the batch in `slot` (its memory comes with its first request). */
export interface FillRequest {
  slot: number;
  holeCount: number;
  /** Bytes of lines in the slot's `lines`. */
  length: number;
  memory?: SlotMemory;
}

/**
 * Worker → main thread: the holes of `slot` are filled; their text is in the slot's `text`, or in
 * `overflow` when it did not fit there. Or a failure.
 */
export type FilledMessage =
  { kind: 'filled'; slot: number; overflow: Uint8Array | null } | { kind: 'error'; message: string };

/** Tests and tsx run the CLI from its TypeScript sources, where the worker needs tsx's loader too. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Starts the printing worker (split-worker.ts) on `job`. */
function startWorker(job: WorkerJob): Worker {
  const entry = RUNNING_FROM_SOURCE
    ? new URL('./split-worker-boot.mjs', import.meta.url)
    : new URL('./split-worker.js', import.meta.url);
  return new Worker(entry, {
    workerData: job,
    transferList: [job.port],
    execArgv: RUNNING_FROM_SOURCE ? ['--conditions=source'] : [],
    // A smaller young generation than the default keeps the second heap's pages (peak RSS) down.
    resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB },
  });
}

/** JSON arrays of numbers with at least this many elements are left to the worker (shorter ones cost less than a hole). */
export const LONG_WAVEFORM = 16;
/** Text arrays with at least this many items are left to the worker: all but empty ones (a scalar's digits cost more than its hole). */
export const TEXT_HOLE_ITEMS = 1;
/** A batch is handed over once its holes hold this many values... */
const BATCH_VALUES = 1 << 16;
/** ...or this many holes... */
const BATCH_HOLES = 4096;
/** ...or its lines this many bytes. */
const BATCH_BYTES = 256 * 1024;
/** Room past BATCH_BYTES for the line that crosses it. */
const BATCH_SLACK = 64 * 1024;
/** Values a slot holds: a batch's, and the waveform that crosses BATCH_VALUES (a longer one is written in place). */
const SLOT_VALUES = 2 * BATCH_VALUES;
/** Bytes of text (lines and holes) a slot holds (more goes back in a buffer of its own). */
const SLOT_TEXT = 2 << 20;
/** Batches handed to the worker and not back yet: past this the main thread fills holes itself. */
const MAX_POSTED = 4;
/** Batches waiting to be written: past this the main thread waits for the oldest (bounds memory). */
const MAX_QUEUED = 4;
/**
 * Numbers per hole in a slot's `holes`: the byte offset, the number of values, and for text the element
 * kind and the data layout (render.ts's DATA_LAYOUTS, or -1 for an array alone).
 */
const STRIDE: Readonly<Record<HoleKind, number>> = { json: 2, text: 4 };

function slotMemory(kind: HoleKind): SlotMemory {
  return {
    lines: new SharedArrayBuffer(BATCH_BYTES + BATCH_SLACK),
    holes: new SharedArrayBuffer(BATCH_HOLES * STRIDE[kind] * Int32Array.BYTES_PER_ELEMENT),
    values: new SharedArrayBuffer(SLOT_VALUES * Float64Array.BYTES_PER_ELEMENT),
    text: new SharedArrayBuffer(SLOT_TEXT),
    ends: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
  };
}

/** Views of a {@link SlotMemory}. */
export class Slot {
  readonly lines: Buffer;
  readonly holes: Int32Array;
  readonly values: Float64Array;
  readonly text: Buffer;
  readonly ends: Int32Array;
  /** Whether the worker has this slot's memory yet (main thread). */
  shared = false;

  constructor(readonly memory: SlotMemory) {
    this.lines = Buffer.from(memory.lines);
    this.holes = new Int32Array(memory.holes);
    this.values = new Float64Array(memory.values);
    this.text = Buffer.from(memory.text);
    this.ends = new Int32Array(memory.ends);
  }
}

/** The holes of the batch being written into a slot. */
class Holes {
  holeCount = 0;
  valueCount = 0;

  constructor(
    readonly slot: Slot,
    private readonly stride: number,
  ) {}

  /**
   * Starts a hole at byte `at` with the values `items` and returns the index of its numbers in the slot's
   * `holes` (the caller sets those after the offset), or -1 when the slot has no room (write it in place).
   * `extra` values more must fit after the items (the caller writes them: a data layout's numbers).
   */
  add(at: number, items: ArrayLike<number>, extra = 0): number {
    const n = items.length;
    if (this.holeCount >= BATCH_HOLES || this.valueCount + n + extra > SLOT_VALUES) return -1;
    const values = this.slot.values;
    const start = this.valueCount;
    if (n < COPY_LOOP_MAX) for (let i = 0; i < n; i++) values[start + i] = items[i];
    else values.set(items, start);
    this.valueCount = start + n;
    const h = this.stride * this.holeCount++;
    this.slot.holes[h] = at;
    return h;
  }

  /** Takes back the last hole, which {@link add} returned as `h`, and its values from `start` on. */
  drop(h: number, start: number): void {
    this.holeCount = h / this.stride;
    this.valueCount = start;
  }

  /** Whether the batch should be handed over now. */
  get full(): boolean {
    return this.valueCount >= BATCH_VALUES || this.holeCount >= BATCH_HOLES;
  }

  reset(): void {
    this.holeCount = 0;
    this.valueCount = 0;
  }
}
/** Below this many values a loop copies them (a native `set()` costs more). */
const COPY_LOOP_MAX = 16;

/** A batch of lines with holes, in a slot; reused once written. */
interface Batch {
  readonly index: number;
  readonly gaps: Holes;
  /** The lines (`bytes.subarray(0, length)`), holes left out. */
  readonly bytes: Uint8Array;
  readonly length: number;
  /** Writes the line of `record` and its newline. */
  line(record: CaRecord): void;
  reset(): void;
}

/** The lines of one --json batch, with the long waveforms left out as holes (JsonSink's deferNumbers). */
class JsonBatch extends JsonBuffer implements Batch {
  readonly gaps: Holes;

  constructor(
    readonly index: number,
    slot: Slot,
  ) {
    super(0);
    // Room for a whole batch (growing by doubling would copy it several times), shared with the worker,
    // and a Buffer like the output block's: the JSON writer then sees one kind of byte array on this thread.
    this.bytes = slot.lines;
    this.gaps = new Holes(slot, STRIDE.json);
  }

  deferNumbers(items: ArrayLike<number>): boolean {
    if (items.length < LONG_WAVEFORM) return false;
    const h = this.gaps.add(this.length, items);
    if (h < 0) return false;
    this.gaps.slot.holes[h + 1] = items.length;
    return true;
  }

  line(record: CaRecord): void {
    writeRecordJSON(this, record);
    this.reserve(1);
    this.bytes[this.length++] = NEWLINE;
  }

  reset(): void {
    this.length = 0;
    // Back to the shared memory if a long line made the batch grow out of it.
    this.bytes = this.gaps.slot.lines;
    this.gaps.reset();
  }
}

/** The lines of one text batch, with numeric arrays left out as holes (TextBuffer's holes). */
class TextBatch implements Batch, ArrayHoles {
  readonly minItems = TEXT_HOLE_ITEMS;
  private readonly text = new TextBuffer(0);
  readonly gaps: Holes;

  constructor(
    readonly index: number,
    slot: Slot,
    private readonly write: LineWrite,
  ) {
    this.text.holes = this;
    this.text.bytes = slot.lines;
    this.gaps = new Holes(slot, STRIDE.text);
  }

  get bytes(): Uint8Array {
    return this.text.bytes;
  }

  get length(): number {
    return this.text.length;
  }

  add(at: number, shown: ArrayLike<number>, n: number, kind: NumericKind): boolean {
    const h = this.gaps.add(at, shown);
    if (h < 0) return false;
    const holes = this.gaps.slot.holes;
    holes[h + 1] = n;
    holes[h + 2] = KIND_INDEX[kind];
    holes[h + 3] = -1;
    return true;
  }

  addData(
    at: number,
    shown: ArrayLike<number>,
    n: number,
    kind: NumericKind,
    layout: number,
    dataType: number,
    dataCount: number,
    third: number,
    fourth: number,
    metadata?: DbrMetadata,
  ): boolean {
    const gaps = this.gaps;
    const start = gaps.valueCount;
    const h = gaps.add(at, shown, metadata === undefined ? LAYOUT_NUMBERS : LAYOUT_NUMBERS + MAX_METADATA_VALUES);
    if (h < 0) return false;
    const slot = gaps.slot;
    const holes = slot.holes;
    holes[h + 1] = n;
    holes[h + 2] = KIND_INDEX[kind];
    holes[h + 3] = layout;
    const values = slot.values;
    let v = gaps.valueCount;
    values[v] = dataType;
    values[v + 1] = dataCount;
    values[v + 2] = third;
    values[v + 3] = fourth;
    v += LAYOUT_NUMBERS;
    if (metadata !== undefined) {
      const count = metadataValues(metadata, values, v);
      if (count === 0) {
        gaps.drop(h, start);
        return false;
      }
      v += count;
    }
    gaps.valueCount = v;
    return true;
  }

  line(record: CaRecord): void {
    this.write(this.text, record);
    this.text.byte(NEWLINE);
  }

  reset(): void {
    this.text.length = 0;
    this.text.bytes = this.gaps.slot.lines;
    this.gaps.reset();
  }
}

const NEWLINE = 0x0a;

/** Number of values of `record`'s DBR payload (0 without one). */
function payloadLength(record: CaRecord): number {
  const data = (record.command as { data?: unknown }).data;
  return Array.isArray(data) || ArrayBuffer.isView(data) ? (data as unknown as ArrayLike<number>).length : 0;
}

/**
 * Writes the whole text of a batch (on the worker, or on the main thread when the worker is behind):
 * `lines[0, length)` with the text of each of the `holeCount` holes of `slot` at its place, into the
 * slot's `text` (returns null) or, when it does not fit there, into a buffer of its own (returned); its
 * length into `ends[0]`.
 */
export function fillSlot(
  kind: HoleKind,
  slot: Slot,
  holeCount: number,
  lines: Uint8Array,
  length: number,
): Uint8Array | null {
  const { holes, values, ends } = slot;
  const stride = STRIDE[kind];
  let value = 0;
  let from = 0;
  if (kind === 'json') {
    const out = jsonSink;
    out.bytes = slot.text;
    out.length = 0;
    for (let h = 0; h < holeCount; h++) {
      const at = holes[stride * h];
      copyInto(out, lines, from, at);
      from = at;
      const count = holes[stride * h + 1];
      writeNumbers(out, values.subarray(value, value + count));
      value += count;
    }
    copyInto(out, lines, from, length);
    ends[0] = out.length;
    return out.bytes === slot.text ? null : out.bytes.subarray(0, out.length);
  }
  const out = textSink;
  out.bytes = slot.text;
  out.length = 0;
  for (let h = 0; h < holeCount; h++) {
    const at = holes[stride * h];
    copyInto(out, lines, from, at);
    from = at;
    const n = holes[stride * h + 1];
    const shown = n > NUMPY_THRESHOLD ? 2 * NUMPY_EDGE_ITEMS : n;
    const kind = KIND_BY_INDEX[holes[stride * h + 2]];
    const layout = holes[stride * h + 3];
    const items = values.subarray(value, value + shown);
    value += shown;
    if (layout < 0) writeNumpyShown(out, items, n, kind);
    else value += writeDataLayout(out, layout, items, n, kind, values, value);
  }
  copyInto(out, lines, from, length);
  ends[0] = out.length;
  return out.bytes === slot.text ? null : out.bytes.subarray(0, out.length);
}

/** Appends `bytes[from, to)` to `out` (a loop for short pieces: `set()` of a subarray costs more). */
function copyInto(
  out: { bytes: Uint8Array; length: number; reserve(n: number): void },
  bytes: Uint8Array,
  from: number,
  to: number,
): void {
  const n = to - from;
  out.reserve(n);
  const into = out.bytes;
  const at = out.length;
  if (n <= SHORT_COPY) for (let i = 0; i < n; i++) into[at + i] = bytes[from + i];
  else into.set(bytes.subarray(from, to), at);
  out.length = at + n;
}
const SHORT_COPY = 64;
/** The writers of {@link fillSlot}, pointed at a slot's text for each batch. */
const jsonSink = new JsonBuffer(0);
const textSink = new TextBuffer(0);

/** A batch in output order, and where its holes are. */
interface Queued {
  batch: Batch;
  /** Holes filled (by either thread), or none. */
  ready: boolean;
  /** Whether the batch's text is in its slot's `text` (or `overflow`), not in its lines (no holes). */
  filled: boolean;
  /** The batch's text when it did not fit in the slot. */
  overflow: Uint8Array | null;
}

/**
 * The main thread's side of a two-thread print: {@link record} writes each text line straight into the
 * output when nothing waits before it and it has no payload, and into a batch otherwise (every `--json`
 * line); {@link backlog} writes the batches that are done, in order, with the text of their holes in place.
 */
export class SplitPrinter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly filled: Int32Array;
  /** Answers taken from the port so far (the worker counts each in `filled`). */
  private answers = 0;
  /** Batches written out, to be reused; more are made (up to MAX_QUEUED) while none is free. */
  private readonly free: Batch[] = [];
  private made = 0;
  private current: Batch | null = null;
  private readonly queue: Queued[] = [];
  private posted = 0;
  private failure: Error | null = null;

  /** `write` writes a line into the output when no batch is pending. */
  constructor(
    private readonly kind: HoleKind,
    private readonly write: LineWrite,
  ) {
    const channel = new MessageChannel();
    const filled = new SharedArrayBuffer(4);
    this.port = channel.port1;
    this.filled = new Int32Array(filled);
    this.worker = startWorker({ kind, port: channel.port2, filled });
    this.worker.on('error', (e) => this.fail(e));
    this.worker.on('exit', (code) => {
      if (this.posted > 0) this.fail(new Error(`printing worker exited (${code}) with batches not done`));
    });
  }

  private fail(e: Error): void {
    this.failure ??= e;
  }

  /** Takes the answers the worker has sent so far (without waiting). */
  private poll(): void {
    if (Atomics.load(this.filled, 0) === this.answers) return;
    for (let m = receiveMessageOnPort(this.port); m !== undefined; m = receiveMessageOnPort(this.port)) {
      this.answers++;
      const message = m.message as FilledMessage;
      if (message.kind === 'error') {
        this.fail(new Error(`printing worker: ${message.message}`));
        continue;
      }
      this.posted--;
      const q = this.queue.find((e) => e.batch.index === message.slot);
      if (q !== undefined) {
        q.ready = true;
        q.overflow = message.overflow;
      }
    }
  }

  /** Writes the line of `record` (into `out`, or into the batch that waits behind others). */
  record(out: LineWriter, record: CaRecord): void {
    let batch = this.current;
    if (batch === null) {
      // `--json` lines all go into batches, even those with nothing to hand over: the JSON walk then writes
      // into one kind of sink (a JsonBatch, never also the output's block), and the main thread ran 6-8 %
      // fewer instructions for it (docs/performance.md, "Session 18: --json").
      if (this.kind === 'text' && this.queue.length === 0 && payloadLength(record) < TEXT_HOLE_ITEMS) {
        out.record(this.write, record);
        return;
      }
      batch = this.current = this.free.pop() ?? this.make();
    }
    batch.line(record);
    if (batch.length >= BATCH_BYTES || batch.gaps.full) this.cut();
  }

  /** A new batch with memory of its own (backlog() keeps fewer than MAX_QUEUED batches waiting). */
  private make(): Batch {
    if (this.made >= MAX_QUEUED) throw new Error('two-thread print: no free batch');
    const index = this.made++;
    const slot = new Slot(slotMemory(this.kind));
    return this.kind === 'json' ? new JsonBatch(index, slot) : new TextBatch(index, slot, this.write);
  }

  /** Ends the current batch: to the worker, or filled here when the worker is behind or not needed. */
  private cut(): void {
    const batch = this.current;
    if (batch === null) return;
    this.current = null;
    this.poll();
    const holeCount = batch.gaps.holeCount;
    const q: Queued = { batch, ready: true, filled: false, overflow: null };
    if (holeCount > 0) {
      const slot = batch.gaps.slot;
      // A batch whose lines outgrew the shared memory (a line longer than BATCH_SLACK) is filled here.
      if (this.posted >= MAX_POSTED || batch.bytes !== slot.lines) {
        q.overflow = fillSlot(this.kind, slot, holeCount, batch.bytes, batch.length);
        q.filled = true;
      } else {
        const request: FillRequest = { slot: batch.index, holeCount, length: batch.length };
        if (!slot.shared) {
          request.memory = slot.memory;
          slot.shared = true;
        }
        this.port.postMessage(request);
        this.posted++;
        q.ready = false;
        q.filled = true;
      }
    }
    this.queue.push(q);
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
    while (queue.length > 0 && queue[0].ready) {
      const q = queue.shift()!;
      this.writeBatch(out, q);
      q.batch.reset();
      this.free.push(q.batch);
    }
  }

  /** Writes the text of a batch: its lines with the text of each hole at its place. */
  private writeBatch(out: LineWriter, q: Queued): void {
    const { bytes, length, gaps } = q.batch;
    if (!q.filled) out.copy(bytes, 0, length);
    else if (q.overflow !== null) out.copy(q.overflow, 0, q.overflow.length);
    else out.copy(gaps.slot.text, 0, gaps.slot.ends[0]);
  }

  private async waitHead(out: LineWriter): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.filled, 0);
      this.poll();
      if (this.queue.length === 0 || this.queue[0].ready) break;
      if (this.failure !== null) throw this.failure;
      // Asleep until the worker counts another batch; the timeout lets a crashed worker's error arrive.
      const wait = Atomics.waitAsync(this.filled, 0, seen, FAILURE_CHECK_MS);
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

/** A two-thread printer of `--json` lines (analysis's writeRecordJSON). */
export function jsonSplitPrinter(): SplitPrinter {
  return new SplitPrinter('json', writeRecordJSON);
}

/** A two-thread printer of text lines written by `write` (the default line). */
export function textSplitPrinter(write: LineWrite): SplitPrinter {
  return new SplitPrinter('text', write);
}

/** How often a main thread waiting for the worker looks for its failure, ms. */
const FAILURE_CHECK_MS = 500;
