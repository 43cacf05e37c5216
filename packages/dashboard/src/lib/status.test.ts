import { describe, expect, it } from 'vitest';
import { describeConnection, describeSource, linkTypeName } from './status.js';

describe('status wording', () => {
  it('describes sources', () => {
    expect(describeSource({ kind: 'live', iface: 'lo', linktype: 1, filter: 'udp port 5064 or tcp' })).toBe(
      'live lo (EN10MB) filter "udp port 5064 or tcp"',
    );
    expect(describeSource({ kind: 'file', file: 'x.pcapng' })).toBe('file x.pcapng');
    expect(describeSource(null)).toBe('unknown source');
    expect(linkTypeName(276)).toBe('LINUX_SLL2');
    expect(linkTypeName(999)).toBe('linktype 999');
  });
  it('describes the connection with a countdown', () => {
    expect(describeConnection('open', 0, 0, 0)).toBe('connected');
    expect(describeConnection('reconnecting', 5000, 2100, 3)).toBe('reconnecting in 3 s (attempt 3)');
    expect(describeConnection('reconnecting', 1000, 2000, 1)).toBe('reconnecting (attempt 1)…');
  });
});
