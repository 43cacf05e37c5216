/**
 * numpy's `repr()` of a one-dimensional array, as caproto-shark prints DBR payloads (caproto decodes numeric
 * payloads with `numpy.frombuffer`). It follows numpy's default print options (`precision=8`,
 * `floatmode='maxprec'`, `threshold=1000`, `edgeitems=3`, `legacy=False`) with one difference: numpy wraps
 * the text at 75 columns and ca-shark keeps one message on one line, so the text is what numpy prints with
 * an unlimited `linewidth` (joining numpy's wrapped lines gives the same text).
 */
import { RecentTexts } from '@ca-shark/analysis';
import type { DbrElementKind } from '@ca-shark/protocol';
import { pyFloat } from './pyrepr.js';
import { asString, decimalDigits, encoded, TextBuffer } from './text-buffer.js';

/** numpy summarises arrays of more than this many items (`threshold`). */
export const NUMPY_THRESHOLD = 1000;
/** Items numpy shows at each end of a summarised array (`edgeitems`). */
export const NUMPY_EDGE_ITEMS = 3;
/** Fraction digits numpy prints at most (`precision`). */
const NUMPY_PRECISION = 8;
/** numpy switches a float array to scientific notation from this magnitude up... */
const EXP_FORMAT_MAX = 1e8;
/** ...below this one... */
const EXP_FORMAT_MIN = 1e-4;
/** ...or when the largest and smallest magnitudes differ by more than this factor. */
const EXP_FORMAT_RATIO = 1000;
/** Smallest normal double: below it doubles lose precision and the shortest digits are found apart. */
const MIN_NORMAL = 2.2250738585072014e-308;
/** Significant digits that identify every float32 (FLT_DECIMAL_DIG). */
const FLOAT32_MAX_DIGITS = 9;

/**
 * numpy's dtype name of each caproto element type, or '' for float64 (numpy's default float type, whose
 * repr names no dtype). caproto reads big-endian dtypes, which numpy names as their native counterparts.
 */
const DTYPE_NAMES: Readonly<Record<Exclude<DbrElementKind, 'string'>, string>> = {
  f64: '',
  f32: 'float32',
  i16: 'int16',
  u16: 'uint16',
  i32: 'int32',
  u8: 'uint8',
};

/** Numeric element kinds (everything caproto reads with numpy; strings are bytes lists). */
export type NumericKind = Exclude<DbrElementKind, 'string'>;

/** The numeric kinds in a fixed order: a kind's index names it as a number (a hole's kind, a kept repr's tag). */
export const KIND_BY_INDEX: readonly NumericKind[] = ['f64', 'f32', 'i16', 'u16', 'i32', 'u8'];
/** Each kind's index in {@link KIND_BY_INDEX}. */
export const KIND_INDEX = Object.fromEntries(KIND_BY_INDEX.map((kind, i) => [kind, i])) as Readonly<
  Record<NumericKind, number>
>;

/** The items an array prints: all of them, or numpy's edge items of a summarised one (reused buffer). */
const EDGES = new Float64Array(2 * NUMPY_EDGE_ITEMS);

/** `array([1., 2.])`, `array([1, 2], dtype=int16)`: numpy's repr of `items` read as `kind`. */
export function numpyArray(items: ArrayLike<number>, kind: NumericKind): string {
  return asString((out) => writeNumpyArray(out, items, kind));
}

/** {@link numpyArray}, written into `out` (or left as a hole in it: see {@link TextBuffer.holes}). */
export function writeNumpyArray(out: TextBuffer, items: ArrayLike<number>, kind: NumericKind): void {
  const n = items.length;
  // numpyShown, written out: the one-thread line's path stays as it was before the layouts (render.ts).
  let shown = items;
  if (n > NUMPY_THRESHOLD) {
    for (let i = 0; i < NUMPY_EDGE_ITEMS; i++) {
      EDGES[i] = items[i];
      EDGES[NUMPY_EDGE_ITEMS + i] = items[n - NUMPY_EDGE_ITEMS + i];
    }
    shown = EDGES;
  }
  const holes = out.holes;
  if (holes === null || n < holes.minItems || !holes.add(out.length, shown, n, kind)) {
    writeNumpyShown(out, shown, n, kind);
  }
}

/**
 * The items of `items` that numpy prints: all of them, or the edge items of a summarised array (in a
 * buffer reused by the next call). numpy formats (and pads to a common width) only the items it prints:
 * when it summarises, its FloatingFormat is built from the edge items alone (arrayprint's
 * _leading_trailing).
 */
export function numpyShown(items: ArrayLike<number>): ArrayLike<number> {
  const n = items.length;
  if (n <= NUMPY_THRESHOLD) return items;
  for (let i = 0; i < NUMPY_EDGE_ITEMS; i++) {
    EDGES[i] = items[i];
    EDGES[NUMPY_EDGE_ITEMS + i] = items[n - NUMPY_EDGE_ITEMS + i];
  }
  return EDGES;
}

/**
 * The repr of an array of `n` items of which `shown` are the printed ones: all `n` of them, or the
 * 2 × {@link NUMPY_EDGE_ITEMS} edge items of a summarised array (`n` > {@link NUMPY_THRESHOLD}). What a
 * {@link TextBuffer.holes} hole needs to be filled later, on another thread.
 */
