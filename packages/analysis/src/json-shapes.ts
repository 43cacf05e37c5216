/**
 * `--json` writers for the objects the decoder builds, by their known shapes (the record, its command by
 * class, the DBR metadata, the request reference): each field's `,"key":` bytes encoded once and its
 * value read by a direct property load, instead of json.ts's generic walk (a `for...in`, a dispatch on
 * the value's type and a key found in the tree of key sequences, per field).
 *
 * A shape is an ordered list of the keys an object of it may have: the key order of the literals and
 * assignments that build it (decoder's emit.ts for the record, protocol's commands.ts and dbr.ts for the
 * commands and the metadata). A key the builder adds only sometimes (`metadata`, `enum_labels`, `failed`,
 * `truncated`, ...) is in the list at the place it would be added. An object fits a shape when its own
 * enumerable keys, in `for...in` order, are a subsequence of the list: {@link fit} checks that (one
 * comparison of interned strings per key, no dispatch, no write) and says which keys are there; a writer
 * then writes exactly those, in that order, so its bytes are the generic walk's. An object that does not
 * fit (an unknown command class, a key out of order or not in the list: a test's hand-built object) is
 * left to the generic walk, and so is any value not of its field's usual kind (a number where a string
 * is usual, an object that is no plain object).
 *
 * json-shapes.test.ts checks that every object the decoder builds from the fixture captures and from
 * random frames fits its shape, and that every subset of every shape's keys is written as the generic walk
 * writes it.
 */
import { MAX_NUMBER_BYTES, jsonNumberAt, viewOf } from './json-digits.js';
import type { JsonSink } from './json-number.js';
import { WORD_BYTES, keyBytes, putKey, type KeyBytes } from './json-key.js';
// A cycle (json.ts calls writeShapedRecord): only functions and objects read when writing are taken from
// json.ts, nothing this module's loading uses.
import { isPlainObject, writeAnyField, writeArray } from './json.js';

/**
 * The keys of a shape, in order, their `,"key":` bytes (bit i of a {@link fit} mask is key i), and the room
 * its fields take when each value is a number or a plain string ({@link MAX_VALUE_BYTES}).
 */
interface Shape<K extends string> {
  readonly keys: readonly K[];
  readonly k: readonly KeyBytes[];
  readonly room: number;
}

/** At most 31 keys (the bits of a positive int32 mask). */
const MAX_SHAPE_KEYS = 31;
/** Strings up to this length are copied as they are when printable ASCII with nothing to escape. */
const MAX_PLAIN_STRING = 64;
/** Room for one value written in place: a number, or a plain string and its quotes. */
const MAX_VALUE_BYTES = Math.max(MAX_NUMBER_BYTES, MAX_PLAIN_STRING + 2);

function shape<K extends string>(keys: readonly K[]): Shape<K> {
  if (keys.length > MAX_SHAPE_KEYS) throw new Error(`a shape has at most ${MAX_SHAPE_KEYS} keys`);
  const k = keys.map(keyBytes);
  let room = 2;
  for (const key of k) room += key.words.length * WORD_BYTES + MAX_VALUE_BYTES;
  return { keys, k, room };
}

/** An object read by a shape's writer: only the shape's keys, of any value. */
type Fields<K extends string> = { readonly [P in K]?: unknown };

/**
 * The keys of `object` as a mask over `keys` (bit i: `keys[i]` is there) when its enumerable keys, in
 * `for...in` order, are a subsequence of `keys`; -1 when not.
 */
export function fit(object: object, keys: readonly string[]): number {
  const n = keys.length;
  let mask = 0;
  let j = 0;
  for (const key in object) {
    while (j < n && keys[j] !== key) j++;
    if (j === n) return -1;
    mask |= 1 << j;
    j++;
  }
  return mask;
}

/**
 * The record (decoder's emit.ts `draft`: one literal with every key, `undefined` where not set). The first
 * eight come from the packet: equal for every record of one packet, written once per packet and copied.
 */
export const RECORD_SHAPE = shape([
  'frame',
  'timestamp',
  'interfaceId',
  'src',
  'dst',
  'ethernet',
  'ip',
  'transport',
  'command',
  'pv',
  'role',
  'role_certainty',
  'circuit',
  'request',
  'latency',
  'server',
  'client',
  'size',
  'truncated',
  'raw',
]);
/** The packet keys: the first eight. */
const PACKET_FIELDS = 8;

