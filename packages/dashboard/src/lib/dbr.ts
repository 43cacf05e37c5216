/**
 * Display formatting for decoded DBR values and their metadata (alarm, timestamps, units, limits, enum
 * strings) and for ECA status codes. Pure functions: the decoder has already turned bytes into values;
 * this module only decides how they read on screen. It accepts numbers or names for enumerated fields
 * because the decoder may send either.
 */

/** Alarm severities by code (EPICS `alarm.h`). */
export const ALARM_SEVERITIES: readonly string[] = ['NO_ALARM', 'MINOR', 'MAJOR', 'INVALID'];

/** Alarm conditions by code (EPICS `alarm.h`), not ECA codes. */
export const ALARM_STATUSES: readonly string[] = [
  'NO_ALARM',
  'READ',
  'WRITE',
  'HIHI',
  'HIGH',
  'LOLO',
  'LOW',
  'STATE',
  'COS',
  'COMM',
  'TIMEOUT',
  'HWLIMIT',
  'CALC',
  'SCAN',
  'LINK',
  'SOFT',
  'BAD_SUB',
  'UDF',
  'DISABLE',
  'SIMM',
  'READ_ACCESS',
  'WRITE_ACCESS',
];

/** ECA message numbers that servers put on the wire, by message number (`code >> 3`). */
const ECA_NAMES: Readonly<Record<number, string>> = {
  0: 'NORMAL',
  1: 'MAXIOC',
  2: 'UKNHOST',
  3: 'UKNSERV',
  4: 'SOCK',
  5: 'CONN',
  6: 'ALLOCMEM',
  7: 'UKNCHAN',
  8: 'UKNFIELD',
  9: 'TOLARGE',
  10: 'TIMEOUT',
  11: 'NOSUPPORT',
  12: 'STRTOBIG',
  13: 'DISCONNCHID',
  14: 'BADTYPE',
  15: 'CHIDNOTFND',
  16: 'CHIDRETRY',
  17: 'INTERNAL',
  18: 'DBLCLFAIL',
  19: 'GETFAIL',
  20: 'PUTFAIL',
  21: 'ADDFAIL',
  22: 'BADCOUNT',
  23: 'BADSTR',
  24: 'DISCONN',
  25: 'DBLCHNL',
  26: 'EVDISALLOW',
  27: 'BUILDGET',
  28: 'NEEDSFP',
  29: 'OVEVFAIL',
  30: 'BADMONID',
  31: 'NEWADDR',
  32: 'NEWCONN',
  33: 'NOCACTX',
  34: 'DEFUNCT',
  35: 'EMPTYSTR',
  36: 'NOREPEATER',
  37: 'NOCHANMSG',
  38: 'DLCKREST',
  39: 'SERVBEHIND',
  40: 'NOCAST',
  41: 'BADMASK',
  42: 'IODONE',
  43: 'IOINPROGRESS',
  44: 'BADSYNCGRP',
  45: 'PUTCBINPROG',
  46: 'NORDACCESS',
  47: 'NOWTACCESS',
  48: 'ANACHRONISM',
  49: 'NOSEARCHADDR',
  50: 'NOCONVERT',
  51: 'BADCHID',
  52: 'BADFUNCPTR',
  53: 'ISATTACHED',
  54: 'UNAVAILINSERV',
  55: 'CHANDESTROY',
  56: 'BADPRIORITY',
  57: 'NOTTHREADED',
  58: '16KARRAYCLIENT',
  59: 'CONNSEQTMO',
  60: 'UNRESPTMO',
};

/** ECA severity field (`code & 7`). */
const ECA_SEVERITIES: Readonly<Record<number, string>> = {
  0: 'WARNING',
  1: 'SUCCESS',
  2: 'ERROR',
  3: 'INFO',
  4: 'SEVERE',
  6: 'FATAL',
};
const ECA_SEVERITY_MASK = 0x7;
const ECA_MSG_NO_MASK = 0xfff8;
const ECA_MSG_NO_SHIFT = 3;
const ECA_SUCCESS_BIT = 0x1;

/** Seconds from the Unix epoch to the EPICS epoch (1990-01-01 UTC). */
export const EPICS_EPOCH_OFFSET = 631152000;

/** A decoded ECA status, ready to show. */
export interface EcaStatus {
  name: string;
  severity: string;
  /** True when the status means success (`ECA_NORMAL` and other successful codes). */
  ok: boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Name of an alarm severity given as a code or a name; unknown codes stay numeric. */
export function alarmSeverityName(v: unknown): string {
  if (typeof v === 'number') return ALARM_SEVERITIES[v] ?? String(v);
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.name === 'string') return v.name;
  return '';
}

