/**
 * The JSON form of decoded records, shared by `ca-shark --json` and the daemon's WebSocket/REST output
 * (documented field by field in docs/json.md, schema in packages/cli/schema/record.schema.json).
 *
 * Differences from the in-memory record: byte arrays (`Uint8Array`, `Buffer`) become lower-case hex
 * strings, except a `data` field, where a typed array is a decoded DBR waveform and becomes a plain array, `bigint` becomes a number when it is exactly representable and a decimal string otherwise,
 * non-finite numbers become null, and `undefined` fields are left out.
 */

function isNumericArray(value: unknown): value is ArrayLike<number> {
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  );
}

/** One record as one line of JSON (no trailing newline), in the shared JSON form. */
export function recordToJSON(record: unknown): string {
  // Most records hold nothing to convert: check first, which costs far less than the stringify itself, and
  // convert only the few that do. (A replacer function instead would send every value through
  // JSON.stringify's slow path: a 30,000-element waveform would call it 30,000 times.)
  return needsConversion(record, 0) ? JSON.stringify(toJSONValue('', record)) : JSON.stringify(record);
}

/**
 * `value` (under `key` in its holder) as plain JSON-compatible values, by the rules in this module's header,
 * built ahead so that JSON.stringify needs no replacer. Objects and arrays are copied; the record itself is
 * never changed. (Non-finite numbers and `undefined` are left to JSON.stringify, which already writes null
 * and leaves the field out.)
 */
function toJSONValue(key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value)) {
    if (key === 'data' && isNumericArray(value)) return numbersOf(value);
    if (value instanceof Uint8Array) return bytesToHex(value);
    if (!(value instanceof DataView)) return typedToArray(value as unknown as ArrayLike<number | bigint>);
    return value;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return toJSONValue(key, toJSON.call(value, key));
  if (value instanceof Map) return toJSONValue(key, Object.fromEntries(value));
  if (value instanceof Set) return toJSONValue(key, [...value]);
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toJSONValue(String(i), value[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) out[k] = toJSONValue(k, (value as Record<string, unknown>)[k]);
  return out;
}

/** Depth beyond which the check gives up and converts (records are shallow). */
const MAX_CHECK_DEPTH = 8;

function needsConversion(value: unknown, depth: number): boolean {
  // Non-finite numbers need no conversion: JSON.stringify writes them as null.
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  if (depth > MAX_CHECK_DEPTH) return true;
  if (ArrayBuffer.isView(value) || value instanceof Map || value instanceof Set) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
        if (needsConversion(v, depth + 1)) return true;
      }
    }
    return false;
  }
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
      if (needsConversion(v, depth + 1)) return true;
    }
  }
  return false;
}

/**
 * A record converted to plain JSON-compatible values (what `JSON.parse(recordToJSON(record))` gives), for
 * callers that embed records in a larger JSON document.
 */
export function recordToPlain(record: unknown): unknown {
  const text = recordToJSON(record);
  return text === undefined ? null : JSON.parse(text);
}

/**
 * A numeric typed array's values as a plain array. An index loop: `Array.from` goes through the iterator
 * protocol and took 3 times as long on 30,000-element waveforms.
 */
function numbersOf(items: ArrayLike<number>): number[] {
  const n = items.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = items[i];
  return out;
}

function typedToArray(items: ArrayLike<number | bigint>): unknown[] {
  const out = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    out[i] =
      typeof v === 'bigint'
        ? Number.isSafeInteger(Number(v))
          ? Number(v)
          : v.toString()
        : Number.isFinite(v)
          ? v
          : null;
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lower-case hex of a byte array, two digits per byte, no separators. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]];
  return out;
}
