import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCapture, readPackets, type CaptureItem } from './input.js';
import type { PacketEvent } from './types.js';
import { digest, runCapture, streams } from './test-support/run.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** From fixtures/README.md: format / link type / packets. */
const TABLE: Array<[string, 'pcap' | 'pcapng', string, number]> = [
  ['example_tcp_data.pcap', 'pcap', 'ETHERNET', 45],
  ['example_udp_data.pcap', 'pcap', 'ETHERNET', 8],
  ['catest.pcap', 'pcapng', 'ETHERNET', 167],
  ['ca_monitor.pcapng', 'pcapng', 'LINUX_SLL', 20],
  ['ca_monitor2.pcapng', 'pcapng', 'LINUX_SLL', 29],
  ['cabeacon.cap', 'pcapng', 'LINUX_SLL', 8],
  ['ca_arrays.pcapng', 'pcapng', 'ETHERNET', 83],
];

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Test oracle only: split a stream into 16-byte-header messages by their payload-size field (extended
 * header when it reads 0xffff). A byte lost or doubled in reassembly breaks the chain.
 */
function splitsIntoMessages(bytes: Buffer): boolean {
  let at = 0;
  while (at + 16 <= bytes.length) {
    let size = bytes.readUInt16BE(at + 2);
    let header = 16;
    if (size === 0xffff) {
      if (at + 24 > bytes.length) return false;
      size = bytes.readUInt32BE(at + 16);
      header = 24;
    }
    at += header + size;
  }
  return at === bytes.length;
}

