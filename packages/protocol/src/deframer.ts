/**
 * Deframing (reference §1.4, §2.3, §8): one {@link Deframer} per TCP direction turns a byte stream into
 * CA frames; {@link deframeDatagram} does the same for one UDP datagram, which must be exactly filled.
 */
import type { CaFault, CaFrame } from './types.js';
import type { StreamDirection } from './tables.js';
import { handOverMemory, uninitialisedBytes } from './dbr.js';
import {
  EXTENDED_HEADER_SIZE,
  EXTENDED_MARKER,
  HEADER_SIZE,
  HeaderOffset,
  headerFault,
  headerFaultMessage,
  u16,
  u32,
} from './header.js';

/** Receives each deframed message. The frame's byte views are valid during the call only. */
export type FrameCallback = (frame: CaFrame) => void;
/** Receives bytes that could not be read as CA. */
export type FaultCallback = (fault: CaFault) => void;

/**
 * Default cap on one message's payload: 16 MiB. Larger than any waveform commonly configured through
 * `EPICS_CA_MAX_ARRAY_BYTES`, small enough that a garbage header cannot make a stream buffer without bound.
 */
export const DEFAULT_MAX_PAYLOAD_SIZE = 16 * 1024 * 1024;
/** Default bytes of an over-cap payload kept in its truncated frame (enough for any DBR metadata). */
export const DEFAULT_OVERSIZE_PREFIX = 4096;
/** Bytes of a fault kept as its sample. */
export const FAULT_SAMPLE_SIZE = 64;

/** Options of the deframers. */
export interface DeframerOptions {
  /**
   * Messages with a larger payload are not buffered: the deframer emits a frame with the header and the
   * first `oversizePrefix` payload bytes, `truncated` set and anomaly 'payload-over-cap', and skips the
   * rest of the payload. Default {@link DEFAULT_MAX_PAYLOAD_SIZE}.
   */
  maxPayloadSize?: number;
  /** Which way the stream flows, when known for certain (see {@link Deframer.direction}). */
  direction?: StreamDirection;
  /** Payload bytes kept in such a frame. Default {@link DEFAULT_OVERSIZE_PREFIX}. */
  oversizePrefix?: number;
  /**
   * The first pushed byte may be inside a message (capture started mid-connection): start by
   * resynchronising instead of trusting the first bytes as a header. Same as calling `gap()` first.
   */
  midStream?: boolean;
  /**
   * Hand the whole frames of a push to `onFrame` in one frame object, its fields set anew for each
   * message, instead of a new object per message (truncated frames and frames with anomalies are still
   * new ones). Only for a consumer that keeps nothing of a frame after the callback returns, as the
   * decoder does: it spares an allocation per message (120 of the ~880 bytes the decoder allocates per
   * message). Default false.
   */
  reuseFrames?: boolean;
  /**
   * Assemble each message of {@link HAND_OVER_MIN} bytes or more that straddles pushes in memory of its
   * own instead of the reusable remainder buffer, and hand that memory to the message's frame: while
   * `onFrame` runs, {@link decodeCommand} (and {@link decodeDbr}) of the frame's payload may byte-swap its
   * numeric arrays in place and make them views of it instead of copies, so the frame's `payload` and
   * `bytes` no longer hold the message as it came once it is decoded. Only for a consumer that reads
   * nothing of a frame's bytes after decoding it and lets arrays have memory of their own, as the
   * decoder does unless it keeps bytes or lends arrays: it spares one copy of every large waveform that
   * straddles pushed chunks. Default false.
   */
  handOverLarge?: boolean;
}

/** Bytes after a known-size gap during which only on-phase resync candidates are accepted. */
const STRICT_PHASE_WINDOW = 64 * 1024;

/** A remainder buffer larger than this is released once empty. */
const REMAINDER_KEEP = 1 << 20;

/**
 * Messages (header included) at least this long are assembled apart with `handOverLarge`. Below it the
 * reusable remainder buffer is cheaper than memory of their own; from 256 DOUBLE elements up an array has
 * memory of its own anyway, which the message's memory then replaces.
 */
export const HAND_OVER_MIN = 4096;

const CONFIRMED = 0;
const REJECTED = -1;

/** Anomaly: extended header with a non-zero 16-bit count marker (libca/RSRV accept it). */
export const ANOMALY_DC16 = 'extended-header-dc16-nonzero';
/** Anomaly: payload above the size cap, not buffered. */
export const ANOMALY_OVER_CAP = 'payload-over-cap';
/** Anomaly: the message was cut by the end of a datagram or stream (snaplen, connection end). */
export const ANOMALY_CUT = 'message-cut';

/**
 * Stricter header shape used only while resynchronising. Zero-filled payloads (pads, zero values, failed
 * replies) are everywhere in CA streams and 16 zero bytes are a legal (NOOP) VERSION, so a bare §2.3
 * check would lock onto zeros. Here each command must look like what peers really send (§3): fields a
 * command leaves unused must be zero, header-only commands must have no payload.
 */
