/**
 * The JSON form of decoded records, shared by `ca-shark --json` and the daemon's WebSocket/REST output
 * (documented field by field in docs/json.md, schema in packages/cli/schema/record.schema.json).
 *
 * Differences from the in-memory record: byte arrays (`Uint8Array`, `Buffer`) become lower-case hex
 * strings, except a `data` field, where a typed array is a decoded DBR waveform and becomes a plain array,
 * `bigint` becomes a number when it is exactly representable and a decimal string otherwise, non-finite
 * numbers become null, and `undefined` fields are left out. Otherwise the text is exactly
 * `JSON.stringify`'s: same key order, same number and string forms.
 *
 * Written by hand, as bytes, rather than by one `JSON.stringify(record)`: `ca-shark --json` spent most of
 * its time there (448 MB of JSON for realistic.pcap's 107 MB). The walk writes into a byte buffer
 * ({@link writeRecordJSON}; the CLI's output block) so that no string per line or per waveform is made
 * and encoded again; the fields a record shares with the other records of its packet (frame, timestamp,
 * addresses, ethernet, ip, transport: half the text) are copied as bytes from the previous record of the
 * packet; keys are copied from bytes encoded once, found in a tree of the key sequences seen
 * ({@link KeyNode}); numbers, waveform elements above all, are written straight into the bytes
 * (json-number.ts, json-digits.ts: 2-3 times faster than the native formatting of a plain array copy).
 */
import { viewOf } from './json-digits.js';
import { JsonBuffer, writeNumber, writeNumbers, type JsonSink } from './json-number.js';

export type { JsonSink } from './json-number.js';

/** One record as one line of JSON (no trailing newline), in the shared JSON form. */
export function recordToJSON(record: unknown): string {
  // What JSON.stringify gives no text for (typed as string, as JSON.stringify is).
  if (record === undefined || typeof record === 'function' || typeof record === 'symbol') {
    return JSON.stringify(record);
  }
  const out = scratch ?? new JsonBuffer();
  scratch = null;
  out.length = 0;
  try {
    writeRecordJSON(out, record);
    return out.toString();
  } finally {
    // A toJSON method may call back in: the scratch buffer is reused only once it is free again, and not
    // kept at all after a huge line (a 16 MB waveform's JSON).
    scratch = out.bytes.length <= MAX_KEPT_BYTES ? out : null;
  }
}

/**
 * A record converted to plain JSON-compatible values (what `JSON.parse(recordToJSON(record))` gives), for
 * callers that embed records in a larger JSON document.
 */
