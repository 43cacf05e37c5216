/**
 * Display formatting for decoded DBR values and their metadata (alarm, timestamps, units, limits, enum
 * strings) and for ECA status codes. Pure functions: the decoder has already turned bytes into values;
 * this module only decides how they read on screen. It accepts numbers or names for enumerated fields
 * because the decoder may send either.
 */
import {
  alarmSeverityName,
  enumStringsOf,
  formatAlarm,
  formatScalar,
  formatValue,
  metadataField,
  valueFormatOf,
  type ValueFormat,
} from '@ca-shark/analysis/summary';
import { timeFields } from './time.js';

// Value, alarm, status, access and DBR type formatting is shared with the daemon's live records.
export {
  alarmSeverityName,
  alarmStatusName,
  dbrTypeName,
  ecaStatus,
  enumStringsOf,
  formatAccessRights,
  formatAlarm,
  formatScalar,
  formatValue,
  isFloat32Type,
  shortestFloat32,
  valueFormatOf,
  type EcaStatus,
  type ValueFormat,
} from '@ca-shark/analysis/summary';

/** Seconds from the Unix epoch to the EPICS epoch (1990-01-01 UTC). */
export const EPICS_EPOCH_OFFSET = 631152000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Formats a timestamp as `YYYY-MM-DD HH:MM:SS.fffffffff` in UTC (or local time, the page's setting). Accepts Unix seconds (a number), or an
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
  const f = timeFields(d);
  return (
    `${f.year}-${pad(f.month, 2)}-${pad(f.day, 2)} ` +
    `${pad(f.hours, 2)}:${pad(f.minutes, 2)}:${pad(f.seconds, 2)}.${pad(nsec, 9)}`
  );
}

/** Time of day with milliseconds (UTC, or local per the page's setting) for dense tables: `HH:MM:SS.mmm`. */
export function formatClock(unixSeconds: number): string {
  if (!Number.isFinite(unixSeconds)) return '';
  const f = timeFields(new Date(unixSeconds * 1000));
  return `${pad(f.hours, 2)}:${pad(f.minutes, 2)}:${pad(f.seconds, 2)}.${pad(f.ms, 3)}`;
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
  if (metadataField(meta, 'secondsPastEpoch', 'secondsSinceEpoch', 'secPastEpoch') !== undefined)
    out.push(['timestamp', formatTimestamp(meta)]);
  else if (metadataField(meta, 'timestamp') !== undefined) out.push(['timestamp', formatTimestamp(meta.timestamp)]);
  const units = metadataField(meta, 'units');
  if (typeof units === 'string') out.push(['units', units === '' ? '(none)' : units]);
  const precision = metadataField(meta, 'precision');
  if (precision !== undefined) out.push(['precision', String(precision)]);
  for (const g of LIMIT_GROUPS) {
    const hi = metadataField(meta, ...g.upper);
    const lo = metadataField(meta, ...g.lower);
    if (hi !== undefined || lo !== undefined) out.push([g.label, `${formatScalar(lo)} … ${formatScalar(hi)}`]);
  }
  const strs = enumStringsOf(meta);
  if (strs) out.push(['enum strings', strs.map((s, i) => `${i}=${s}`).join(', ')]);
  const ackt = metadataField(meta, 'ackt');
  if (ackt !== undefined) out.push(['ackt', ackt ? 'transient alarms need acknowledging' : 'no']);
  const acks = metadataField(meta, 'acks');
  if (acks !== undefined) out.push(['acks', alarmSeverityName(acks)]);
  for (const [k, v] of Object.entries(meta)) {
    if (KNOWN_META.has(k) || v === undefined) continue;
    out.push([k, typeof v === 'object' ? JSON.stringify(v) : String(v)]);
  }
  return out;
}

/** Latency in seconds as a short human value (`850 µs`, `12.3 ms`, `1.20 s`). */
export function formatLatency(seconds: unknown): string {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '';
  const abs = Math.abs(seconds);
  if (abs < 1e-3) return `${Math.round(seconds * 1e6)} µs`;
  if (abs < 1) return `${(seconds * 1e3).toFixed(abs < 0.01 ? 2 : 1)} ms`;
  return `${seconds.toFixed(2)} s`;
}

/**
 * A count with thin grouping (`12 345`), or '' for non-numbers. Grouped by hand: `toLocaleString` (ICU)
 * cost a few ms per table render, 15 ms in one switch's task under load (issue 12); the result is the
 * same as `toLocaleString('en-US')` with thin spaces for commas.
 */
export function formatCount(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  const r = Math.round(n);
  // Past the integers a double holds exactly, and -0, as the locale formats them.
  if (Math.abs(r) > Number.MAX_SAFE_INTEGER || Object.is(r, -0))
    return r.toLocaleString('en-US').replace(/,/g, '\u2009');
  const digits = String(Math.abs(r));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `\u2009${digits.slice(i, i + 3)}`;
  return r < 0 ? `-${out}` : out;
}

/** A rate with one decimal below 10 (`3.4/s`, `120/s`). */
export function formatRate(n: unknown): string {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  return `${n < 10 ? n.toFixed(1) : formatCount(n)}/s`;
}

/**
 * A channel's last value as the daemon sends it: a bare value or array, or a decoded DBR
 * (`{data, metadata}`), shown with its enum string and units when the metadata has them. `count` is
 * the channel's element count: the daemon trims long arrays, and the count shown must stay the real one.
 * `display` is what the daemon learnt of the channel from GR/CTRL replies (precision, units, enum
 * strings); `nativeType` `FLOAT` prints values in their shortest float32 form.
 */
export function formatLastValue(
  v: unknown,
  maxElements = 6,
  count?: number | null,
  display?: ValueFormat | null,
  nativeType?: string | null,
): string {
  if (v === undefined || v === null) return '';
  const data = isRecord(v) && 'data' in v ? v.data : v;
  const opts: ValueFormat = {
    float32: nativeType === 'FLOAT',
    ...display,
    ...(isRecord(v) && 'data' in v ? valueFormatOf(v.metadata) : {}),
    maxElements,
  };
  if (Array.isArray(data) && typeof count === 'number' && count > data.length && data.length > 0) {
    const shown = data.slice(0, Math.min(data.length, Math.max(1, maxElements - 1))).map((x) => formatScalar(x, opts));
    return `[${count}] ${shown.join(', ')}, …`;
  }
  return formatValue(data, opts);
}
