/**
 * What the default text line prints of a record, as numbers on a "tape" in shared memory: a two-thread
 * print (split-lines.ts) has the main thread put each decoded record on a tape, which costs a fraction
 * of writing its line, and the worker takes the records off it and writes the lines with the very code a
 * one-thread print runs (template.ts `writeDefaultLine`), so the text is the same byte for byte.
 *
 * A record is its timestamp, endpoints, PV, size and the command object, taken whole: every own field,
 * in order, with its value's kind kept (a number, a string, null or undefined, a plain object, a plain
 * array, a typed array of the same type). Only what the line cannot show is left out: the middle items
 * of a numeric payload that numpy summarises (more than NUMPY_THRESHOLD items), where the worker gets
 * an array of the same type and length whose edge items are the record's and the rest zero. A value of
 * any other kind (a Buffer, a class instance, a bigint) is not put on a tape: {@link TapeWriter.record}
 * says so and the main thread writes that line itself.
 *
 * Strings are numbered per tape (the worker gets the list with the tape); objects' key lists ("shapes")
 * are numbered once for the whole print and sent to the worker with the first tape that uses them.
 */
import type { CaRecord } from '@ca-shark/decoder';
import { dbrElementKind, dbrNativeType } from '@ca-shark/protocol';
import { NUMPY_EDGE_ITEMS, NUMPY_THRESHOLD } from './numpy-repr.js';
import type { TemplateRecord } from './template.js';

/** What the next numbers on a tape are. */
const enum Tag {
  Undefined,
  Null,
  True,
  False,
  /** The number follows. */
  Number,
  /** The string's index in the tape's list follows. */
  String,
  /** The shape's index follows, then the value of each of its keys. */
  Object,
  /** The length follows, then each item. */
  Array,
  /** A plain array of numbers only: the length, then the numbers. */
  Numbers,
  /** The type's index in {@link TYPED}, the length, then the items. */
  Typed,
  /** A summarised payload: the type's index, the length, then the 2 × NUMPY_EDGE_ITEMS edge items. */
  Edges,
}

/** Typed array types kept on a tape (a Buffer, or any other subclass, is not one of them). */
const TYPED = [
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
] as const;
const TYPED_PROTOTYPES: readonly object[] = TYPED.map((t) => t.prototype);
type Typed = InstanceType<(typeof TYPED)[number]>;

/** Shapes of one print at most; objects of any further shape are not put on a tape. */
const MAX_SHAPES = 4096;
const EDGE_COUNT = 2 * NUMPY_EDGE_ITEMS;

/**
 * A key sequence of an object (a prefix of its keys, or all of them), as a node of a trie: the keys of
 * the decoder's objects are found by following one step per key, most often the step taken last time,
 * without building or looking up a list of keys per object (V8's own hidden classes work alike).
 */
class KeyNode {
  /** The shape's number once an object ended at this node (-1 until then). */
  id = -1;
  /** The step taken last from here (most objects of a class take the same). */
  lastKey: string | null = null;
  lastNext: KeyNode | null = null;
  private steps: Map<string, KeyNode> | null = null;
  /** The string last written for this key, and its index in the tape numbered {@link stringTape}. */
  lastString: string | null = null;
  lastId = 0;
  stringTape = 0;
  /** The trie of the keys of an object value under this key. */
  private childRoot: KeyNode | null = null;

  constructor(readonly keys: readonly string[]) {}

  /** The node after `key`. */
  step(key: string): KeyNode {
    if (this.lastKey === key) return this.lastNext!;
    this.steps ??= new Map();
    let next = this.steps.get(key);
    if (next === undefined) {
      next = new KeyNode([...this.keys, key]);
      this.steps.set(key, next);
    }
    this.lastKey = key;
    this.lastNext = next;
    return next;
  }

  get child(): KeyNode {
    return (this.childRoot ??= new KeyNode([]));
  }
}

/** The main thread's side: records onto a tape. */
export class TapeWriter {
  tape: Float64Array<ArrayBufferLike> = new Float64Array(0);
  length = 0;
  /** The strings of the tape being written, by their index. */
  strings: string[] = [];
  private readonly ids = new Map<string, number>();
  /** The key lists of the shapes numbered since the last {@link takeShapes}, in order. */
  private newShapes: (readonly string[])[] = [];
  private shapeCount = 0;
  /** A trie per command class; the record's own strings (src, dst, pv) remembered in the nodes of `top`. */
  private readonly commandRoots = new Map<string, KeyNode>();
  private lastClass: string | null = null;
  private lastRoot: KeyNode | null = null;
  private readonly otherRoot = new KeyNode([]);
  private readonly top = [new KeyNode([]), new KeyNode([]), new KeyNode([])];
  /** Tapes started so far (remembered string indices hold for one tape). */
  private tapeCount = 0;

  /** Starts writing `tape` from its beginning. */
  start(tape: Float64Array): void {
    this.tapeCount++;
    this.tape = tape;
    this.length = 0;
    this.strings = [];
    this.ids.clear();
  }