/** Name of an alarm status given as a code or a name; unknown codes stay numeric. */
export function alarmStatusName(v: unknown): string {
  if (typeof v === 'number') return ALARM_STATUSES[v] ?? String(v);
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
    const msgNo = (v & ECA_MSG_NO_MASK) >> ECA_MSG_NO_SHIFT;
    return {
      name: ECA_NAMES[msgNo] ?? `ECA#${v}`,
      severity: ECA_SEVERITIES[v & ECA_SEVERITY_MASK] ?? String(v & ECA_SEVERITY_MASK),
      ok: (v & ECA_SUCCESS_BIT) !== 0,
    };
  }
  if (typeof v === 'string') {
    const name = v.replace(/^ECA_/, '');
    const ok =
      name === 'NORMAL' ||
      name === 'IODONE' ||
      name === 'IOINPROGRESS' ||
      name === 'NEWCONN' ||
      name === 'CHIDNOTFND' ||
      name === 'CHIDRETRY';
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

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Formats a timestamp as UTC `YYYY-MM-DD HH:MM:SS.fffffffff`. Accepts Unix seconds (a number), or an
 * EPICS pair `{secondsSinceEpoch|secPastEpoch, nanoSeconds|nsec}` relative to 1990, or a Unix pair
 * `{seconds, nanoseconds}`. An EPICS 0/0 pair means the record never processed: shown as `never set`.
 */
export function formatTimestamp(t: unknown): string {
  let sec: number;
  let nsec: number;
  if (typeof t === 'number' && Number.isFinite(t)) {
    sec = Math.floor(t);
    // Round to microseconds: a double holding Unix seconds carries no more than that.
    nsec = Math.round((t - sec) * 1e6) * 1000;
    if (nsec >= 1e9) {
      sec += 1;
      nsec -= 1e9;
    }
  } else if (isRecord(t)) {
    const epicsSec = t.secondsPastEpoch ?? t.secondsSinceEpoch ?? t.secPastEpoch;
    const epicsNsec = t.nanoSeconds ?? t.nsec ?? t.nanoseconds ?? 0;
    if (typeof epicsSec === 'number' && typeof epicsNsec === 'number') {
      if (epicsSec === 0 && epicsNsec === 0) return 'never set';
      sec = epicsSec + EPICS_EPOCH_OFFSET;
      nsec = epicsNsec;
    } else if (typeof t.seconds === 'number') {
      sec = t.seconds;
      nsec = typeof t.nanoseconds === 'number' ? t.nanoseconds : 0;
    } else {
      return '';
    }
  } else if (typeof t === 'string') {
    return t;
  } else {
    return '';
  }
  const d = new Date(sec * 1000);
  if (Number.isNaN(d.getTime())) return String(t);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)} ` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(nsec, 9)}`
  );
}

/** Time of day with milliseconds (UTC) for dense tables: `HH:MM:SS.mmm`. */
export function formatClock(unixSeconds: number): string {
  if (!Number.isFinite(unixSeconds)) return '';
  const d = new Date(unixSeconds * 1000);
  return `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.${pad(d.getUTCMilliseconds(), 3)}`;
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
}

