/**
 * The Python reprs of caproto's own value types, as caproto-shark prints them (Python 3.11, numpy 1.24):
 * `<ChannelType.TIME_DOUBLE: 20>`, `<AccessRights.READ|WRITE: 3>`, `CAStatusCode(...)`, `<AlarmStatus.UDF: 17>`,
 * DBR metadata structures and DBR payloads (numpy arrays, or lists of bytes for strings).
 */
import {
  DbrType,
  alarmSeverityName,
  alarmStatusName,
  dbrElementKind,
  dbrNativeType,
  dbrTypeName,
  ecaInfo,
  ecaSeverityName,
  isEcaCode,
  type DbrMetadata,
} from '@ca-shark/protocol';
import { writeNumpyArray, type NumericKind } from './numpy-repr.js';
import { writePyFloat } from './pyrepr.js';
import { asString, encoded, type TextBuffer } from './text-buffer.js';

/** Seconds from the Unix epoch to the EPICS epoch (1990-01-01 UTC). */
const EPICS_TO_UNIX_SECONDS = 631152000;
const NANOS_PER_MICRO = 1e3;
const MICROS_PER_SECOND = 1e6;

/** caproto's ChannelType name of a DBR type id: EPICS's, with INT where EPICS (and ca-shark) say SHORT. */
function channelTypeName(type: number): string | undefined {
  return dbrTypeName(type)?.replace('SHORT', 'INT');
}

/** `<ChannelType.TIME_DOUBLE: 20>`; an id caproto has no member for fails in caproto's repr as shown. */
export function channelTypeRepr(type: number): string {
  return CHANNEL_TYPE_REPRS[type] ?? buildChannelTypeRepr(type);
}

function buildChannelTypeRepr(type: number): string {
  const name = channelTypeName(type);
  return name === undefined ? `(repr: ${type} is not a valid ChannelType)` : `<ChannelType.${name}: ${type}>`;
}
// Printed on most lines: built once per type.
const CHANNEL_TYPE_REPRS: readonly string[] = Array.from({ length: DbrType.CLASS_NAME + 1 }, (_, t) =>
  buildChannelTypeRepr(t),
);
const CHANNEL_TYPE_BYTES: readonly Uint8Array[] = CHANNEL_TYPE_REPRS.map(encoded);

/** {@link channelTypeRepr}, written into `out`. */
export function writeChannelType(out: TextBuffer, type: number): void {
  const bytes = CHANNEL_TYPE_BYTES[type];
  if (bytes !== undefined) out.raw(bytes);
  else out.text(channelTypeRepr(type));
}

/** AccessRights flag members, low bit first (caproto's enum). */
const ACCESS_FLAGS = ['READ', 'WRITE'] as const;

/** Python 3.11's IntFlag repr: `<AccessRights.READ|WRITE: 3>`, `<AccessRights.NO_ACCESS: 0>`, `<AccessRights.READ|4: 5>`. */
export function accessRightsRepr(value: number): string {
  if (value === 0) return '<AccessRights.NO_ACCESS: 0>';
  const names: string[] = [];
  ACCESS_FLAGS.forEach((name, bit) => {
    if (value & (1 << bit)) names.push(name);
  });
  const unknown = value & ~((1 << ACCESS_FLAGS.length) - 1);
  if (unknown !== 0) names.push(String(unknown));
  // Python leaves the member part out when only unknown bits are set: `<AccessRights: 4>`.
  return names.length === 1 && unknown !== 0
    ? `<AccessRights: ${value}>`
    : `<AccessRights.${names.join('|')}: ${value}>`;
}

/** caproto's CASeverity members by the low 3 bits of a status code (5 and 7 have none). */
const CA_SEVERITY_VALUES = new Set([0, 1, 2, 3, 4, 6]);

/**
 * `CAStatusCode(name='ECA_NORMAL', code=0, code_with_severity=1, ...)`. caproto looks the status up in its
 * table; a code outside it raises KeyError, which caproto-shark's repr prints as `(repr: <code>)`.
 */
