import type { CircuitInfo } from './state.js';
import { open, type FileHandle } from 'node:fs/promises';
import { setImmediate } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { PacketProblem } from '@ca-shark/packet';
import { Decoder } from './decoder.js';
import type { CaDecoder } from './decoder.js';
import { PAIRING_SEARCH_TTL } from './options.js';
import type { DecoderOptions, StateLimits } from './options.js';
import type { CaRecord } from './record.js';
import { ArrayArena } from './lend.js';
import { warmUpOnce } from './warmup.js';
import { DECODE_SLICE, FILE_BUFFERS, FILE_CHUNK } from './shark-reads.js';
import { PacketThread, STEP_CHUNK, STEP_END, STEP_WAIT, usePacketThread } from './shark-thread.js';

/** What {@link shark} reads: a capture file path (or file URL), capture bytes, or a stream of them. */
export type SharkInput = string | URL | Uint8Array | AsyncIterable<Uint8Array | string>;

/**
 * What {@link shark} returns: an async generator of records that can also hand out the records already
 * decoded without a promise each ({@link SharkRecords.nextReady}).
 */
export interface SharkRecords extends AsyncGenerator<CaRecord, void, undefined> {
  /**
   * The next record if it is decoded already, else `undefined` (then `next()` reads more input, or ends).
   * Records are decoded a slice of the input at a time, so most calls return one: a loop that takes them
   * this way and awaits `next()` only when this gives `undefined` sees the same records in the same order
   * as `for await`, without a promise and a microtask per record (about a tenth of the CPU time of a
   * pass over a capture). Not to be called while a `next()` is pending.
   *
   * ```ts
   * const records = shark('capture.pcapng');
   * for (let r = await records.next(); !r.done; r = await records.next())
   *   for (let record = r.value; record !== undefined; record = records.nextReady()) count(record);
   * ```
   */
  nextReady(): CaRecord | undefined;
}

/** Options of {@link shark}. */
export interface SharkOptions extends DecoderOptions {
  /** Packet-layer problems (skipped frames, unknown link types...). */
  onProblem?: (problem: PacketProblem) => void;
  /** A CA circuit ended (see `DecoderCallbacks.onCircuitClose`). */
  onCircuitClose?: (circuit: CircuitInfo) => void;
  /** Receives the decoder before decoding starts, e.g. to read `decoder.state` afterwards. */
  onDecoder?: (decoder: CaDecoder) => void;
  /**
   * State bounds, as for `createDecoder`, except that shark() keeps a minute of search entries by default
   * (`searchTtl`: {@link PAIRING_SEARCH_TTL}, not `DEFAULT_LIMITS`' 600 s): enough to pair every search
   * reply a server sends at once, so the records are the same, except that a reply coming over a minute
   * after the last request of its CID gets no PV (with 600 s it would get the PV and its latency);
   * `decoder.state.searches` then holds the searches of the last minute. Pass `searchTtl` to keep more. The 600 s of searches grew the state (and V8's old
   * generation with it) over the first ten minutes of any capture: 1,400 entries at the end of the bench's
   * 100 MB capture, 9,900 at the end of its 1 GB one.
   */
  limits?: Partial<StateLimits>;
  /**
   * Lend the memory of large numeric arrays instead of giving each its own: the typed arrays of more than
   * 256 elements in `command.data` (waveforms) are views of memory that shark() overwrites with later
   * records' arrays, so such an array is valid only until you ask for the next record (`next()`,
   * `nextReady()` or the next turn of `for await`). Copy what you keep (`data.slice()`), and do not
   * transfer the array's `buffer` (it is shared). Default false.
   *
   * For consumers that look at each record once, as most loops over a capture do: fresh memory for every
   * 30,000-element waveform costs page faults (about a sixth of a pass over a capture of them), reused
   * memory does not. See docs/performance.md, "Session 7: decoder core".
   */
  lendArrays?: boolean;
  /**
   * Run the file reads and the packet layers (capture reader, link, IPv4 and fragments, UDP, TCP
   * reassembly) on a worker thread, and the CA decoder on this one: `true` for any regular file, `'auto'`
   * for a regular file of at least 256 MiB when the machine has two or more cores, `false` (the default)
   * never. Only for a file given by path; the records, problems and state are the same either way. On a
   * 1 GB capture it took a sixth off this thread's CPU time at a fifth more CPU in all and 25-45 MB more
   * peak RSS; on 100 MB it does not pay (see docs/performance.md, "Session 11"). Off by default: the
   * memory it adds would make peak RSS jump at the size that turned it on, and it pays only while the
   * second core is idle. Without the option, the environment variable `CA_SHARK_PACKET_THREAD=1` turns it
   * on and `=0` keeps it off (for benchmarks).
   */
  packetThread?: boolean | 'auto';
}

