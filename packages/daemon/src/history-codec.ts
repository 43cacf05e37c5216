/**
 * The bytes a held record keeps of its decoded command (see history-ring.ts): the command written into a
 * chunk's byte blocks, and made into an object again only when a history request returns the record. A
 * million held commands as objects were a million objects (and their value arrays) for the garbage
 * collector to trace and move, and 200 bytes and more each; as bytes they are a few dozen bytes and nothing
 * to trace.
 *
 * What is written is what `summarizeFields` and `failureStatus` of `@ca-shark/analysis/summary` read, so the
 * line made later from the rebuilt command is the line the decoded one makes now (history-codec.test.ts and
 * history-ring.test.ts check it byte for byte):
 *
 * - a plain object as its shape (the sequence of its keys, numbered once for the whole process, see
 *   {@link Shape}) and then its values in that order, so rebuilt it has the same keys in the same order;
 * - numbers (small integers in one to five bytes, any other as its 8 bytes), booleans, null, undefined;
 * - strings as a number into the chunk's table of references (each distinct string once per chunk);
 * - plain arrays and typed arrays element by element, except the command's own `data` of more than
 *   {@link SHOWN_ELEMENTS} elements (a waveform: kilobytes), kept as a preview: its length, its first
 *   {@link PREVIEW_HEAD} elements and its last, which reads as the waveform for the summary (see
 *   {@link previewHandler}).
 *
 * Anything else (a class instance, a typed array of bigints, an array or a command too long for a block)
 * cannot be written: the caller makes the line at once instead.
 */
import type { SummaryCommand } from '@ca-shark/analysis/summary';

/** Bytes of one block of a chunk's encoded commands; a record's bytes never straddle two blocks. */
export const BLOCK_BYTES = 1 << 16;
const BLOCK_SHIFT = 16;
const BLOCK_MASK = BLOCK_BYTES - 1;
/** Room a value's tag and number take at most (a tag and 8 bytes, or a tag and a 5-byte varint). */
const VALUE_ROOM = 10;

/** Value tags. */
const T_UNDEFINED = 0;
const T_NULL = 1;
const T_FALSE = 2;
const T_TRUE = 3;
/** A non-negative integer below 2^31, as a varint. */
const T_UINT = 4;
/** A negative integer down to -2^31, as the varint of its negation. */
const T_NEGINT = 5;
/** Any other number, as a little-endian float64. */
const T_F64 = 6;
/** A string, as the varint of its reference in the chunk's table. */
const T_STRING = 7;
/** A plain object: its shape (uint16) and its values. */
const T_OBJECT = 8;
/** An array: its class (see {@link ARRAY_CLASSES}), its length (varint) and its elements. */
const T_ARRAY = 9;
/** A long `data` array: its class, its length, its first {@link PREVIEW_HEAD} elements and its last. */
const T_PREVIEW = 10;

/**
 * The array classes a held value may have, by code: elements of all of them are numbers (or, for Array,
 * any value written here), so reading an element back gives the value that was read.
 */
const ARRAY_CLASSES = [
  Array,
  Float64Array,
  Float32Array,
  Int32Array,
  Int16Array,
  Int8Array,
  Uint32Array,
  Uint16Array,
  Uint8Array,
  Uint8ClampedArray,
] as const;
const ARRAY_PROTOTYPES: readonly object[] = ARRAY_CLASSES.map((c) => c.prototype as object);

/**
 * Code of the array class whose prototype is `prototype` ({@link ARRAY_CLASSES}), or -1: comparisons, not a
 * map lookup (a map keyed by prototype was 1 % of the decoding worker's time).
 */
function arrayClassOf(prototype: unknown): number {
  for (let i = 0; i < ARRAY_PROTOTYPES.length; i++) if (ARRAY_PROTOTYPES[i] === prototype) return i;
  return -1;
}

/** Longest array written element by element (a longer `data` is a preview; any other one is not written). */
const MAX_ARRAY = 1024;
/** Deepest nesting of objects and arrays written (the decoder's commands nest two deep). */
const MAX_DEPTH = 8;

/**
 * Elements a summary line shows of an array value (`formatValue` with the line's `maxElements` of 5): all
 * of an array of up to {@link SHOWN_ELEMENTS}, else the first {@link PREVIEW_HEAD} and the last.
 */
export const SHOWN_ELEMENTS = 5;
const PREVIEW_HEAD = 3;
/** Where a preview keeps the array's length and its last element; its first elements follow. */
const PREVIEW_LENGTH = 0;
const PREVIEW_LAST = 1;
const PREVIEW_FIRST = 2;