export function writeNumpyShown(out: TextBuffer, shown: ArrayLike<number>, n: number, kind: NumericKind): void {
  const dtype = DTYPE_NAMES[kind];
  if (n === 0) {
    out.text(dtype === '' ? 'array([], dtype=float64)' : 'array([], dtype=' + dtype + ')');
    return;
  }
  if (n === 1) {
    out.raw(ARRAY_OPENING);
    writeOne(out, shown, kind);
    out.raw(ARRAY_CLOSINGS[kind]);
    return;
  }
  const known = recentReprs.find(shown, KIND_INDEX[kind], n);
  if (known !== null) {
    out.raw(known);
    return;
  }
  const start = out.length;
  const summarised = n > NUMPY_THRESHOLD;
  out.raw(ARRAY_OPENING);
  if (kind === 'f64' || kind === 'f32') writeFloats(out, shown, summarised, kind === 'f32');
  else writeIntegers(out, shown, summarised);
  out.raw(ARRAY_CLOSINGS[kind]);
  recentReprs.keep(out.bytes, start, out.length, shown, KIND_INDEX[kind], n);
}

/**
 * The reprs of the last 32 arrays printed on this thread (analysis's RecentTexts: the same payload comes once
 * per subscribed client). A repr depends on the element kind, the item count (a summary or not) and the
 * items printed, nothing else; the kind is tagged by its {@link KIND_INDEX}.
 */
const recentReprs = new RecentTexts(32, NUMPY_THRESHOLD);

const ONE = new Float64Array(1);

/**
 * The one item of a scalar payload (most messages): with nothing to align it to, its text is its own
 * digits, written without the column passes where the fast paths settle it.
 */
function writeOne(out: TextBuffer, items: ArrayLike<number>, kind: NumericKind): void {
  const v = items[0];
  if (kind !== 'f64' && kind !== 'f32') return out.int(v);
  const negative = v < 0;
  const abs = negative ? -v : v;
  // Positional notation (numpy's choice for one item of 1e-4 up to 1e8) within the fast paths' ranges.
  let fraction = GENERAL;
  // Read by index, as writeFloats reads its items (see fraction8).
  ONE[0] = v;
  if (abs >= EXP_FORMAT_MIN) {
    if (kind === 'f64' && abs < POSITIONAL_FAST_LIMIT) fraction = fraction8(ONE, 0);
    else if (kind === 'f32' && abs < FLOAT32_FAST_LIMIT) fraction = fraction32(ONE, 0);
  }
  if (fraction === GENERAL) return writeFloats(out, ONE, false, kind === 'f32');
  if (negative) out.byte(MINUS);
  out.uint(fractionWhole);
  out.byte(DOT);
  if (fraction !== 0) {
    const digits = NUMPY_PRECISION - trailingZeros(fraction);
    out.digits(fraction / POW10_INT[NUMPY_PRECISION - digits], digits);
  }
}
const ARRAY_OPENING = encoded('array([');
/** `])` or `], dtype=int16)` after the items of each kind. */
const ARRAY_CLOSINGS = Object.fromEntries(
  Object.entries(DTYPE_NAMES).map(([kind, dtype]) => [kind, encoded(dtype === '' ? '])' : '], dtype=' + dtype + ')')]),
) as Readonly<Record<NumericKind, Uint8Array>>;

/** The separator before item `i`: numpy's `...` sits between the two halves of a summary. */
function separator(out: TextBuffer, i: number, summarised: boolean): void {
  if (summarised && i === NUMPY_EDGE_ITEMS) out.raw(SUMMARY_GAP);
  else out.pair(COMMA, SPACE);
}
const COMMA = 0x2c;
const SUMMARY_GAP = encoded(', ..., ');

/** numpy's IntegerFormat: decimal, right-aligned to the widest item. */
function writeIntegers(out: TextBuffer, values: ArrayLike<number>, summarised: boolean): void {
  const count = values.length;
  // Every element type fits an int32 (uint32 is not a DBR type); one copy makes the loops monomorphic.
  if (intItems.length < count) intItems = new Int32Array(count * 2);
  const items = intItems;
  copyItems(items, values);
  // The widest item is the largest or the most negative one.
  let max = 0;
  let min = 0;
  for (let i = 0; i < count; i++) {
    const v = items[i];
    if (v > max) max = v;
    else if (v < min) min = v;
  }
  const width = Math.max(intWidth(max), intWidth(min));
  for (let i = 0; i < count; i++) {
    if (i > 0) separator(out, i, summarised);
    out.reserve(width);
    const bytes = out.bytes;
    const start = out.length;
    // Right-aligned: the digits are written backwards from the end of the column.
    let at = start + width;
    const v = items[i];
    let rest = v < 0 ? -v : v;
    do {
      const q = (rest / 10) | 0;
      bytes[--at] = ZERO + rest - q * 10;
      rest = q;
    } while (rest > 0);
    if (v < 0) bytes[--at] = MINUS;
    while (at > start) bytes[--at] = SPACE;
    out.length = start + width;
  }
}
/** Copies `values` into `items`: a loop for the few items of most payloads, where `set()` costs more. */
function copyItems(items: Float64Array | Int32Array, values: ArrayLike<number>): void {
  const n = values.length;
  if (n < COPY_LOOP_MAX) for (let i = 0; i < n; i++) items[i] = values[i];
  else items.set(values);
}
const COPY_LOOP_MAX = 16;
/** The items of the integer array being written. */
let intItems = new Int32Array(64);

