/**
 * How one CA message reads in one line: the value first (with enum strings, units, precision and a
 * non-clear alarm), then the command's other decoded fields as `key=value`. Shared by the daemon, which
 * puts it in every live record it streams ({@link LiveRecord}`.summary`), and the dashboard, so both say
 * the same thing about a message.
 *
 * This module (`@ca-shark/analysis/summary`) imports nothing from node and only the wire tables of
 * `@ca-shark/protocol`, so the dashboard bundles it. It accepts a decoder command (typed-array waveforms,
 * numeric codes) as well as its JSON form (plain arrays, names), and numbers or names for enumerated fields.
 */
import type { CommandFields } from '@ca-shark/protocol';
import {
  AccessRights,
  Eca,
  alarmSeverityName as protocolAlarmSeverity,
  alarmStatusName as protocolAlarmStatus,
  dbrElementKind,
  dbrTypeId,
  dbrTypeName as protocolDbrTypeName,
  ecaSeverityName,
} from '@ca-shark/protocol';

/**
 * One message as the daemon streams it to live views (the WebSocket `records` frame): what a row shows,
 * nothing more. The full record is fetched by `id` (`GET /api/record/:id`).
 */
export interface LiveRecord {
  /** Daemon-wide record sequence (1, 2, ...): the key of `GET /api/record/:id`. */
  id: number;
  /** Capture frame number. */
  frame: number;
  /** Capture timestamp, Unix seconds. */
  t: number;
  /** "ip:port". */
  src: string;
  /** "ip:port". */
  dst: string;
  proto: 'tcp' | 'udp';
  /** caproto class name ("Malformed" for undecodable bytes). */
  cmd: string;
  pv: string | null;
  /** The command's key fields in one line, value first, at most {@link SUMMARY_MAX} characters. */
  summary: string;
  /** Seconds from the request this message answers. */
  latency: number | null;
  /** ECA name (e.g. "ECA_NORDACCESS") when the message carries a failure status, else null. */
  status: string | null;
  /** Counts as a failure (the `errors: true` filter rule). */
  error: boolean;
  /** CA message bytes (header + payload). */
  size: number;
  /** The sensor that captured it (a central daemon fed by sensors over NATS); absent on a single host. */
  sensor?: string;
}

/** Longest {@link summarizeFields} line by default. */
export const SUMMARY_MAX = 160;

/**
 * A decoded command as the summary reads it: the decoder's object or its JSON form (`CommandFields` takes
 * both), or any object of fields, which it shows generically.
 */
export type SummaryCommand = CommandFields | { readonly name?: string; readonly [field: string]: unknown };

/** Every field of a command, read generically: the summary shows whatever fields a command has. */
function fieldsOf(command: SummaryCommand): Readonly<Record<string, unknown>> {
  return command as Readonly<Record<string, unknown>>;
}

/** A decoded ECA status, ready to show. */
export interface EcaStatus {
  /** Name without the `ECA_` prefix, e.g. `GETFAIL`. */
  name: string;
  severity: string;
  /** True when the status means success (`ECA_NORMAL` and other successful codes). */
  ok: boolean;
}

/** Options for {@link formatValue}. */
export interface ValueFormat {
  /** Digits after the point for floating values (the record's PREC); default: shortest exact form. */
  precision?: number;
  /** Enum state strings; an index is shown with its string. */
  enumStrings?: readonly string[];
  /** How many array elements to show before eliding; default 8. */
  maxElements?: number;
  /** Units appended to numeric scalars. */
  units?: string;
  /**
   * The values are FLOAT (32-bit) ones: without a precision they are shown in the shortest form that reads
   * back as the same float32 (`42.26`, not the double `42.2599983215332`). Float32Array data implies it.
   */
  float32?: boolean;
}

/** Most significant digits a float32 needs to read back as itself. */
const FLOAT32_MAX_DIGITS = 9;
/** 2^24: every integer up to it has an exact float32. */
const FLOAT32_EXACT_INTEGER = 16_777_216;

/**
 * The shortest decimal form of `v` that reads back as the same float32: what a FLOAT channel holds,
 * without the digits its widening to a double added.
 */
