/**
 * Streaming pcap / pcapng reader. Bytes are pushed in whatever chunks they arrive in; every frame is handed
 * out as soon as its last byte is in. Records are parsed straight out of the pushed chunk; only a record that
 * straddles two chunks is copied, so memory holds at most one record plus the unconsumed tail.
 */
import { linktypeName } from './linktypes.js';
import type { PacketProblem } from './types.js';

// Magic numbers, read big-endian from the first four bytes.
const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_US_SWAPPED = 0xd4c3b2a1;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_NS_SWAPPED = 0x4d3cb2a1;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
const PCAP_MAGIC_MODIFIED_SWAPPED = 0x34cdb2a1;
const GZIP_MAGIC16 = 0x1f8b;
const MAGIC_LEN = 4;

// Classic pcap global header.
const PCAP_HEADER_LEN = 24;
const PCAP_OFF_VERSION_MAJOR = 4;
const PCAP_OFF_VERSION_MINOR = 6;
const PCAP_OFF_SNAPLEN = 16;
const PCAP_OFF_LINKTYPE = 20;
/** Bits 0-15 of the link type field; the upper bits carry FCS information. */
const PCAP_LINKTYPE_MASK = 0xffff;

// Classic pcap record header.
const REC_HEADER_LEN = 16;
const REC_OFF_TS_SEC = 0;
const REC_OFF_TS_FRAC = 4;
const REC_OFF_CAPLEN = 8;
const REC_OFF_ORIGLEN = 12;
/** libpcap's MAXIMUM_SNAPLEN: records above max(this, snaplen) mean the file is corrupt. */
const PCAP_MAX_SANE_CAPLEN = 262144;
/** Timestamp fraction units of classic pcap: microseconds, or nanoseconds by the magic. */
const MICROS_PER_SECOND = 1e6;
const NANOS_PER_SECOND = 1e9;

// pcapng block framing.
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_PB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
/**
 * Block types that carry no packets and are skipped without a word: name resolution (4), interface
 * statistics (5), IRIG timestamps (7), ARINC 429 (8), systemd journal (9), decryption secrets (0x0a),
 * Hone project (0x101-0x102), Sysdig (0x201-0x213), custom blocks (0xbad, 0x40000bad). Any other type is
 * reported: a damaged type field would otherwise make its packet vanish silently.
 */
function isKnownNonPacketBlock(type: number): boolean {
  return (
    (type >= 0x04 && type <= 0x0a && type !== BLOCK_EPB) ||
    type === 0x101 ||
    type === 0x102 ||
    (type >= 0x201 && type <= 0x213) ||
    type === 0x00000bad ||
    type === 0x40000bad
  );
}
const BLOCK_OFF_TYPE = 0;
const BLOCK_OFF_LEN = 4;
const BLOCK_MIN_LEN = 12;
const SHB_OFF_BYTE_ORDER = 8;
const SHB_OFF_MAJOR = 12;
const SHB_OFF_MINOR = 14;
const SHB_MIN_LEN = 28;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a;
const IDB_OFF_LINKTYPE = 8;
const IDB_OFF_SNAPLEN = 12;
const IDB_OPTIONS = 16;
const IDB_MIN_LEN = 20;
const EPB_OFF_IFACE = 8;
const EPB_OFF_TS_HIGH = 12;
const EPB_OFF_TS_LOW = 16;
const EPB_OFF_CAPLEN = 20;
const EPB_OFF_ORIGLEN = 24;
const EPB_DATA = 28;
const EPB_MIN_LEN = 32;
const PB_OFF_IFACE = 8; // 16-bit interface id, then 16-bit drops count
const PB_OFF_TS_HIGH = 12;
const PB_OFF_TS_LOW = 16;
const PB_OFF_CAPLEN = 20;
const PB_OFF_ORIGLEN = 24;
const PB_DATA = 28;
const PB_MIN_LEN = 32;
const SPB_OFF_ORIGLEN = 8;
const SPB_DATA = 12;
const SPB_MIN_LEN = 16;
const OPT_END = 0;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const OPT_HEADER_LEN = 4;
const TSRESOL_POWER_OF_TWO = 0x80;
const TSRESOL_EXPONENT_MASK = 0x7f;
const TWO_POW_32 = 4294967296;
/** Interfaces kept in the header's list across all sections. */
const MAX_HEADER_INTERFACES = 1024;
/** Interfaces per section: real captures have a handful; a flood of IDBs must not grow memory without end. */
const MAX_SECTION_INTERFACES = 65536;