export function caStatusRepr(code: number): string {
  let text = STATUS_REPRS.get(code);
  if (text === undefined) {
    text = statusRepr(code);
    if (isEcaCode(code)) STATUS_REPRS.set(code, text);
  }
  return text;
}
// Printed on every reply: built once per known code.
const STATUS_REPRS = new Map<number, string>();

/** {@link caStatusRepr}, written into `out` (its ASCII bytes encoded once per known code). */
export function writeCaStatus(out: TextBuffer, code: number): void {
  let bytes = STATUS_BYTES.get(code);
  if (bytes === undefined) {
    const text = caStatusRepr(code);
    if (!isEcaCode(code)) return out.text(text);
    bytes = encoded(text);
    STATUS_BYTES.set(code, bytes);
  }
  out.raw(bytes);
}
const STATUS_BYTES = new Map<number, Uint8Array>();

function statusRepr(code: number): string {
  const info = isEcaCode(code) ? ecaInfo(code) : undefined;
  if (info === undefined || !CA_SEVERITY_VALUES.has(info.severity)) return `(repr: ${code})`;
  const severity = `<CASeverity.${ecaSeverityName(info.severity)}: ${info.severity}>`;
  return (
    `CAStatusCode(name='${info.name}', code=${info.msgNo}, code_with_severity=${info.code}, ` +
    `severity=${severity}, success=${info.success ? 1 : 0}, defunct=${info.defunct ? 'True' : 'False'}, ` +
    `description=${pyStr(info.description)})`
  );
}

/** `b'text'`: Python's repr of the bytes of a decoded EPICS string. */
export function pyBytesOf(text: string): string {
  return asString((out) => writePyBytesOf(out, text));
}

/** {@link pyBytesOf}, written into `out` (string payloads: no string built per value). */
function writePyBytesOf(out: TextBuffer, text: string): void {
  let ascii = true;
  for (let i = 0; i < text.length && ascii; i++) ascii = text.charCodeAt(i) <= ASCII_MAX;
  const bytes = ascii ? null : new TextEncoder().encode(text);
  const n = bytes === null ? text.length : bytes.length;
  out.pair(LOWER_B, QUOTE);
  for (let i = 0; i < n; i++) {
    const b = bytes === null ? text.charCodeAt(i) : bytes[i];
    if (b === QUOTE || b === BACKSLASH) out.pair(BACKSLASH, b);
    else if (b === TAB) out.pair(BACKSLASH, LOWER_T);
    else if (b === NEWLINE) out.pair(BACKSLASH, LOWER_N);
    else if (b === RETURN) out.pair(BACKSLASH, LOWER_R);
    else if (b >= PRINTABLE_MIN && b < DEL) out.byte(b);
    else out.text('\\x' + b.toString(16).padStart(2, '0'));
  }
  out.byte(QUOTE);
}
const ASCII_MAX = 0x7f;
const LOWER_B = 0x62;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const LOWER_T = 0x74;
const LOWER_N = 0x6e;
const LOWER_R = 0x72;
const PRINTABLE_MIN = 0x20;
const DEL = 0x7f;

