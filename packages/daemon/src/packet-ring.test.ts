import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { type FilterSpec, compileFilter } from '@ca-shark/analysis/filter';
import { CaptureReader, LINKTYPE, PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NgBlock,
  type NgInterface,
  type NgSection,
  Writer,
  pcapFile,
  pcapngFile,
} from '../../packet/src/test-support/build.js';
import { Engine } from './engine.js';
import { FramePacker, unpackFrames } from './frame-batch.js';
import { ChangedFileError, FrameFile, type PlacedFrame, SpoolFile, frameCheck } from './frame-file.js';
import { DEFAULT_SPOOL_BYTES, Spool, type SpoolOptions, type SpoolWrite } from './sources/spool.js';
import { CaptureBytes } from './sources/capture-bytes.js';
import { DEFAULT_PACKET_RING_BYTES, FRAME_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, PacketRing } from './packet-ring.js';
import { pcapngChunks } from './pcap-export.js';

const fixturePath = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));
const fixture = (name: string): Uint8Array => readFileSync(fixturePath(name));

/** An engine replaying `file` that hands its frames to `ring` and its records to `ring` and `records`. */
function ringEngine(file: string, ring: PacketRing, records: CaRecord[]): Engine {
  return new Engine({
    describe: () => ({ kind: 'file', file }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: (r) => {
      ring.record(r);
      records.push(r);
    },
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
    packets: ring,
  });
}

/**
 * Runs a capture through an in-process Engine feeding `ring` (what the decoding worker does). `batchFrames`:
 * frames are packed into batches of that many, decoded as the worker decodes them (frame-batch.ts), and
 * each batch buffer is overwritten once decoded (as the capture thread does when it reuses it); else each
 * frame is a copy of its own.
 */
function run(name: string | Uint8Array, ring: PacketRing, batchFrames = 0): CaRecord[] {
  const records: CaRecord[] = [];
  const engine = ringEngine(typeof name === 'string' ? name : 'capture', ring, records);
  const packer = new FramePacker((buffer, length) => {
    unpackFrames(buffer, length, (linktype, timestamp, bytes, origlen, interfaceId) =>
      engine.frame(linktype, timestamp, bytes, origlen, interfaceId),
    );
    new Uint8Array(buffer).fill(0xee);
  });
  const reader = new CaptureReader({
    frame: (f) => {
      if (batchFrames === 0) return engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen, f.interfaceId);
      packer.add(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId);
      if (packer.pending === batchFrames) packer.flush();
    },
    problem: () => undefined,
  });
  reader.push(typeof name === 'string' ? fixture(name) : name);
  reader.end();
  packer.flush();
  engine.end();
  return records;
}

async function exported(ring: PacketRing, filter: FilterSpec = {}): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of pcapngChunks(ring, { filter }, (linktype) => ({ linktype, snaplen: 262144 })))
    parts.push(chunk);
  return Buffer.concat(parts);
}

async function decode(bytes: Uint8Array): Promise<CaRecord[]> {
  const out: CaRecord[] = [];
  for await (const r of shark(bytes)) out.push(r);
  return out;
}

