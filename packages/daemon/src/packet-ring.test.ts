import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { compileFilter } from '@ca-shark/analysis/filter';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { FramePacker, unpackFrames } from './frame-batch.js';
import { FRAME_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, PacketRing } from './packet-ring.js';
import { pcapngChunks } from './pcap-export.js';

const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url)));

/**
 * Runs a capture through an in-process Engine feeding `ring` (what the decoding worker does). `batchFrames`:
 * frames are packed into batches of that many, decoded as the worker decodes them (frame-batch.ts, with
 * the ring's beginBatch / endBatch around each), else each frame is a copy of its own.
 */
function run(name: string, ring: PacketRing, batchFrames = 0): CaRecord[] {
  const records: CaRecord[] = [];
  const engine = new Engine({
    describe: () => ({ kind: 'file', file: name }),
    counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
    publish: (r) => {
      ring.record(r);
      records.push(r);
    },
    hubStats: () => ({ clients: 0, dropped: 0 }),
    logger: pino({ level: 'silent' }),
    packets: ring,
  });
  const packer = new FramePacker((buffer, length) => {
    ring.beginBatch(buffer);
    unpackFrames(buffer, length, (linktype, timestamp, bytes, origlen) =>
      engine.frame(linktype, timestamp, bytes, origlen),
    );
    ring.endBatch(buffer);
  });
  const reader = new CaptureReader({
    frame: (f) => {
      if (batchFrames === 0) return engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen);
      packer.add(f.linktype, f.timestamp, f.data, f.origlen);
      if (packer.pending === batchFrames) packer.flush();
    },
    problem: () => undefined,
  });
  reader.push(fixture(name));
  reader.end();
  packer.flush();
  engine.end();
  return records;
}

async function exported(ring: PacketRing, filter = {}): Promise<Uint8Array> {
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

  it('hands a batch buffer back once decoded and none of its frames is held, never before', async () => {
    const full = new PacketRing();
    const all = run('catest.pcap', full);
    const freed: ArrayBufferLike[] = [];
    const ring: PacketRing = new PacketRing(Math.floor(full.stats.bytes / 3), (buffer) => {
      // Nothing the ring holds may point into a buffer it hands back.
      for (let n = 1; n <= all[all.length - 1].frame; n++) expect(ring.get(n)?.data.buffer).not.toBe(buffer);
      freed.push(buffer);
    });
    const records = run('catest.pcap', ring, 8);
    expect(records.map((r) => r.command.name)).toEqual(all.map((r) => r.command.name));
    // The oldest batches left with their frames; the newest are still held.
    expect(freed.length).toBeGreaterThan(0);
    const held = new Set<ArrayBufferLike>();
    for (let n = 1; n <= all[all.length - 1].frame; n++) {
      const buffer = ring.get(n)?.data.buffer;
      if (buffer !== undefined) held.add(buffer);
    }
    expect(held.size).toBeGreaterThan(0);
    for (const buffer of held) expect(freed).not.toContain(buffer);
    // What the ring holds is intact: its export decodes to the newest messages.
    const kept = await decode(await exported(ring));
    expect(kept.length).toBe(ring.stats.messages);
  });
});
