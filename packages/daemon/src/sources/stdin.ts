import type { Readable } from 'node:stream';
import { CaptureBytes } from './capture-bytes.js';
import {
  type CaptureCounters,
  type Source,
  type SourceDescription,
  type SourceSink,
  inputLabel,
  zeroCounters,
} from './types.js';

/**
 * pcap or pcapng bytes from a stream (normally the daemon's stdin, e.g. `tcpdump -U -w - | ca-sharkd --stdin`),
 * decoded as they arrive so the dashboard is live, not at EOF. The stream is paused while the decoder is
 * behind (the sink's `waitForRoom`), so the writer of the pipe blocks instead of frames being lost.
 */
export class StreamSource implements Source {
  readonly description: SourceDescription;
  private readonly input: Readable;
  private bytes: CaptureBytes | undefined;
  private sink: SourceSink | undefined;
  private readonly onData = (chunk: Buffer): void => {
    const bytes = this.bytes;
    if (bytes === undefined) return;
    bytes.push(chunk);
    const room = this.sink?.waitForRoom?.();
    if (room === undefined) return;
    this.input.pause();
    void room.then(() => {
      if (this.sink !== undefined) this.input.resume();
    });
  };
  private readonly onEnd = (): void => {
    this.bytes?.end();
    this.sink?.end();
  };
  private readonly onError = (err: Error): void => {
    this.sink?.error(err);
  };

  constructor(input: Readable, description: SourceDescription = { kind: 'stdin' }) {
    this.input = input;
    this.description = description;
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    this.bytes = new CaptureBytes(inputLabel(this.description), sink);
    this.input.on('data', this.onData);
    this.input.once('end', this.onEnd);
    this.input.once('error', this.onError);
  }

  async stop(): Promise<void> {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('error', this.onError);
    this.input.pause();
    // A paused stdin still holds a handle that would keep the process alive after shutdown.
    const handle = this.input as Readable & { unref?: () => void };
    if (typeof handle.unref === 'function') handle.unref();
    this.sink = undefined;
  }

  counters(): CaptureCounters {
    return zeroCounters();
  }
}