/** Characters of the decimal text of integer `v`. */
function intWidth(v: number): number {
  return v < 0 ? 1 + decimalDigits(-v) : decimalDigits(v);
}

/** Digits and decimal exponent of |x| (x finite, non-zero): `digits[0]` is the units digit at 10^exp. */
interface Decimal {
  digits: string;
  exp: number;
}

/** Shortest digits that read back as |x| in its own precision (Dragon4's `unique` mode). */
function shortest(abs: number, float32: boolean): Decimal {
  if (float32) {
    // Round-tripping is monotone in the digit count: search 1..9 digits.
    let lo = 1;
    let hi = FLOAT32_MAX_DIGITS;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Math.fround(Number(toExponentialEven(abs, mid - 1))) === abs) hi = mid;
      else lo = mid + 1;
    }
    return splitExponential(toExponentialEven(abs, lo - 1));
  }
  // JavaScript's shortest round-trip digits for doubles are Dragon4's.
  return splitExponential(abs.toExponential());
}

/** Fraction digits at which toExponential(100) still gives exact digits for a tie check. */
const EXACT_DIGITS = 100;

/**
 * Can `abs` lie exactly halfway between two decimals with `q` fraction digits? Such a midpoint is an odd
 * multiple of 5·10^-(q+1) = m / 2^(q+1) (the powers of 5 cancel), so `abs · 2^(q+1)` must be an integer:
 * an exact test (scaling by a power of two is exact) that rules out nearly every value at no cost.
 */
function mayBeTie(abs: number, q: number): boolean {
  return q + 1 > 0 ? Number.isInteger(abs * 2 ** (q + 1)) : Number.isInteger(abs);
}

/** Exponent of `d.ddde±x` text. */
function exponentOf(text: string): number {
  return Number(text.slice(text.indexOf('e') + 1));
}

/**
 * `abs.toExponential(fd)` with ties rounded to even, as numpy's Dragon4 does (toExponential rounds them
 * up). Only when {@link mayBeTie} allows a tie are the exact digits read.
 */
function toExponentialEven(abs: number, fd: number): string {
  const rounded = abs.toExponential(fd);
  const exp = exponentOf(rounded);
  // Rounding may have carried into a new exponent: test both positions.
  if (!mayBeTie(abs, fd - exp) && !mayBeTie(abs, fd - exp + 1)) return rounded;
  const exact = abs.toExponential(EXACT_DIGITS);
  const cut = fd === 0 ? 1 : fd + 2; // index in "d.ddd..." just past the kept digits
  const e = exact.indexOf('e');
  if (exact[cut === 1 ? 2 : cut] !== '5') return rounded;
  for (let i = (cut === 1 ? 2 : cut) + 1; i < e; i++) if (exact[i] !== '0') return rounded;
  // An exact tie: keep the truncated digits when the last kept digit is even.
  if (Number(exact[cut - 1]) % 2 !== 0) return rounded;
  return exact.slice(0, cut) + exact.slice(e);
}

/** Digits (trailing zeros removed) and exponent of `d.ddde±x` text. */
function splitExponential(text: string): Decimal {
  const e = text.indexOf('e');
  let end = e;
  while (end > 1 && (text.charCodeAt(end - 1) === ZERO || text.charCodeAt(end - 1) === DOT)) end--;
  const digits = end <= 2 ? text[0] : text[0] + text.slice(2, end);
  return { digits, exp: Number(text.slice(e + 1)) };
}
const ZERO = 0x30;
const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;
const LOWER_E = 0x65;

/** `text` without trailing zeros after its decimal point ('1.50' → '1.5', '2.00' → '2.'). */
function trimZeros(text: string): string {
  let end = text.length;
  while (text.charCodeAt(end - 1) === ZERO) end--;
  return text.slice(0, end);
}

/**
 * `x` in positional notation with at most 8 fraction digits, trailing zeros removed ('300.', '1.5'), for
 * numpy's positional mode (every non-zero |x| in 1e-4..1e8).
 */
function positional(x: number, float32: boolean): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return sign + '0.';
  const abs = Math.abs(x);
  if (!float32) {
    // In this range Python's repr (pyFloat, with a fast path for few decimals) writes a double's shortest
    // digits in plain notation, as Dragon4 does, with '.0' on integral values where numpy writes '.'.
    let text = pyFloat(abs);
    const dot = text.indexOf('.');
    if (text.length === dot + 2 && text.charCodeAt(dot + 1) === ZERO) text = text.slice(0, dot + 1);
    if (text.length - dot - 1 <= NUMPY_PRECISION) return sign + text;
    // More digits than numpy prints: numpy rounds the exact binary value (ties to even).
    if (!mayBeTie(abs, NUMPY_PRECISION)) return sign + trimZeros(abs.toFixed(NUMPY_PRECISION));
  }
  const { digits, exp } = shortest(abs, float32);
  if (digits.length - exp - 1 > NUMPY_PRECISION) {
    const rounded = splitExponential(toExponentialEven(abs, exp + NUMPY_PRECISION));
    return sign + positionalDigits(rounded.digits, rounded.exp);
  }
  // Dragon4 prints every integer digit of the exact value (float32 85131872, not its shortest 85131870);
  // below numpy's 1e8 switch to scientific notation such a value is an integer that prints exactly.
  if (digits.length <= exp + 1) return sign + abs + '.';
  return sign + positionalDigits(digits, exp);
}

