import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CaRecord, createDecoder } from '@ca-shark/decoder';
import { describe, expect, it } from 'vitest';
import { wireRecordId } from './engine.js';
import { RecordRing, StreamedRecords, keepRecordBytes } from './record-ring.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../packet/fixtures/${name}`, import.meta.url));

describe('RecordRing', () => {
  it('finds items by id, with gaps between ids, and forgets the oldest beyond its count', () => {
    const ring = new RecordRing<string>(() => 1, { maxRecords: 4, maxBytes: 1000 });
    for (const id of [2, 5, 6, 9, 12]) ring.add(id, `r${id}`);
    expect(ring.size).toBe(4);
    expect(ring.get(2)).toBeUndefined();
    expect([5, 6, 9, 12].map((id) => ring.get(id))).toEqual(['r5', 'r6', 'r9', 'r12']);
    expect(ring.get(7)).toBeUndefined();
    expect(ring.get(13)).toBeUndefined();
  });

  it('keeps its estimated bytes within the bound and refuses an item larger than the whole bound', () => {
    const ring = new RecordRing<string>((s) => s.length, { maxRecords: 100, maxBytes: 10 });
    for (let id = 1; id <= 20; id++) {
      ring.add(id, 'abc');
      expect(ring.bytes).toBeLessThanOrEqual(10);
    }
    expect(ring.size).toBe(3);
    expect(ring.get(18)).toBe('abc');
    ring.add(21, 'x'.repeat(11));
    expect(ring.get(21)).toBeUndefined();
    expect(ring.get(20)).toBe('abc');
  });

  it('answers as empty before its first item, and an item refused for its size leaves it so', () => {
    const ring = new RecordRing<string>((s) => s.length, { maxRecords: 3, maxBytes: 5 });
    expect([ring.size, ring.bytes, ring.newestId, ring.get(1)]).toEqual([0, 0, 0, undefined]);
    ring.add(1, 'x'.repeat(6));
    expect([ring.size, ring.newestId, ring.get(1)]).toEqual([0, 0, undefined]);
    for (let id = 2; id <= 5; id++) ring.add(id, 'a');
    expect([ring.size, ring.newestId, ring.get(2), ring.get(5)]).toEqual([3, 5, undefined, 'a']);
  });
});

describe('keepRecordBytes', () => {
  it("gives a record a copy of its bytes lent during onRecord, which outlives the decoder's input", () => {
    const input = new Uint8Array(readFileSync(fixture('ca_monitor2.pcapng')));
    const kept: CaRecord[] = [];
    const sizes: number[] = [];
    const decoder = createDecoder({
      keepBytes: 'lend',
      onRecord: (record) => {
        if (record.size === 0) return;
        keepRecordBytes(record);
        kept.push(record);
        sizes.push(record.size);
      },
    });
    decoder.pushCapture(input);
    decoder.end();
    input.fill(0xa5);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.map((r) => r.raw?.length)).toEqual(sizes);
    // A CA header starts with the command number (big endian): never the overwritten input.
    expect(kept.every((r) => r.raw !== undefined && r.raw[0] !== 0xa5)).toBe(true);
    // Outside onRecord nothing is lent: a record without bytes stays so.
    const none = { raw: undefined } as CaRecord;
    keepRecordBytes(none);
    expect(none.raw).toBeUndefined();
  });
});

describe('StreamedRecords', () => {
  it('keeps records a client was sent long after the other streamed ones are gone', () => {
    const records = new StreamedRecords<string>(() => 1, { maxRecords: 1000, maxBytes: 1e9 });
    for (let id = 1; id <= 10; id++) records.streamed(id, `r${id}`);
    // As the hub reports frames: ids of several clients, in any order, repeated.
    records.markSent([7, 3, 3]);
    records.markSent(Float64Array.of(9));
    for (let id = 11; id <= 100_000; id++) records.streamed(id, `r${id}`);
    expect([3, 7, 9].map((id) => records.get(id))).toEqual(['r3', 'r7', 'r9']);
    expect(records.get(4)).toBeUndefined();
    expect(records.get(100_000)).toBe('r100000');
    // Sent late, behind ids already kept: not kept.
    records.markSent([8]);
    expect(records.get(8)).toBeUndefined();
  });

  it('reads the id back from the live record the worker streams', () => {
    expect(wireRecordId('{"id":1234,"frame":5}')).toBe(1234);
    expect(Number.isNaN(wireRecordId('{"frame":5}'))).toBe(true);
  });
});
