/**
 * Line output for a stream that may be a pipe to `head`: lines are batched into one write per burst of
 * records (flushed as soon as the event loop has nothing else to do, i.e. when the decoder waits for
 * more input), so a live `tcpdump -U -w - | ca-shark` prints each packet's messages at once while a
 * file is written in large blocks.
 */
import type { Writable } from 'node:stream';

/** Flush early when this many characters are waiting. */
const FLUSH_CHARS = 64 * 1024;

/** Batches lines and writes them to a stream. */
export class LineWriter {
  private chunks: string[] = [];
  private chars = 0;
  private scheduled = false;
  private blocked = false;
  private closed = false;

  constructor(private readonly stream: Writable) {}

  /** Queue one line (a newline is added). */
  line(text: string): void {
    if (this.closed) return;
    this.chunks.push(text, '\n');
    this.chars += text.length + 1;
    if (this.chars >= FLUSH_CHARS) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Write everything queued now. */
  flush(): void {
    if (this.chunks.length === 0 || this.closed) return;
    const text = this.chunks.join('');
    this.chunks = [];
    this.chars = 0;
    if (!this.stream.write(text)) this.blocked = true;
  }

  /** Resolves when the stream can take more (immediately unless a write reported back-pressure). */
  async ready(): Promise<void> {
    if (!this.blocked || this.closed) return;
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
    this.closed = true;
    this.chunks = [];
  }

  /** Flush and wait until the stream has taken everything. */
  async end(): Promise<void> {
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