/** Packet-layer problem code of input that is neither pcap nor pcapng. */
const NOT_A_CAPTURE = 'not-a-capture';

/** Bytes handed to the decoder at once when the input is one big buffer, so records stream out early. */
const BUFFER_SLICE = 1 << 20;
/**
 * Files and buffers smaller than this (some 5,000 messages) are decoded without the JIT warm-up of
 * warmup.ts: it costs some 30 ms and pays back only over more traffic.
 */
const WARM_UP_MIN_INPUT = 1 << 20;
/**
 * Decodes a pcap/pcapng capture into one {@link CaRecord} per Channel Access message, in capture order.
 *
 * ```ts
 * for await (const record of shark('capture.pcapng')) console.log(record.command.name, record.pv);
 * ```
 *
 * The input is read lazily: records come out while the capture is read, and memory stays bounded by the
 * conversation state limits, not by the capture size. Breaking out of the loop stops reading.
 *
 * Throws when the input cannot be opened, or (unless `onProblem` is given, which then receives it) when it
 * is neither pcap nor pcapng. Other packet-layer problems never stop the iteration.
 */
export function shark(input: SharkInput, options: SharkOptions = {}): SharkRecords {
  return new SharkRun(input, options);
}

/** A circuit end waiting in the record queue. */
class CircuitEnd {
  constructor(readonly circuit: CircuitInfo) {}
}

/**
 * The decoded records not yet handed out, first in first out. The array keeps its capacity from slice to
 * slice: emptied with `length = 0` it lost its backing store, which each slice then grew again (26 of the
 * 1,280 bytes the decoder allocated per message). A slot is cleared when taken, so the queue never keeps
 * a record alive that the consumer has dropped.
 */
class RecordQueue {
  private items: (CaRecord | CircuitEnd | undefined)[] = [];
  private head = 0;
  private tail = 0;

  push(item: CaRecord | CircuitEnd): void {
    // One store that appends at the end (tail === length) or refills a cleared slot: with a branch for
    // each, the function was optimised while the first slice grew the array and thrown away ("insufficient
    // type feedback") at the first refill.
    this.items[this.tail++] = item;
  }

  /** The oldest item, or undefined when the queue is empty. */
  shift(): CaRecord | CircuitEnd | undefined {
    if (this.head === this.tail) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.tail) this.head = this.tail = 0;
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = this.tail = 0;
  }
}

const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

/**
 * The iterator behind {@link shark}. Not an async generator function on purpose: each `yield` of one
 * costs several promise reactions (and `yield*` over a queue more), which took as much CPU as decoding
 * itself. Here a record already decoded is handed out as one resolved promise; the input is read (and
 * decoded a slice at a time) only when the queue is empty.
 */
