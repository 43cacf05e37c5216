/**
 * Where the held records' full chunks go (history-ring.ts): a file in the spool directory, so a million held
 * records cost disk, not the daemon's memory, as Wireshark keeps its packets in a temporary file. Only the
 * chunk being filled and the few last read stay in memory, with each chunk's first id (its ids run on by
 * one) and table of references (what a history request's search reads for every record), and the capture
 * times of the oldest chunk, which the time bound reads.
 *
 * The file follows stdin's spool (sources/spool.ts): made in the directory and unlinked at once, so nothing
 * is left behind, SIGKILL included; made when the decoding worker starts ({@link HistorySpool.open}), before
 * the daemon drops root privileges (`--user`), as stdin's spool is, so a directory only root can write works
 * for both. Chunk `i` of the history's ring has its extent in the file, reused when the ring comes round to
 * `i` again and the chunk still fits (chunks of one capture are about the same size), else moved to the
 * file's end with room to spare: the file is about the held records' bytes, bounded by the history's bounds.
 *
 * A chunk (about 1.5 MB once every 16,384 records) is copied into shared memory and written from there by
 * the main thread ({@link SpoolWriter}: an asynchronous `pwritev` on libuv's thread pool), not by the
 * decoding thread, which live capture must not hold up: a disk that stalls delays the write, not the
 * decoding of the frames arriving meanwhile. A read of a chunk whose write has not ended is served from its
 * copy. Writes go one at a time, in order (a chunk index's extent may be written again by a later chunk). At most
 * {@link MAX_PENDING_CHUNKS} wait: a chunk full while that many wait (a disk slower than the input) stays in
 * memory and is counted ({@link HistorySpoolStatus.behind}). When the file cannot be made or written (a
 * read-only or full directory, EIO), or a write has taken longer than {@link SLOW_SPOOL_WRITE_MS} (a stalled
 * disk: seen at the next chunk, or when it ends), one warning, and chunks stay in memory as before (those
 * waiting then too). Reads stay synchronous (`pread`, a request's scan needs the chunk now); when a chunk
 * cannot be read back, one warning, and that chunk's records read as gone (a history request skips them),
 * while later chunks stay in memory.
 */
import { closeSync, readSync, writev } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { SLOW_SPOOL_WRITE_MS, onTmpfs, openUnlinkedFile } from './spool-file.js';

/** Where a {@link ChunkSpool} puts chunk `index`'s parts, and gets them back. */
export interface ChunkSpool {
  /**
   * Writes the parts of chunk `index` (one after another), or takes a copy to write; false when it cannot
   * (now, or never again once not {@link writable}). The caller may use the parts again once it returns.
   */
  write(index: number, parts: readonly Uint8Array[]): boolean;
  /**
   * Fills `parts` with chunk `index`'s bytes from its start: the sizes written, or fewer bytes (the start
   * alone, as the time bound reads a chunk's times); false when they cannot be read.
   */
  read(index: number, parts: readonly Uint8Array[]): boolean;
  /** Chunk `index` left the history: its bytes are not read again (a spool may let go of them). */
  forget?(index: number): void;
  /** Whether it still takes chunks. */
  readonly writable: boolean;
  /** What it wrote and holds, for the stats; undefined when it says nothing. */
  readonly status?: HistorySpoolStatus;
  /** Lets go of the file. */
  close(): void;
}

/** `stats.history.spool`: where the held records' full chunks go, and how far the disk keeps up. */
export interface HistorySpoolStatus {
  /** Directory the file was made in (it has no name of its own: unlinked at once). */
  dir: string;
  /** The file is on a tmpfs: it is kept in memory, and saves none. */
  tmpfs: boolean;
  /** Chunks written to the file since start, and their bytes. */
  chunksWritten: number;
  bytesWritten: number;
  /** Chunks waiting for their write now (their bytes in memory), at most {@link MAX_PENDING_CHUNKS}. */
  pending: number;
  /** Chunks kept in memory because that many waited already: the disk was slower than the input. */
  behind: number;
  /** Why it stopped (no file, a failed or slow write), or null while it writes: later chunks are in memory. */
  stopped: string | null;
}

/**
 * Chunks that may wait for their write at once (about 6 MB of chunks of 1.5 MB): past it a full chunk stays
 * in memory, counted, rather than the memory waiting on a slow disk growing without bound.
 */
export const MAX_PENDING_CHUNKS = 4;

/** Writes `parts` one after another at `position` of `fd`; resolves with the bytes written (maybe fewer). */
export type ChunkWrite = (fd: number, parts: readonly Uint8Array[], position: number) => Promise<number>;