/**
 * The link layer (packet's link.ts): Ethernet `dst`, `src`; Linux cooked captures `ifindex`, `packetType`,
 * `src`; any of them `vlan`.
 */
export const LINK_SHAPE = shape(['type', 'linktype', 'ethertype', 'dst', 'ifindex', 'packetType', 'src', 'vlan']);
/** The IPv4 header (packet's pipeline.ts; `options` only when the header is longer than 20 bytes). */
export const IP_SHAPE = shape([
  'version',
  'hl',
  'tos',
  'len',
  'id',
  'flags',
  'offset',
  'ttl',
  'p',
  'sum',
  'src',
  'dst',
  'options',
]);
/** TCP (`seq` to `win`, `urp`) and UDP (`ulen`) headers (packet's pipeline.ts). */
export const TRANSPORT_SHAPE = shape([
  'protocol',
  'sport',
  'dport',
  'seq',
  'ack',
  'off',
  'flags',
  'win',
  'ulen',
  'sum',
  'urp',
]);

/**
 * The commands of protocol's commands.ts that carry a DBR type and count (`bySid`, `bySidWithData`,
 * `statusReply`, `statusReplyWithData` and its failed-status build, `typed`, EventAddRequest): one key
 * order fits them all, the DBR payload's fields (`attachData`, `extraDataFields`) and `decodeCommand`'s
 * `truncated` and `extended` last.
 */
export const DBR_COMMAND_SHAPE = shape([
  'name',
  'id',
  'data_type',
  'data_type_name',
  'data_count',
  'cid',
  'sid',
  'status',
  'status_name',
  'severity',
  'failed',
  'ioid',
  'subscriptionid',
  'low',
  'high',
  'to',
  'mask',
  'data',
  'metadata',
  'enum_labels',
  'data_problem',
  'problem',
  'truncated',
  'extended',
]);

/** The classes built with {@link DBR_COMMAND_SHAPE}'s keys. */
const DBR_COMMAND_CLASSES = [
  'EventAddRequest',
  'EventAddResponse',
  'EventCancelRequest',
  'EventCancelResponse',
  'ReadRequest',
  'ReadResponse',
  'ReadNotifyRequest',
  'ReadNotifyResponse',
  'WriteRequest',
  'WriteNotifyRequest',
  'WriteNotifyResponse',
  'CreateChanResponse',
];

/**
 * DBR metadata (protocol's dbr.ts: the TIME literal, and `readMetadata`'s status, then time, then the
 * GR/CTRL, ENUM or STSACK fields).
 */
export const METADATA_SHAPE = shape([
  'status',
  'statusName',
  'severity',
  'severityName',
  'secondsPastEpoch',
  'nanoseconds',
  'timestamp',
  'precision',
  'units',
  'upperDisplayLimit',
  'lowerDisplayLimit',
  'upperAlarmLimit',
  'upperWarningLimit',
  'lowerWarningLimit',
  'lowerAlarmLimit',
  'upperControlLimit',
  'lowerControlLimit',
  'enumStringCount',
  'enumStrings',
  'ackt',
  'acks',
]);

/** A response's request (decoder's RequestRef). */
export const REQUEST_SHAPE = shape(['frame', 'timestamp', 'command']);

/** SearchRequest (commands.ts `decodeOther`), the search storms' command. */
export const SEARCH_REQUEST_SHAPE = shape(['name', 'id', 'pv', 'cid', 'version', 'reply', 'truncated', 'extended']);

/**
 * How a command class is written: its shape's writer, from byte `at` on (after the key); returns the end
 * (the length stored), or -1 when the command does not fit (nothing done).
 */
type CommandWriter = (out: JsonSink, at: number, command: object) => number;

/** The command classes with a writer of their own, by name; the others take the generic walk. */
const COMMAND_WRITERS = new Map<string, CommandWriter>([
  ...DBR_COMMAND_CLASSES.map((name): [string, CommandWriter] => [name, writeDbrCommand]),
  ['SearchRequest', writeSearchRequest],
]);

/** Whether `value` is a plain object (not an array), which a shape writer may take. */
function isObjectRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && isPlainObject(value);
}