/** One interface (pcapng IDB; classic pcap has exactly one). */
export interface CaptureInterface {
  /** Interface id within its section (what EPBs refer to). */
  id: number;
  /** 0-based section number (pcapng files may concatenate sections). */
  section: number;
  linktype: number;
  linktypeName: string;
  /** 0 when the file says "no limit". */
  snaplen: number;
  /** Timestamp ticks per second (1e6 for µs, 1e9 for ns, 2^n for power-of-two resolutions). */
  tsUnitsPerSecond: number;
  /** Seconds added to every timestamp (pcapng `if_tsoffset`). */
  tsOffset: number;
  name?: string;
}

/** What the file header says. For pcapng it grows as interface blocks arrive. */
export interface CaptureHeader {
  format: 'pcap' | 'pcapng';
  /** Format version, e.g. '2.4' (pcap) or '1.0' (pcapng, of the current section). */
  version: string;
  byteOrder: 'little' | 'big';
  /** Snapshot length: the global one (pcap) or that of the first interface (pcapng, 0 before any). */
  snaplen: number;
  /** 'us' or 'ns' for pcap; for pcapng that of the first interface ('us', 'ns', 'ms', '10^-n' or '2^-n'). */
  timestampPrecision: string;
  /** Interfaces in order of appearance (all sections, first 1024). */
  interfaces: CaptureInterface[];
  /** Number of pcapng sections seen (1 for pcap). */
  sections: number;
}

/** A captured frame as the file holds it. */
export interface CaptureFrame {
  type: 'frame';
  /** 1-based frame number (every packet record counts). */
  frame: number;
  section: number;
  interfaceId: number;
  linktype: number;
  /** Seconds since the Unix epoch. */
  timestamp: number;
  caplen: number;
  origlen: number;
  /**
   * The captured bytes. The reader never overwrites them, but they may be a view into the pushed chunk:
   * copy them to keep them past a caller that refills its buffers.
   */
  data: Uint8Array;
}

/** Receives what a {@link CaptureReader} finds, in file order. */
export interface CaptureHandler {
  frame(frame: CaptureFrame): void;
  problem(problem: PacketProblem): void;
  /** Called once the format is known (after the pcap header / first section header). */
  header?(header: CaptureHeader): void;
  /** Called for every interface description (pcap: once, with the global header). */
  interface?(iface: CaptureInterface): void;
}

/**
 * Receives frames as a position in a buffer: the frame's bytes are `buf[start, start + caplen)` (the
 * reader's own copy or the pushed chunk, see {@link CaptureFrame.data}). Saves the frame object and the
 * view per packet.
 */
export interface RawFrameSink {
  rawFrame(
    frame: number,
    section: number,
    interfaceId: number,
    linktype: number,
    timestamp: number,
    caplen: number,
    origlen: number,
    buf: Uint8Array,
    start: number,
  ): void;
}

