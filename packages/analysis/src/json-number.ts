/**
 * Numbers written as JSON text straight into a byte buffer, exactly as `JSON.stringify` writes them
 * (`Number.prototype.toString`'s shortest round-trip digits; `null` for NaN and the infinities).
 *
 * Why by hand: `ca-shark --json` prints every element of every waveform (13 M doubles for realistic.pcap's
 * 30,000-element DOUBLE waveforms), and the native route (copy into a plain array, `JSON.stringify`, encode
 * the string into the output) costs several times what the digits of json-digits.ts cost, writing no string.
 */
import { jsonNumberAt, MAX_NUMBER_BYTES } from './json-digits.js';
import { RecentTexts } from './recent-texts.js';

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

const COMMA = 0x2c;
/** Numbers written per {@link JsonSink.reserve} call by {@link writeNumbers}. */
const CHUNK = 1024;

/** Appends `x` as `JSON.stringify(x)` writes it. */
export function writeNumber(out: JsonSink, x: number): void {
  out.reserve(MAX_NUMBER_BYTES);
  out.length = jsonNumberAt(out.bytes, out.length, x);
}

/**
 * The numbers of the array being written, as doubles: one array type in the digit loop (a loop reading
 * plain, Float64, Float32 and integer arrays alike reads each element through a slow generic path).
 */
const doubles = new Float64Array(CHUNK);

/** Arrays shorter than this are written without looking for them (the main thread's short arrays). */
const RECENT_MIN_ITEMS = 16;
/** Longer arrays are written without looking for them (the 30,000-value waveforms never repeat). */
const RECENT_MAX_ITEMS = 1000;
/**
 * The text of the last 32 arrays of numbers written on this thread (RecentTexts: the same payload comes once
 * per subscribed client). JSON's text of a number depends on its value alone, so the element kind is no
 * part of the key.
 */
const recentNumbers = new RecentTexts(32, RECENT_MAX_ITEMS);

/** Appends the numbers of `items` separated by commas (the inside of a JSON array). */
export function writeNumbers(out: JsonSink, items: ArrayLike<number>): void {
  const n = items.length;
  const recent = n >= RECENT_MIN_ITEMS && n <= RECENT_MAX_ITEMS;
  if (recent) {
    const known = recentNumbers.find(items, 0, n);
    if (known !== null) {
      out.reserve(known.length);
      out.bytes.set(known, out.length);
      out.length += known.length;
      return;
    }
  }
  const start = out.length;
  writeNumbersOnce(out, items);
  if (recent) recentNumbers.keep(out.bytes, start, out.length, items, 0, n);
}

/** {@link writeNumbers}, digit by digit. */
function writeNumbersOnce(out: JsonSink, items: ArrayLike<number>): void {
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
  at = jsonNumberAt(bytes, at, values[0]);
  for (let i = 1; i < count; i++) {
    bytes[at++] = COMMA;
    at = jsonNumberAt(bytes, at, values[i]);
  }
  return at;
}
