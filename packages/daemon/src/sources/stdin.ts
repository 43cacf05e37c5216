import { DescriptorReader } from '@ca-shark/packet';
import type { Readable } from 'node:stream';
import { CaptureBytes } from './capture-bytes.js';
import type { Spool, SpoolShare, SpoolStatus } from './spool.js';
import {
  type CaptureCounters,
  type Source,
  type SourceDescription,
  type SourceSink,
  endAfterReadError,
  inputLabel,
  zeroCounters,
} from './types.js';

/**
 * Hands the chunks a stdin source reads to the capture reader, each after writing it to the spool when
 * there is one (see spool.ts: a chunk is decoded only once it is in the file, and without places once the
 * spool has stopped).
 */
class ChunkFeed {
  /** The latest chunk's write and push (with a spool): the input's end waits for it. */
  private pushed: Promise<void> | undefined;
  /** Set once the input has ended (its end, or the capture reader stopped): `end` tells the sink once. */
  private ended = false;

  constructor(
    private readonly bytes: CaptureBytes,
    private readonly spool: Spool | undefined,
    private readonly sink: () => SourceSink | undefined,
    /** False once the source stopped: a chunk whose write ends after that is not pushed. */
    private readonly live: () => boolean,
    /**
     * Stops the source's reading: the capture reader stopped at corrupt framing (no capture magic, a
     * block length no capture has) and would discard the rest.
     */
    private readonly stopReading: () => void,
  ) {}

  /**
   * Hands over `chunk`, which must not change until what is returned resolves: undefined when the next
   * chunk may be read at once, or what to wait for first (the spool's write, then the decoder's room).
   */
  push(chunk: Uint8Array): Promise<void> | undefined {
    const spool = this.spool;
    if (spool === undefined) {
      this.pushToReader(chunk);
      return this.ended ? undefined : this.sink()?.waitForRoom?.();
    }
    const pushed = spool.append(chunk).then((at) => {
      if (!this.live()) return;
      if (at < 0) this.bytes.stopPlaces();
      this.pushToReader(chunk);
    });
    this.pushed = pushed;
    return pushed.then(() => (this.ended ? undefined : this.sink()?.waitForRoom?.()));
  }

  /** The input ended: the reader and the sink are told once the last chunk is pushed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const finish = (): void => {
      this.bytes.end();
      this.sink()?.end();
    };
    if (this.pushed === undefined) finish();
    else void this.pushed.then(finish);
  }

  /**
   * Pushes `chunk` to the capture reader. Once the reader takes no more (its error is told already), the
   * input ends there instead of at the writer's end: `tcpdump -w - | ca-sharkd --stdin --exit-on-eof` of a
   * corrupt capture would otherwise wait for ever, and the rest would be discarded anyway.
   */
  private pushToReader(chunk: Uint8Array): void {
    this.bytes.push(chunk);
    // After `end` (a chunk whose spool write ended after the input's end) the end is on its way already.
    if (!this.bytes.finished || this.ended) return;
    this.stopReading();
    this.ended = true;
    this.bytes.end();
    this.sink()?.end();
  }
}

/**
 * What the two stdin sources share: the sink they feed, stdin's spool when there is one, and the
 * {@link ChunkFeed} that hands their chunks to a capture reader. A source is live from `start` until `stop`
 * (`sink` set): no chunk is pushed after that.
 */
abstract class StdinSource implements Source {
  readonly description: SourceDescription;
  protected sink: SourceSink | undefined;
  private readonly currentSink = (): SourceSink | undefined => this.sink;
  private readonly live = (): boolean => this.sink !== undefined;

  constructor(
    description: SourceDescription,
    private readonly spoolWriter: Spool | undefined,
  ) {
    this.description = description;
  }

  get spool(): SpoolShare | undefined {
    return this.spoolWriter?.share;
  }

  /** Stdin's spool that could not be made (server.ts): said in the stats, as a stopped one is. */
  spoolUnmade: SpoolStatus | undefined;

  get spoolStatus(): SpoolStatus | undefined {
    return this.spoolWriter?.status ?? this.spoolUnmade;
  }

  release(): void {
    this.spoolWriter?.close();
  }

  abstract start(sink: SourceSink): Promise<void>;
  abstract stop(): Promise<void>;

  counters(): CaptureCounters {
    return zeroCounters();
  }

  /** Starts feeding `sink`: the feed its reads go to. */
  protected startFeed(sink: SourceSink): ChunkFeed {
    this.sink = sink;
    const bytes = new CaptureBytes(inputLabel(this.description), sink, undefined, {
      places: this.spoolWriter !== undefined,
    });
    return new ChunkFeed(bytes, this.spoolWriter, this.currentSink, this.live, () => this.stopReading());
  }