describe('PacketRing', () => {
  it('holds the frames of every message, and the engine decodes as without it', async () => {
    const ring = new PacketRing();
    const records = run('catest.pcap', ring);
    const plain: CaRecord[] = [];
    for await (const r of shark(fixture('catest.pcap'))) plain.push(r);
    expect(records.map((r) => `${r.frame} ${r.command.name}`)).toEqual(
      plain.map((r) => `${r.frame} ${r.command.name}`),
    );
    const stats = ring.stats;
    expect(stats.messages).toBe(records.length);
    expect(stats.evictedFrames).toBe(0);
    // Every completing frame is held; frames without CA bytes (handshakes, bare ACKs) are not.
    for (const r of records) expect(ring.get(r.frame)).toBeDefined();
    expect(stats.frames).toBeLessThan(167);
    const again = await decode(await exported(ring));
    expect(again.map((r) => r.command.name)).toEqual(records.map((r) => r.command.name));
  });

  it('is bounded by bytes: the oldest frames go, with the messages they carried', async () => {
    const full = new PacketRing();
    const all = run('catest.pcap', full);
    const total = full.stats.bytes;
    const bound = Math.floor(total / 3);
    const ring = new PacketRing(bound);
    run('catest.pcap', ring);
    const stats = ring.stats;
    expect(stats.bytes).toBeLessThanOrEqual(bound);
    expect(stats.evictedFrames).toBeGreaterThan(0);
    expect(stats.frames).toBeLessThan(full.stats.frames);
    expect(stats.bytes).toBeGreaterThan(bound - 70_000 - FRAME_OVERHEAD_BYTES - MESSAGE_OVERHEAD_BYTES);
    // What is left is the newest traffic, written whole: the export decodes to the latest messages.
    const kept = await decode(await exported(ring));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(all.length);
    const tail = all.slice(all.length - stats.messages);
    const keptPvs = compileFilter({ pv: ['test:*'] });
    expect(kept.filter(keptPvs).map((r) => r.command.name)).toEqual(
      tail
        .filter(keptPvs)
        .map((r) => r.command.name)
        .slice(-kept.filter(keptPvs).length),
    );
    expect(kept[kept.length - 1].timestamp).toBeCloseTo(all[all.length - 1].timestamp, 5);
  });

  it('keeps its own copy of every frame: batch buffers overwritten once decoded leave the export intact', async () => {
    const full = new PacketRing();
    const all = run('catest.pcap', full);
    const ring = new PacketRing();
    const records = run('catest.pcap', ring, 8);
    expect(records.map((r) => r.command.name)).toEqual(all.map((r) => r.command.name));
    expect(ring.stats).toEqual(full.stats);
    const again = await decode(await exported(ring));
    expect(again.map((r) => `${r.frame} ${r.command.name}`)).toEqual(
      (await decode(await exported(full))).map((r) => `${r.frame} ${r.command.name}`),
    );
  });

  it('reuses its store once it went round: memory stays within the bound and a block', async () => {
    // 1,200 datagrams of 10 searches each (about 560 bytes a frame, 670 KB in all) into a 200 KiB ring.
    const w = new PcapWriter();
    for (let i = 0; i < 1200; i++) {
      const searches = Array.from({ length: 10 }, (_, k) =>
        build.searchRequest({ name: `ring:pv${i}:${k}`, cid: i * 10 + k }),
      );
      w.udp(1_700_000_000 + i / 1000, '10.0.0.5', 40000, '10.0.0.255', 5064, concatBytes(searches));
    }
    const bound = 200 * 1024;
    const ring = new PacketRing(bound);
    const all = run(w.bytes(), ring, 16);
    expect(ring.stats.evictedFrames).toBeGreaterThan(700);
    expect(ring.stats.bytes).toBeLessThanOrEqual(bound);
    // 64 KiB blocks: four for the bound, one being written.
    expect(ring.storeBytes).toBe(5 * 64 * 1024);
    expect(ring.blocksToCome).toBe(0);
    // What it holds is the newest traffic, intact though every block was rewritten several times.
    const kept = await decode(await exported(ring));
    expect(kept.length).toBe(ring.stats.messages);
    expect(kept.map((r) => r.pv)).toEqual(all.slice(-kept.length).map((r) => r.pv));
  });

  it('takes the blocks it is given before allocating its own (the worker hands pre-faulted ones)', async () => {
    const given = new Set<ArrayBufferLike>();
    const sizes: number[] = [];
    const ring = new PacketRing(undefined, {
      takeBlock: (bytes) => {
        sizes.push(bytes);
        if (given.size > 0) return undefined;
        const block = new Uint8Array(bytes);
        given.add(block.buffer);
        return block;
      },
    });
    expect(ring.blocksToCome).toBe(257);
    run('catest.pcap', ring);
    // catest.pcap fits in the first block: the one given.
    expect(sizes).toEqual([ring.blockBytes]);
    expect(ring.blocksToCome).toBe(256);
    const first = ring.get(ring.index.firstFrame(ring.index.oldest));
    expect(given.has(first?.data.buffer as ArrayBufferLike)).toBe(true);
    expect(ring.storeBytes).toBe(ring.blockBytes);
  });
});

/**
 * Pushes `file` into `bytes` in pieces of `piece` bytes through one buffer reused for every piece, as
 * FileSource reads, and overwritten after each push so a kept view of it would show.
 */
function pushInPieces(bytes: CaptureBytes, file: Uint8Array, piece: number): void {
  const buffer = new Uint8Array(piece);
  for (let at = 0; at < file.length; at += piece) {
    const part = file.subarray(at, at + piece);
    buffer.set(part);
    bytes.push(buffer.subarray(0, part.length));
    buffer.fill(0xdd);
  }
}

/**
 * Runs a capture file through the path of `ca-sharkd -r`: read in `chunk`-byte pieces into one reused buffer
 * (as FileSource does, so records straddle pieces), each frame placed by CaptureBytes, packed into batches
 * of 8 frames whose buffers are overwritten once decoded, and each frame's place handed to the ring before
 * the engine gets the frame (as the decoding worker does).
 */