/** '0.0123', '300.', '1.5' from significant digits and the exponent of the first one. */
function positionalDigits(digits: string, exp: number): string {
  if (exp < 0) return '0.' + '0'.repeat(-exp - 1) + digits;
  if (digits.length <= exp + 1) return digits + '0'.repeat(exp + 1 - digits.length) + '.';
  return digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
}

/** `x` in scientific notation with at most 8 fraction digits, trailing zeros removed: [mantissa, exponent]. */
function scientific(x: number, float32: boolean): [string, number] {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  if (x === 0) return [sign + '0.', 0];
  const abs = Math.abs(x);
  if (!float32 && abs >= MIN_NORMAL) {
    // A (normal) double's shortest digits, when they fit in 9, are its correctly rounded 9 digits without the
    // trailing zeros (see scientificPadded); when they do not, numpy prints those 9 rounded digits.
    const text = toExponentialEven(abs, NUMPY_PRECISION);
    const e = text.indexOf('e');
    let end = e;
    while (text.charCodeAt(end - 1) === ZERO) end--;
    return [sign + text.slice(0, end), Number(text.slice(e + 1))];
  }
  let { digits, exp } = shortest(abs, float32);
  if (digits.length > NUMPY_PRECISION + 1)
    ({ digits, exp } = splitExponential(toExponentialEven(abs, NUMPY_PRECISION)));
  return [sign + digits[0] + '.' + digits.slice(1), exp];
}

/**
 * The second pass of scientific notation: exactly `precision` fraction digits. Beyond the shortest digits
 * numpy prints more digits of the exact binary value, which shows on float32 values; a double's exact
 * value is within 1e-16 of its shortest digits, so with at most 8 fraction digits they are padded with zeros.
 */
function scientificPadded(x: number, first: [string, number], precision: number, float32: boolean): [string, number] {
  const [mantissa, exp] = first;
  if (x === 0 || !float32) return [mantissa.padEnd(mantissa.indexOf('.') + 1 + precision, '0'), exp];
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const { digits, exp: e } = splitExponential(toExponentialEven(Math.abs(x), precision));
  return [sign + digits[0] + '.' + digits.slice(1).padEnd(precision, '0'), e];
}

// ---------------------------------------------------------------------------------------------------
// float64 arrays: the digits numpy prints come from integer arithmetic on the double, exact where it is
// used (each fast path says why); the rare values it cannot settle take the general path above.
// The helpers take an item by its index and give int32 results: a double passed to or returned from a
// call the compiler did not inline is boxed in a new heap number, one per item.

/** Exact powers of ten as doubles (10^22 is the largest). */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number('1e' + k));
/** The integer that holds numpy's 8 fraction digits (positional) or 9 significant digits (scientific). */
const FRACTION_SCALE = 1e8;
const SCIENTIFIC_MIN = 1e8;
const SCIENTIFIC_MAX = 1e9;
/**
 * Below 2^26 a double's spacing is at most 2^-27 < 0.5e-8: a value whose shortest digits have at most 8
 * fraction digits rounds to them at 8 digits, so numpy's output (shortest digits, cut and rounded at 8)
 * is the value rounded to 8 fraction digits in every case.
 */
const POSITIONAL_FAST_LIMIT = 2 ** 26;
/**
 * A scaled value whose fraction is this close to one half is left to the exact path: the scaling's
 * rounding error (at most 2^-24 here) could decide the rounding, and an exact tie rounds to even.
 */
const TIE_MARGIN = 1e-6;
/** Two per printed item, from the first pass to the second (grown as needed, reused). */
let itemA = new Int32Array(64);
let itemB = new Int32Array(64);
/** The text of an item the fast path left to the general one. */
let itemText: string[] = [];
/** Marks an item in {@link itemB} whose text is in {@link itemText}. */
const GENERAL = -1;
function reserve(n: number): void {
  if (itemA.length >= n) return;
  itemA = new Int32Array(n * 2);
  itemB = new Int32Array(n * 2);
}

/** `abs · 10^k` rounded once (the power is exact), or NaN where 10^k is not a double. */
function scaled(abs: number, k: number): number {
  if (k >= 0) return k < POW10.length ? abs * POW10[k] : Number.NaN;
  return -k < POW10.length ? abs / POW10[-k] : Number.NaN;
}

/** Exponent of the last {@link nineDigits} result. */
let nineExp = 0;
/** The exponent {@link nineDigits} found by a logarithm last. */
let lastExp = 0;

/**
 * |x| rounded to 9 significant digits as an integer in 1e8..1e9-1 (its exponent in {@link nineExp}),
 * or -1 when the fast arithmetic cannot decide it. The quotient or product of a double and an exact
 * power of ten is off by at most half a unit of its last place (< 6e-8 below 1e9), so its rounding is the
 * exact value's unless its fraction is within {@link TIE_MARGIN} of one half.
 */