  /** The key lists of the shapes numbered since the last call (they go to the worker with the tape). */
  takeShapes(): (readonly string[])[] {
    const shapes = this.newShapes;
    this.newShapes = [];
    return shapes;
  }

  /**
   * Puts `record` on the tape; false (the tape as it was before) when there is no room for it or it
   * holds a value no tape keeps.
   */
  record(record: CaRecord): boolean {
    const start = this.length;
    const stringCount = this.strings.length;
    const transport = record.transport as { sport?: unknown; dport?: unknown };
    this.tape[this.length++] = record.timestamp;
    const cmd = record.command as unknown as Readonly<Record<string, unknown>>;
    const top = this.top;
    const ok =
      this.value(record.src, top[0]) &&
      this.value(record.dst, top[1]) &&
      this.value(transport.sport, undefined) &&
      this.value(transport.dport, undefined) &&
      this.value(record.pv, top[2]) &&
      this.value(record.size, undefined) &&
      this.object(cmd, this.commandRoot(cmd['name']), true);
    // Stores past the end of a typed array are dropped: a record that ran over is undone here.
    if (ok && this.length <= this.tape.length) return true;
    this.length = start;
    if (this.strings.length !== stringCount) {
      for (let i = stringCount; i < this.strings.length; i++) this.ids.delete(this.strings[i]);
      this.strings.length = stringCount;
      // A node may remember an index just taken back: forget them all.
      this.tapeCount++;
    }
    return false;
  }

  private commandRoot(name: unknown): KeyNode {
    if (name === this.lastClass) return this.lastRoot!;
    if (typeof name !== 'string') return this.otherRoot;
    let root = this.commandRoots.get(name);
    if (root === undefined) {
      root = new KeyNode([]);
      this.commandRoots.set(name, root);
    }
    this.lastClass = name;
    this.lastRoot = root;
    return root;
  }

  /**
   * Writes a number, string, null, undefined, boolean, plain array or object, or typed array; false for
   * others. `at`: the node of the key it is under (strings remembered there, object keys under it).
   */
  private value(v: unknown, at: KeyNode | undefined): boolean {
    const tape = this.tape;
    if (typeof v === 'number') {
      tape[this.length] = Tag.Number;
      tape[this.length + 1] = v;
      this.length += 2;
      return true;
    }
    if (typeof v === 'string') {
      let id: number;
      if (at !== undefined && at.lastString === v && at.stringTape === this.tapeCount) id = at.lastId;
      else {
        id = this.string(v);
        if (at !== undefined) {
          at.lastString = v;
          at.lastId = id;
          at.stringTape = this.tapeCount;
        }
      }
      tape[this.length] = Tag.String;
      tape[this.length + 1] = id;
      this.length += 2;
      return true;
    }
    if (v === undefined) tape[this.length++] = Tag.Undefined;
    else if (v === null) tape[this.length++] = Tag.Null;
    else if (v === true) tape[this.length++] = Tag.True;
    else if (v === false) tape[this.length++] = Tag.False;
    else if (typeof v !== 'object') return false;
    else if (Array.isArray(v)) return Object.getPrototypeOf(v) === Array.prototype && this.array(v as unknown[]);
    else if (ArrayBuffer.isView(v)) return this.typed(v, false);
    else return this.object(v as Readonly<Record<string, unknown>>, at === undefined ? this.otherRoot : at.child, false);
    return true;
  }