class SharkRun implements SharkRecords {
  // Circuit ends travel in the record queue so the callback sees them after the circuit's last record
  // has been handed out, not when the chunk holding them was decoded.
  private readonly queue = new RecordQueue();
  /** The chunk being decoded a slice at a time, and where its next slice starts. */
  private chunk: Uint8Array | null = null;
  private chunkPos = 0;
  private decoder: Decoder | null = null;
  private source: AsyncIterator<Uint8Array> | null = null;
  private finished = false;
  /** The read in progress, so overlapping next() calls are served in order as a generator's are. */
  private reading: Promise<IteratorResult<CaRecord, void>> | null = null;
  /** Set once the input was judged for the JIT warm-up (see warmup.ts). */
  private warmedUp = false;
  /** Bytes of a regular file or a buffer given as input; streams and pipes are taken as long. */
  private inputSize = Infinity;
  /** Without a problem handler, input that is no capture at all must not pass as an empty one. */
  private fatal: PacketProblem | null = null;
  /** The memory lent to large arrays (option `lendArrays`). */
  private arena: ArrayArena | null = null;
  /** The packet thread (option `packetThread`), and the file it reads, opened here. */
  private thread: PacketThread | null = null;
  private file: FileHandle | null = null;
  /** A decode step of the packet thread stopped mid-slice (waiting for the worker). */
  private midSlice = false;