const fsWritev: ChunkWrite = (fd, parts, position) =>
  new Promise((resolve, reject) => {
    writev(fd, parts, position, (err, n) => (err !== null ? reject(err) : resolve(n)));
  });

/**
 * A chunk's write, asked of the thread that writes (the daemon's main thread: see {@link SpoolWriter}).
 * `parts` are views of shared memory (not copied when the message crosses threads); `cells` is where the
 * writer says how far it got (see {@link SETTLED}).
 */
export interface SpoolWriteRequest {
  type: 'spool-write';
  fd: number;
  /** 1, 2, 3... in the order asked. */
  seq: number;
  parts: Uint8Array[];
  position: number;
  cells: SharedArrayBuffer;
}

/**
 * The cells a writer fills for its spool (Int32, shared): every write up to `SETTLED` has ended, `FAILED` is
 * the first that failed (0: none) with its errno (negative, as libuv gives it) in `ERRNO`, and `STARTED` is
 * the last write begun, at the time in the Float64 after the cells ({@link STARTED_AT_BYTE}, on
 * {@link sharedClock}). Read with Atomics by the decoding thread whenever it adds a chunk or reads one: the
 * end of a write is seen at once, even while that thread's event loop is held by batch after batch (a
 * `--speed max` replay keeps it so for seconds, so a write's callback on that thread would be seen that late
 * and the chunks behind it kept in memory).
 */
const SETTLED = 0;
const FAILED = 1;
const ERRNO = 2;
const STARTED = 3;
const CELLS = 4;
/** Where the start time of write `STARTED` is (a Float64 after the Int32 cells, 8-byte aligned). */
const STARTED_AT_BYTE = CELLS * Int32Array.BYTES_PER_ELEMENT;
const CELLS_BYTES = STARTED_AT_BYTE + Float64Array.BYTES_PER_ELEMENT;

/**
 * Milliseconds on a clock every thread of the process reads alike (`performance.now()` counts from each
 * thread's own start): a write's start taken on the main thread is compared with the decoding worker's now.
 */
export function sharedClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Writes spool chunks one after another per descriptor (a chunk index's extent may be written again by a
 * later chunk), off the decoding thread: `fs.writev` on libuv's thread pool, asked by the main thread
 * (remote-engine.ts), whose event loop is not held by decoding. Made once per thread that writes.
 */
export class SpoolWriter {
  /** Per descriptor: the last write asked, and how many are not settled. */
  private readonly chains = new Map<number, { last: Promise<void>; open: number }>();

  /** Set once the descriptors' owner is gone (the worker ended): writes not started are not made. */
  private cancelled = false;

  constructor(
    private readonly writeParts: ChunkWrite = fsWritev,
    /** When a write begins (the same clock as the spool's, {@link sharedClock} across threads). */
    private readonly now: () => number = sharedClock,
  ) {}

  /**
   * Makes no write not started yet: the worker whose descriptor they use is ending or ended, and the system
   * may give the number to another file.
   */
  cancel(): void {
    this.cancelled = true;
  }

  write(request: SpoolWriteRequest): void {
    const cells = new Int32Array(request.cells, 0, CELLS);
    const startedAt = new Float64Array(request.cells, STARTED_AT_BYTE, 1);
    const chain = this.chains.get(request.fd) ?? { last: Promise.resolve(), open: 0 };
    this.chains.set(request.fd, chain);
    chain.open += 1;
    chain.last = chain.last.then(async () => {
      try {
        if (this.cancelled) throw new Error('history spool: the decoding worker ended before this write');
        if (Atomics.load(cells, FAILED) === 0) {
          // The time first: the spool reads it once it sees this write's number.
          startedAt[0] = this.now();
          Atomics.store(cells, STARTED, request.seq);
          await this.writeAll(request);
        }
      } catch (err) {
        // The first failure is the one said (those after it are kept in memory by the spool anyway).
        if (Atomics.load(cells, FAILED) === 0) {
          const errno = (err as NodeJS.ErrnoException).errno;
          // 0: no system error (a write that was not made, a short write that wrote nothing).
          Atomics.store(cells, ERRNO, typeof errno === 'number' ? errno : 0);
          Atomics.store(cells, FAILED, request.seq);
        }
      }
      Atomics.store(cells, SETTLED, request.seq);
      chain.open -= 1;
      if (chain.open === 0) this.chains.delete(request.fd);
    });
  }

