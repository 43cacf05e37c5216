import {
  CaptureReader,
  type CaptureFrame,
  type PacketProblem,
  inputErrorLine,
  isSupportedLinktype,
  isUnreadableInput,
  problemText,
  unsupportedLinktypeMessage,
} from '@ca-shark/packet';
import { DaemonError } from '../errors.js';
import type { SourceSink } from './types.js';

/** The packet pipeline's problem code for frames of a link type it cannot decode. */
const UNKNOWN_LINKTYPE = 'unknown-linktype';
/** Distinct unreadable-input errors reported per input (a corrupt file can repeat one per frame). */
const MAX_REPORTED = 100;
/** A frame's place when it has none (not asked for, or not found: see {@link CaptureBytes.placeOf}). */
export const NO_PLACE = -1;

/** Receives each frame and, when places are asked for, the file offset of its captured bytes. */
export type FrameHandler = (frame: CaptureFrame, place: number) => void;

/** Options of {@link CaptureBytes}. */
export interface CaptureBytesOptions {
  /**
   * The input is a file read from its start, pushed in order: give each frame its place (the offset of its
   * captured bytes in the file), for the packet ring of a replayed file (packet-ring.ts). Stdin with a spool
   * (spool.ts) is such a file: every chunk is written there, in order, before it is pushed.
   */
  places?: boolean;
}

/**
 * Turns pcap/pcapng bytes into frames for a sink (stdin and file replay). `onFrame` may be replaced to
 * pace frames (file replay at capture speed).
 *
 * Problems that make the input unreadable (not a capture, cut short, corrupt framing) go to the sink's
 * `error` as a DaemonError worded like `ca-shark`'s error about the same input, once per distinct message;
 * other problems (one bad block) go to `problem`. Frames of a link type nothing decodes are reported here
 * too, per interface as `ca-shark` reports them: the decoding worker only sees frames, not their interfaces.
 */
export class CaptureBytes {
  private readonly reader: CaptureReader;
  private first: DaemonError | undefined;
  private readonly reported = new Set<string>();
  private framesSeen = 0;
  private places: boolean;
  /** The chunk being pushed, the file offset of its first byte, and that of the reader's held bytes. */
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private heldStart = 0;

  constructor(
    private readonly label: string,
    private readonly sink: SourceSink,
    onFrame: FrameHandler = frameTo(sink),
    options: CaptureBytesOptions = {},
  ) {
    this.places = options.places === true;
    this.reader = new CaptureReader(
      {
        frame: (f) => {
          this.framesSeen += 1;
          if (!isSupportedLinktype(f.linktype)) this.unsupportedLinktype(f);
          onFrame(f, this.places ? this.placeOf(f.data) : NO_PLACE);
        },
        problem: (p: PacketProblem) => this.onProblem(p),
      },
      // Every frame handler here copies a frame's bytes before it returns (frameTo's sink, a paced file's
      // queue), so a record cut by a chunk's end is assembled in one reused buffer, not a new one each.
      { reusePending: true },
    );
  }

  /** True once the format is recognised. */
  get recognised(): boolean {
    return this.reader.header !== undefined;
  }

  /** The first problem that made the input unreadable, if any. */
  get error(): DaemonError | undefined {
    return this.first;
  }

  /**
   * True once the capture reader takes no more input: after {@link end}, or after corrupt framing it stops
   * at (its error told already); what is pushed then is discarded.
   */
  get finished(): boolean {
    return this.reader.finished;
  }

  /** Frames read so far. */
  get frames(): number {
    return this.framesSeen;
  }

  push(chunk: Uint8Array): void {
    if (this.places) {
      const pushed = this.reader.bytesPushed;
      this.chunk = chunk;
      this.chunkStart = pushed;
      // The reader holds back the start of a record cut by the previous chunk's end: the last bytes pushed.
      this.heldStart = pushed - this.reader.bufferedBytes;
    }
    this.reader.push(chunk);
  }

  /**
   * Where the frame whose captured bytes are `data` lies in the file. The reader hands a frame as a view of
   * the chunk being pushed, or, for the one record a chunk completes that the previous chunk began, as a view
   * of its own copy of that record, which starts where its held bytes started in the file (the copy starts
   * its buffer, reused from one such record to the next: offsets in it are offsets from there). Anything else, which the reader does not do, gets
   * no place (the ring then keeps a copy): a wrong place would export wrong bytes.
   */
  private placeOf(data: Uint8Array): number {
    const chunk = this.chunk;
    const end = this.chunkStart + chunk.length;
    let at: number;
    if (data.buffer === chunk.buffer) {
      const offset = data.byteOffset - chunk.byteOffset;
      if (offset < 0) return NO_PLACE;
      at = this.chunkStart + offset;
    } else {
      at = this.heldStart + data.byteOffset;
    }
    return at >= this.heldStart && at + data.length <= end ? at : NO_PLACE;
  }

  end(): void {
    this.reader.end();
  }

  /**
   * From the next push on, frames get no place: the chunks are no longer all in the file (stdin's spool
   * stopped). A record the last placed chunk began and the next completes gets none either.
   */
  stopPlaces(): void {
    this.places = false;
  }

  private unsupportedLinktype(f: CaptureFrame): void {
    const where = `interface ${f.interfaceId}`;
    this.onProblem(
      {
        type: 'problem',
        frame: f.frame,
        code: UNKNOWN_LINKTYPE,
        message: `frame ${f.frame}: ${unsupportedLinktypeMessage(where, f.linktype)}`,
      },
      `${f.section}/${where}/${f.linktype}`,
    );
  }

  /** `key` names what is reported once (default: the message). */
  private onProblem(p: PacketProblem, key?: string): void {
    if (!isUnreadableInput(p.code)) {
      this.sink.problem({ frame: p.frame, code: p.code, message: p.message });
      return;
    }
    const line = inputErrorLine(this.label, problemText(p));
    const once = key ?? line;
    if (this.reported.has(once) || this.reported.size >= MAX_REPORTED) return;
    this.reported.add(once);
    const err = new DaemonError('bad-capture', line);
    this.first ??= err;
    this.sink.error(err);
  }
}

/**
 * Hands each frame to `sink`. The reader's frame data may be a view into the chunk it was given, reused
 * for the next chunk: a sink that copies frames anyway (into a batch for the decoding worker) gets the
 * view, any other one a copy of its own (a second copy per frame was a fifth of the main thread's time
 * in `-r --speed max` and `--stdin` ingest).
 */
export function frameTo(sink: SourceSink): FrameHandler {
  const view = sink.frameView?.bind(sink);
  if (view !== undefined) return (f, place) => view(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId, place);
  return (f, place) => sink.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen, f.interfaceId, place);
}
