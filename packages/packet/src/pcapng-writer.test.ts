import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LINKTYPE } from './linktypes.js';
import { PcapngChunks, PcapngWriter, TSRESOL } from './pcapng-writer.js';
import { CaptureReader, type CaptureFrame, type CaptureInterface } from './reader.js';
import { PcapWriter, TcpConversation } from './writer.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Ethernet frames of a small conversation, with their times. */
function sampleFrames(): { ts: number; bytes: Uint8Array }[] {
  const w = new PcapWriter({ keepFrames: true });
  w.udp(1_700_000_000.123456, '10.0.0.5', 40000, '10.0.0.255', 5064, text('search'));
  new TcpConversation(w, '10.0.0.5', 45000, '10.0.0.9', 5064)
    .open(1_700_000_001)
    .send(1_700_000_001.5, true, text('request'))
    .send(1_700_000_001.75, false, text('reply'))
    .close(1_700_000_002);
  return w.linkFrames;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function readBack(bytes: Uint8Array): { frames: CaptureFrame[]; interfaces: CaptureInterface[]; problems: string[] } {
  const frames: CaptureFrame[] = [];
  const interfaces: CaptureInterface[] = [];
  const problems: string[] = [];
  const reader = new CaptureReader({
    frame: (f) => frames.push({ ...f, data: f.data.slice() }),
    problem: (p) => problems.push(`${p.code}: ${p.message}`),
    interface: (i) => interfaces.push(i),
  });
  // Odd chunks: blocks straddle pushes.
  for (let at = 0; at < bytes.length; at += 37) reader.push(bytes.subarray(at, at + 37));
  reader.end();
  return { frames, interfaces, problems };
}

/** A time whose nanoseconds a double holds (238 ns: a double near 1.7e9 s resolves about 0.24 µs). */
const NS_TIME = 1_700_000_001.000000238;

/** A capture with two interfaces (Ethernet in µs, raw IPv4 in ns) and a frame cut by the snaplen. */
function twoInterfaceCapture(): { bytes: Uint8Array; frames: { ts: number; bytes: Uint8Array }[] } {
  const frames = sampleFrames();
  const w = new PcapngWriter('ca-shark test');
  const parts = [w.header('two interfaces')];
  const eth = w.interfaceId({ linktype: LINKTYPE.ETHERNET, snaplen: 262144, name: 'eth0' });
  const raw = w.interfaceId({ linktype: LINKTYPE.RAW, snaplen: 65535, tsresol: TSRESOL.NANO });
  expect(w.interfaceId({ linktype: LINKTYPE.ETHERNET, snaplen: 262144, name: 'eth0' })).toBe(eth);
  parts.push(w.interfaceBlocks());
  expect(w.interfaceBlocks().length).toBe(0);
  frames.forEach((f, i) => {
    if (i === 2) {
      // The IPv4 packet without its Ethernet header, on the raw interface, at nanosecond precision.
      parts.push(w.packet(raw, NS_TIME, f.bytes.subarray(14), f.bytes.length - 14));
    } else if (i === 4) {
      parts.push(w.packet(eth, f.ts, f.bytes.subarray(0, 40), f.bytes.length));
    } else {
      parts.push(w.packet(eth, f.ts, f.bytes, f.bytes.length));
    }
  });
  expect(w.packets).toBe(frames.length);
  return { bytes: concat(parts), frames };
}

describe('PcapngWriter', () => {
  it('writes a section our reader reads back: interfaces, times, captured and original lengths', () => {
    const { bytes, frames } = twoInterfaceCapture();
    const back = readBack(bytes);
    expect(back.problems).toEqual([]);
    expect(back.interfaces.map((i) => [i.linktype, i.snaplen, i.tsUnitsPerSecond, i.name])).toEqual([
      [LINKTYPE.ETHERNET, 262144, 1e6, 'eth0'],
      [LINKTYPE.RAW, 65535, 1e9, undefined],
    ]);
    expect(back.frames).toHaveLength(frames.length);
    back.frames.forEach((f, i) => {
      const sent = frames[i];
      if (i === 2) {
        expect([f.interfaceId, f.linktype, f.caplen, f.origlen]).toEqual([
          1,
          LINKTYPE.RAW,
          sent.bytes.length - 14,
          sent.bytes.length - 14,
        ]);
        expect(Math.round((f.timestamp - 1_700_000_001) * 1e9)).toBe(238);
        expect(f.data).toEqual(sent.bytes.subarray(14));
      } else if (i === 4) {
        expect([f.caplen, f.origlen]).toEqual([40, sent.bytes.length]);
        expect(f.data).toEqual(sent.bytes.subarray(0, 40));
      } else {
        expect([f.interfaceId, f.linktype, f.caplen, f.origlen]).toEqual([
          0,
          LINKTYPE.ETHERNET,
          sent.bytes.length,
          sent.bytes.length,
        ]);
        // Microsecond ticks: the time read back is the one written, to the microsecond.
        expect(Math.round(f.timestamp * 1e6)).toBe(Math.round(sent.ts * 1e6));
        expect(f.data).toEqual(sent.bytes);
      }
    });
  });

  it('pads packet data to 4 bytes and repeats the block length at the end', () => {
    const w = new PcapngWriter();
    const id = w.interfaceId({ linktype: LINKTYPE.ETHERNET, snaplen: 0 });
    for (let n = 0; n < 6; n++) {
      const block = w.packet(id, 1, new Uint8Array(n), n);
      const v = new DataView(block.buffer);
      expect(block.length % 4).toBe(0);
      expect(block.length).toBe(32 + ((n + 3) & ~3));
      expect(v.getUint32(4, true)).toBe(block.length);
      expect(v.getUint32(block.length - 4, true)).toBe(block.length);
    }
    expect(() => w.packet(5, 1, new Uint8Array(1), 1)).toThrow(/never declared/);
  });

  const tools = ['tshark', 'tcpdump'].filter((tool) => {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });

  it.runIf(tools.includes('tshark'))('is read by tshark: every frame, interface, time and length', () => {
    const { bytes, frames } = twoInterfaceCapture();
    const dir = mkdtempSync(join(tmpdir(), 'pcapng-writer-'));
    try {
      const file = join(dir, 'out.pcapng');
      writeFileSync(file, bytes);
      const out = execFileSync(
        'tshark',
        [
          '-r',
          file,
          '-T',
          'fields',
          '-e',
          'frame.interface_id',
          '-e',
          'frame.time_epoch',
          '-e',
          'frame.cap_len',
          '-e',
          'frame.len',
          '-e',
          'ip.src',
        ],
        { encoding: 'utf8' },
      );
      const rows = out
        .trim()
        .split('\n')
        .map((l) => l.split('\t'));
      expect(rows).toHaveLength(frames.length);
      expect(rows[0]).toEqual([
        '0',
        '1700000000.123456000',
        String(frames[0].bytes.length),
        String(frames[0].bytes.length),
        '10.0.0.5',
      ]);
      expect(rows[2]).toEqual([
        '1',
        '1700000001.000000238',
        String(frames[2].bytes.length - 14),
        String(frames[2].bytes.length - 14),
        '10.0.0.9',
      ]);
      expect(rows[4].slice(2, 4)).toEqual(['40', String(frames[4].bytes.length)]);
      const info = execFileSync('capinfos', ['-M', file], { encoding: 'utf8' });
      expect(info).toMatch(/Number of interfaces in file: 2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(tools.includes('tcpdump'))('is read by tcpdump', () => {
    // tcpdump reads pcapng files with one link type: the Ethernet frames only.
    const frames = sampleFrames();
    const w = new PcapngWriter();
    const id = w.interfaceId({ linktype: LINKTYPE.ETHERNET, snaplen: 262144 });
    const bytes = concat([
      w.header(),
      w.interfaceBlocks(),
      ...frames.map((f) => w.packet(id, f.ts, f.bytes, f.bytes.length)),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'pcapng-writer-'));
    try {
      const file = join(dir, 'out.pcapng');
      writeFileSync(file, bytes);
      const out = execFileSync('tcpdump', ['-n', '-tt', '-r', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(frames.length);
      expect(lines[0]).toMatch(/^1700000000\.123456 IP 10\.0\.0\.5\.40000 > 10\.0\.0\.255\.5064: UDP, length 6$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PcapngChunks', () => {
  it('gives a file in chunks: each new interface described just before its first packet, any cut readable', () => {
    const frames = sampleFrames();
    const file = new PcapngChunks('ca-shark test', 'chunked');
    const chunks: Uint8Array[] = [];
    frames.forEach((f, i) => {
      // The raw interface appears only at the third packet, after the first chunk was taken.
      const id =
        i === 2
          ? file.writer.interfaceId({ linktype: LINKTYPE.RAW, snaplen: 65535 })
          : file.writer.interfaceId({ linktype: LINKTYPE.ETHERNET, snaplen: 262144 });
      file.packet(id, f.ts, i === 2 ? f.bytes.subarray(14) : f.bytes, i === 2 ? f.bytes.length - 14 : f.bytes.length);
      if (i === 1) chunks.push(file.take());
    });
    expect(file.bytes).toBeGreaterThan(0);
    chunks.push(file.take());
    expect(file.bytes).toBe(0);
    expect(file.take().length).toBe(0);
    const back = readBack(concat(chunks));
    expect(back.problems).toEqual([]);
    expect(back.interfaces.map((i) => i.linktype)).toEqual([LINKTYPE.ETHERNET, LINKTYPE.RAW]);
    expect(back.frames.map((f) => f.interfaceId)).toEqual(frames.map((_, i) => (i === 2 ? 1 : 0)));
    // The raw interface's IDB is in the second chunk, before its packet: the first chunk alone is complete.
    expect(readBack(chunks[0]).frames).toHaveLength(2);
    expect(file.writer.packets).toBe(frames.length);
  });
});