function nineDigits(items: Float64Array, i: number): number {
  const abs = Math.abs(items[i]);
  // The items of an array are mostly of one magnitude: the last exponent is tried before a logarithm.
  // Only one exponent puts the scaled value in 1e8..1e9, so the guess cannot change the result.
  let e = lastExp;
  let q = scaled(abs, 8 - e);
  if (!(q >= SCIENTIFIC_MIN && q < SCIENTIFIC_MAX)) {
    e = Math.floor(Math.log10(abs));
    q = scaled(abs, 8 - e);
    if (q < SCIENTIFIC_MIN) q = scaled(abs, 8 - --e);
    else if (q >= SCIENTIFIC_MAX) q = scaled(abs, 8 - ++e);
    if (!(q >= SCIENTIFIC_MIN && q < SCIENTIFIC_MAX)) return -1;
    lastExp = e | 0;
  }
  const floor = Math.floor(q);
  const fraction = q - floor;
  if (fraction > 0.5 - TIE_MARGIN && fraction < 0.5 + TIE_MARGIN) return -1;
  let n = fraction < 0.5 ? floor : floor + 1;
  if (n === SCIENTIFIC_MAX) {
    n = SCIENTIFIC_MIN;
    e++;
  }
  nineExp = e | 0;
  return n | 0;
}

/** Number of trailing zero digits of an integer below 2^31 (9 for 0), in int32 arithmetic. */
function trailingZeros(n: number): number {
  if (n === 0) return 9;
  let zeros = 0;
  let q = (n / 1e8) | 0;
  if (q * 1e8 === n) {
    zeros = 8;
    n = q;
  }
  q = (n / 1e4) | 0;
  if (q * 1e4 === n) {
    zeros += 4;
    n = q;
  }
  q = (n / 100) | 0;
  if (q * 100 === n) {
    zeros += 2;
    n = q;
  }
  q = (n / 10) | 0;
  if (q * 10 === n) zeros++;
  return zeros;
}

/** The 9 significant digits the general path gives for a value the fast one left (subnormals, ties). */
function nineDigitsExact(abs: number): number {
  const [mantissa, exp] = scientific(abs, false);
  nineExp = exp | 0;
  let digits = mantissa[0] + mantissa.slice(2);
  while (digits.length < NUMPY_PRECISION + 1) digits += '0';
  return Number(digits);
}

/** 10^k for the digit cuts below. */
/** Held as int32 (the largest is 10^9), so that remainders and quotients by them stay integer operations. */
const POW10_INT = Int32Array.from(POW10.slice(0, NUMPY_PRECISION + 2));

/** The items of the float array being written, as doubles: one array kind for every pass below. */
let floatItems = new Float64Array(64);

/**
 * {@link formatFloats}, written into `out` (float32 items in scientific notation take the general path): the same notation and widths, with each
 * item's digits found once by integer arithmetic (positional: the whole part and the fraction at 8
 * digits; scientific: 9 significant digits), and written digit by digit.
 */
