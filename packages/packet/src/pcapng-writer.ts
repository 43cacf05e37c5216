/**
 * Streaming pcapng writer: a Section Header Block, one Interface Description Block per capture interface
 * (its link type, snapshot length and timestamp resolution) and one Enhanced Packet Block per frame with its
 * original timestamp and original length. Every method returns the bytes of the blocks it made, so a caller
 * can stream a capture of any size without holding it (pcapng-spec, draft-ietf-opsawg-pcapng).
 *
 * @example
 * const w = new PcapngWriter();
 * out.write(w.header());
 * const ifid = w.interfaceId({ linktype: LINKTYPE.ETHERNET, snaplen: 262144 });
 * out.write(w.interfaceBlocks());
 * out.write(w.packet(ifid, frame.timestamp, frame.data, frame.origlen));
 */
/** Block types (pcapng §4). */
export const PCAPNG_BLOCK = { SHB: 0x0a0d0d0a, IDB: 0x00000001, EPB: 0x00000006 } as const;
/** Section header byte-order magic, written in the writer's (little-endian) order. */
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const VERSION_MAJOR = 1;
const VERSION_MINOR = 0;
/** Section length -1: not given (the section is streamed). */
const SECTION_LENGTH_UNKNOWN = -1n;

// Block framing: type, total length, body, total length again.
const BLOCK_HEADER = 8;
const BLOCK_TRAILER = 4;
const SHB_BODY = 16;
const IDB_BODY = 8;
const EPB_BODY = 20;

// Options: code, length, value padded to 4 bytes; the list ends with opt_endofopt.
const OPT_END = 0;
const OPT_COMMENT = 1;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;
const OPT_HEADER = 4;

/** Timestamp resolutions the writer offers, as powers of ten (if_tsresol with bit 7 clear). */
export const TSRESOL = { MICRO: 6, NANO: 9 } as const;

/** What one Interface Description Block says. */
export interface PcapngInterface {
  /** pcap LINKTYPE_ number. */
  linktype: number;
  /** Snapshot length; 0 means "no limit" (the pcapng default when unknown). */
  snaplen: number;
  /** Decimal exponent of the timestamp unit: {@link TSRESOL}.MICRO (default) or .NANO. */
  tsresol?: number;
  /** Interface name (if_name), e.g. `eth0`. */
  name?: string;
}

const encoder = new TextEncoder();
const pad4 = (n: number): number => (n + 3) & ~3;

/** Bytes of an option list (with its end marker), or none for no options. */
function optionBytes(options: readonly { code: number; value: Uint8Array }[]): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  let size = OPT_HEADER;
  for (const o of options) size += OPT_HEADER + pad4(o.value.length);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const o of options) {
    v.setUint16(at, o.code, true);
    v.setUint16(at + 2, o.value.length, true);
    out.set(o.value, at + OPT_HEADER);
    at += OPT_HEADER + pad4(o.value.length);
  }
  v.setUint16(at, OPT_END, true);
  return out;
}

/** A whole block: `body` then `options`, framed by the type and the total length twice. */
function block(type: number, body: Uint8Array, options: Uint8Array): Uint8Array {
  const total = BLOCK_HEADER + body.length + options.length + BLOCK_TRAILER;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, total, true);
  out.set(body, BLOCK_HEADER);
  out.set(options, BLOCK_HEADER + body.length);
  v.setUint32(total - BLOCK_TRAILER, total, true);
  return out;
}

/**
 * Writes one pcapng section, little-endian. Interfaces are declared with {@link PcapngWriter.interfaceId}
 * before their first packet; {@link PcapngWriter.interfaceBlocks} hands out the IDBs not yet written (they
 * may follow packets of other interfaces: a reader learns each interface before its first packet).
 */
export class PcapngWriter {
  private readonly interfaces: Required<Omit<PcapngInterface, 'name'>>[] = [];
  private readonly keys = new Map<string, number>();
  private readonly unitsPerSecond: number[] = [];
  private readonly names: (string | undefined)[] = [];
  private written = 0;
  /** Enhanced packet blocks made. */
  packets = 0;

  /** @param application the writing program (shb_userappl), e.g. `ca-shark 1.2.0` */
  constructor(private readonly application = 'ca-shark') {}

  /** The Section Header Block (first in the file). */
  header(comment?: string): Uint8Array {
    const body = new Uint8Array(SHB_BODY);
    const v = new DataView(body.buffer);
    v.setUint32(0, BYTE_ORDER_MAGIC, true);
    v.setUint16(4, VERSION_MAJOR, true);
    v.setUint16(6, VERSION_MINOR, true);
    v.setBigInt64(8, SECTION_LENGTH_UNKNOWN, true);
    const options = [{ code: OPT_SHB_USERAPPL, value: encoder.encode(this.application) }];
    if (comment !== undefined) options.push({ code: OPT_COMMENT, value: encoder.encode(comment) });
    return block(PCAPNG_BLOCK.SHB, body, optionBytes(options));
  }