  constructor(
    private readonly input: SharkInput,
    private readonly options: SharkOptions,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<CaRecord, void>> {
    if (this.reading) {
      const next = (): Promise<IteratorResult<CaRecord, void>> => this.next();
      return this.reading.then(next, next);
    }
    let record: CaRecord | undefined;
    try {
      record = this.take();
    } catch (err) {
      return this.fail(err);
    }
    if (record !== undefined) return Promise.resolve({ done: false, value: record });
    if (this.finished) return Promise.resolve(DONE);
    const reading = this.read().finally(() => {
      this.reading = null;
    });
    this.reading = reading;
    return reading;
  }

  nextReady(): CaRecord | undefined {
    return this.reading === null ? this.take() : undefined;
  }

  async return(): Promise<IteratorResult<CaRecord, void>> {
    await this.close();
    return DONE;
  }

  async throw(err: unknown): Promise<IteratorResult<CaRecord, void>> {
    await this.close();
    throw err;
  }

  /** The next queued record, running the circuit-end callbacks queued before it. */
  private take(): CaRecord | undefined {
    const q = this.queue;
    for (let item = q.shift(); item !== undefined; item = q.shift()) {
      if (item instanceof CircuitEnd) this.options.onCircuitClose?.(item.circuit);
      else return item;
    }
    return undefined;
  }

  /** Decodes input until a record is queued or the input ends. */
  private async read(): Promise<IteratorResult<CaRecord, void>> {
    try {
      const decoder = this.decoder ?? (await this.begin());
      if (this.finished) return DONE;
      if (this.thread !== null) return await this.readThread(decoder, this.thread);
      const source = this.source as AsyncIterator<Uint8Array>;
      for (;;) {
        let bytes = this.chunk;
        if (bytes === null) {
          const next = await source.next();
          if (this.finished) return DONE;
          if (next.done) {
            // The queue is empty and the consumer asked for more: what was lent is free again.
            this.arena?.reclaim();
            decoder.end();
            this.finished = true;
          } else {
            bytes = next.value;
            this.chunkPos = 0;
          }
        }
        if (bytes !== null) {
          if (!this.warmedUp) {
            this.warmedUp = true;
            // Streams are mostly long (stdin, live pipes), so they are warmed up whatever their size.
            if (this.inputSize >= WARM_UP_MIN_INPUT) warmUpOnce();
          }
          this.arena?.reclaim();
          const from = this.chunkPos;
          const to = Math.min(bytes.length, from + DECODE_SLICE);
          decoder.pushCapture(from === 0 && to === bytes.length ? bytes : bytes.subarray(from, to));
          this.chunkPos = to;
          this.chunk = to < bytes.length ? bytes : null;
          if (this.fatal) throw new Error(`shark(): ${this.fatal.message}`);
        }
        const record = this.take();
        if (record !== undefined) return { done: false, value: record };
        if (this.finished) return DONE;
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /**
   * Decodes what the packet thread sends until a record is queued or the capture ends. Its steps are the
   * one-thread path's pushes (see KIND.SLICE), so records, problems and lent arrays come out in the same
   * order and steps.
   */
  private async readThread(decoder: Decoder, thread: PacketThread): Promise<IteratorResult<CaRecord, void>> {
    for (;;) {
      // As before each push on one thread: the queue is empty, what was lent is free again.
      if (!this.midSlice) this.arena?.reclaim();
      const step = thread.step();
      this.midSlice = step === STEP_WAIT;
      if (this.fatal) throw new Error(`shark(): ${this.fatal.message}`);
      if (step === STEP_WAIT) {
        await thread.wait();
        if (this.finished) return DONE;
        continue;
      }
      if (step === STEP_CHUNK) {
        // Between file chunks the event loop turns, as it does for the one-thread path's reads.
        await setImmediate();
        if (this.finished) return DONE;
        continue;
      }
      if (step === STEP_END) {
        // No reclaim here: the step began with one, and the records of the packet layer's end are queued.
        decoder.end();
        this.finished = true;
        await this.stopThread();
      }
      const record = this.take();
      if (record !== undefined) return { done: false, value: record };
      if (this.finished) return DONE;
    }
  }

  /**
   * Makes the decoder and the input's source: for a regular file given by path and the `packetThread`
   * option, the packet thread on the file, opened here so open errors are thrown as without it.
   */
  private async begin(): Promise<Decoder> {
    const decoder = this.start();
    const input = this.input;
    if (typeof input !== 'string' && !(input instanceof URL)) {
      if (input instanceof Uint8Array) this.inputSize = input.length;
      this.source = chunksOf(input);
      return decoder;
    }
    const file = await open(input instanceof URL ? fileURLToPath(input) : input, 'r');
    // Owned here until the thread or the chunk generator takes it (a generator not started yet would not
    // close it).
    this.file = file;
    const stat = await file.stat();
    if (this.finished) {
      // Ended (return()) while the file was opened: close() found nothing to close yet.
      await this.stopThread();
      return decoder;
    }
    if (stat.isFile() && usePacketThread(this.options.packetThread, stat.size)) {
      this.thread = new PacketThread(file.fd, decoder);
      // As the one-thread path does on a first chunk of a MiB; while the worker starts.
      this.warmedUp = true;
      if (stat.size >= WARM_UP_MIN_INPUT) warmUpOnce();
    } else {
      if (stat.isFile()) this.inputSize = stat.size;
      this.source = openFileChunks(file, () => {
        this.file = null;
      });
    }
    return decoder;
  }

  /** Ends the packet thread and closes its file. */
  private async stopThread(): Promise<void> {
    const thread = this.thread;
    const file = this.file;
    this.thread = null;
    this.file = null;
    await thread?.close();
    await file?.close();
  }

  private start(): Decoder {
    const { options } = this;
    const queue = this.queue;
    const decoder = new Decoder({
      ...options,
      limits: { searchTtl: PAIRING_SEARCH_TTL, ...options.limits },
      onRecord: (r) => queue.push(r),
      onCircuitClose: options.onCircuitClose && ((c) => queue.push(new CircuitEnd(c))),
    });
    decoder.onProblem =
      options.onProblem ??
      ((p) => {
        if (p.code === NOT_A_CAPTURE) this.fatal ??= p;
      });
    // shark() reads files into a new buffer per read and slices a given buffer without copying: the bytes
    // it pushes stay as they are. A caller's stream may reuse its buffers.
    const input = this.input;
    decoder.stableCaptureInput = typeof input === 'string' || input instanceof URL || input instanceof Uint8Array;
    if (options.lendArrays) {
      this.arena = new ArrayArena();
      decoder.opts.arrayMemory = this.arena.take;
    }
    this.decoder = decoder;
    options.onDecoder?.(decoder);
    return decoder;
  }

  private async fail(err: unknown): Promise<never> {
    await this.close();
    throw err;
  }

  /** Ends the iteration and stops reading the input. */
  private async close(): Promise<void> {
    if (this.finished && this.source === null && this.thread === null && this.file === null) return;
    this.finished = true;
    this.queue.clear();
    this.chunk = null;
    const source = this.source;
    this.source = null;
    await source?.return?.();
    await this.stopThread();
  }
}

/** The chunks of capture bytes, or of a stream of them (a file given by path is read by {@link openFileChunks}). */
async function* chunksOf(input: Uint8Array | AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  if (input instanceof Uint8Array) {
    for (let o = 0; o < input.length; o += BUFFER_SLICE)
      yield input.subarray(o, Math.min(input.length, o + BUFFER_SLICE));
    return;
  }
  for await (const chunk of input) {
    if (typeof chunk === 'string') throw new TypeError('shark(): the capture stream must yield bytes, not strings');
    yield chunk;
  }
}

/**
 * The bytes of a file opened already, by plain reads; closes it, and calls `started` when it takes the file
 * over. A read stream's machinery (buffering, events, its async iterator) cost more than the reads. The next
 * chunk is read on the thread pool while the current one is decoded: the kernel's copy from the page cache
 * then runs on another core, where a synchronous read (which regular files took from session 12 to 17, for
 * less CPU under load) kept it on the decoding thread: 0.5-0.75 s of a one-shot 1 GB run (2.4 M
 * messages) went to `readSync`, timed around the call on a 2-core VM. One-shot `shark()` over
 * realistic-1024mb, alternated pairs at load 3-5.3: decoding thread 3.51-4.45 → 2.82-3.91 s of CPU, lower
 * in all 7 pairs, minor faults and peak RSS the same. The process pays for it: on a quiet machine 7 % more
 * CPU for 8 % less wall, and `ca-shark stats` (no values decoded) 7 % more wall (docs/performance.md,
 * session 18's closing runs).
 * Awaiting each read of a new buffer instead left the decoder idle. The event loop turns once per chunk
 * (the read's completion comes from it), so timers, signals, the output's drain events and V8's GC tasks
 * run between chunks as before. The reads rotate through {@link FILE_BUFFERS} buffers allocated once,
 * which is safe because nothing downstream keeps a view of the pushed bytes after the next push (the
 * capture reader's held tail is the only one, and records copy what they keep) and a buffer is refilled
 * only two chunks later.
 */
async function* openFileChunks(file: FileHandle, started: () => void): AsyncGenerator<Uint8Array> {
  // From here the generator owns the file, and closes it.
  started();
  // Plain Uint8Arrays: the reader and shark() slice chunks, and a Buffer's subarray costs more.
  const buffers: Uint8Array[] = [];
  for (let i = 0; i < FILE_BUFFERS; i++) buffers.push(new Uint8Array(FILE_CHUNK));
  let index = 0;
  let pending: Promise<number> | null = null;
  try {
    let bytesRead = await readInto(file, buffers[index]);
    for (;;) {
      if (bytesRead === 0) return;
      const chunk = buffers[index];
      index = (index + 1) % FILE_BUFFERS;
      pending = readInto(file, buffers[index]);
      // Marks a failed read-ahead as handled while the chunk is decoded; awaiting it below still throws.
      pending.catch(() => undefined);
      yield bytesRead < FILE_CHUNK ? chunk.subarray(0, bytesRead) : chunk;
      bytesRead = await pending;
      pending = null;
    }
  } finally {
    // A read still in flight must not land in a closed descriptor's buffer or outlive the file.
    if (pending !== null) await pending.catch(() => 0);
    await file.close();
  }
}

async function readInto(file: FileHandle, buffer: Uint8Array): Promise<number> {
  const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
  return bytesRead;
}
