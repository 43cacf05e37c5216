import { describe, expect, it } from 'vitest';
import { dottedQuad, hwAddress } from './format.js';

const hex = (bytes: number[]): string => bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');

describe('address formatting', () => {
  it('formats 6-byte addresses right whatever order they come in (two remembered, more in the map)', () => {
    const macs = [
      [0, 0, 0, 0, 0, 0],
      [0x02, 0x42, 0xac, 0x11, 0x00, 0x02],
      [0x02, 0x42, 0xac, 0x11, 0x00, 0x03],
      // Same lower half as the one before, other upper half; and the reverse.
      [0x12, 0x42, 0xac, 0x11, 0x00, 0x03],
      [0x12, 0x42, 0xac, 0xff, 0xff, 0xff],
      [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ];
    const order = [0, 1, 1, 0, 2, 3, 2, 3, 4, 5, 0, 5, 1, 4, 3, 3, 0, 2, 5, 5, 1];
    const buf = new Uint8Array(20);
    for (const [k, i] of order.entries()) {
      const off = k % 7;
      buf.set(macs[i], off);
      expect(hwAddress(buf, off, 6)).toBe(hex(macs[i]));
    }
  });

  it('formats other lengths without the cache', () => {
    expect(hwAddress(Uint8Array.of(1, 0xab, 0xcd, 2), 1, 2)).toBe('ab:cd');
    expect(hwAddress(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), 0, 8)).toBe('01:02:03:04:05:06:07:08');
  });

  it('formats IPv4 addresses as dotted quads', () => {
    expect(dottedQuad(0xc0a80001)).toBe('192.168.0.1');
    expect(dottedQuad(0x7f000001)).toBe('127.0.0.1');
  });

  it('formats IPv4 addresses right whatever order they come in (two remembered, more in the map)', () => {
    // 0 and 2^32 - 1 at the ends; above 2^31 (no small integers); a pair's two ways and a third host.
    const addrs = [0, 0x0a000001, 0x0a000002, 0xc0a80001, 0xffffffff, 0x80000000];
    const quad = (a: number): string => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');
    const order = [1, 2, 2, 1, 1, 2, 3, 1, 3, 2, 0, 4, 5, 4, 0, 0, 5, 3, 3, 1];
    for (const i of order) expect(dottedQuad(addrs[i])).toBe(quad(addrs[i]));
  });
});
