/**
 * Where the held records' full chunks go (history-ring.ts): a file in the spool directory, so a million held
 * records cost disk, not the daemon's memory, as Wireshark keeps its packets in a temporary file. Only the
 * chunk being filled and the few last read stay in memory, with each chunk's ids, capture times and table of
 * references (what the bounds and a history request's search read for every record).
 *
 * The file follows stdin's spool (sources/spool.ts): made in the directory and unlinked at once, so nothing
 * is left behind, SIGKILL included; opened only when the first chunk fills (a short capture makes none).
 * Chunk `i` of the history's ring has its extent in the file, reused when the ring comes round to `i` again
 * and the chunk still fits (chunks of one capture are about the same size), else moved to the file's end
 * with room to spare: the file is about the held records' bytes, bounded by the history's bounds.
 *
 * Written and read with synchronous `pwrite`/`pread` on the decoding worker: a chunk is about 1.5 MB once
 * every 16,384 records, written into the page cache in a millisecond or two. When the file cannot be made or
 * written (a read-only or full directory, EIO), or a write took longer than {@link SLOW_SPOOL_WRITE_MS} (a
 * stalled disk), one warning, and chunks stay in memory as before; when a
 * chunk cannot be read back, one warning, and that chunk's records read as gone (a history request skips
 * them), while later chunks stay in memory.
 */
import { closeSync, readSync, writeSync } from 'node:fs';
import { SLOW_SPOOL_WRITE_MS, onTmpfs, openUnlinkedFile } from './spool-file.js';

/** Where a {@link ChunkSpool} puts chunk `index`'s parts, and gets them back. */
export interface ChunkSpool {
  /** Writes the parts of chunk `index` (one after another); false when it cannot (then it never will again). */
  write(index: number, parts: readonly Uint8Array[]): boolean;
  /** Fills `parts` (the sizes written) with chunk `index`'s bytes; false when they cannot be read. */
  read(index: number, parts: readonly Uint8Array[]): boolean;
  /** Whether it still takes chunks. */
  readonly writable: boolean;
  /** Lets go of the file. */
  close(): void;
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
}

/** {@link ChunkSpool} in a file of directory `dir`. */
export class HistorySpool implements ChunkSpool {
  private fd: number | undefined;
  private stopped = false;
  /** A read failed (warned once). */
  private readFailed = false;
  /** Each chunk index's extent: offset and room, in bytes. */
  private readonly offsets: number[] = [];
  private readonly rooms: number[] = [];
  private fileEnd = 0;

  private readonly slowWriteMs: number;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    private readonly warn: SpoolWarning,
    options: HistorySpoolOptions = {},
  ) {
    this.slowWriteMs = options.slowWriteMs ?? SLOW_SPOOL_WRITE_MS;
    this.now = options.now ?? (() => performance.now());
  }

  get writable(): boolean {
    return !this.stopped;
  }

  /** Whether `dir` is a tmpfs (then spooling there saves the system no memory; Linux only). */
  static inMemory(dir: string): boolean {
    return onTmpfs(dir);
  }

  write(index: number, parts: readonly Uint8Array[]): boolean {
    if (this.stopped) return false;
    let fd = this.fd;
    if (fd === undefined) {
      try {
        fd = this.open();
      } catch (err) {
        this.stop('cannot spool held records to disk: they are kept in memory (--history)', err);
        return false;
      }
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
    const start = this.now();
    try {
      for (const part of parts) {
        let done = 0;
        while (done < part.byteLength) {
          done += writeSync(fd, part, done, part.byteLength - done, offset + done);
        }
        offset += part.byteLength;
      }
    } catch (err) {
      // The chunk whose write failed is kept in memory; the ones written before stay readable.
      this.stopped = true;
      this.warn('history spool stopped: later held records are kept in memory (--history)', String(err));
      return false;
    }
    const took = this.now() - start;
    if (took > this.slowWriteMs) {
      // This chunk is written (and reads back); the next ones are not asked of a disk this slow.
      this.stopped = true;
      this.warn(
        'history spool stopped: later held records are kept in memory (--history)',
        `a chunk's write took ${Math.round(took)} ms (more than ${this.slowWriteMs})`,
      );
    }
    return true;
  }

  read(index: number, parts: readonly Uint8Array[]): boolean {
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

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.stopped = true;
  }

  private open(): number {
    const fd = openUnlinkedFile(this.dir, 'ca-sharkd-history');
    this.fd = fd;
    if (HistorySpool.inMemory(this.dir)) {
      this.warn(
        'history spool is on a tmpfs, which keeps it in memory: give --spool-dir a directory on disk',
        this.dir,
      );
    }
    return fd;
  }

  private stop(message: string, err: unknown): void {
    this.stopped = true;
    this.warn(message, String(err));
  }
}