/*
 * The writers below reserve their shape's room once, then write its fields at `at`, a local, without
 * reserving again and without storing the length: a number or a plain string in place, anything else
 * through json.ts's generic field ({@link slowAt}: the length stored, the field written, the room reserved
 * again and the bytes read again). Every field is written after a comma; {@link closeAt} makes the first
 * comma the opening brace. Kept to locals on purpose: the same writers storing `out.length` and reading
 * `out.bytes` per field were no faster than the generic walk (docs/performance.md, session 13).
 */

/** Writes `,"key":` at `at` (room reserved); returns where it ends. */
function keyAt(bytes: Uint8Array, at: number, k: KeyBytes): number {
  const words = k.words;
  const view = viewOf(bytes);
  for (let i = 0; i < words.length; i++) view.setInt32(at + i * WORD_BYTES, words[i], true);
  return at + k.size;
}

/**
 * Writes `s` quoted at `at` when it is at most {@link MAX_PLAIN_STRING} characters of printable ASCII with
 * nothing to escape (json.ts's `writeString` plain copy); returns the end, or -1 (then the bytes written
 * are garbage past the length).
 */
function plainStringAt(bytes: Uint8Array, at: number, s: string): number {
  const n = s.length;
  if (n > MAX_PLAIN_STRING) return -1;
  bytes[at++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < PRINTABLE_MIN || c > PRINTABLE_MAX || c === QUOTE || c === BACKSLASH) return -1;
    bytes[at++] = c;
  }
  bytes[at++] = QUOTE;
  return at;
}

const PRINTABLE_MIN = 0x20;
const PRINTABLE_MAX = 0x7e;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Any field, at `at` of `out` (`undefined` is left out without a call): json.ts's generic field, then
 * `room` reserved again; returns the new end (the caller reads `out.bytes` again).
 */
function slowAt(out: JsonSink, at: number, k: KeyBytes, value: unknown, room: number): number {
  if (value === undefined) return at;
  out.length = at;
  writeAnyField(out, k, value);
  out.reserve(room);
  return out.length;
}

/** A field usually a plain array (a waveform, enum labels, VLAN ids). */
function listAt(out: JsonSink, at: number, k: KeyBytes, value: unknown, room: number): number {
  if (!Array.isArray(value)) return slowAt(out, at, k, value, room);
  out.length = at;
  putKey(out, k);
  writeArray(out, value);
  out.reserve(room);
  return out.length;
}

/**
 * Ends an object whose fields were written from byte `start` to `at`, each after a comma: the first comma
 * becomes the opening brace (`{}` when no field was written). Stores the length.
 */
function closeAt(out: JsonSink, start: number, at: number): void {
  const bytes = out.bytes;
  if (at === start) bytes[at++] = OPEN_BRACE;
  else bytes[start] = OPEN_BRACE;
  bytes[at++] = CLOSE_BRACE;
  out.length = at;
}

/**
 * The packet fields of the last record written by {@link writeShapedRecord}, and their bytes (from the
 * first comma on: `,"frame":...,"transport":{...}`). The packet layer makes the ethernet, ip and transport
 * objects once per packet and never changes them, so the same objects with the same frame and timestamp
 * give the same text. Apart from json.ts's copy, whose bytes start with the brace.
 */
const packet = {
  known: false,
  values: new Array<unknown>(PACKET_FIELDS).fill(undefined),
  buffer: new Uint8Array(1024),
  bytes: new Uint8Array(0),
};

/**
 * Writes `record` when it fits {@link RECORD_SHAPE} and returns true, or returns false having written
 * nothing.
 */