export function recordToPlain(record: unknown): unknown {
  const text = recordToJSON(record);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * Appends `record` as one line of JSON (no newline) to `out`: the bytes of {@link recordToJSON} (`null`
 * where that gives undefined).
 */
export function writeRecordJSON(out: JsonSink, record: unknown): void {
  if (typeof record === 'object' && record !== null && isPlainObject(record)) {
    if (writeDecoderRecord(out, record as Record<string, unknown>)) return;
    if (!Array.isArray(record)) {
      writeObject(out, record as Record<string, unknown>);
      return;
    }
  }
  // null where JSON.stringify gives no text (undefined, a function, a toJSON giving undefined).
  out.text((JSON.stringify(toJSONValue('', record)) as string | undefined) ?? 'null');
}

let scratch: JsonBuffer | null = null;
/** Largest scratch buffer kept for the next record. */
const MAX_KEPT_BYTES = 1 << 20;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

function byte(out: JsonSink, c: number): void {
  out.reserve(1);
  out.bytes[out.length++] = c;
}

/**
 * The leading fields of a decoder record, all from its packet, in the record's key order (decoder's
 * emit.ts): equal for every record of one packet.
 */
const PACKET_KEYS = ['frame', 'timestamp', 'interfaceId', 'src', 'dst', 'ethernet', 'ip', 'transport'] as const;

/** Byte alignments of the copies of the packet fields' bytes (a word's bytes). */
const ALIGNMENTS = 8;

/**
 * The packet fields of the last record written, and their bytes (`{"frame":...,"transport":{...}`). The
 * packet layer makes the ethernet, ip and transport objects once per packet and never changes them, so the
 * same objects with the same frame and timestamp give the same text.
 *
 * The bytes are kept once per alignment (byte offset modulo 8) they are copied to, each copy at an offset of
 * that alignment in `buffer`: the CLI's two-thread print writes into shared memory, and V8 copies into or out
 * of a SharedArrayBuffer word by word only when source and target have the same alignment, byte by byte
 * otherwise (about 6 instructions a byte: copied at the right alignment, the main thread of `--json` ran
 * 2.5 % fewer instructions on the 1 GB capture's first 30 MB; docs/performance.md, "Session 18: --json").
 * Into plain memory (one thread, the daemon) any alignment copies as fast, and the extra copies are a
 * small overhead.
 */
const packet = {
  values: new Array<unknown>(PACKET_KEYS.length).fill(undefined),
  /** Bytes of the packet fields (0: none kept). */
  size: 0,
  /** Room per alignment in `buffer` (a multiple of {@link ALIGNMENTS}). */
  stride: 1024,
  buffer: new Uint8Array(ALIGNMENTS * (1024 + ALIGNMENTS)),
  /** The copy at each alignment (a view of `buffer`), made when first needed for this packet. */
  copies: new Array<Uint8Array | null>(ALIGNMENTS).fill(null),
};

/** Where the copy of the packet fields' bytes at `alignment` starts in `packet.buffer`. */
function copyOffset(alignment: number): number {
  return alignment * (packet.stride + ALIGNMENTS) + alignment;
}

/** The packet fields' bytes at the alignment of `at` in `bytes`, copied there from another alignment first if need be. */
function packetBytes(bytes: Uint8Array, at: number): Uint8Array {
  const alignment = (bytes.byteOffset + at) & (ALIGNMENTS - 1);
  const copies = packet.copies;
  let copy = copies[alignment];
  if (copy === null) {
    let from: Uint8Array | null = null;
    for (let i = 0; i < ALIGNMENTS && from === null; i++) from = copies[i];
    const offset = copyOffset(alignment);
    copy = packet.buffer.subarray(offset, offset + packet.size);
    // Neither is shared memory: a plain copy whatever the alignments.
    copy.set(from!);
    copies[alignment] = copy;
  }
  return copy;
}

/**
 * Writes `record` when it starts with the packet fields in order and returns true, or returns false
 * having written nothing (the caller then takes the general path).
 */
function writeDecoderRecord(out: JsonSink, record: Record<string, unknown>): boolean {
  const cached = packet.values;
  let i = 0;
  let same = true;
  for (const key in record) {
    if (key !== PACKET_KEYS[i]) return false;
    if (record[key] !== cached[i]) same = false;
    if (++i === PACKET_KEYS.length) break;
  }
  if (i < PACKET_KEYS.length) return false;
  const start = writePacket(out, record, same);
  i = 0;
  let node = AFTER_PACKET;
  for (const key in record) {
    if (i++ < PACKET_KEYS.length) continue;
    node = field(out, start, node, key, record[key]);
  }
  byte(out, CLOSE_BRACE);
  return true;
}

/**
 * Writes the packet fields of `record` (`same`: the same values as the last record's, whose bytes are
 * copied); returns where the record's object starts.
 */
function writePacket(out: JsonSink, record: Record<string, unknown>, same: boolean): number {
  const cached = packet.values;
  const start = out.length;
  if (same && packet.size > 0) {
    const n = packet.size;
    out.reserve(n);
    out.bytes.set(packetBytes(out.bytes, start), start);
    out.length = start + n;
    return start;
  }
  // Until the bytes are complete (a toJSON may throw half way), nothing is cached.
  packet.size = 0;
  byte(out, OPEN_BRACE);
  let node = ROOT;
  for (let k = 0; k < PACKET_KEYS.length; k++) {
    const key = PACKET_KEYS[k];
    const value = record[key];
    cached[k] = value;
    node = field(out, start, node, key, value);
  }
  const n = out.length - start;
  if (n > packet.stride) {
    packet.stride = Math.ceil((n * 2) / ALIGNMENTS) * ALIGNMENTS;
    packet.buffer = new Uint8Array(ALIGNMENTS * (packet.stride + ALIGNMENTS));
  }
  packet.copies.fill(null);
  // The first copy at the alignment of the bytes just written: word by word out of shared memory.
  const alignment = (out.bytes.byteOffset + start) & (ALIGNMENTS - 1);
  const offset = copyOffset(alignment);
  const copy = packet.buffer.subarray(offset, offset + n);
  copy.set(out.bytes.subarray(start, out.length));
  packet.copies[alignment] = copy;
  packet.size = n;
  return start;
}

/**
 * Writes `"key":value` (after a comma unless the object that starts at byte `start` has no field yet), or
 * nothing where JSON.stringify leaves the field out. `node` is the key written before in this object
 * ({@link ROOT} for none); returns the one to pass with the next field.
 */
function field(out: JsonSink, start: number, node: KeyNode, key: string, value: unknown): KeyNode {
  // Strings and numbers (most fields) first, with no test of the other kinds.
  if (typeof value === 'string') {
    node = writeKey(out, node, key, out.length === start + 1);
    writeString(out, value);
    return node;
  }
  if (typeof value === 'number') {
    node = writeKey(out, node, key, out.length === start + 1);
    writeNumber(out, value);
    return node;
  }
  // Arrays and plain objects (the command, its metadata, the request) told apart once, not again in writeValue.
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) {
      node = writeKey(out, node, key, out.length === start + 1);
      writeArray(out, value);
      return node;
    }
    if (!ArrayBuffer.isView(value) && isPlainObject(value)) {
      node = writeKey(out, node, key, out.length === start + 1);
      writeObject(out, value as Record<string, unknown>);
      return node;
    }
  }
  let converted: string | undefined;
  if (typeof value === 'object' && value !== null && !isWalked(key, value)) {
    converted = JSON.stringify(toJSONValue(key, value)) as string | undefined;
    if (converted === undefined) return node;
  } else if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return node;
  node = writeKey(out, node, key, out.length === start + 1);
  if (converted !== undefined) out.text(converted);
  else writeValue(out, key, value);
  return node;
}

