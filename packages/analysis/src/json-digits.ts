/**
 * One double written as `JSON.stringify` writes it (shortest round-trip digits, the closest of them to the
 * value), straight into bytes: the digits of every number json-number.ts's `writeNumber` and `writeNumbers` write.
 *
 * Why not a digit loop (Steele and White's free format, this module's predecessor): it takes one turn of
 * several double operations per digit, ~90 ns for a 17-digit double, and realistic.pcap's waveforms are
 * 12.4 M such doubles. Here the digits come in one block, the way Ryu and Schubfach find them, but on
 * exact double arithmetic instead of 64-bit integers, written two at a time: ~60 ns
 * (docs/performance.md, "Session 10: CLI output"):
 *
 * - For 1e-5 <= x < 2^53 (not an integer), with `x = m * 2^q` and F chosen so that `T = x * 10^F` has 17
 *   digits before its point (10^16 <= T < 10^17; 1 <= F <= 21, so 10^F is exact), T is computed exactly
 *   as the sum of two doubles (Dekker's product). The decimals that read back as x are those whose
 *   scaled value lies within `M = 2^(q-1) * 10^F` of T (never exactly on a bound, see {@link inside}), and M, a
 *   multiple of 5^F (49 bits at most) by a power of two, is exact too; `0.55 < M < 11.2`.
 * - T is split at 10^8 into `H * 10^8 + L`: the candidates are integers near L, tested with offsets from
 *   L's whole part that are small integers (`a`), so that `a ± M` is exact and the sign of `a ± M - t`
 *   (t: the low part of T) is that of the exact difference. The shortest digits are the multiple of the
 *   largest power of ten within the interval: of 1 (there always is one: the interval is wider than 1),
 *   of 10 (up to three: the closest to T, which is one of the two around it), of 100 (at most one, and
 *   any longer run of zeros is that one's). A tie between two closest candidates, a power of two (its
 *   interval is lopsided) and every value outside the range above take the native `String(x)`: the
 *   output is the same for every double.
 */

const ZERO = 0x30;
const MINUS = 0x2d;
const DOT = 0x2e;
const NULL_TEXT = 'null';

/** Bytes one number takes at most: `-0.0000` and 17 digits, or the native form (at most 24 characters). */
export const MAX_NUMBER_BYTES = 26;

/** Integers below this are written by integer arithmetic (every double above it is an integer). */
const EXACT_INTEGERS = 2 ** 53;
/** Smallest magnitude of the block path: 10^F must stay exact with 5^F of 49 bits at most (F <= 21). */
const MIN_BLOCK = 1e-5;
/** The scaled value T has 17 digits: 10^16 <= T < 10^17. */
const T_MIN = 1e16;
const T_MAX = 1e17;
/** T's digits are split into a head and 8 digits. */
const LOW_DIGITS = 8;
const LOW_UNIT = 1e8;
const LOW_UNIT_INV = 1e-8;
/** Heads of 10 and 9 digits start here. */
const HEAD_10_DIGITS = 1e9;
const HEAD_9_DIGITS = 1e8;
const TENTH = 0.1;
const HUNDREDTH = 0.01;
const HALF = 0.5;
/**
 * Rounded differences below this are left to exact arithmetic: the offsets and `tl` are below 2^7, so
 * their rounded differences are off by 2^-46 at most.
 */
const NEAR = 2 ** -30;
/** Veltkamp's splitter for doubles (2^27 + 1): the halves of a split have 26 bits each. */
const SPLITTER = 134217729;

/** Exponent field of a double: bits 20-30 of its high word. */
const EXPONENT_SHIFT = 20;
const EXPONENT_BIAS = 1023;
/** Significand bits in the high word. */
const HIGH_SIGNIFICAND_MASK = 0xfffff;
/** Exponent bias plus the 52 significand bits: x = m * 2^(exponent field - this). */
const EXPONENT_OFFSET = 1075;
/** Distinct values of the exponent field. */
const EXPONENTS = 2048;

/** Half an ulp of a double by its exponent field. */
const HALF_ULP = new Float64Array(EXPONENTS);
for (let e = 1; e < EXPONENTS - 1; e++) HALF_ULP[e] = 2 ** (e - EXPONENT_OFFSET - 1);

/** 10^F for F = 0..22 (all exact) and their Veltkamp halves. */
const MAX_F = 22;
const POW10 = new Float64Array(MAX_F + 1);
const POW10_HIGH = new Float64Array(MAX_F + 1);
const POW10_LOW = new Float64Array(MAX_F + 1);
for (let f = 0; f <= MAX_F; f++) {
  const p = Number(`1e${f}`);
  const c = SPLITTER * p;
  POW10[f] = p;
  POW10_HIGH[f] = c - (c - p);
  POW10_LOW[f] = p - POW10_HIGH[f];
}

