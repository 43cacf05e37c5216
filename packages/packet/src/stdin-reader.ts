/**
 * Reading a capture from a file descriptor, in practice standard input (`tcpdump -U -w - | ca-shark`,
 * `ca-shark < FILE`, `ca-sharkd --stdin`), into one buffer reused for every read.
 *
 * `process.stdin` reads a pipe into a fresh 64 KiB buffer per chunk (memory to page in, and a buffer for
 * the garbage collector, per chunk) and a redirected file in 64 KiB reads through libuv's thread pool. Here
 * a pipe is read by an event-loop handle (a `net.Socket` on the descriptor) with node's `onread` buffer, so
 * an idle pipe holds no thread and a shutdown does not wait for its writer (a blocking `fs.read` in the
 * thread pool kept `process.exit` waiting until the writer wrote again); a redirected file by reads at its
 * current offset. The next read waits until the consumer is done with the bytes of the last one, so a
 * pipe's writer blocks instead of bytes being lost or piling up in memory. docs/performance.md, "Session
 * 13: the daemon's memory" and "Session 14: `ca-shark` on stdin", has the figures.
 */
import { type Stats, closeSync, fstatSync, openSync, read } from 'node:fs';
import { type OnReadOpts, Socket, type SocketConstructorOpts } from 'node:net';
import { isatty } from 'node:tty';

/** The descriptor of standard input. */
export const STDIN_FD = 0;

/** Bytes of the buffer every read of a {@link DescriptorReader} goes into. */
export const DESCRIPTOR_CHUNK_BYTES = 1024 * 1024;

/**
 * What a descriptor is, as far as reading a capture from it goes:
 * - `pipe`: a FIFO (a shell's pipe), read by {@link DescriptorReader};
 * - `file`: a regular file (a shell's `< FILE`), read by {@link DescriptorReader} from its current offset;
 * - `directory`: nothing to read (node's stream would read it as empty input): to be refused;
 * - `terminal`: no capture will come from a keyboard: to be refused or read through `process.stdin`;
 * - `other`: a socket (node's own child pipes are socket pairs), a device, or a descriptor that cannot be
 *   examined (closed): read through `process.stdin`, which handles each of those.
 */
export type DescriptorKind = 'pipe' | 'file' | 'directory' | 'terminal' | 'other';

/** What {@link examineDescriptor} found. */
export interface DescriptorInfo {
  readonly kind: DescriptorKind;
  /** Bytes of a regular file, from its start (the descriptor's offset is not known); -1 for other kinds. */
  readonly size: number;
}

/**
 * Examines descriptor `fd` (default standard input) without reading it. For standard input, call this
 * before touching `process.stdin`: making that stream switches a pipe to non-blocking mode, and it is not
 * needed when the descriptor is read by a {@link DescriptorReader}.
 */
export function examineDescriptor(fd: number = STDIN_FD): DescriptorInfo {
  let info: Stats;
  try {
    info = fstatSync(fd);
  } catch {
    // A closed descriptor: process.stdin reports it (node reopens a closed stdin as /dev/null).
    return { kind: 'other', size: -1 };
  }
  if (info.isDirectory()) return { kind: 'directory', size: -1 };
  if (isatty(fd)) return { kind: 'terminal', size: -1 };
  if (info.isFIFO()) return { kind: 'pipe', size: -1 };
  if (info.isFile()) return { kind: 'file', size: info.size };
  return { kind: 'other', size: -1 };
}

/** Where a {@link DescriptorReader} hands what it reads. */
export interface DescriptorReaderHandler {
  /**
   * The bytes of one read: a view of the reader's one buffer, which the next read overwrites. They stay
   * as they are until the returned promise settles, or, when nothing is returned, until this call
   * returns (a consumer that keeps bytes past that must copy them). The next read starts after that.
   */
  data(bytes: Uint8Array): PromiseLike<void> | undefined;
  /** The input ended (its writer closed the pipe, or the file's end). Nothing is called after it. */
  end(): void;
  /** A read failed (`EIO`, `EBADF` for a descriptor open for writing only): the input ends there, without {@link end}. */
  error(err: Error): void;
}

