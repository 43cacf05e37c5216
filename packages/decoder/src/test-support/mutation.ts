/**
 * Seeded mutation fuzzing of capture bytes (pcap, pcapng, and the CA messages inside) through the decoder.
 * One case = one fixture, one mutation, and the checks of {@link checkCase}: no exception, bounded output,
 * every record of the frames before the first damaged byte still emitted, and no record lost without a
 * marker (a Malformed or cut record, a packet-layer problem, or a skipped flow). Used by the CI tests
 * (a few thousand cases) and by `pnpm fuzz` (a longer campaign).
 */
import { readFileSync } from 'node:fs';
import { PacketPipeline } from '@ca-shark/packet';
import type { PacketProblem } from '@ca-shark/packet';
import { createDecoder } from '../decoder.js';
import type { SkippedFlow } from '../decoder.js';
import type { CaRecord } from '../record.js';

// Capture framing, for locating frames in the undamaged bytes (independently of the reader under test).
const PCAP_MAGIC_LE = 0xd4c3b2a1;
const PCAP_MAGIC_NS_LE = 0x4d3cb2a1;
const PCAP_HEADER_LEN = 24;
const PCAP_RECORD_HEADER_LEN = 16;
const PCAP_OFF_CAPLEN = 8;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_OFF_BYTE_ORDER = 8;
const PCAPNG_OFF_LEN = 4;
const PCAPNG_PACKET_BLOCKS = new Set([2, 3, 6]);
/** Block types 1..10 are the standard ones (IDB, PB, SPB, NRB, ISB, EPB, IRIG, ARINC, journal, DSB). */
const PCAPNG_LAST_STANDARD_BLOCK = 0x0a;
/** Hone project, Sysdig and custom blocks: skipped as well-formed blocks that carry no CA packets. */
const PCAPNG_OTHER_KNOWN_BLOCK = (type: number): boolean =>
  type === 0x101 || type === 0x102 || (type >= 0x201 && type <= 0x213) || type === 0xbad || type === 0x40000bad;
/** Ethernet + IPv4 + TCP headers without options: where CA bytes usually start in a frame. */
const TYPICAL_HEADERS = 54;

/** The capture fixtures of the packet and decoder packages. */
export const FIXTURES: readonly string[] = [
  'packet/fixtures/example_tcp_data.pcap',
  'packet/fixtures/example_udp_data.pcap',
  'packet/fixtures/catest.pcap',
  'packet/fixtures/ca_arrays.pcapng',
  'packet/fixtures/ca_monitor.pcapng',
  'packet/fixtures/ca_monitor2.pcapng',
  'packet/fixtures/cabeacon.cap',
  'decoder/fixtures/libca-sim.pcap',
];

/** Reads a fixture named as in {@link FIXTURES}. */
export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(`../../../${name}`, import.meta.url)));
}

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Where one frame lies in the capture: its unit (pcap record or pcapng packet block) is [start, end), its
 * captured bytes start at `data`, its UDP or TCP payload at `payload` (`end` when it carries none).
 */
export interface FrameUnit {
  start: number;
  end: number;
  data: number;
  payload: number;
}

/** The frames of an undamaged capture, in order. */
export function frameUnits(bytes: Uint8Array): FrameUnit[] {
  const units = captureUnits(bytes);
  // Payload offsets from the packet layer's zero-copy views into `bytes`.
  const p = new PacketPipeline({
    onEvent: (ev) => {
      const payload = ev.type === 'udp' ? ev.payload : ev.type === 'tcp-data' ? ev.data : null;
      const u = payload !== null && ev.type !== 'problem' ? units[ev.packet.frame - 1] : undefined;
      if (u !== undefined && payload !== null && payload.buffer === bytes.buffer && payload.length > 0)
        u.payload = Math.min(u.payload, payload.byteOffset - bytes.byteOffset);
    },
  });
  p.pushCapture(bytes);
  p.end();
  return units;
}