/** Python's repr of a str (only caproto's fixed texts pass here: single quotes always fit). */
function pyStr(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * A DBR payload as caproto holds it: numeric types as numpy arrays of the native type's big-endian
 * dtype, string types as a DbrStringArray (a list of bytes).
 */
export function dbrDataRepr(data: ArrayLike<unknown>, dataType: number): string | undefined {
  let known = false;
  const text = asString((out) => {
    known = writeDbrData(out, data, dataType);
  });
  return known ? text : undefined;
}

/** {@link dbrDataRepr}, written into `out`; false (nothing written) for a type without a payload kind. */
export function writeDbrData(out: TextBuffer, data: ArrayLike<unknown>, dataType: number): boolean {
  const native = dbrNativeType(dataType);
  const kind = native === undefined ? undefined : dbrElementKind(native);
  if (kind === undefined) return false;
  if (kind === 'string') {
    out.byte(OPEN_BRACKET);
    for (let i = 0; i < data.length; i++) {
      if (i > 0) out.text(', ');
      writePyBytesOf(out, String(data[i]));
    }
    out.byte(CLOSE_BRACKET);
  } else writeNumpyArray(out, data as ArrayLike<number>, kind);
  return true;
}
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * The numpy element kind that {@link writeDbrData} prints a payload of `dataType` as, or undefined when
 * it prints no numpy array (strings, unknown types).
 */
export function numericKindOf(dataType: number): NumericKind | undefined {
  return NUMERIC_KINDS[dataType];
}
const NUMERIC_KINDS: readonly (NumericKind | undefined)[] = Array.from({ length: DbrType.CLASS_NAME + 1 }, (_, t) => {
  const native = dbrNativeType(t);
  const kind = native === undefined ? undefined : dbrElementKind(native);
  return kind === 'string' ? undefined : kind;
});

/** caproto's names of protocol's LIMIT_FIELDS, in the same (wire) order: six graphic, two control limits. */
const LIMIT_NAMES = [
  'upper_disp_limit',
  'lower_disp_limit',
  'upper_alarm_limit',
  'upper_warning_limit',
  'lower_warning_limit',
  'lower_alarm_limit',
  'upper_ctrl_limit',
  'lower_ctrl_limit',
] as const;

/** caproto's alarm severity member names (EPICS's with `_ALARM`). */
function alarmSeverityMember(severity: number): string | undefined {
  const name = alarmSeverityName(severity);
  if (name === String(severity)) return undefined;
  return name === 'NO_ALARM' ? name : `${name}_ALARM`;
}

/** caproto's TimeStamp.timestamp: EPICS seconds and whole microseconds, in caproto's float arithmetic. */
function caprotoTimestamp(seconds: number, nanoseconds: number): number {
  return EPICS_TO_UNIX_SECONDS + seconds + (1 / MICROS_PER_SECOND) * Math.trunc(nanoseconds / NANOS_PER_MICRO);
}

/**
 * `DBR_TIME_DOUBLE(status=<AlarmStatus.NO_ALARM: 0>, severity=<AlarmSeverity.NO_ALARM: 0>, timestamp=...)`:
 * caproto's metadata structure with its `info_fields` in its order. caproto drops a status or severity
 * it has no member for.
 */
export function dbrMetadataRepr(meta: DbrMetadata, dataType: number): string {
  return asString((out) => writeDbrMetadata(out, meta, dataType));
}

/** {@link dbrMetadataRepr}, written into `out`. */
export function writeDbrMetadata(out: TextBuffer, meta: DbrMetadata, dataType: number): void {
  const opening = STRUCT_OPENINGS[dataType];
  if (opening !== undefined) out.raw(opening);
  else out.text(structOpening(dataType));
  let first = true;
  if (meta.status !== undefined) {
    const bytes = STATUS_FIELDS[meta.status];
    if (bytes !== undefined) first = encodedArgument(out, first, bytes);
    else {
      const text = statusField(meta.status);
      if (text !== '') first = argument(out, first, text);
    }
  }
  if (meta.severity !== undefined) {
    const bytes = SEVERITY_FIELDS[meta.severity];
    if (bytes !== undefined) first = encodedArgument(out, first, bytes);
    else {
      const text = severityField(meta.severity);
      if (text !== '') first = argument(out, first, text);
    }
  }
  if (meta.secondsPastEpoch !== undefined && meta.nanoseconds !== undefined) {
    first = encodedArgument(out, first, TIMESTAMP);
    writePyFloat(out, caprotoTimestamp(meta.secondsPastEpoch, meta.nanoseconds));
  } else if (meta.timestamp !== undefined) {
    first = encodedArgument(out, first, TIMESTAMP);
    writePyFloat(out, meta.timestamp);
  }
  if (meta.upperDisplayLimit !== undefined) {
    const native = dbrNativeType(dataType);
    const floats = native === DbrType.FLOAT || native === DbrType.DOUBLE;
    // GR types carry the six graphic limits, CTRL types the two control limits too. Named loads, in
    // LIMIT_FIELDS order: a load keyed by field name is a megamorphic one.
    first = writeLimit(out, first, 0, meta.upperDisplayLimit, floats);
    first = writeLimit(out, first, 1, meta.lowerDisplayLimit, floats);
    first = writeLimit(out, first, 2, meta.upperAlarmLimit, floats);
    first = writeLimit(out, first, 3, meta.upperWarningLimit, floats);
    first = writeLimit(out, first, 4, meta.lowerWarningLimit, floats);
    first = writeLimit(out, first, 5, meta.lowerAlarmLimit, floats);
    first = writeLimit(out, first, 6, meta.upperControlLimit, floats);
    first = writeLimit(out, first, 7, meta.lowerControlLimit, floats);
    if (meta.precision !== undefined) {
      first = argument(out, first, 'precision=');
      out.int(meta.precision);
    }
    if (meta.units !== undefined) {
      first = argument(out, first, 'units=');
      out.text(cachedBytesOf(meta.units));
    }
  }
  if (meta.enumStrings !== undefined) {
    const strings = meta.enumStrings;
    first = argument(out, first, 'enum_strings=(');
    for (let i = 0; i < strings.length; i++) {
      if (i > 0) out.text(', ');
      out.text(cachedBytesOf(strings[i]));
    }
    out.text(strings.length === 1 ? ',)' : ')');
  }
  if (meta.ackt !== undefined) first = argument(out, first, `ackt=${meta.ackt}`);
  if (meta.acks !== undefined) argument(out, first, `acks=${meta.acks}`);
  out.text(')');
}

/** Units characters that {@link metadataValues} carries (EPICS's units field holds 8 bytes). */
const MAX_UNITS_VALUES = 40;
/**
 * Values that {@link metadataValues} writes at most: the mask, status, severity, seconds, nanoseconds,
 * timestamp, eight limits, precision, the units' length and {@link MAX_UNITS_VALUES} units characters.
 */
export const MAX_METADATA_VALUES = 16 + MAX_UNITS_VALUES;

/** Bits of a structure's mask in {@link metadataValues}: which fields follow, in this order. */
const enum MetaBit {
  Status = 1,
  Severity = 2,
  Seconds = 4,
  Nanoseconds = 8,
  Timestamp = 16,
  /** The limits (upperDisplayLimit defined): each of LIMIT_FIELDS present has its bit from here up. */
  FirstLimit = 32,
  Precision = 1 << 13,
  Units = 1 << 14,
}

/**
 * The fields of `meta` that {@link writeDbrMetadata} prints, as numbers for the other thread (split.ts):
 * a mask of the fields present ({@link MetaBit}), then their values, the units as their length and UTF-16
 * code units. Returns how many values it wrote at `values[at]`, or 0 (nothing to use) for what numbers do
 * not carry: enum strings, STSACK's ackt and acks, a field that is not a number, units of more than
 * {@link MAX_UNITS_VALUES} characters. {@link writeMetadataValues} writes the same text as
 * writeDbrMetadata would from them.
 */
export function metadataValues(meta: DbrMetadata, values: Float64Array, at: number): number {
  if (meta.enumStrings !== undefined || meta.ackt !== undefined || meta.acks !== undefined) return 0;
  cursor = at + 1;
  putMask = 0;
  if (
    !put(values, meta.status, MetaBit.Status) ||
    !put(values, meta.severity, MetaBit.Severity) ||
    !put(values, meta.secondsPastEpoch, MetaBit.Seconds) ||
    !put(values, meta.nanoseconds, MetaBit.Nanoseconds) ||
    !put(values, meta.timestamp, MetaBit.Timestamp)
  )
    return 0;
  // writeDbrMetadata prints the limits, precision and units only after an upper display limit.
  if (meta.upperDisplayLimit !== undefined) {
    if (
      !put(values, meta.upperDisplayLimit, MetaBit.FirstLimit) ||
      !put(values, meta.lowerDisplayLimit, MetaBit.FirstLimit << 1) ||
      !put(values, meta.upperAlarmLimit, MetaBit.FirstLimit << 2) ||
      !put(values, meta.upperWarningLimit, MetaBit.FirstLimit << 3) ||
      !put(values, meta.lowerWarningLimit, MetaBit.FirstLimit << 4) ||
      !put(values, meta.lowerAlarmLimit, MetaBit.FirstLimit << 5) ||
      !put(values, meta.upperControlLimit, MetaBit.FirstLimit << 6) ||
      !put(values, meta.lowerControlLimit, MetaBit.FirstLimit << 7) ||
      !put(values, meta.precision, MetaBit.Precision)
    )
      return 0;
    const units: unknown = meta.units;
    if (units !== undefined) {
      if (typeof units !== 'string' || units.length > MAX_UNITS_VALUES) return 0;
      values[cursor++] = units.length;
      for (let i = 0; i < units.length; i++) values[cursor++] = units.charCodeAt(i);
      putMask |= MetaBit.Units;
    }
  }
  values[at] = putMask;
  return cursor - at;
}
/** The bits of the fields {@link metadataValues} has put so far. */
let putMask = 0;
/** Puts `value` at {@link cursor} when it is defined; false (refused) when it is not a number. */
function put(values: Float64Array, value: unknown, bit: number): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'number') return false;
  values[cursor++] = value;
  putMask |= bit;
  return true;
}

