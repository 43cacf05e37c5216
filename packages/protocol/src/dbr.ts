/**
 * DBR payload decoder (reference §5) for all 39 types. Never throws: short or garbage payloads give what
 * can be read plus a `problem`.
 */
import type { DbrMetadata, DbrValue } from './types.js';
import { LIMIT_FIELDS, MetaOffset } from './layout.js';
import {
  alarmSeverityName,
  alarmStatusName,
  dbrElementKind,
  dbrMetaKind,
  dbrTypeName,
  dbrValueOffset,
  EPICS_EPOCH_OFFSET,
  MAX_ENUM_STATES,
  MAX_ENUM_STRING_SIZE,
  MAX_STRING_SIZE,
  MAX_UNITS_SIZE,
  type DbrElementKind,
} from './tables.js';

/** Options of {@link decodeDbr}. */
export interface DecodeDbrOptions {
  /**
   * State strings of the channel (from an earlier GR/CTRL_ENUM reply) to label ENUM values with; GR/CTRL
   * ENUM payloads label with their own strings.
   */
  enumStrings?: readonly string[];
  /** Decode at most this many elements (e.g. to preview a large waveform); `count` says how many were decoded. */
  maxElements?: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A C string inside [start, start + size) cut at the first NUL or the field/payload end. ASCII is the
 * common case; other bytes decode as UTF-8 when valid, else Latin-1 (3.13 peers, garbage after NULs).
 */
export function readCString(b: Uint8Array, start: number, size: number): string {
  const stop = Math.min(b.length, start + size);
  if (start >= stop) return '';
  let end = start;
  let ascii = true;
  while (end < stop) {
    const c = b[end];
    if (c === 0) break;
    if (c >= 0x80) ascii = false;
    end++;
  }
  if (ascii) {
    // Short strings: fromCharCode over a plain loop beats TextDecoder's call overhead.
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
    return s;
  }
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
    return s;
  }
}

function readElements(
  v: DataView,
  b: Uint8Array,
  base: number,
  kind: DbrElementKind,
  n: number,
): number[] | string[] {
  switch (kind) {
    case 'string': {
      const out: string[] = new Array<string>(n);
      for (let i = 0; i < n; i++) out[i] = readCString(b, base + i * MAX_STRING_SIZE, MAX_STRING_SIZE);
      return out;
    }
    case 'f64': {
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat64(base + i * 8);
      return out;
    }
    case 'f32': {
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = v.getFloat32(base + i * 4);
      return out;
    }
    case 'i32': {
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt32(base + i * 4);
      return out;
    }
    case 'i16': {
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt16(base + i * 2);
      return out;
    }
    case 'u16': {
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = v.getUint16(base + i * 2);
      return out;
    }
    case 'u8': {
      const out: number[] = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = b[base + i];
      return out;
    }
  }
}

function readLimit(v: DataView, o: number, kind: DbrElementKind): number {
  switch (kind) {
    case 'f64':
      return v.getFloat64(o);
    case 'f32':
      return v.getFloat32(o);
    case 'i32':
      return v.getInt32(o);
    case 'i16':
      return v.getInt16(o);
    case 'u16':
      return v.getUint16(o);
    default:
      return v.getUint8(o);
  }
}

function elementSize(kind: DbrElementKind): number {
  switch (kind) {
    case 'string':
      return MAX_STRING_SIZE;
    case 'f64':
      return 8;
    case 'f32':
    case 'i32':
      return 4;
    case 'i16':
    case 'u16':
      return 2;
    default:
      return 1;
  }
}

/**
 * Decodes the DBR payload `b` (whole payload, pad included) of type `dataType` with `dataCount`
 * elements. Decodes min(dataCount, elements present); a string element may end early at the payload end
 * (libca's short one-element strings). `v`, when given, must be a DataView over exactly `b`.
 * @internal shared with the command decoder to reuse one DataView per message.
 */