function writeFloats(out: TextBuffer, values: ArrayLike<number>, summarised: boolean, float32: boolean): void {
  const count = values.length;
  // Payloads come as arrays and typed arrays of several kinds: one copy makes the loops below monomorphic.
  if (floatItems.length < count) floatItems = new Float64Array(count * 2);
  const items = floatItems;
  copyItems(items, values);
  if (!float32 && writePositional64(out, items, count, summarised)) return;
  let max = 0;
  let min = Infinity;
  let finite = 0;
  let negativeInfinity = 0;
  for (let i = 0; i < count; i++) {
    const v = items[i];
    if (v - v !== 0) {
      if (v === -Infinity) negativeInfinity = 1;
      continue;
    }
    finite++;
    const abs = v < 0 ? -v : v;
    if (abs === 0) continue;
    if (abs > max) max = abs;
    if (abs < min) min = abs;
  }
  const expFormat = max > 0 && (max >= EXP_FORMAT_MAX || min < EXP_FORMAT_MIN || max / min > EXP_FORMAT_RATIO);
  if (float32 && expFormat) {
    // numpy's second pass prints more digits of a float32's exact value here: the general path does.
    const texts = formatFloats(values, true);
    for (let i = 0; i < texts.length; i++) {
      if (i > 0) separator(out, i, summarised);
      out.text(texts[i]);
    }
    return;
  }
  reserve(count);
  // Widths of the columns, as numpy's FloatingFormat finds them: left of the point (sign included) and
  // fraction digits; a scientific item has 1 digit left of the point and its exponent after the fraction.
  // An item's fraction digits are counted only when it has more than the widest so far (a remainder test).
  let padLeft = 0;
  let precision = 0;
  let expDigits = 2;
  for (let i = 0; i < count; i++) {
    const v = items[i];
    if (v - v !== 0) continue;
    const negative = v < 0 || (v === 0 && 1 / v < 0);
    const abs = negative ? -v : v;
    let left: number;
    if (expFormat) {
      let n = 0;
      nineExp = 0;
      if (abs !== 0) {
        n = abs >= MIN_NORMAL ? nineDigits(items, i) : -1;
        if (n < 0) n = nineDigitsExact(abs) | 0;
      }
      itemA[i] = n;
      itemB[i] = nineExp;
      left = negative ? 2 : 1;
      if (precision < NUMPY_PRECISION && (n | 0) % POW10_INT[NUMPY_PRECISION - precision] !== 0) {
        precision = NUMPY_PRECISION - trailingZeros(n);
      }
      const e = nineExp < 0 ? -nineExp : nineExp;
      if (e >= 100 && decimalDigits(e) > expDigits) expDigits = decimalDigits(e);
    } else {
      // The fraction at 8 digits as an integer (whole part in fractionWhole), or GENERAL.
      let fraction = GENERAL;
      if (!float32 && abs < POSITIONAL_FAST_LIMIT) fraction = fraction8(items, i);
      else if (float32 && abs < FLOAT32_FAST_LIMIT) fraction = fraction32(items, i);
      if (fraction !== GENERAL) {
        itemA[i] = fractionWhole;
        itemB[i] = fraction;
        left = (negative ? 1 : 0) + decimalDigits(fractionWhole);
        if (precision < NUMPY_PRECISION && (fraction | 0) % POW10_INT[NUMPY_PRECISION - precision] !== 0) {
          precision = NUMPY_PRECISION - trailingZeros(fraction);
        }
      } else {
        const text = positional(v, float32);
        if (itemText.length < count) itemText = new Array<string>(count * 2).fill('');
        itemText[i] = text;
        itemB[i] = GENERAL;
        left = text.indexOf('.');
        const fractionDigits = text.length - left - 1;
        if (fractionDigits > precision) precision = fractionDigits;
      }
    }
    if (left > padLeft) padLeft = left;
  }
  const padRight = expFormat ? expDigits + 2 + precision : precision;
  if (finite !== count) {
    const offset = padRight + 1;
    padLeft = Math.max(padLeft, 'nan'.length - offset, 'inf'.length + negativeInfinity - offset);
  }
  const width = padLeft + padRight + 1;
  // Every item's digits at `precision` are an exact cut of its 8 (or 9) digits.
  const cut = POW10_INT[NUMPY_PRECISION - precision];
  for (let i = 0; i < count; i++) {
    if (i > 0) separator(out, i, summarised);
    const v = items[i];
    if (v - v !== 0) {
      const text = v !== v ? 'nan' : v < 0 ? '-inf' : 'inf';
      out.spaces(width - text.length);
      out.text(text);
      continue;
    }
    const negative = v < 0 || (v === 0 && 1 / v < 0);
    if (!expFormat && itemB[i] === GENERAL) {
      const text = itemText[i];
      const dot = text.indexOf('.');
      out.spaces(padLeft - dot);
      out.text(text);
      out.spaces(precision - (text.length - dot - 1));
      continue;
    }
    // Every other item is exactly `width` ASCII bytes, written in place.
    out.reserve(width);
    const bytes = out.bytes;
    const start = out.length;
    // The digits left of the point end at the point, right-aligned: written backwards from it.
    const point = start + padLeft;
    let at: number;
    if (expFormat) {
      const n = itemA[i];
      const exp = itemB[i];
      const lead = (n / SCIENTIFIC_MIN) | 0;
      bytes[point - 1] = ZERO + lead;
      at = point - 1;
      if (negative) bytes[--at] = MINUS;
      while (at > start) bytes[--at] = SPACE;
      bytes[point] = DOT;
      at = point + 1 + precision;
      putDigits(bytes, at, ((n - lead * SCIENTIFIC_MIN) / cut) | 0, precision);
      bytes[at++] = LOWER_E;
      bytes[at++] = exp < 0 ? MINUS : PLUS;
      at += expDigits;
      putDigits(bytes, at, exp < 0 ? -exp : exp, expDigits);
    } else {
      let whole = itemA[i];
      at = point;
      do {
        const q = (whole / 10) | 0;
        bytes[--at] = ZERO + whole - q * 10;
        whole = q;
      } while (whole > 0);
      if (negative) bytes[--at] = MINUS;
      while (at > start) bytes[--at] = SPACE;
      bytes[point] = DOT;
      at = point + 1 + precision;
      putDigits(bytes, at, (itemB[i] / cut) | 0, precision);
      // numpy pads the fraction with spaces, not zeros: the item's own trailing zeros become padding.
      for (let z = at - 1; z > point && bytes[z] === ZERO; z--) bytes[z] = SPACE;
    }
    out.length = at;
  }
}

/**
 * The common case of {@link writeFloats} in one pass over the items and one over the bytes: a float64
 * array in positional notation whose items are all finite, below {@link POSITIONAL_FAST_LIMIT} and clear
 * of a rounding tie at 8 fraction digits (readings, most waveforms). Each item's whole part and
 * 8-digit fraction (fraction8's arithmetic, inlined) are found while the magnitudes that decide the
 * notation are gathered; the text of all items is then written with no call per item, into room
 * reserved once. Returns false, having written nothing, for any other array (the general passes).
 */