/**
 * Writes the structure of `dataType` whose fields {@link metadataValues} wrote at `values[at]`, as
 * {@link writeDbrMetadata} writes it; returns how many values it read.
 */
export function writeMetadataValues(out: TextBuffer, values: Float64Array, at: number, dataType: number): number {
  const mask = values[at];
  cursor = at + 1;
  const meta = scratchMeta;
  // Named stores, in LIMIT_FIELDS order for the limits: a store keyed by field name is a megamorphic one.
  meta.status = taken(values, mask, MetaBit.Status);
  meta.severity = taken(values, mask, MetaBit.Severity);
  meta.secondsPastEpoch = taken(values, mask, MetaBit.Seconds);
  meta.nanoseconds = taken(values, mask, MetaBit.Nanoseconds);
  meta.timestamp = taken(values, mask, MetaBit.Timestamp);
  meta.upperDisplayLimit = taken(values, mask, MetaBit.FirstLimit);
  meta.lowerDisplayLimit = taken(values, mask, MetaBit.FirstLimit << 1);
  meta.upperAlarmLimit = taken(values, mask, MetaBit.FirstLimit << 2);
  meta.upperWarningLimit = taken(values, mask, MetaBit.FirstLimit << 3);
  meta.lowerWarningLimit = taken(values, mask, MetaBit.FirstLimit << 4);
  meta.lowerAlarmLimit = taken(values, mask, MetaBit.FirstLimit << 5);
  meta.upperControlLimit = taken(values, mask, MetaBit.FirstLimit << 6);
  meta.lowerControlLimit = taken(values, mask, MetaBit.FirstLimit << 7);
  meta.precision = taken(values, mask, MetaBit.Precision);
  meta.units = (mask & MetaBit.Units) !== 0 ? takenUnits(values) : undefined;
  writeDbrMetadata(out, meta, dataType);
  return cursor - at;
}
/** The next value {@link metadataValues} writes or {@link writeMetadataValues} reads. */
let cursor = 0;
/** The value at {@link cursor} (and past it) when `mask` has `bit`, else undefined. */
function taken(values: Float64Array, mask: number, bit: number): number | undefined {
  return (mask & bit) !== 0 ? values[cursor++] : undefined;
}
/** The units at {@link cursor}: the last units again while they are the same (a channel's replies repeat them). */
function takenUnits(values: Float64Array): string {
  const n = values[cursor];
  const start = cursor + 1;
  cursor = start + n;
  let same = n === lastUnits.length;
  for (let i = 0; i < n && same; i++) same = values[start + i] === lastUnits.charCodeAt(i);
  if (!same) lastUnits = String.fromCharCode(...values.subarray(start, start + n));
  return lastUnits;
}
let lastUnits = '';
/** The structure {@link writeMetadataValues} fills in and prints: one object, every field set each time. */
const scratchMeta: DbrMetadata = {
  status: undefined,
  severity: undefined,
  secondsPastEpoch: undefined,
  nanoseconds: undefined,
  timestamp: undefined,
  upperDisplayLimit: undefined,
  lowerDisplayLimit: undefined,
  upperAlarmLimit: undefined,
  upperWarningLimit: undefined,
  lowerWarningLimit: undefined,
  lowerAlarmLimit: undefined,
  upperControlLimit: undefined,
  lowerControlLimit: undefined,
  precision: undefined,
  units: undefined,
};