export function writeShapedRecord(out: JsonSink, record: object): boolean {
  const m = fit(record, RECORD_SHAPE.keys);
  if (m < 0) return false;
  const r = record as Fields<(typeof RECORD_SHAPE.keys)[number]>;
  const start = out.length;
  const room = RECORD_SHAPE.room;
  const k = RECORD_SHAPE.k;
  // Loaded only when enumerable (a missing key is left out, as undefined is).
  const frame = m & (1 << 0) ? r.frame : undefined;
  const timestamp = m & (1 << 1) ? r.timestamp : undefined;
  const interfaceId = m & (1 << 2) ? r.interfaceId : undefined;
  const src = m & (1 << 3) ? r.src : undefined;
  const dst = m & (1 << 4) ? r.dst : undefined;
  const ethernet = m & (1 << 5) ? r.ethernet : undefined;
  const ip = m & (1 << 6) ? r.ip : undefined;
  const transport = m & (1 << 7) ? r.transport : undefined;
  const cached = packet.values;
  let at: number;
  if (
    packet.known &&
    frame === cached[0] &&
    timestamp === cached[1] &&
    interfaceId === cached[2] &&
    src === cached[3] &&
    dst === cached[4] &&
    ethernet === cached[5] &&
    ip === cached[6] &&
    transport === cached[7]
  ) {
    const n = packet.bytes.length;
    out.reserve(n + room);
    out.bytes.set(packet.bytes, start);
    at = start + n;
  } else {
    // Until the bytes are complete (a toJSON may throw half way), nothing is cached.
    packet.known = false;
    out.reserve(room);
    let bytes = out.bytes;
    at = start;
    if (typeof frame === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[0]), frame);
    else {
      at = slowAt(out, at, k[0], frame, room);
      bytes = out.bytes;
    }
    if (typeof timestamp === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), timestamp);
    else {
      at = slowAt(out, at, k[1], timestamp, room);
      bytes = out.bytes;
    }
    if (typeof interfaceId === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[2]), interfaceId);
    else {
      at = slowAt(out, at, k[2], interfaceId, room);
      bytes = out.bytes;
    }
    const end3 = typeof src === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[3]), src) : -1;
    if (end3 >= 0) at = end3;
    else {
      at = slowAt(out, at, k[3], src, room);
      bytes = out.bytes;
    }
    const end4 = typeof dst === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[4]), dst) : -1;
    if (end4 >= 0) at = end4;
    else {
      at = slowAt(out, at, k[4], dst, room);
    }
    at = linkAt(out, at, k[5], ethernet, room);
    at = ipAt(out, at, k[6], ip, room);
    at = transportAt(out, at, k[7], transport, room);
    const n = at - start;
    if (n > packet.buffer.length) packet.buffer = new Uint8Array(n * 2);
    packet.buffer.set(out.bytes.subarray(start, at));
    packet.bytes = packet.buffer.subarray(0, n);
    cached[0] = frame;
    cached[1] = timestamp;
    cached[2] = interfaceId;
    cached[3] = src;
    cached[4] = dst;
    cached[5] = ethernet;
    cached[6] = ip;
    cached[7] = transport;
    packet.known = true;
  }
  let bytes = out.bytes;
  if (m & (1 << 8)) {
    at = commandAt(out, at, k[8], r.command, room);
    bytes = out.bytes;
  }
  if (m & (1 << 9)) {
    const v = r.pv;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[9]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[9], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 10)) {
    const v = r.role;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[10]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[10], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 11)) {
    const v = r.role_certainty;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[11]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[11], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 12)) {
    const v = r.circuit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[12]), v);
    else {
      at = slowAt(out, at, k[12], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 13)) {
    at = requestAt(out, at, k[13], r.request, room);
    bytes = out.bytes;
  }
  if (m & (1 << 14)) {
    const v = r.latency;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[14]), v);
    else {
      at = slowAt(out, at, k[14], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 15)) {
    const v = r.server;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[15]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[15], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 16)) {
    const v = r.client;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[16]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[16], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 17)) {
    const v = r.size;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[17]), v);
    else {
      at = slowAt(out, at, k[17], v, room);
    }
  }
  if (m & (1 << 18)) {
    at = slowAt(out, at, k[18], r.truncated, room);
  }
  if (m & (1 << 19)) {
    at = slowAt(out, at, k[19], r.raw, room);
  }
  closeAt(out, start, at);
  return true;
}

/**
 * The mask of `value` over `s` when it is a plain object that fits the shape, with the room for `,"key":`
 * and the shape reserved; -1 (nothing done) when not.
 */
function openAt(out: JsonSink, at: number, k: KeyBytes, value: unknown, s: Shape<string>): number {
  if (!isObjectRecord(value)) return -1;
  const m = fit(value, s.keys);
  if (m < 0) return -1;
  out.length = at;
  out.reserve(k.words.length * WORD_BYTES + s.room);
  return m;
}

/** Ends a nested object (see {@link closeAt}) and reserves the holder's `room` again; returns the end. */
function endAt(out: JsonSink, start: number, at: number, room: number): number {
  closeAt(out, start, at);
  out.reserve(room);
  return out.length;
}