function writePositional64(out: TextBuffer, items: Float64Array, count: number, summarised: boolean): boolean {
  reserve(count);
  const wholes = itemA;
  const fractions = itemB;
  let max = 0;
  let min = Infinity;
  // Largest whole part of a non-negative and of a negative item (-1: none): the left column's width.
  let widestPositive = 0;
  let widestNegative = -1;
  let precision = 0;
  for (let i = 0; i < count; i++) {
    const v = items[i];
    const negative = v < 0 || (v === 0 && 1 / v < 0);
    const abs = negative ? -v : v;
    // NaN and the infinities fail this test too.
    if (!(abs < POSITIONAL_FAST_LIMIT)) return false;
    if (abs !== 0 && (abs > max || abs < min)) {
      if (abs > max) max = abs;
      if (abs < min) min = abs;
      // The spread only grows: an array bound for scientific notation is left as soon as that shows.
      if (max >= EXP_FORMAT_MAX || min < EXP_FORMAT_MIN || max / min > EXP_FORMAT_RATIO) return false;
    }
    let whole = Math.floor(abs);
    const q = (abs - whole) * FRACTION_SCALE;
    let n = Math.floor(q);
    const half = q - n - 0.5;
    if (half > -TIE_MARGIN && half < TIE_MARGIN) return false;
    if (half > 0) n++;
    if (n === FRACTION_SCALE) {
      n = 0;
      whole++;
    }
    wholes[i] = whole;
    fractions[i] = n;
    if (negative) {
      if (whole > widestNegative) widestNegative = whole;
    } else if (whole > widestPositive) widestPositive = whole;
    if (precision < NUMPY_PRECISION && n % POW10_INT[NUMPY_PRECISION - precision] !== 0) {
      precision = NUMPY_PRECISION - trailingZeros(n);
    }
  }
  const padLeft = Math.max(decimalDigits(widestPositive), widestNegative < 0 ? 0 : 1 + decimalDigits(widestNegative));
  const width = padLeft + 1 + precision;
  out.reserve(count * (width + SEPARATOR_BYTES) + SUMMARY_GAP.length);
  const bytes = out.bytes;
  const cut = POW10_INT[NUMPY_PRECISION - precision];
  let start = out.length;
  for (let i = 0; i < count; i++) {
    if (i > 0) {
      if (summarised && i === NUMPY_EDGE_ITEMS) {
        for (let k = 0; k < SUMMARY_GAP.length; k++) bytes[start++] = SUMMARY_GAP[k];
      } else {
        bytes[start] = COMMA;
        bytes[start + 1] = SPACE;
        start += SEPARATOR_BYTES;
      }
    }
    const v = items[i];
    // Right-aligned whole part, written backwards from the point.
    const point = start + padLeft;
    let whole = wholes[i];
    let at = point;
    do {
      const q = (whole / 10) | 0;
      bytes[--at] = ZERO + whole - q * 10;
      whole = q;
    } while (whole > 0);
    if (v < 0 || (v === 0 && 1 / v < 0)) bytes[--at] = MINUS;
    while (at > start) bytes[--at] = SPACE;
    bytes[point] = DOT;
    const end = point + 1 + precision;
    putDigits(bytes, end, (fractions[i] / cut) | 0, precision);
    // numpy pads the fraction with spaces, not zeros: the item's own trailing zeros become padding.
    for (let z = end - 1; z > point && bytes[z] === ZERO; z--) bytes[z] = SPACE;
    start = end;
  }
  out.length = start;
  return true;
}
/** `, ` between two items. */
const SEPARATOR_BYTES = 2;

/** Writes the last `count` decimal digits of `v` (below 2^31) into `bytes`, ending before `end`. */
function putDigits(bytes: Uint8Array, end: number, value: number, count: number): void {
  let at = end;
  // int32 arithmetic throughout (divisions by constants become multiplications).
  let v = value | 0;
  // Four digits per division, copied from a table.
  for (; count >= 4; count -= 4) {
    const q = (v / 1e4) | 0;
    const r = (v - q * 1e4) << 2;
    at -= 4;
    bytes[at] = DIGIT_QUADS[r];
    bytes[at + 1] = DIGIT_QUADS[r + 1];
    bytes[at + 2] = DIGIT_QUADS[r + 2];
    bytes[at + 3] = DIGIT_QUADS[r + 3];
    v = q;
  }
  for (; count > 0; count--) {
    const q = (v / 10) | 0;
    bytes[--at] = ZERO + v - q * 10;
    v = q;
  }
}
/** The four ASCII digits of 0..9999, zero-padded, at 4n..4n+3. */
const DIGIT_QUADS = Buffer.from(Array.from({ length: 1e4 }, (_, n) => String(n).padStart(4, '0')).join(''), 'latin1');
const SPACE = 0x20;

/**
 * Below 2^24 a float32's whole part is exact and its shortest digits keep all of it: only the fraction
 * digits are searched.
 */
const FLOAT32_FAST_LIMIT = 2 ** 24;

/**
 * {@link fraction8} for a float32 value: its shortest fraction digits that read back as the same float32
 * (numpy's Dragon4 in float32 precision), scaled to 8 digits, or {@link GENERAL} when more than 8 are
 * needed or the search meets a tie. `abs · 10^k` is exact in a double (24 + 19 significant bits), so
 * `round` gives the nearest k-digit decimal.
 */
