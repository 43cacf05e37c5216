import { describe, expect, it } from 'vitest';
import { FramePacker, unpackFrames } from './frame-batch.js';

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
    const packer = new FramePacker((buffer, frames) => {
      batches.push(frames);
      unpackFrames(buffer, (linktype, timestamp, bytes, origlen) =>
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

  it('hands out copies: keeping a frame does not keep or alias the batch', () => {
    let kept: Uint8Array | undefined;
    const packer = new FramePacker((buffer) => {
      unpackFrames(buffer, (_l, _t, bytes) => (kept ??= bytes));
      new Uint8Array(buffer).fill(0);
    });
    packer.add(1, 1, Uint8Array.from([1, 2, 3]), 3);
    packer.flush();
    expect(kept).toEqual(Uint8Array.from([1, 2, 3]));
    expect(kept?.buffer.byteLength).toBe(3);
  });
});