function linkAt(out: JsonSink, at: number, key: KeyBytes, value: unknown, room: number): number {
  const s = LINK_SHAPE;
  const m = openAt(out, at, key, value, s);
  if (m < 0) return slowAt(out, at, key, value, room);
  const o = value as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  let bytes = out.bytes;
  const start = keyAt(bytes, at, key);
  at = start;
  if (m & (1 << 0)) {
    const v = o.type;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[0]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[0], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = o.linktype;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), v);
    else {
      at = slowAt(out, at, k[1], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = o.ethertype;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[2]), v);
    else {
      at = slowAt(out, at, k[2], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 3)) {
    const v = o.dst;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[3]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[3], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 4)) {
    const v = o.ifindex;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[4]), v);
    else {
      at = slowAt(out, at, k[4], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 5)) {
    const v = o.packetType;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[5]), v);
    else {
      at = slowAt(out, at, k[5], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 6)) {
    const v = o.src;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[6]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[6], v, s.room);
    }
  }
  if (m & (1 << 7)) {
    at = listAt(out, at, k[7], o.vlan, s.room);
  }
  return endAt(out, start, at, room);
}
function ipAt(out: JsonSink, at: number, key: KeyBytes, value: unknown, room: number): number {
  const s = IP_SHAPE;
  const m = openAt(out, at, key, value, s);
  if (m < 0) return slowAt(out, at, key, value, room);
  const o = value as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  let bytes = out.bytes;
  const start = keyAt(bytes, at, key);
  at = start;
  if (m & (1 << 0)) {
    const v = o.version;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[0]), v);
    else {
      at = slowAt(out, at, k[0], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = o.hl;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), v);
    else {
      at = slowAt(out, at, k[1], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = o.tos;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[2]), v);
    else {
      at = slowAt(out, at, k[2], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 3)) {
    const v = o.len;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[3]), v);
    else {
      at = slowAt(out, at, k[3], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 4)) {
    const v = o.id;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[4]), v);
    else {
      at = slowAt(out, at, k[4], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 5)) {
    const v = o.flags;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[5]), v);
    else {
      at = slowAt(out, at, k[5], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 6)) {
    const v = o.offset;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[6]), v);
    else {
      at = slowAt(out, at, k[6], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 7)) {
    const v = o.ttl;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[7]), v);
    else {
      at = slowAt(out, at, k[7], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 8)) {
    const v = o.p;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[8]), v);
    else {
      at = slowAt(out, at, k[8], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 9)) {
    const v = o.sum;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[9]), v);
    else {
      at = slowAt(out, at, k[9], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 10)) {
    const v = o.src;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[10]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[10], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 11)) {
    const v = o.dst;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[11]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[11], v, s.room);
    }
  }
  if (m & (1 << 12)) {
    at = slowAt(out, at, k[12], o.options, s.room);
  }
  return endAt(out, start, at, room);
}

function transportAt(out: JsonSink, at: number, key: KeyBytes, value: unknown, room: number): number {
  const s = TRANSPORT_SHAPE;
  const m = openAt(out, at, key, value, s);
  if (m < 0) return slowAt(out, at, key, value, room);
  const o = value as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  let bytes = out.bytes;
  const start = keyAt(bytes, at, key);
  at = start;
  if (m & (1 << 0)) {
    const v = o.protocol;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[0]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[0], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = o.sport;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), v);
    else {
      at = slowAt(out, at, k[1], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = o.dport;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[2]), v);
    else {
      at = slowAt(out, at, k[2], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 3)) {
    const v = o.seq;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[3]), v);
    else {
      at = slowAt(out, at, k[3], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 4)) {
    const v = o.ack;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[4]), v);
    else {
      at = slowAt(out, at, k[4], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 5)) {
    const v = o.off;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[5]), v);
    else {
      at = slowAt(out, at, k[5], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 6)) {
    const v = o.flags;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[6]), v);
    else {
      at = slowAt(out, at, k[6], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 7)) {
    const v = o.win;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[7]), v);
    else {
      at = slowAt(out, at, k[7], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 8)) {
    const v = o.ulen;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[8]), v);
    else {
      at = slowAt(out, at, k[8], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 9)) {
    const v = o.sum;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[9]), v);
    else {
      at = slowAt(out, at, k[9], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 10)) {
    const v = o.urp;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[10]), v);
    else {
      at = slowAt(out, at, k[10], v, s.room);
    }
  }
  return endAt(out, start, at, room);
}