/** Generations of chunk tables (see {@link RecentRefs}): a reused table takes a new one. */
let generations = 0;

const EMPTY = Symbol('empty');

/**
 * Slot of `value` in a direct-mapped cache of `2^bits` entries: a string by its length and four of its
 * characters (the PV names and addresses of one capture differ at their end or in their middle: `IOC03:AI17`),
 * anything else slot 0.
 */
export function recentSlot(value: unknown, bits: number): number {
  if (typeof value !== 'string') return 0;
  const n = value.length;
  if (n === 0) return 0;
  const h =
    n ^
    (value.charCodeAt(n - 1) << 7) ^
    (value.charCodeAt(n - 2 < 0 ? 0 : n - 2) << 14) ^
    (value.charCodeAt(n >> 1) << 21) ^
    (value.charCodeAt((n * 3) >> 2) << 3);
  // The high bits of a multiplicative hash mix every character given.
  return Math.imul(h, 0x9e3779b1) >>> (32 - bits);
}

/**
 * The references last given in one place (a column, a field), checked by identity before the table's map:
 * endpoints, command names, DBR type names and PV names come from small sets, and a map lookup cost about
 * ten times the check (30-50 ns a lookup here; the lookups were 6 % of the decoding worker's time). A
 * direct-mapped cache: a string's slot is {@link recentSlot}, a miss takes the slot.
 */
export class RecentRefs {
  private readonly values: unknown[];
  private readonly refs: Int32Array;
  private generation = -1;

  /** 2^`bits` entries. */
  constructor(private readonly bits = 4) {
    this.values = new Array<unknown>(1 << bits).fill(EMPTY);
    this.refs = new Int32Array(1 << bits);
  }

  /** {@link HeldBytes.ref} of `value` in `bytes`. */
  ref(bytes: HeldBytes, value: unknown): number {
    const values = this.values;
    if (this.generation !== bytes.generation) {
      values.fill(EMPTY);
      this.generation = bytes.generation;
    }
    const at = recentSlot(value, this.bits);
    if (values[at] === value) return this.refs[at];
    const r = bytes.ref(value);
    values[at] = value;
    this.refs[at] = r;
    return r;
  }
}

/**
 * A sequence of keys: the shape of the plain objects that have these keys in this order. Shapes form a
 * tree from the empty one, each child one key longer; each remembers the child it last gave, so writing a
 * command of the shape the previous one of its kind had costs a comparison a key, not a map lookup.
 */
class Shape {
  readonly children = new Map<string, Shape>();
  lastKey: string | undefined = undefined;
  lastChild: Shape | undefined = undefined;
  /**
   * The strings last written as the value of this shape's last key: a command's name, its status name and
   * DBR type name repeat from record to record, and this saves their table lookups.
   */
  readonly strings = new RecentRefs();
  constructor(
    readonly id: number,
    readonly keys: readonly string[],
  ) {}
}

/**
 * Shapes by number, for the whole process: the decoder's commands have a few dozen (50 on the bench's
 * realistic capture). Past {@link MAX_SHAPES} a command of a new shape is not written.
 */
const shapes: Shape[] = [new Shape(0, [])];
const MAX_SHAPES = 0xffff;

/** The child shape of `shape` with `key` after its keys, or undefined when no more shapes may be made. */
function childShape(shape: Shape, key: string): Shape | undefined {
  let child = shape.children.get(key);
  if (child === undefined) {
    if (shapes.length >= MAX_SHAPES) return undefined;
    child = new Shape(shapes.length, [...shape.keys, key]);
    shapes.push(child);
    shape.children.set(key, child);
  }
  shape.lastKey = key;
  shape.lastChild = child;
  return child;
}

/**
 * Reads a preview as the long array it stands for, as far as a summary line reads one (`formatValue`:
 * `Array.isArray`, `length`, the first elements and the last, `instanceof Float32Array`). One handler per
 * prototype of array (the typed array classes and Array), so a preview is a proxy and a short array.
 */
const previewHandlers = new Map<object | null, ProxyHandler<unknown[]>>();

function previewHandler(prototype: object | null): ProxyHandler<unknown[]> {
  let handler = previewHandlers.get(prototype);
  if (handler === undefined) {
    handler = {
      get(target, key) {
        if (typeof key === 'string' && key !== '') {
          if (key === 'length') return target[PREVIEW_LENGTH];
          const i = Number(key);
          if (Number.isInteger(i) && i >= 0) {
            const n = target[PREVIEW_LENGTH] as number;
            if (i === n - 1) return target[PREVIEW_LAST];
            return i < PREVIEW_HEAD ? target[PREVIEW_FIRST + i] : undefined;
          }
        }
        return Reflect.get(target, key) as unknown;
      },
      getPrototypeOf: () => prototype,
    };
    previewHandlers.set(prototype, handler);
  }
  return handler;
}