/**
 * Whether `value` (under `key`) is written by this module's walk: arrays, waveforms, byte arrays and
 * plain objects. Anything else (class instances, `toJSON`, Map, Set, other views) is converted first.
 */
function isWalked(key: string, value: object): boolean {
  if (Array.isArray(value)) return true;
  if (ArrayBuffer.isView(value)) return (key === 'data' && isNumericArray(value)) || value instanceof Uint8Array;
  return isPlainObject(value);
}

/**
 * Writes the JSON text of `value`, found under `key` in its holder (a `data` key makes a typed array a
 * list of numbers, not hex); `value` is one that JSON.stringify writes (not undefined, a function or a
 * symbol).
 */
function writeValue(out: JsonSink, key: string, value: unknown): void {
  switch (typeof value) {
    case 'string':
      writeString(out, value);
      return;
    case 'number':
      writeNumber(out, value);
      return;
    case 'boolean':
      out.text(value ? 'true' : 'false');
      return;
    case 'bigint':
      if (Number.isSafeInteger(Number(value))) writeNumber(out, Number(value));
      else writeString(out, value.toString());
      return;
    case 'object':
      if (value === null) out.text('null');
      else if (Array.isArray(value)) writeArray(out, value);
      else if (ArrayBuffer.isView(value)) {
        if (key === 'data' && isNumericArray(value)) {
          byte(out, OPEN_BRACKET);
          if (out.deferNumbers?.(value) !== true) writeNumbers(out, value);
          byte(out, CLOSE_BRACKET);
        } else if (value instanceof Uint8Array) writeString(out, bytesToHex(value));
        else out.text((JSON.stringify(toJSONValue(key, value)) as string | undefined) ?? 'null');
      } else if (isPlainObject(value)) writeObject(out, value as Record<string, unknown>);
      else out.text((JSON.stringify(toJSONValue(key, value)) as string | undefined) ?? 'null');
      return;
    default:
      out.text('null');
  }
}