/**
 * The scale F by exponent field: 16 - floor(e * log10(2)), e the binary exponent; floor(log10(x)) is
 * that or one more (0 outside the block path's range).
 */
const SCALE_GUESS = new Int8Array(EXPONENTS);
for (let e = 1; e < EXPONENTS - 1; e++) {
  const f = 16 - Math.floor((e - EXPONENT_BIAS) * Math.log10(2));
  if (f >= 0 && f <= MAX_F) SCALE_GUESS[e] = f;
}

/**
 * "00" to "99" as the 16-bit little-endian word of their two characters: a digit pair is one unaligned
 * DataView store (8-9 of them per number instead of 17 byte stores: about a tenth of a number's time).
 */
const DIGIT_PAIRS = new Uint16Array(100);
for (let i = 0; i < 100; i++) DIGIT_PAIRS[i] = ((ZERO + (i % 10)) << 8) | (ZERO + Math.floor(i / 10));

/** "0000" to "9999" as the 32-bit little-endian word of their four characters (two pairs). */
const QUAD_UNIT = 10000;
const DIGIT_QUADS = new Uint32Array(QUAD_UNIT);
for (let i = 0; i < QUAD_UNIT; i++) DIGIT_QUADS[i] = DIGIT_PAIRS[i % 100] * 0x10000 + DIGIT_PAIRS[Math.floor(i / 100)];

/** Trailing zeros of the four-digit groups "0000" to "9999" (of {@link DIGIT_QUADS}' words). */
const QUAD_DIGITS = 4;
const TRAILING_ZEROS = new Uint8Array(QUAD_UNIT);
for (let i = 0; i < QUAD_UNIT; i++) {
  let zeros = 0;
  for (let v = i; zeros < QUAD_DIGITS && v % 10 === 0; v /= 10) zeros++;
  TRAILING_ZEROS[i] = zeros;
}

/** A digit and the point after it ("0." to "9.") as the 16-bit little-endian word of the two characters. */
const DIGIT_POINTS = new Uint16Array(10);
for (let i = 0; i < 10; i++) DIGIT_POINTS[i] = (DOT << 8) | (ZERO + i);

/**
 * A DataView of `bytes`, made again only when the buffer changes: a record's keys (json.ts) and a batch's
 * numbers go into the same buffer one after the other, so one cached view serves both.
 */
let lastBytes: Uint8Array | null = null;
let lastView: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

export function viewOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
  if (bytes !== lastBytes) {
    lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    lastBytes = bytes;
  }
  return lastView;
}

/** The bits of one double (little-endian host: word 1 is the high word). */
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;
const LOW = 1 - HIGH;

/** {@link nearestInside}'s answers besides a candidate: none in the interval, or two equally near. */
const NONE = -(2 ** 30);
const TIE = 2 ** 30;

/** Writes `x` as `JSON.stringify(x)` does at `at` (room for {@link MAX_NUMBER_BYTES}); returns the end. */
export function jsonNumberAt(bytes: Uint8Array, at: number, x: number): number {
  let v = x;
  if (x < 0) {
    bytes[at++] = MINUS;
    v = -x;
  }
  // -0 lands here as 0 and is written as 0, as JavaScript does.
  if (v < EXACT_INTEGERS) {
    if (v === Math.floor(v)) return integerAt(bytes, at, v);
    if (v >= MIN_BLOCK) {
      // v goes in `bits`, where blockAt reads its words anyway: a double argument would be boxed, a new
      // heap number per call (docs/performance.md, "Session 18, second round").
      bits[0] = v;
      const end = blockAt(bytes, at);
      if (end >= 0) return end;
    }
  }
  // NaN, infinities, exponent forms, and what the block path declined.
  if (x < 0) at--;
  const text = Number.isFinite(x) ? '' + x : NULL_TEXT;
  for (let i = 0; i < text.length; i++) bytes[at++] = text.charCodeAt(i);
  return at;
}