  /**
   * The interface id of `iface` in this file, declaring it on first use (equal descriptions share one id).
   * Write {@link PcapngWriter.interfaceBlocks} before the first packet that uses a new id.
   */
  interfaceId(iface: PcapngInterface): number {
    const tsresol = iface.tsresol ?? TSRESOL.MICRO;
    const key = `${iface.linktype}/${iface.snaplen}/${tsresol}/${iface.name ?? ''}`;
    let id = this.keys.get(key);
    if (id === undefined) {
      id = this.addInterface(iface);
      this.keys.set(key, id);
    }
    return id;
  }

  /**
   * Declares a new interface even when one with the same description exists: for a writer that copies
   * interfaces one for one (two alike capture interfaces stay two). Write {@link PcapngWriter.interfaceBlocks}
   * before its first packet.
   */
  addInterface(iface: PcapngInterface): number {
    const tsresol = iface.tsresol ?? TSRESOL.MICRO;
    this.interfaces.push({ linktype: iface.linktype, snaplen: iface.snaplen, tsresol });
    this.unitsPerSecond.push(10 ** tsresol);
    this.names.push(iface.name);
    return this.interfaces.length - 1;
  }

  /** The IDBs of interfaces declared since the last call (empty when none are new). */
  interfaceBlocks(): Uint8Array {
    const parts: Uint8Array[] = [];
    for (; this.written < this.interfaces.length; this.written++) {
      const iface = this.interfaces[this.written];
      const body = new Uint8Array(IDB_BODY);
      const v = new DataView(body.buffer);
      v.setUint16(0, iface.linktype, true);
      // bytes 2-3 reserved (0)
      v.setUint32(4, iface.snaplen, true);
      const options = [{ code: OPT_IF_TSRESOL, value: Uint8Array.of(iface.tsresol) }];
      const name = this.names[this.written];
      if (name !== undefined) options.push({ code: OPT_IF_NAME, value: encoder.encode(name) });
      parts.push(block(PCAPNG_BLOCK.IDB, body, optionBytes(options)));
    }
    return concat(parts);
  }

  /**
   * One Enhanced Packet Block.
   * @param interfaceId an id from {@link PcapngWriter.interfaceId} whose IDB was written
   * @param timestamp seconds since the Unix epoch (written at the interface's resolution)
   * @param data the captured bytes
   * @param origlen the length on the wire (at least `data.length`)
   */
  packet(interfaceId: number, timestamp: number, data: Uint8Array, origlen: number): Uint8Array {
    const units = this.unitsPerSecond[interfaceId];
    if (units === undefined) throw new RangeError(`interface ${interfaceId} was never declared`);
    const total = BLOCK_HEADER + EPB_BODY + pad4(data.length) + BLOCK_TRAILER;
    const out = new Uint8Array(total);
    const v = new DataView(out.buffer);
    v.setUint32(0, PCAPNG_BLOCK.EPB, true);
    v.setUint32(4, total, true);
    v.setUint32(8, interfaceId, true);
    // Whole seconds and the fraction apart: seconds × 10^9 is beyond a double's exact integers.
    const sec = Math.floor(timestamp);
    let frac = Math.round((timestamp - sec) * units);
    let whole = sec;
    if (frac >= units) {
      whole += 1;
      frac -= units;
    }
    const ticks = BigInt(whole) * BigInt(units) + BigInt(frac);
    v.setUint32(12, Number(ticks >> 32n), true);
    v.setUint32(16, Number(ticks & 0xffffffffn), true);
    v.setUint32(20, data.length, true);
    v.setUint32(24, Math.max(origlen, data.length), true);
    out.set(data, BLOCK_HEADER + EPB_BODY);
    v.setUint32(total - BLOCK_TRAILER, total, true);
    this.packets++;
    return out;
  }
}

/**
 * A pcapng file made a chunk at a time: the section header first, then each packet after the IDBs of the
 * interfaces declared since the previous packet. The caller declares interfaces on {@link PcapngChunks.writer}
 * and takes the bytes gathered so far whenever it wants to send them (e.g. once {@link PcapngChunks.bytes}
 * passes its chunk size), so an export holds one chunk, never the file.
 */
export class PcapngChunks {
  /** The writer of this file: declare interfaces with its `interfaceId`. */
  readonly writer: PcapngWriter;
  private parts: Uint8Array[] = [];
  private size = 0;

  /** @param application the writing program (shb_userappl); @param comment the section's comment */
  constructor(application?: string, comment?: string) {
    this.writer = new PcapngWriter(application);
    this.push(this.writer.header(comment));
  }

  /** Bytes gathered and not yet taken. */
  get bytes(): number {
    return this.size;
  }

  /** Adds one packet of `interfaceId` (see {@link PcapngWriter.packet}), after any IDB not yet written. */
  packet(interfaceId: number, timestamp: number, data: Uint8Array, origlen: number): void {
    const idbs = this.writer.interfaceBlocks();
    if (idbs.length > 0) this.push(idbs);
    this.push(this.writer.packet(interfaceId, timestamp, data, origlen));
  }

  /** The bytes gathered since the last call, as one array (empty when none). */
  take(): Uint8Array {
    const out = concat(this.parts);
    this.parts = [];
    this.size = 0;
    return out;
  }

  private push(block: Uint8Array): void {
    this.parts.push(block);
    this.size += block.length;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  if (parts.length === 0) return new Uint8Array(0);
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
