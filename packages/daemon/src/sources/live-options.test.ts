import { DEFAULT_SNAPLEN } from '@ca-shark/capture';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../cli.js';

describe('live capture snaplen', () => {
  it('defaults to libpcap’s 262144 so lo’s 64 KiB segments are whole, and --help says what a cut packet becomes', () => {
    expect(DEFAULT_SNAPLEN).toBe(262_144);
    const help = USAGE.slice(USAGE.indexOf('--snaplen'), USAGE.indexOf('--buffer-size'));
    expect(help).toContain('default 262144');
    expect(help).toContain('Malformed record');
  });
});