function captureUnits(bytes: Uint8Array): FrameUnit[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const units: FrameUnit[] = [];
  const magic = dv.getUint32(0, false);
  if (magic === PCAPNG_SHB) {
    let le = true;
    for (let off = 0; off + 12 <= bytes.length;) {
      const type = dv.getUint32(off, le);
      if (type === PCAPNG_SHB) le = dv.getUint32(off + PCAPNG_OFF_BYTE_ORDER, true) === PCAPNG_BYTE_ORDER_MAGIC;
      const len = dv.getUint32(off + PCAPNG_OFF_LEN, le);
      if (PCAPNG_PACKET_BLOCKS.has(type))
        units.push({ start: off, end: off + len, data: off + (type === 3 ? 12 : 28), payload: off + len });
      off += len;
    }
    return units;
  }
  const le = magic === PCAP_MAGIC_LE || magic === PCAP_MAGIC_NS_LE;
  for (let off = PCAP_HEADER_LEN; off + PCAP_RECORD_HEADER_LEN <= bytes.length;) {
    const end = off + PCAP_RECORD_HEADER_LEN + dv.getUint32(off + PCAP_OFF_CAPLEN, le);
    units.push({ start: off, end, data: off + PCAP_RECORD_HEADER_LEN, payload: end });
    off = end;
  }
  return units;
}

/** A mutated capture: the bytes, the first offset that differs from the original, what was done. */
export interface Mutation {
  bytes: Uint8Array;
  firstDamaged: number;
  what: string;
}

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** One seeded mutation of `original` (whose frames are `units`). */
export function mutate(original: Uint8Array, units: FrameUnit[], rand: () => number): Mutation {
  const int = (n: number): number => Math.floor(rand() * n);
  const bytes = original.slice();
  // Most cases hit the CA bytes of a frame; the rest the capture structure or anywhere.
  const unit = units.length > 0 ? units[int(units.length)] : { start: 0, end: bytes.length, data: 0, payload: 0 };
  const payloadFrom = Math.min(unit.end - 1, unit.payload < unit.end ? unit.payload : unit.data + TYPICAL_HEADERS);
  const inPayload = payloadFrom + int(Math.max(1, unit.end - payloadFrom));
  const anywhere = int(bytes.length);
  switch (int(8)) {
    case 0:
    case 1: {
      const at = inPayload;
      bytes[at] ^= 1 + int(255);
      return { bytes, firstDamaged: at, what: `flip byte ${at}` };
    }
    case 2: {
      const at = anywhere;
      bytes[at] ^= 1 << int(8);
      return { bytes, firstDamaged: at, what: `flip a bit of byte ${at}` };
    }
    case 3: {
      // A 16- or 32-bit field (CA header sizes, counts, ids; capture lengths) set to an edge value.
      const at = rand() < 0.5 ? inPayload : unit.start + 4 * int(8);
      const v = INTERESTING_U32[int(INTERESTING_U32.length)];
      const width = rand() < 0.5 ? 2 : 4;
      const first = Math.min(at, bytes.length - width);
      if (first < 0) return { bytes, firstDamaged: bytes.length, what: 'nothing' };
      for (let i = 0; i < width; i++) bytes[first + i] = (v >>> (8 * (width - 1 - i))) & 0xff;
      return { bytes, firstDamaged: first, what: `set ${width} bytes at ${first} to 0x${v.toString(16)}` };
    }
    case 4: {
      const at = rand() < 0.5 ? inPayload : anywhere;
      return { bytes: bytes.subarray(0, at), firstDamaged: at, what: `truncate at ${at}` };
    }
    case 5: {
      const at = inPayload;
      const n = 1 + int(24);
      const out = new Uint8Array(bytes.length + n);
      out.set(bytes.subarray(0, at));
      for (let i = 0; i < n; i++) out[at + i] = int(256);
      out.set(bytes.subarray(at), at + n);
      return { bytes: out, firstDamaged: at, what: `insert ${n} bytes at ${at}` };
    }
    case 6: {
      const at = inPayload;
      const n = 1 + int(24);
      const out = new Uint8Array(bytes.length - Math.min(n, bytes.length - at));
      out.set(bytes.subarray(0, at));
      out.set(bytes.subarray(Math.min(bytes.length, at + n)), at);
      return { bytes: out, firstDamaged: at, what: `delete ${n} bytes at ${at}` };
    }
    default: {
      // Several random bytes in one frame's CA bytes.
      let first = bytes.length;
      const n = 2 + int(6);
      for (let i = 0; i < n; i++) {
        const at = payloadFrom + int(Math.max(1, unit.end - payloadFrom));
        bytes[at] = int(256);
        if (at < first && bytes[at] !== original[at]) first = at;
      }
      return { bytes, firstDamaged: first, what: `randomise ${n} bytes of frame at ${unit.start}` };
    }
  }
}

