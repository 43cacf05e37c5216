import { afterEach, describe, expect, it } from 'vitest';
import { formatClock, formatTimestamp } from './dbr.js';
import { axisTimes, formatDuration, legendTime, setTimeZoneMode, timeFields } from './time.js';

afterEach(() => setTimeZoneMode('utc'));

// 2026-12-06 13:05:09.250 UTC
const T = Date.UTC(2026, 11, 6, 13, 5, 9, 250) / 1000;

describe('times', () => {
  it('writes 24-hour UTC by default, on axes, legends and tables', () => {
    expect(axisTimes([T], 60)).toEqual(['13:05:09']);
    expect(axisTimes([T, T + 3600], 7200)).toEqual(['13:05', '14:05']);
    // Long spans carry the date on the first tick and where the day changes.
    expect(axisTimes([T, T + 6 * 3600, T + 12 * 3600], 86400)).toEqual(['12-06 13:05', '19:05', '12-07 01:05']);
    expect(legendTime(T)).toBe('13:05:09');
    expect(formatClock(T)).toBe('13:05:09.250');
    expect(formatTimestamp(T)).toBe('2026-12-06 13:05:09.250000000');
  });

  it('writes local time when asked, everywhere at once', () => {
    setTimeZoneMode('local');
    const d = new Date(T * 1000);
    const hh = String(d.getHours()).padStart(2, '0');
    const mm = String(d.getMinutes()).padStart(2, '0');
    expect(timeFields(d).hours).toBe(d.getHours());
    expect(axisTimes([T], 3600)).toEqual([`${hh}:${mm}`]);
    expect(formatClock(T).slice(0, 5)).toBe(`${hh}:${mm}`);
  });

  it('writes durations briefly', () => {
    expect(formatDuration(0.25)).toBe('250 ms');
    expect(formatDuration(2.14)).toBe('2.1 s');
    expect(formatDuration(42)).toBe('42 s');
    expect(formatDuration(303)).toBe('5 min 3 s');
    expect(formatDuration(7500)).toBe('2 h 5 min');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3 d 4 h');
  });
});
