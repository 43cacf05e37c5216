/**
 * The JSON form of decoded records, shared by `ca-shark --json` and the daemon's WebSocket/REST output
 * (documented field by field in docs/json.md, schema in packages/cli/schema/record.schema.json).
 *
 * Differences from the in-memory record: byte arrays (`Uint8Array`, `Buffer`) become lower-case hex
 * strings, except a `data` field, where a typed array is a decoded DBR waveform and becomes a plain array,
 * `bigint` becomes a number when it is exactly representable and a decimal string otherwise, non-finite
 * numbers become null, and `undefined` fields are left out. Otherwise the text is exactly
 * `JSON.stringify`'s: same key order, same number and string forms.
 *
 * Written by hand rather than by one `JSON.stringify(record)`: `ca-shark --json` spent most of its time
 * there (448 MB of JSON for realistic.pcap's 107 MB), and V8's stringify costs about as much per field as
 * this module's walk. What pays is doing less: the fields a record shares with the other records of its
 * packet (frame, timestamp, addresses, ethernet, ip, transport: half the text) are written once per
 * packet, repeated strings come from a small cache, and a waveform is copied into a reused plain array
 * for one native `JSON.stringify` (the fastest shortest-round-trip float formatting in JavaScript:
 * `String(x)` costs 2-3 times as much per number) instead of a new array per waveform.
 */

/** One record as one line of JSON (no trailing newline), in the shared JSON form. */
export function recordToJSON(record: unknown): string {
  if (typeof record === 'object' && record !== null && isPlainObject(record)) {
    const text = recordText(record as Record<string, unknown>);
    if (text !== undefined) return text;
  }
  return JSON.stringify(toJSONValue('', record));
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
 * The leading fields of a decoder record, all from its packet, in the record's key order (decoder's
 * emit.ts): equal for every record of one packet.
 */
const PACKET_KEYS = ['frame', 'timestamp', 'interfaceId', 'src', 'dst', 'ethernet', 'ip', 'transport'] as const;

/**
 * The packet fields of the last record written, and their text once a second record of the same packet
 * asked for it (`{"frame":...,"transport":{...}`). The packet layer makes the ethernet, ip and transport
 * objects once per packet and never changes them, so the same objects with the same frame and timestamp
 * give the same text.
 */
const packet = { values: new Array<unknown>(PACKET_KEYS.length).fill(undefined), text: null as string | null };

/**
 * `record` as JSON, or undefined when it does not start with the packet fields in order (the caller then
 * takes the general path).
 */
function recordText(record: Record<string, unknown>): string | undefined {
  const cached = packet.values;
  let i = 0;
  let same = true;
  for (const key in record) {
    if (key !== PACKET_KEYS[i]) return undefined;
    if (record[key] !== cached[i]) same = false;
    if (++i === PACKET_KEYS.length) break;
  }
  if (i < PACKET_KEYS.length) return undefined;
  if (!same) {
    for (let k = 0; k < PACKET_KEYS.length; k++) cached[k] = record[PACKET_KEYS[k]];
    packet.text = null;
    // The first record of a packet (and every record where nothing is shared, as after a structured
    // clone): one native call when nothing needs converting, as fast as before the cache.
    if (!needsConversion(record, 0)) return JSON.stringify(record);
  }
  let out = (packet.text ??= packetText(record));
  i = 0;
  for (const key in record) {
    if (i++ < PACKET_KEYS.length) continue;
    const text = valueText(key, record[key]);
    if (text !== undefined) out += out.length === 1 ? keyText(key).slice(1) + text : keyText(key) + text;
  }
  return out + '}';
}

/** The text of the packet fields of `record` (all present: checked by the caller). */
function packetText(record: Record<string, unknown>): string {
  let out = '{';
  for (let i = 0; i < PACKET_KEYS.length; i++) {
    const key = PACKET_KEYS[i];
    const value = record[key];
    const text = valueText(key, value);
    if (text !== undefined) out += out.length === 1 ? keyText(key).slice(1) + text : keyText(key) + text;
  }
  return out;
}

/**
 * The JSON text of `value`, found under `key` in its holder (a `data` key makes a typed array a list of
 * numbers, not hex), or undefined where JSON.stringify leaves a field out (undefined, functions, symbols).
 */
function valueText(key: string, value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return stringText(value);
    case 'number':
      // Integers from V8's number-string cache; fractions in the shortest round-trip form (JSON.stringify
      // is faster at it than String(), and writes null for NaN and infinities).
      return Number.isInteger(value) ? '' + value : JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? '' + Number(value) : stringText(value.toString());
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return arrayText(value);
      if (ArrayBuffer.isView(value)) {
        if (key === 'data' && isNumericArray(value)) return numericArrayText(value);
        if (value instanceof Uint8Array) return stringText(bytesToHex(value));
      } else if (isPlainObject(value)) {
        // Native when nothing needs converting: as fast per field, and its text is one flat string
        // (a walk's concatenations are flattened again when the line is written).
        return needsConversion(value, 0) ? objectText(value as Record<string, unknown>) : JSON.stringify(value);
      }
      return JSON.stringify(toJSONValue(key, value));
    default:
      return undefined;
  }
}

