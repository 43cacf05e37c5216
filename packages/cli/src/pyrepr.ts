/**
 * Python-style text for JavaScript values, so that lines look like caproto-shark's (which prints Python
 * objects): `None`, `True`, `'quoted'` strings, `[1, 2]` lists, and floats as Python's repr writes them.
 */

import type { TextBuffer } from './text-buffer.js';

/** Arrays longer than this are summarised with their first and last items (numpy's default threshold). */
export const ARRAY_SUMMARY_THRESHOLD = 1000;
/** Items shown at each end of a summarised array (numpy's `edgeitems`). */
export const ARRAY_EDGE_ITEMS = 3;

/** Python's repr writes floats in plain notation from 1e-4 up to (not including) 1e16. */
const PLAIN_MIN = 1e-4;
const PLAIN_LIMIT = 1e16;

/**
 * Fast path of {@link pyFloat} for values with few decimals: readings such as 23.644 and capture times
 * such as 1550679069.309346. x is printed as n / 10^k (k = 3, then 6) when n = round(x * 10^k) gives back x
 * exactly, so that decimal rounds to x; below `limit` the spacing of doubles is under 10^-k, so no other
 * decimal with k or fewer fraction digits rounds to x and the trimmed decimal is the shortest repr, which
 * is what Python (and JavaScript) print. Integer arithmetic and tables replace a double-to-string conversion.
 */
const MILLI = 1e3;
const MICRO = 1e6;
/** Doubles are spaced under 10^-3 below 2^43 and under 10^-6 below 2^32; these limits stay inside. */
const MILLI_LIMIT = 1e12;
const MICRO_LIMIT = 4e9;
/** Three fraction digits of n/1000 for n in 0..999 ('005'). */
const DIGITS3: readonly string[] = Array.from({ length: MILLI }, (_, n) => String(n).padStart(3, '0'));
/** The same with trailing zeros removed ('5' for 500, '05' for 50, '005' for 5). */
const TRIMMED3: readonly string[] = DIGITS3.map((d) => d.replace(/0+$/, ''));

/** `whole.fraction` of a non-negative n / 10^k as Python prints it (k = 3 or 6), or null. */
function shortDecimal(x: number): string | null {
  const abs = x < 0 ? -x : x;
  // Outside the plain range Python writes an exponent; NaN fails every comparison and falls through too.
  if (!(abs >= PLAIN_MIN && abs < MILLI_LIMIT)) return null;
  {
    const n = Math.round(abs * MILLI);
    if (n / MILLI === abs && n !== 0) {
      const whole = Math.floor(n / MILLI);
      const fraction = n - whole * MILLI;
      return fraction === 0 ? whole + '.0' : whole + '.' + TRIMMED3[fraction];
    }
  }
  if (abs < MICRO_LIMIT) {
    const n = Math.round(abs * MICRO);
    if (n / MICRO === abs && n !== 0) {
      const whole = Math.floor(n / MICRO);
      const fraction = n - whole * MICRO;
      const high = Math.floor(fraction / MILLI);
      const low = fraction - high * MILLI;
      // fraction is not a multiple of 1000 here (the 10^-3 path took those), so low !== 0.
      return whole + '.' + DIGITS3[high] + TRIMMED3[low];
    }
  }
  return null;
}

/**
 * {@link pyFloat}, written into `out`: values with at most 6 decimals below {@link MICRO_LIMIT} (capture
 * times, most readings) digit by digit, as {@link shortDecimal} finds them, the others as pyFloat's text.
 */
export function writePyFloat(out: TextBuffer, x: number): void {
  const abs = x < 0 ? -x : x;
  if (abs >= PLAIN_MIN && abs < MICRO_LIMIT) {
    const n = Math.round(abs * MICRO);
    if (n / MICRO === abs) {
      const whole = Math.floor(n / MICRO);
      // Below 10^6: int32 arithmetic (a remainder of doubles is a call into the C library).
      let fraction = (n - whole * MICRO) | 0;
      let digits = MICRO_DIGITS;
      if (fraction === 0) digits = 1;
      else
        while (fraction % 10 === 0) {
          fraction = (fraction / 10) | 0;
          digits--;
        }
      if (x < 0) out.byte(MINUS);
      out.uint(whole);
      out.byte(DOT);
      out.digits(fraction, digits);
      return;
    }
  }
  out.text(pyFloat(x));
}
const MICRO_DIGITS = 6;
const MINUS = 0x2d;
const DOT = 0x2e;