/** The highest of the process's stdio descriptors (stderr): libuv never closes those. */
const STDERR_FD = 2;

/**
 * Reads a pipe or a regular file descriptor (see {@link examineDescriptor}) into one reused buffer and
 * hands each read to a {@link DescriptorReaderHandler}, one read at a time. {@link stop} ends it at once,
 * even while a pipe is idle, and leaves the descriptor open; at a pipe's end node's socket closes it (as
 * `process.stdin` does) before the handler's `end`, a file's stays open.
 */
export class DescriptorReader {
  private stopped = false;
  private socket: Socket | undefined;
  private readonly buffer: Uint8Array;

  constructor(
    private readonly fd: number,
    private readonly kind: 'pipe' | 'file',
    private readonly handler: DescriptorReaderHandler,
    chunkBytes: number = DESCRIPTOR_CHUNK_BYTES,
  ) {
    this.buffer = new Uint8Array(chunkBytes);
  }

  /** Starts reading; the handler is called from the event loop, never from inside this call. */
  start(): void {
    if (this.kind === 'pipe') this.readPipe();
    else void this.readFile().catch((err: unknown) => this.failed(err));
  }

  /** Stops reading: no handler call after this. The descriptor stays open (it may be the process's stdin). */
  stop(): void {
    this.stopped = true;
    const socket = this.socket;
    if (socket !== undefined) {
      socket.pause();
      // Not destroyed: that would close the descriptor. Unreferenced, it keeps nothing alive.
      socket.unref();
    }
  }

  /**
   * Stops reading for good and closes a pipe's descriptor (node's socket closes it), so that its writer is
   * not left blocked on a full pipe for ever but gets EPIPE (a `tcpdump -w - | ...` whose capture the consumer
   * stopped reading at corrupt framing). A file's descriptor stays open: nobody waits on it.
   */
  close(): void {
    this.stop();
    const socket = this.socket;
    if (socket === undefined) return;
    if (this.fd <= STDERR_FD) {
      // libuv never closes descriptors 0-2 (a process's stdio): closed here once the socket let go of it,
      // and /dev/null takes the number back (as a daemon's stdin often is), so no file opened later is taken
      // for stdin.
      socket.once('close', () => {
        closeSync(this.fd);
        const devNull = openSync('/dev/null', 'r');
        if (devNull !== this.fd) closeSync(devNull);
      });
    }
    socket.destroy();
  }

  private failed(err: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.handler.error(err instanceof Error ? err : new Error(String(err)));
  }

  private readPipe(): void {
    // node takes `onread` in the constructor as in `connect` (its types name it for `connect` only).
    const options: SocketConstructorOpts & { onread: OnReadOpts } = {
      fd: this.fd,
      readable: true,
      writable: false,
      onread: {
        buffer: this.buffer,
        callback: (n: number, buffer: Uint8Array): boolean => {
          if (this.stopped) return false;
          const wait = this.handler.data(buffer.subarray(0, n));
          // The handler may have stopped the reading (its consumer takes no more).
          if (this.stopped) return false;
          if (wait === undefined) return true;
          wait.then(
            () => {
              if (!this.stopped) socket.resume();
            },
            (err: unknown) => this.failed(err),
          );
          // Paused until the consumer is done with these bytes.
          return false;
        },
      },
    };
    const socket = new Socket(options);
    this.socket = socket;
    // The end is told once node's socket has closed the descriptor after it (as `process.stdin` does): a
    // caller that then opens another file may be given the same number.
    socket.once('close', () => {
      if (this.stopped) return;
      this.stopped = true;
      this.handler.end();
    });
    // Every error, not only the first: a socket stopped (paused, not destroyed) can still fail its read once
    // its descriptor is closed elsewhere, and an 'error' with no listener would end the process.
    socket.on('error', (err) => this.failed(err));
    // The data goes to `onread`; the stream itself only has to flow to see the end.
    socket.resume();
  }

