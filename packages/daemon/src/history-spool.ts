/**
 * Where the held records' full chunks go (history-ring.ts): a file in the spool directory, so a million held
 * records cost disk, not the daemon's memory, as Wireshark keeps its packets in a temporary file. Only the
 * chunk being filled and the few last read stay in memory, with each chunk's ids, capture times and table of
 * references (what the bounds and a history request's search read for every record).
 *
 * The file follows stdin's spool (sources/spool.ts): made in the directory and unlinked at once, so nothing
 * is left behind, SIGKILL included; made when the decoding worker starts ({@link HistorySpool.open}), before
 * the daemon drops root privileges (`--user`), as stdin's spool is, so a directory only root can write works
 * for both. Chunk `i` of the history's ring has its extent in the file, reused when the ring comes round to
 * `i` again and the chunk still fits (chunks of one capture are about the same size), else moved to the
 * file's end with room to spare: the file is about the held records' bytes, bounded by the history's bounds.
 *
 * A chunk (about 1.5 MB once every 16,384 records) is written with an asynchronous `pwritev` on libuv's
 * thread pool, not on the decoding thread, which live capture must not hold up: a disk that stalls delays
 * the write, not the decoding of the frames arriving meanwhile. Its buffers belong to the spool until
 * written (then they go back to the ring's pools); a read of a chunk not yet written is served from them.
 * Writes go one at a time, in order (a chunk index's extent may be written again by a later chunk). At most
 * {@link MAX_PENDING_CHUNKS} wait: a chunk full while that many wait (a disk slower than the input) stays in
 * memory and is counted ({@link HistorySpoolStatus.behind}). When the file cannot be made or written (a
 * read-only or full directory, EIO), or a write has taken longer than {@link SLOW_SPOOL_WRITE_MS} (a stalled
 * disk: seen at the next chunk, or when it ends), one warning, and chunks stay in memory as before (those
 * waiting then too). Reads stay synchronous (`pread`, a request's scan needs the chunk now); when a chunk
 * cannot be read back, one warning, and that chunk's records read as gone (a history request skips them),
 * while later chunks stay in memory.
 */
import { closeSync, readSync, writev } from 'node:fs';
import { SLOW_SPOOL_WRITE_MS, onTmpfs, openUnlinkedFile } from './spool-file.js';

/** Where a {@link ChunkSpool} puts chunk `index`'s parts, and gets them back. */
export interface ChunkSpool {
  /**
   * Takes the parts of chunk `index` (one after another) to write; false when it cannot (now, or never again
   * once not {@link writable}). Once taken, the parts are the spool's until it calls `done` with them (the
   * caller may use them again then), which it may never do (a spool that keeps them or copied them).
   */
  write(index: number, parts: readonly Uint8Array[], done?: (parts: readonly Uint8Array[]) => void): boolean;
  /** Fills `parts` (the sizes written) with chunk `index`'s bytes; false when they cannot be read. */
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

/** A chunk handed to the spool and not yet in its file. */
interface PendingChunk {
  readonly index: number;
  readonly parts: readonly Uint8Array[];
  /** Its extent's start, and its bytes. */
  readonly offset: number;
  readonly length: number;
  /** Gives the parts back to their owner (cleared once called). */
  done: ((parts: readonly Uint8Array[]) => void) | undefined;
  /** Waiting its turn, being written, or kept in memory for good (its write failed or was not made). */
  state: 'queued' | 'writing' | 'kept';
  /** Its chunk left the history: its bytes go back once no write reads them. */
  forgotten: boolean;
}

/** Extents grow to the next multiple of this (64 KiB), with a quarter to spare. */
const EXTENT_ALIGN = 1 << 16;

/** Why a spool stopped, said once: `detail` is the system's error. */
export type SpoolWarning = (message: string, detail: string) => void;

/** Options of a {@link HistorySpool} (tests). */
export interface HistorySpoolOptions {
  /** The longest a chunk's write may take before the spool stops (default {@link SLOW_SPOOL_WRITE_MS}). */
  slowWriteMs?: number;
  /** The clock writes are timed with (ms; default `performance.now`). */
  now?: () => number;
  /** How a chunk is written (default: `fs.writev`). */
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
  /** Chunks waiting for their write, in order; the first is being written while {@link writingSince} is set. */
  private readonly queue: PendingChunk[] = [];
  private writingSince: number | undefined;
  /** The chunk of each index not in the file yet (waiting, being written, or kept): reads are served from it. */
  private readonly unwritten = new Map<number, PendingChunk>();
  private chunksWritten = 0;
  private bytesWritten = 0;
  private behind = 0;
  /** Called once nothing waits (see {@link idle}). */
  private idlers: (() => void)[] = [];

  private readonly slowWriteMs: number;
  private readonly now: () => number;
  private readonly writeParts: ChunkWrite;
  private readonly maxPending: number;

  constructor(
    readonly dir: string,
    private readonly warn: SpoolWarning,
    options: HistorySpoolOptions = {},
  ) {
    this.slowWriteMs = options.slowWriteMs ?? SLOW_SPOOL_WRITE_MS;
    this.now = options.now ?? (() => performance.now());
    this.writeParts = options.write ?? fsWritev;
    this.maxPending = options.maxPending ?? MAX_PENDING_CHUNKS;
  }