export interface CaptureReaderOptions {
  /** Largest record / block accepted, in bytes (default 16 MiB); larger means corrupt input. */
  maxRecordBytes?: number;
  /**
   * The caller leaves the bytes of a push unchanged until the next push has returned (each chunk is a new
   * buffer, or one buffer pushed in consecutive slices; `shark()` refills a file buffer only two chunks
   * later). A record that straddles two pushes is then kept as a view and, when the next push continues the
   * same buffer, read in place instead of copied: with 64 KiB loopback segments and 128 KiB slices that
   * copy was half a record per slice. Default false: the tail is copied, so a caller may reuse its buffer
   * after `push` returns.
   */
  stableInput?: boolean;
  /**
   * The handler copies what it keeps of a frame before it returns (as the daemon's capture source does,
   * into a batch for its decoding worker): a frame's bytes need stay valid only during the call. A record
   * that straddles two pushes is then assembled in one buffer the reader reuses, grown to the largest
   * such record, instead of a new buffer per record. Read from a pipe, whose reads end every 64 KiB, nearly
   * every 64 KiB loopback segment straddles two, and those buffers were 10 MB of the daemon's peak RSS
   * with `--stdin` (garbage that V8 frees late). Default false.
   */
  reusePending?: boolean;
}

const enum Mode {
  Detect,
  PcapHeader,
  PcapRecords,
  Pcapng,
  Stopped,
}

const EMPTY = new Uint8Array(0);

/**
 * Incremental capture reader: `push(chunk)` as bytes arrive, `end()` at EOF. Problems (not a capture,
 * corrupt lengths, truncated file) are reported to the handler, never thrown.
 */
export class CaptureReader {
  private mode = Mode.Detect;
  private le = true;
  private nanos = false;
  private caplenLimit = PCAP_MAX_SANE_CAPLEN;
  private readonly maxRecord: number;
  private frames = 0;
  private section = -1;
  private ifaces: CaptureInterface[] = [];
  private ifaceOverflow = false;
  private hdr: CaptureHeader | undefined;
  /** Bytes of a unit that straddles chunks, and how many of them are filled. */
  private pend: Uint8Array = EMPTY;
  private pendLen = 0;
  /** Bytes the unit at the head of the unconsumed input needs in total (valid while pendLen > 0). */
  private need = 0;
  /** `pend` is a view of the end of the last input, not a copy (with {@link CaptureReaderOptions.stableInput}). */
  private pendView = false;
  private readonly stableInput: boolean;
  /** With {@link CaptureReaderOptions.reusePending}: the buffer pending records are assembled in. */
  private spare: Uint8Array | undefined;
  private total = 0;
  private lastTs = 0;

  /**
   * @param handler receives frames, problems and header information
   * @param raw when given, frames go to it as positions in the chunk instead of `handler.frame` objects
   *   (the packet pipeline's allocation-free path)
   */
  constructor(
    private readonly handler: CaptureHandler,
    options: CaptureReaderOptions = {},
    private readonly raw?: RawFrameSink,
  ) {
    this.maxRecord = options.maxRecordBytes ?? 16 * 1024 * 1024;
    this.stableInput = options.stableInput === true;
    if (options.reusePending === true) this.spare = EMPTY;
  }

  /** The header once known (pcapng: updated as interfaces appear). */
  get header(): CaptureHeader | undefined {
    return this.hdr;
  }

  /** Packet records seen so far. */
  get frameCount(): number {
    return this.frames;
  }

  /** Bytes pushed so far. */
  get bytesPushed(): number {
    return this.total;
  }

  /**
   * True once the reader takes no more input: after {@link end}, or after a problem it stops at (one with
   * {@link PacketProblem.endsInput}); whatever is pushed then is counted and discarded.
   */
  get finished(): boolean {
    return this.mode === Mode.Stopped;
  }

  /** Bytes held back waiting for the rest of a record. */
  get bufferedBytes(): number {
    return this.pendLen;
  }

