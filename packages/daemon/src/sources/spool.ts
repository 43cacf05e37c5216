/**
 * The spool of `ca-sharkd --stdin`: the bytes read from stdin are written to a file on disk as they are read,
 * before they are decoded, so the packet ring can keep each frame's place in that file instead of a copy of
 * its bytes, as it does for a replayed file (`-r`), and `GET /api/pcap` reads the frames back from disk. A
 * pipe cannot be read back; without the spool the ring kept up to `--packet-ring` bytes of frames in memory
 * (110 MB of the daemon's peak RSS on the bench's 100 MB capture, 270 MB on 1 GB).
 *
 * One file, written in turn and reused from its start once full, like dumpcap's ring buffer of files but in
 * one: the stream's byte at offset `o` lies at `o mod bytes` of the file, so the disk it takes is at most
 * `bytes` (the ring's bound) and nothing has to be rotated or removed. The file is created in a directory
 * (default: `os.tmpdir()`, `--spool-dir`) and unlinked at once: it has no name while the daemon runs, and
 * the system frees its blocks when the daemon exits, whatever way (SIGKILL included). The descriptor is the
 * process's, so the decoding worker reads through the same one (frame-file.ts's SpoolFile).
 *
 * The writer tells the reader how far it has written through one shared cell, `end`: the stream offset up to
 * which it has started writing, published before each write. A frame at offset `p` is intact while
 * `p >= end - bytes`; the reader checks that after its read, so a frame overwritten meanwhile is left out,
 * never exported with another frame's bytes (and its check word is still checked).
 *
 * A chunk is decoded only once its write is done (the source waits for {@link Spool.append}), so every frame
 * that is given a place has its bytes in the file. When a write fails (ENOSPC, EIO) or takes longer than
 * {@link SLOW_SPOOL_WRITE_MS}, the spool stops for good: that chunk and every later one are decoded without places
 * and the ring keeps copies of those frames in memory, as it did before the spool; nothing is lost, and the
 * frames already spooled stay readable (nothing overwrites them any more).
 */
import { closeSync, write } from 'node:fs';
import { SLOW_SPOOL_WRITE_MS, onTmpfs, openUnlinkedFile } from '../spool-file.js';

/**
 * Size of the spool when `--packet-ring` is not given: the ring's default bound (packet-ring.ts's
 * DEFAULT_PACKET_RING_BYTES, not imported here: that module is the decoding worker's).
 */
export const DEFAULT_SPOOL_BYTES = 256 * 1024 * 1024;
/** A frame's place when it has none (capture-bytes.ts's NO_PLACE). */
const NO_PLACE = -1;
/** Cell of {@link SpoolShare.state}: the stream offset up to which writes were started. */
const END = 0;

/** What the decoding worker needs to read the spool back (sent in its `init` message). */
export interface SpoolShare {
  /** The spool's descriptor (the process's: valid in the worker thread too). */
  fd: number;
  /** Size of the file once full: stream offset `o` is at `o mod bytes`. */
  bytes: number;
  /** One BigInt64 cell: `end`, see the module comment. */
  state: SharedArrayBuffer;
  /** Where the file was made (for messages). */
  dir: string;
}

/** The spool's state as `/api/stats` reports it (`spool`). */
export interface SpoolStatus {
  /** Directory the file was made in (it has no name of its own: unlinked at once). */
  dir: string;
  /** Size of the file once full (the packet ring's bound). */
  bytes: number;
  /** Stream bytes written so far (the file is reused from its start once full). */
  bytesWritten: number;
  /** The file is on a tmpfs: it is kept in memory, and saves none. */
  tmpfs: boolean;
  /** Why it stopped writing (a failed or slow write), or null while it writes: later packets are in memory. */
  stopped: string | null;
  /** The file could not be made at start (`stopped` says why): every packet is kept in memory. */
  unmade?: boolean;
}

/** Writes `length` bytes of `buffer` from `offset` at `position` of `fd`; resolves with the bytes written. */
export type SpoolWrite = (
  fd: number,
  buffer: Uint8Array,
  offset: number,
  length: number,
  position: number,
) => Promise<number>;

const fsWrite: SpoolWrite = (fd, buffer, offset, length, position) =>
  new Promise((resolve, reject) =>
    write(fd, buffer, offset, length, position, (err, n) => (err !== null ? reject(err) : resolve(n))),
  );

/** Options of {@link Spool.open}. */
export interface SpoolOptions {
  /** Directory the file is made in (and unlinked from at once). */
  dir: string;
  /** Bytes of the file once full: the packet ring's bound. */
  bytes: number;
  /** Told once, when the spool stops (its reason, in words). */
  onStop?: (reason: string) => void;
  /** Tests: the write (default fs.write). */
  write?: SpoolWrite;
  /** Tests: the longest wait for one write (default {@link SLOW_SPOOL_WRITE_MS}). */
  slowWriteMs?: number;
}

/** The writer's side of the spool (the capture thread). */
export class Spool {
  private readonly end: BigInt64Array;
  /** Stream bytes written so far (the next chunk's offset). */
  private written = 0;
  private stopped: string | undefined;
  private closed = false;
  /** {@link inMemory}, looked at once for {@link status} (a statfs call per stats message is not needed). */
  private tmpfs: boolean | undefined;
  /** The last append asked for: the next one starts once it has resolved (it never rejects). */
  private tail: Promise<number> = Promise.resolve(0);
  /** The write under way, until it settles (it may outlive a timed-out append: see {@link close}). */
  private inFlight: Promise<number> | undefined;
  private readonly writeAt: SpoolWrite;
  private readonly slowWriteMs: number;