function resyncShapeOk(b: Uint8Array, p: number, cmd: number, ps: number, dt: number): boolean {
  const dc16 = u16(b, p + HeaderOffset.DATA_COUNT);
  const p1 = u32(b, p + HeaderOffset.PARAMETER1);
  const p2 = u32(b, p + HeaderOffset.PARAMETER2);
  switch (cmd) {
    case 0: // VERSION: priority/flag ≤ 99, a real minor, p2 unused
      return ps === 0 && dt <= 99 && dc16 >= 1 && dc16 < 100 && p2 === 0;
    case 2: // EVENT_CANCEL
    case 13: // beacon
    case 14: // NOT_FOUND
      return ps === 0;
    case 4: // WRITE carries data
      return ps > 0;
    case 8: // EVENTS_OFF, EVENTS_ON, READ_SYNC, ECHO: all zero
    case 9:
    case 10:
    case 23:
      return ps === 0 && dt === 0 && dc16 === 0 && p1 === 0 && p2 === 0;
    case 11: // ERROR: at least the embedded header
      return ps >= 16 && dt === 0 && dc16 === 0;
    case 12: // CLEAR_CHANNEL
      return ps === 0 && dt === 0 && dc16 === 0;
    case 17: // REPEATER_CONFIRM, REPEATER_REGISTER
    case 24:
      return ps === 0 && dt === 0 && dc16 === 0 && p1 === 0;
    case 18: // CREATE_CHAN: request with a name, or reply with a native type
      return ps > 0 ? dt === 0 && dc16 === 0 : dt <= 6;
    case 20: // CLIENT_NAME, HOST_NAME
    case 21:
      return ps > 0 && dt === 0 && dc16 === 0 && p1 === 0 && p2 === 0;
    case 22: // ACCESS_RIGHTS
      return ps === 0 && dt === 0 && dc16 === 0 && p2 <= 3;
    case 26: // CREATE_CH_FAIL, SERVER_DISCONN
    case 27:
      return ps === 0 && dt === 0 && dc16 === 0 && p2 === 0;
    default:
      return true;
  }
}

interface PendingFault {
  code: string;
  message: string;
  length: number;
  sample: Uint8Array;
  sampleLength: number;
  offset: number;
}

function makeFrame(
  buf: Uint8Array,
  o: number,
  headerSize: number,
  payloadSize: number,
  dataCount: number,
  payloadEnd: number,
): CaFrame {
  return new DeframedFrame(buf, o, headerSize, payloadSize, dataCount, payloadEnd);
}

/** The payload of every frame without one. Empty, so no consumer can change it. */
const NO_PAYLOAD = new Uint8Array(0);

/**
 * A {@link CaFrame} whose `bytes` and `payload` views are made on first use: the hot consumers (the DBR
 * decoder) read the payload in place through {@link payloadBuffer} and {@link payloadOffset}, and making
 * a typed-array view (about 100 ns) was the biggest cost per message of the deframer and of decoding
 * scalar monitor updates. Views are made by the constructor: subarray() looks up the species constructor
 * and costs twice as much. Both are plain Uint8Arrays even when the input is a Buffer.
 */
// The CaFrame fields come by declaration merging (no field declarations: the constructor assigns them in
// one order, and `truncated`/`anomalies` are added only to the few frames that have them).
interface DeframedFrame extends Omit<CaFrame, 'bytes' | 'payload'> {}
class DeframedFrame implements CaFrame {
  // Private names: no own properties besides CaFrame's, so frames compare and spread as plain ones did.
  /** The pushed bytes (or remainder buffer) holding the message, and where in them it starts. */
  // Set by refill(), which the constructor calls.
  #src!: Uint8Array;
  #at!: number;
  #payloadLength!: number;
  #bytes: Uint8Array | null = null;
  #payload: Uint8Array | null = null;

  constructor(
    buf: Uint8Array,
    o: number,
    headerSize: number,
    payloadSize: number,
    dataCount: number,
    payloadEnd: number,
  ) {
    DeframedFrame.refill(this, buf, o, headerSize, payloadSize, dataCount, payloadEnd);
  }