  /** Resolves once every write asked so far has ended (the daemon's close, before its worker goes). */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()].map((c) => c.last));
  }

  /** Writes every byte of a request (a short write goes on where it ended). */
  private async writeAll(request: SpoolWriteRequest): Promise<void> {
    let parts: readonly Uint8Array[] = request.parts;
    let position = request.position;
    let left = 0;
    for (const part of parts) left += part.byteLength;
    while (left > 0) {
      const n = await this.writeParts(request.fd, parts, position);
      if (n <= 0) throw new Error(`history spool: write of ${left} bytes at ${position} wrote ${n}`);
      left -= n;
      position += n;
      if (left > 0) parts = skipBytes(parts, n);
    }
  }
}

/** A chunk handed to the spool and not yet known to be in its file. */
interface PendingChunk {
  readonly index: number;
  /** Its copy, in memory shared with the writer (a buffer of {@link HistorySpool}'s pool). */
  readonly bytes: Uint8Array;
  /** Its write's number ({@link SpoolWriteRequest.seq}). */
  readonly seq: number;
  readonly length: number;
  /** Being written, or kept in memory for good (its write failed, or came after a stop). */
  state: 'writing' | 'kept';
  /** Its chunk left the history: its copy goes back to the pool once no write reads it. */
  forgotten: boolean;
}

/** Extents grow to the next multiple of this (64 KiB), with a quarter to spare. */
const EXTENT_ALIGN = 1 << 16;

/** Why a spool stopped, said once: `detail` is the system's error. */
export type SpoolWarning = (message: string, detail: string) => void;

/** Options of a {@link HistorySpool}. */
export interface HistorySpoolOptions {
  /** The longest a chunk's write may take before the spool stops (default {@link SLOW_SPOOL_WRITE_MS}). */
  slowWriteMs?: number;
  /**
   * The clock writes are timed with (ms; default {@link sharedClock}); this thread's own writer (without
   * `send`) uses it too, a writer elsewhere must use the same.
   */
  now?: () => number;
  /**
   * Where writes are asked (the decoding worker: a message to the main thread); default a
   * {@link SpoolWriter} on this thread, whose writes end between this thread's tasks (tests).
   */
  send?: (request: SpoolWriteRequest) => void;
  /** How this thread's own writer writes (tests; default `fs.writev`). */
  write?: ChunkWrite;
  /** Chunks that may wait for their write (default {@link MAX_PENDING_CHUNKS}). */
  maxPending?: number;
}

/** The warning when the spool stops taking chunks (a failed or slow write). */
const STOPPED = 'history spool stopped: later held records are kept in memory (--history)';

/** {@link ChunkSpool} in a file of directory `dir`. */
export class HistorySpool implements ChunkSpool {
  private fd: number | undefined;
  private stopped = false;
  /** Why it stopped, for the stats (null while it writes). */
  private reason: string | null = null;
  private closed = false;
  /** A read failed (warned once). */
  private readFailed = false;
  private tmpfs = false;
  /** Each chunk index's extent: offset and room, in bytes. */
  private readonly offsets: number[] = [];
  private readonly rooms: number[] = [];
  private fileEnd = 0;
  /** Chunks asked to be written and not seen settled, in order. */
  private readonly queue: PendingChunk[] = [];
  /** The chunk of each index not in the file (being written, or kept): reads are served from it. */
  private readonly unwritten = new Map<number, PendingChunk>();
  private seq = 0;
  private readonly cellBuffer = new SharedArrayBuffer(CELLS_BYTES);
  private readonly cells = new Int32Array(this.cellBuffer, 0, CELLS);
  /** When the write numbered in `STARTED` began. */
  private readonly startedAt = new Float64Array(this.cellBuffer, STARTED_AT_BYTE, 1);
  private chunksWritten = 0;
  private bytesWritten = 0;
  private behind = 0;
  /** Shared buffers of written chunks' copies, for the next chunks (at most {@link maxPending}). */
  private readonly pool: SharedArrayBuffer[] = [];

  private readonly slowWriteMs: number;
  private readonly now: () => number;
  private readonly send: (request: SpoolWriteRequest) => void;
  private readonly maxPending: number;

  constructor(
    readonly dir: string,
    private readonly warn: SpoolWarning,
    options: HistorySpoolOptions = {},
  ) {
    this.slowWriteMs = options.slowWriteMs ?? SLOW_SPOOL_WRITE_MS;
    this.now = options.now ?? sharedClock;
    this.maxPending = options.maxPending ?? MAX_PENDING_CHUNKS;
    if (options.send !== undefined) this.send = options.send;
    else {
      const writer = new SpoolWriter(options.write, this.now);
      this.send = (request) => writer.write(request);
    }
  }