  /** Reads no more of the input (the capture reader stopped; the sink stays, to be told the end). */
  protected abstract stopReading(): void;

  /** A read failed: reported, and the input ended there (see {@link endAfterReadError}). */
  protected readFailed(err: Error): void {
    if (this.sink !== undefined) endAfterReadError(this.sink, err);
  }
}

/**
 * pcap or pcapng bytes from a stream (a test's pipe, or stdin where it cannot be read directly, see
 * {@link DescriptorSource}), decoded as they arrive so the dashboard is live, not at EOF. The stream is read
 * in paused mode (`'readable'` and `read()`), one chunk after another, and not again while a chunk's spool
 * write or the decoder's room (the sink's `waitForRoom`) is awaited: the stream's buffer fills and its
 * writer blocks instead of frames being lost.
 *
 * Not in flowing mode (`'data'`, paused while waiting): anyone may resume a stream, and node does so
 * itself to a child process's stdout once the child has exited (to drain it), so a stream paused for the
 * spool went on emitting chunks; their spool writes ran alongside the waited-for one at the same offset,
 * and a later chunk whose write was done first reached the capture reader first. A loaded CI run of
 * `cat FILE` into the daemon lost its last 156 packets so (one read as malformed, the rest behind corrupt
 * framing). A stream with a `'readable'` listener stays paused whoever resumes it.
 */
export class StreamSource extends StdinSource {
  private readonly input: Readable;
  private feed: ChunkFeed | undefined;
  /** From `start` until the reading stops (`stop`, or the capture reader stopped). */
  private reading = false;
  /** A chunk's spool write or the decoder's room is awaited: nothing more is read until then. */
  private waiting = false;
  private readonly onReadable = (): void => this.readOn();
  private readonly onEnd = (): void => this.feed?.end();
  private readonly onError = (err: Error): void => this.readFailed(err);

  constructor(input: Readable, description: SourceDescription = { kind: 'stdin' }, spool?: Spool) {
    super(description, spool);
    this.input = input;
  }

  async start(sink: SourceSink): Promise<void> {
    this.feed = this.startFeed(sink);
    this.reading = true;
    this.input.on('readable', this.onReadable);
    this.input.once('end', this.onEnd);
    this.input.once('error', this.onError);
  }

  async stop(): Promise<void> {
    this.stopReading();
    this.sink = undefined;
  }

  protected stopReading(): void {
    this.reading = false;
    this.input.off('readable', this.onReadable);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onError);
    this.input.pause();
    // A paused stdin still holds a handle that would keep the process alive after shutdown.
    const handle = this.input as Readable & { unref?: () => void };
    if (typeof handle.unref === 'function') handle.unref();
  }

  /**
   * Hands over what the stream holds until it holds nothing more (`'readable'` comes again when it does,
   * or `'end'`: only once all of it was read) or a chunk has to be waited for.
   */
  private readOn(): void {
    while (this.reading && !this.waiting) {
      const chunk = this.input.read() as Buffer | null;
      if (chunk === null) return;
      const room = this.feed?.push(chunk);
      if (room === undefined) continue;
      this.waiting = true;
      void room.then(() => {
        this.waiting = false;
        this.readOn();
      });
    }
  }
}

/**
 * pcap or pcapng bytes from a file descriptor (the daemon's stdin: `tcpdump -U -w - | ca-sharkd --stdin`,
 * or `ca-sharkd --stdin < FILE`), read by the packet package's {@link DescriptorReader} into one buffer
 * reused for every read (why: its module's comment). The next chunk is read once the decoder has room (and,
 * with a spool, once the chunk is in the spool), so the writer of the pipe blocks instead of frames being
 * lost.
 */
export class DescriptorSource extends StdinSource {
  private reader: DescriptorReader | undefined;

  constructor(
    private readonly fd: number,
    private readonly kind: 'pipe' | 'file',
    description: SourceDescription = { kind: 'stdin' },
    spool?: Spool,
  ) {
    super(description, spool);
  }

  async start(sink: SourceSink): Promise<void> {
    const feed = this.startFeed(sink);
    this.reader = new DescriptorReader(this.fd, this.kind, {
      // With a spool, the buffer is not read into again before its write is done.
      data: (chunk) => feed.push(chunk),
      end: () => feed.end(),
      error: (err) => this.readFailed(err),
    });
    this.reader.start();
  }

  async stop(): Promise<void> {
    this.sink = undefined;
    this.reader?.stop();
  }

  protected stopReading(): void {
    // The capture reader stopped at corrupt framing: a pipe is closed too, so its writer gets EPIPE instead of
    // blocking for ever once the pipe is full (without --exit-on-eof the daemon serves on, the error told).
    this.reader?.close();
  }
}