  /** Sets the fields of `frame` for the message at `buf[o]`: for a new frame, and again with `reuseFrames`. */
  static refill(
    frame: DeframedFrame,
    buf: Uint8Array,
    o: number,
    headerSize: number,
    payloadSize: number,
    dataCount: number,
    payloadEnd: number,
  ): DeframedFrame {
    frame.command = u16(buf, o + HeaderOffset.COMMAND);
    frame.payloadSize = payloadSize;
    frame.dataType = u16(buf, o + HeaderOffset.DATA_TYPE);
    frame.dataCount = dataCount;
    frame.parameter1 = u32(buf, o + HeaderOffset.PARAMETER1);
    frame.parameter2 = u32(buf, o + HeaderOffset.PARAMETER2);
    frame.headerSize = headerSize;
    // Stored only when it changes: the messages of a push share its bytes, a young view while a reused
    // frame is old, and each store was a write barrier's call.
    if (frame.#src !== buf) frame.#src = buf;
    frame.#at = o;
    frame.#payloadLength = payloadEnd - o - headerSize;
    frame.#bytes = null;
    frame.#payload = null;
    return frame;
  }

  /** The payload (`payloadSize` bytes unless cut), valid during the callback only. */
  get payload(): Uint8Array {
    if (this.#payload === null) {
      const n = this.#payloadLength;
      const src = this.#src;
      // A third of the messages (read requests, write replies, ...) carry no payload: they share one.
      this.#payload = n > 0 ? new Uint8Array(src.buffer, src.byteOffset + this.#at + this.headerSize, n) : NO_PAYLOAD;
    }
    return this.#payload;
  }

  set payload(view: Uint8Array) {
    this.#payload = view;
  }

  /** The whole message (header + payload), valid during the callback only like the payload. */
  get bytes(): Uint8Array {
    if (this.#bytes === null) {
      const src = this.#src;
      this.#bytes = new Uint8Array(src.buffer, src.byteOffset + this.#at, this.headerSize + this.#payloadLength);
    }
    return this.#bytes;
  }

  set bytes(view: Uint8Array) {
    this.#bytes = view;
  }

  static source(frame: DeframedFrame): Uint8Array {
    return frame.#payload ?? frame.#src;
  }

  static offset(frame: DeframedFrame): number {
    return frame.#payload === null ? frame.#at + frame.headerSize : 0;
  }

  static payloadLength(frame: DeframedFrame): number {
    return frame.#payload === null ? frame.#payloadLength : frame.#payload.length;
  }
}

/**
 * Keeps the 32-bit header fields of frames small integers when they fit (below 2^31, as ids and ECA
 * statuses are), instead of a boxed double each. V8 gives an object field one representation for all
 * objects of a shape: the first value of 2^31 or more (a beacon's or search reply's IPv4 address, a
 * garbage size) turned `parameter1`/`parameter2` into double fields, after which every frame allocated
 * a heap number per field, and so did every command that copied one (`sid`, `ioid`, `status`): 4 heap
 * numbers and 64 bytes per message. A field that has held a non-number once is "tagged" for good,
 * which stores small integers unboxed and allocates only for the large values. Run once at load, on a
 * frame nobody sees.
 */
function keepHeaderFieldsTagged(): void {
  const frame = new DeframedFrame(NO_HEADER, 0, HEADER_SIZE, 0, 0, HEADER_SIZE) as unknown as Record<string, unknown>;
  for (const field of TAGGED_FIELDS) frame[field] = null;
}
/** The frame fields read as u32 from a header (see {@link keepHeaderFieldsTagged}). */
const TAGGED_FIELDS = ['payloadSize', 'dataCount', 'parameter1', 'parameter2'] as const satisfies (keyof CaFrame)[];
const NO_HEADER = new Uint8Array(HEADER_SIZE);
keepHeaderFieldsTagged();

/**
 * @internal The bytes holding a frame's payload, read in place from {@link payloadOffset} for
 * {@link payloadLength} bytes: for a deframed frame the pushed bytes it came from (no view made), for
 * any other frame its `payload`.
 */
export function payloadBuffer(frame: CaFrame): Uint8Array {
  return frame instanceof DeframedFrame ? DeframedFrame.source(frame) : frame.payload;
}

/** @internal Where a frame's payload starts in {@link payloadBuffer}. */
export function payloadOffset(frame: CaFrame): number {
  return frame instanceof DeframedFrame ? DeframedFrame.offset(frame) : 0;
}

/** @internal How many payload bytes a frame holds (its `payload.length`, without making the view). */
export function payloadLength(frame: CaFrame): number {
  return frame instanceof DeframedFrame ? DeframedFrame.payloadLength(frame) : frame.payload.length;
}

function addAnomaly(frame: CaFrame, anomaly: string): void {
  if (frame.anomalies === undefined) frame.anomalies = [anomaly];
  else frame.anomalies.push(anomaly);
}

/**
 * Streaming deframer for one byte stream (one direction of one TCP connection).
 *
 * Whole messages inside a pushed chunk are emitted as views of that chunk; only a message that straddles
 * chunks is copied into a remainder buffer, which never holds more than one message (at most the size cap
 * plus a header). A header failing the §2.3 checks, or {@link Deframer.gap}, starts a resynchronisation:
 * bytes are skipped until a plausible header followed by another plausible header (or the end of the
 * pushed data); the skipped bytes become one {@link CaFault}.
 */
export class Deframer {
  /** Payload size cap in bytes. */
  readonly maxPayloadSize: number;
  /** Payload bytes kept in over-cap frames. */
  readonly oversizePrefix: number;
  private rem: Uint8Array = new Uint8Array(0);
  private remLen = 0;
  /**
   * With `handOverLarge`: the memory of its own a large message is being assembled in (then also `rem`),
   * and the reusable remainder buffer put aside meanwhile.
   */
  private apart: Uint8Array | null = null;
  private spare: Uint8Array = this.rem;
  private readonly handOverLarge: boolean;
  /** Position (in pushed bytes) of rem[0]. */
  private remPos = 0;
  /** Bytes of an over-cap payload still to discard. */
  private skip = 0;
  private resync = false;
  private pending: PendingFault | undefined;
  /** Stream position of the next pushed byte (bytes pushed plus lost bytes reported to gap()). */
  private pos = 0;
  /**
   * Message boundaries sit at stream positions ≡ phase (mod 8), because every CA message is a multiple
   * of 8 bytes long; -1 when unknown (after a misaligned message or a gap of unknown size).
   */
  private phase = 0;
  /**
   * After a gap of known size the phase is exact, so off-phase candidates are not even considered until
   * this stream position (a bounded window, in case the reported size was wrong).
   */
  private strictUntil = -1;
  /**
   * Stream position right after the last gap of known size, while the phase is known: a message boundary
   * when the gap fell between messages (as in a filtered export, or a lost segment that held whole ones).
   */
  private gapEnd = -1;
  private frames = 0;
  /** The frame handed out again and again with `reuseFrames`, once made. */
  private reused: DeframedFrame | null = null;
  private readonly reuseFrames: boolean;

