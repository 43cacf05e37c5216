import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cacheName,
  droppedFromScriptOutput,
  frameCensus,
  mixOfName,
  portsFromScriptOutput,
  sameStem,
} from './captures.js';

const dir = mkdtempSync(join(tmpdir(), 'ca-shark-bench-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cacheName', () => {
  it('is stable for the same parameters and script, and changes with either', () => {
    const a = cacheName({ mix: 'realistic', sizeMb: 100 }, 'script v1');
    expect(a).toMatch(/^realistic-100mb-[0-9a-f]{12}\.pcap$/);
    expect(cacheName({ mix: 'realistic', sizeMb: 100 }, 'script v1')).toBe(a);
    expect(cacheName({ mix: 'realistic', sizeMb: 100 }, 'script v2')).not.toBe(a);
    expect(cacheName({ mix: 'realistic', sizeMb: 1024 }, 'script v1')).not.toBe(a);
    expect(cacheName({ mix: 'jumbo', sizeMb: 100 }, 'script v1')).not.toBe(a);
    expect(cacheName({ mix: 'realistic', sizeMb: 100, privatePorts: true }, 'script v1')).toMatch(
      /^realistic-100mb-private-[0-9a-f]{12}\.pcap$/,
    );
  });
});

describe('sameStem', () => {
  it('matches older recordings of the same mix and size only, not the private-port ones', () => {
    const stem = cacheName({ mix: 'realistic', sizeMb: 40 }, '').replace(/[0-9a-f]{12}\.pcap$/, '');
    expect(sameStem('realistic-40mb-0123456789ab.pcap', stem)).toBe(true);
    expect(sameStem('realistic-40mb-0123456789ab.pcap.json', stem)).toBe(true);
    expect(sameStem('realistic-40mb-private-0123456789ab.pcap', stem)).toBe(false);
    expect(sameStem('realistic-400mb-0123456789ab.pcap', stem)).toBe(false);
  });
});

describe('portsFromScriptOutput', () => {
  it('reads the ports make-capture.sh recorded on, defaulting to 5064/5065', () => {
    expect(
      portsFromScriptOutput('make-capture: wrote /x (5 bytes, CA on UDP/TCP port 41234, beacons to 41235)\n'),
    ).toEqual({
      serverPort: 41234,
      repeaterPort: 41235,
    });
    expect(portsFromScriptOutput('')).toEqual({ serverPort: 5064, repeaterPort: 5065 });
  });

  it('reads how many packets tcpdump dropped', () => {
    expect(
      droppedFromScriptOutput(
        'make-capture: wrote x\nmake-capture: warning: tcpdump dropped 42 packets (streams have gaps)\n',
      ),
    ).toBe(42);
    expect(droppedFromScriptOutput('make-capture: wrote x\n')).toBe(0);
  });
});

/** A classic pcap (little-endian, microseconds, Ethernet) whose frames have these captured/original lengths. */
function pcap(frames: [incl: number, orig: number][], bigEndian = false): Buffer {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    if (bigEndian) b.writeUInt32BE(n);
    else b.writeUInt32LE(n);
    return b;
  };
  const u16 = (n: number): Buffer => {
    const b = Buffer.alloc(2);
    if (bigEndian) b.writeUInt16BE(n);
    else b.writeUInt16LE(n);
    return b;
  };
  const parts = [u32(0xa1b2c3d4), u16(2), u16(4), u32(0), u32(0), u32(262144), u32(1)];
  // Frame i at 1 + i seconds and 250,000 µs.
  frames.forEach(([incl, orig], i) => parts.push(u32(1 + i), u32(250_000), u32(incl), u32(orig), Buffer.alloc(incl)));
  return Buffer.concat(parts);
}

describe('frameCensus', () => {
  it('counts frames, their bytes, those over 65,535 bytes and the time span, in either byte order', () => {
    for (const bigEndian of [false, true]) {
      const file = join(dir, `c${bigEndian ? 'be' : 'le'}.pcap`);
      writeFileSync(
        file,
        pcap(
          [
            [60, 60],
            [65549, 65549],
            [100, 70000],
            [65535, 65535],
          ],
          bigEndian,
        ),
      );
      expect(frameCensus(file)).toEqual({
        frames: 4,
        jumbo: 2,
        maxFrameBytes: 70000,
        frameBytes: 60 + 65549 + 100 + 65535,
        firstS: 1.25,
        lastS: 4.25,
      });
    }
  });

  it('gives undefined for a file that is not a classic pcap', () => {
    const file = join(dir, 'not.pcap');
    writeFileSync(file, Buffer.from('0a0d0d0a000000000000000000000000000000000000000000', 'hex'));
    expect(frameCensus(file)).toBeUndefined();
  });
});

describe('mixOfName', () => {
  it("reads the mix back from a cached capture's name, and nothing from other names", () => {
    expect(mixOfName(cacheName({ mix: 'realistic', sizeMb: 1024 }, 'script'))).toBe('realistic');
    expect(mixOfName(cacheName({ mix: 'jumbo', sizeMb: 50 }, 'script'))).toBe('jumbo');
    expect(mixOfName(cacheName({ mix: 'realistic', sizeMb: 40, privatePorts: true }, 'script'))).toBeUndefined();
    expect(mixOfName('realistic.pcap')).toBeUndefined();
  });
});
