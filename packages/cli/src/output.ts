/**
 * Line output for a stream that may be a pipe to `head`: lines are batched into one write per burst of
 * records (flushed as soon as the event loop has nothing else to do, i.e. when the decoder waits for
 * more input), so a live `tcpdump -U -w - | ca-shark` prints each packet's messages at once while a
 * file is written in large blocks.
 */
import type { Writable } from 'node:stream';
import type { CaRecord } from '@ca-shark/decoder';
import type { LineWrite } from './lines.js';
import { TextBuffer } from './text-buffer.js';

const NEWLINE = 0x0a;

/** Lines are written into a block of this size (it grows for a longer line)... */
const BLOCK_BYTES = 512 * 1024;
/**
 * ...which is written out once it holds this much. Each write costs a stream call and a system call
 * whatever its size: 256 KiB writes of realistic.pcap's 448 MB of `--json` took 21 ms of CPU into
 * /dev/null and 169 ms into a pipe, 64 KiB writes 78 and 214 ms. (A slow source is not held back by
 * it: what is queued is written whenever the event loop has nothing else to do.)
 */
const FLUSH_BYTES = 256 * 1024;
/** Pieces up to this length are copied by a loop. */
const SHORT_COPY = 64;
/** UTF-8 bytes per UTF-16 code unit at most: a line of n code units fits in 3n bytes. */
const MAX_UTF8_PER_UNIT = 3;

/** Blocks kept for reuse once the stream has written them (a pipe holds blocks until its reader reads). */
const SPARE_BLOCKS = 8;

/** An output block, and how many of its writes the stream has not finished. */
class Block extends TextBuffer {
  pending = 0;
}

/**
 * Batches lines and writes them to a stream. Lines are encoded into large byte blocks as they come
 * (no array of pieces joined into one huge string, then encoded again by the stream): one copy per
 * line, one write per block.
 */
export class LineWriter {
  private block = new Block(BLOCK_BYTES);
  /** Written blocks free for reuse. */
  private readonly spare: Block[] = [];
  private scheduled = false;
  /**
   * The scheduled flush. Cleared when the writer ends or closes: a run of `ca-shark` in a process that goes
   * on (tests, an embedding) otherwise kept each run's writer and its blocks through node's immediate list
   * (about 780 KB a `--json` run).
   */
  private immediate: NodeJS.Immediate | undefined = undefined;
  private blocked = false;
  private closed = false;

  constructor(private readonly stream: Writable) {}

  /** Queue one line (a newline is added). */
  line(text: string): void {
    if (this.closed) return;
    const worst = text.length * MAX_UTF8_PER_UNIT + 1;
    if (this.block.length + worst > BLOCK_BYTES) {
      this.flush();
      if (worst > BLOCK_BYTES) {
        // A line larger than a block (a JSON waveform, a long report line) goes out on its own.
        this.write(Buffer.from(text + '\n', 'utf8'));
        return;
      }
    }
    this.block.text(text);
    this.endLine();
  }

  /** Queue the line that `write` writes for `record` (a newline is added). */
  record(write: LineWrite, record: CaRecord): void {
    if (this.closed) return;
    write(this.block, record);
    this.endLine();
  }

  private endLine(): void {
    this.block.byte(NEWLINE);
    if (this.block.length >= FLUSH_BYTES) this.flush();
    else this.schedule();
  }

  /** Flush once the event loop has nothing else to do. */
  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Drops the scheduled flush: end() flushes at once, and a closed writer writes nothing. */
  private unschedule(): void {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.scheduled = false;
  }

  /** Queue bytes that are whole lines already (formatted by another thread), after the lines queued. */
  bytes(data: Uint8Array): void {
    if (this.closed || data.length === 0) return;
    if (this.block.length + data.length <= BLOCK_BYTES) {
      this.block.reserve(data.length);
      this.block.bytes.set(data, this.block.length);
      this.block.length += data.length;
    } else {
      this.flush();
      this.write(Buffer.from(data.buffer, data.byteOffset, data.length));
      return;
    }
    if (this.block.length >= FLUSH_BYTES) this.flush();
    else this.schedule();
  }

  /**
   * Queue `data[start..end)`, part of whole lines (formatted apart, by two threads), after what is queued.
   * Always copied: `data` is reused once this returns.
   */
  copy(data: Uint8Array, start: number, end: number): void {
    if (this.closed) return;
    while (start < end) {
      let block = this.block;
      if (block.length >= BLOCK_BYTES) {
        this.flush();
        block = this.block;
      }
      const n = Math.min(end - start, BLOCK_BYTES - block.length);
      block.reserve(n);
      const bytes = block.bytes;
      const at = block.length;
      // `set()` of a subarray costs more than a loop over the bytes of a short piece.
      if (n <= SHORT_COPY) for (let i = 0; i < n; i++) bytes[at + i] = data[start + i];
      else bytes.set(data.subarray(start, start + n), at);
      block.length = at + n;
      start += n;
    }
    if (this.block.length >= FLUSH_BYTES) this.flush();
    else this.schedule();
  }

  /** Write everything queued now. */
  flush(): void {
    if (this.block.length === 0 || this.closed) return;
    const block = this.block;
    block.pending++;
    if (!this.stream.write(block.bytes.subarray(0, block.length), () => this.written(block))) this.blocked = true;
    // A file or /dev/null takes the bytes at once (nothing left buffered in the stream): the block is
    // refilled, so its memory is reused instead of a new block per write. Otherwise the stream holds
    // on to the bytes until they are written, and the next block is a spare one the stream has written
    // (a pipe to a slower reader would otherwise leave a trail of 128 KiB blocks for the collector).
    if (this.stream.writableLength === 0 && block.bytes.length === BLOCK_BYTES) block.length = 0;
    else this.block = this.spare.pop() ?? new Block(BLOCK_BYTES);
  }

  /** A write of `block` is done: once no write of it is pending, and it is not being filled, it is spare. */
  private written(block: Block): void {
    block.pending--;
    if (block.pending > 0 || block === this.block || block.bytes.length !== BLOCK_BYTES) return;
    if (this.spare.length < SPARE_BLOCKS && !this.closed) {
      block.length = 0;
      this.spare.push(block);
    }
  }

  private write(bytes: Buffer): void {
    if (!this.stream.write(bytes)) this.blocked = true;
  }

  /** Resolves when the stream can take more (immediately unless a write reported back-pressure). */
  async ready(): Promise<void> {
    if (!this.blocked || this.closed) return;
    // The 'drain' of a write made from the setImmediate flush may already have been emitted: waiting for
    // another would never end, and with nothing else pending node would exit 0 with the output cut short.
    if (this.stream.writableNeedDrain !== true) {
      this.blocked = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('drain', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.once('drain', done);
      this.stream.once('close', done);
    });
    this.blocked = false;
  }

  /** True when a write reported back-pressure that has not drained yet. */
  get needsDrain(): boolean {
    return this.blocked;
  }

  /** Stop writing (the reader went away). */
  close(): void {
    this.unschedule();
    this.closed = true;
    this.block.length = 0;
  }

  /** Flush and wait until the stream has taken everything. */
  async end(): Promise<void> {
    this.unschedule();
    this.flush();
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      if (this.stream.writableNeedDrain) {
        this.stream.once('drain', () => resolve());
        this.stream.once('close', () => resolve());
      } else resolve();
    });
  }
}