/** Writes non-negative integer `v` (< 2^53) at `at`; returns the end. */
function integerAt(bytes: Uint8Array, at: number, v: number): number {
  if (v < 10) {
    bytes[at] = ZERO + v;
    return at + 1;
  }
  if (v < INT32_LIMIT) return int32At(bytes, at, v | 0);
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

/** Integers below this are written by {@link int32At}. */
const INT32_LIMIT = 2 ** 31;
const INT32_POW10 = [10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/**
 * Writes integer `v` (10 <= v < 2^31) at `at`; returns the end. Records are full of these (frame numbers,
 * ids, counts, sizes, ports); in int32 arithmetic a division by 100 is a multiplication, and the digits
 * go two at a time, as in {@link digitsAt}.
 */
function int32At(bytes: Uint8Array, at: number, v: number): number {
  let n = 2;
  while (n < INT32_POW10.length + 1 && v >= INT32_POW10[n - 1]) n++;
  const end = at + n;
  const view = viewOf(bytes);
  let p = end;
  while (v >= 100) {
    const q = (v / 100) | 0;
    view.setUint16(p - 2, DIGIT_PAIRS[v - q * 100], true);
    p -= 2;
    v = q;
  }
  if (v >= 10) view.setUint16(p - 2, DIGIT_PAIRS[v], true);
  else bytes[p - 1] = ZERO + v;
  return end;
}

/**
 * Writes positive non-integer `x` = `bits[0]` (MIN_BLOCK <= x < 2^53) in its shortest round-trip fixed form
 * at `at`, returning the end, or -1 where the caller must use the native form instead.
 */
function blockAt(bytes: Uint8Array, at: number): number {
  const x = bits[0];
  const high = words[HIGH];
  const exponent = high >>> EXPONENT_SHIFT;
  // A power of two: the interval below it is half as wide as above (not handled here).
  if ((high & HIGH_SIGNIFICAND_MASK) === 0 && words[LOW] === 0) return -1;
  // floor(log10(x)) is the guess or one more, so T starts at 10^16 or more: at most one step down.
  let f = SCALE_GUESS[exponent];
  let th = x * POW10[f];
  if (th >= T_MAX) th = x * POW10[--f];
  if (th < T_MIN) return -1;
  // th + tl is x * 10^f exactly (Dekker's product on halves of 26 bits).
  const c = SPLITTER * x;
  const xh = c - (c - x);
  const xl = x - xh;
  const ph = POW10_HIGH[f];
  const pl = POW10_LOW[f];
  const tl = xh * ph - th + xh * pl + xl * ph + xl * pl;
  const margin = HALF_ULP[exponent] * POW10[f];
  // T = head * 10^8 + low + tl, low a whole number in [0, 10^8): the products and differences are exact.
  let head = Math.floor(th * LOW_UNIT_INV);
  let rest = th - head * LOW_UNIT;
  if (rest < 0) {
    head--;
    rest += LOW_UNIT;
  } else if (rest >= LOW_UNIT) {
    head++;
    rest -= LOW_UNIT;
  }
  const low = rest | 0;
  // 17 digits: the integer nearest T, always inside (it is within 0.5 of T, and the margin is wider).
  // (Math.floor: Math.round is a call in V8; the exact difference corrects a rounded tl + 0.5.)
  let a = Math.floor(tl + HALF);
  const off = a - tl;
  if (off === HALF || off === -HALF) return -1;
  if (off > HALF) a--;
  else if (off < -HALF) a++;
  // Fewer digits: the multiple of 10 nearest T, if inside; then of 100 (at most one is inside).
  const tens = nearestInside(low % 10, tl, margin, 10, TENTH);
  if (tens === TIE) return -1;
  if (tens !== NONE) {
    a = tens;
    const hundreds = nearestInside(low % 100, tl, margin, 100, HUNDREDTH);
    if (hundreds !== NONE && hundreds !== TIE) a = hundreds;
  }
  let digits = low + a;
  if (digits < 0) {
    head--;
    digits += LOW_UNIT;
  } else if (digits >= LOW_UNIT) {
    head++;
    digits -= LOW_UNIT;
  }
  // The digits, here rather than in a function of their own: one call per number instead of two
  // (docs/performance.md, "Session 18, second round").
  // 10^7 <= head < 2^31 (T is 10^16 or more, less the margin) and digits < 10^8: int32 arithmetic.
  const n = (head >= HEAD_10_DIGITS ? 10 : head >= HEAD_9_DIGITS ? 9 : 8) + LOW_DIGITS;
  const whole = n - f;
  let start = at;
  if (whole > 0) {
    // The digits one place to the right, then the whole part moved left in front of the point.
    start++;
  } else {
    bytes[at++] = ZERO;
    bytes[at++] = DOT;
    for (let i = whole; i < 0; i++) bytes[at++] = ZERO;
    start = at;
  }
  let end = start + n;
  const view = viewOf(bytes);
  // Four digits per store (a table of 10,000 words: two DataView stores for the low 8 digits, two for
  // a 9-digit head and its first digit alone): 14 % fewer instructions per number than pairs
  // (docs/performance.md, "Session 18: --json").
  const l = digits | 0;
  const upper = (l / QUAD_UNIT) | 0;
  const last = l - upper * QUAD_UNIT;
  view.setUint32(end - 4, DIGIT_QUADS[last], true);
  view.setUint32(end - 8, DIGIT_QUADS[upper], true);
  // The trailing zeros of the last eight digits from a table of the groups rather than by reading the
  // bytes back one at a time (~15 instructions a byte, and a short decimal such as 1.25 has 14 of them
  // at this scale: 12500000000000000).
  let zeros = TRAILING_ZEROS[last];
  if (zeros === QUAD_DIGITS) zeros += TRAILING_ZEROS[upper];
  let p = end - LOW_DIGITS;
  let h = head | 0;
  while (p > start + 3) {
    const q = (h / QUAD_UNIT) | 0;
    view.setUint32(p - 4, DIGIT_QUADS[h - q * QUAD_UNIT], true);
    p -= 4;
    h = q;
  }
  if (p > start + 1) {
    const q = (h / 100) | 0;
    view.setUint16(p - 2, DIGIT_PAIRS[h - q * 100], true);
    p -= 2;
    h = q;
  }
  if (whole === 1 && p > start) {
    // One digit before the point and a first digit of its own (a 9-digit head: 1 <= x < 10 mostly):
    // it goes in front of the point, in one store with it, and nothing is moved.
    view.setUint16(at, DIGIT_POINTS[h], true);
  } else {
    if (p > start) bytes[start] = ZERO + h;
    if (whole > 0) {
      for (let i = 0; i < whole; i++) bytes[at + i] = bytes[start + i];
      bytes[at + whole] = DOT;
    }
  }
  end -= zeros;
  // More zeros in the head's digits. The fraction is never empty (x is not an integer) nor all zeros,
  // so this stops before the point.
  if (zeros === LOW_DIGITS) while (bytes[end - 1] === ZERO) end--;
  return end;
}

/**
 * The offset (from T's whole low part, whose remainder by `unit` is `r`) of the multiple of `unit`
 * nearest T, if it reads back as x; NONE if not, TIE when two are equally near and inside. Decided on
 * rounded differences (one branch whose outcome the data decides: random digits make the branch
 * predictor miss the others), unless T is within {@link NEAR} of a bound or of the midpoint between two
 * multiples: then exactly ({@link nearestInsideExact}).
 */
function nearestInside(r: number, tl: number, margin: number, unit: number, inverse: number): number {
  const nearest = Math.floor((r + tl) * inverse + HALF) * unit - r;
  const distance = Math.abs(nearest - tl);
  const gap = margin - distance;
  if (Math.abs(distance - unit * HALF) < NEAR || Math.abs(gap) < NEAR)
    return nearestInsideExact(r, tl, margin, unit, inverse);
  return gap > 0 ? nearest : NONE;
}

/** {@link nearestInside} where every sign is that of an exact difference: an integer and `tl`, or `2 * tl` and an integer. */
function nearestInsideExact(r: number, tl: number, margin: number, unit: number, inverse: number): number {
  // The multiple at or below T: a first guess from the rounded quotient, then made exact.
  let down = Math.floor((r + tl) * inverse) * unit - r;
  if (down - tl > 0) down -= unit;
  else if (down + unit - tl <= 0) down += unit;
  const side = 2 * tl - (2 * down + unit);
  if (side === 0) return inside(down, tl, margin) ? TIE : NONE;
  const nearest = side < 0 ? down : down + unit;
  return inside(nearest, tl, margin) ? nearest : NONE;
}

/**
 * Whether offset `a` (an integer) lies strictly within `margin` of `tl`. A candidate inside is within 3
 * margins of 0 (|tl| < 2 margins), where `a ± margin` is exact (at most 52 bits), so each difference
 * below has the sign of the exact one. A bound itself never is a candidate, so whether it would read
 * back as x (round-half-even: when m is even) does not matter here: a bound is `(2m ± 1) * 2^(q-1)`
 * with 2m ± 1 odd and above 2^53, and for it to be an integer at scale 10^F needs `q - 1 + F >= 0`,
 * with q < 0 (x is not an integer) F >= 2 and then `(2m ± 1) * 5^F >= 25 * 2^53`, far above the
 * candidates (below 10^17 + 12).
 */
function inside(a: number, tl: number, margin: number): boolean {
  if (Math.abs(a) > 4 * margin) return false;
  return a + margin - tl > 0 && a - margin - tl < 0;
}
