/**
 * Numbers written as JSON text straight into a byte buffer, exactly as `JSON.stringify` writes them
 * (`Number.prototype.toString`'s shortest round-trip digits; `null` for NaN and the infinities).
 *
 * Why by hand: `ca-shark --json` prints every element of every waveform (13 M doubles for realistic.pcap's
 * 30,000-element DOUBLE waveforms), and the native route (copy into a plain array, `JSON.stringify`, encode
 * the string into the output) costs 2-3 times what this module's digit loop costs, writing no string.
 *
 * The digit loop is Steele and White's free-format algorithm (the one behind Dragon4) on exact
 * arithmetic: the fraction of `x` is held as two doubles, `a` (a multiple of 2^-26) and `b` (below 2^-26),
 * each multiplied by ten per digit without rounding, and the half-ulp margin `M` beside them. A digit stops
 * the number once the shorter candidate (the digits so far, or one more in the last place) lies inside the
 * interval of decimals that read back as `x` (bounds included when the significand is even, as
 * round-half-even reading does); of two such candidates the closer one is written. Where that arithmetic
 * would not be exact, or the answer is a tie, a power of two (lopsided interval), or the exponent form,
 * {@link writeNumber} falls back to the native `String(x)`: the output is the same for every double.
 */

/** A growable byte buffer that JSON is written into (the CLI's TextBuffer has this shape). */
export interface JsonSink {
  /** The bytes; `bytes.subarray(0, length)` is what was written. */
  bytes: Uint8Array;
  length: number;
  /** Makes room for `n` more bytes (may replace {@link bytes}). */
  reserve(n: number): void;
  /** Appends `s` as UTF-8. */
  text(s: string): void;
  /**
   * Optional: offered each array of numbers (a waveform: a numeric typed array under a `data` key, or a
   * plain array of numbers anywhere) before its items are written. A sink that returns true takes it to
   * write later, elsewhere (the CLI's second thread), at the current position, between the brackets
   * already written; false: it is written now.
   */
  deferNumbers?(items: ArrayLike<number>): boolean;
}

/** Start size of {@link JsonBuffer} (it grows by doubling). */
const START_BYTES = 4096;
/** UTF-8 bytes per UTF-16 code unit at most. */
const MAX_UTF8_PER_UNIT = 3;
/** Highest code unit written as one byte. */
const ASCII_MAX = 0x7f;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A {@link JsonSink} of its own (recordToJSON's), whose text is read back as a string. */
export class JsonBuffer implements JsonSink {
  bytes: Uint8Array;
  length = 0;

  /** `size`: bytes to start with (it grows by doubling). */
  constructor(size = START_BYTES) {
    this.bytes = new Uint8Array(size);
  }

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    bigger.set(this.bytes.subarray(0, this.length));
    this.bytes = bigger;
  }

  text(s: string): void {
    this.reserve(s.length * MAX_UTF8_PER_UNIT);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > ASCII_MAX) {
        this.length = at + encoder.encodeInto(s.slice(i), bytes.subarray(at)).written;
        return;
      }
      bytes[at++] = c;
    }
    this.length = at;
  }

  /** The text written (UTF-8 decoded). */
  toString(): string {
    return decoder.decode(this.bytes.subarray(0, this.length));
  }
}

const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
const COMMA = 0x2c;
/** Numbers written per {@link JsonSink.reserve} call by {@link writeNumbers}. */
const CHUNK = 1024;
const NULL_TEXT = 'null';

/** 2^26 and 2^-26: the split of the fraction into a high part (26 bits) and the rest. */
const SPLIT = 2 ** 26;
const SPLIT_INV = 2 ** -26;
/** Integers below this are written by integer arithmetic (every double above it is an integer). */
const EXACT_INTEGERS = 2 ** 53;
/**
 * Smallest magnitude of the fast fraction path. Below it `b * 10` would not be exact (the fraction's low
 * bits reach past 2^-75), and below 1e-6 JavaScript switches to the exponent form anyway.
 */
const MIN_FRACTION = 1e-5;
/** Digits after the point at most (5 leading zeros + 17 significant): 10^22 still scales M exactly. */
const MAX_FRACTION_DIGITS = 22;
/** Bytes a number written by the fast paths needs at most: sign, 16 integer digits, point, 22 digits. */
export const MAX_NUMBER_BYTES = 48;

/** Exponent field of a double: bits 20-30 of its high word. */
const EXPONENT_SHIFT = 20;
/** Significand bits in the high word. */
const HIGH_SIGNIFICAND_MASK = 0xfffff;
/** Exponent bias plus the 52 significand bits: x = significand * 2^(exponent field - this). */
const EXPONENT_OFFSET = 1075;
/** Distinct values of the exponent field. */
const EXPONENTS = 2048;

/** Half an ulp of a double by its exponent field: the margin of the interval that reads back as it. */
const HALF_ULP = new Float64Array(EXPONENTS);
for (let e = 1; e < EXPONENTS - 1; e++) HALF_ULP[e] = 2 ** (e - EXPONENT_OFFSET - 1);

/** The bits of one double (little-endian host: word 1 is the high word). */
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;

/** Appends `x` as `JSON.stringify(x)` writes it. */
export function writeNumber(out: JsonSink, x: number): void {
  out.reserve(MAX_NUMBER_BYTES);
  out.length = numberAt(out.bytes, out.length, x);
}

/**
 * The numbers of the array being written, as doubles: one array type in the digit loop (a loop reading
 * plain, Float64, Float32 and integer arrays alike reads each element through a slow generic path).
 */
const doubles = new Float64Array(CHUNK);