  /**
   * Which way this stream flows, set by the decoder once a circuit's client and server are known for certain:
   * then a payload on a command that has none in this direction (a READ_NOTIFY request, a CREATE_CHAN reply)
   * is a damaged header, not a message that swallows the ones after it.
   */
  direction: StreamDirection | undefined = undefined;

  constructor(options: DeframerOptions = {}) {
    this.maxPayloadSize = options.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
    this.direction = options.direction;
    this.oversizePrefix = Math.min(options.oversizePrefix ?? DEFAULT_OVERSIZE_PREFIX, this.maxPayloadSize);
    this.reuseFrames = options.reuseFrames === true;
    this.handOverLarge = options.handOverLarge === true;
    if (options.midStream) this.gap();
  }

  /** Bytes held back waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.remLen;
  }

  /** Stream position of the next byte: bytes pushed plus lost bytes reported to {@link Deframer.gap}. */
  get position(): number {
    return this.pos;
  }

  /** Frames emitted so far. */
  get frameCount(): number {
    return this.frames;
  }

  /** True while skipping bytes to find the next message boundary. */
  get resynchronising(): boolean {
    return this.resync;
  }

  /** Feeds the next bytes of the stream. Callbacks run synchronously, in stream order. */
  push(data: Uint8Array, onFrame: FrameCallback, onFault: FaultCallback): void {
    this.pushRange(data, 0, data.length, onFrame, onFault);
  }