  get writable(): boolean {
    return !this.stopped;
  }

  get status(): HistorySpoolStatus {
    this.settle();
    return {
      dir: this.dir,
      tmpfs: this.tmpfs,
      chunksWritten: this.chunksWritten,
      bytesWritten: this.bytesWritten,
      pending: this.queue.length,
      behind: this.behind,
      stopped: this.reason,
    };
  }

  /** Whether `dir` is a tmpfs (then spooling there saves the system no memory; Linux only). */
  static inMemory(dir: string): boolean {
    return onTmpfs(dir);
  }

  /**
   * Makes the file now (the decoding worker's start, before `--user` drops root privileges) rather than when
   * the first chunk fills; when it cannot, one warning and the spool takes no chunk.
   */
  open(): void {
    if (this.fd !== undefined || this.stopped) return;
    try {
      this.fd = openUnlinkedFile(this.dir, 'ca-sharkd-history');
    } catch (err) {
      this.stop('cannot spool held records to disk: they are kept in memory (--history)', String(err));
      return;
    }
    if (HistorySpool.inMemory(this.dir)) {
      this.tmpfs = true;
      this.warn(
        'history spool is on a tmpfs, which keeps it in memory: give --spool-dir a directory on disk',
        this.dir,
      );
    }
  }

  write(index: number, parts: readonly Uint8Array[]): boolean {
    if (this.fd === undefined) this.open();
    this.settle();
    const fd = this.fd;
    if (this.stopped || fd === undefined) return false;
    const taken = this.writingFor();
    if (taken > this.slowWriteMs) {
      // A write still going after the bound (a stalled disk): this chunk and later ones stay in memory.
      this.stop(STOPPED, `a chunk's write has taken ${Math.round(taken)} ms (more than ${this.slowWriteMs})`);
      return false;
    }
    if (this.queue.length >= this.maxPending) {
      this.behind += 1;
      return false;
    }
    let length = 0;
    for (const part of parts) length += part.byteLength;
    let offset = this.offsets[index];
    if (offset === undefined || this.rooms[index] < length) {
      offset = this.fileEnd;
      const room = Math.ceil((length * 1.25) / EXTENT_ALIGN) * EXTENT_ALIGN;
      this.offsets[index] = offset;
      this.rooms[index] = room;
      this.fileEnd += room;
    }
    // Copied into memory the writer shares (no copy when the message crosses to it): the caller's buffers
    // fill the next chunk at once, and a chunk read before its write has ended is read from the copy.
    const bytes = this.sharedBytes(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.byteLength;
    }
    const seq = ++this.seq;
    const chunk: PendingChunk = { index, bytes, seq, length, state: 'writing', forgotten: false };
    this.queue.push(chunk);
    this.unwritten.set(index, chunk);
    this.send({
      type: 'spool-write',
      fd,
      seq,
      parts: [bytes],
      position: offset,
      cells: this.cellBuffer,
    });
    return true;
  }

  read(index: number, parts: readonly Uint8Array[]): boolean {
    this.settle();
    const unwritten = this.unwritten.get(index);
    if (unwritten !== undefined) {
      copyParts([unwritten.bytes], parts);
      return true;
    }
    let offset = this.offsets[index];
    if (this.fd === undefined || offset === undefined) return false;
    try {
      for (const part of parts) {
        let done = 0;
        while (done < part.byteLength) {
          const n = readSync(this.fd, part, done, part.byteLength - done, offset + done);
          if (n === 0) throw new Error(`history spool: short read at ${offset + done}`);
          done += n;
        }
        offset += part.byteLength;
      }
    } catch (err) {
      this.stopped = true;
      this.reason ??= String(err);
      // Said once, whether or not the spool had stopped taking chunks before (a full disk, then EIO).
      if (!this.readFailed) {
        this.readFailed = true;
        this.warn(
          'history spool unreadable: the held records read from it are gone, later ones are kept in memory',
          String(err),
        );
      }
      return false;
    }
    return true;
  }

  forget(index: number): void {
    const chunk = this.unwritten.get(index);
    if (chunk === undefined) return;
    this.unwritten.delete(index);
    chunk.forgotten = true;
    // Kept in memory: nobody reads it now. Being written: given back once its write ends (see settle).
    if (chunk.state === 'kept') this.giveBack(chunk);
  }

  /** Resolves once no chunk waits for its write (tests; a write that never ends never resolves it). */
  async idle(): Promise<void> {
    this.settle();
    while (this.queue.length > 0) {
      await new Promise((resolve) => setImmediate(resolve));
      this.settle();
    }
  }