function writeObject(out: JsonSink, object: Record<string, unknown>): void {
  const start = out.length;
  byte(out, OPEN_BRACE);
  let node = ROOT;
  for (const key in object) node = field(out, start, node, key, object[key]);
  byte(out, CLOSE_BRACE);
}

function writeArray(out: JsonSink, items: readonly unknown[]): void {
  const n = items.length;
  byte(out, OPEN_BRACKET);
  let numbers = true;
  for (let i = 0; i < n && numbers; i++) numbers = typeof items[i] === 'number';
  if (numbers) {
    if (out.deferNumbers?.(items as readonly number[]) !== true) writeNumbers(out, items as readonly number[]);
  } else {
    for (let i = 0; i < n; i++) {
      if (i > 0) byte(out, COMMA);
      const v = items[i];
      // Inside arrays JSON.stringify writes null where an object field would be left out.
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') out.text('null');
      else writeValue(out, String(i), v);
    }
  }
  byte(out, CLOSE_BRACKET);
}

/**
 * Whether `value` is an object JSON.stringify writes as its own enumerable keys in order (what `for...in`
 * walks for an object with no enumerable inherited keys), with no `toJSON`, Map or Set conversion.
 */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * A key as written after a previous field (`,"key":`, UTF-8), and the keys written after it in the
 * objects seen so far: a tree of the key sequences of the records' objects. The walk finds each key's
 * bytes among the few that followed the previous key (a comparison of two interned strings, nearly
 * always the first one) instead of a `Map` lookup per key. The lookups and the byte copies of the keys
 * were about a third of the walk's time; the tree and the word copies below took 11-17 % off the walk
 * (docs/performance.md, "Session 11: `--json`").
 */
interface KeyNode {
  readonly key: string;
  /** `,"key":` as little-endian 32-bit words (the last one padded), and its length in bytes. */
  readonly words: Int32Array;
  readonly size: number;
  readonly next: KeyNode[];
}

/** Where an object's key sequence starts. */
const ROOT: KeyNode = { key: '', words: new Int32Array(0), size: 0, next: [] };
/** Where a decoder record's key sequence continues after its packet fields (written from a copy). */
const AFTER_PACKET: KeyNode = { key: '', words: new Int32Array(0), size: 0, next: [] };
/** Keys followed per key: past this (objects keyed by data, not by a schema), keys come from {@link shared}. */
const MAX_FOLLOWERS = 16;
/** Nodes the tree and {@link shared} hold together before both are emptied (bounds memory on arbitrary keys). */
const MAX_NODES = 4096;
let nodeCount = 0;
/** One node per key, for keys after a node that has {@link MAX_FOLLOWERS} already. */
const shared = new Map<string, KeyNode>();

/** Writes `"key":` (after a comma unless `first`), `key` following `node`; returns the node of `key`. */
function writeKey(out: JsonSink, node: KeyNode, key: string, first: boolean): KeyNode {
  const next = node.next;
  let found: KeyNode | undefined;
  for (let i = 0; i < next.length; i++) {
    if (next[i].key === key) {
      found = next[i];
      break;
    }
  }
  found ??= follower(node, key);
  // Four bytes per store (a key is 8-20 bytes); the first field's comma is then overwritten by its brace.
  const words = found.words;
  out.reserve(words.length * WORD_BYTES);
  const at = first ? out.length - 1 : out.length;
  const view = viewOf(out.bytes);
  for (let i = 0; i < words.length; i++) view.setInt32(at + i * WORD_BYTES, words[i], true);
  if (first) out.bytes[at] = OPEN_BRACE;
  out.length = at + found.size;
  return found;
}

const WORD_BYTES = 4;