function requestAt(out: JsonSink, at: number, key: KeyBytes, value: unknown, room: number): number {
  const s = REQUEST_SHAPE;
  const m = openAt(out, at, key, value, s);
  if (m < 0) return slowAt(out, at, key, value, room);
  const o = value as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  let bytes = out.bytes;
  const start = keyAt(bytes, at, key);
  at = start;
  if (m & (1 << 0)) {
    const v = o.frame;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[0]), v);
    else {
      at = slowAt(out, at, k[0], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = o.timestamp;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), v);
    else {
      at = slowAt(out, at, k[1], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = o.command;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[2]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[2], v, s.room);
    }
  }
  return endAt(out, start, at, room);
}

function metadataAt(out: JsonSink, at: number, key: KeyBytes, value: unknown, room: number): number {
  const s = METADATA_SHAPE;
  const m = openAt(out, at, key, value, s);
  if (m < 0) return slowAt(out, at, key, value, room);
  const o = value as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  let bytes = out.bytes;
  const start = keyAt(bytes, at, key);
  at = start;
  if (m & (1 << 0)) {
    const v = o.status;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[0]), v);
    else {
      at = slowAt(out, at, k[0], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = o.statusName;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[1]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[1], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = o.severity;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[2]), v);
    else {
      at = slowAt(out, at, k[2], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 3)) {
    const v = o.severityName;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[3]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[3], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 4)) {
    const v = o.secondsPastEpoch;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[4]), v);
    else {
      at = slowAt(out, at, k[4], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 5)) {
    const v = o.nanoseconds;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[5]), v);
    else {
      at = slowAt(out, at, k[5], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 6)) {
    const v = o.timestamp;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[6]), v);
    else {
      at = slowAt(out, at, k[6], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 7)) {
    const v = o.precision;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[7]), v);
    else {
      at = slowAt(out, at, k[7], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 8)) {
    const v = o.units;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[8]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[8], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 9)) {
    const v = o.upperDisplayLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[9]), v);
    else {
      at = slowAt(out, at, k[9], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 10)) {
    const v = o.lowerDisplayLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[10]), v);
    else {
      at = slowAt(out, at, k[10], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 11)) {
    const v = o.upperAlarmLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[11]), v);
    else {
      at = slowAt(out, at, k[11], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 12)) {
    const v = o.upperWarningLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[12]), v);
    else {
      at = slowAt(out, at, k[12], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 13)) {
    const v = o.lowerWarningLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[13]), v);
    else {
      at = slowAt(out, at, k[13], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 14)) {
    const v = o.lowerAlarmLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[14]), v);
    else {
      at = slowAt(out, at, k[14], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 15)) {
    const v = o.upperControlLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[15]), v);
    else {
      at = slowAt(out, at, k[15], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 16)) {
    const v = o.lowerControlLimit;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[16]), v);
    else {
      at = slowAt(out, at, k[16], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 17)) {
    const v = o.enumStringCount;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[17]), v);
    else {
      at = slowAt(out, at, k[17], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 18)) {
    at = listAt(out, at, k[18], o.enumStrings, s.room);
    bytes = out.bytes;
  }
  if (m & (1 << 19)) {
    const v = o.ackt;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[19]), v);
    else {
      at = slowAt(out, at, k[19], v, s.room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 20)) {
    const v = o.acks;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[20]), v);
    else {
      at = slowAt(out, at, k[20], v, s.room);
    }
  }
  return endAt(out, start, at, room);
}

/**
 * The command field: by the writer of its class when it has one and the command fits its shape, by the
 * generic walk otherwise.
 */
function commandAt(out: JsonSink, at: number, key: KeyBytes, value: unknown, room: number): number {
  if (isObjectRecord(value)) {
    const name = (value as { name?: unknown }).name;
    const writer = typeof name === 'string' ? COMMAND_WRITERS.get(name) : undefined;
    if (writer !== undefined) {
      // The record's room holds the key.
      const end = writer(out, keyAt(out.bytes, at, key), value);
      if (end >= 0) {
        out.reserve(room);
        return end;
      }
    }
  }
  return slowAt(out, at, key, value, room);
}

