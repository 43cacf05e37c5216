/**
 * Python-style text for JavaScript values, so that lines look like caproto-shark's (which prints Python
 * objects): `None`, `True`, `'quoted'` strings, `[1, 2]` lists, and floats as Python's repr writes them.
 */

/** Arrays longer than this are summarised with their first and last items (numpy's default threshold). */
export const ARRAY_SUMMARY_THRESHOLD = 1000;
/** Items shown at each end of a summarised array (numpy's `edgeitems`). */
export const ARRAY_EDGE_ITEMS = 3;

/** Python's repr writes floats in plain notation from 1e-4 up to (not including) 1e16. */
const PLAIN_MIN = 1e-4;
const PLAIN_LIMIT = 1e16;

/** Python's `repr(float)`: shortest round-trip digits, `.0` on integral values, exponent outside 1e-4..1e16. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= PLAIN_MIN && abs < PLAIN_LIMIT) {
    // In this range JavaScript also writes the shortest round-trip digits in plain notation; only Python's
    // '.0' on integral values differs. This is the common case, and the slow path below allocates a lot.
    const text = String(x);
    return text.includes('.') ? text : text + '.0';
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
  return Number.isInteger(x) ? String(x) : pyFloat(x);
}

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
    for (const [k, v] of Object.entries(value)) if (v !== undefined) parts.push(`${pyString(k)}: ${pyRepr(v, options)}`);
    return '{' + parts.join(', ') + '}';
  }
  return String(value);
}

/** Python's `str()`: strings bare, everything else as {@link pyRepr}. */
export function pyStr(value: unknown): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

function pyList(items: ArrayLike<unknown>, options: ReprOptions): string {
  const n = items.length;
  const parts: string[] = [];
  if (n > ARRAY_SUMMARY_THRESHOLD) {
    for (let i = 0; i < ARRAY_EDGE_ITEMS; i++) parts.push(pyRepr(items[i], options));
    parts.push('...');
    for (let i = n - ARRAY_EDGE_ITEMS; i < n; i++) parts.push(pyRepr(items[i], options));
  } else {
    for (let i = 0; i < n; i++) parts.push(pyRepr(items[i], options));
  }
  return '[' + parts.join(', ') + ']';
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
