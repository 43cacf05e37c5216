import { describe, expect, it } from 'vitest';
import { parseAddrList } from './client.js';
import { isLoopback, payloadString } from './util.js';

describe('helpers', () => {
  it('recognises loopback addresses, IPv4-mapped ones included', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.255.255.255')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.2')).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('::1')).toBe(false);
  });

  it('parses EPICS_CA_ADDR_LIST entries with and without ports', () => {
    expect(parseAddrList(['127.0.0.1 127.255.255.255:6064', '10.1.2.3,'], 5064)).toEqual([
      { host: '127.0.0.1', port: 5064 },
      { host: '127.255.255.255', port: 6064 },
      { host: '10.1.2.3', port: 5064 },
    ]);
    expect(() => parseAddrList(['host:99999'], 5064)).toThrow(RangeError);
  });

  it('reads a NUL-terminated payload string and ignores the pad', () => {
    expect(payloadString(Uint8Array.of(0x61, 0x62, 0, 0x7a, 0, 0, 0, 0))).toBe('ab');
    expect(payloadString(Uint8Array.of(0x61, 0x62))).toBe('ab');
  });
});