export function shortestFloat32(v: number): string {
  // Integers up to 2^24 are exact in a float32 and print as they are.
  if (!Number.isFinite(v) || (Number.isInteger(v) && Math.abs(v) <= FLOAT32_EXACT_INTEGER)) return String(v);
  const f = Math.fround(v);
  for (let digits = 1; digits < FLOAT32_MAX_DIGITS; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return String(candidate);
  }
  return String(Number(f.toPrecision(FLOAT32_MAX_DIGITS)));
}

/** True when a DBR type (id or name, e.g. `TIME_FLOAT`) carries FLOAT (32-bit) values. */
export function isFloat32Type(type: unknown): boolean {
  const id =
    typeof type === 'number' ? type : typeof type === 'string' ? dbrTypeId(type.replace(/^DBR_/, '')) : undefined;
  return id !== undefined && dbrElementKind(id) === 'f32';
}

const ECA_SEVERITY_MASK = 0x7;
const ECA_MSG_NO_SHIFT = 3;
const ECA_SUCCESS_BIT = 0x1;
/** Message numbers whose statuses mean success whatever severity a name-only status implies. */
const ECA_OK_NAMES = new Set(['NORMAL', 'IODONE', 'IOINPROGRESS', 'NEWCONN', 'CHIDNOTFND', 'CHIDRETRY']);

/** ECA names without the prefix by message number (`code >> 3`), from the protocol's table. */
const ECA_NAME_BY_MSG_NO: readonly string[] = (() => {
  const out: string[] = [];
  for (const [name, code] of Object.entries(Eca)) out[code >> ECA_MSG_NO_SHIFT] = name.replace(/^ECA_/, '');
  return out;
})();

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Name of an alarm severity given as a code or a name; unknown codes stay numeric. */
export function alarmSeverityName(v: unknown): string {
  if (typeof v === 'number') return protocolAlarmSeverity(v);
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.name === 'string') return v.name;
  return '';
}

/** Name of an alarm status given as a code or a name; unknown codes stay numeric. */
export function alarmStatusName(v: unknown): string {
  if (typeof v === 'number') return protocolAlarmStatus(v);
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.name === 'string') return v.name;
  return '';
}

/**
 * Reads an ECA status given as the wire code, a name (`NORMAL`, `ECA_GETFAIL`) or a decoded object
 * (`{name, severity, code}`). Returns null when `v` holds no status.
 */
export function ecaStatus(v: unknown): EcaStatus | null {
  if (typeof v === 'number' && Number.isFinite(v)) {
    return {
      name: ECA_NAME_BY_MSG_NO[v >> ECA_MSG_NO_SHIFT] ?? `ECA#${v}`,
      severity: ecaSeverityName(v & ECA_SEVERITY_MASK),
      ok: (v & ECA_SUCCESS_BIT) !== 0,
    };
  }
  if (typeof v === 'string') {
    const name = v.replace(/^ECA_/, '');
    const ok = ECA_OK_NAMES.has(name);
    return { name, severity: ok ? 'SUCCESS' : 'ERROR', ok };
  }
  if (isRecord(v)) {
    if (typeof v.code === 'number') {
      const fromCode = ecaStatus(v.code);
      if (fromCode && typeof v.name === 'string') fromCode.name = v.name.replace(/^ECA_/, '');
      return fromCode;
    }
    if (typeof v.name === 'string') {
      const base = ecaStatus(v.name);
      if (base && typeof v.severity === 'string') base.severity = v.severity;
      if (base && typeof v.ok === 'boolean') base.ok = v.ok;
      if (base && typeof v.success === 'boolean') base.ok = v.success;
      return base;
    }
  }
  return null;
}

/**
 * Formats one element: numbers with the channel's precision (FLOAT ones in their shortest float32 form
 * without one), enums as their state string (`Off`; an index without a string as `5 (?)`), strings quoted.
 */
