import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { compileFilter } from '@ca-shark/analysis/filter';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { FRAME_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, PacketRing } from './packet-ring.js';
import { pcapngChunks } from './pcap-export.js';

const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url)));

/** Runs a capture through an in-process Engine feeding `ring` (what the decoding worker does). */
function run(name: string, ring: PacketRing): CaRecord[] {
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
  const reader = new CaptureReader({
    frame: (f) => engine.frame(f.linktype, f.timestamp, f.data.slice(), f.origlen),
    problem: () => undefined,
  });
  reader.push(fixture(name));
  reader.end();
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
});
