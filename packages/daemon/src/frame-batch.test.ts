import { readFileSync } from 'node:fs';
import { recordToJSON } from '@ca-shark/analysis';
import { type CaRecord, shark } from '@ca-shark/decoder';
import { CaptureReader } from '@ca-shark/packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import { FRAME_HEADER_BYTES, FramePacker, unpackFrames } from './frame-batch.js';
import { keepRecordBytes } from './record-ring.js';

const FIXTURES = new URL('../../packet/fixtures/', import.meta.url);

interface F {
  linktype: number;
  timestamp: number;
  bytes: number[];
  origlen: number;
}

describe('frame batches', () => {
  it('carry every frame with its link type, timestamp and original length, in order, across flushes and growth', () => {
    const out: F[] = [];
    const batches: number[] = [];
    const packer = new FramePacker((buffer, length, frames) => {
      batches.push(frames);
      unpackFrames(buffer, length, (linktype, timestamp, bytes, origlen) =>
        out.push({ linktype, timestamp, bytes: [...bytes], origlen }),
      );
    }, 4096);
    const sent: F[] = [];
    for (let i = 0; i < 300; i++) {
      // Sizes from 0 to ~1.5 KB, one frame larger than the initial buffer to force growth.
      const size = i === 150 ? 300_000 : (i * 37) % 1500;
      const bytes = Array.from({ length: size }, (_, k) => (k + i) & 0xff);
      const f = {
        linktype: i % 2 === 0 ? 1 : 276,
        timestamp: 1700000000.123456 + i / 1000,
        bytes,
        origlen: size + (i % 3),
      };
      sent.push(f);
      packer.add(f.linktype, f.timestamp, Uint8Array.from(bytes), f.origlen);
    }
    packer.flush();
    expect(out).toEqual(sent);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(300);
    expect(packer.pending).toBe(0);
  });

  it('hands out views into the batch: no copy per frame', () => {
    let kept: Uint8Array | undefined;
    let batch: ArrayBuffer | undefined;
    const packer = new FramePacker((buffer, length) => {
      batch = buffer;
      unpackFrames(buffer, length, (_l, _t, bytes) => (kept ??= bytes));
    });
    packer.add(1, 1, Uint8Array.from([1, 2, 3]), 3);
    packer.flush();
    expect(kept).toEqual(Uint8Array.from([1, 2, 3]));
    expect(kept?.buffer).toBe(batch);
  });
});

describe('frame batches in buffers handed back', () => {
  it('pack later batches into the buffers handed back: none allocated once warm, every frame intact', () => {
    const out: number[][] = [];
    const packer: FramePacker = new FramePacker((buffer, length) => {
      unpackFrames(buffer, length, (_l, _t, bytes) => out.push([...bytes]));
      // Decoded: the buffer goes back, as the worker's `free` message hands it back.
      packer.recycle(buffer);
    }, 64 * 1024);
    const sent: number[][] = [];
    for (let batch = 0; batch < 200; batch++) {
      for (let i = 0; i < 20; i++) {
        const frame = Array.from({ length: 100 + ((batch * 7 + i * 13) % 1400) }, (_, k) => (batch + i + k) & 0xff);
        packer.add(1, batch, Uint8Array.from(frame), frame.length);
        sent.push(frame);
      }
      packer.flush();
    }
    expect(out).toEqual(sent);
    // The first buffer and one spare at most: every later batch reused one.
    expect(packer.buffersAllocated).toBeLessThanOrEqual(2);
  });

  it('keep the buffers of a backlog that swings between none and 100 batches: fresh ones only for the first swing', () => {
    const inFlight: ArrayBuffer[] = [];
    const packer: FramePacker = new FramePacker((buffer) => {
      inFlight.push(structuredClone(buffer, { transfer: [buffer] }));
      // The worker catches up only once 100 batches wait, then hands every one back.
      if (inFlight.length === 100) for (const b of inFlight.splice(0)) packer.recycle(b);
    }, 64 * 1024);
    const frame = new Uint8Array(8 * 1024);
    for (let batch = 0; batch < 500; batch++) {
      packer.add(1, batch, frame, frame.length);
      packer.flush();
    }
    // 100 in flight and the one being packed. With at most 16 spares kept, every swing after the first
    // allocated 84 buffers afresh (437 in all).
    expect(packer.buffersAllocated).toBe(101);
  });

  it('keep no more spares than batches of the recent length fill the spare bytes (16 at the least)', () => {
    const inFlight: ArrayBuffer[] = [];
    // Room for 40 spares of 64 KiB batches (100 would be 6.4 MiB).
    const packer: FramePacker = new FramePacker(
      (buffer) => inFlight.push(structuredClone(buffer, { transfer: [buffer] })),
      64 * 1024,
      40 * 64 * 1024,
    );
    // One frame a batch, 64 KiB with its header: each add flushes and takes the next buffer.
    const frame = new Uint8Array(64 * 1024 - FRAME_HEADER_BYTES);
    for (let batch = 0; batch < 100; batch++) packer.add(1, batch, frame, frame.length);
    expect(packer.buffersAllocated).toBe(101);
    for (const b of inFlight.splice(0)) packer.recycle(b);
    // 40 kept: the next 40 flushes take them, the 41st allocates.
    for (let batch = 0; batch < 40; batch++) packer.add(1, batch, frame, frame.length);
    expect(packer.buffersAllocated).toBe(101);
    packer.add(1, 40, frame, frame.length);
    expect(packer.buffersAllocated).toBe(102);
  });

  it('ignore a detached buffer handed back, and let go of one far larger than batches need', () => {
    const packer = new FramePacker(() => undefined);
    const detached = new ArrayBuffer(1 << 20);
    structuredClone(detached, { transfer: [detached] });
    packer.recycle(detached);
    packer.recycle(new ArrayBuffer(64 << 20));
    const before = packer.buffersAllocated;
    packer.add(1, 1, Uint8Array.from([1]), 1);
    packer.flush();
    expect(packer.buffersAllocated).toBe(before + 1);
  });
});