  /** Feed the next chunk of the capture. Frames complete in it are delivered before this returns. */
  push(input: Uint8Array): void {
    this.total += input.length;
    if (this.mode === Mode.Stopped || input.length === 0) return;
    // Frames are views of the chunk: views of a plain Uint8Array are much cheaper to make than of a Buffer.
    let chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.length);
    let off = 0;
    if (this.pendView) {
      this.pendView = false;
      const tail = this.pend;
      if (chunk.buffer === tail.buffer && chunk.byteOffset === tail.byteOffset + this.pendLen) {
        // The input continues the held tail in the same buffer (a big chunk pushed in slices): parse the
        // unit from where it starts, without copying it.
        chunk = new Uint8Array(chunk.buffer, tail.byteOffset, this.pendLen + chunk.length);
        this.dropPending();
      } else {
        this.pend = this.pendingBuffer(Math.max(this.need, this.pendLen));
        this.pend.set(tail.subarray(0, this.pendLen));
      }
    }
    while (this.pendLen > 0) {
      const take = Math.min(this.need - this.pendLen, chunk.length - off);
      this.pend.set(chunk.subarray(off, off + take), this.pendLen);
      this.pendLen += take;
      off += take;
      if (this.pendLen < this.need) return;
      const used = this.parse(this.pend, viewOf(this.pend), 0, this.pendLen);
      if (this.stopped()) {
        this.dropPending();
        return;
      }
      if (used === this.pendLen) {
        this.dropPending();
      } else {
        // The head unit turned out to be longer (its header is now complete): grow and keep filling.
        this.grow(used);
      }
    }
    const end = chunk.length;
    off = this.parse(chunk, viewOf(chunk), off, end);
    if (!this.stopped() && off < end) {
      const rest = end - off;
      if (this.stableInput) {
        this.pend = chunk.subarray(off);
        this.pendView = true;
      } else {
        this.pend = this.pendingBuffer(Math.max(this.need, rest));
        this.pend.set(chunk.subarray(off));
      }
      this.pendLen = rest;
      if (this.need <= rest) this.need = rest + 1;
    }
  }

  /** The input is complete: report a truncated final record or an input too short to be a capture. */
  end(): void {
    if (this.mode === Mode.Stopped) return;
    const mode = this.mode;
    this.mode = Mode.Stopped;
    if (this.total === 0) {
      this.problem(0, 'not-a-capture', 'empty input: no capture header');
      return;
    }
    if (mode === Mode.Detect) {
      this.problem(0, 'not-a-capture', `input of ${this.total} bytes is too short to hold a capture header`);
    } else if (mode === Mode.PcapHeader) {
      this.problem(
        0,
        'truncated-file',
        `capture ends inside the pcap file header (${this.pendLen} of ${PCAP_HEADER_LEN} bytes)`,
      );
    } else if (this.pendLen > 0) {
      const what =
        mode === Mode.PcapRecords ? `record of frame ${this.frames + 1}` : `pcapng block after frame ${this.frames}`;
      const need = this.need > this.pendLen ? this.need : this.pendLen + 1;
      this.problem(
        this.frames + 1,
        'truncated-file',
        `capture ends inside the ${what}: ${this.pendLen} of ${need} bytes present`,
      );
    }
    this.dropPending();
  }

  /** Read through a call so that control-flow narrowing does not assume the mode is unchanged. */
  private stopped(): boolean {
    return this.mode === Mode.Stopped;
  }

  private dropPending(): void {
    this.pend = EMPTY;
    this.pendView = false;
    this.pendLen = 0;
    this.need = 0;
  }

  /** Keep filling the pending unit: new size `need`, `used` bytes of it consumed already (always 0). */
  private grow(used: number): void {
    const rest = this.pendLen - used;
    const next = this.pendingBuffer(Math.max(this.need, rest + 1));
    // The same buffer when the reused one is large enough: `set` copies overlapping bytes as memmove does.
    next.set(this.pend.subarray(used, this.pendLen));
    this.pend = next;
    this.pendLen = rest;
    if (this.need <= rest) this.need = rest + 1;
  }

  /**
   * A buffer of at least `size` bytes for a pending record: a new one, or with
   * {@link CaptureReaderOptions.reusePending} the reader's own, replaced by a larger one when too small
   * (the caller copies the pending bytes from `pend`, which still holds the old one).
   */
  private pendingBuffer(size: number): Uint8Array {
    const spare = this.spare;
    if (spare === undefined) return new Uint8Array(size);
    if (spare.length >= size) return spare;
    this.spare = new Uint8Array(size);
    return this.spare;
  }

  private problem(frame: number, code: string, message: string): void {
    this.handler.problem({ type: 'problem', frame, code, message });
  }

  /** Reports a problem after which nothing more of the input is read (see {@link PacketProblem.endsInput}). */
  private stop(frame: number, code: string, message: string): number {
    this.mode = Mode.Stopped;
    this.handler.problem({ type: 'problem', frame, code, message, endsInput: true });
    return 0;
  }

  /** Parse whole units from buf[off, end); returns the offset of the first unconsumed byte. */
  private parse(buf: Uint8Array, dv: DataView, off: number, end: number): number {
    while (off < end) {
      const avail = end - off;
      switch (this.mode) {
        case Mode.PcapRecords: {
          if (avail < REC_HEADER_LEN) {
            this.need = REC_HEADER_LEN;
            return off;
          }
          const le = this.le;
          const caplen = dv.getUint32(off + REC_OFF_CAPLEN, le);
          if (caplen > this.caplenLimit) {
            this.stop(
              this.frames + 1,
              'bad-record-length',
              `frame ${this.frames + 1}: record claims ${caplen} captured bytes, more than the limit of ${this.caplenLimit}; the file is corrupt, stopping`,
            );
            return end;
          }
          const size = REC_HEADER_LEN + caplen;
          if (avail < size) {
            this.need = size;
            return off;
          }
          const sec = dv.getUint32(off + REC_OFF_TS_SEC, le);
          const frac = dv.getUint32(off + REC_OFF_TS_FRAC, le);
          const origlen = dv.getUint32(off + REC_OFF_ORIGLEN, le);
          const units = this.nanos ? NANOS_PER_SECOND : MICROS_PER_SECOND;
          // A snapshot length only ever shortens a packet: more bytes kept than the packet had means one of
          // the two lengths is damaged. Read on by the captured length (the record may still frame right),
          // but say so: a grown length swallows the records after it, which would otherwise vanish unseen.
          if (caplen > origlen) {
            this.problem(
              this.frames + 1,
              'bad-record-length',
              `frame ${this.frames + 1}: record claims ${caplen} captured bytes of a ${origlen}-byte packet; its header is damaged`,
            );
          } else if (frac > units) {
            // A fraction of more than a second is no timestamp a writer makes (exactly one second is a
            // rounding slip some make): the header is damaged, or misframed bytes are read as one (a
            // random word passes a microsecond bound once in 4,000). Read on, as above.
            this.problem(
              this.frames + 1,
              'bad-record-header',
              `frame ${this.frames + 1}: record's timestamp has ${frac} ${this.nanos ? 'nanoseconds' : 'microseconds'} past its second; its header is damaged`,
            );
          }
          this.emit(
            ++this.frames,
            0,
            this.ifaces[0].linktype,
            sec + frac / units,
            caplen,
            origlen,
            buf,
            off + REC_HEADER_LEN,
          );
          off += size;
          break;
        }
        case Mode.Pcapng: {
          if (avail < BLOCK_MIN_LEN) {
            this.need = BLOCK_MIN_LEN;
            return off;
          }
          let type = dv.getUint32(off + BLOCK_OFF_TYPE, this.le);
          if (type === BLOCK_SHB) {
            // The section header sets the byte order for everything up to the next one.
            const bom = dv.getUint32(off + SHB_OFF_BYTE_ORDER, true);
            if (bom === BYTE_ORDER_MAGIC) this.le = true;
            else if (bom === BYTE_ORDER_MAGIC_SWAPPED) this.le = false;
            else {
              this.stop(
                this.frames + 1,
                'bad-section-header',
                `pcapng section header after frame ${this.frames} has byte-order magic 0x${hex32(bom)}, not 0x1a2b3c4d; stopping`,
              );
              return end;
            }
            type = BLOCK_SHB;
          }
          const len = dv.getUint32(off + BLOCK_OFF_LEN, this.le);
          if (len < BLOCK_MIN_LEN || len % 4 !== 0 || len > this.maxRecord) {
            this.stop(
              this.frames + 1,
              'bad-block-length',
              `pcapng block of type 0x${hex32(type)} after frame ${this.frames} has length ${len} (must be a multiple of 4, 12..${this.maxRecord}); the file is corrupt, stopping`,
            );
            return end;
          }
          if (avail < len) {
            this.need = len;
            return off;
          }
          const trailer = dv.getUint32(off + len - 4, this.le);
          if (trailer !== len) {
            this.problem(
              this.frames + 1,
              'bad-block-length',
              `pcapng block of type 0x${hex32(type)} after frame ${this.frames}: leading length ${len} but trailing length ${trailer}`,
            );
          }
          this.block(type, buf, dv, off, len);
          if (this.stopped()) return end;
          off += len;
          break;
        }
        case Mode.Detect: {
          if (avail < MAGIC_LEN) {
            this.need = MAGIC_LEN;
            return off;
          }
          const magic = dv.getUint32(off, false);
          if (magic === BLOCK_SHB) {
            this.mode = Mode.Pcapng;
            break;
          }
          if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS) this.le = false;
          else if (magic === PCAP_MAGIC_US_SWAPPED || magic === PCAP_MAGIC_NS_SWAPPED) this.le = true;
          else {
            this.unknownMagic(magic);
            return end;
          }
          this.nanos = magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_NS_SWAPPED;
          this.mode = Mode.PcapHeader;
          break;
        }
        case Mode.PcapHeader: {
          if (avail < PCAP_HEADER_LEN) {
            this.need = PCAP_HEADER_LEN;
            return off;
          }
          this.pcapHeader(dv, off);
          off += PCAP_HEADER_LEN;
          break;
        }
        default:
          return end;
      }
    }
    return off;
  }

  private emit(
    frame: number,
    interfaceId: number,
    linktype: number,
    timestamp: number,
    caplen: number,
    origlen: number,
    buf: Uint8Array,
    start: number,
  ): void {
    if (this.raw !== undefined) {
      this.raw.rawFrame(frame, this.section, interfaceId, linktype, timestamp, caplen, origlen, buf, start);
      return;
    }
    this.handler.frame({
      type: 'frame',
      frame,
      section: this.section,
      interfaceId,
      linktype,
      timestamp,
      caplen,
      origlen,
      data: buf.subarray(start, start + caplen),
    });
  }

  private unknownMagic(magic: number): void {
    if (magic === PCAP_MAGIC_MODIFIED || magic === PCAP_MAGIC_MODIFIED_SWAPPED) {
      this.stop(0, 'unsupported-format', 'modified ("Kuznetzov") pcap format (magic 0xa1b2cd34) is not supported');
    } else if (magic >>> 16 === GZIP_MAGIC16) {
      this.stop(0, 'unsupported-format', 'input is gzip-compressed: decompress it first (e.g. gunzip)');
    } else {
      this.stop(0, 'not-a-capture', `input starts with 0x${hex32(magic)}, not a pcap or pcapng magic number`);
    }
  }

  private pcapHeader(dv: DataView, off: number): void {
    const le = this.le;
    const snaplen = dv.getUint32(off + PCAP_OFF_SNAPLEN, le);
    const linktype = dv.getUint32(off + PCAP_OFF_LINKTYPE, le) & PCAP_LINKTYPE_MASK;
    this.caplenLimit = Math.min(Math.max(PCAP_MAX_SANE_CAPLEN, snaplen), this.maxRecord);
    this.section = 0;
    const iface: CaptureInterface = {
      id: 0,
      section: 0,
      linktype,
      linktypeName: linktypeName(linktype),
      snaplen,
      tsUnitsPerSecond: this.nanos ? NANOS_PER_SECOND : MICROS_PER_SECOND,
      tsOffset: 0,
    };
    this.ifaces = [iface];
    this.hdr = {
      format: 'pcap',
      version: `${dv.getUint16(off + PCAP_OFF_VERSION_MAJOR, le)}.${dv.getUint16(off + PCAP_OFF_VERSION_MINOR, le)}`,
      byteOrder: le ? 'little' : 'big',
      snaplen,
      timestampPrecision: this.nanos ? 'ns' : 'us',
      interfaces: [iface],
      sections: 1,
    };
    this.mode = Mode.PcapRecords;
    this.handler.header?.(this.hdr);
    this.handler.interface?.(iface);
  }

  private block(type: number, buf: Uint8Array, dv: DataView, off: number, len: number): void {
    const le = this.le;
    switch (type) {
      case BLOCK_EPB:
      case BLOCK_PB: {
        const epb = type === BLOCK_EPB;
        const frame = ++this.frames;
        if (len < (epb ? EPB_MIN_LEN : PB_MIN_LEN)) {
          this.problem(frame, 'bad-block', `frame ${frame}: packet block of ${len} bytes is too short`);
          return;
        }
        const ifid = epb ? dv.getUint32(off + EPB_OFF_IFACE, le) : dv.getUint16(off + PB_OFF_IFACE, le);
        const caplen = dv.getUint32(off + (epb ? EPB_OFF_CAPLEN : PB_OFF_CAPLEN), le);
        const dataOff = off + (epb ? EPB_DATA : PB_DATA);
        if (caplen > len - (epb ? EPB_MIN_LEN : PB_MIN_LEN)) {
          this.problem(
            frame,
            'bad-block',
            `frame ${frame}: captured length ${caplen} does not fit in its ${len}-byte block`,
          );
          return;
        }
        const iface = this.ifaces[ifid];
        if (iface === undefined) {
          this.problem(
            frame,
            'bad-interface',
            `frame ${frame}: refers to interface ${ifid}, but section ${this.section} describes ${this.ifaces.length}`,
          );
          return;
        }
        const hi = dv.getUint32(off + (epb ? EPB_OFF_TS_HIGH : PB_OFF_TS_HIGH), le);
        const lo = dv.getUint32(off + (epb ? EPB_OFF_TS_LOW : PB_OFF_TS_LOW), le);
        const timestamp = (hi * TWO_POW_32 + lo) / iface.tsUnitsPerSecond + iface.tsOffset;
        this.lastTs = timestamp;
        this.emit(
          frame,
          ifid,
          iface.linktype,
          timestamp,
          caplen,
          dv.getUint32(off + (epb ? EPB_OFF_ORIGLEN : PB_OFF_ORIGLEN), le),
          buf,
          dataOff,
        );
        return;
      }
      case BLOCK_SPB: {
        const frame = ++this.frames;
        const iface = this.ifaces[0];
        if (len < SPB_MIN_LEN || iface === undefined) {
          this.problem(frame, 'bad-block', `frame ${frame}: simple packet block without interface 0 or too short`);
          return;
        }
        const origlen = dv.getUint32(off + SPB_OFF_ORIGLEN, le);
        let caplen = Math.min(origlen, len - SPB_MIN_LEN);
        if (iface.snaplen > 0 && caplen > iface.snaplen) caplen = iface.snaplen;
        // A simple packet block has no timestamp: it gets that of the packet before it.
        this.emit(frame, 0, iface.linktype, this.lastTs, caplen, origlen, buf, off + SPB_DATA);
        return;
      }
      case BLOCK_IDB:
        this.interfaceBlock(buf, dv, off, len);
        return;
      case BLOCK_SHB:
        this.sectionHeader(dv, off, len);
        return;
      default:
        // Name resolution, statistics, decryption secrets and custom blocks carry no packets.
        if (!isKnownNonPacketBlock(type)) {
          this.problem(
            this.frames + 1,
            'unknown-block',
            `pcapng block of unknown type 0x${hex32(type)} (${len} bytes) after frame ${this.frames} skipped`,
          );
        }
        return;
    }
  }

  private sectionHeader(dv: DataView, off: number, len: number): void {
    if (len < SHB_MIN_LEN) {
      this.stop(
        this.frames + 1,
        'bad-section-header',
        `pcapng section header after frame ${this.frames} is ${len} bytes, below ${SHB_MIN_LEN}`,
      );
      return;
    }
    const major = dv.getUint16(off + SHB_OFF_MAJOR, this.le);
    const minor = dv.getUint16(off + SHB_OFF_MINOR, this.le);
    if (major !== 1) {
      this.stop(
        this.frames + 1,
        'unsupported-format',
        `pcapng section version ${major}.${minor} is not supported (only 1.x)`,
      );
      return;
    }
    this.section++;
    this.ifaces = [];
    this.ifaceOverflow = false;
    const version = `${major}.${minor}`;
    const byteOrder = this.le ? 'little' : 'big';
    if (this.hdr === undefined) {
      this.hdr = {
        format: 'pcapng',
        version,
        byteOrder,
        snaplen: 0,
        timestampPrecision: 'us',
        interfaces: [],
        sections: 1,
      };
      this.handler.header?.(this.hdr);
    } else {
      this.hdr.version = version;
      this.hdr.byteOrder = byteOrder;
      this.hdr.sections++;
    }
  }

  private interfaceBlock(buf: Uint8Array, dv: DataView, off: number, len: number): void {
    const le = this.le;
    if (len < IDB_MIN_LEN) {
      this.problem(
        this.frames + 1,
        'bad-block',
        `interface description block after frame ${this.frames} is ${len} bytes, below ${IDB_MIN_LEN}`,
      );
      return;
    }
    if (this.ifaces.length >= MAX_SECTION_INTERFACES) {
      if (!this.ifaceOverflow) {
        this.ifaceOverflow = true;
        this.problem(
          this.frames + 1,
          'bad-block',
          `section ${this.section} describes more than ${MAX_SECTION_INTERFACES} interfaces; ignoring the rest`,
        );
      }
      return;
    }
    const linktype = dv.getUint16(off + IDB_OFF_LINKTYPE, le);
    const iface: CaptureInterface = {
      id: this.ifaces.length,
      section: this.section,
      linktype,
      linktypeName: linktypeName(linktype),
      snaplen: dv.getUint32(off + IDB_OFF_SNAPLEN, le),
      tsUnitsPerSecond: 1e6,
      tsOffset: 0,
    };
    let precision = 'us';
    // Options: code, length, value padded to 4 bytes; stop at opt_endofopt or the trailing length.
    let p = off + IDB_OPTIONS;
    const optEnd = off + len - 4;
    while (p + OPT_HEADER_LEN <= optEnd) {
      const code = dv.getUint16(p, le);
      const olen = dv.getUint16(p + 2, le);
      const v = p + OPT_HEADER_LEN;
      if (code === OPT_END || v + olen > optEnd) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const r = buf[v];
        const exp = r & TSRESOL_EXPONENT_MASK;
        if (r & TSRESOL_POWER_OF_TWO) {
          iface.tsUnitsPerSecond = 2 ** exp;
          precision = `2^-${exp}`;
        } else {
          iface.tsUnitsPerSecond = 10 ** exp;
          precision = exp === 3 ? 'ms' : exp === 6 ? 'us' : exp === 9 ? 'ns' : `10^-${exp}`;
        }
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        iface.tsOffset = Number(dv.getBigInt64(v, le));
      } else if (code === OPT_IF_NAME && olen > 0) {
        iface.name = new TextDecoder().decode(buf.subarray(v, v + olen)).replace(/\0+$/, '');
      }
      p = v + ((olen + 3) & ~3);
    }
    if (iface.tsUnitsPerSecond === 0 || !Number.isFinite(iface.tsUnitsPerSecond)) iface.tsUnitsPerSecond = 1e6;
    this.ifaces.push(iface);
    const hdr = this.hdr;
    if (hdr !== undefined) {
      if (hdr.interfaces.length === 0) {
        hdr.snaplen = iface.snaplen;
        hdr.timestampPrecision = precision;
      }
      if (hdr.interfaces.length < MAX_HEADER_INTERFACES) hdr.interfaces.push(iface);
    }
    this.handler.interface?.(iface);
  }
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function hex32(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