/** Why a write stopped: the block is full (try a fresh one), or the value cannot be written at all. */
const FULL = -1;
const UNWRITABLE = -2;

/**
 * Byte blocks of one chunk of held records and the table of what their bytes refer to (strings, channel
 * displays): written record after record while the chunk fills, read at any place, emptied when the chunk is
 * reused. Positions are `block << 16 | offset`.
 */
export class HeldBytes {
  private readonly blocks: Uint8Array[] = [];
  private readonly views: DataView[] = [];
  /** Blocks written so far (the ones beyond are kept from an earlier use of the chunk). */
  private used = 0;
  private bytes: Uint8Array = new Uint8Array(0);
  private view: DataView = new DataView(this.bytes.buffer);
  /** Write position in the current block (`used - 1`). */
  private pos = BLOCK_BYTES;
  /** Start of the record being written. */
  private start = 0;
  /** Strings and displays referred to, and their numbers while the chunk fills. */
  readonly refs: unknown[] = [];
  private refOf: Map<unknown, number> | undefined = new Map();
  /** This table's generation: references of an earlier one are void (see {@link RecentRefs}). */
  generation = ++generations;
  /** Where a new block comes from when none is left from an earlier use (a pool of blocks let go). */
  fresh: (() => Uint8Array | undefined) | undefined = undefined;

  /** Forgets everything written: the chunk is reused. */
  reset(): void {
    this.generation = ++generations;
    this.used = 0;
    this.pos = BLOCK_BYTES;
    this.refs.length = 0;
    if (this.refOf === undefined) this.refOf = new Map();
    else this.refOf.clear();
  }

  /** The chunk is full: its references are only read from now on. */
  seal(): void {
    this.refOf = undefined;
  }

  /** Blocks written (the last one partly), in order: what a spool keeps of a sealed chunk. */
  get written(): Uint8Array[] {
    return this.blocks.slice(0, this.used);
  }

  /**
   * Lets go of every block (their bytes are kept elsewhere: see history-spool.ts) and returns them for
   * reuse; the references stay. Read nothing until {@link restore}.
   */
  release(): Uint8Array[] {
    const blocks = this.blocks.splice(0);
    this.views.length = 0;
    this.bytes = new Uint8Array(0);
    this.view = new DataView(this.bytes.buffer);
    return blocks;
  }

  /** Reads from `blocks` again: the bytes {@link written} gave, read back into them. */
  restore(blocks: readonly Uint8Array[]): void {
    for (const block of blocks) {
      this.blocks.push(block);
      this.views.push(new DataView(block.buffer, block.byteOffset, block.byteLength));
    }
  }

  /** Number of `value` (a string, a display object, null) in {@link refs}, added when new. */
  ref(value: unknown): number {
    const refOf = this.refOf as Map<unknown, number>;
    let r = refOf.get(value);
    if (r === undefined) {
      r = this.refs.length;
      this.refs.push(value);
      refOf.set(value, r);
    }
    return r;
  }

  /** Adds `value` to {@link refs} without looking for it (a summary line: rarely the same twice). */
  append(value: unknown): number {
    this.refs.push(value);
    return this.refs.length - 1;
  }

  /** Starts a record whose header takes at most `room` bytes (written with {@link byte}, {@link number}, ...). */
  begin(room: number): void {
    if (this.pos + room >= BLOCK_BYTES) this.nextBlock();
    this.start = this.pos;
  }

  /**
   * Writes `command` after the record's header; false when it cannot be written (then nothing of it stays
   * and the header can go on). Moves the record, header included, to a fresh block when this one fills.
   */
  command(command: object): boolean {
    let end = this.object(command, 0, true, this.pos);
    if (end === FULL && this.start > 0) {
      const header = this.bytes.subarray(this.start, this.pos);
      this.nextBlock();
      this.bytes.set(header, 0);
      this.start = 0;
      this.pos = header.length;
      end = this.object(command, 0, true, this.pos);
    }
    if (end < 0) return false;
    this.pos = end;
    return true;
  }

  /** Sets bits of the record's first byte (its flags). */
  flag(bits: number): void {
    this.bytes[this.start] |= bits;
  }

  /** Position of the record being written, for {@link reader}. */
  get record(): number {
    return ((this.used - 1) << BLOCK_SHIFT) | this.start;
  }

  byte(v: number): void {
    this.bytes[this.pos++] = v;
  }

  /** Writes a number as a value (tag and bytes); the record has room (see {@link begin}). */
  number(v: number): void {
    this.pos = this.putNumber(this.pos, v);
  }

