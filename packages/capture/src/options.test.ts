import { describe, expect, it } from 'vitest';
import { CaptureError, DEFAULT_FILTER, caFilter, openLive } from './index.js';

describe('openLive option checks (before any capture is opened)', () => {
  it.each([
    [{ iface: '' }, /iface/],
    [{ iface: 'lo', snaplen: 0 }, /snaplen/],
    [{ iface: 'lo', snaplen: 262145 }, /snaplen/],
    [{ iface: 'lo', snaplen: 1.5 }, /snaplen/],
    [{ iface: 'lo', bufferSize: 1024 }, /bufferSize/],
    [{ iface: 'lo', bufferSize: 2 ** 31 }, /bufferSize/],
    [{ iface: 'lo', timeoutMs: 0 }, /timeoutMs/],
    [{ iface: 'lo', timeoutMs: 2.5 }, /timeoutMs/],
  ])('rejects %o', (options, message) => {
    let caught: unknown;
    try {
      openLive(options).close();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CaptureError);
    expect((caught as CaptureError).code).toBe('CAPTURE_BAD_OPTION');
    expect((caught as CaptureError).message).toMatch(message);
  });
});

describe('DEFAULT_FILTER', () => {
  it('covers CA UDP ports, all TCP and IPv4 fragments', () => {
    expect(DEFAULT_FILTER).toBe('tcp or (udp and (port 5064 or port 5065)) or (ip[6:2] & 0x3fff != 0)');
  });

  it('is built for other CA ports by caFilter', () => {
    expect(caFilter(6064, 6065)).toBe('tcp or (udp and (port 6064 or port 6065)) or (ip[6:2] & 0x3fff != 0)');
    expect(caFilter(7000, 7000)).toBe('tcp or (udp and (port 7000)) or (ip[6:2] & 0x3fff != 0)');
    expect(() => caFilter(0)).toThrow(RangeError);
    expect(() => caFilter(5064, 70000)).toThrow(RangeError);
  });
});
