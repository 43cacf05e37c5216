/**
 * The default text line on two threads, the worker writing whole lines: the main thread decodes the
 * file and puts each record on a tape in shared memory (record-tape.ts), a fraction of what writing its
 * line costs; the worker takes the records off the tape and writes their lines with the same code as a
 * one-thread print. While the worker has {@link MAX_POSTED} tapes to do, the main thread writes the next
 * lines itself instead of waiting, so each thread writes as many lines as it has time for; the lines
 * go out in order.
 *
 * split.ts's `textSplitPrinter` (the worker writes only the digits of numeric arrays) leaves the main
 * thread more than half of the formatting: 5.8 s of main thread against 8.1 on one thread on the 1 GB
 * realistic capture (docs/performance.md, "Session 11: the text line").
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import type { CaRecord } from '@ca-shark/decoder';
import type { LineWrite } from './lines.js';
import type { LineWriter } from './output.js';
import { TapeReader, TapeWriter } from './record-tape.js';
import { FAILURE_CHECK_MS, startWorker, waitAsync, type FilledMessage } from './split.js';
import { writeDefaultLine } from './template.js';
import { TextBuffer } from './text-buffer.js';

/** Numbers a tape holds (8 bytes each). */
const TAPE_SLOTS = 1 << 17;
/** A tape is handed over once it holds this many numbers... */
const TAPE_FULL = 1 << 16;
/** ...or this many records (about 250 KB of text on realistic.pcap). */
const TAPE_RECORDS = 512;
/** Bytes of text a slot holds for the worker's lines (more go back in a buffer of their own). */
const SLOT_TEXT = 2 << 20;
/** Tapes handed to the worker and not back yet: past this the main thread writes lines itself. */
const MAX_POSTED = 3;
/** Batches waiting to be written: past this the main thread waits for the oldest (bounds memory). */
const MAX_QUEUED = 8;
/** A batch of lines the main thread writes is cut at this many bytes (then the worker may take the next). */
const TEXT_BATCH_BYTES = 128 * 1024;
const NEWLINE = 0x0a;

/** The memory of a tape in flight, shared by both threads and reused tape after tape. */
export interface TapeMemory {
  tape: SharedArrayBuffer;
  text: SharedArrayBuffer;
  /** [0]: bytes of text the worker wrote into `text`. */
  ends: SharedArrayBuffer;
}

/** Main thread → worker: write the lines of the `count` records on the tape of `slot`. */
export interface TapeRequest {
  slot: number;
  count: number;
  length: number;
  strings: string[];
  /** Shapes numbered since the last tape (record-tape.ts). */
  shapes: (readonly string[])[];
  /** The slot's memory, with its first request. */
  memory?: TapeMemory;
}

/** Views of a {@link TapeMemory}. */
export class TapeSlot {
  readonly tape: Float64Array;
  readonly text: Buffer;
  readonly ends: Int32Array;
  shared = false;

  constructor(
    readonly index: number,
    readonly memory: TapeMemory,
  ) {
    this.tape = new Float64Array(memory.tape);
    this.text = Buffer.from(memory.text);
    this.ends = new Int32Array(memory.ends);
  }
}

/** The worker's reader of tapes (shapes accumulate over the print). */
const reader = new TapeReader();
/** The worker's writer of lines, pointed at a slot's text for each tape. */
const sink = new TextBuffer(0);

/**
 * Writes the lines of the records on `slot`'s tape (the worker's side) into the slot's `text` (returns
 * null) or, when they do not fit there, into a buffer of its own (returned); their length into `ends[0]`.
 */
export function writeTape(slot: TapeSlot, request: TapeRequest): Uint8Array | null {
  reader.addShapes(request.shapes);
  const out = sink;
  out.bytes = slot.text;
  out.length = 0;
  reader.read(slot.tape, request.count, request.strings, (record) => {
    writeDefaultLine(out, record);
    out.byte(NEWLINE);
  });
  slot.ends[0] = out.length;
  const bytes = out.bytes;
  out.bytes = EMPTY;
  return bytes === slot.text ? null : bytes.subarray(0, slot.ends[0]);
}
const EMPTY = Buffer.alloc(0);

/** A batch in output order: a tape the worker writes, or lines the main thread wrote. */
interface Pending {
  tape: TapeSlot | null;
  text: TextBuffer | null;
  count: number;
  ready: boolean;
  overflow: Uint8Array | null;
}