function runFile(path: string, ring: PacketRing, chunk: number): CaRecord[] {
  const records: CaRecord[] = [];
  const engine = ringEngine(path, ring, records);
  const packer = new FramePacker((buffer, length) => {
    unpackFrames(buffer, length, (linktype, timestamp, bytes, origlen, interfaceId, place) => {
      ring.placeNext(place, bytes);
      engine.frame(linktype, timestamp, bytes, origlen, interfaceId);
    });
    new Uint8Array(buffer).fill(0xee);
  });
  const sink = { frame() {}, problem() {}, end() {}, error() {} };
  const bytes = new CaptureBytes(
    path,
    sink,
    (f, place) => {
      packer.add(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId, place);
      if (packer.pending === 8) packer.flush();
    },
    { places: true },
  );
  pushInPieces(bytes, readFileSync(path), chunk);
  bytes.end();
  packer.flush();
  engine.end();
  return records;
}

describe('PacketRing of a replayed file (frames kept by their place in the file)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ca-shark-ring-file-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** catest.pcap with every frame cut to 90 captured bytes (a snaplen of 90). */
  function snaplenCut(): string {
    const w = new PcapWriter({ snaplen: 90 });
    const reader = new CaptureReader({
      frame: (f) => w.frame(f.timestamp, f.data, Math.min(90, f.caplen)),
      problem() {},
    });
    reader.push(fixture('catest.pcap'));
    reader.end();
    const path = join(dir, 'snaplen-90.pcap');
    writeFileSync(path, w.bytes());
    return path;
  }

  /** Modification time given to the files changed below (Unix s). */
  const MTIME = 1_700_000_000;
  const filters: FilterSpec[] = [{}, { command: ['ReadNotify', 'EventAdd'] }, { pv: ['test:*'] }, { errors: true }];

  it('exports byte for byte what a copying ring exports, pcap and pcapng, records cut by read pieces and by snaplen', async () => {
    const captures = [...['catest.pcap', 'ca_monitor.pcapng', 'ca_arrays.pcapng'].map(fixturePath), snaplenCut()];
    let cut = 0;
    for (const path of captures) {
      const copies = new PacketRing();
      const all = run(new Uint8Array(readFileSync(path)), copies);
      expect(all.length, path).toBeGreaterThan(0);
      for (const chunk of [97, 4096, 1 << 20]) {
        const file = FrameFile.open(path);
        const places = new PacketRing(undefined, { file });
        expect(places.blocksToCome).toBe(0);
        const records = runFile(path, places, chunk);
        expect(records.map((r) => `${r.frame} ${r.command.name}`)).toEqual(
          all.map((r) => `${r.frame} ${r.command.name}`),
        );
        expect(places.stats).toEqual(copies.stats);
        // No frame copied: every one has its place.
        expect(places.storeBytes).toBe(0);
        for (const filter of filters)
          expect(
            Buffer.compare(await exported(places, filter), await exported(copies, filter)),
            `${path} ${chunk}`,
          ).toBe(0);
        for (let seq = places.index.oldest; seq < places.index.end; seq++) {
          const f = places.get(places.index.firstFrame(seq));
          if (f !== undefined && f.data.length < f.origlen) cut++;
        }
        file.close();
      }
    }
    expect(cut).toBeGreaterThan(0);
  });

  it('never opens what is not a regular file (a FIFO would hold the pipe or wait for a writer)', () => {
    const fifo = join(dir, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return;
    expect(() => FrameFile.open(fifo)).toThrow(/is not a regular file/);
    expect(() => FrameFile.open(dir)).toThrow(/is not a regular file/);
  });

  it('holds the same frames as a copying ring of the same bound once it goes round', async () => {
    const path = fixturePath('catest.pcap');
    const bound = 16 * 1024;
    const copies = new PacketRing(bound);
    run(new Uint8Array(readFileSync(path)), copies);
    const file = FrameFile.open(path);
    const places = new PacketRing(bound, { file });
    runFile(path, places, 4096);
    expect(places.stats.evictedFrames).toBeGreaterThan(0);
    expect(places.stats).toEqual(copies.stats);
    for (const filter of filters)
      expect(Buffer.compare(await exported(places, filter), await exported(copies, filter))).toBe(0);
    file.close();
  });

  it('refuses to export from a file changed since, never writing other bytes; a removed one is still read', async () => {
    const original = fixture('catest.pcap');
    const ready = async (
      name: string,
    ): Promise<{ path: string; ring: PacketRing; file: FrameFile; good: Uint8Array }> => {
      const path = join(dir, name);
      writeFileSync(path, original);
      // A whole second: put back exactly below.
      utimesSync(path, MTIME, MTIME);
      const file = FrameFile.open(path);
      const ring = new PacketRing(undefined, { file });
      runFile(path, ring, 1 << 20);
      return { path, ring, file, good: await exported(ring) };
    };
    // Grown (appended to, as a capture still being written is): exported as it was, frames checked.
    let r = await ready('grown.pcap');
    appendFileSync(r.path, new Uint8Array(100));
    expect(Buffer.compare(await exported(r.ring), r.good)).toBe(0);
    r.file.close();
    // Rewritten with other bytes and grown: the check words tell.
    r = await ready('regrown.pcap');
    const flipped = Buffer.from(original);
    for (let i = 24; i < flipped.length; i++) flipped[i] ^= 0x5a;
    writeFileSync(r.path, Buffer.concat([flipped, new Uint8Array(100)]));
    await expect(exported(r.ring)).rejects.toThrow(/the bytes of frame \d+ differ from those decoded/);
    r.file.close();
    // Truncated: the size tells.
    r = await ready('truncated.pcap');
    truncateSync(r.path, 1000);
    await expect(exported(r.ring)).rejects.toThrow(/its size went from \d+ to 1000 bytes/);
    r.file.close();
    // Rewritten in place with other bytes, same size: the modification time tells.
    r = await ready('rewritten.pcap');
    const other = Uint8Array.from(original);
    for (let i = 100; i < other.length; i += 7) other[i] ^= 0xff;
    writeFileSync(r.path, other);
    expect(statSync(r.path).mtimeMs).not.toBe(MTIME * 1000);
    await expect(exported(r.ring)).rejects.toThrow(/rewritten\.pcap changed since it was replayed \(modified at/);
    // ... and with its modification time put back, each frame's check word.
    utimesSync(r.path, MTIME, MTIME);
    await expect(exported(r.ring)).rejects.toThrow(/the bytes of frame \d+ differ from those decoded/);
    expect(() => r.ring.get(r.ring.index.firstFrame(r.ring.index.oldest))).toThrow(ChangedFileError);
    r.file.close();
    // Removed, or renamed over: the ring's descriptor still reads the file it decoded.
    r = await ready('removed.pcap');
    rmSync(r.path);
    writeFileSync(r.path, other);
    expect(Buffer.compare(await exported(r.ring), r.good)).toBe(0);
    r.file.close();
  });
});

/** A frame to write into a generated capture. */
interface Frame {
  timestamp: number;
  data: Uint8Array;
  origlen: number;
}

/** The frames of a fixture, as its reader gives them (copies). */
function framesOf(name: string): Frame[] {
  const out: Frame[] = [];
  const reader = new CaptureReader({
    frame: (f) => void out.push({ timestamp: f.timestamp, data: f.data.slice(), origlen: f.origlen }),
    problem() {},
  });
  reader.push(fixture(name));
  reader.end();
  return out;
}

/**
 * A pcapng file of `frames` meant to trip up places: two sections of opposite byte orders, each with three
 * interfaces (µs and ns), enhanced packet blocks with options after their data, obsolete packet blocks,
 * blocks that carry no packet (name resolution, statistics, custom, an unknown type) between them, and
 * packet blocks the reader skips (a captured length that does not fit its block, an interface not
 * described), which take no frame's place.
 */
function trickyPcapng(frames: Frame[]): Uint8Array {
  const sections: NgSection[] = [];
  const half = Math.ceil(frames.length / 2);
  for (const [s, le] of [
    [0, true],
    [1, false],
  ] as const) {
    const interfaces: NgInterface[] = [0, 1, 2].map((i) => ({
      linktype: 1,
      name: 'eth0',
      ...(i === 1 ? { tsresol: 9 } : {}),
    }));
    const blocks: NgBlock[] = [];
    const ticks = (f: Frame, nanos: boolean): bigint => BigInt(Math.round(f.timestamp * (nanos ? 1e9 : 1e6)));
    const raw = (type: number, body: Writer): void => void blocks.push({ kind: 'raw', type, body: body.bytes() });
    frames.slice(s * half, (s + 1) * half).forEach((f, i) => {
      const iface = i % 3;
      if (i % 5 === 2) {
        const pbIface = iface === 1 ? 0 : iface;
        blocks.push({ kind: 'pb', iface: pbIface, ts: ticks(f, false), data: f.data, origlen: f.origlen });
      } else if (i % 5 === 4 && f.data.length === f.origlen)
        // A simple packet block: interface 0, no timestamp (the reader gives it the previous one's).
        blocks.push({ kind: 'spb', data: f.data, origlen: f.origlen });
      else
        blocks.push({
          kind: 'epb',
          iface,
          ts: ticks(f, iface === 1),
          data: f.data,
          origlen: f.origlen,
          ...(i % 2 === 0 ? { comment: 'after the data', flags: 0 } : {}),
        });
      if (i % 7 === 3) raw(4, new Writer(le).u16(0).u16(0));
      if (i % 11 === 4) raw(5, new Writer(le).u32(0).u32(0).u32(0));
      if (i % 13 === 5) raw(0xbad, new Writer(le).u32(32473).raw([1, 2, 3]));
      if (i % 17 === 6) raw(0x1234, new Writer(le).raw(new Uint8Array(8)));
      if (i % 19 === 7) {
        // Captured length beyond the block, then an interface the section does not describe: both skipped.
        raw(6, new Writer(le).u32(0).u32(0).u32(0).u32(1000).u32(1000).raw(new Uint8Array(8)));
        blocks.push({ kind: 'epb', iface: 7, ts: ticks(f, false), data: f.data, origlen: f.origlen });
      }
    });
    sections.push({ le, comment: 'generated', interfaces, blocks });
  }
  return pcapngFile(sections);
}

describe('places of frames in generated captures (every format variant, any read pieces)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ca-shark-places-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const frames = framesOf('catest.pcap');
  // A classic pcap file of the frames (cut to `snaplen` captured bytes when given).
  const pcap = (le: boolean, nanos: boolean, snaplen?: number): Uint8Array =>
    pcapFile({
      le,
      nanos,
      linktype: LINKTYPE.ETHERNET,
      ...(snaplen !== undefined ? { snaplen } : {}),
      records: frames.map((f) => {
        const sec = Math.floor(f.timestamp);
        const frac = Math.round((f.timestamp - sec) * (nanos ? 1e9 : 1e6));
        return { sec, frac, data: snaplen !== undefined ? f.data.subarray(0, snaplen) : f.data, origlen: f.origlen };
      }),
    });
  const captures: [string, Uint8Array][] = [
    ['pcap-le-us', pcap(true, false)],
    ['pcap-be-us', pcap(false, false)],
    ['pcap-le-ns', pcap(true, true)],
    ['pcap-be-ns', pcap(false, true)],
    ['pcap-be-snaplen-70', pcap(false, false, 70)],
    ['pcapng-tricky', trickyPcapng(frames)],
  ];
  // A file that ends inside a record, and one with a corrupt record (the reader stops there).
  const whole = pcap(false, true);
  captures.push(['pcap-ends-mid-record', whole.subarray(0, whole.length - 30)]);
  const corrupt = Uint8Array.from(whole);
  new DataView(corrupt.buffer).setUint32(24 + 16 + frames[0].data.length + 16 + frames[1].data.length + 8, 1 << 30);
  captures.push(['pcap-corrupt-record', corrupt]);
  const tricky = trickyPcapng(frames);
  captures.push(['pcapng-ends-mid-block', tricky.subarray(0, tricky.length - 50)]);

  it('gives every frame the place of its very bytes in the file, whatever pieces the file is read in', () => {
    for (const [name, file] of captures) {
      let expected = 0;
      const reader = new CaptureReader({ frame: () => void expected++, problem() {} });
      reader.push(file);
      reader.end();
      expect(expected, name).toBeGreaterThan(0);
      for (const piece of [1, 3, 13, 97, 1000, 4096, 65536, file.length]) {
        let seen = 0;
        const bytes = new CaptureBytes(
          name,
          { frame() {}, problem() {}, end() {}, error() {} },
          (f, place) => {
            seen++;
            expect(place, `${name} ${piece} frame ${f.frame}`).toBeGreaterThanOrEqual(0);
            expect(Buffer.compare(file.subarray(place, place + f.data.length), f.data), `${name} ${piece}`).toBe(0);
          },
          { places: true },
        );
        pushInPieces(bytes, file, piece);
        bytes.end();
        expect(seen, `${name} ${piece}`).toBe(expected);
      }
    }
  });

  it('exports byte for byte what a copying ring exports, from every variant', async () => {
    for (const [name, bytes] of captures) {
      const path = join(dir, `${name}.cap`);
      writeFileSync(path, bytes);
      const copies = new PacketRing();
      const all = run(bytes, copies);
      // The corrupt record is the file's third: the reader stops before any message is complete.
      if (name !== 'pcap-corrupt-record') expect(all.length, name).toBeGreaterThan(0);
      // A copying ring keeps no places (nor their columns).
      if (all.length > 0) expect(copies.locate(copies.index.firstFrame(copies.index.oldest))?.place).toBe(-1);
      for (const chunk of [61, 4096]) {
        const file = FrameFile.open(path);
        const places = new PacketRing(undefined, { file });
        const records = runFile(path, places, chunk);
        expect(records.length, name).toBe(all.length);
        expect(places.stats, name).toEqual(copies.stats);
        expect(places.storeBytes, name).toBe(0);
        for (const filter of [{}, { command: ['ReadNotify', 'EventAdd'] }])
          expect(Buffer.compare(await exported(places, filter), await exported(copies, filter)), name).toBe(0);
        file.close();
      }
    }
  });
});