export function formatScalar(v: unknown, opts: ValueFormat = {}): string {
  if (typeof v === 'number') {
    if (opts.enumStrings && Number.isInteger(v)) {
      const s = opts.enumStrings[v];
      return s !== undefined && s !== '' ? s : `${v} (?)`;
    }
    if (!Number.isInteger(v) && opts.precision !== undefined && opts.precision >= 0 && opts.precision <= 17) {
      return v.toFixed(opts.precision);
    }
    if (opts.float32 === true) return shortestFloat32(v);
    return String(v);
  }
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return '';
  if (isRecord(v) && typeof v.name === 'string' && typeof v.value === 'number') return `${v.value} (${v.name})`;
  return JSON.stringify(v);
}

/**
 * Formats a DBR value: a scalar, or an array with its length, eliding the middle of long arrays. Units
 * are appended to numeric scalars. An array of one element reads as a scalar.
 */
export function formatValue(data: unknown, format: ValueFormat = {}): string {
  const opts = data instanceof Float32Array && format.float32 !== true ? { ...format, float32: true } : format;
  const max = opts.maxElements ?? 8;
  const suffix = (s: string, v: unknown): string =>
    opts.units && typeof v === 'number' && !opts.enumStrings ? `${s} ${opts.units}` : s;
  if (Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))) {
    const arr = data as ArrayLike<unknown>;
    if (arr.length === 0) return '[]';
    if (arr.length === 1) return suffix(formatScalar(arr[0], opts), arr[0]);
    const shown: string[] = [];
    const head = arr.length > max ? Math.max(1, max - 2) : arr.length;
    for (let i = 0; i < head; i++) shown.push(formatScalar(arr[i], opts));
    if (arr.length > max) {
      shown.push(`… ${arr.length - head - 1} more …`);
      shown.push(formatScalar(arr[arr.length - 1], opts));
    }
    return `[${arr.length}] ${shown.join(', ')}${opts.units ? ` ${opts.units}` : ''}`;
  }
  return suffix(formatScalar(data, opts), data);
}

/** Reads a metadata field by any of its usual spellings (`upper_disp_limit`, `upperDispLimit`). */
export function metadataField(meta: Readonly<Record<string, unknown>>, ...names: string[]): unknown {
  for (const n of names) if (meta[n] !== undefined) return meta[n];
  return undefined;
}

/** The enum strings carried in DBR metadata, if any. */
export function enumStringsOf(meta: unknown): string[] | undefined {
  if (!isRecord(meta)) return undefined;
  const s = metadataField(meta, 'enum_strings', 'enumStrings', 'strs', 'strings');
  return Array.isArray(s) && s.every((x) => typeof x === 'string') ? (s as string[]) : undefined;
}

/** Value format options implied by DBR metadata (precision, units, enum strings). */
export function valueFormatOf(meta: unknown): ValueFormat {
  if (!isRecord(meta)) return {};
  const out: ValueFormat = {};
  const precision = metadataField(meta, 'precision');
  if (typeof precision === 'number') out.precision = precision;
  const units = metadataField(meta, 'units');
  if (typeof units === 'string' && units !== '') out.units = units;
  const strs = enumStringsOf(meta);
  if (strs) out.enumStrings = strs;
  return out;
}

/** Formats an alarm as `SEVERITY / STATUS` (`NO_ALARM` when both are clear); '' without alarm fields. */
export function formatAlarm(meta: unknown): string {
  if (!isRecord(meta)) return '';
  const sev = metadataField(meta, 'severityName', 'severity', 'alarm_severity');
  const stat = metadataField(meta, 'statusName', 'status', 'alarm_status');
  if (sev === undefined && stat === undefined) return '';
  const sevName = alarmSeverityName(sev);
  const statName = alarmStatusName(stat);
  if ((sevName === 'NO_ALARM' || sevName === '') && (statName === 'NO_ALARM' || statName === '')) return 'NO_ALARM';
  return `${sevName || '?'} / ${statName || '?'}`;
}

/** Access rights as `RW`, `R-`, `-W` or `--`, from the wire bits or a decoded `{read, write}`. */
export function formatAccessRights(v: unknown): string {
  let read: boolean;
  let write: boolean;
  if (typeof v === 'number') {
    read = (v & AccessRights.READ) !== 0;
    write = (v & AccessRights.WRITE) !== 0;
  } else if (isRecord(v)) {
    read = v.read === true;
    write = v.write === true;
  } else if (typeof v === 'string') {
    return v;
  } else {
    return '';
  }
  return `${read ? 'R' : '-'}${write ? 'W' : '-'}`;
}

