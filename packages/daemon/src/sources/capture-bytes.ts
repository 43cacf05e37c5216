import { CaptureReader, type CaptureFrame, type PacketProblem } from '@ca-shark/packet';
import { DaemonError } from '../errors.js';
import type { SourceSink } from './types.js';

/** Reader problem codes that mean "this input is not a capture at all". */
const NOT_A_CAPTURE = new Set(['not-a-capture', 'unsupported-format']);

/**
 * Turns pcap/pcapng bytes into frames for a sink (stdin and file replay). `onFrame` may be replaced to
 * pace frames (file replay at capture speed).
 */
export class CaptureBytes {
  private readonly reader: CaptureReader;
  private fatal: DaemonError | undefined;

  constructor(
    private readonly what: string,
    private readonly sink: SourceSink,
    onFrame: (frame: CaptureFrame) => void = (f) => sink.frame(f.linktype, f.timestamp, copy(f.data), f.origlen),
  ) {
    this.reader = new CaptureReader({
      frame: onFrame,
      problem: (p: PacketProblem) => this.onProblem(p),
    });
  }

  /** True once the format is recognised. */
  get recognised(): boolean {
    return this.reader.header !== undefined;
  }

  /** The fatal problem (not a capture), if one was seen. */
  get error(): DaemonError | undefined {
    return this.fatal;
  }

  push(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  end(): void {
    this.reader.end();
  }

  private onProblem(p: PacketProblem): void {
    if (NOT_A_CAPTURE.has(p.code) && this.fatal === undefined) {
      this.fatal = new DaemonError('bad-capture', `${this.what} is not a capture ca-sharkd can read: ${p.message}`);
      this.sink.error(this.fatal);
      return;
    }
    this.sink.problem({ frame: p.frame, code: p.code, message: p.message });
  }
}

/**
 * The reader's frame data may be a view into the chunk it was given; the decoder keeps slices of
 * frames (TCP reassembly, raw bytes), so frames are copied out before the chunk buffer is reused.
 */
function copy(data: Uint8Array): Uint8Array {
  return data.slice();
}