/** The main thread's side of a two-thread print of the default line. */
export class LinesSplitPrinter {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly filled: Int32Array;
  private answers = 0;
  private posted = 0;
  private failure: Error | null = null;
  private readonly writer = new TapeWriter();
  private readonly freeTapes: TapeSlot[] = [];
  private tapesMade = 0;
  private readonly freeTexts: TextBuffer[] = [];
  private current: Pending | null = null;
  private readonly queue: Pending[] = [];

  /** `write` writes a line on this thread (the default line's writer). */
  constructor(private readonly write: LineWrite) {
    const channel = new MessageChannel();
    const filled = new SharedArrayBuffer(4);
    this.port = channel.port1;
    this.filled = new Int32Array(filled);
    this.worker = startWorker({ kind: 'lines', port: channel.port2, filled });
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
      const q = this.queue.find((e) => e.tape !== null && e.tape.index === message.slot);
      if (q !== undefined) {
        q.ready = true;
        q.overflow = message.overflow;
      }
    }
  }

  /** Puts `record` on a tape for the worker, or writes its line (into `out` when nothing waits before it). */
  record(out: LineWriter, record: CaRecord): void {
    let batch = this.current;
    if (batch === null) {
      this.poll();
      if (this.posted < MAX_POSTED) batch = this.startTape();
      else if (this.queue.length === 0) {
        out.record(this.write, record);
        return;
      } else batch = this.startText();
      this.current = batch;
    }
    if (batch.tape !== null) {
      if (this.writer.record(record)) {
        batch.count++;
        if (batch.count >= TAPE_RECORDS || this.writer.length >= TAPE_FULL) this.cut();
        return;
      }
      // No room left on this tape, or a value no tape keeps: this line is written here, after the tape.
      this.cut();
      batch = this.current = this.startText();
    }
    const text = batch.text!;
    this.write(text, record);
    text.byte(NEWLINE);
    if (text.length >= TEXT_BATCH_BYTES) this.cut();
  }

  private startTape(): Pending {
    let slot = this.freeTapes.pop();
    if (slot === undefined) {
      slot = new TapeSlot(this.tapesMade++, {
        tape: new SharedArrayBuffer(TAPE_SLOTS * Float64Array.BYTES_PER_ELEMENT),
        text: new SharedArrayBuffer(SLOT_TEXT),
        ends: new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT),
      });
    }
    this.writer.start(slot.tape);
    return { tape: slot, text: null, count: 0, ready: false, overflow: null };
  }

  private startText(): Pending {
    const text = this.freeTexts.pop() ?? new TextBuffer(TEXT_BATCH_BYTES + TEXT_BATCH_SLACK);
    return { tape: null, text, count: 0, ready: true, overflow: null };
  }

  /** Ends the current batch: a tape goes to the worker; lines written here wait for their turn. */
  private cut(): void {
    const batch = this.current;
    if (batch === null) return;
    this.current = null;
    const slot = batch.tape;
    if (slot !== null) {
      if (batch.count === 0) {
        this.freeTapes.push(slot);
        return;
      }
      const request: TapeRequest = {
        slot: slot.index,
        count: batch.count,
        length: this.writer.length,
        strings: this.writer.strings,
        shapes: this.writer.takeShapes(),
      };
      if (!slot.shared) {
        request.memory = slot.memory;
        slot.shared = true;
      }
      this.port.postMessage(request);
      this.posted++;
    } else if (batch.text!.length === 0) {
      this.freeTexts.push(batch.text!);
      return;
    }
    this.queue.push(batch);
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
      if (q.tape !== null) {
        const bytes = q.overflow ?? q.tape.text;
        out.copy(bytes, 0, q.overflow === null ? q.tape.ends[0] : bytes.length);
        this.freeTapes.push(q.tape);
      } else {
        const text = q.text!;
        out.copy(text.bytes, 0, text.length);
        text.length = 0;
        this.freeTexts.push(text);
      }
    }
  }

  private async waitHead(out: LineWriter): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.filled, 0);
      this.poll();
      if (this.queue.length === 0 || this.queue[0].ready) break;
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
/** Room past TEXT_BATCH_BYTES for the line that crosses it. */
const TEXT_BATCH_SLACK = 64 * 1024;

/** A two-thread printer of the default line, the worker writing whole lines. */
export function linesSplitPrinter(write: LineWrite): LinesSplitPrinter {
  return new LinesSplitPrinter(write);
}