  varint(v: number): void {
    this.pos = this.putVarint(this.pos, v);
  }

  private nextBlock(): void {
    if (this.used === this.blocks.length) {
      const block = this.fresh?.() ?? new Uint8Array(BLOCK_BYTES);
      this.blocks.push(block);
      this.views.push(new DataView(block.buffer));
    }
    this.bytes = this.blocks[this.used];
    this.view = this.views[this.used];
    this.used += 1;
    this.pos = 0;
  }

  private putVarint(p: number, v: number): number {
    const b = this.bytes;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    return p;
  }

  private putNumber(p: number, v: number): number {
    const b = this.bytes;
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0) {
        b[p] = T_UINT;
        return this.putVarint(p + 1, v);
      }
      b[p] = T_NEGINT;
      return this.putVarint(p + 1, -v);
    }
    b[p] = T_F64;
    this.view.setFloat64(p + 1, v, true);
    return p + 9;
  }

  /** Writes a value at `p`; returns the position after it, or FULL / UNWRITABLE. */
  private value(p: number, v: unknown, depth: number): number {
    if (p + VALUE_ROOM > BLOCK_BYTES) return FULL;
    switch (typeof v) {
      case 'number':
        return this.putNumber(p, v);
      case 'string':
        this.bytes[p] = T_STRING;
        return this.putVarint(p + 1, this.ref(v));
      case 'boolean':
        this.bytes[p] = v ? T_TRUE : T_FALSE;
        return p + 1;
      case 'undefined':
        this.bytes[p] = T_UNDEFINED;
        return p + 1;
      case 'object': {
        if (v === null) {
          this.bytes[p] = T_NULL;
          return p + 1;
        }
        if (depth >= MAX_DEPTH) return UNWRITABLE;
        const prototype = Object.getPrototypeOf(v) as object | null;
        if (prototype === Object.prototype) return this.object(v, depth + 1, false, p);
        const cls = arrayClassOf(prototype);
        if (cls < 0) return UNWRITABLE;
        return this.array(p, v as ArrayLike<unknown>, cls, depth + 1, false);
      }
      default:
        return UNWRITABLE;
    }
  }

  /**
   * Writes a plain object at `p` (the record's command when `top`: no tag, its `data` may be a preview);
   * returns the position after it, or FULL / UNWRITABLE.
   */
  private object(o: object, depth: number, top: boolean, at: number): number {
    let p = at;
    if (p + 3 > BLOCK_BYTES) return FULL;
    if (!top) this.bytes[p++] = T_OBJECT;
    const shapeAt = p;
    p += 2;
    let shape = shapes[0];
    const fields = o as Record<string, unknown>;
    for (const key in fields) {
      const next = shape.lastKey === key ? (shape.lastChild as Shape) : childShape(shape, key);
      if (next === undefined) return UNWRITABLE;
      shape = next;
      const v = fields[key];
      // Numbers and strings, most values, inline.
      if (typeof v === 'number') {
        if (p + VALUE_ROOM > BLOCK_BYTES) return FULL;
        p = this.putNumber(p, v);
        continue;
      }
      if (typeof v === 'string') {
        if (p + VALUE_ROOM > BLOCK_BYTES) return FULL;
        this.bytes[p] = T_STRING;
        p = this.putVarint(p + 1, shape.strings.ref(this, v));
        continue;
      }
      if (top && key === 'data' && typeof v === 'object' && v !== null) {
        const cls = arrayClassOf(Object.getPrototypeOf(v));
        if (cls >= 0 && (v as ArrayLike<unknown>).length > SHOWN_ELEMENTS) {
          p = this.array(p, v as ArrayLike<unknown>, cls, depth + 1, true);
          if (p < 0) return p;
          continue;
        }
      }
      p = this.value(p, v, depth);
      if (p < 0) return p;
    }
    this.bytes[shapeAt] = shape.id & 0xff;
    this.bytes[shapeAt + 1] = shape.id >>> 8;
    return p;
  }

  /** Writes an array (or its preview) at `p`; returns the position after it, or FULL / UNWRITABLE. */
  private array(p: number, a: ArrayLike<unknown>, cls: number, depth: number, preview: boolean): number {
    const n = a.length;
    if (!preview && n > MAX_ARRAY) return UNWRITABLE;
    if (p + 2 + 5 > BLOCK_BYTES) return FULL;
    this.bytes[p] = preview ? T_PREVIEW : T_ARRAY;
    this.bytes[p + 1] = cls;
    p = this.putVarint(p + 2, n);
    if (preview) {
      for (let i = 0; i < PREVIEW_HEAD && p >= 0; i++) p = this.value(p, a[i], depth);
      return p < 0 ? p : this.value(p, a[n - 1], depth);
    }
    for (let i = 0; i < n && p >= 0; i++) p = this.value(p, a[i], depth);
    return p;
  }

  // ---- reading ----

  /** A reader at `position` (from {@link begin}). */
  reader(position: number): HeldReader {
    const r = READER;
    r.bytes = this.blocks[position >>> BLOCK_SHIFT];
    r.view = this.views[position >>> BLOCK_SHIFT];
    r.pos = position & BLOCK_MASK;
    r.refs = this.refs;
    return r;
  }
}