/**
 * Whether `value` is an object JSON.stringify writes as its own enumerable keys in order (what `for...in`
 * walks for an object with no enumerable inherited keys), with no `toJSON`, Map or Set conversion.
 */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

function objectText(object: Record<string, unknown>): string {
  let out = '{';
  for (const key in object) {
    const text = valueText(key, object[key]);
    if (text !== undefined) out += out.length === 1 ? keyText(key).slice(1) + text : keyText(key) + text;
  }
  return out + '}';
}

function arrayText(items: readonly unknown[]): string {
  const n = items.length;
  let numbers = true;
  for (let i = 0; i < n && numbers; i++) numbers = typeof items[i] === 'number';
  // DBR values of up to 256 elements: one native call formats the numbers fastest.
  if (numbers) return JSON.stringify(items);
  let out = '[';
  for (let i = 0; i < n; i++) out += (i === 0 ? '' : ',') + (valueText(String(i), items[i]) ?? 'null');
  return out + ']';
}

/**
 * Reused plain arrays, one per waveform length, that typed arrays are copied into for one native
 * `JSON.stringify` (a new 30,000-element array per waveform cost a tenth of `--json`'s time in garbage).
 */
const scratch = new Map<number, number[]>();
/** Waveform lengths kept in {@link scratch} (a capture has few distinct lengths). */
const MAX_SCRATCH_LENGTHS = 8;
/**
 * Longer waveforms get an array of their own each time: kept, eight arrays of a 16 MB message's 2 M
 * doubles would hold 128 MB for the rest of the run.
 */
const MAX_SCRATCH_ELEMENTS = 1 << 16;

function numericArrayText(items: ArrayLike<number>): string {
  const n = items.length;
  let plain = scratch.get(n);
  if (plain === undefined) {
    plain = new Array<number>(n).fill(0);
    if (n <= MAX_SCRATCH_ELEMENTS) {
      if (scratch.size >= MAX_SCRATCH_LENGTHS) scratch.clear();
      scratch.set(n, plain);
    }
  }
  for (let i = 0; i < n; i++) plain[i] = items[i];
  return JSON.stringify(plain);
}

/** Entries a text cache holds before it is emptied (bounds memory on captures with many distinct values). */
const MAX_CACHED = 4096;
/** Longer strings are not cached (PV names, endpoints and enum names are short). */
const MAX_CACHED_LENGTH = 64;

/** Keys as written after a previous field (`,"key":`): records use a few dozen distinct keys. */
const keys = new Map<string, string>();

function keyText(key: string): string {
  let text = keys.get(key);
  if (text === undefined) {
    if (keys.size >= MAX_CACHED) keys.clear();
    text = ',' + JSON.stringify(key) + ':';
    keys.set(key, text);
  }
  return text;
}

/** Quoted strings: PV names, endpoints, command, role and status names repeat from record to record. */
const strings = new Map<string, string>();

function stringText(s: string): string {
  let text = strings.get(s);
  if (text === undefined) {
    text = JSON.stringify(s);
    if (s.length <= MAX_CACHED_LENGTH) {
      if (strings.size >= MAX_CACHED) strings.clear();
      strings.set(s, text);
    }
  }
  return text;
}

function isNumericArray(value: unknown): value is ArrayLike<number> {
  return (
    ArrayBuffer.isView(value) &&
    !(value instanceof DataView) &&
    !(value instanceof BigInt64Array) &&
    !(value instanceof BigUint64Array)
  );
}

/** Depth beyond which the check gives up and converts (records are shallow). */
const MAX_CHECK_DEPTH = 8;

/**
 * Whether JSON.stringify would write `value` differently from the JSON form: bigints, typed arrays, Map,
 * Set, `toJSON` or class instances inside. (Non-finite numbers need nothing: JSON.stringify writes null.)
 */
function needsConversion(value: unknown, depth: number): boolean {
  if (typeof value === 'bigint') return true;
  if (value === null || typeof value !== 'object') return false;
  if (depth > MAX_CHECK_DEPTH) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
        if (needsConversion(v, depth + 1)) return true;
      }
    }
    return false;
  }
  if (!isPlainObject(value)) return true;
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
      if (needsConversion(v, depth + 1)) return true;
    }
  }
  return false;
}

/**
 * `value` (under `key` in its holder) as plain JSON-compatible values, by the rules in this module's header,
 * built ahead so that JSON.stringify needs no replacer: the path for what the hand-written walk does not
 * cover (class instances, `toJSON`, Map, Set, typed arrays other than waveforms and bytes). Objects and
 * arrays are copied; the record itself is never changed. (Non-finite numbers and `undefined` are left to
 * JSON.stringify, which already writes null and leaves the field out.)
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

/** A numeric typed array's values as a plain array (an index loop: `Array.from` is 3 times slower). */
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