/** Appends the numbers of `items` separated by commas (the inside of a JSON array). */
export function writeNumbers(out: JsonSink, items: ArrayLike<number>): void {
  const n = items.length;
  const view = ArrayBuffer.isView(items);
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(n - start, CHUNK);
    const values = items instanceof Float64Array ? items.subarray(start, start + count) : doubles;
    if (values === doubles) {
      if (view) doubles.set((items as Float32Array).subarray(start, start + count));
      else for (let i = 0; i < count; i++) doubles[i] = items[start + i];
    }
    // Room for the whole chunk at once: the loop below then works on locals only.
    out.reserve(count * (MAX_NUMBER_BYTES + 1));
    out.length = numbersAt(out.bytes, out.length, values, count, start > 0);
  }
}

/** Writes the first `count` of `values` at `at` (after a comma when `comma`); returns the end. */
function numbersAt(bytes: Uint8Array, at: number, values: Float64Array, count: number, comma: boolean): number {
  if (comma) bytes[at++] = COMMA;
  at = numberAt(bytes, at, values[0]);
  for (let i = 1; i < count; i++) {
    bytes[at++] = COMMA;
    at = numberAt(bytes, at, values[i]);
  }
  return at;
}

/** Writes `x` as JSON at `at` (room for MAX_NUMBER_BYTES reserved); returns the end. */
function numberAt(bytes: Uint8Array, at: number, x: number): number {
  if (x < 0) {
    if (x > -EXACT_INTEGERS && x === Math.floor(x)) {
      bytes[at] = MINUS;
      return writeInteger(bytes, at + 1, -x);
    }
    if (x <= -MIN_FRACTION && x > -EXACT_INTEGERS) {
      bytes[at] = MINUS;
      const end = writeFraction(bytes, at + 1, -x);
      if (end >= 0) return end;
    }
  } else if (x < EXACT_INTEGERS) {
    // -0 lands here too and is written as 0, as JavaScript does.
    if (x === Math.floor(x)) return writeInteger(bytes, at, x);
    if (x >= MIN_FRACTION) {
      const end = writeFraction(bytes, at, x);
      if (end >= 0) return end;
    }
  }
  // NaN, infinities, exponent forms, and what the fast path declined (at most 24 ASCII characters).
  const text = Number.isFinite(x) ? '' + x : NULL_TEXT;
  for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  return at;
}

/** Writes non-negative integer `v` (< 2^53) at `at`; returns the end. */
function writeInteger(bytes: Uint8Array, at: number, v: number): number {
  if (v < 10) {
    bytes[at] = ZERO + v;
    return at + 1;
  }
  let n = 2;
  for (let t = Math.floor(v / 100); t > 0; t = Math.floor(t / 10)) n++;
  const end = at + n;
  for (let p = end; p > at;) {
    const q = Math.floor(v / 10);
    bytes[--p] = ZERO + (v - q * 10);
    v = q;
  }
  return end;
}

/**
 * Writes positive non-integer `x` (MIN_FRACTION <= x < 2^53) in its shortest round-trip fixed form at
 * `at`, returning the end, or -1 where the caller must use the native form instead.
 */
function writeFraction(bytes: Uint8Array, at: number, x: number): number {
  bits[0] = x;
  const high = words[HIGH];
  const low = words[LOW];
  // A power of two: the interval below it is half as wide as above (not handled here).
  if ((high & HIGH_SIGNIFICAND_MASK) === 0 && low === 0) return -1;
  const even = (low & 1) === 0;
  let margin = HALF_ULP[high >>> EXPONENT_SHIFT];
  const whole = Math.floor(x);
  at = writeInteger(bytes, at, whole);
  const dot = at;
  bytes[at++] = DOT;
  const fraction = x - whole;
  let a = Math.floor(fraction * SPLIT) * SPLIT_INV;
  let b = fraction - a;
  for (let digits = 1; digits <= MAX_FRACTION_DIGITS; digits++) {
    a *= 10;
    b *= 10;
    margin *= 10;
    // Carry what b gained above 2^-26 into a; both stay exact.
    const carry = Math.floor(b * SPLIT) * SPLIT_INV;
    b -= carry;
    a += carry;
    let d = Math.floor(a);
    a -= d;
    // Far from both ends of the interval (the remainder a + b is in [a, a + 2^-26)): next digit.
    if (a > margin && 1 - a > margin + SPLIT_INV) {
      bytes[at++] = ZERO + d;
      continue;
    }
    // Exact comparisons: each bracketed difference is exact, so the sign of their rounded sum is right.
    const marginHigh = Math.floor(margin * SPLIT) * SPLIT_INV;
    const marginLow = margin - marginHigh;
    const belowLow = a - marginHigh + (b - marginLow); // remainder - margin
    const belowHigh = 1 - a - marginHigh - (b + marginLow); // (1 - remainder) - margin
    const down = even ? belowLow <= 0 : belowLow < 0;
    const up = even ? belowHigh <= 0 : belowHigh < 0;
    if (!down && !up) {
      bytes[at++] = ZERO + d;
      continue;
    }
    if (up) {
      if (down) {
        // Both candidates read back as x: the closer one; a tie is left to the native form.
        const half = a - 0.5 + b;
        if (half === 0) return -1;
        if (half > 0) d++;
      } else d++;
    }
    if (d === 10) {
      // Round up into the digits written: 0.1299..9 + 1 ulp → 0.13.
      let p = at - 1;
      while (bytes[p] === NINE) bytes[p--] = ZERO;
      // Into the integer part: that integer would be x itself, which is not an integer (cannot happen).
      if (p === dot) return -1;
      bytes[p]++;
      d = 0;
    }
    bytes[at++] = ZERO + d;
    while (bytes[at - 1] === ZERO) at--;
    return at - 1 === dot ? -1 : at;
  }
  return -1;
}
