/**
 * How the page writes times: 24-hour clock in UTC (the default, what captures and logs use) or in the
 * browser's local time zone, one setting for every table, axis and legend.
 */

/** The page's time zone setting. */
export type TimeZoneMode = 'utc' | 'local';

let mode: TimeZoneMode = 'utc';

/** Sets the time zone every formatter below uses (see settings.svelte.ts, which remembers it). */
export function setTimeZoneMode(m: TimeZoneMode): void {
  mode = m;
}

/** The time zone the page writes times in. */
export function timeZoneMode(): TimeZoneMode {
  return mode;
}

/** Short name of the time zone in use, for headers and tooltips (`UTC`, or `local`). */
export function timeZoneLabel(): string {
  return mode === 'utc' ? 'UTC' : 'local';
}

/** The calendar and clock fields of a date in the time zone in use. */
export interface TimeFields {
  year: number;
  month: number;
  day: number;
  hours: number;
  minutes: number;
  seconds: number;
  ms: number;
}

/** The fields of `d` in the time zone in use. */
export function timeFields(d: Date): TimeFields {
  return mode === 'utc'
    ? {
        year: d.getUTCFullYear(),
        month: d.getUTCMonth() + 1,
        day: d.getUTCDate(),
        hours: d.getUTCHours(),
        minutes: d.getUTCMinutes(),
        seconds: d.getUTCSeconds(),
        ms: d.getUTCMilliseconds(),
      }
    : {
        year: d.getFullYear(),
        month: d.getMonth() + 1,
        day: d.getDate(),
        hours: d.getHours(),
        minutes: d.getMinutes(),
        seconds: d.getSeconds(),
        ms: d.getMilliseconds(),
      };
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Tick labels of a time axis (Unix seconds) in 24-hour form: `HH:MM:SS` for spans up to 10 minutes,
 * `HH:MM` beyond, with the date (`MM-DD`) on the first tick and at each change of day.
 */
export function axisTimes(ticks: readonly number[], span: number): string[] {
  let lastDay = '';
  return ticks.map((t, i) => {
    if (!Number.isFinite(t)) return '';
    const f = timeFields(new Date(t * 1000));
    const clock = span <= 600 ? `${p2(f.hours)}:${p2(f.minutes)}:${p2(f.seconds)}` : `${p2(f.hours)}:${p2(f.minutes)}`;
    const day = `${p2(f.month)}-${p2(f.day)}`;
    const withDay = span > 6 * 3600 && (i === 0 || day !== lastDay);
    lastDay = day;
    return withDay ? `${day} ${clock}` : clock;
  });
}

/** A point's time in a chart legend: `HH:MM:SS`, with the date for long spans. */
export function legendTime(t: number | null | undefined, span = 0): string {
  if (t === null || t === undefined || !Number.isFinite(t)) return '–';
  const f = timeFields(new Date(t * 1000));
  const clock = `${p2(f.hours)}:${p2(f.minutes)}:${p2(f.seconds)}`;
  return span > 6 * 3600 ? `${p2(f.month)}-${p2(f.day)} ${clock}` : clock;
}

/** A duration in seconds as a short text: `850 ms`, `42 s`, `5 min 3 s`, `2 h 5 min`, `3 d 4 h`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
