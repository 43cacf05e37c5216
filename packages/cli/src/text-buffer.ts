/**
 * A growable byte buffer that printed text is written into as UTF-8, piece by piece. The default line is
 * built here directly (numbers digit by digit, fixed texts as they are) instead of as a JavaScript string
 * of many concatenated pieces that is then encoded: on a capture with waveforms that is millions of
 * short-lived strings fewer per second.
 */
import type { DbrMetadata } from '@ca-shark/protocol';
import type { NumericKind } from './numpy-repr.js';

const ZERO = 0x30;
const SPACE = 0x20;
const MINUS = 0x2d;
/** Strings up to this length are copied by a JavaScript loop (a native UTF-8 write costs more for them). */
const SHORT_TEXT = 48;
const INT32_MAX = 0x7fffffff;
/** Constant byte texts up to this length are copied by a loop. */
const SHORT_RAW = 64;
/** Highest code unit written as one byte. */
const ASCII_MAX = 0x7f;
/** Texts longer than this have their UTF-8 length measured before they are copied. */
const MEASURED_TEXT = 4096;
/** UTF-8 bytes per UTF-16 code unit at most. */
const MAX_UTF8_PER_UNIT = 3;

/**
 * Where a printer on two threads collects the numeric arrays of its lines, to have their digits written
 * by the other thread (split.ts): the line is written without them, and the array's text goes in later
 * at the byte offset given here.
 */
export interface ArrayHoles {
  /** Arrays of fewer items are written in place (a hole costs more than their digits). */
  readonly minItems: number;
  /**
   * An array of `n` items of `kind` belongs at byte `at`; `shown` are the items it prints (all of them,
   * or the edge items of a summarised one, see numpy-repr's `writeNumpyShown`). False when there is no
   * room for it: then it is written in place.
   */
  add(at: number, shown: ArrayLike<number>, n: number, kind: NumericKind): boolean;
  /**
   * {@link add} for the first arguments of a command of a data layout (render.ts's `DATA_LAYOUTS`): its
   * `ClassName(data=array(...), data_type=..., data_count=..., status=... or sid=..., ioid=...`, written
   * by the other thread from the layout's index and these numbers (`third` is the status or sid, `fourth`
   * the client's id), and from `metadata`'s fields when the layout is marked so (render.ts's
   * `METADATA_STRUCT`; false, nothing added, when numbers do not carry that structure).
   */
  addData(
    at: number,
    shown: ArrayLike<number>,
    n: number,
    kind: NumericKind,
    layout: number,
    dataType: number,
    dataCount: number,
    third: number,
    fourth: number,
    metadata?: DbrMetadata,
  ): boolean;
}

/** Bytes of text; `bytes.subarray(0, length)` is what was written. */
export class TextBuffer {
  bytes: Buffer;
  length = 0;
  /** Set on the batches of a two-thread print: numeric arrays are left to the other thread. */
  holes: ArrayHoles | null = null;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
  }

  /** Room for `n` more bytes. */
  reserve(n: number): void {
    if (this.length + n > this.bytes.length) this.grow(this.length + n);
  }

  private grow(min: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, min));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }

  /** Appends `s` as UTF-8. */
  text(s: string): void {
    const n = s.length;
    if (n <= SHORT_TEXT) {
      this.reserve(n);
      const bytes = this.bytes;
      let at = this.length;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > ASCII_MAX) {
          this.utf8(s);
          return;
        }
        bytes[at++] = c;
      }
      this.length = at;
      return;
    }
    this.utf8(s);
  }

  private utf8(s: string): void {
    // A long text (a JSON line of a large waveform) is measured rather than reserved at its worst case.
    this.reserve(s.length > MEASURED_TEXT ? Buffer.byteLength(s, 'utf8') : s.length * MAX_UTF8_PER_UNIT);
    this.length += this.bytes.write(s, this.length, 'utf8');
  }

  /** Appends bytes that are UTF-8 text already (a constant encoded once, see {@link encoded}). */
  raw(data: Uint8Array): void {
    const n = data.length;
    this.reserve(n);
    const bytes = this.bytes;
    const at = this.length;
    // `set()` is a native call whose overhead is more than a loop over the few bytes of most constants.
    if (n <= SHORT_RAW) for (let i = 0; i < n; i++) bytes[at + i] = data[i];
    else bytes.set(data, at);
    this.length = at + n;
  }

  /**
   * Appends `data` with one `set()` whatever its length: for a text written on many lines in a row (the
   * default line's time and endpoints, 40-60 bytes), where the call's fixed cost is less than a byte loop's
   * (about 10 instructions a byte).
   */
  copy(data: Uint8Array): void {
    const n = data.length;
    this.reserve(n);
    this.bytes.set(data, this.length);
    this.length += n;
  }

  /** Appends one byte (an ASCII character code). */
  byte(c: number): void {
    this.reserve(1);
    this.bytes[this.length++] = c;
  }

  /** Appends two bytes (a separator such as `, `). */
  pair(a: number, b: number): void {
    this.reserve(2);
    this.bytes[this.length] = a;
    this.bytes[this.length + 1] = b;
    this.length += 2;
  }

  /** Appends `n` spaces (none when n <= 0). */
  spaces(n: number): void {
    if (n <= 0) return;
    this.reserve(n);
    const bytes = this.bytes;
    const end = this.length + n;
    for (let at = this.length; at < end; at++) bytes[at] = SPACE;
    this.length = end;
  }

  /** Appends the decimal digits of a non-negative safe integer. */
  uint(v: number): void {
    this.digits(v, decimalDigits(v));
  }

  /** Appends the decimal text of a safe integer, as JavaScript's `String(v)` writes it. */
  int(v: number): void {
    if (v < 0) {
      this.byte(MINUS);
      this.uint(-v);
    } else this.uint(v);
  }

  /** Appends non-negative integer `v` as exactly `count` digits: zero-padded, or its leading digits cut. */
  digits(v: number, count: number): void {
    this.reserve(count);
    const bytes = this.bytes;
    const start = this.length;
    let at = start + count;
    this.length = at;
    if (v <= INT32_MAX) {
      // int32 arithmetic: the division by 10 becomes a multiplication.
      let n = v | 0;
      while (at > start) {
        const q = (n / 10) | 0;
        bytes[--at] = ZERO + (n - q * 10);
        n = q;
      }
      return;
    }
    while (at > start) {
      const q = Math.floor(v / 10);
      bytes[--at] = ZERO + (v - q * 10);
      v = q;
    }
  }

  /** The text written since byte `start`. */
  toString(start = 0): string {
    return this.bytes.toString('utf8', start, this.length);
  }
}

/**
 * The UTF-8 bytes of a constant text, for {@link TextBuffer.raw}: the text printed on many lines (field
 * names, enum reprs) is encoded once rather than copied character by character on every line.
 */
export function encoded(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}

/** Decimal digits of a non-negative integer (1 for 0). */
export function decimalDigits(v: number): number {
  let n = 1;
  while (v >= 1e4) {
    v = Math.floor(v / 1e4);
    n += 4;
  }
  return v >= 1000 ? n + 3 : v >= 100 ? n + 2 : v >= 10 ? n + 1 : n;
}

let scratch: TextBuffer | null = null;

/**
 * The text that `write` writes, as a string: the string API over the buffer writers. A scratch buffer is
 * reused unless a caller up the stack is using it.
 */
export function asString(write: (out: TextBuffer) => void): string {
  const out = scratch ?? new TextBuffer(1024);
  scratch = null;
  out.length = 0;
  try {
    write(out);
    return out.toString();
  } finally {
    scratch = out;
  }
}