/** Python's `repr(float)`: shortest round-trip digits, `.0` on integral values, exponent outside 1e-4..1e16. */
export function pyFloat(x: number): string {
  const short = shortDecimal(x);
  if (short !== null) return x < 0 ? '-' + short : short;
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= PLAIN_MIN && abs < PLAIN_LIMIT) {
    // In this range JavaScript also writes the shortest round-trip digits in plain notation; only Python's
    // '.0' on integral values differs. This is the common case, and the slow path below allocates a lot.
    if (Number.isInteger(x)) return x + '.0';
    return '' + x;
  }
  // toExponential() without an argument gives the shortest digits that round-trip, as Python does.
  const [mantissa, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16) {
    const frac = digits.slice(1);
    out = digits[0] + (frac ? '.' + frac : '') + 'e' + (exp < 0 ? '-' : '+') + String(Math.abs(exp)).padStart(2, '0');
  } else if (exp < 0) {
    out = '0.' + '0'.repeat(-exp - 1) + digits;
  } else if (digits.length <= exp + 1) {
    out = digits + '0'.repeat(exp + 1 - digits.length) + '.0';
  } else {
    out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  }
  return negative ? '-' + out : out;
}

/** A number as Python prints an int when it is integral, else as a float. */
export function pyNumber(x: number): string {
  return Number.isInteger(x) ? '' + x : pyFloat(x);
}

/**
 * {@link pyString}, written into `out`: a text of printable ASCII without quote or backslash (a PV name,
 * nearly always) is written between single quotes as it is.
 */
export function writePyString(out: TextBuffer, s: string): void {
  // One pass: each character is checked as it is copied (printable ASCII is its own UTF-8 byte), and the
  // length is committed at the end, so a character that needs escaping leaves nothing to take back.
  const n = s.length;
  out.reserve(n + 2);
  const bytes = out.bytes;
  let at = out.length;
  bytes[at++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < PRINTABLE_MIN || c > PRINTABLE_MAX || c === QUOTE || c === BACKSLASH) {
      out.text(pyString(s));
      return;
    }
    bytes[at++] = c;
  }
  bytes[at++] = QUOTE;
  out.length = at;
}
const PRINTABLE_MIN = 0x20;
const PRINTABLE_MAX = 0x7e;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;

/** Python's `repr(str)`: single quotes unless the text holds a single quote and no double quote. */
export function pyString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === quote || ch === '\\') out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

/** Options for {@link pyRepr}. */
export interface ReprOptions {
  /** Render numbers in arrays as floats (`3.0`): for FLOAT/DOUBLE payloads. */
  floats?: boolean;
}

/** Python-like `repr()` of a JSON-ish value (objects as `{'key': value}` dicts). */
export function pyRepr(value: unknown, options: ReprOptions = {}): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return options.floats ? pyFloat(value) : pyNumber(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return pyString(value);
  if (value instanceof Uint8Array) return pyBytes(value);
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return pyList(value as ArrayLike<unknown>, options);
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value))
      if (v !== undefined) parts.push(`${pyString(k)}: ${pyRepr(v, options)}`);
    return '{' + parts.join(', ') + '}';
  }
  return String(value);
}

/** Python's `str()`: strings bare, everything else as {@link pyRepr}. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

/**
 * A DBR payload as a Python list: `number[]` and typed arrays alike (a `Uint8Array` of DBR_CHAR values is a
 * list of numbers here, not `bytes`), long ones summarised as numpy does.
 */
export function pyArray(items: ArrayLike<unknown>, floats: boolean): string {
  return pyList(items, floats ? FLOAT_ITEMS : NUMBER_ITEMS);
}

const FLOAT_ITEMS: ReprOptions = { floats: true };
const NUMBER_ITEMS: ReprOptions = { floats: false };

/**
 * Works on `number[]` and typed arrays alike (index loop, no Array methods), and formats only the items
 * printed: a long array costs six items, not its length.
 */
function pyList(items: ArrayLike<unknown>, options: ReprOptions): string {
  const n = items.length;
  if (n > ARRAY_SUMMARY_THRESHOLD) {
    let out = '[';
    for (let i = 0; i < ARRAY_EDGE_ITEMS; i++) out += pyItem(items[i], options) + ', ';
    out += '...';
    for (let i = n - ARRAY_EDGE_ITEMS; i < n; i++) out += ', ' + pyItem(items[i], options);
    return out + ']';
  }
  if (n === 0) return '[]';
  let out = '[' + pyItem(items[0], options);
  for (let i = 1; i < n; i++) out += ', ' + pyItem(items[i], options);
  return out + ']';
}

/** One list item: numbers (the common case, millions per capture) skip pyRepr's type dispatch. */
function pyItem(value: unknown, options: ReprOptions): string {
  if (typeof value === 'number') return options.floats === true ? pyFloat(value) : pyNumber(value);
  return pyRepr(value, options);
}

function pyBytes(bytes: Uint8Array): string {
  let out = "b'";
  for (const b of bytes) {
    if (b === 0x27 || b === 0x5c) out += '\\' + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += '\\x' + b.toString(16).padStart(2, '0');
  }
  return out + "'";
}