/** Writes `command` at `at` when it fits {@link DBR_COMMAND_SHAPE} (returns the end, length stored); -1 when not. */
function writeDbrCommand(out: JsonSink, at: number, command: object): number {
  const s = DBR_COMMAND_SHAPE;
  const m = fit(command, s.keys);
  if (m < 0) return -1;
  out.length = at;
  out.reserve(s.room);
  const c = command as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  const room = s.room;
  let bytes = out.bytes;
  const start = at;
  if (m & (1 << 0)) {
    const v = c.name;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[0]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[0], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = c.id;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), v);
    else {
      at = slowAt(out, at, k[1], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = c.data_type;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[2]), v);
    else {
      at = slowAt(out, at, k[2], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 3)) {
    const v = c.data_type_name;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[3]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[3], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 4)) {
    const v = c.data_count;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[4]), v);
    else {
      at = slowAt(out, at, k[4], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 5)) {
    const v = c.cid;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[5]), v);
    else {
      at = slowAt(out, at, k[5], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 6)) {
    const v = c.sid;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[6]), v);
    else {
      at = slowAt(out, at, k[6], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 7)) {
    const v = c.status;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[7]), v);
    else {
      at = slowAt(out, at, k[7], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 8)) {
    const v = c.status_name;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[8]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[8], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 9)) {
    const v = c.severity;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[9]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[9], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 10)) {
    at = slowAt(out, at, k[10], c.failed, room);
    bytes = out.bytes;
  }
  if (m & (1 << 11)) {
    const v = c.ioid;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[11]), v);
    else {
      at = slowAt(out, at, k[11], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 12)) {
    const v = c.subscriptionid;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[12]), v);
    else {
      at = slowAt(out, at, k[12], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 13)) {
    const v = c.low;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[13]), v);
    else {
      at = slowAt(out, at, k[13], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 14)) {
    const v = c.high;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[14]), v);
    else {
      at = slowAt(out, at, k[14], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 15)) {
    const v = c.to;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[15]), v);
    else {
      at = slowAt(out, at, k[15], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 16)) {
    const v = c.mask;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[16]), v);
    else {
      at = slowAt(out, at, k[16], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 17)) {
    at = listAt(out, at, k[17], c.data, room);
    bytes = out.bytes;
  }
  if (m & (1 << 18)) {
    at = metadataAt(out, at, k[18], c.metadata, room);
    bytes = out.bytes;
  }
  if (m & (1 << 19)) {
    at = listAt(out, at, k[19], c.enum_labels, room);
    bytes = out.bytes;
  }
  if (m & (1 << 20)) {
    const v = c.data_problem;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[20]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[20], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 21)) {
    const v = c.problem;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[21]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[21], v, room);
    }
  }
  if (m & (1 << 22)) {
    at = slowAt(out, at, k[22], c.truncated, room);
  }
  if (m & (1 << 23)) {
    at = slowAt(out, at, k[23], c.extended, room);
  }
  closeAt(out, start, at);
  return out.length;
}

/** Writes `command` at `at` when it fits {@link SEARCH_REQUEST_SHAPE} (returns the end, length stored); -1 when not. */
function writeSearchRequest(out: JsonSink, at: number, command: object): number {
  const s = SEARCH_REQUEST_SHAPE;
  const m = fit(command, s.keys);
  if (m < 0) return -1;
  out.length = at;
  out.reserve(s.room);
  const c = command as Fields<(typeof s.keys)[number]>;
  const k = s.k;
  const room = s.room;
  let bytes = out.bytes;
  const start = at;
  if (m & (1 << 0)) {
    const v = c.name;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[0]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[0], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 1)) {
    const v = c.id;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[1]), v);
    else {
      at = slowAt(out, at, k[1], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 2)) {
    const v = c.pv;
    const end = typeof v === 'string' ? plainStringAt(bytes, keyAt(bytes, at, k[2]), v) : -1;
    if (end >= 0) at = end;
    else {
      at = slowAt(out, at, k[2], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 3)) {
    const v = c.cid;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[3]), v);
    else {
      at = slowAt(out, at, k[3], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 4)) {
    const v = c.version;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[4]), v);
    else {
      at = slowAt(out, at, k[4], v, room);
      bytes = out.bytes;
    }
  }
  if (m & (1 << 5)) {
    const v = c.reply;
    if (typeof v === 'number') at = jsonNumberAt(bytes, keyAt(bytes, at, k[5]), v);
    else {
      at = slowAt(out, at, k[5], v, room);
    }
  }
  if (m & (1 << 6)) {
    at = slowAt(out, at, k[6], c.truncated, room);
  }
  if (m & (1 << 7)) {
    at = slowAt(out, at, k[7], c.extended, room);
  }
  closeAt(out, start, at);
  return out.length;
}