  /**
   * {@link push} of the bytes `data[start, end)`, read where they are: no view is made for them (the
   * decoder passes TCP payloads as ranges of the captured packet).
   */
  pushRange(data: Uint8Array, start: number, end: number, onFrame: FrameCallback, onFault: FaultCallback): void {
    // The stream position of data[0], which lies before the range.
    const base = this.pos - start;
    this.pos += end - start;
    let o = start;
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, end - o);
        this.skip -= n;
        o += n;
      }
      if (this.remLen === 0 || o === end) break;
      const need = this.remNeed();
      if (need > this.remLen) {
        const take = Math.min(need - this.remLen, end - o);
        this.append(data, o, take);
        o += take;
        if (this.remLen < need) {
          if (!this.resync) return;
          // The data ran out while resynchronising: let the scan decide on what is here (a candidate
          // may end exactly at the end of the data, §8), keeping what it cannot decide yet.
          const n = this.remLen;
          this.remLen = 0;
          this.run(this.rem, 0, n, this.remPos, true, onFrame, onFault);
          return;
        }
      }
      const buf = this.rem;
      const n = this.remLen;
      this.remLen = 0;
      if (buf === this.apart) this.runApart(buf, n, o === end, onFrame, onFault);
      else this.run(buf, 0, n, this.remPos, o === end, onFrame, onFault);
      // Do not keep a big waveform's buffer alive for the rest of the connection.
      if (this.remLen === 0 && this.rem.length > REMAINDER_KEEP) this.rem = new Uint8Array(0);
    }
    if (o < end) this.run(data, o, end, base, true, onFrame, onFault);
  }

  /**
   * Tells the deframer that bytes were lost before the next push (capture loss, snaplen cut, capture
   * started mid-stream). Pass `lostBytes` when known (TCP sequence numbers tell):
   * - a loss inside the payload of a message whose header was seen costs only that message: with
   *   `onFrame` it is emitted at once as a truncated frame (anomaly 'message-cut') holding the bytes
   *   before the gap, the rest of its payload is skipped, and decoding goes on without a resync; a loss
   *   inside an over-cap payload that is being skipped costs nothing more;
   * - otherwise buffered bytes are dropped and the deframer resynchronises; the dropped and skipped bytes
   *   are reported as one fault (code 'gap') when the next boundary is found or at {@link Deframer.end}.
   *   With a known size the 8-byte message phase is kept, which makes the resync much less likely to
   *   lock onto look-alike bytes.
   */
  gap(lostBytes?: number, onFrame?: FrameCallback): void {
    const known = lostBytes !== undefined && lostBytes >= 0 && Number.isInteger(lostBytes);
    if (known && !this.resync && this.bridgeGap(lostBytes, onFrame)) {
      this.pos += lostBytes;
      return;
    }
    const dropped = this.remLen;
    if (this.pending === undefined) {
      this.pending = {
        code: 'gap',
        message: 'bytes were lost (gap in the stream)',
        length: 0,
        sample: new Uint8Array(FAULT_SAMPLE_SIZE),
        sampleLength: 0,
        offset: dropped > 0 ? this.remPos : this.pos,
      };
    } else if (!this.pending.message.includes('gap')) {
      this.pending.message += '; then a gap in the stream';
    }
    if (dropped > 0) this.addSkipped(this.rem, 0, dropped);
    this.remLen = 0;
    this.endApart();
    this.skip = 0;
    this.resync = true;
    if (known) {
      this.pos += lostBytes;
      if (this.phase >= 0) {
        this.strictUntil = this.pos + STRICT_PHASE_WINDOW;
        this.gapEnd = this.pos;
      }
    } else {
      this.phase = -1;
    }
  }

  /**
   * A gap of known size that falls inside the current message: finish that message (truncated) and
   * skip the rest of its payload. Returns false when the gap reaches past it (resync needed).
   */
  private bridgeGap(lost: number, onFrame: FrameCallback | undefined): boolean {
    if (this.skip > 0) {
      if (lost > this.skip) return false;
      this.skip -= lost;
      return true;
    }
    if (this.remLen === 0) return lost === 0;
    if (onFrame === undefined || this.remLen < HEADER_SIZE) return false;
    const r = this.rem;
    const ext = u16(r, HeaderOffset.PAYLOAD_SIZE) === EXTENDED_MARKER;
    if (ext && this.remLen < EXTENDED_HEADER_SIZE) return false;
    const hs = ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
    const ps = ext ? u32(r, HeaderOffset.EXT_PAYLOAD_SIZE) : u16(r, HeaderOffset.PAYLOAD_SIZE);
    const dc = ext ? u32(r, HeaderOffset.EXT_DATA_COUNT) : u16(r, HeaderOffset.DATA_COUNT);
    if (headerFault(u16(r, HeaderOffset.COMMAND), ps, u16(r, HeaderOffset.DATA_TYPE)) !== undefined) return false;
    // Over-cap messages never sit in the remainder beyond their prefix, so `missing` is what the
    // message still lacks on the wire.
    const missing = hs + ps - this.remLen;
    if (lost > missing) return false;
    const frame = makeFrame(r, 0, hs, ps, dc, this.remLen);
    frame.truncated = true;
    if (ps > this.maxPayloadSize) addAnomaly(frame, ANOMALY_OVER_CAP);
    addAnomaly(frame, ANOMALY_CUT);
    if (ext && u16(r, HeaderOffset.DATA_COUNT) !== 0) addAnomaly(frame, ANOMALY_DC16);
    this.frames++;
    this.remLen = 0;
    this.skip = missing - lost;
    // A cut message is not handed over: its frame reads the memory while it is in use, then it is let go.
    this.endApart();
    onFrame(frame);
    return true;
  }

  /**
   * The stream ended (FIN/RST or end of capture): a buffered partial message is emitted as a truncated
   * frame when its header is whole and plausible, otherwise reported; a pending fault is flushed.
   */
  end(onFrame: FrameCallback, onFault: FaultCallback): void {
    if (this.remLen > 0) {
      if (this.resync) {
        const n = this.remLen;
        this.remLen = 0;
        // At the end of the data a whole candidate message is accepted; what is left stays unread.
        this.run(this.rem, 0, n, this.remPos, true, onFrame, onFault, true);
      }
      if (this.remLen > 0) {
        const n = this.remLen;
        this.remLen = 0;
        this.flushCut(this.rem, n, this.remPos, onFrame, onFault);
      }
    }
    this.endApart();
    if (this.pending !== undefined) this.flushFault(onFault);
    this.resync = false;
    this.skip = 0;
  }

  // -------------------------------------------------------------------------------------------------

  /** A partial message at the end of the stream. */
  private flushCut(buf: Uint8Array, len: number, pos: number, onFrame: FrameCallback, onFault: FaultCallback): void {
    if (this.resync) {
      this.addSkipped(buf, 0, len);
      return;
    }
    if (len >= HEADER_SIZE) {
      const ext = u16(buf, HeaderOffset.PAYLOAD_SIZE) === EXTENDED_MARKER;
      if (!ext || len >= EXTENDED_HEADER_SIZE) {
        const hs = ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
        const ps = ext ? u32(buf, HeaderOffset.EXT_PAYLOAD_SIZE) : u16(buf, HeaderOffset.PAYLOAD_SIZE);
        const dc = ext ? u32(buf, HeaderOffset.EXT_DATA_COUNT) : u16(buf, HeaderOffset.DATA_COUNT);
        const frame = makeFrame(buf, 0, hs, ps, dc, len);
        frame.truncated = true;
        addAnomaly(frame, ANOMALY_CUT);
        this.frames++;
        onFrame(frame);
        return;
      }
    }
    onFault({
      code: 'trailing-bytes',
      message: `stream ended inside a message header (${len} of ${HEADER_SIZE} or ${EXTENDED_HEADER_SIZE} bytes)`,
      length: len,
      sample: buf.slice(0, Math.min(len, FAULT_SAMPLE_SIZE)),
      offset: pos,
    });
  }

  /**
   * Assembles the message that starts here, `size` bytes long, in memory of its own (`handOverLarge`).
   * The bytes already in the remainder buffer, if any, are the caller's to append.
   */
  private startApart(size: number): void {
    const own = uninitialisedBytes(size);
    this.spare = this.rem;
    this.rem = this.apart = own;
  }

  /** Puts the reusable remainder buffer back in place of a message's memory of its own. */
  private endApart(): void {
    if (this.apart === null) return;
    this.rem = this.spare;
    this.apart = null;
  }

  /**
   * {@link run} over a whole message assembled apart, whose memory is handed over to what its frame's
   * callback decodes, and let go of by the deframer: nothing reads it again but the frame.
   */
  private runApart(
    buf: Uint8Array,
    n: number,
    boundary: boolean,
    onFrame: FrameCallback,
    onFault: FaultCallback,
  ): void {
    this.endApart();
    const outer = handOverMemory(buf.buffer as ArrayBuffer);
    try {
      this.run(buf, 0, n, this.remPos, boundary, onFrame, onFault);
    } finally {
      handOverMemory(outer);
    }
  }

  private append(src: Uint8Array, from: number, n: number): void {
    if (this.remLen + n > this.rem.length) {
      const next = new Uint8Array(Math.max(this.remLen + n, this.rem.length * 2, 64));
      next.set(this.rem.subarray(0, this.remLen));
      this.rem = next;
    }
    this.rem.set(src.subarray(from, from + n), this.remLen);
    this.remLen += n;
  }

  /** Keeps buf[from, end) (a partial message) for the next push. */
  private saveTail(buf: Uint8Array, from: number, end: number, pos: number): void {
    const n = end - from;
    if (buf === this.rem) {
      this.rem.copyWithin(0, from, end);
      this.remLen = n;
    } else {
      this.remLen = 0;
      this.append(buf, from, n);
    }
    this.remPos = pos;
  }

  /** How many bytes rem must hold before it can be processed. */
  private remNeed(): number {
    const r = this.rem;
    if (this.resync) {
      const verdict = this.confirm(r, 0, this.remLen, this.remPos, false);
      return verdict > 0 ? verdict : this.remLen;
    }
    if (this.remLen < HEADER_SIZE) return HEADER_SIZE;
    const cmd = u16(r, HeaderOffset.COMMAND);
    const ps16 = u16(r, HeaderOffset.PAYLOAD_SIZE);
    const dt = u16(r, HeaderOffset.DATA_TYPE);
    const ext = ps16 === EXTENDED_MARKER;
    // An implausible header is processed at once (run() starts the resync).
    if (headerFault(cmd, ext ? 0 : ps16, dt) !== undefined) return this.remLen;
    if (ext && this.remLen < EXTENDED_HEADER_SIZE) return EXTENDED_HEADER_SIZE;
    const hs = ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
    const ps = ext ? u32(r, HeaderOffset.EXT_PAYLOAD_SIZE) : ps16;
    if ((ps & 7) !== 0) return this.remLen;
    if (ps > this.maxPayloadSize) return hs + Math.min(ps, this.oversizePrefix);
    return hs + ps;
  }

  /**
   * Resync verdict for a candidate header at `p`: {@link CONFIRMED}, {@link REJECTED}, or the number of
   * bytes from `p` needed to decide. A candidate is confirmed by plausible following headers: one when it
   * sits on the known 8-byte message phase, two when off-phase or the phase is unknown (zero-filled and
   * small-integer payloads imitate single headers surprisingly often); right after a gap of known size
   * off-phase candidates are rejected outright. The chain may also end exactly at the end of the data
   * when `boundary` is set. A whole message starting right where a gap of known size ended, on phase, is
   * taken without waiting for the next header to arrive: it is where the stream most likely resumes, and
   * waiting would give the message the frame of a later packet.
   */
  private confirm(buf: Uint8Array, p: number, end: number, base: number, boundary: boolean): number {
    if (end - p < HEADER_SIZE) return p + HEADER_SIZE > end ? HEADER_SIZE : REJECTED;
    if (!this.plausibleAt(buf, p, end)) return REJECTED;
    let followers = 2;
    if (this.phase >= 0) {
      if (((base + p) & 7) === this.phase) followers = 1;
      // Repeating array values imitate header chains off-phase; after a gap of known size skip them.
      else if (base + p < this.strictUntil) return REJECTED;
    }
    let q = p;
    for (let i = 0; i <= followers; i++) {
      if (i > 0) {
        if (q === end && boundary) return CONFIRMED;
        if (q + HEADER_SIZE > end)
          return i === 1 && q <= end && base + p === this.gapEnd ? CONFIRMED : q + HEADER_SIZE - p;
        if (!this.plausibleAt(buf, q, end)) return REJECTED;
        if (i === followers) return CONFIRMED;
      }
      const ext = u16(buf, q + HeaderOffset.PAYLOAD_SIZE) === EXTENDED_MARKER;
      if (ext && q + EXTENDED_HEADER_SIZE > end) return q + EXTENDED_HEADER_SIZE - p;
      const ps = ext ? u32(buf, q + HeaderOffset.EXT_PAYLOAD_SIZE) : u16(buf, q + HeaderOffset.PAYLOAD_SIZE);
      q += (ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE) + ps;
    }
    return CONFIRMED;
  }

  private startFault(code: string, message: string, offset: number): void {
    if (this.pending === undefined) {
      this.pending = {
        code,
        message,
        length: 0,
        sample: new Uint8Array(FAULT_SAMPLE_SIZE),
        sampleLength: 0,
        offset,
      };
    }
    this.resync = true;
  }

  private addSkipped(buf: Uint8Array, from: number, to: number): void {
    const p = this.pending;
    if (p === undefined || to <= from) return;
    p.length += to - from;
    const room = FAULT_SAMPLE_SIZE - p.sampleLength;
    if (room > 0) {
      const n = Math.min(room, to - from);
      p.sample.set(buf.subarray(from, from + n), p.sampleLength);
      p.sampleLength += n;
    }
  }

  private flushFault(onFault: FaultCallback): void {
    const p = this.pending;
    this.pending = undefined;
    if (p === undefined || p.length === 0) return;
    onFault({
      code: p.code,
      message: `${p.message}; ${p.length} byte${p.length === 1 ? '' : 's'} skipped to resynchronise`,
      length: p.length,
      sample: p.sample.slice(0, p.sampleLength),
      offset: p.offset,
    });
  }

  /**
   * Is there a plausible header at `p`, by the §2.3 checks and the stricter per-command shape of
   * {@link resyncShapeOk}? (The extended size is checked when its bytes are there.)
   */
  private plausibleAt(buf: Uint8Array, p: number, end: number): boolean {
    const cmd = u16(buf, p + HeaderOffset.COMMAND);
    const ps16 = u16(buf, p + HeaderOffset.PAYLOAD_SIZE);
    const dt = u16(buf, p + HeaderOffset.DATA_TYPE);
    let ps = ps16;
    let dc = u16(buf, p + HeaderOffset.DATA_COUNT);
    if (ps16 === EXTENDED_MARKER) {
      if (end - p < EXTENDED_HEADER_SIZE) return headerFault(cmd, 0, dt) === undefined;
      ps = u32(buf, p + HeaderOffset.EXT_PAYLOAD_SIZE);
      dc = u32(buf, p + HeaderOffset.EXT_DATA_COUNT);
    }
    // The same checks as run() applies to a header, or a rejected candidate would be found again forever.
    return (
      headerFault(cmd, ps, dt, dc, this.direction) === undefined &&
      ps <= this.maxPayloadSize &&
      resyncShapeOk(buf, p, cmd, ps, dt)
    );
  }

  /**
   * Parses buf[o, end). `base` is the stream position of buf[0]; `boundary` says whether `end` is the end
   * of the data pushed so far (a resync candidate may end there); `final` that no more data will come.
   */
  private run(
    buf: Uint8Array,
    o: number,
    end: number,
    base: number,
    boundary: boolean,
    onFrame: FrameCallback,
    onFault: FaultCallback,
    final = false,
  ): void {
    const cap = this.maxPayloadSize;
    while (o < end) {
      if (this.resync) {
        // Scan for a plausible header confirmed by the next one or by the end of the data.
        let p = o;
        let found = -1;
        let wait = -1;
        for (; p < end; p++) {
          const verdict = this.confirm(buf, p, end, base, boundary);
          if (verdict === CONFIRMED) {
            found = p;
            break;
          }
          // At the very end nothing more will come: undecidable candidates are rejections.
          if (verdict > 0 && !final) {
            wait = p;
            break;
          }
        }
        if (found >= 0) {
          this.addSkipped(buf, o, found);
          this.flushFault(onFault);
          this.resync = false;
          this.phase = (base + found) & 7;
          o = found;
          continue;
        }
        if (wait < 0) wait = end;
        this.addSkipped(buf, o, wait);
        if (wait < end) this.saveTail(buf, wait, end, base + wait);
        return;
      }

      const avail = end - o;
      if (avail < HEADER_SIZE) {
        this.saveTail(buf, o, end, base + o);
        return;
      }
      const cmd = u16(buf, o + HeaderOffset.COMMAND);
      const ps16 = u16(buf, o + HeaderOffset.PAYLOAD_SIZE);
      const dt = u16(buf, o + HeaderOffset.DATA_TYPE);
      let hs = HEADER_SIZE;
      let ps = ps16;
      let dc = 0;
      const ext = ps16 === EXTENDED_MARKER;
      if (ext) {
        if (avail < EXTENDED_HEADER_SIZE) {
          // The real size is not here yet: check the rest now, the size once the header is whole.
          ps = 0;
          if (headerFault(cmd, 0, dt) === undefined) {
            this.saveTail(buf, o, end, base + o);
            return;
          }
        } else {
          hs = EXTENDED_HEADER_SIZE;
          ps = u32(buf, o + HeaderOffset.EXT_PAYLOAD_SIZE);
          dc = u32(buf, o + HeaderOffset.EXT_DATA_COUNT);
        }
      } else {
        dc = u16(buf, o + HeaderOffset.DATA_COUNT);
      }
      const bad = headerFault(cmd, ps, dt, dc, this.direction);
      if (bad !== undefined) {
        this.startFault(bad, headerFaultMessage(bad, cmd, ps, dt, dc), base + o);
        // A misaligned size means the sender does not keep 8-byte boundaries.
        if (bad === 'bad-alignment') this.phase = -1;
        continue;
      }
      if (ps > cap) {
        const keep = Math.min(ps, this.oversizePrefix);
        if (avail < hs + keep) {
          this.saveTail(buf, o, end, base + o);
          return;
        }
        const frame = makeFrame(buf, o, hs, ps, dc, o + hs + keep);
        frame.truncated = true;
        addAnomaly(frame, ANOMALY_OVER_CAP);
        if (ext && u16(buf, o + HeaderOffset.DATA_COUNT) !== 0) addAnomaly(frame, ANOMALY_DC16);
        this.frames++;
        onFrame(frame);
        const msgEnd = o + hs + ps;
        if (msgEnd <= end) {
          o = msgEnd;
          continue;
        }
        this.skip = msgEnd - end;
        return;
      }
      const total = hs + ps;
      if (avail < total) {
        // Only one message at a time is assembled apart: it is the whole of `rem`.
        if (this.handOverLarge && total >= HAND_OVER_MIN && this.apart === null) this.startApart(total);
        this.saveTail(buf, o, end, base + o);
        return;
      }
      let frame: CaFrame;
      if (ext && u16(buf, o + HeaderOffset.DATA_COUNT) !== 0) {
        frame = makeFrame(buf, o, hs, ps, dc, o + total);
        addAnomaly(frame, ANOMALY_DC16);
      } else if (this.reuseFrames) {
        const reused = this.reused;
        frame =
          reused === null
            ? (this.reused = new DeframedFrame(buf, o, hs, ps, dc, o + total))
            : DeframedFrame.refill(reused, buf, o, hs, ps, dc, o + total);
      } else {
        frame = makeFrame(buf, o, hs, ps, dc, o + total);
      }
      this.frames++;
      onFrame(frame);
      o += total;
    }
  }
}