/** A DBR type given as an id or a name, as its name without `DBR_`; unknown ids stay numeric. */
export function dbrTypeName(v: unknown): string {
  if (typeof v === 'number') return protocolDbrTypeName(v) ?? String(v);
  if (typeof v === 'string') return v.replace(/^DBR_/, '');
  return '';
}

/** Command fields that the row shows elsewhere or that carry no information for a reader. */
const HIDDEN_FIELDS = new Set([
  'name',
  'id',
  'data',
  'metadata',
  'pv',
  'payload',
  'header',
  'payload_size',
  'raw',
  // Shown through `data_type` and `status` (ECA name and severity).
  'data_type_name',
  'status_name',
  'severity',
  'address_raw',
  // A malformed record's bytes are in the detail's hex dump.
  'hex',
]);

function fieldText(key: string, v: unknown): string {
  if (key === 'status') {
    const eca = ecaStatus(v);
    return eca ? eca.name : String(v);
  }
  if (key === 'access_rights') return formatAccessRights(v);
  if (key === 'data_type') return dbrTypeName(v);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.name === 'string') return o.name;
    // A byte field of the decoder's object reads as its JSON form does: hex.
    if (v instanceof Uint8Array) return bytesHex(v);
    return JSON.stringify(v);
  }
  return String(v);
}

function bytesHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += bytes[i].toString(16).padStart(2, '0');
  return out;
}

/**
 * The key fields of a command in one line: the value first (with enum strings, units, precision),
 * then the other decoded fields as `key=value`. Long values are cut to `max` characters. `channel` is
 * what is known of the channel from earlier replies (precision, units, enum strings from a GR or CTRL
 * reply); the message's own metadata wins over it.
 */
export function summarizeFields(command: SummaryCommand, max = SUMMARY_MAX, channel?: ValueFormat): string {
  const fields = fieldsOf(command);
  const parts: string[] = [];
  let labelled = false;
  if (fields.data !== undefined && fields.data !== null) {
    const format: ValueFormat = {
      float32: isFloat32Type(fields.data_type),
      ...channel,
      ...valueFormatOf(fields.metadata),
      maxElements: 5,
    };
    // The value then reads as its state strings: the decoder's `enum_labels` would only repeat them.
    labelled = format.enumStrings !== undefined;
    parts.push(formatValue(fields.data, format));
    // An alarm is worth a glance; a clear one is not.
    const alarm = formatAlarm(fields.metadata);
    if (alarm !== '' && alarm !== 'NO_ALARM') parts.push(`[${alarm}]`);
  }
  let length = parts.reduce((n, p) => n + p.length + 1, 0);
  for (const k of Object.keys(fields)) {
    // Past the cut nothing more shows: a command with many fields costs no more than a short one.
    if (length - 1 > max) break;
    const v = fields[k];
    if (HIDDEN_FIELDS.has(k) || v === undefined || v === null || (labelled && k === 'enum_labels')) continue;
    if (k === 'status' && ecaStatus(v)?.ok) continue;
    const part =
      k === 'status' && typeof fields.status_name === 'string'
        ? `status=${fields.status_name.replace(/^ECA_/, '')}`
        : `${k}=${fieldText(k, v)}`;
    parts.push(part);
    length += part.length + 1;
  }
  const text = parts.join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * The ECA name (with the prefix, e.g. `ECA_NORDACCESS`) of a command's failure status, or null when it
 * carries none or a successful one.
 */
export function failureStatus(command: SummaryCommand): string | null {
  // Replies carry `status`; ERROR carries the failed request's code as `status_code`.
  const fields = fieldsOf(command);
  const v = fields.status ?? fields.status_code;
  if (v === undefined || v === null) return null;
  const eca = ecaStatus(v);
  if (eca === null || eca.ok) return null;
  return typeof fields.status_name === 'string' ? fields.status_name : `ECA_${eca.name}`;
}
