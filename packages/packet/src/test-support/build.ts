/**
 * Byte-level builders for test captures: frames (Ethernet, SLL, SLL2, NULL/LOOP, raw), IPv4, TCP, UDP, and
 * pcap / pcapng files in either byte order. Written from the format specifications, independent of the
 * parsing code under test.
 */

export function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function ip(text: string): number[] {
  return text.split('.').map(Number);
}

export function mac(text: string): number[] {
  return text.split(':').map((h) => parseInt(h, 16));
}

export const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function u16be(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}
function u32be(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

export interface Ipv4Spec {
  src?: string;
  dst?: string;
  proto: number;
  payload: Uint8Array;
  id?: number;
  /** Flags (3 bits) and fragment offset in bytes. */
  flags?: number;
  fragOffset?: number;
  ttl?: number;
  options?: number[];
  /** Override the total length field. */
  totalLength?: number;
}

export function ipv4(s: Ipv4Spec): Uint8Array {
  const opts = s.options ?? [];
  const hl = 20 + opts.length;
  if (hl % 4 !== 0) throw new Error('options must pad to 4 bytes');
  const total = s.totalLength ?? hl + s.payload.length;
  const frag = ((s.flags ?? 0) << 13) | ((s.fragOffset ?? 0) / 8);
  const h = [
    0x40 | (hl / 4),
    0,
    ...u16be(total),
    ...u16be(s.id ?? 1),
    ...u16be(frag),
    s.ttl ?? 64,
    s.proto,
    0x12,
    0x34, // checksum deliberately wrong: the layer must not care
    ...ip(s.src ?? '10.0.0.1'),
    ...ip(s.dst ?? '10.0.0.2'),
    ...opts,
  ];
  return concat([Uint8Array.from(h), s.payload]);
}

export interface TcpSpec {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  flags?: number;
  payload?: Uint8Array;
  win?: number;
}

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

export function tcp(s: TcpSpec): Uint8Array {
  const h = [
    ...u16be(s.sport),
    ...u16be(s.dport),
    ...u32be(s.seq >>> 0),
    ...u32be((s.ack ?? 0) >>> 0),
    5 << 4,
    s.flags ?? ACK,
    ...u16be(s.win ?? 65535),
    0,
    0,
    0,
    0,
  ];
  return concat([Uint8Array.from(h), s.payload ?? new Uint8Array(0)]);
}

export function udp(sport: number, dport: number, payload: Uint8Array, ulen?: number): Uint8Array {
  return concat([
    Uint8Array.from([...u16be(sport), ...u16be(dport), ...u16be(ulen ?? 8 + payload.length), 0, 0]),
    payload,
  ]);
}

export function ether(
  payload: Uint8Array,
  opts: { type?: number; vlans?: Array<[number, number]>; src?: string; dst?: string } = {},
): Uint8Array {
  const tags: number[] = [];
  for (const [tpid, vid] of opts.vlans ?? []) tags.push(...u16be(tpid), ...u16be(vid));
  return concat([
    Uint8Array.from([
      ...mac(opts.dst ?? '02:00:00:00:00:02'),
      ...mac(opts.src ?? '02:00:00:00:00:01'),
      ...tags,
      ...u16be(opts.type ?? 0x0800),
    ]),
    payload,
  ]);
}

export function sll(
  payload: Uint8Array,
  opts: { protocol?: number; packetType?: number; addr?: number[] } = {},
): Uint8Array {
  const addr = opts.addr ?? [2, 0, 0, 0, 0, 1];
  const a8 = [...addr, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, 8);
  return concat([
    Uint8Array.from([
      ...u16be(opts.packetType ?? 0),
      ...u16be(1),
      ...u16be(addr.length),
      ...a8,
      ...u16be(opts.protocol ?? 0x0800),
    ]),
    payload,
  ]);
}

export function sll2(
  payload: Uint8Array,
  opts: { protocol?: number; ifindex?: number; packetType?: number } = {},
): Uint8Array {
  return concat([
    Uint8Array.from([
      ...u16be(opts.protocol ?? 0x0800),
      0,
      0,
      ...u32be(opts.ifindex ?? 1),
      ...u16be(1),
      opts.packetType ?? 4,
      6,
      ...mac('02:00:00:00:00:01'),
      0,
      0,
    ]),
    payload,
  ]);
}

/** BSD NULL / LOOP header: address family in the given byte order. */
export function nullHdr(payload: Uint8Array, af: number, littleEndian: boolean): Uint8Array {
  const h = littleEndian ? [af & 0xff, (af >> 8) & 0xff, 0, 0] : u32be(af);
  return concat([Uint8Array.from(h), payload]);
}

/** Fields in one byte order, for the capture files' headers and blocks (and raw block bodies in tests). */
export class Writer {
  private parts: number[] = [];
  constructor(private readonly le: boolean) {}
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    const b = [(v >> 8) & 0xff, v & 0xff];
    this.parts.push(...(this.le ? b.reverse() : b));
    return this;
  }
  u32(v: number): this {
    const b = u32be(v >>> 0);
    this.parts.push(...(this.le ? b.reverse() : b));
    return this;
  }
  u64(v: bigint): this {
    const b: number[] = [];
    for (let i = 7; i >= 0; i--) b.push(Number((BigInt.asUintN(64, v) >> BigInt(i * 8)) & 0xffn));
    this.parts.push(...(this.le ? b.reverse() : b));
    return this;
  }
  raw(b: Uint8Array | number[]): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  pad4(): this {
    while (this.parts.length % 4 !== 0) this.parts.push(0);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export interface PcapRecord {
  /** Seconds; fraction in µs or ns per the file's magic. */
  sec: number;
  frac?: number;
  data: Uint8Array;
  origlen?: number;
}

export function pcapFile(opts: {
  le?: boolean;
  nanos?: boolean;
  snaplen?: number;
  linktype: number;
  records: PcapRecord[];
}): Uint8Array {
  const w = new Writer(opts.le ?? true);
  w.u32(opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(opts.snaplen ?? 262144)
    .u32(opts.linktype);
  for (const r of opts.records) {
    w.u32(r.sec)
      .u32(r.frac ?? 0)
      .u32(r.data.length)
      .u32(r.origlen ?? r.data.length)
      .raw(r.data);
  }
  return w.bytes();
}

export interface NgInterface {
  linktype: number;
  snaplen?: number;
  /** Raw if_tsresol byte. */
  tsresol?: number;
  tsoffset?: bigint;
  name?: string;
}

export type NgBlock =
  | {
      kind: 'epb';
      iface: number;
      ts: bigint;
      data: Uint8Array;
      origlen?: number;
      /** Options after the packet data: opt_comment and epb_flags. */
      comment?: string;
      flags?: number;
    }
  | { kind: 'pb'; iface: number; ts: bigint; data: Uint8Array; origlen?: number }
  | { kind: 'spb'; data: Uint8Array; origlen?: number }
  | { kind: 'idb'; iface: NgInterface }
  | { kind: 'raw'; type: number; body: Uint8Array };

export interface NgSection {
  le?: boolean;
  /** The section header's opt_comment. */
  comment?: string;
  interfaces: NgInterface[];
  blocks: NgBlock[];
}

function block(le: boolean, type: number, body: Writer): Uint8Array {
  body.pad4();
  const len = 12 + body.length;
  return new Writer(le).u32(type).u32(len).raw(body.bytes()).u32(len).bytes();
}

/** One option (code, length, value padded to 4 bytes) appended to a block body. */
function option(body: Writer, code: number, value: Uint8Array): Writer {
  return body.u16(code).u16(value.length).raw(value).pad4();
}

function idb(le: boolean, i: NgInterface): Uint8Array {
  const b = new Writer(le)
    .u16(i.linktype)
    .u16(0)
    .u32(i.snaplen ?? 0);
  if (i.name !== undefined) option(b, 2, text(i.name));
  if (i.tsresol !== undefined) b.u16(9).u16(1).u8(i.tsresol).pad4();
  if (i.tsoffset !== undefined) b.u16(14).u16(8).u64(i.tsoffset);
  if (i.name !== undefined || i.tsresol !== undefined || i.tsoffset !== undefined) b.u16(0).u16(0);
  return block(le, 1, b);
}

export function pcapngFile(sections: NgSection[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const s of sections) {
    const le = s.le ?? true;
    const header = new Writer(le).u32(0x1a2b3c4d).u16(1).u16(0).u64(-1n);
    if (s.comment !== undefined) option(header, 1, text(s.comment)).u16(0).u16(0);
    parts.push(block(le, 0x0a0d0d0a, header));
    for (const i of s.interfaces) parts.push(idb(le, i));
    for (const b of s.blocks) {
      switch (b.kind) {
        case 'epb':
        case 'pb': {
          const w = new Writer(le);
          if (b.kind === 'epb') w.u32(b.iface);
          else w.u16(b.iface).u16(0);
          w.u32(Number(b.ts >> 32n))
            .u32(Number(b.ts & 0xffffffffn))
            .u32(b.data.length)
            .u32(b.origlen ?? b.data.length)
            .raw(b.data);
          if (b.kind === 'epb' && (b.comment !== undefined || b.flags !== undefined)) {
            w.pad4();
            if (b.comment !== undefined) option(w, 1, text(b.comment));
            if (b.flags !== undefined) option(w, 2, new Writer(le).u32(b.flags).bytes());
            w.u16(0).u16(0);
          }
          parts.push(block(le, b.kind === 'epb' ? 6 : 2, w));
          break;
        }
        case 'spb':
          parts.push(block(le, 3, new Writer(le).u32(b.origlen ?? b.data.length).raw(b.data)));
          break;
        case 'idb':
          parts.push(idb(le, b.iface));
          break;
        case 'raw':
          parts.push(block(le, b.type, new Writer(le).raw(b.body)));
          break;
      }
    }
  }
  return concat(parts);
}

/** An Ethernet/IPv4/UDP frame. */
export function udpFrame(src: string, sport: number, dst: string, dport: number, payload: Uint8Array): Uint8Array {
  return ether(ipv4({ src, dst, proto: 17, payload: udp(sport, dport, payload) }));
}

/** A raw-IPv4 TCP packet. */
export function tcpPacket(src: string, dst: string, s: TcpSpec): Uint8Array {
  return ipv4({ src, dst, proto: 6, payload: tcp(s) });
}