/** What a decode gave. */
export interface Decoded {
  records: CaRecord[];
  problems: PacketProblem[];
  skipped: readonly SkippedFlow[];
  skippedCount: number;
}

/** Decodes capture bytes in chunks of `chunk` bytes (exceptions propagate: the fuzzer reports them). */
export function decodeCapture(bytes: Uint8Array, chunk = bytes.length): Decoded {
  const records: CaRecord[] = [];
  const problems: PacketProblem[] = [];
  const d = createDecoder({ onRecord: (r) => records.push(r), onProblem: (p) => problems.push(p) });
  const step = Math.max(1, chunk);
  // Empty input is pushed too: it must come out as a problem, like any other unreadable input.
  for (let o = 0; o === 0 || o < bytes.length; o += step) d.pushCapture(bytes.subarray(o, o + step));
  d.end();
  return { records, problems, skipped: d.skippedFlows, skippedCount: d.state.statistics.skipped.flows };
}

/** Does the decode carry a marker of damage? */
export function hasMarker(d: Decoded): boolean {
  if (d.problems.length > 0 || d.skippedCount > 0) return true;
  return d.records.some((r) => r.command.name === 'Malformed' || r.truncated === true);
}

/**
 * Is the byte at `offset` inside a frame's link, IPv4, UDP or TCP header? Damage there re-addresses the
 * packet (another port, another host, not IPv4) and nothing on the wire can tell: the capture holds no
 * trustworthy checksums. Such cases are checked for exceptions and intact frames only.
 */
function inPacketHeaders(units: readonly FrameUnit[], offset: number): boolean {
  return units.some((u) => offset >= u.data && offset < u.payload);
}

/**
 * Damage that leaves a well-formed capture with fewer packets, which nothing can tell from a capture that
 * never had them: a cut exactly between two frames, or a pcapng packet block whose type field now names
 * another known block type (name resolution, an interface description, ...).
 */
function wellFormedLoss(original: Uint8Array, units: readonly FrameUnit[], m: Mutation): boolean {
  const odv = new DataView(original.buffer, original.byteOffset, original.byteLength);
  const pcapng = odv.getUint32(0, false) === PCAPNG_SHB;
  const le = !pcapng || odv.getUint32(PCAPNG_OFF_BYTE_ORDER, true) === PCAPNG_BYTE_ORDER_MAGIC;
  if (m.bytes.length < original.length) {
    // Before the first frame too: a capture of its header alone is a well-formed empty capture.
    if (units.some((u) => u.end === m.bytes.length || u.start === m.bytes.length)) return true;
    // A cut between two pcapng blocks of any kind.
    for (let off = 0; pcapng && off < original.length; off += odv.getUint32(off + PCAPNG_OFF_LEN, le)) {
      if (off === m.bytes.length) return true;
    }
    return false;
  }
  if (!pcapng || m.bytes.length !== original.length) return false;
  const dv = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
  return units.some((u) => {
    const type = dv.getUint32(u.start, le);
    return (
      type !== odv.getUint32(u.start, le) &&
      ((type >= 1 && type <= PCAPNG_LAST_STANDARD_BLOCK) || PCAPNG_OTHER_KNOWN_BLOCK(type))
    );
  });
}