describe('real captures', () => {
  for (const [name, format, linktype, packets] of TABLE) {
    it(`${name}: ${format}, ${linktype}, ${packets} packets`, async () => {
      const items: CaptureItem[] = await collect(readCapture(fixture(name)));
      const header = items.find((i) => i.type === 'header');
      expect(header?.type === 'header' && header.header.format).toBe(format);
      const frames = items.filter((i) => i.type === 'frame');
      expect(frames).toHaveLength(packets);
      expect(frames.every((f) => f.type === 'frame' && f.timestamp > 1.2e9 && f.timestamp < 2e9)).toBe(true);
      expect(header?.type === 'header' && header.header.interfaces.map((i) => i.linktypeName)).toEqual([linktype]);
      expect(items.filter((i) => i.type === 'problem')).toEqual([]);
    });
  }

  it('every TCP stream of every capture reassembles without gaps into whole messages', async () => {
    for (const [name] of TABLE) {
      const events = await collect(readPackets(fixture(name)));
      expect(
        events.filter((e) => e.type === 'problem' || e.type === 'tcp-gap'),
        name,
      ).toEqual([]);
      for (const [key, text] of streams(events)) {
        expect(splitsIntoMessages(Buffer.from(text, 'latin1')), `${name} stream ${key}`).toBe(true);
      }
    }
  });

  it('catest.pcap: the 8208-byte waveform replies come out whole', async () => {
    const events = await collect(readPackets(fixture('catest.pcap')));
    const s = [...streams(events).values()].map((t) => Buffer.from(t, 'latin1'));
    const hasBig = s.some((b) => {
      for (let at = 0; at + 16 <= b.length; at += 16 + b.readUInt16BE(at + 2))
        if (b.readUInt16BE(at + 2) >= 8208) return true;
      return false;
    });
    expect(hasBig).toBe(true);
  });

  it('the pipeline exposes the capture header and reports it and each interface once', () => {
    const headers: string[] = [];
    const ifaces: number[] = [];
    const { pipeline } = runCapture(new Uint8Array(readFileSync(fixture('ca_monitor2.pcapng'))), 100, {
      onHeader: (h) => headers.push(h.format),
      onInterface: (i) => ifaces.push(i.linktype),
    });
    expect(headers).toEqual(['pcapng']);
    expect(ifaces).toEqual([113]);
    expect(pipeline.header).toMatchObject({ format: 'pcapng', byteOrder: 'little', sections: 1 });
    expect(pipeline.stats).toMatchObject({ frames: 29, problems: 0, tcpGaps: 0 });
  });

  it('example_udp_data.pcap: four searches and four replies, with addresses and ports', async () => {
    const events = await collect(readPackets(fixture('example_udp_data.pcap')));
    const udp = events.filter((e): e is Extract<PacketEvent, { type: 'udp' }> => e.type === 'udp');
    expect(udp).toHaveLength(8);
    expect(udp.filter((u) => u.packet.transport.dport === 5064)).toHaveLength(4);
    expect(udp.every((u) => /^\d+\.\d+\.\d+\.\d+$/.test(u.packet.src) && u.packet.link.type === 'ethernet')).toBe(true);
  });

  it('ca_monitor.pcapng: Linux cooked frames decode to one TCP connection and UDP', async () => {
    const events = await collect(readPackets(fixture('ca_monitor.pcapng')));
    const opens = events.filter((e) => e.type === 'tcp-open');
    expect(opens).toHaveLength(1);
    expect(opens[0].type === 'tcp-open' && opens[0].flow.opener).toBe('a');
    expect(opens[0].type === 'tcp-open' && opens[0].packet.link.type).toBe('sll');
  });

  for (const name of ['catest.pcap', 'example_tcp_data.pcap', 'ca_monitor2.pcapng']) {
    it(`${name}: pushing one byte at a time gives identical events`, () => {
      const bytes = new Uint8Array(readFileSync(fixture(name)));
      const whole = runCapture(bytes).events.map(digest);
      expect(whole.length).toBeGreaterThan(10);
      expect(runCapture(bytes, 1).events.map(digest)).toEqual(whole);
      expect(runCapture(bytes, 1000).events.map(digest)).toEqual(whole);
    });
  }

  it('reads from a Node Readable, a Buffer and a file: URL like from the file path', async () => {
    const bytes = readFileSync(fixture('ca_arrays.pcapng'));
    const fromFile = (await collect(readPackets(fixture('ca_arrays.pcapng')))).map(digest);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 777) }, (_, i) =>
      bytes.subarray(i * 777, (i + 1) * 777),
    );
    expect((await collect(readPackets(Readable.from(chunks)))).map(digest)).toEqual(fromFile);
    expect((await collect(readPackets(bytes))).map(digest)).toEqual(fromFile);
    expect((await collect(readPackets(new URL('../fixtures/ca_arrays.pcapng', import.meta.url)))).map(digest)).toEqual(
      fromFile,
    );
  });

  it('yields events while the stream is still open (tcpdump -U -w - | ...)', async () => {
    const bytes = readFileSync(fixture('example_udp_data.pcap'));
    const input = new PassThrough();
    const it = readPackets(input)[Symbol.asyncIterator]();
    // Header and first record (24 + 16 + caplen) only; the stream stays open.
    const firstEnd = 24 + 16 + bytes.readUInt32LE(24 + 8);
    input.write(bytes.subarray(0, firstEnd));
    const first = await it.next();
    expect(first.done).toBe(false);
    expect(first.value?.type === 'udp' && first.value.packet.frame).toBe(1);
    input.end(bytes.subarray(firstEnd));
    let rest = 0;
    for (let r = await it.next(); !r.done; r = await it.next()) rest++;
    expect(rest).toBe(7);
  });

  it('reports empty input as not a capture', async () => {
    const events = await collect(readPackets(new Uint8Array(0)));
    expect(events.map((e) => e.type === 'problem' && e.code)).toEqual(['not-a-capture']);
    expect((await collect(readPackets(Readable.from([])))).map((e) => e.type === 'problem' && e.code)).toEqual([
      'not-a-capture',
    ]);
  });

  it('rejects a stream that delivers strings, and a missing file', async () => {
    await expect(collect(readPackets(Readable.from(['text'])))).rejects.toThrow(/encoding/);
    await expect(collect(readPackets(fixture('no-such-file.pcap')))).rejects.toThrow(/ENOENT/);
  });
});
