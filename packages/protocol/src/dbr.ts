/**
 * DBR payload decoder (reference §5) for all 39 types. Never throws: short or garbage payloads give what
 * can be read plus a `problem`.
 */
import type { DbrMetadata, DbrNumericArray, DbrValue } from './types.js';
import { LIMIT_FIELDS, MetaOffset } from './layout.js';
import {
  alarmSeverityName,
  alarmStatusName,
  dbrElementKind,
  dbrMetaKind,
  dbrTypeName,
  dbrValueOffset,
  EPICS_EPOCH_OFFSET,
  MAX_ENUM_STATES,
  MAX_ENUM_STRING_SIZE,
  MAX_STRING_SIZE,
  MAX_UNITS_SIZE,
  type DbrElementKind,
  type DbrMetaKind,
} from './tables.js';

/** Options of {@link decodeDbr}. */
export interface DecodeDbrOptions {
  /**
   * State strings of the channel (from an earlier GR/CTRL_ENUM reply) to label ENUM values with; GR/CTRL
   * ENUM payloads label with their own strings.
   */
  enumStrings?: readonly string[];
  /** Decode at most this many elements (e.g. to preview a large waveform); `count` says how many were decoded. */
  maxElements?: number;
  /**
   * Memory for the numeric arrays of more than {@link TYPED_THRESHOLD} elements, which are typed arrays:
   * called with the bytes an array needs, it returns a view of that many bytes starting at a multiple of 8
   * in its buffer, and the array is made a view of them. Without it each array gets memory of its own. A
   * consumer that drops each value before the next can hand out the same memory again (as `shark()`'s
   * `lendArrays` does) and spare the page faults of fresh memory for every large waveform.
   */
  arrayMemory?: (byteLength: number) => Uint8Array;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

// Big-endian field reads straight from the payload bytes: a DataView per message cost more than the
// reads themselves. Floats go through an 8-byte scratch in host order.
const scratch = new ArrayBuffer(8);
const scratchBytes = new Uint8Array(scratch);
const scratchF64 = new Float64Array(scratch);
const scratchF32 = new Float32Array(scratch);
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * Numeric arrays longer than this decode to typed arrays (see {@link DbrValue.data}); shorter ones, above
 * all the common scalars, to plain arrays, which are cheaper to allocate than an ArrayBuffer's backing
 * store (measured: with 17 instead of 256 here, 32- and 64-element waveforms made real100.pcap 10 %
 * slower).
 */
export const TYPED_THRESHOLD = 256;

function beF64(b: Uint8Array, o: number): number {
  const s = scratchBytes;
  if (HOST_LITTLE_ENDIAN) {
    s[0] = b[o + 7];
    s[1] = b[o + 6];
    s[2] = b[o + 5];
    s[3] = b[o + 4];
    s[4] = b[o + 3];
    s[5] = b[o + 2];
    s[6] = b[o + 1];
    s[7] = b[o];
  } else {
    for (let i = 0; i < 8; i++) s[i] = b[o + i];
  }
  return scratchF64[0];
}

function beF32(b: Uint8Array, o: number): number {
  const s = scratchBytes;
  if (HOST_LITTLE_ENDIAN) {
    s[0] = b[o + 3];
    s[1] = b[o + 2];
    s[2] = b[o + 1];
    s[3] = b[o];
  } else {
    for (let i = 0; i < 4; i++) s[i] = b[o + i];
  }
  return scratchF32[0];
}

function beI32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

function beU32(b: Uint8Array, o: number): number {
  return beI32(b, o) >>> 0;
}

function beI16(b: Uint8Array, o: number): number {
  return (((b[o] << 8) | b[o + 1]) << 16) >> 16;
}

function beU16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

/**
 * A C string inside [start, start + size) cut at the first NUL or the field/payload end. ASCII is the
 * common case; other bytes decode as UTF-8 when valid, else Latin-1 (3.13 peers, garbage after NULs).
 */
export function readCString(b: Uint8Array, start: number, size: number): string {
  return readCStringIn(b, start, size, b.length);
}

/**
 * {@link readCString} of a field in bytes that end at `end` (a payload read in place in a larger buffer).
 * @internal shared with the command decoder.
 */
export function readCStringIn(b: Uint8Array, start: number, size: number, end: number): string {
  const stop = Math.min(end, start + size);
  if (start >= stop) return '';
  let nul = start;
  let ascii = true;
  let hash = FNV_OFFSET;
  while (nul < stop) {
    const c = b[nul];
    if (c === 0) break;
    if (c >= 0x80) ascii = false;
    hash = Math.imul(hash ^ c, FNV_PRIME);
    nul++;
  }
  if (ascii) return nul - start <= INTERN_MAX_LENGTH ? internedAscii(b, start, nul, hash) : latin1(b, start, nul);
  try {
    return utf8.decode(b.subarray(start, nul));
  } catch {
    return latin1(b, start, nul);
  }
}

/** FNV-1a (32-bit) over a string's bytes, which {@link readCStringIn} computes as it looks for the NUL. */
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** Strings of up to this many bytes are interned: PV names (most), DBR_STRING elements (40), units, enum states. */
const INTERN_MAX_LENGTH = 64;
/**
 * Slots of the intern table (a power of two). The PV names of a capture's searches are its most numerous
 * strings: realistic-100mb reads 4,648 distinct strings in 55,319 reads, and with 1,024 slots the names
 * pushed each other out (8,158 misses, each a new string); 4,096 slots miss 5,540 times (32 KiB of
 * slots, the strings they keep besides).
 */
const INTERN_SLOTS = 4096;
/**
 * The strings last read, by hash of their bytes: one per slot, replaced on a miss. The strings of CA
 * payloads repeat (string values and enum states, units of every CTRL read, PV names of a search storm),
 * and making one costs an allocation per character below 12 characters (a string grown one character at
 * a time) or a native call above; a hit costs a comparison with bytes that are already in the cache.
 */
const internTable: string[] = new Array<string>(INTERN_SLOTS).fill('');

/**
 * Whether the intern table holds `s` (ASCII, no NUL, at most {@link INTERN_MAX_LENGTH} characters) in its
 * slot, so that reading its bytes again makes no new string.
 * @internal for tests.
 */
export function internTableHolds(s: string): boolean {
  let hash = FNV_OFFSET;
  for (let i = 0; i < s.length; i++) hash = Math.imul(hash ^ s.charCodeAt(i), FNV_PRIME);
  return internTable[(hash ^ (hash >>> 16)) & (INTERN_SLOTS - 1)] === s;
}

/** The ASCII string of `b[start, end)` (no NUL in it), from the intern table when it is there. */
function internedAscii(b: Uint8Array, start: number, end: number, hash: number): string {
  const slot = (hash ^ (hash >>> 16)) & (INTERN_SLOTS - 1);
  const known = internTable[slot];
  const n = end - start;
  if (known.length === n) {
    let i = 0;
    while (i < n && known.charCodeAt(i) === b[start + i]) i++;
    if (i === n) return known;
  }
  const s = latin1(b, start, end);
  internTable[slot] = s;
  return s;
}

/**
 * Node's native Latin-1 decoding of a byte range (undefined elsewhere). Several times faster than
 * building the string a character at a time for PV names and units, which are then hashed (flattened).
 */
const nativeLatin1: ((this: Uint8Array, start: number, end: number) => string) | undefined = (
  globalThis as { Buffer?: { prototype: { latin1Slice?: (this: Uint8Array, start: number, end: number) => string } } }
).Buffer?.prototype.latin1Slice;
/** Below this length a plain loop beats the native call's overhead. */
const NATIVE_LATIN1_MIN = 12;

function latin1(b: Uint8Array, start: number, end: number): string {
  if (nativeLatin1 !== undefined && end - start >= NATIVE_LATIN1_MIN) return nativeLatin1.call(b, start, end);
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

function readElements(
  b: Uint8Array,
  base: number,
  end: number,
  kind: DbrElementKind,
  n: number,
  memory: ((byteLength: number) => Uint8Array) | undefined,
): number[] | string[] | DbrNumericArray {
  if (kind === 'string') {
    const out: string[] = new Array<string>(n);
    for (let i = 0; i < n; i++) out[i] = readCStringIn(b, base + i * MAX_STRING_SIZE, MAX_STRING_SIZE, end);
    return out;
  }
  if (n > TYPED_THRESHOLD) return readTypedElements(b, base, kind, n, memory);
  // Scalars, most messages: a literal is born with its final elements kind, while `new Array(n)` filled
  // with doubles is allocated twice (holey small integers first, then converted).
  if (n === 1) return [readLimit(b, base, kind)];
  if (n >= DATA_VIEW_MIN_ELEMENTS) return readElementsViewed(b, base, kind, n);
  const out: number[] = new Array<number>(n);
  switch (kind) {
    case 'f64':
      for (let i = 0; i < n; i++) out[i] = beF64(b, base + i * 8);
      break;
    case 'f32':
      for (let i = 0; i < n; i++) out[i] = beF32(b, base + i * 4);
      break;
    case 'i32':
      for (let i = 0; i < n; i++) out[i] = beI32(b, base + i * 4);
      break;
    case 'i16':
      for (let i = 0; i < n; i++) out[i] = beI16(b, base + i * 2);
      break;
    case 'u16':
      for (let i = 0; i < n; i++) out[i] = beU16(b, base + i * 2);
      break;
    case 'u8':
      for (let i = 0; i < n; i++) out[i] = b[base + i];
      break;
  }
  return out;
}

/**
 * From this many elements up a plain array is read through one DataView made for it: its big-endian
 * reads compile to a load and a byte swap, 2.5x faster per element than the scratch-byte helpers for 100
 * doubles; below, making the view costs more than it saves (measured: about even at 8, ahead at 16).
 */
const DATA_VIEW_MIN_ELEMENTS = 12;

/**
 * The DataView of the last bytes viewed. Payloads are read in place, so one pushed chunk's payloads share
 * their bytes: its view is made once instead of once per array (about 100 ns each). Holds on to those
 * bytes until another buffer is viewed, as the deframer's callers do until their next push.
 */
let lastViewed: Uint8Array | null = null;
let lastView: DataView | null = null;

function viewOf(b: Uint8Array): DataView {
  if (b !== lastViewed || lastView === null) {
    lastView = new DataView(b.buffer, b.byteOffset, b.byteLength);
    lastViewed = b;
  }
  return lastView;
}

/** {@link readElements} of `n` ≥ {@link DATA_VIEW_MIN_ELEMENTS} numeric elements. */
function readElementsViewed(b: Uint8Array, base: number, kind: Exclude<DbrElementKind, 'string'>, n: number): number[] {
  const v = viewOf(b);
  const out: number[] = new Array<number>(n);
  switch (kind) {
    case 'f64':
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(base + i * 8);
      break;
    case 'f32':
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(base + i * 4);
      break;
    case 'i32':
      for (let i = 0; i < n; i++) out[i] = v.getInt32(base + i * 4);
      break;
    case 'i16':
      for (let i = 0; i < n; i++) out[i] = v.getInt16(base + i * 2);
      break;
    case 'u16':
      for (let i = 0; i < n; i++) out[i] = v.getUint16(base + i * 2);
      break;
    case 'u8':
      for (let i = 0; i < n; i++) out[i] = b[base + i];
      break;
  }
  return out;
}

/**
 * Numeric arrays above {@link TYPED_THRESHOLD} elements: one copy of the payload bytes, byte-swapped in
 * place to host order, viewed as the element type (no copy when the deframer handed the message's memory
 * over, see {@link handedOver}, and the elements are aligned in it). A plain array of 30,000 doubles cost several times
 * more to build, and every young-generation GC copied it while it lived; a typed array's elements are
 * outside the JS heap. The swap is Node's native one where there is a Buffer: a JS loop over a 30,000
 * element waveform runs mostly unoptimised, as few messages carry one.
 */
function readTypedElements(
  b: Uint8Array,
  base: number,
  kind: Exclude<DbrElementKind, 'string'>,
  n: number,
  memory: ((byteLength: number) => Uint8Array) | undefined,
): DbrNumericArray {
  const size = elementSize(kind);
  const length = n * size;
  let bytes: Uint8Array;
  const inPlace = b.byteOffset + base;
  if (memory === undefined && b.buffer === handedOver && (inPlace & (size - 1)) === 0) {
    // A message assembled apart and handed over by the deframer: its memory becomes the array's.
    bytes = new Uint8Array(handedOver, inPlace, length);
  } else {
    bytes = memory !== undefined ? memory(length) : uninitialisedBytes(length);
    bytes.set(b.subarray(base, base + length));
  }
  const buffer = bytes.buffer as ArrayBuffer;
  const at = bytes.byteOffset;
  if (HOST_LITTLE_ENDIAN && size > 1) swapInPlace(bytes, size);
  switch (kind) {
    case 'f64':
      return new Float64Array(buffer, at, n);
    case 'f32':
      return new Float32Array(buffer, at, n);
    case 'i32':
      return new Int32Array(buffer, at, n);
    case 'i16':
      return new Int16Array(buffer, at, n);
    case 'u16':
      return new Uint16Array(buffer, at, n);
    case 'u8':
      return new Uint8Array(buffer, at, n);
  }
}

/**
 * The memory of the message whose frame is being decoded, when the deframer assembled that message in
 * memory of its own and hands it over (its option `handOverLarge`, set through {@link handOverMemory}):
 * {@link readTypedElements} then swaps the elements in place and views them there, where it would copy
 * them. Null at any other time.
 */
let handedOver: ArrayBuffer | null = null;

/**
 * Hands `buffer` over to the arrays decoded until the next call (null: none), and returns what was
 * handed over before, for the caller to restore: the deframer calls it around the callback of a frame
 * whose message it assembled in memory nothing else reads again.
 * @internal shared with the deframer.
 */
export function handOverMemory(buffer: ArrayBuffer | null): ArrayBuffer | null {
  const outer = handedOver;
  handedOver = buffer;
  return outer;
}

/**
 * A new byte array of its own ArrayBuffer, left unfilled where Node allows it: every byte is written
 * next, so zero-filling would be one more pass over a waveform's memory.
 * @internal shared with the deframer.
 */
export function uninitialisedBytes(length: number): Uint8Array {
  if (NodeBuffer === undefined) return new Uint8Array(length);
  if (!mallocThresholdsRaised) raiseMallocThresholds(NodeBuffer);
  return NodeBuffer.allocUnsafeSlow(length);
}

/**
 * Size of the block {@link raiseMallocThresholds} lets go: 16 MiB, under glibc's 32 MiB cap
 * (`DEFAULT_MMAP_THRESHOLD_MAX` on 64-bit) above which a freed block leaves the thresholds as they are.
 */
export const MALLOC_THRESHOLD_BLOCK = 16 * 1024 * 1024;
let mallocThresholdsRaised = false;

/**
 * Makes glibc's malloc keep freed waveform memory for reuse, once per process, before the first array is
 * given fresh memory. glibc maps each block above its mmap threshold (128 KiB at start) anew and gives the
 * heap's free top back to the kernel beyond its trim threshold (twice the mmap one), so every copy of a
 * 30,000-element waveform (240 KB) faulted its pages in again: on a realistic 1 GB capture a plain `node`
 * loop over `shark()` made 60-110k page faults and spent 0.5-1 s in the kernel. Freeing a mapped block
 * raises both thresholds to its size (mallopt(3), "dynamic mmap threshold"), as the `ca-shark` bin's
 * `GLIBC_TUNABLES` set them for its own process; so one block of {@link MALLOC_THRESHOLD_BLOCK} is
 * allocated and dropped, never written (none of its pages is faulted in), and the garbage collector frees
 * it within the first few arrays. The process then keeps up to 32 MiB of freed heap rather than returning
 * it at once. Elsewhere (musl, thresholds set by the environment) it is a 16 MiB mapping made and unmade.
 * @internal exported for tests.
 */
export function raiseMallocThresholds(native: typeof Buffer): void {
  mallocThresholdsRaised = true;
  native.allocUnsafeSlow(MALLOC_THRESHOLD_BLOCK);
}

/** Whether {@link raiseMallocThresholds} ran in this process. @internal for tests. */
export function mallocThresholdsWereRaised(): boolean {
  return mallocThresholdsRaised;
}

/** {@link swapBytes} of the elements in `bytes` (a Node Buffer is not wrapped again). */
function swapInPlace(bytes: Uint8Array, size: number): void {
  if (NodeBuffer?.isBuffer(bytes)) {
    if (size === 8) bytes.swap64();
    else if (size === 4) bytes.swap32();
    else bytes.swap16();
    return;
  }
  swapBytes(bytes.buffer as ArrayBuffer, size, NodeBuffer, bytes.byteOffset, bytes.byteLength);
}

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/**
 * Reverses the bytes of each `size`-byte element (2, 4 or 8) of `buffer`, or of its `byteLength` bytes
 * from `byteOffset`, natively when `native` (Node's Buffer) is there.
 * @internal exported for tests.
 */
export function swapBytes(
  buffer: ArrayBuffer,
  size: number,
  native: typeof Buffer | undefined = NodeBuffer,
  byteOffset = 0,
  byteLength = buffer.byteLength - byteOffset,
): void {
  if (native !== undefined) {
    const nb = native.from(buffer, byteOffset, byteLength);
    if (size === 8) nb.swap64();
    else if (size === 4) nb.swap32();
    else nb.swap16();
    return;
  }
  const u = new Uint8Array(buffer, byteOffset, byteLength);
  const half = size >> 1;
  for (let o = 0; o < u.length; o += size) {
    for (let i = 0; i < half; i++) {
      const t = u[o + i];
      u[o + i] = u[o + size - 1 - i];
      u[o + size - 1 - i] = t;
    }
  }
}

function readLimit(b: Uint8Array, o: number, kind: DbrElementKind): number {
  switch (kind) {
    case 'f64':
      return beF64(b, o);
    case 'f32':
      return beF32(b, o);
    case 'i32':
      return beI32(b, o);
    case 'i16':
      return beI16(b, o);
    case 'u16':
      return beU16(b, o);
    default:
      return b[o];
  }
}

function elementSize(kind: DbrElementKind): number {
  switch (kind) {
    case 'string':
      return MAX_STRING_SIZE;
    case 'f64':
      return 8;
    case 'f32':
    case 'i32':
      return 4;
    case 'i16':
    case 'u16':
      return 2;
    default:
      return 1;
  }
}

/**
 * Metadata of the STS/GR/CTRL/ENUM/STSACK kinds (and of a TIME payload too short for the fast path) into
 * `meta`; returns the problem of a payload shorter than the metadata. Kept out of decodeDbrWith so the
 * common path (plain and TIME values) stays small: TurboFan compiled the merged function for ~190 ms
 * under load, while the decoder ran unoptimised.
 */
function readMetadata(
  b: Uint8Array,
  start: number,
  end: number,
  meta: DbrMetadata,
  kind: DbrElementKind,
  metaKind: Exclude<DbrMetaKind, 'plain'>,
  valueOffset: number,
): string | undefined {
  const len = end - start;
  const problem =
    len < valueOffset ? `payload of ${len} bytes is shorter than the ${valueOffset}-byte metadata` : undefined;
  if (len >= 4) {
    const status = metaKind === 'stsack' ? beU16(b, start + MetaOffset.STATUS) : beI16(b, start + MetaOffset.STATUS);
    const severity =
      metaKind === 'stsack' ? beU16(b, start + MetaOffset.SEVERITY) : beI16(b, start + MetaOffset.SEVERITY);
    meta.status = status;
    meta.statusName = alarmStatusName(status);
    meta.severity = severity;
    meta.severityName = alarmSeverityName(severity);
  }
  if (len >= valueOffset) {
    switch (metaKind) {
      case 'time': {
        const secs = beU32(b, start + MetaOffset.TIME_SECONDS);
        const nsec = beU32(b, start + MetaOffset.TIME_NANOSECONDS);
        meta.secondsPastEpoch = secs;
        meta.nanoseconds = nsec;
        if (secs !== 0 || nsec !== 0) meta.timestamp = secs + EPICS_EPOCH_OFFSET + nsec / 1e9;
        break;
      }
      case 'gr':
      case 'ctrl': {
        const isFloat = kind === 'f32' || kind === 'f64';
        if (isFloat) meta.precision = beI16(b, start + MetaOffset.PRECISION);
        const units = start + (isFloat ? MetaOffset.FLOAT_UNITS : MetaOffset.INT_UNITS);
        meta.units = readCStringIn(b, units, MAX_UNITS_SIZE, end);
        const size = elementSize(kind);
        const nLimits = metaKind === 'ctrl' ? 8 : 6;
        let o = start + (isFloat ? MetaOffset.FLOAT_LIMITS : MetaOffset.INT_LIMITS);
        for (let i = 0; i < nLimits; i++) {
          meta[LIMIT_FIELDS[i]] = readLimit(b, o, kind);
          o += size;
        }
        break;
      }
      case 'enum': {
        const noStr = beI16(b, start + MetaOffset.ENUM_NO_STR);
        const n = Math.max(0, Math.min(noStr, MAX_ENUM_STATES));
        if (n !== noStr) meta.enumStringCount = noStr;
        const strs: string[] = new Array<string>(n);
        for (let i = 0; i < n; i++) {
          const at = start + MetaOffset.ENUM_STRINGS + i * MAX_ENUM_STRING_SIZE;
          strs[i] = readCStringIn(b, at, MAX_ENUM_STRING_SIZE, end);
        }
        meta.enumStrings = strs;
        break;
      }
      case 'stsack':
        meta.ackt = beU16(b, start + MetaOffset.ACKT);
        meta.acks = beU16(b, start + MetaOffset.ACKS);
        break;
      default:
        break;
    }
  }
  return problem;
}

/**
 * The whole metadata of a numeric GR or CTRL payload (every CTRL read and graphic monitor) as one literal
 * per field set, in {@link readMetadata}'s field order: built field by field, each of these objects went
 * through up to 14 shapes, its limits stored under names picked at run time.
 */
function graphicMetadata(
  b: Uint8Array,
  start: number,
  end: number,
  kind: Exclude<DbrElementKind, 'string'>,
  ctrl: boolean,
): DbrMetadata {
  const status = beI16(b, start + MetaOffset.STATUS);
  const severity = beI16(b, start + MetaOffset.SEVERITY);
  const statusName = alarmStatusName(status);
  const severityName = alarmSeverityName(severity);
  const isFloat = kind === 'f32' || kind === 'f64';
  const units = readCStringIn(
    b,
    start + (isFloat ? MetaOffset.FLOAT_UNITS : MetaOffset.INT_UNITS),
    MAX_UNITS_SIZE,
    end,
  );
  const size = elementSize(kind);
  const o = start + (isFloat ? MetaOffset.FLOAT_LIMITS : MetaOffset.INT_LIMITS);
  // LIMIT_FIELDS order.
  const upperDisplayLimit = readLimit(b, o, kind);
  const lowerDisplayLimit = readLimit(b, o + size, kind);
  const upperAlarmLimit = readLimit(b, o + 2 * size, kind);
  const upperWarningLimit = readLimit(b, o + 3 * size, kind);
  const lowerWarningLimit = readLimit(b, o + 4 * size, kind);
  const lowerAlarmLimit = readLimit(b, o + 5 * size, kind);
  if (isFloat) {
    const precision = beI16(b, start + MetaOffset.PRECISION);
    return ctrl
      ? {
          status,
          statusName,
          severity,
          severityName,
          precision,
          units,
          upperDisplayLimit,
          lowerDisplayLimit,
          upperAlarmLimit,
          upperWarningLimit,
          lowerWarningLimit,
          lowerAlarmLimit,
          upperControlLimit: readLimit(b, o + 6 * size, kind),
          lowerControlLimit: readLimit(b, o + 7 * size, kind),
        }
      : {
          status,
          statusName,
          severity,
          severityName,
          precision,
          units,
          upperDisplayLimit,
          lowerDisplayLimit,
          upperAlarmLimit,
          upperWarningLimit,
          lowerWarningLimit,
          lowerAlarmLimit,
        };
  }
  return ctrl
    ? {
        status,
        statusName,
        severity,
        severityName,
        units,
        upperDisplayLimit,
        lowerDisplayLimit,
        upperAlarmLimit,
        upperWarningLimit,
        lowerWarningLimit,
        lowerAlarmLimit,
        upperControlLimit: readLimit(b, o + 6 * size, kind),
        lowerControlLimit: readLimit(b, o + 7 * size, kind),
      }
    : {
        status,
        statusName,
        severity,
        severityName,
        units,
        upperDisplayLimit,
        lowerDisplayLimit,
        upperAlarmLimit,
        upperWarningLimit,
        lowerWarningLimit,
        lowerAlarmLimit,
      };
}

/**
 * What {@link decodeDbrInto} found, the fields of a {@link DbrValue} besides the type: one object reused
 * by the command decoder for every payload instead of a DbrValue per message.
 * @internal shared with the command decoder.
 */
export interface DbrParts {
  count: number;
  data: number[] | string[] | DbrNumericArray;
  metadata: DbrMetadata | undefined;
  enumLabels: string[] | undefined;
  problem: string | undefined;
}

/** A fresh {@link DbrParts} to decode into. @internal */
export function dbrParts(): DbrParts {
  return { count: 0, data: [], metadata: undefined, enumLabels: undefined, problem: undefined };
}

/**
 * Decodes the DBR payload `b[start, end)` (whole payload, pad included) of type `dataType` with
 * `dataCount` elements, in place: a frame's payload is read where the deframer found it, with no view made
 * for it. Decodes min(dataCount, elements present); a string element may end early at the payload end
 * (libca's short one-element strings). Every field of `out` is set.
 * @internal shared with the command decoder.
 */
export function decodeDbrInto(
  b: Uint8Array,
  start: number,
  end: number,
  dataType: number,
  dataCount: number,
  options: DecodeDbrOptions | undefined,
  out: DbrParts,
): void {
  const kind = dbrElementKind(dataType);
  const metaKind = dbrMetaKind(dataType);
  const valueOffset = dbrValueOffset(dataType);
  out.enumLabels = undefined;
  if (kind === undefined || metaKind === undefined || valueOffset === undefined) {
    out.count = 0;
    out.data = [];
    out.metadata = undefined;
    out.problem = `unknown DBR type ${dataType}`;
    return;
  }
  const len = end - start;
  let meta: DbrMetadata | undefined;
  let problem: string | undefined;
  if (metaKind === 'time' && len >= valueOffset) {
    // The common monitor/read payload: one literal in the generic build's field order.
    const status = beI16(b, start + MetaOffset.STATUS);
    const severity = beI16(b, start + MetaOffset.SEVERITY);
    const secs = beU32(b, start + MetaOffset.TIME_SECONDS);
    const nsec = beU32(b, start + MetaOffset.TIME_NANOSECONDS);
    // 0/0 means the record was never processed: no time to show.
    meta =
      secs !== 0 || nsec !== 0
        ? {
            status,
            statusName: alarmStatusName(status),
            severity,
            severityName: alarmSeverityName(severity),
            secondsPastEpoch: secs,
            nanoseconds: nsec,
            timestamp: secs + EPICS_EPOCH_OFFSET + nsec / 1e9,
          }
        : {
            status,
            statusName: alarmStatusName(status),
            severity,
            severityName: alarmSeverityName(severity),
            secondsPastEpoch: secs,
            nanoseconds: nsec,
          };
  } else if ((metaKind === 'ctrl' || metaKind === 'gr') && len >= valueOffset && kind !== 'string') {
    meta = graphicMetadata(b, start, end, kind, metaKind === 'ctrl');
  } else if (metaKind !== 'plain') {
    meta = {};
    problem = readMetadata(b, start, end, meta, kind, metaKind, valueOffset);
  }
  let count = 0;
  let data: number[] | string[] | DbrNumericArray;
  const decoded = len > valueOffset && dataCount > 0;
  if (!decoded) {
    data = [];
  } else {
    const size = elementSize(kind);
    const room = len - valueOffset;
    // A string may be cut short by the payload end (short one-element strings): count partial ones too.
    const present = kind === 'string' ? Math.ceil(room / size) : Math.floor(room / size);
    let n = Math.min(dataCount, present);
    if (n < dataCount && problem === undefined) problem = `payload holds ${present} of ${dataCount} elements`;
    if (options?.maxElements !== undefined && n > options.maxElements) n = Math.max(0, options.maxElements);
    count = n;
    data = readElements(b, start + valueOffset, end, kind, n, options?.arrayMemory);
  }
  out.count = count;
  out.data = data;
  out.metadata = meta;
  out.problem = problem;
  if (decoded && kind === 'u16' && dataType !== 35 && dataType !== 36) {
    const strs = meta?.enumStrings ?? options?.enumStrings;
    if (strs !== undefined) {
      const nums = data as ArrayLike<number>;
      const labels: string[] = new Array<string>(nums.length);
      for (let i = 0; i < nums.length; i++) labels[i] = strs[nums[i]] ?? String(nums[i]);
      out.enumLabels = labels;
    }
  }
}

/**
 * {@link decodeDbrInto} as a {@link DbrValue}: {@link decodeDbr} of a payload that lies in `b[start, end)`.
 * @internal
 */
export function decodeDbrWith(
  b: Uint8Array,
  start: number,
  end: number,
  dataType: number,
  dataCount: number,
  options?: DecodeDbrOptions,
): DbrValue {
  const parts = dbrParts();
  decodeDbrInto(b, start, end, dataType, dataCount, options, parts);
  const { count, data, metadata } = parts;
  const dataTypeName = dbrTypeName(dataType) ?? String(dataType);
  // Same field order as before (dataType, dataTypeName, count, data, metadata, problem, enumLabels).
  const out: DbrValue =
    metadata === undefined
      ? { dataType, dataTypeName, count, data }
      : { dataType, dataTypeName, count, data, metadata };
  if (parts.problem !== undefined) out.problem = parts.problem;
  if (parts.enumLabels !== undefined) out.enumLabels = parts.enumLabels;
  return out;
}

/**
 * Decodes a DBR payload of any of the 39 types to values and metadata (status/severity names, Unix
 * time, units, precision, limits, enum strings, ackt/acks). Unknown types and short payloads give a
 * `problem` instead of an exception.
 */
export function decodeDbr(
  dataType: number,
  dataCount: number,
  payload: Uint8Array,
  options?: DecodeDbrOptions,
): DbrValue {
  return decodeDbrWith(payload, 0, payload.length, dataType, dataCount, options);
}