/** The `i`th limit of LIMIT_FIELDS, `v`, as a structure field (none when undefined); returns the new `first`. */
function writeLimit(out: TextBuffer, first: boolean, i: number, v: unknown, floats: boolean): boolean {
  if (v === undefined) return first;
  encodedArgument(out, first, LIMIT_ARGUMENTS[i]);
  if (typeof v !== 'number') out.text('None');
  else if (floats) writePyFloat(out, v);
  else if (Number.isSafeInteger(v)) out.int(v);
  else out.text(String(v));
  return false;
}

/** Starts the text of one structure field: `, ` before all but the first; returns the new `first`. */
function argument(out: TextBuffer, first: boolean, start: string): false {
  if (!first) out.pair(COMMA, SPACE);
  out.text(start);
  return false;
}

/** {@link argument} with a constant start, encoded once. */
function encodedArgument(out: TextBuffer, first: boolean, start: Uint8Array): false {
  if (!first) out.pair(COMMA, SPACE);
  out.raw(start);
  return false;
}
const TIMESTAMP = encoded('timestamp=');
const LIMIT_ARGUMENTS = LIMIT_NAMES.map((name) => encoded(name + '='));
const COMMA = 0x2c;
const SPACE = 0x20;

/** `DBR_TIME_DOUBLE(`: the structure's name as caproto prints it. */
function structOpening(dataType: number): string {
  // EPICS has no graphic/control string structure: GR_STRING and CTRL_STRING are STS_STRING on the wire.
  const structName =
    dataType === DbrType.GR_STRING || dataType === DbrType.CTRL_STRING ? 'STS_STRING' : channelTypeName(dataType);
  return `DBR_${structName ?? dbrTypeName(dataType) ?? dataType}(`;
}
const STRUCT_OPENINGS: readonly Uint8Array[] = Array.from({ length: DbrType.CLASS_NAME + 1 }, (_, t) =>
  encoded(structOpening(t)),
);