  close(): void {
    this.settle();
    this.closed = true;
    this.stopped = true;
    for (const chunk of this.unwritten.values()) if (chunk.state === 'kept') this.giveBack(chunk);
    this.unwritten.clear();
    // The descriptor is closed once no write is going: closed under one, its number could be given to another
    // file before the write is made (settle closes it then).
    this.closeIfDone();
  }

  /**
   * How long the oldest chunk's write has been going, from when the writer began it: 0 while the writer's
   * thread has not taken it up (a busy main thread is not a stalled disk, and the queue's bound holds the
   * chunks behind it).
   */
  private writingFor(): number {
    const oldest = this.queue[0];
    if (oldest === undefined || Atomics.load(this.cells, STARTED) !== oldest.seq) return 0;
    return this.now() - this.startedAt[0];
  }

  /** Takes in the writes that ended since last looked (the writer's cells). */
  private settle(): void {
    const settled = Atomics.load(this.cells, SETTLED);
    if (this.queue.length === 0 || this.queue[0].seq > settled) return;
    const failed = Atomics.load(this.cells, FAILED);
    while (this.queue.length > 0 && this.queue[0].seq <= settled) {
      const chunk = this.queue.shift() as PendingChunk;
      if (failed !== 0 && chunk.seq >= failed) {
        // The chunk whose write failed (and any asked after it) is kept in memory, reads served from it;
        // the ones written before stay readable.
        chunk.state = 'kept';
        if (chunk.forgotten) this.giveBack(chunk);
        if (!this.stopped) this.stop(STOPPED, errnoText(Atomics.load(this.cells, ERRNO)));
        continue;
      }
      this.chunksWritten += 1;
      this.bytesWritten += chunk.length;
      if (this.unwritten.get(chunk.index) === chunk) this.unwritten.delete(chunk.index);
      // In the file now: read from there, and its buffers go back.
      this.giveBack(chunk);
    }
    this.closeIfDone();
  }

  private closeIfDone(): void {
    if (!this.closed || this.queue.length > 0 || this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  /** A chunk's copy is read no more: its buffer goes back to the pool. */
  private giveBack(chunk: PendingChunk): void {
    if (this.pool.length < this.maxPending) this.pool.push(chunk.bytes.buffer as SharedArrayBuffer);
  }

  /** `length` bytes of shared memory, from the pool when a buffer there is large enough. */
  private sharedBytes(length: number): Uint8Array {
    const at = this.pool.findIndex((b) => b.byteLength >= length);
    // Chunks of one capture are about the same size: a new buffer has room to spare, as a file extent has.
    const buffer =
      at >= 0
        ? (this.pool.splice(at, 1)[0] as SharedArrayBuffer)
        : new SharedArrayBuffer(Math.ceil((length * 1.25) / EXTENT_ALIGN) * EXTENT_ALIGN);
    return new Uint8Array(buffer, 0, length);
  }

  /** Takes no more chunks (those being written go on), one warning. */
  private stop(message: string, detail: string): void {
    this.stopped = true;
    this.reason ??= detail;
    this.warn(message, detail);
  }
}

/** The system's name and text of a libuv errno (negative), as an Error's text would say it. */
function errnoText(errno: number): string {
  if (errno === 0) return 'Error: a chunk could not be written';
  const known = getSystemErrorMap().get(errno);
  return known !== undefined ? `Error: ${known[0]}: ${known[1]}, write` : `Error: write failed (errno ${errno})`;
}

/** Copies the bytes of `from` (parts one after another) into `to` (the same total or less). */
function copyParts(from: readonly Uint8Array[], to: readonly Uint8Array[]): void {
  let i = 0;
  let at = 0;
  for (const part of to) {
    let filled = 0;
    while (filled < part.byteLength && i < from.length) {
      const src = from[i];
      const n = Math.min(part.byteLength - filled, src.byteLength - at);
      part.set(src.subarray(at, at + n), filled);
      filled += n;
      at += n;
      if (at === src.byteLength) {
        i += 1;
        at = 0;
      }
    }
  }
}

/** `parts` without their first `n` bytes (views, no copy). */
function skipBytes(parts: readonly Uint8Array[], n: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let skip = n;
  for (const part of parts) {
    if (skip >= part.byteLength) {
      skip -= part.byteLength;
      continue;
    }
    out.push(skip > 0 ? part.subarray(skip) : part);
    skip = 0;
  }
  return out;
}