/** Reads what {@link HeldBytes} wrote. One reader is reused: read it at once, keep nothing of it. */
export class HeldReader {
  bytes: Uint8Array = new Uint8Array(0);
  view: DataView = new DataView(this.bytes.buffer);
  pos = 0;
  refs: readonly unknown[] = [];

  byte(): number {
    return this.bytes[this.pos++];
  }

  varint(): number {
    const b = this.bytes;
    let v = 0;
    let shift = 0;
    let x: number;
    do {
      x = b[this.pos++];
      v += (x & 0x7f) * 2 ** shift;
      shift += 7;
    } while (x >= 0x80);
    return v;
  }

  /** A number written by {@link HeldBytes.number}. */
  number(): number {
    return this.value() as number;
  }

  /** A record's command. */
  command(): SummaryCommand {
    return this.object() as SummaryCommand;
  }

  /** Reads past a command, to its field `key`; false when it has none. */
  seekField(key: string): boolean {
    const shape = shapes[this.shape()];
    for (const k of shape.keys) {
      if (k === key) return true;
      this.skip();
    }
    return false;
  }

  /** The scalar a PV chart plots of the array value here (NaN unless an array of one number). */
  scalarValue(): number {
    const tag = this.byte();
    if (tag !== T_ARRAY) return Number.NaN;
    this.pos += 1;
    if (this.varint() !== 1) return Number.NaN;
    const v = this.value();
    return typeof v === 'number' ? v : Number.NaN;
  }

  private shape(): number {
    const id = this.bytes[this.pos] | (this.bytes[this.pos + 1] << 8);
    this.pos += 2;
    return id;
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const key of shapes[this.shape()].keys) out[key] = this.value();
    return out;
  }

  private value(): unknown {
    const tag = this.bytes[this.pos++];
    switch (tag) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_UINT:
        return this.varint();
      case T_NEGINT:
        return -this.varint();
      case T_F64: {
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_STRING:
        return this.refs[this.varint()];
      case T_OBJECT:
        return this.object();
      case T_ARRAY: {
        const cls = ARRAY_CLASSES[this.byte()];
        const n = this.varint();
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return cls === Array ? out : new (cls as Float64ArrayConstructor)(out as number[]);
      }
      case T_PREVIEW: {
        const cls = ARRAY_CLASSES[this.byte()];
        const preview = new Array<unknown>(PREVIEW_FIRST + PREVIEW_HEAD);
        preview[PREVIEW_LENGTH] = this.varint();
        for (let i = 0; i < PREVIEW_HEAD; i++) preview[PREVIEW_FIRST + i] = this.value();
        preview[PREVIEW_LAST] = this.value();
        return new Proxy(preview, previewHandler(cls.prototype as object));
      }
      default:
        throw new Error(`held record: bad value tag ${tag}`);
    }
  }

  private skip(): void {
    const tag = this.bytes[this.pos++];
    switch (tag) {
      case T_UINT:
      case T_NEGINT:
      case T_STRING:
        this.varint();
        return;
      case T_F64:
        this.pos += 8;
        return;
      case T_OBJECT: {
        const n = shapes[this.shape()].keys.length;
        for (let i = 0; i < n; i++) this.skip();
        return;
      }
      case T_ARRAY: {
        this.pos += 1;
        const n = this.varint();
        for (let i = 0; i < n; i++) this.skip();
        return;
      }
      case T_PREVIEW: {
        this.pos += 1;
        this.varint();
        for (let i = 0; i <= PREVIEW_HEAD; i++) this.skip();
        return;
      }
      default:
        return;
    }
  }
}

const READER = new HeldReader();

/**
 * `command` written and read back, as a held record's summary reads it, or undefined when it cannot be
 * written (tests compare the lines of both).
 */
export function heldCopy(command: object): SummaryCommand | undefined {
  const bytes = new HeldBytes();
  bytes.begin(0);
  if (!bytes.command(command)) return undefined;
  return bytes.reader(bytes.record).command();
}