/** Options of {@link deframeDatagram}. */
export interface DatagramOptions {
  /** Payload cap (default {@link DEFAULT_MAX_PAYLOAD_SIZE}); larger claims are faults in a datagram. */
  maxPayloadSize?: number;
  /**
   * The datagram was cut by the capture (caplen < origlen): a last message running past the end is
   * emitted as a truncated frame instead of a fault.
   */
  truncated?: boolean;
}

/**
 * Deframes one UDP datagram, which must be exactly filled by its messages. Whole messages are emitted;
 * anything that does not fit (implausible header, a message running past the end, trailing bytes) is one
 * fault covering the rest of the datagram. Returns true when the datagram was exactly filled. An empty
 * datagram (a repeater registration) emits nothing and returns true.
 */
export function deframeDatagram(
  bytes: Uint8Array,
  onFrame: FrameCallback,
  onFault: FaultCallback,
  options?: DatagramOptions,
): boolean {
  const cap = options?.maxPayloadSize ?? DEFAULT_MAX_PAYLOAD_SIZE;
  const end = bytes.length;
  let o = 0;
  while (o < end) {
    const avail = end - o;
    if (avail < HEADER_SIZE) {
      return datagramFault(
        bytes,
        o,
        onFault,
        'trailing-bytes',
        `${avail} bytes after the last message, too few for a header`,
      );
    }
    const cmd = u16(bytes, o + HeaderOffset.COMMAND);
    const ps16 = u16(bytes, o + HeaderOffset.PAYLOAD_SIZE);
    const dt = u16(bytes, o + HeaderOffset.DATA_TYPE);
    const ext = ps16 === EXTENDED_MARKER;
    if (ext && avail < EXTENDED_HEADER_SIZE) {
      return datagramFault(bytes, o, onFault, 'trailing-bytes', `extended header cut at ${avail} bytes`);
    }
    const hs = ext ? EXTENDED_HEADER_SIZE : HEADER_SIZE;
    const ps = ext ? u32(bytes, o + HeaderOffset.EXT_PAYLOAD_SIZE) : ps16;
    const dc = ext ? u32(bytes, o + HeaderOffset.EXT_DATA_COUNT) : u16(bytes, o + HeaderOffset.DATA_COUNT);
    const bad = headerFault(cmd, ps, dt, dc);
    if (bad !== undefined) return datagramFault(bytes, o, onFault, bad, headerFaultMessage(bad, cmd, ps, dt, dc));
    if (ps > cap) {
      return datagramFault(
        bytes,
        o,
        onFault,
        'too-large',
        `payload size ${ps} of command ${cmd} exceeds the cap ${cap}`,
      );
    }
    const total = hs + ps;
    if (total > avail) {
      if (options?.truncated) {
        const frame = makeFrame(bytes, o, hs, ps, dc, end);
        frame.truncated = true;
        addAnomaly(frame, ANOMALY_CUT);
        if (ext && u16(bytes, o + HeaderOffset.DATA_COUNT) !== 0) addAnomaly(frame, ANOMALY_DC16);
        onFrame(frame);
        return true;
      }
      return datagramFault(
        bytes,
        o,
        onFault,
        'overrun',
        `command ${cmd} claims ${ps} payload bytes but only ${avail - hs} remain`,
      );
    }
    const frame = makeFrame(bytes, o, hs, ps, dc, o + total);
    if (ext && u16(bytes, o + HeaderOffset.DATA_COUNT) !== 0) addAnomaly(frame, ANOMALY_DC16);
    onFrame(frame);
    o += total;
  }
  return true;
}

/**
 * {@link deframeDatagram}'s fault for the rest of the datagram from `o`; returns false. A function of its
 * own rather than a closure made per datagram: the closure and its context were allocated for every
 * datagram of a search storm, and compiled into the deframer's hot loop.
 */
function datagramFault(bytes: Uint8Array, o: number, onFault: FaultCallback, code: string, message: string): false {
  const end = bytes.length;
  onFault({
    code,
    message: `${message}; ${end - o} byte${end - o === 1 ? '' : 's'} of the datagram not decoded`,
    length: end - o,
    sample: bytes.slice(o, Math.min(end, o + FAULT_SAMPLE_SIZE)),
    offset: o,
  });
  return false;
}