  get writable(): boolean {
    return !this.stopped;
  }

  get status(): HistorySpoolStatus {
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

  write(index: number, parts: readonly Uint8Array[], done?: (parts: readonly Uint8Array[]) => void): boolean {
    if (this.fd === undefined) this.open();
    if (this.stopped) return false;
    const since = this.writingSince;
    const taken = since === undefined ? 0 : this.now() - since;
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
    const chunk: PendingChunk = { index, parts, offset, length, done, state: 'queued', forgotten: false };
    this.queue.push(chunk);
    this.unwritten.set(index, chunk);
    this.next();
    return true;
  }

  read(index: number, parts: readonly Uint8Array[]): boolean {
    const unwritten = this.unwritten.get(index);
    if (unwritten !== undefined) {
      copyParts(unwritten.parts, parts);
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
    if (chunk.state === 'writing') return;
    // Waiting or kept: nobody reads it now (a waiting one's extent is not written at all).
    const at = this.queue.indexOf(chunk);
    if (at >= 0) this.queue.splice(at, 1);
    this.giveBack(chunk);
    this.settle();
  }

  /** Resolves once no chunk waits for its write (tests; a write that never ends never resolves it). */
  idle(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.stopped = true;
    const writing = this.writingSince !== undefined ? this.queue[0] : undefined;
    // The descriptor is closed once the write in progress ends: closed under it, its number could be given
    // to another file before the thread pool writes.
    for (const chunk of this.queue.splice(0)) if (chunk !== writing) this.giveBack(chunk);
    if (writing !== undefined) this.queue.push(writing);
    this.unwritten.clear();
    if (writing === undefined && this.fd !== undefined) closeSync(this.fd);
    if (writing === undefined) this.fd = undefined;
    this.settle();
  }

  /** Starts the next chunk's write unless one is going. */
  private next(): void {
    const chunk = this.queue[0];
    if (chunk === undefined || this.writingSince !== undefined || this.fd === undefined) return;
    chunk.state = 'writing';
    const start = this.now();
    this.writingSince = start;
    void this.writeAll(this.fd, chunk).then(
      () => this.written(chunk, start),
      (err: unknown) => this.failed(chunk, err),
    );
  }

  /** Writes every byte of `chunk` (a short write goes on where it ended). */
  private async writeAll(fd: number, chunk: PendingChunk): Promise<void> {
    let parts = chunk.parts;
    let position = chunk.offset;
    let left = chunk.length;
    while (left > 0) {
      const n = await this.writeParts(fd, parts, position);
      if (n <= 0) throw new Error(`history spool: write of ${left} bytes at ${position} wrote ${n}`);
      left -= n;
      position += n;
      if (left > 0) parts = skipBytes(parts, n);
    }
  }

  private written(chunk: PendingChunk, start: number): void {
    const took = this.now() - start;
    this.finish(chunk);
    this.chunksWritten += 1;
    this.bytesWritten += chunk.length;
    if (this.unwritten.get(chunk.index) === chunk) this.unwritten.delete(chunk.index);
    // In the file now: read from there, and its buffers go back.
    this.giveBack(chunk);
    if (took > this.slowWriteMs && !this.stopped) {
      // This chunk is written (and reads back); the next ones are not asked of a disk this slow.
      this.stop(STOPPED, `a chunk's write took ${Math.round(took)} ms (more than ${this.slowWriteMs})`);
    }
    this.next();
    this.settle();
  }

  private failed(chunk: PendingChunk, err: unknown): void {
    this.finish(chunk);
    // The chunk whose write failed is kept in memory (reads are served from it); the ones written before
    // stay readable.
    if (chunk.forgotten) this.giveBack(chunk);
    else chunk.state = 'kept';
    if (!this.stopped) this.stop(STOPPED, String(err));
    this.settle();
  }

  /** The write of `chunk` (the first waiting) ended. */
  private finish(chunk: PendingChunk): void {
    this.writingSince = undefined;
    if (this.queue[0] === chunk) this.queue.shift();
    if (this.closed && this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Gives a chunk's buffers back to their owner, once. */
  private giveBack(chunk: PendingChunk): void {
    const done = chunk.done;
    chunk.done = undefined;
    done?.(chunk.parts);
  }

  /** Takes no more chunks: the waiting ones stay in memory (reads are served from them), one warning. */
  private stop(message: string, detail: string): void {
    this.stopped = true;
    this.reason ??= detail;
    const writing = this.writingSince !== undefined ? this.queue[0] : undefined;
    for (const chunk of this.queue.splice(0)) {
      if (chunk === writing) this.queue.push(chunk);
      else chunk.state = 'kept';
    }
    this.warn(message, detail);
    this.settle();
  }

  /** Tells those waiting for {@link idle} once nothing waits. */
  private settle(): void {
    if (this.queue.length > 0 || this.idlers.length === 0) return;
    for (const resolve of this.idlers.splice(0)) resolve();
  }
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
