/**
 * The batch encoding of records a sensor publishes to NATS (one JetStream message per batch).
 *
 * A record crosses as what the central needs to rebuild the same conversation state a local daemon has:
 * the CA message bytes (header and payload, from which every field, the command and its one-line summary
 * follow) with their transport context (time, frame, endpoints, TCP circuit, role), plus the two things only
 * the sensor's state knows when the central joins mid-conversation: the PV name and the latency. Circuit
 * ends cross as entries of their own. Endpoint addresses and PV names go into a per-batch string table, so
 * a batch of monitor updates of a few channels pays for each name once.
 *
 * Layout (little-endian; `v` = unsigned LEB128 varint):
 *
 *   header  magic u16 | version u8 | reserved u8 | run u32 | firstSeq f64 | records u32 | serverPort u16 |
 *           repeaterPort u16 | strings v | string*
 *   string  byteLength v | UTF-8 bytes
 *   entry   flags u8 | t f64 | frame v | ...
 *     record  src v | sport u16 | dst v | dport u16 | [circuit v] | [pv v] | [latency f64] | size v | rawLength v | raw
 *     close   circuit v | reason u8
 *
 * `firstSeq` numbers the batch's first record in the sensor's run (`run`, random per process): the central
 * skips a batch it already has (a redelivery) by comparing it with the last sequence it took.
 */

/** First bytes of every batch ("CS"). */
export const BATCH_MAGIC = 0x5343;
/** Encoding version; a central refuses other versions. */
export const BATCH_VERSION = 1;
/** Bytes of the fixed header before the string table. */
export const BATCH_HEADER_BYTES = 24;

/** Entry kinds (low two bits of the flags byte). */
export const ENTRY_TCP = 0;
export const ENTRY_UDP = 1;
export const ENTRY_CLOSE = 2;
const ENTRY_MASK = 0x03;
/** Role in bits 2-3: 0 unknown, 1 request, 2 response. */
const ROLE_SHIFT = 2;
const ROLE_MASK = 0x03;
const ROLE_REQUEST = 1;
const ROLE_RESPONSE = 2;
/** The raw bytes are shorter than `size` (cut by the capture, the size cap, or the sensor's raw cap). */
const FLAG_CUT = 0x10;
const FLAG_LATENCY = 0x20;
const FLAG_PV = 0x40;

/** Why a circuit ended, as a byte. */
export const CLOSE_REASONS = ['fin', 'rst', 'timeout', 'evicted'] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** One CA message as it crosses NATS. */
export interface WireMessage {
  kind: 'tcp' | 'udp';
  t: number;
  frame: number;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** Sensor-side TCP circuit id (TCP only). */
  circuit?: number;
  role: 'request' | 'response' | null;
  pv: string | null;
  latency?: number;
  /** Message size on the wire (header + payload). */
  size: number;
  /** The message bytes, possibly fewer than `size` (then `cut`). */
  raw: Uint8Array;
  cut: boolean;
}

/** A circuit the sensor saw end. */
export interface WireClose {
  kind: 'close';
  t: number;
  frame: number;
  circuit: number;
  reason: CloseReason;
}

export type WireEntry = WireMessage | WireClose;

/** A decoded batch. */
export interface DecodedBatch {
  run: number;
  firstSeq: number;
  /** Records (messages) in the batch; closes are not counted. */
  records: number;
  /** The CA ports the sensor decodes with. */
  serverPort: number;
  repeaterPort: number;
  entries: WireEntry[];
}

/** The CA ports a sensor decodes with (the central must know them to take its UDP datagrams). */
export interface SensorPorts {
  serverPort: number;
  repeaterPort: number;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * Builds one batch. Reused: {@link BatchEncoder.take} returns the encoded bytes and starts the next batch.
 * Entries are written as they come (no per-record object is kept); only the string table is assembled at
 * the end, as it must precede the entries.
 */
export class BatchEncoder {
  private body = new Uint8Array(64 * 1024);
  private view = new DataView(this.body.buffer);
  private length = 0;
  private readonly strings = new Map<string, number>();
  private stringBytes = 0;
  private records = 0;
  private firstSeq = 0;