/** Formats one element: numbers with precision, enums with their string, strings quoted. */
export function formatScalar(v: unknown, opts: ValueFormat = {}): string {
  if (typeof v === 'number') {
    if (opts.enumStrings && Number.isInteger(v)) {
      const s = opts.enumStrings[v];
      return s !== undefined ? `${v} (${s})` : `${v} (?)`;
    }
    if (!Number.isInteger(v) && opts.precision !== undefined && opts.precision >= 0 && opts.precision <= 17) {
      return v.toFixed(opts.precision);
    }
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
export function formatValue(data: unknown, opts: ValueFormat = {}): string {
  const max = opts.maxElements ?? 8;
  const suffix = (s: string, v: unknown): string =>
    opts.units && typeof v === 'number' && !opts.enumStrings ? `${s} ${opts.units}` : s;
  if (Array.isArray(data) || ArrayBuffer.isView(data)) {
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
function field(meta: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (meta[n] !== undefined) return meta[n];
  return undefined;
}

/** The enum strings carried in DBR metadata, if any. */
export function enumStringsOf(meta: unknown): string[] | undefined {
  if (!isRecord(meta)) return undefined;
  const s = field(meta, 'enum_strings', 'enumStrings', 'strs', 'strings');
  return Array.isArray(s) && s.every((x) => typeof x === 'string') ? (s as string[]) : undefined;
}

/** Value format options implied by DBR metadata (precision, units, enum strings). */
export function valueFormatOf(meta: unknown): ValueFormat {
  if (!isRecord(meta)) return {};
  const out: ValueFormat = {};
  const precision = field(meta, 'precision');
  if (typeof precision === 'number') out.precision = precision;
  const units = field(meta, 'units');
  if (typeof units === 'string' && units !== '') out.units = units;
  const strs = enumStringsOf(meta);
  if (strs) out.enumStrings = strs;
  return out;
}

/** Formats an alarm as `SEVERITY / STATUS` (`NO_ALARM` when both are clear); '' without alarm fields. */
export function formatAlarm(meta: unknown): string {
  if (!isRecord(meta)) return '';
  const sev = field(meta, 'severityName', 'severity', 'alarm_severity');
  const stat = field(meta, 'statusName', 'status', 'alarm_status');
  if (sev === undefined && stat === undefined) return '';
  const sevName = alarmSeverityName(sev);
  const statName = alarmStatusName(stat);
  if ((sevName === 'NO_ALARM' || sevName === '') && (statName === 'NO_ALARM' || statName === '')) return 'NO_ALARM';
  return `${sevName || '?'} / ${statName || '?'}`;
}

const LIMIT_GROUPS: readonly { label: string; upper: string[]; lower: string[] }[] = [
  {
    label: 'display limits',
    upper: ['upperDisplayLimit', 'upper_disp_limit', 'upperDispLimit', 'upper_disp'],
    lower: ['lowerDisplayLimit', 'lower_disp_limit', 'lowerDispLimit', 'lower_disp'],
  },
  {
    label: 'alarm limits',
    upper: ['upper_alarm_limit', 'upperAlarmLimit', 'upper_alarm'],
    lower: ['lower_alarm_limit', 'lowerAlarmLimit', 'lower_alarm'],
  },
  {
    label: 'warning limits',
    upper: ['upper_warning_limit', 'upperWarningLimit', 'upper_warning'],
    lower: ['lower_warning_limit', 'lowerWarningLimit', 'lower_warning'],
  },
  {
    label: 'control limits',
    upper: ['upperControlLimit', 'upper_ctrl_limit', 'upperCtrlLimit', 'upper_ctrl'],
    lower: ['lowerControlLimit', 'lower_ctrl_limit', 'lowerCtrlLimit', 'lower_ctrl'],
  },
];

/** Metadata keys consumed by {@link describeMetadata}; others are listed as they are. */
const KNOWN_META = new Set<string>([
  'status',
  'severity',
  'statusName',
  'severityName',
  'alarm_status',
  'alarm_severity',
  'timestamp',
  'secondsPastEpoch',
  'secondsSinceEpoch',
  'secPastEpoch',
  'nanoseconds',
  'nanoSeconds',
  'nsec',
  'units',
  'precision',
  'enum_strings',
  'enumStrings',
  'strs',
  'strings',
  'no_str',
  'enumStringCount',
  'ackt',
  'acks',
  'RISC_pad',
  'RISC_pad0',
  'RISC_pad1',
  ...LIMIT_GROUPS.flatMap((g) => [...g.upper, ...g.lower]),
]);

/**
 * Turns DBR metadata into labelled lines for the record detail: alarm, timestamp, units, precision,
 * limits (as `lower … upper`), enum strings, and any other field as it is.
 */
export function describeMetadata(meta: unknown): [label: string, value: string][] {
  if (!isRecord(meta)) return [];
  const out: [string, string][] = [];
  const alarm = formatAlarm(meta);
  if (alarm) out.push(['alarm', alarm]);
  // The raw EPICS pair keeps full nanoseconds (and tells "never set"); the Unix double does not.
  if (field(meta, 'secondsPastEpoch', 'secondsSinceEpoch', 'secPastEpoch') !== undefined)
    out.push(['timestamp', formatTimestamp(meta)]);
  else if (field(meta, 'timestamp') !== undefined) out.push(['timestamp', formatTimestamp(meta.timestamp)]);
  const units = field(meta, 'units');
  if (typeof units === 'string') out.push(['units', units === '' ? '(none)' : units]);
  const precision = field(meta, 'precision');
  if (precision !== undefined) out.push(['precision', String(precision)]);
  for (const g of LIMIT_GROUPS) {
    const hi = field(meta, ...g.upper);
    const lo = field(meta, ...g.lower);
    if (hi !== undefined || lo !== undefined) out.push([g.label, `${formatScalar(lo)} … ${formatScalar(hi)}`]);
  }
  const strs = enumStringsOf(meta);
  if (strs) out.push(['enum strings', strs.map((s, i) => `${i}=${s}`).join(', ')]);
  const ackt = field(meta, 'ackt');
  if (ackt !== undefined) out.push(['ackt', ackt ? 'transient alarms need acknowledging' : 'no']);
  const acks = field(meta, 'acks');
  if (acks !== undefined) out.push(['acks', alarmSeverityName(acks)]);
  for (const [k, v] of Object.entries(meta)) {
    if (KNOWN_META.has(k) || v === undefined) continue;
    out.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  }
  return out;
}

const ACCESS_READ = 0x1;
const ACCESS_WRITE = 0x2;

/** Access rights as `RW`, `R-`, `-W` or `--`, from the wire bits or a decoded `{read, write}`. */
export function formatAccessRights(v: unknown): string {
  let read: boolean;
  let write: boolean;
  if (typeof v === 'number') {
    read = (v & ACCESS_READ) !== 0;
    write = (v & ACCESS_WRITE) !== 0;
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

/** Latency in seconds as a short human value (`850 µs`, `12.3 ms`, `1.20 s`). */
export function formatLatency(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  const abs = Math.abs(seconds);
  if (abs < 1e-3) return `${Math.round(seconds * 1e6)} µs`;
  if (abs < 1) return `${(seconds * 1e3).toFixed(abs < 0.01 ? 2 : 1)} ms`;
  return `${seconds.toFixed(2)} s`;
}

/** A count with thin grouping (`12 345`), or '' for non-numbers. */
export function formatCount(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  return Math.round(n).toLocaleString('en-US').replace(/,/g, '\u2009');
}

/** A rate with one decimal below 10 (`3.4/s`, `120/s`). */
export function formatRate(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  return `${n < 10 ? n.toFixed(1) : formatCount(n)}/s`;
}

/** DBR type names by id (0..38), without the `DBR_` prefix. */
export const DBR_TYPE_NAMES: readonly string[] = [
  'STRING',
  'SHORT',
  'FLOAT',
  'ENUM',
  'CHAR',
  'LONG',
  'DOUBLE',
  'STS_STRING',
  'STS_SHORT',
  'STS_FLOAT',
  'STS_ENUM',
  'STS_CHAR',
  'STS_LONG',
  'STS_DOUBLE',
  'TIME_STRING',
  'TIME_SHORT',
  'TIME_FLOAT',
  'TIME_ENUM',
  'TIME_CHAR',
  'TIME_LONG',
  'TIME_DOUBLE',
  'GR_STRING',
  'GR_SHORT',
  'GR_FLOAT',
  'GR_ENUM',
  'GR_CHAR',
  'GR_LONG',
  'GR_DOUBLE',
  'CTRL_STRING',
  'CTRL_SHORT',
  'CTRL_FLOAT',
  'CTRL_ENUM',
  'CTRL_CHAR',
  'CTRL_LONG',
  'CTRL_DOUBLE',
  'PUT_ACKT',
  'PUT_ACKS',
  'STSACK_STRING',
  'CLASS_NAME',
];

/** A DBR type given as an id or a name, as its name. */
export function dbrTypeName(v: unknown): string {
  if (typeof v === 'number') return DBR_TYPE_NAMES[v] ?? String(v);
  if (typeof v === 'string') return v.replace(/^DBR_/, '');
  return '';
}

/**
 * A channel's last value as the daemon sends it: a bare value or array, or a decoded DBR
 * (`{data, metadata}`), shown with its enum string and units when the metadata has them. `count` is
 * the channel's element count: the daemon trims long arrays, and the count shown must stay the real one.
 */
export function formatLastValue(v: unknown, maxElements = 6, count?: number | null): string {
  if (v === undefined || v === null) return '';
  const data = isRecord(v) && 'data' in v ? v.data : v;
  const opts = { ...(isRecord(v) && 'data' in v ? valueFormatOf(v.metadata) : {}), maxElements };
  if (Array.isArray(data) && typeof count === 'number' && count > data.length && data.length > 0) {
    const shown = data.slice(0, Math.min(data.length, Math.max(1, maxElements - 1))).map((x) => formatScalar(x, opts));
    return `[${count}] ${shown.join(', ')}, …`;
  }
  return formatValue(data, opts);
}