/** `status=<AlarmStatus.UDF: 17>`, or '' for a status caproto has no member for. */
function statusField(status: number): string {
  const name = alarmStatusName(status);
  return name === String(status) ? '' : `status=<AlarmStatus.${name}: ${status}>`;
}
/** Alarm statuses are small numbers: their texts are built once (undefined: none, or not built). */
const STATUS_FIELDS: readonly (Uint8Array | undefined)[] = Array.from({ length: 32 }, (_, s) =>
  statusField(s) === '' ? undefined : encoded(statusField(s)),
);

/** `severity=<AlarmSeverity.MAJOR_ALARM: 2>`, or '' for a severity caproto has no member for. */
function severityField(severity: number): string {
  const name = alarmSeverityMember(severity);
  return name === undefined ? '' : `severity=<AlarmSeverity.${name}: ${severity}>`;
}
const SEVERITY_FIELDS: readonly (Uint8Array | undefined)[] = Array.from({ length: 4 }, (_, s) =>
  severityField(s) === '' ? undefined : encoded(severityField(s)),
);

/** {@link pyBytesOf} of units and enum strings, which repeat on every CTRL reply of a channel. */
function cachedBytesOf(text: string): string {
  let repr = BYTES_REPRS.get(text);
  if (repr === undefined) {
    if (BYTES_REPRS.size >= BYTES_REPRS_MAX) BYTES_REPRS.clear();
    repr = pyBytesOf(text);
    BYTES_REPRS.set(text, repr);
  }
  return repr;
}
const BYTES_REPRS = new Map<string, string>();
/** Bounds the cache on a capture with many distinct units or enum strings. */
const BYTES_REPRS_MAX = 4096;