  private async readFile(): Promise<void> {
    const buffer = this.buffer;
    const size = buffer.length;
    for (;;) {
      const n = await new Promise<number>((resolve, reject) => {
        read(this.fd, buffer, 0, size, null, (err, count) => (err !== null ? reject(err) : resolve(count)));
      });
      if (this.stopped) return;
      if (n === 0) break;
      // Either way the event loop turns between reads (a daemon's HTTP and WebSocket work gets its turn).
      await (this.handler.data(buffer.subarray(0, n)) ?? new Promise<void>((resolve) => setImmediate(resolve)));
      if (this.stopped) return;
    }
    this.stopped = true;
    this.handler.end();
  }
}

/**
 * The chunks of a pipe or regular file descriptor as an async iterator (for `shark()`, `readPackets()`
 * and other consumers of a {@link CaptureInput}), read by a {@link DescriptorReader} into its one buffer.
 * A chunk is a view of that buffer: it stays as it is until the consumer asks for the next one, so it
 * must be used, or copied, before that (the capture reader copies what it holds across chunks unless
 * told `stableInput`, which such a stream must not be). Ending the iteration early (`break`, `return()`)
 * stops the reading and leaves the descriptor open (a pipe's is closed at its end, see
 * {@link DescriptorReader}). A read error rejects the pending `next()`.
 */
export class DescriptorChunks implements AsyncIterableIterator<Uint8Array> {
  /** Bytes handed out so far. */
  bytesRead = 0;
  private readonly reader: DescriptorReader;
  private started = false;
  private done = false;
  private failure: Error | null = null;
  /** A chunk read before the consumer asked for it. */
  private ready: Uint8Array | null = null;
  /** The consumer's pending `next()`. */
  private waiting: { resolve: (r: IteratorResult<Uint8Array, undefined>) => void; reject: (e: Error) => void } | null =
    null;
  /** Lets the reader read again: called when the consumer asks for the chunk after the last one handed out. */
  private release: (() => void) | null = null;

  constructor(fd: number, kind: 'pipe' | 'file', chunkBytes?: number) {
    this.reader = new DescriptorReader(
      fd,
      kind,
      {
        data: (bytes) => {
          const waiting = this.waiting;
          if (waiting !== null) {
            this.waiting = null;
            this.bytesRead += bytes.length;
            waiting.resolve({ done: false, value: bytes });
          } else this.ready = bytes;
          return new Promise<void>((resolve) => (this.release = resolve));
        },
        end: () => this.finish(null),
        error: (err) => this.finish(err),
      },
      chunkBytes,
    );
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array, undefined>> {
    // The consumer is done with the last chunk: the reader may overwrite it.
    const release = this.release;
    this.release = null;
    release?.();
    const ready = this.ready;
    if (ready !== null) {
      this.ready = null;
      this.bytesRead += ready.length;
      return Promise.resolve({ done: false, value: ready });
    }
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      this.done = true;
      return Promise.reject(failure);
    }
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    if (!this.started) {
      this.started = true;
      this.reader.start();
    }
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  return(): Promise<IteratorResult<Uint8Array, undefined>> {
    this.reader.stop();
    this.ready = null;
    this.release = null;
    this.failure = null;
    this.finish(null);
    return Promise.resolve({ done: true, value: undefined });
  }

  /** The input ended, by its end, a read error (`err`) or the consumer. */
  private finish(err: Error | null): void {
    if (this.done) return;
    const waiting = this.waiting;
    this.waiting = null;
    if (waiting === null) {
      if (err !== null) this.failure = err;
      else this.done = true;
      return;
    }
    this.done = true;
    if (err !== null) waiting.reject(err);
    else waiting.resolve({ done: true, value: undefined });
  }
}
