import { describe, expect, it } from 'vitest';
import {
  MALLOC_THRESHOLD_BLOCK,
  TYPED_THRESHOLD,
  decodeDbr,
  mallocThresholdsWereRaised,
  raiseMallocThresholds,
} from './dbr.js';
import { encodeDbr } from './encode.js';

/** glibc's cap on the dynamic mmap threshold on 64-bit (`DEFAULT_MMAP_THRESHOLD_MAX`, 4 MiB x sizeof(long)). */
const GLIBC_DYNAMIC_THRESHOLD_MAX = 32 * 1024 * 1024;
const DBR_DOUBLE = 6;

describe("glibc's malloc thresholds (a module of its own: the raise is once per process)", () => {
  const n = TYPED_THRESHOLD + 1;
  const waveform = encodeDbr(
    DBR_DOUBLE,
    Array.from({ length: n }, (_, i) => i / 4),
  );

  it('are left alone while large arrays go to lent memory, and raised by the first fresh one', () => {
    let lent = 0;
    const memory = (bytes: number): Uint8Array => {
      lent += 1;
      return new Uint8Array(bytes);
    };
    decodeDbr(DBR_DOUBLE, n, waveform, { arrayMemory: memory });
    expect(lent).toBe(1);
    expect(mallocThresholdsWereRaised()).toBe(false);
    const fresh = decodeDbr(DBR_DOUBLE, n, waveform);
    expect(mallocThresholdsWereRaised()).toBe(true);
    expect((fresh.data as Float64Array)[n - 1]).toBe((n - 1) / 4);
  });

  it('are raised by one untouched block that glibc lets set them (under its 32 MiB cap, above any waveform)', () => {
    const sizes: number[] = [];
    const native = {
      allocUnsafeSlow(size: number): Buffer {
        sizes.push(size);
        return Buffer.alloc(0);
      },
    } as unknown as typeof Buffer;
    raiseMallocThresholds(native);
    expect(sizes).toEqual([MALLOC_THRESHOLD_BLOCK]);
    // The block's chunk (size plus malloc's header) must stay at or under the cap, or freeing it sets nothing.
    expect(MALLOC_THRESHOLD_BLOCK + 4096).toBeLessThanOrEqual(GLIBC_DYNAMIC_THRESHOLD_MAX);
    // Waveforms of up to a million doubles (8 MB) then come from the heap, reused.
    expect(MALLOC_THRESHOLD_BLOCK).toBeGreaterThan(1_000_000 * 8);
  });
});