  private string(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  private array(items: readonly unknown[]): boolean {
    const n = items.length;
    const tape = this.tape;
    if (this.length + 2 + n > tape.length) return false;
    let numbers = true;
    for (let i = 0; i < n && numbers; i++) numbers = typeof items[i] === 'number';
    if (numbers) {
      tape[this.length] = Tag.Numbers;
      tape[this.length + 1] = n;
      const at = this.length + 2;
      for (let i = 0; i < n; i++) tape[at + i] = items[i] as number;
      this.length = at + n;
      return true;
    }
    tape[this.length] = Tag.Array;
    tape[this.length + 1] = n;
    this.length += 2;
    for (let i = 0; i < n; i++) if (!this.value(items[i], undefined)) return false;
    return true;
  }

  /** A typed array, whole or (`edges`) only the items numpy shows of a summarised payload. */
  private typed(v: ArrayBufferView, edges: boolean): boolean {
    const type = TYPED_PROTOTYPES.indexOf(Object.getPrototypeOf(v) as object);
    if (type < 0) return false;
    const items = v as Typed;
    const n = items.length;
    const tape = this.tape;
    const at = this.length + 3;
    if (at + (edges ? EDGE_COUNT : n) > tape.length) return false;
    tape[this.length] = edges ? Tag.Edges : Tag.Typed;
    tape[this.length + 1] = type;
    tape[this.length + 2] = n;
    if (edges) {
      for (let i = 0; i < NUMPY_EDGE_ITEMS; i++) {
        tape[at + i] = items[i];
        tape[at + NUMPY_EDGE_ITEMS + i] = items[n - NUMPY_EDGE_ITEMS + i];
      }
      this.length = at + EDGE_COUNT;
    } else {
      if (n < COPY_LOOP_MAX) for (let i = 0; i < n; i++) tape[at + i] = items[i];
      else tape.set(items, at);
      this.length = at + n;
    }
    return true;
  }

  /**
   * A plain object, its keys followed in the trie from `root`, its values read in the same `for...in`
   * (V8 then reads `o[k]` by the enumeration's own field index); the shape's number is written in front
   * of the values once the keys are known. False for an object that is not a plain one, or when no more
   * shapes may be numbered. `command`: the record's command, whose summarised payload is cut to its
   * edge items.
   */
  private object(o: Readonly<Record<string, unknown>>, root: KeyNode, command: boolean): boolean {
    const proto = Object.getPrototypeOf(o) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    const tape = this.tape;
    const head = this.length;
    tape[head] = Tag.Object;
    this.length = head + 2;
    let node = root;
    for (const k in o) {
      node = node.step(k);
      const v = o[k];
      if (typeof v === 'number') {
        tape[this.length] = Tag.Number;
        tape[this.length + 1] = v;
        this.length += 2;
      } else if (command && k === 'data' && ArrayBuffer.isView(v) && summarised(v, o['data_type'])) {
        if (!this.typed(v, true)) return false;
      } else if (!this.value(v, node)) return false;
    }
    if (node.id < 0) {
      if (this.shapeCount >= MAX_SHAPES) return false;
      node.id = this.shapeCount++;
      this.newShapes.push(node.keys);
    }
    tape[head + 1] = node.id;
    return true;
  }
}
/** Below this many items a loop copies them (a native `set()` costs more). */
const COPY_LOOP_MAX = 16;

/** Whether the line shows only the edge items of `data`: a numeric payload numpy summarises. */
function summarised(data: ArrayBufferView, dataType: unknown): boolean {
  if ((data as Typed).length <= NUMPY_THRESHOLD || typeof dataType !== 'number') return false;
  const native = dbrNativeType(dataType);
  const kind = native === undefined ? undefined : dbrElementKind(native);
  return kind !== undefined && kind !== 'string';
}

/** The worker's side: records off a tape, as objects the default line's writer reads. */
export class TapeReader {
  private readonly shapes: (readonly string[])[] = [];
  private tape: Float64Array<ArrayBufferLike> = new Float64Array(0);
  private at = 0;
  private strings: readonly string[] = [];

  /** Shapes numbered by the writer since the last tape (in order). */
  addShapes(shapes: readonly (readonly string[])[]): void {
    for (const keys of shapes) this.shapes.push(keys);
  }

  /** Calls `each` on the `count` records of `tape` (with `strings`), in order. */
  read(
    tape: Float64Array,
    count: number,
    strings: readonly string[],
    each: (record: TemplateRecord) => void,
  ): void {
    this.tape = tape;
    this.strings = strings;
    this.at = 0;
    for (let r = 0; r < count; r++) {
      const timestamp = tape[this.at++];
      const src = this.value() as string;
      const dst = this.value() as string;
      const sport = this.value();
      const dport = this.value();
      const pv = this.value() as string | null;
      const size = this.value() as number;
      const command = this.value() as TemplateRecord['command'];
      each({ timestamp, src, dst, transport: { sport, dport }, pv, size, command, ethernet: NONE, ip: NONE, role: null });
    }
  }

  private value(): unknown {
    const tape = this.tape;
    const tag = tape[this.at++] as Tag;
    switch (tag) {
      case Tag.Number:
        return tape[this.at++];
      case Tag.String:
        return this.strings[tape[this.at++]];
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.True:
        return true;
      case Tag.False:
        return false;
      case Tag.Object: {
        const keys = this.shapes[tape[this.at++]];
        const o: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) o[keys[i]] = this.value();
        return o;
      }
      case Tag.Array: {
        const n = tape[this.at++];
        const items = new Array<unknown>(n);
        for (let i = 0; i < n; i++) items[i] = this.value();
        return items;
      }
      case Tag.Numbers: {
        const n = tape[this.at++];
        const items = new Array<number>(n);
        for (let i = 0; i < n; i++) items[i] = tape[this.at + i];
        this.at += n;
        return items;
      }
      case Tag.Typed: {
        const Type = TYPED[tape[this.at++]];
        const n = tape[this.at++];
        const items = new Type(n);
        items.set(tape.subarray(this.at, this.at + n));
        this.at += n;
        return items;
      }
      case Tag.Edges: {
        const Type = TYPED[tape[this.at++]];
        const n = tape[this.at++];
        const items = new Type(n);
        for (let i = 0; i < NUMPY_EDGE_ITEMS; i++) {
          items[i] = tape[this.at + i];
          items[n - NUMPY_EDGE_ITEMS + i] = tape[this.at + NUMPY_EDGE_ITEMS + i];
        }
        this.at += EDGE_COUNT;
        return items;
      }
      default:
        throw new Error(`record tape: unknown tag ${tag as number} at ${this.at - 1}`);
    }
  }
}
const NONE = {};