function fraction32(items: Float64Array, i: number): number {
  const abs = Math.abs(items[i]);
  const whole = Math.floor(abs);
  for (let k = 0; k <= NUMPY_PRECISION; k++) {
    const q = abs * POW10[k];
    const floor = Math.floor(q);
    if (q - floor === 0.5) return GENERAL;
    const n = q - floor < 0.5 ? floor : floor + 1;
    if (Math.fround(n / POW10[k]) === abs) {
      fractionWhole = whole | 0;
      return ((n - whole * POW10[k]) * POW10[NUMPY_PRECISION - k]) | 0;
    }
  }
  return GENERAL;
}

/** Whole part of the last {@link fraction8} / {@link fraction32} result. */
let fractionWhole = 0;

/**
 * |x| (below {@link POSITIONAL_FAST_LIMIT}) rounded to 8 fraction digits: the fraction as an integer
 * 0..1e8-1 (the whole part in {@link fractionWhole}), or {@link GENERAL} near a rounding tie. Splitting
 * off the whole part is exact, and the fraction times 1e8 is off by at most 2^-27.
 */
function fraction8(items: Float64Array, i: number): number {
  const abs = Math.abs(items[i]);
  const whole = Math.floor(abs);
  const q = (abs - whole) * FRACTION_SCALE;
  const floor = Math.floor(q);
  const fraction = q - floor;
  if (fraction > 0.5 - TIE_MARGIN && fraction < 0.5 + TIE_MARGIN) return GENERAL;
  const n = fraction < 0.5 ? floor : floor + 1;
  if (n === FRACTION_SCALE) {
    fractionWhole = (whole + 1) | 0;
    return 0;
  }
  fractionWhole = whole | 0;
  return n | 0;
}

/**
 * The items of a float64 or float32 array as the general path formats them, joined (numpy's text between
 * the brackets of an unsummarised array): the reference the tests hold the fast paths of
 * {@link numpyArray} to.
 * @internal
 */
export function generalFloats(values: ArrayLike<number>, float32: boolean): string {
  return formatFloats(values, float32).join(', ');
}

/** numpy's FloatingFormat in `maxprec` mode: one notation and one width for every printed item. */
function formatFloats(values: ArrayLike<number>, float32: boolean): string[] {
  const finite: number[] = [];
  let max = 0;
  let min = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    finite.push(v);
    const abs = v < 0 ? -v : v;
    if (abs === 0) continue;
    if (abs > max) max = abs;
    if (abs < min) min = abs;
  }
  // numpy chooses the notation from the non-zero finite magnitudes.
  const expFormat = max > 0 && (max >= EXP_FORMAT_MAX || min < EXP_FORMAT_MIN || max / min > EXP_FORMAT_RATIO);
  let padLeft = 0;
  let padRight = 0;
  // First pass over the finite items (numpy sizes the columns from them); the texts are kept for the second.
  let format: (v: number, i: number) => string;
  if (expFormat) {
    const parts = finite.map((v) => scientific(v, float32));
    const precision = Math.max(...parts.map(([m]) => m.length - m.indexOf('.') - 1));
    const expDigits = Math.max(2, ...parts.map(([, e]) => String(Math.abs(e)).length));
    padLeft = Math.max(...parts.map(([m]) => m.indexOf('.')));
    padRight = expDigits + 2 + precision;
    format = (v, i) => {
      const [mantissa, exp] = scientificPadded(v, parts[i], precision, float32);
      const dot = mantissa.indexOf('.');
      const whole = dot < padLeft ? ' '.repeat(padLeft - dot) + mantissa.slice(0, dot) : mantissa.slice(0, dot);
      const e = exp < 0 ? -exp : exp;
      const digits = e < 10 && expDigits === 2 ? '0' + e : ('' + e).padStart(expDigits, '0');
      return whole + mantissa.slice(dot) + (exp < 0 ? 'e-' : 'e+') + digits;
    };
  } else {
    const texts: string[] = new Array<string>(finite.length);
    const dots: number[] = new Array<number>(finite.length);
    for (let i = 0; i < finite.length; i++) {
      const t = positional(finite[i], float32);
      const dot = t.indexOf('.');
      texts[i] = t;
      dots[i] = dot;
      if (dot > padLeft) padLeft = dot;
      if (t.length - dot - 1 > padRight) padRight = t.length - dot - 1;
    }
    format = (_v, i) => {
      const text = texts[i];
      const dot = dots[i];
      const left = dot < padLeft ? ' '.repeat(padLeft - dot) : '';
      const right = text.length - dot - 1 < padRight ? ' '.repeat(padRight - (text.length - dot - 1)) : '';
      return left + text + right;
    };
  }
  if (finite.length !== values.length) {
    let negativeInfinity = 0;
    for (let i = 0; i < values.length; i++) if (values[i] === -Infinity) negativeInfinity = 1;
    const offset = padRight + 1;
    padLeft = Math.max(padLeft, 'nan'.length - offset, 'inf'.length + negativeInfinity - offset);
  }
  const width = padLeft + padRight + 1;
  const out: string[] = [];
  let f = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) out.push('nan'.padStart(width));
    else if (!Number.isFinite(v)) out.push((v < 0 ? '-inf' : 'inf').padStart(width));
    else out.push(format(v, f++));
  }
  return out;
}