describe('frame batches without extra copies', () => {
  it('copy a view the caller overwrites right after add: the batch keeps the bytes as they were', () => {
    const out: number[][] = [];
    const packer = new FramePacker((buffer, length) =>
      unpackFrames(buffer, length, (_l, _t, bytes) => out.push([...bytes])),
    );
    // One scratch buffer, like the capture addon's: every "packet" is written over the previous one.
    const scratch = new Uint8Array(64);
    const sent: number[][] = [];
    for (let i = 0; i < 5; i++) {
      const frame = Array.from({ length: 10 + i }, (_, k) => (i * 31 + k) & 0xff);
      scratch.set(frame);
      packer.add(1, i, scratch.subarray(0, frame.length), frame.length);
      scratch.fill(0xee);
      sent.push(frame);
    }
    packer.flush();
    expect(out).toEqual(sent);
  });

  it('hand over the batch buffer itself with its used length, and never write into it again', () => {
    const batches: { buffer: ArrayBuffer; length: number; frames: number }[] = [];
    const packer = new FramePacker((buffer, length, frames) => batches.push({ buffer, length, frames }));
    packer.add(1, 1, Uint8Array.from([1, 2, 3]), 3);
    packer.add(1, 2, Uint8Array.from([4, 5]), 2);
    packer.flush();
    const first = batches[0];
    // Not a slice: the capacity beyond the used length travels along and is ignored by unpackFrames.
    expect(first.buffer.byteLength).toBeGreaterThan(first.length);
    // A reused buffer would be written from offset 0 again.
    const before = new Uint8Array(first.buffer, 0, first.length).slice();
    packer.add(1, 3, Uint8Array.from([9, 9, 9, 9]), 4);
    packer.flush();
    expect(batches[1].buffer).not.toBe(first.buffer);
    expect(new Uint8Array(first.buffer, 0, first.length)).toEqual(before);
    const frames: number[][] = [];
    unpackFrames(first.buffer, first.length, (_l, _t, bytes) => frames.push([...bytes]));
    expect(frames).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
    expect(first.frames).toBe(2);
  });

  it('keep working after the handler transfers (detaches) each batch buffer', () => {
    const received: number[][] = [];
    const packer = new FramePacker((buffer, length) => {
      // What postMessage(..., [buffer]) does: the sender's buffer is detached afterwards.
      const moved = structuredClone(buffer, { transfer: [buffer] });
      expect(buffer.byteLength).toBe(0);
      unpackFrames(moved, length, (_l, _t, bytes) => received.push([...bytes]));
    }, 64);
    for (let i = 0; i < 20; i++) packer.add(1, i, Uint8Array.from([i, i + 1, i + 2, i + 3, i + 4]), 5);
    packer.flush();
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => [i, i + 1, i + 2, i + 3, i + 4]));
  });
});

describe('decoding from views into batches', () => {
  // Every record kept, serialised only after each batch it came from was overwritten: the decoder must have
  // copied whatever it keeps (record bytes, values, reassembly and out-of-order data).
  it.each(['catest.pcap', 'ca_arrays.pcapng', 'example_tcp_data.pcap', 'ca_monitor2.pcapng'])(
    '%s: records equal shark() even when every batch is overwritten right after it was decoded',
    async (name) => {
      const file = new URL(name, FIXTURES);
      const kept: CaRecord[] = [];
      const engine = new Engine({
        describe: () => ({ kind: 'file', file: name }),
        counters: () => ({ received: 0, dropped: 0, ifDropped: 0 }),
        // A keeper of records copies their lent bytes, as the worker does for the records it streams.
        publish: (record) => {
          keepRecordBytes(record);
          kept.push(record);
        },
        hubStats: () => ({ clients: 0, dropped: 0 }),
        logger: pino({ level: 'silent' }),
      });
      // Small batches, so reassembly and early flow bytes span several of them.
      const packer = new FramePacker((buffer, length) => {
        unpackFrames(buffer, length, (linktype, timestamp, bytes, origlen) =>
          engine.frame(linktype, timestamp, bytes, origlen),
        );
        new Uint8Array(buffer).fill(0xa5);
      }, 2048);
      const reader = new CaptureReader({
        frame: (f) => packer.add(f.linktype, f.timestamp, f.data, f.origlen),
        problem: () => undefined,
      });
      reader.push(new Uint8Array(readFileSync(file)));
      reader.end();
      packer.flush();
      engine.end();
      const expected: string[] = [];
      for await (const record of shark(file.pathname, { keepBytes: true })) expected.push(recordToJSON(record));
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.map((r) => recordToJSON(r))).toEqual(expected);
    },
  );
});
