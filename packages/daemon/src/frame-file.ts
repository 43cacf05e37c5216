/**
 * The replayed file behind the packet ring of `ca-sharkd -r FILE` (packet-ring.ts): the ring keeps each
 * frame's place in the file (the offset of its captured bytes) instead of a copy, and `GET /api/pcap`
 * reads the frames back from here when it writes an export (pcap-export.ts).
 *
 * The file is opened once, when the decoding worker starts, and kept open: a file removed or renamed over
 * while the daemon serves it is still read whole (the descriptor keeps its inode). A file changed in place
 * would give other bytes at the same places, so the export checks, before it reads, that the file's size
 * and modification time are those it had when it was opened, and after it reads, that every
 * frame's bytes give the check word the ring took when the frame was decoded ({@link frameCheck}); either
 * failing, the export stops with a {@link ChangedFileError}, never writing wrong bytes.
 */
import { type Stats, closeSync, constants, fstat, fstatSync, openSync, read, readSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import type { SpoolShare } from './sources/spool.js';

const fstatAsync = promisify(fstat);
const readAsync = promisify(read);

/** Bytes of a frame's end that its check word covers (with its length). */
const CHECK_BYTES = 16;
/** FNV-1a, 32-bit. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * A frame's check word: a hash of its length and its last {@link CHECK_BYTES} bytes (a CA frame's last
 * bytes are its payload, which differs from frame to frame; its first ones, addresses and ports, repeat). Cheap
 * enough for every frame the ring stores, and a frame read back from a changed file, or from a wrong place,
 * gives another word but for one time in 2^32.
 */
export function frameCheck(data: Uint8Array): number {
  const end = data.length;
  let h = Math.imul(FNV_OFFSET ^ end, FNV_PRIME);
  for (let i = end > CHECK_BYTES ? end - CHECK_BYTES : 0; i < end; i++) h = Math.imul(h ^ data[i], FNV_PRIME);
  return h >>> 0;
}

/** The export cannot go on: the replayed file is not the one whose frames the ring placed. */
export class ChangedFileError extends Error {
  constructor(path: string, what: string) {
    super(`${path} changed since it was replayed (${what}): its packets can no longer be exported`);
    this.name = 'ChangedFileError';
  }
}

/** A frame to read back: where its captured bytes are, and its check word. */
export interface PlacedFrame {
  frame: number;
  place: number;
  caplen: number;
  check: number;
}

/**
 * Reads go by runs of frames: frames closer than this in the file are read in one read, gap included (a
 * read is a trip through libuv's thread pool, tens of µs; 64 KiB from the page cache cost a few).
 */
const MAX_GAP_BYTES = 64 * 1024;
/**
 * Gap bytes one {@link FrameFile.read} reads through at most: past it, runs are cut at every gap. Without
 * it, a sparse selection (one small frame in every few KiB: a `pv=` export among other PVs' traffic) read
 * the whole stretch of file between its frames, tens of MiB for a run of 1 MiB of frames, into a buffer
 * kept for the daemon's life.
 */
const MAX_GAP_TOTAL_BYTES = 1024 * 1024;
/** The most places the packet ring goes between two looks at a spool's floor (see FrameReader.floorStep). */
const MAX_FLOOR_STEP = 1024 * 1024;

/**
 * What tells the file's contents changed since it was opened. Device and inode are not needed: the
 * descriptor stays on the inode it was opened on, whatever the path names later.
 */
interface Identity {
  size: number;
  mtimeMs: number;
}

const identityOf = (s: Stats): Identity => ({ size: s.size, mtimeMs: s.mtimeMs });

/**
 * Where the packet ring reads frames back from by their place: a replayed file ({@link FrameFile}) or stdin's
 * spool ({@link SpoolFile}).
 */
export interface FrameReader {
  /** What the messages name it. */
  readonly path: string;
  /** Throws a {@link ChangedFileError} when the frames can no longer be read back as they were placed. */
  verify(): Promise<void>;
  /**
   * The captured bytes of `frames` (in place order), as views of a buffer reused by the next call: copy what
   * must outlive it. Undefined for a frame whose bytes are gone (a spool overwrote them); throws on a frame
   * whose bytes are not those decoded.
   */
  read(frames: readonly PlacedFrame[]): Promise<(Uint8Array | undefined)[]>;
  /** The captured bytes of one frame, synchronously (a new array), or undefined as said of {@link read}. */
  readSync(frame: PlacedFrame): Uint8Array | undefined;
  /**
   * Places below this are gone (a spool's oldest bytes, overwritten); the ring lets go of their frames. 0 for
   * a file, whose places hold.
   */
  floor(): number;
  /**
   * Places the ring goes between two looks at {@link floor} (an atomic load for a spool): frames below it are
   * let go up to this late, and the export leaves out any it then finds overwritten. Infinity for a file.
   */
  readonly floorStep: number;
}

/**
 * The run-by-run reading of frames by place, shared by a replayed file and the spool: each gives how a
 * stretch of places is read ({@link readAt}, {@link readAtSync}).
 */
abstract class PlacedReader {
  /**
   * Reused for reads (the export copies each frame into its pcapng block before the next read); undefined
   * while a read has it in flight: a read that starts meanwhile (a second export at the same time) reads
   * into a buffer of its own, since the reads of both would otherwise land in the same bytes.
   */
  private buffer: Uint8Array | undefined = new Uint8Array(0);

  constructor(readonly path: string) {}

  /** Fills `into` with the bytes from place `position` on; resolves with the bytes read. */
  protected abstract readAt(into: Uint8Array, position: number): Promise<number>;
  /** {@link readAt}, synchronously. */
  protected abstract readAtSync(into: Uint8Array, position: number): number;
  /** Places below this are gone (see {@link FrameReader.floor}). */
  abstract floor(): number;
  /** Throws when the source is no longer as it was when its frames were placed. */
  abstract verify(): Promise<void>;
  protected abstract verifySync(): void;

  async read(frames: readonly PlacedFrame[]): Promise<(Uint8Array | undefined)[]> {
    await this.verify();
    // Runs of frames whose gaps are small, each read at once, laid end to end in the buffer.
    const runs: { first: number; start: number; length: number }[] = [];
    let total = 0;
    let gaps = 0;
    for (let i = 0; i < frames.length;) {
      const start = frames[i].place;
      let end = start + frames[i].caplen;
      let j = i + 1;
      for (; j < frames.length; j++) {
        const gap = frames[j].place - end;
        if (gap < 0 || gap > MAX_GAP_BYTES || gaps + gap > MAX_GAP_TOTAL_BYTES) break;
        gaps += gap;
        end = frames[j].place + frames[j].caplen;
      }
      runs.push({ first: i, start, length: end - start });
      total += end - start;
      i = j;
    }
    let buffer = this.buffer ?? new Uint8Array(0);
    const shared = this.buffer !== undefined;
    this.buffer = undefined;
    if (buffer.length < total) buffer = new Uint8Array(Math.max(total, buffer.length * 2));
    try {
      const got: number[] = [];
      let at = 0;
      for (const run of runs) {
        got.push(await this.readAt(buffer.subarray(at, at + run.length), run.start));
        at += run.length;
      }
      // Taken after the reads: a frame at or above it was not overwritten before or while it was read.
      const floor = this.floor();
      const out: (Uint8Array | undefined)[] = [];
      at = 0;
      for (let r = 0; r < runs.length; r++) {
        const run = runs[r];
        const last = r + 1 < runs.length ? runs[r + 1].first : frames.length;
        for (let i = run.first; i < last; i++) {
          const f = frames[i];
          const from = f.place - run.start;
          out.push(
            f.place < floor
              ? undefined
              : this.checked(f, buffer.subarray(at + from, at + Math.min(from + f.caplen, got[r]))),
          );
        }
        at += run.length;
      }
      return out;
    } finally {
      // Back for the next read (whose bytes replace these, as said above); one of a read that ran beside
      // another is let go.
      if (shared || this.buffer === undefined) this.buffer = buffer;
    }
  }

  /** Bytes of the buffer kept for reads (for tests: it stays about the size of one run of frames). */
  get readBufferBytes(): number {
    return this.buffer?.length ?? 0;
  }

  readSync(frame: PlacedFrame): Uint8Array | undefined {
    this.verifySync();
    const data = new Uint8Array(frame.caplen);
    const got = this.readAtSync(data, frame.place);
    return frame.place < this.floor() ? undefined : this.checked(frame, data.subarray(0, got));
  }

  /** Throws the error of a frame read back wrong. */
  protected wrong(what: string): Error {
    return new ChangedFileError(this.path, what);
  }

  private checked(frame: PlacedFrame, data: Uint8Array): Uint8Array {
    if (data.length < frame.caplen)
      throw this.wrong(`frame ${frame.frame} is cut short at byte ${frame.place + data.length}`);
    if (frameCheck(data) !== frame.check)
      throw this.wrong(`the bytes of frame ${frame.frame} differ from those decoded`);
    return data;
  }
}

/** The replayed file, open for reading back frames. */
export class FrameFile extends PlacedReader implements FrameReader {
  private fd: number | undefined;
  private readonly opened: Identity;

  private constructor(path: string, fd: number) {
    super(path);
    this.fd = fd;
    this.opened = identityOf(fstatSync(fd));
  }

  /**
   * Opens `path`; throws when it cannot, or when it is not a regular file (the caller then keeps copies of
   * frames). A FIFO (`-r <(tcpdump -w - ...)`, `mkfifo`) is never opened: a reader more could hold the pipe
   * open, or wait for its writer; O_NONBLOCK covers a path swapped for one after the check.
   */
  static open(path: string): FrameFile {
    if (!statSync(path).isFile()) throw new Error(`${path} is not a regular file`);
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) throw new Error(`${path} is not a regular file`);
      return new FrameFile(path, fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Size of the file when it was opened. */
  get size(): number {
    return this.opened.size;
  }

  /** A file's places hold. */
  floor(): number {
    return 0;
  }

  readonly floorStep = Infinity;

  /** Throws a {@link ChangedFileError} when the file is no longer as it was opened (see the module comment). */
  async verify(): Promise<void> {
    this.compare(identityOf(await fstatAsync(this.descriptor())));
  }

  /** {@link verify}, synchronously. */
  verifySync(): void {
    this.compare(identityOf(fstatSync(this.descriptor())));
  }

  /**
   * The captured bytes of `frames` (in file order), as views of a buffer reused by the next call: copy what
   * must outlive it. Checks the file first and every frame's check word after; throws a
   * {@link ChangedFileError} on any difference.
   */
  override async read(frames: readonly PlacedFrame[]): Promise<Uint8Array[]> {
    return (await super.read(frames)) as Uint8Array[];
  }

  /** The captured bytes of one frame, synchronously (a new array). */
  override readSync(frame: PlacedFrame): Uint8Array {
    return super.readSync(frame) as Uint8Array;
  }

  /** Closes the file (exports then fail). */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  protected readAt(into: Uint8Array, position: number): Promise<number> {
    return readFully(this.descriptor(), into, position);
  }

  protected readAtSync(into: Uint8Array, position: number): number {
    return readFullySync(this.descriptor(), into, position);
  }

  private descriptor(): number {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    return this.fd;
  }

  private compare(now: Identity): void {
    const was = this.opened;
    // A file that grew was appended to, most likely still being written (`tcpdump -w` beside the daemon, as
    // with `ca-shark -r` of a growing file): the bytes the replay read stay where they were, so it exports
    // as it did when frames were copies, each frame still checked by its check word. Its modification time
    // moves with every append, so only a file of the same size is held to it.
    if (now.size > was.size) return;
    if (now.size !== was.size)
      throw new ChangedFileError(this.path, `its size went from ${was.size} to ${now.size} bytes`);
    if (now.mtimeMs !== was.mtimeMs)
      throw new ChangedFileError(this.path, `modified at ${new Date(now.mtimeMs).toISOString()}`);
  }
}

/**
 * Stdin's spool (sources/spool.ts), read back through the descriptor the capture thread made it with (the
 * process's, so this thread's too; that thread owns it: it is never closed here). A place is an offset in
 * the stream read from stdin, at `place mod bytes` of the file; the stream's oldest bytes are overwritten as
 * the writer goes round, so a place below {@link floor} is gone, and a frame read while its bytes were
 * overwritten is left out (the floor is taken after the read).
 */
export class SpoolFile extends PlacedReader implements FrameReader {
  private readonly fd: number;
  private readonly bytes: number;
  private readonly end: BigInt64Array;
  /** A sixteenth of the spool, at most 1 MiB: the ring's frames lie at most that far below the floor. */
  readonly floorStep: number;

  constructor(share: SpoolShare) {
    super(`the spool of stdin in ${share.dir}`);
    this.fd = share.fd;
    this.bytes = share.bytes;
    this.end = new BigInt64Array(share.state);
    this.floorStep = Math.max(1, Math.min(MAX_FLOOR_STEP, Math.floor(share.bytes / 16)));
  }

  floor(): number {
    return Number(Atomics.load(this.end, 0)) - this.bytes;
  }

  /** Nothing else writes the spool: it has no name. */
  async verify(): Promise<void> {}

  protected verifySync(): void {}

  /** A spool read back wrong is the daemon's fault, not a change the user made: not a ChangedFileError. */
  protected override wrong(what: string): Error {
    return new Error(`${this.path} does not hold the frames placed in it (${what})`);
  }

  protected async readAt(into: Uint8Array, position: number): Promise<number> {
    // A stretch that runs past the file's end goes on at its start.
    let got = 0;
    while (got < into.length) {
      const at = (position + got) % this.bytes;
      const piece = Math.min(into.length - got, this.bytes - at);
      const n = await readFully(this.fd, into.subarray(got, got + piece), at);
      got += n;
      if (n < piece) break;
    }
    return got;
  }

  protected readAtSync(into: Uint8Array, position: number): number {
    let got = 0;
    while (got < into.length) {
      const at = (position + got) % this.bytes;
      const piece = Math.min(into.length - got, this.bytes - at);
      const n = readFullySync(this.fd, into.subarray(got, got + piece), at);
      got += n;
      if (n < piece) break;
    }
    return got;
  }
}

/** Fills `into` from `position` (several reads if the system returns fewer); returns the bytes read. */
async function readFully(fd: number, into: Uint8Array, position: number): Promise<number> {
  let got = 0;
  while (got < into.length) {
    const { bytesRead } = await readAsync(fd, into, got, into.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** {@link readFully}, synchronously. */
function readFullySync(fd: number, into: Uint8Array, position: number): number {
  let got = 0;
  while (got < into.length) {
    const n = readSync(fd, into, got, into.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