/** A new node of `key` after `node` (or the shared one, when `node` has too many). */
function follower(node: KeyNode, key: string): KeyNode {
  if (nodeCount >= MAX_NODES) {
    // Walks under way keep the nodes they hold: each still has its key's bytes.
    ROOT.next.length = 0;
    AFTER_PACKET.next.length = 0;
    shared.clear();
    nodeCount = 0;
  }
  if (node.next.length >= MAX_FOLLOWERS) {
    let found = shared.get(key);
    if (found === undefined) {
      found = keyNode(key);
      shared.set(key, found);
    }
    return found;
  }
  const found = keyNode(key);
  node.next.push(found);
  return found;
}

function keyNode(key: string): KeyNode {
  nodeCount++;
  const bytes = encoder.encode(',' + JSON.stringify(key) + ':');
  const words = new Int32Array(Math.ceil(bytes.length / WORD_BYTES));
  new Uint8Array(words.buffer).set(bytes);
  // The words' bytes in memory order are the text's when read back little-endian (as they are written).
  const view = new DataView(words.buffer);
  for (let i = 0; i < words.length; i++) words[i] = view.getInt32(i * WORD_BYTES, true);
  return { key, words, size: bytes.length, next: [] };
}

/**
 * Writes `s` quoted. Short strings of printable ASCII with nothing to escape (PV names, endpoints,
 * command, role and status names: nearly all) are copied character by character: cheaper than looking
 * them up in a cache (the decoder builds them anew for each record, so each lookup hashes them again).
 */
function writeString(out: JsonSink, s: string): void {
  const n = s.length;
  if (n <= MAX_PLAIN_STRING) {
    out.reserve(n + 2);
    const bytes = out.bytes;
    let at = out.length;
    bytes[at++] = QUOTE;
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < PRINTABLE_MIN || c > PRINTABLE_MAX || c === QUOTE || c === BACKSLASH) break;
      bytes[at++] = c;
    }
    if (i === n) {
      bytes[at++] = QUOTE;
      out.length = at;
      return;
    }
  }
  out.text(JSON.stringify(s));
}

/** Strings up to this length are tried for the plain copy of {@link writeString}. */
const MAX_PLAIN_STRING = 64;
/** Printable ASCII: what JSON.stringify writes as it is (except the quote and the backslash). */
const PRINTABLE_MIN = 0x20;
const PRINTABLE_MAX = 0x7e;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

const encoder = new TextEncoder();

function isNumericArray(value: unknown): value is ArrayLike<number> {
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  );
}

/**
 * `value` (under `key` in its holder) as plain JSON-compatible values, by the rules in this module's header,
 * built ahead so that JSON.stringify needs no replacer: the path for what the hand-written walk does not
 * cover (class instances, `toJSON`, Map, Set, typed arrays other than waveforms and bytes). Objects and
 * arrays are copied; the record itself is never changed. (Non-finite numbers and `undefined` are left to
 * JSON.stringify, which already writes null and leaves the field out.)
 */
function toJSONValue(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) {
    if (key === 'data' && isNumericArray(value)) return numbersOf(value);
    if (value instanceof Uint8Array) return bytesToHex(value);
    if (!(value instanceof DataView)) return typedToArray(value as unknown as ArrayLike<number | bigint>);
    return value;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return toJSONValue(key, toJSON.call(value, key));
  if (value instanceof Map) return toJSONValue(key, Object.fromEntries(value));
  if (value instanceof Set) return toJSONValue(key, [...value]);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toJSONValue(String(i), value[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) out[k] = toJSONValue(k, (value as Record<string, unknown>)[k]);
  return out;
}

/** A numeric typed array's values as a plain array (an index loop: `Array.from` is 3 times slower). */
function numbersOf(items: ArrayLike<number>): number[] {
  const n = items.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = items[i];
  return out;
}

function typedToArray(items: ArrayLike<number | bigint>): unknown[] {
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    out[i] =
      typeof v === 'bigint'
        ? Number.isSafeInteger(Number(v))
          ? Number(v)
          : v.toString()
        : Number.isFinite(v)
          ? v
          : null;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of a byte array, two digits per byte, no separators. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}
