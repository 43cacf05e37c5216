import { describe, expect, it } from 'vitest';
import {
  dbrTypeName,
  describeMetadata,
  formatClock,
  formatCount,
  formatLastValue,
  formatLatency,
  formatTimestamp,
} from './dbr.js';

describe('timestamps', () => {
  it('converts EPICS seconds to UTC with nanoseconds', () => {
    // 2019-02-20 16:04:29 UTC is Unix 1550678669 = EPICS 919526669.
    expect(formatTimestamp({ secondsSinceEpoch: 1550678669 - 631152000, nanoSeconds: 123456789 })).toBe(
      '2019-02-20 16:04:29.123456789',
    );
    expect(formatTimestamp({ secPastEpoch: 0, nsec: 0 })).toBe('never set');
  });
  it('formats Unix seconds to the microsecond', () => {
    expect(formatTimestamp(1550679069.309346)).toBe('2019-02-20 16:11:09.309346000');
    expect(formatTimestamp(1550679069.9999996)).toBe('2019-02-20 16:11:10.000000000');
    expect(formatClock(1550679069.309346)).toBe('16:11:09.309');
  });
});

describe('metadata', () => {
  it('lists alarm, time, units, precision, limits and enum strings', () => {
    const lines = describeMetadata({
      status: 4,
      severity: 1,
      timestamp: 1550679069.5,
      units: 'V',
      precision: 3,
      upper_disp_limit: 10,
      lower_disp_limit: -10,
      upper_alarm_limit: 9,
      lower_alarm_limit: -9,
      enum_strings: ['A', 'B'],
      extra: 5,
    });
    expect(Object.fromEntries(lines)).toEqual({
      alarm: 'MINOR / HIGH',
      timestamp: '2019-02-20 16:11:09.500000000',
      units: 'V',
      precision: '3',
      'display limits': '-10 … 10',
      'alarm limits': '-9 … 9',
      'enum strings': '0=A, 1=B',
      extra: '5',
    });
  });
  it("reads the decoder's camelCase metadata with full nanoseconds", () => {
    const lines = Object.fromEntries(
      describeMetadata({
        status: 3,
        statusName: 'HIHI',
        severity: 2,
        severityName: 'MAJOR',
        timestamp: 1550678669.123456789,
        secondsPastEpoch: 1550678669 - 631152000,
        nanoseconds: 123456789,
        upperDisplayLimit: 100,
        lowerDisplayLimit: 0,
        upperControlLimit: 90,
        lowerControlLimit: 10,
        enumStrings: ['Off', 'On'],
        acks: 2,
      }),
    );
    expect(lines).toEqual({
      alarm: 'MAJOR / HIHI',
      timestamp: '2019-02-20 16:04:29.123456789',
      'display limits': '0 … 100',
      'control limits': '10 … 90',
      'enum strings': '0=Off, 1=On',
      acks: 'MAJOR',
    });
    expect(Object.fromEntries(describeMetadata({ secondsPastEpoch: 0, nanoseconds: 0 }))).toEqual({
      timestamp: 'never set',
    });
    expect(dbrTypeName(20)).toBe('TIME_DOUBLE');
    expect(dbrTypeName('DBR_CTRL_ENUM')).toBe('CTRL_ENUM');
  });

  it('is empty without metadata', () => {
    expect(describeMetadata(null)).toEqual([]);
  });
});

describe('small formats', () => {
  it('formats latency and counts', () => {
    expect(formatLatency(0.00085)).toBe('850 µs');
    expect(formatLatency(0.0123)).toBe('12.3 ms');
    expect(formatLatency(0.004)).toBe('4.00 ms');
    expect(formatLatency(1.2)).toBe('1.20 s');
    expect(formatLatency(null)).toBe('');
    expect(formatCount(12345)).toBe('12\u2009345');
    // Grouped by hand as the locale groups: the same text for every kind of count.
    const locale = (n: number): string => Math.round(n).toLocaleString('en-US').replace(/,/g, '\u2009');
    const samples = [0, -0, -0.4, 0.5, 7, 999, 1000, -1000, 99_999.5, 123_456, 1_000_000, -9_876_543.2];
    for (let k = 0; k < 200; k++) samples.push((Math.random() - 0.5) * 10 ** (k % 17));
    samples.push(Number.MAX_SAFE_INTEGER, 2 ** 60, -(2 ** 70), 1e21);
    for (const n of samples) expect(formatCount(n), String(n)).toBe(locale(n));
  });
});

describe('formatLastValue', () => {
  it('reads bare values and decoded DBRs', () => {
    expect(formatLastValue([1.5])).toBe('1.5');
    expect(formatLastValue({ data: [2], metadata: { enumStrings: ['Off', 'On', 'Fault'] } })).toBe('Fault');
    expect(formatLastValue({ data: [3.14159], metadata: { precision: 3, units: 'mm' } })).toBe('3.142 mm');
    expect(formatLastValue(null)).toBe('');
    expect(formatLastValue([1, 2, 3, 4, 5, 6, 7, 8], 4, 1000)).toBe('[1000] 1, 2, 3, …');
    expect(formatLastValue([1, 2], 6, 2)).toBe('[2] 1, 2');
  });

  it("uses what the daemon learnt of the channel: precision, units, enum strings, FLOAT's own digits", () => {
    const f = Math.fround(42.26);
    expect(formatLastValue([f], 6, 1, null, 'FLOAT')).toBe('42.26');
    expect(formatLastValue([f], 6, 1, null, 'DOUBLE')).toBe('42.2599983215332');
    expect(formatLastValue([f], 6, 1, { precision: 1, units: 'degC' }, 'FLOAT')).toBe('42.3 degC');
    expect(formatLastValue([0], 6, 1, { enumStrings: ['Off', 'On'] }, 'ENUM')).toBe('Off');
    expect(formatLastValue([f, f], 6, 2, { units: 'mm' }, 'FLOAT')).toBe('[2] 42.26, 42.26 mm');
  });
});
