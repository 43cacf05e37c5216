import { describe, expect, it } from 'vitest';
import { hexDump, parseHex, visibleRange } from './records.js';

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