/**
 * The same CA bytes in no more messages: a damaged payload size that grew over the bytes after it (in a
 * stream, or in a datagram it still fills), which then decode as that message's payload, and the stream
 * goes on from its new end: whole messages swallowed, or a message's payload read as a header (zeros read
 * as a VERSION). The grown message comes out with the frame that completes it, later than before. Payloads
 * may be longer than their data (pad, count-0 slack, garbage after a string's NUL: ca-protocol.md 5.6 and
 * 8), so nothing on the wire tells such a message from a real one. The decode must still cover every byte
 * it covered before, or this is loss.
 */
function absorbedByGrownMessage(baseline: Decoded, got: Decoded): boolean {
  return got.records.length <= baseline.records.length && caBytes(got.records) === caBytes(baseline.records);
}

function caBytes(records: readonly CaRecord[]): number {
  let n = 0;
  for (const r of records) n += r.size;
  return n;
}

function perFrame(records: readonly CaRecord[]): Map<number, number> {
  const n = new Map<number, number>();
  for (const r of records) n.set(r.frame, (n.get(r.frame) ?? 0) + 1);
  return n;
}

/**
 * The violations of one case (empty when it passes). `baseline` is the decode of the undamaged capture,
 * `units` its frames. Records are compared by count per frame, not by content: damage to a value, a
 * command id or an address changes a record without losing it, and cannot be detected.
 */
export function checkCase(
  original: Uint8Array,
  baseline: Decoded,
  units: readonly FrameUnit[],
  m: Mutation,
  chunk?: number,
): string[] {
  let got: Decoded;
  try {
    got = decodeCapture(m.bytes, chunk);
  } catch (e) {
    return [`exception: ${(e as Error).stack ?? String(e)}`];
  }
  const violations: string[] = [];
  // Every record covers at least one byte of the capture: more records than bytes would mean a loop.
  if (got.records.length > m.bytes.length)
    violations.push(`${got.records.length} records from ${m.bytes.length} bytes`);
  // Frames wholly before the first damaged byte must decode as before (unless their flow was skipped,
  // which is reported: the damage was in the bytes that would have recognised it).
  let intactFrames = 0;
  while (intactFrames < units.length && units[intactFrames].end <= m.firstDamaged) intactFrames++;
  const before = perFrame(baseline.records);
  const after = perFrame(got.records);
  let lost = 0;
  for (const [frame, n] of before) {
    const missing = n - (after.get(frame) ?? 0);
    if (missing <= 0) continue;
    lost += missing;
    if (frame <= intactFrames && got.skippedCount === 0)
      violations.push(`${missing} records of intact frame ${frame} lost`);
  }
  if (
    lost > 0 &&
    !hasMarker(got) &&
    !inPacketHeaders(units, m.firstDamaged) &&
    !wellFormedLoss(original, units, m) &&
    !absorbedByGrownMessage(baseline, got)
  ) {
    violations.push(`${lost} of ${baseline.records.length} records lost with no marker`);
  }
  return violations;
}

/** One fuzz case from a seed: fixture, mutation, chunking. */
export function runCase(seed: number, fixtures: readonly Fixture[]): { violations: string[]; describe: string } {
  const rand = prng(seed);
  const f = fixtures[Math.floor(rand() * fixtures.length)];
  const m = mutate(f.bytes, f.units, rand);
  // Some cases arrive in small chunks, as from a pipe.
  const chunk = rand() < 0.2 ? 1 + Math.floor(rand() * 700) : undefined;
  return {
    violations: checkCase(f.bytes, f.baseline, f.units, m, chunk),
    describe: `seed ${seed}: ${f.name}: ${m.what}${chunk ? ` (chunks of ${chunk})` : ''}`,
  };
}

/** A fixture with its frames and undamaged decode. */
export interface Fixture {
  name: string;
  bytes: Uint8Array;
  units: FrameUnit[];
  baseline: Decoded;
}

/** Loads the fixtures and decodes them once. */
export function loadFixtures(names: readonly string[] = FIXTURES): Fixture[] {
  return names.map((name) => {
    const bytes = readFixture(name);
    return { name, bytes, units: frameUnits(bytes), baseline: decodeCapture(bytes) };
  });
}