export function decodeDbrWith(
  v: DataView,
  b: Uint8Array,
  dataType: number,
  dataCount: number,
  options?: DecodeDbrOptions,
): DbrValue {
  const kind = dbrElementKind(dataType);
  const metaKind = dbrMetaKind(dataType);
  const valueOffset = dbrValueOffset(dataType);
  if (kind === undefined || metaKind === undefined || valueOffset === undefined) {
    return { dataType, dataTypeName: String(dataType), count: 0, data: [], problem: `unknown DBR type ${dataType}` };
  }
  const len = b.length;
  let meta: DbrMetadata | undefined;
  let problem: string | undefined;
  if (metaKind === 'time' && len >= valueOffset) {
    // The common monitor/read payload: one literal in the generic build's field order.
    const status = v.getInt16(MetaOffset.STATUS);
    const severity = v.getInt16(MetaOffset.SEVERITY);
    const secs = v.getUint32(MetaOffset.TIME_SECONDS);
    const nsec = v.getUint32(MetaOffset.TIME_NANOSECONDS);
    // 0/0 means the record was never processed: no time to show.
    meta =
      secs !== 0 || nsec !== 0
        ? {
            status,
            statusName: alarmStatusName(status),
            severity,
            severityName: alarmSeverityName(severity),
            secondsPastEpoch: secs,
            nanoseconds: nsec,
            timestamp: secs + EPICS_EPOCH_OFFSET + nsec / 1e9,
          }
        : {
            status,
            statusName: alarmStatusName(status),
            severity,
            severityName: alarmSeverityName(severity),
            secondsPastEpoch: secs,
            nanoseconds: nsec,
          };
  } else if (metaKind !== 'plain') {
    meta = {};
    if (len < valueOffset) problem = `payload of ${len} bytes is shorter than the ${valueOffset}-byte metadata`;
    if (len >= 4) {
      const status = metaKind === 'stsack' ? v.getUint16(MetaOffset.STATUS) : v.getInt16(MetaOffset.STATUS);
      const severity = metaKind === 'stsack' ? v.getUint16(MetaOffset.SEVERITY) : v.getInt16(MetaOffset.SEVERITY);
      meta.status = status;
      meta.statusName = alarmStatusName(status);
      meta.severity = severity;
      meta.severityName = alarmSeverityName(severity);
    }
    if (len >= valueOffset) {
      switch (metaKind) {
        case 'time': {
          const secs = v.getUint32(MetaOffset.TIME_SECONDS);
          const nsec = v.getUint32(MetaOffset.TIME_NANOSECONDS);
          meta.secondsPastEpoch = secs;
          meta.nanoseconds = nsec;
          if (secs !== 0 || nsec !== 0) meta.timestamp = secs + EPICS_EPOCH_OFFSET + nsec / 1e9;
          break;
        }
        case 'gr':
        case 'ctrl': {
          const isFloat = kind === 'f32' || kind === 'f64';
          if (isFloat) meta.precision = v.getInt16(MetaOffset.PRECISION);
          meta.units = readCString(b, isFloat ? MetaOffset.FLOAT_UNITS : MetaOffset.INT_UNITS, MAX_UNITS_SIZE);
          const size = elementSize(kind);
          const nLimits = metaKind === 'ctrl' ? 8 : 6;
          let o = isFloat ? MetaOffset.FLOAT_LIMITS : MetaOffset.INT_LIMITS;
          for (let i = 0; i < nLimits; i++) {
            meta[LIMIT_FIELDS[i]] = readLimit(v, o, kind);
            o += size;
          }
          break;
        }
        case 'enum': {
          const noStr = v.getInt16(MetaOffset.ENUM_NO_STR);
          const n = Math.max(0, Math.min(noStr, MAX_ENUM_STATES));
          if (n !== noStr) meta.enumStringCount = noStr;
          const strs: string[] = new Array<string>(n);
          for (let i = 0; i < n; i++) {
            strs[i] = readCString(b, MetaOffset.ENUM_STRINGS + i * MAX_ENUM_STRING_SIZE, MAX_ENUM_STRING_SIZE);
          }
          meta.enumStrings = strs;
          break;
        }
        case 'stsack':
          meta.ackt = v.getUint16(MetaOffset.ACKT);
          meta.acks = v.getUint16(MetaOffset.ACKS);
          break;
        default:
          break;
      }
    }
  }
  const dataTypeName = dbrTypeName(dataType) as string;
  let count = 0;
  let data: number[] | string[];
  const decoded = len > valueOffset && dataCount > 0;
  if (!decoded) {
    data = [];
  } else {
    const size = elementSize(kind);
    const room = len - valueOffset;
    // A string may be cut short by the payload end (short one-element strings): count partial ones too.
    const present = kind === 'string' ? Math.ceil(room / size) : Math.floor(room / size);
    let n = Math.min(dataCount, present);
    if (n < dataCount && problem === undefined) problem = `payload holds ${present} of ${dataCount} elements`;
    if (options?.maxElements !== undefined && n > options.maxElements) n = Math.max(0, options.maxElements);
    count = n;
    data = readElements(v, b, valueOffset, kind, n);
  }
  // Same field order as before (dataType, dataTypeName, count, data, metadata, problem, enumLabels).
  const out: DbrValue =
    meta === undefined ? { dataType, dataTypeName, count, data } : { dataType, dataTypeName, count, data, metadata: meta };
  if (problem !== undefined) out.problem = problem;
  if (decoded && kind === 'u16' && dataType !== 35 && dataType !== 36) {
    const strs = meta?.enumStrings ?? options?.enumStrings;
    if (strs !== undefined) {
      const nums = data as number[];
      const labels: string[] = new Array<string>(nums.length);
      for (let i = 0; i < nums.length; i++) labels[i] = strs[nums[i]] ?? String(nums[i]);
      out.enumLabels = labels;
    }
  }
  return out;
}

/**
 * Decodes a DBR payload of any of the 39 types to values and metadata (status/severity names, Unix
 * time, units, precision, limits, enum strings, ackt/acks). Unknown types and short payloads give a
 * `problem` instead of an exception.
 */
export function decodeDbr(dataType: number, dataCount: number, payload: Uint8Array, options?: DecodeDbrOptions): DbrValue {
  return decodeDbrWith(new DataView(payload.buffer, payload.byteOffset, payload.byteLength), payload, dataType, dataCount, options);
}