describe('exports of a replayed file at the same time', () => {
  it("never mix one export's frames into another's (each read has bytes of its own while in flight)", async () => {
    const path = fixturePath('ca_arrays.pcapng');
    const copies = new PacketRing();
    run(new Uint8Array(readFileSync(path)), copies);
    const file = FrameFile.open(path);
    const places = new PacketRing(undefined, { file });
    runFile(path, places, 4096);
    const wanted: FilterSpec[] = [{}, { command: ['ReadNotify'] }, { command: ['EventAdd'] }, { errors: true }];
    const expected = await Promise.all(wanted.map((f) => exported(copies, f)));
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(wanted.map((f) => exported(places, f)));
      got.forEach((bytes, i) => expect(Buffer.compare(bytes, expected[i]), JSON.stringify(wanted[i])).toBe(0));
    }
    file.close();
  });
});

describe('FrameFile reads', () => {
  it('read a sparse selection without reading (and keeping) the whole stretch of file between its frames', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-sparse-'));
    try {
      // 8 MiB of bytes; a 100-byte frame every 4 KiB (one PV's updates among others' traffic).
      const bytes = new Uint8Array(8 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) >>> 5;
      const path = join(dir, 'sparse');
      writeFileSync(path, bytes);
      const frames: PlacedFrame[] = [];
      for (let place = 0; place + 100 <= bytes.length; place += 4096)
        frames.push({
          frame: frames.length + 1,
          place,
          caplen: 100,
          check: frameCheck(bytes.subarray(place, place + 100)),
        });
      const file = FrameFile.open(path);
      const got = await file.read(frames);
      expect(got.length).toBe(frames.length);
      got.forEach((data, i) =>
        expect(Buffer.compare(data, bytes.subarray(frames[i].place, frames[i].place + 100))).toBe(0),
      );
      // Frames (200 KiB) and at most 1 MiB of gaps read through: not the 8 MiB they span.
      expect(file.readBufferBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
      file.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Runs a capture through the path of `ca-sharkd --stdin` with a spool: each piece of the stream written to
 * the spool before it is pushed (frames then placed in the stream, as for a file), through one reused buffer,
 * packed into batches whose buffers are overwritten once decoded, each place handed to the ring before the
 * engine gets the frame. Once the spool stops, pieces are pushed without places, as the source does.
 */
async function runSpooled(bytes: Uint8Array, ring: PacketRing, spool: Spool, chunk: number): Promise<CaRecord[]> {
  const records: CaRecord[] = [];
  const engine = ringEngine('stdin', ring, records);
  const packer = new FramePacker((buffer, length) => {
    unpackFrames(buffer, length, (linktype, timestamp, data, origlen, interfaceId, place) => {
      ring.placeNext(place, data);
      engine.frame(linktype, timestamp, data, origlen, interfaceId);
    });
    new Uint8Array(buffer).fill(0xee);
  });
  const sink = { frame() {}, problem() {}, end() {}, error() {} };
  const reader = new CaptureBytes(
    '<stdin>',
    sink,
    (f, place) => {
      packer.add(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId, place);
      if (packer.pending === 8) packer.flush();
    },
    { places: true },
  );
  const buffer = new Uint8Array(chunk);
  for (let at = 0; at < bytes.length; at += chunk) {
    const part = bytes.subarray(at, at + chunk);
    buffer.set(part);
    const piece = buffer.subarray(0, part.length);
    if ((await spool.append(piece)) < 0) reader.stopPlaces();
    reader.push(piece);
    buffer.fill(0xdd);
  }
  reader.end();
  packer.flush();
  engine.end();
  return records;
}

/** The captured bytes of the frames of a capture, in order. */
function frameBytes(capture: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = new CaptureReader({ frame: (f) => void out.push(f.data.slice()), problem() {} });
  reader.push(capture);
  reader.end();
  return out;
}

/** Whether `part` is `whole` with some of its items left out (items compared byte for byte). */
function isSubsequence(part: Uint8Array[], whole: Uint8Array[]): boolean {
  let i = 0;
  for (const item of whole) if (i < part.length && Buffer.compare(part[i], item) === 0) i++;
  return i === part.length;
}

describe("PacketRing of stdin's spool (frames kept by their place in the stream, on disk)", () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ca-shark-spool-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const filters: FilterSpec[] = [{}, { command: ['ReadNotify', 'EventAdd'] }, { pv: ['test:*'] }, { errors: true }];
  const spoolOf = (bytes: number, options: Partial<SpoolOptions> = {}): Spool => Spool.open({ dir, bytes, ...options });

  it('exports byte for byte what a copying ring exports, pcap and pcapng, and leaves no file behind', async () => {
    for (const name of ['catest.pcap', 'ca_monitor.pcapng', 'ca_arrays.pcapng']) {
      const copies = new PacketRing();
      run(name, copies);
      for (const chunk of [97, 4096, 1 << 20]) {
        const spool = spoolOf(DEFAULT_SPOOL_BYTES);
        // Unlinked as soon as made: nothing to clean up, whatever way the daemon ends.
        expect(readdirSync(dir)).toEqual([]);
        const ring = new PacketRing(undefined, { file: new SpoolFile(spool.share) });
        await runSpooled(fixture(name), ring, spool, chunk);
        expect(ring.stats, `${name} ${chunk}`).toEqual(copies.stats);
        expect(ring.storeBytes).toBe(0);
        for (const filter of filters)
          expect(Buffer.compare(await exported(ring, filter), await exported(copies, filter)), `${name} ${chunk}`).toBe(
            0,
          );
        closeSync(spool.share.fd);
      }
    }
  });

  it('holds the same frames as a copying ring of the same bound once it goes round', async () => {
    const bound = 16 * 1024;
    const copies = new PacketRing(bound);
    run('catest.pcap', copies);
    const spool = spoolOf(bound);
    const ring = new PacketRing(bound, { file: new SpoolFile(spool.share) });
    await runSpooled(fixture('catest.pcap'), ring, spool, 4096);
    expect(ring.stats.evictedFrames).toBeGreaterThan(0);
    expect(ring.stats).toEqual(copies.stats);
    for (const filter of filters)
      expect(Buffer.compare(await exported(ring, filter), await exported(copies, filter))).toBe(0);
    closeSync(spool.share.fd);
  });

  it("lets go of the frames whose bytes the spool overwrote as it went round; the rest export as the input's", async () => {
    const capture = fixture('catest.pcap');
    const all = new PacketRing();
    run('catest.pcap', all);
    const every = frameBytes(await exported(all));
    // A spool of 8 KiB under a ring that would hold the whole capture: the spool's bound rules.
    const spool = spoolOf(8 * 1024);
    const file = new SpoolFile(spool.share);
    const ring = new PacketRing(undefined, { file });
    await runSpooled(capture, ring, spool, 1000);
    expect(spool.bytesWritten).toBe(capture.length);
    expect(file.floor()).toBe(capture.length - 8 * 1024);
    expect(ring.stats.evictedFrames).toBeGreaterThan(0);
    const kept = frameBytes(await exported(ring));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(every.length);
    expect(isSubsequence(kept, every)).toBe(true);
    // The newest frames are all there.
    expect(Buffer.compare(kept[kept.length - 1], every[every.length - 1])).toBe(0);
    // A frame located before the spool went on and read after: left out, not another frame's bytes.
    const seq = ring.index.oldest;
    const at = ring.locate(ring.index.firstFrame(seq));
    expect(at?.data).toBeUndefined();
    expect((await file.read([at as PlacedFrame]))[0]).toBeDefined();
    await spool.append(new Uint8Array(8 * 1024));
    expect((await file.read([at as PlacedFrame]))[0]).toBeUndefined();
    expect(file.readSync(at as PlacedFrame)).toBeUndefined();
    expect(ring.get(ring.index.firstFrame(seq))).toBeUndefined();
    closeSync(spool.share.fd);
  });

  it('reads back a frame that runs past the end of the file from its start', async () => {
    const spool = spoolOf(100);
    const file = new SpoolFile(spool.share);
    const stream = Uint8Array.from({ length: 250 }, (_, i) => i);
    for (let at = 0; at < stream.length; at += 30) await spool.append(stream.subarray(at, at + 30));
    const frame = stream.subarray(180, 240);
    const placed: PlacedFrame = { frame: 1, place: 180, caplen: 60, check: frameCheck(frame) };
    expect(Buffer.compare((await file.read([placed]))[0] as Uint8Array, frame)).toBe(0);
    expect(Buffer.compare(file.readSync(placed) as Uint8Array, frame)).toBe(0);
    // A chunk larger than the spool: its last 100 bytes are what the file holds.
    const writes: number[] = [];
    const big = Spool.open({
      dir,
      bytes: 100,
      write: (fd, buffer, offset, length, position) => {
        writes.push(length);
        return Promise.resolve(writeSync(fd, buffer, offset, length, position));
      },
    });
    expect(await big.append(stream)).toBe(0);
    expect(writes.reduce((a, b) => a + b)).toBe(100);
    const tail = stream.subarray(200, 250);
    expect(
      Buffer.compare(
        (
          await new SpoolFile(big.share).read([{ frame: 1, place: 200, caplen: 50, check: frameCheck(tail) }])
        )[0] as Uint8Array,
        tail,
      ),
    ).toBe(0);
    expect((await new SpoolFile(big.share).read([{ frame: 1, place: 100, caplen: 50, check: 0 }]))[0]).toBeUndefined();
    closeSync(big.share.fd);
    // Bytes of another frame at that place: the check word tells, and it is the daemon's fault, not a 409.
    const wrong = { ...placed, check: placed.check ^ 1 };
    await expect(file.read([wrong])).rejects.toThrow(/does not hold the frames placed in it/);
    await expect(file.read([wrong])).rejects.not.toBeInstanceOf(ChangedFileError);
    closeSync(spool.share.fd);
  });

  it('on a full disk or a stalled write, stops once and keeps the later frames in memory, losing none', async () => {
    const capture = fixture('catest.pcap');
    const copies = new PacketRing();
    run('catest.pcap', copies);
    const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    let written = 0;
    const writers: [string, SpoolWrite][] = [
      // The disk fills after 10 KiB, mid-chunk.
      [
        'ENOSPC',
        async (fd, buffer, offset, length, position) => {
          if (written + length > 10 * 1024) throw enospc();
          written += length;
          return writeSync(fd, buffer, offset, length, position);
        },
      ],
      // The fourth write never ends.
      [
        'longer than',
        (fd, buffer, offset, length, position) =>
          ++written === 4
            ? new Promise<number>(() => undefined)
            : Promise.resolve(writeSync(fd, buffer, offset, length, position)),
      ],
    ];
    for (const [why, write] of writers) {
      written = 0;
      const stops: string[] = [];
      const spool = spoolOf(DEFAULT_SPOOL_BYTES, { write, slowWriteMs: 50, onStop: (reason) => stops.push(reason) });
      const ring = new PacketRing(undefined, { file: new SpoolFile(spool.share) });
      const records = await runSpooled(capture, ring, spool, 4096);
      expect(stops).toHaveLength(1);
      expect(stops[0]).toContain(why);
      expect(spool.stopReason).toBe(stops[0]);
      expect(await spool.append(new Uint8Array(10))).toBe(-1);
      expect(records.length).toBeGreaterThan(0);
      expect(ring.stats).toEqual(copies.stats);
      // The frames after the stop are copies in the ring's store.
      expect(ring.storeBytes).toBeGreaterThan(0);
      for (const filter of filters)
        expect(Buffer.compare(await exported(ring, filter), await exported(copies, filter)), why).toBe(0);
      closeSync(spool.share.fd);
    }
  });

  it('cannot be made where no file can be: the caller keeps packets in memory', () => {
    expect(() => Spool.open({ dir: join(dir, 'missing'), bytes: 1024 })).toThrow(/ENOENT/);
    const notDir = join(dir, 'a-file');
    writeFileSync(notDir, '');
    expect(() => Spool.open({ dir: notDir, bytes: 1024 })).toThrow(/ENOTDIR/);
    rmSync(notDir);
  });

  it("sizes the spool by the ring's default bound", () => {
    expect(DEFAULT_SPOOL_BYTES).toBe(DEFAULT_PACKET_RING_BYTES);
  });
});
