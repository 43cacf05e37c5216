import { describe, expect, it } from 'vitest';
import type { CaRecord } from '@ca-shark/decoder';
import { Batcher, BATCH_RECORDS, BATCH_WIRE_BYTES, workerBatch } from './lines.js';

/** Only `size` matters to the batcher. */
function sized(size: number): CaRecord {
  return { size } as CaRecord;
}

describe('Batcher', () => {
  it('cuts a batch after BATCH_RECORDS records', () => {
    const b = new Batcher();
    expect(b.started).toBe(false);
    const batches = Array.from({ length: 2 * BATCH_RECORDS + 1 }, () => b.next(sized(16)));
    expect(batches[0]).toBe(0);
    expect(batches[BATCH_RECORDS - 1]).toBe(0);
    expect(batches[BATCH_RECORDS]).toBe(1);
    expect(batches[2 * BATCH_RECORDS]).toBe(2);
    expect(b.started).toBe(true);
  });

  it('cuts a batch once its messages reach BATCH_WIRE_BYTES, the big message closing it', () => {
    const b = new Batcher();
    expect(b.next(sized(100))).toBe(0);
    expect(b.next(sized(BATCH_WIRE_BYTES))).toBe(0);
    expect(b.next(sized(100))).toBe(1);
    expect(b.next(sized(100))).toBe(1);
  });

  it('gives the same batches to the same record stream (both threads agree)', () => {
    const sizes = Array.from({ length: 10_000 }, (_, i) => (i % 97 === 0 ? 240_040 : 16 + (i % 50)));
    const run = (): number[] => {
      const b = new Batcher();
      return sizes.map((s) => b.next(sized(s)));
    };
    const first = run();
    expect(run()).toEqual(first);
    expect(new Set(first).size).toBeGreaterThan(4);
  });

  it('alternates the threads', () => {
    expect([0, 1, 2, 3].map(workerBatch)).toEqual([false, true, false, true]);
  });
});
