import { describe, expect, it } from 'vitest';
import { hexDump, parseHex, summarizeRecord, visibleRange } from './records.js';

describe('summarizeRecord', () => {
  it('shows endpoints, value with enum string, failed status and latency', () => {
    const s = summarizeRecord({
      timestamp: 1550679069.309346,
      src: '10.0.0.9',
      dst: '10.0.0.5',
      transport: { protocol: 'tcp', sport: 5064, dport: 40000 },
      command: {
        name: 'ReadNotifyResponse',
        id: 15,
        data: [2],
        data_type: 'CTRL_ENUM',
        data_count: 1,
        ioid: 7,
        status: 152,
        metadata: { status: 0, severity: 0, enum_strings: ['Off', 'On', 'Fault'] },
      },
      pv: 'sim:enum',
      role: 'response',
      latency: 0.00123,
    });
    expect(s).toEqual({
      time: 1550679069.309346,
      from: '10.0.0.9:5064',
      to: '10.0.0.5:40000',
      command: 'ReadNotifyResponse',
      pv: 'sim:enum',
      fields: '2 (Fault) data_type=CTRL_ENUM data_count=1 ioid=7 status=GETFAIL',
      latency: '1.23 ms',
      error: true,
    });
  });

  it('flags a value in alarm', () => {
    const s = summarizeRecord({
      timestamp: 1,
      src: 'a',
      dst: 'b',
      pv: 'sim:double',
      command: {
        name: 'EventAddResponse',
        data: [9.5],
        metadata: { status: 3, severity: 2, units: 'V', precision: 1 },
      },
    });
    expect(s.fields).toBe('9.5 V [MAJOR / HIHI]');
  });

  it('hides a successful status and cuts long lines', () => {
    const s = summarizeRecord({
      timestamp: 1,
      src: 'a',
      dst: 'b',
      pv: null,
      command: { name: 'WriteNotifyResponse', status: 1, ioid: 3, note: 'x'.repeat(400) },
    });
    expect(s.fields.startsWith('ioid=3 note=xxx')).toBe(true);
    expect(s.fields.length).toBe(160);
    expect(s.error).toBe(false);
    expect(s.pv).toBe('');
  });
});

describe("summarizeFields with the decoder's ECA fields", () => {
  it('shows the status name only when it failed, and never the duplicate names', () => {
    const ok = summarizeRecord({
      timestamp: 1,
      src: 'a',
      dst: 'b',
      pv: 'sim:pv4',
      command: {
        name: 'WriteNotifyResponse',
        id: 19,
        data_type: 4,
        data_type_name: 'CHAR',
        data_count: 1,
        status: 1,
        status_name: 'ECA_NORMAL',
        severity: 'SUCCESS',
        ioid: 61,
      },
    });
    expect(ok.fields).toBe('data_type=CHAR data_count=1 ioid=61');
    const bad = summarizeRecord({
      timestamp: 1,
      src: 'a',
      dst: 'b',
      pv: 'sim:pv4',
      command: {
        name: 'WriteNotifyResponse',
        id: 19,
        data_type: 4,
        data_count: 1,
        status: 160,
        status_name: 'ECA_PUTFAIL',
        severity: 'WARNING',
        ioid: 62,
      },
    });
    expect(bad.fields).toBe('data_type=CHAR data_count=1 status=PUTFAIL ioid=62');
    expect(bad.error).toBe(true);
  });
});

describe('hexDump', () => {
  it('lays out offset, bytes and ASCII', () => {
    const lines = hexDump('0006000800000000000000010000000073696d3a64000000');
    expect(lines).toEqual([
      '0000  00 06 00 08 00 00 00 00  00 00 00 01 00 00 00 00  |................|',
      '0010  73 69 6d 3a 64 00 00 00                           |sim:d...|',
    ]);
  });
  it('refuses bad hex', () => {
    expect(parseHex('abc')).toBeNull();
    expect(hexDump('zz')).toEqual([]);
    expect(hexDump('')).toEqual([]);
  });
});

describe('visibleRange', () => {
  it('renders only the rows on screen plus overscan', () => {
    expect(visibleRange(0, 400, 20, 100000, 5)).toEqual({ start: 0, end: 25, offset: 0 });
    expect(visibleRange(20000, 400, 20, 100000, 5)).toEqual({ start: 995, end: 1025, offset: 19900 });
    expect(visibleRange(1e9, 400, 20, 50, 5)).toEqual({ start: 49, end: 50, offset: 980 });
    expect(visibleRange(0, 400, 20, 0)).toEqual({ start: 0, end: 0, offset: 0 });
  });
});