  private constructor(
    private readonly fd: number,
    private readonly options: SpoolOptions,
    readonly share: SpoolShare,
  ) {
    this.end = new BigInt64Array(share.state);
    this.writeAt = options.write ?? fsWrite;
    this.slowWriteMs = options.slowWriteMs ?? SLOW_SPOOL_WRITE_MS;
  }

  /**
   * Makes the spool file in `options.dir` and unlinks it; throws (with the system's reason) when the
   * directory is missing or not writable, or the file cannot be removed (it would be left behind).
   */
  static open(options: SpoolOptions): Spool {
    if (!(options.bytes > 0)) throw new Error('a spool needs a size');
    const fd = openUnlinkedFile(options.dir, 'ca-sharkd-spool');
    const state = new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT);
    return new Spool(fd, options, { fd, bytes: options.bytes, state, dir: options.dir });
  }

  /** Why the spool stopped, or undefined while it writes. */
  get stopReason(): string | undefined {
    return this.stopped;
  }

  /**
   * Whether the file is on a tmpfs (Linux): then it is kept in memory, outside the daemon's RSS, and saves
   * none (many systems mount /tmp so, the default directory). Worth a warning, not a refusal.
   */
  get inMemory(): boolean {
    return onTmpfs(this.options.dir);
  }

  /** The state `/api/stats` reports: counters read as they are, nothing scanned. */
  get status(): SpoolStatus {
    this.tmpfs ??= this.inMemory;
    // Closed at shutdown is not a failure (see close).
    const stopped = this.closed && this.stopped === 'closed' ? null : (this.stopped ?? null);
    return { dir: this.share.dir, bytes: this.share.bytes, bytesWritten: this.written, tmpfs: this.tmpfs, stopped };
  }

  /** Stream bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /**
   * Writes the next chunk of the stream, after the chunks of the appends asked for before (each waits for
   * the one before it to resolve); resolves, once it is in the file, with the chunk's stream offset,
   * or with -1 when the spool has stopped (now or before): that chunk's frames get no place. Never rejects.
   * The caller must not change `chunk` until this resolves.
   */
  append(chunk: Uint8Array): Promise<number> {
    // One at a time, in the order asked: a chunk's offset is where the previous one ended, known only once
    // that one's write is done, and the source pushes chunks to the capture reader in the order their
    // appends resolve. Two appends under way at once wrote at the same offset, and the later chunk, its
    // write done first, reached the reader first (a node stream that flowed while its source waited:
    // the tail of the input read as corrupt framing and dropped).
    const appended = this.tail.then(() => this.write(chunk));
    this.tail = appended;
    return appended;
  }

  /** {@link append}, once the previous append has resolved. */
  private async write(chunk: Uint8Array): Promise<number> {
    if (this.stopped !== undefined) return NO_PLACE;
    const start = this.written;
    const size = this.share.bytes;
    // Published first: the reader must see these bytes as overwritten before they are.
    Atomics.store(this.end, END, BigInt(start + chunk.length));
    try {
      // A chunk larger than the file (a small --packet-ring) would overwrite its own start: only its last
      // `size` bytes are written.
      let done = Math.max(0, chunk.length - size);
      while (done < chunk.length) {
        const at = (start + done) % size;
        const length = Math.min(chunk.length - done, size - at);
        done += await this.timed(this.track(this.writeAt(this.fd, chunk, done, length, at)));
      }
    } catch (err) {
      // What was published stays: the bytes it covers may be partly written.
      this.stop((err as Error).message);
      return NO_PLACE;
    }
    this.written = start + chunk.length;
    return start;
  }

  /** Stops writing (the descriptor stays open: the frames already spooled are still read back). */
  stop(reason: string): void {
    if (this.stopped !== undefined) return;
    this.stopped = reason;
    this.options.onStop?.(reason);
  }

  /**
   * Closes the file, whose disk the system then frees (its descriptor would otherwise be freed when the
   * process exits): only once nothing reads it any more, the decoding worker gone, since a descriptor
   * number closed here could be reused by another file the worker would then read.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // Not a failure to warn about: nothing is read any more.
    this.stopped ??= 'closed';
    // A write given up on as too slow may still be queued in libuv's thread pool with this number: closed
    // before it runs, the number could be reused by the next file opened (another daemon's spool in an
    // embedder) and the late write would land there. The file is closed once that write is over.
    const pending = this.inFlight;
    if (pending === undefined) closeSync(this.fd);
    else {
      const fd = this.fd;
      const closeFile = (): void => {
        try {
          closeSync(fd);
        } catch {
          // Nothing to do about it here, and no caller left to tell.
        }
      };
      void pending.then(closeFile, closeFile);
    }
  }

  /** Keeps `write` as the one under way until it settles. */
  private track(write: Promise<number>): Promise<number> {
    this.inFlight = write;
    const settled = (): void => {
      if (this.inFlight === write) this.inFlight = undefined;
    };
    write.then(settled, settled);
    return write;
  }

  /** A write, or a rejection once it took longer than the slow-write bound (the write is left to finish). */
  private timed(p: Promise<number>): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`a write took longer than ${this.slowWriteMs} ms`)),
        this.slowWriteMs,
      );
      p.then(
        (n) => {
          clearTimeout(timer);
          if (n <= 0) reject(new Error('the write wrote nothing'));
          else resolve(n);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}

/** The stream offset up to which a spool's writer started writing (the reader's side of the shared cell). */
export function spoolEnd(state: SharedArrayBuffer): number {
  return Number(Atomics.load(new BigInt64Array(state), END));
}