  /**
   * @param run this sensor process's run id
   * @param ports the CA ports the sensor decodes with
   * @param maxRaw message bytes kept per record; a longer message crosses cut (the central sees it truncated)
   */
  constructor(
    private readonly run: number,
    private readonly ports: SensorPorts,
    private readonly maxRaw = 64 * 1024,
    private nextSeq = 1,
  ) {
    this.firstSeq = nextSeq;
  }

  /** Records in the batch being built. */
  get count(): number {
    return this.records;
  }

  /** Approximate encoded size of the batch being built. */
  get bytes(): number {
    return BATCH_HEADER_BYTES + this.stringBytes + this.length;
  }

  /** Sequence number the next record gets. */
  get sequence(): number {
    return this.nextSeq;
  }

  /** Appends one message. */
  message(m: Omit<WireMessage, 'cut'> & { cut?: boolean }): void {
    const raw = m.raw.length > this.maxRaw ? m.raw.subarray(0, this.maxRaw) : m.raw;
    const cut = m.cut === true || raw.length < m.size;
    const role = m.role === 'request' ? ROLE_REQUEST : m.role === 'response' ? ROLE_RESPONSE : 0;
    const flags =
      (m.kind === 'tcp' ? ENTRY_TCP : ENTRY_UDP) |
      (role << ROLE_SHIFT) |
      (cut ? FLAG_CUT : 0) |
      (m.latency !== undefined ? FLAG_LATENCY : 0) |
      (m.pv !== null ? FLAG_PV : 0);
    this.reserve(64 + raw.length);
    this.u8(flags);
    this.f64(m.t);
    this.varint(m.frame);
    this.varint(this.string(m.src));
    this.u16(m.sport);
    this.varint(this.string(m.dst));
    this.u16(m.dport);
    if (m.kind === 'tcp') this.varint(m.circuit ?? 0);
    if (m.pv !== null) this.varint(this.string(m.pv));
    if (m.latency !== undefined) this.f64(m.latency);
    this.varint(m.size);
    this.varint(raw.length);
    this.body.set(raw, this.length);
    this.length += raw.length;
    this.records += 1;
    this.nextSeq += 1;
  }

  /** Appends the end of a circuit. */
  close(c: Omit<WireClose, 'kind'>): void {
    this.reserve(32);
    this.u8(ENTRY_CLOSE);
    this.f64(c.t);
    this.varint(c.frame);
    this.varint(c.circuit);
    this.u8(CLOSE_REASONS.indexOf(c.reason));
  }

  /** True when nothing was added since the last {@link take}. */
  get empty(): boolean {
    return this.length === 0;
  }

  /** The encoded batch (a fresh buffer, transferable), and a new empty batch. */
  take(): Uint8Array {
    const table: Uint8Array[] = [];
    let tableBytes = 0;
    const count = lebLength(this.strings.size);
    for (const s of this.strings.keys()) {
      const b = utf8.encode(s);
      table.push(b);
      tableBytes += lebLength(b.length) + b.length;
    }
    const out = new Uint8Array(BATCH_HEADER_BYTES + count + tableBytes + this.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, BATCH_MAGIC, true);
    v.setUint8(2, BATCH_VERSION);
    v.setUint32(4, this.run >>> 0, true);
    v.setFloat64(8, this.firstSeq, true);
    v.setUint32(16, this.records, true);
    v.setUint16(20, this.ports.serverPort, true);
    v.setUint16(22, this.ports.repeaterPort, true);
    let at = writeLeb(out, BATCH_HEADER_BYTES, this.strings.size);
    for (const b of table) {
      at = writeLeb(out, at, b.length);
      out.set(b, at);
      at += b.length;
    }
    out.set(this.body.subarray(0, this.length), at);
    this.length = 0;
    this.records = 0;
    this.strings.clear();
    this.stringBytes = 0;
    this.firstSeq = this.nextSeq;
    return out;
  }

  private string(s: string): number {
    let index = this.strings.get(s);
    if (index === undefined) {
      index = this.strings.size;
      this.strings.set(s, index);
      this.stringBytes += s.length + 2;
    }
    return index;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.body.length) return;
    const grown = new Uint8Array(Math.max(this.body.length * 2, this.length + n));
    grown.set(this.body.subarray(0, this.length));
    this.body = grown;
    this.view = new DataView(grown.buffer);
  }

  private u8(n: number): void {
    this.body[this.length++] = n;
  }

  private u16(n: number): void {
    this.view.setUint16(this.length, n, true);
    this.length += 2;
  }

  private f64(n: number): void {
    this.view.setFloat64(this.length, n, true);
    this.length += 8;
  }

  private varint(n: number): void {
    this.length = writeLeb(this.body, this.length, n);
  }
}

function lebLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len += 1;
  }
  return len;
}

function writeLeb(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** Thrown for bytes that are not a batch of this version (the central logs and skips the message). */
export class BatchFormatError extends Error {}

/** Cursor over a batch. */
class Reader {
  private readonly view: DataView;
  at = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.at + n > this.bytes.length) throw new BatchFormatError(`batch cut at byte ${this.at}`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++];
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.at, true);
    this.at += 8;
    return v;
  }
  varint(): number {
    let n = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      n += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return n;
      scale *= 0x80;
      if (scale > 2 ** 49) throw new BatchFormatError(`varint too long at byte ${this.at}`);
    }
  }
  bytesOf(n: number): Uint8Array {
    this.need(n);
    const b = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  get done(): boolean {
    return this.at >= this.bytes.length;
  }
}

/** Reads the header of a batch only (run, first sequence, record count). */
export function batchHeader(bytes: Uint8Array): Omit<DecodedBatch, 'entries'> {
  const r = new Reader(bytes);
  r.need(BATCH_HEADER_BYTES);
  if (r.u16() !== BATCH_MAGIC) throw new BatchFormatError('not a ca-shark record batch');
  const version = r.u8();
  if (version !== BATCH_VERSION)
    throw new BatchFormatError(`batch version ${version}, this central reads ${BATCH_VERSION}`);
  r.u8();
  const run = r.u32();
  const firstSeq = r.f64();
  const records = r.u32();
  const serverPort = r.u16();
  const repeaterPort = r.u16();
  return { run, firstSeq, records, serverPort, repeaterPort };
}

/** Decodes a batch. Message bytes are views into `bytes`. */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  const header = batchHeader(bytes);
  const r = new Reader(bytes);
  r.at = BATCH_HEADER_BYTES;
  const strings: string[] = new Array<string>(r.varint());
  for (let i = 0; i < strings.length; i++) strings[i] = fromUtf8.decode(r.bytesOf(r.varint()));
  const str = (i: number): string => {
    const s = strings[i];
    if (s === undefined) throw new BatchFormatError(`string ${i} out of the table`);
    return s;
  };
  const entries: WireEntry[] = [];
  while (!r.done) {
    const flags = r.u8();
    const entry = flags & ENTRY_MASK;
    const t = r.f64();
    const frame = r.varint();
    if (entry === ENTRY_CLOSE) {
      const circuit = r.varint();
      const reason = CLOSE_REASONS[r.u8()];
      if (reason === undefined) throw new BatchFormatError('unknown circuit close reason');
      entries.push({ kind: 'close', t, frame, circuit, reason });
      continue;
    }
    if (entry !== ENTRY_TCP && entry !== ENTRY_UDP) throw new BatchFormatError(`unknown entry kind ${entry}`);
    const src = str(r.varint());
    const sport = r.u16();
    const dst = str(r.varint());
    const dport = r.u16();
    const circuit = entry === ENTRY_TCP ? r.varint() : undefined;
    const pv = (flags & FLAG_PV) !== 0 ? str(r.varint()) : null;
    const latency = (flags & FLAG_LATENCY) !== 0 ? r.f64() : undefined;
    const size = r.varint();
    const raw = r.bytesOf(r.varint());
    const roleBits = (flags >> ROLE_SHIFT) & ROLE_MASK;
    entries.push({
      kind: entry === ENTRY_TCP ? 'tcp' : 'udp',
      t,
      frame,
      src,
      sport,
      dst,
      dport,
      ...(circuit !== undefined ? { circuit } : {}),
      role: roleBits === ROLE_REQUEST ? 'request' : roleBits === ROLE_RESPONSE ? 'response' : null,
      pv,
      ...(latency !== undefined ? { latency } : {}),
      size,
      raw,
      cut: (flags & FLAG_CUT) !== 0,
    });
  }
  return { ...header, entries };
}
