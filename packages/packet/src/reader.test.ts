import { describe, expect, it } from 'vitest';
import { CaptureReader, type CaptureFrame, type CaptureHeader, type CaptureInterface } from './reader.js';
import type { PacketProblem } from './types.js';
import { bytes, concat, pcapFile, pcapngFile, text } from './test-support/build.js';

interface Result {
  frames: CaptureFrame[];
  problems: PacketProblem[];
  header: CaptureHeader | undefined;
  interfaces: CaptureInterface[];
  maxBuffered: number;
}

/**
 * How chunks are pushed: fresh copies; views of one buffer with `stableInput` (as shark() pushes a file
 * chunk in slices); or with `stableInput`, views and copies in turn (held tails continued in place or not).
 */
type ChunkMode = 'copies' | 'stable-slices' | 'stable-mixed' | 'reuse-pending';

/** Read `input` pushed in chunks of `size` bytes (0: all at once). */
function read(input: Uint8Array, size = 0, maxRecordBytes?: number, mode: ChunkMode = 'copies'): Result {
  const r: Result = { frames: [], problems: [], header: undefined, interfaces: [], maxBuffered: 0 };
  const reader = new CaptureReader(
    {
      frame: (f) => r.frames.push({ ...f, data: f.data.slice() }),
      problem: (p) => r.problems.push(p),
      header: (h) => (r.header = h),
      interface: (i) => r.interfaces.push(i),
    },
    {
      maxRecordBytes,
      stableInput: mode === 'stable-slices' || mode === 'stable-mixed',
      reusePending: mode === 'reuse-pending',
    },
  );
  const step = size > 0 ? size : Math.max(1, input.length);
  for (let i = 0, n = 0; i < input.length; i += step, n++) {
    // Copy each chunk (unless testing views) so that views into an earlier chunk cannot alias later input.
    const view = mode === 'stable-slices' || (mode === 'stable-mixed' && n % 2 === 0);
    reader.push(view ? input.subarray(i, i + step) : input.slice(i, i + step));
    r.maxBuffered = Math.max(r.maxBuffered, reader.bufferedBytes);
  }
  reader.end();
  return r;
}

const p1 = bytes(1, 2, 3, 4, 5);
const p2 = text('second frame, longer');
/** An Ethernet pcap of p1 (second 1) and p2 (second 2). */
const twoFramePcap = (): Uint8Array =>
  pcapFile({
    linktype: 1,
    records: [
      { sec: 1, data: p1 },
      { sec: 2, data: p2 },
    ],
  });

describe('classic pcap', () => {
  for (const le of [true, false]) {
    for (const nanos of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nanos ? 'ns' : 'µs'} files`, () => {
        const file = pcapFile({
          le,
          nanos,
          snaplen: 1500,
          linktype: 1,
          records: [
            { sec: 1700000000, frac: nanos ? 123456789 : 123456, data: p1 },
            { sec: 1700000001, frac: nanos ? 5 : 5, data: p2, origlen: 100 },
          ],
        });
        const r = read(file);
        expect(r.problems).toEqual([]);
        expect(r.header).toMatchObject({
          format: 'pcap',
          version: '2.4',
          byteOrder: le ? 'little' : 'big',
          snaplen: 1500,
          timestampPrecision: nanos ? 'ns' : 'us',
          sections: 1,
        });
        expect(r.header?.interfaces[0]).toMatchObject({
          linktype: 1,
          linktypeName: 'ETHERNET',
          tsUnitsPerSecond: nanos ? 1e9 : 1e6,
        });
        expect(r.frames.map((f) => [f.frame, f.linktype, f.caplen, f.origlen, Array.from(f.data)])).toEqual([
          [1, 1, 5, 5, Array.from(p1)],
          [2, 1, p2.length, 100, Array.from(p2)],
        ]);
        expect(r.frames[0].timestamp).toBeCloseTo(nanos ? 1700000000.123456789 : 1700000000.123456, 6);
        expect(r.frames[1].timestamp - 1700000001).toBeCloseTo(nanos ? 5e-9 : 5e-6, 6);
      });
    }
  }

  it('keeps only the link type bits of the link type field', () => {
    const r = read(pcapFile({ linktype: 0x10000000 | 113, records: [{ sec: 1, data: p1 }] }));
    expect(r.frames[0].linktype).toBe(113);
  });

  it('reports a truncated final record with its frame number and keeps the earlier frames', () => {
    const file = twoFramePcap();
    const r = read(file.subarray(0, file.length - 3), 7);
    expect(r.frames).toHaveLength(1);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'truncated-file', frame: 2 });
    expect(r.problems[0].message).toContain(`${16 + p2.length - 3} of ${16 + p2.length} bytes`);
  });

  it('reports a file that ends inside the record header', () => {
    const file = twoFramePcap();
    const r = read(file.subarray(0, 24 + 16 + 5 + 6));
    expect(r.frames).toHaveLength(1);
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([['truncated-file', 2]]);
  });

  it('reports a file that ends inside the global header', () => {
    const r = read(pcapFile({ linktype: 1, records: [] }).subarray(0, 10));
    expect(r.problems.map((p) => p.code)).toEqual(['truncated-file']);
  });

  it('stops at a record length that cannot be real', () => {
    const file = twoFramePcap();
    new DataView(file.buffer).setUint32(24 + 16 + 5 + 8, 0x7fffffff, true);
    const r = read(file);
    expect(r.frames).toHaveLength(1);
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([['bad-record-length', 2]]);
  });

  it('flags a record that keeps more bytes than its packet had, and reads on', () => {
    const file = twoFramePcap();
    // The original length damaged below the captured one (the decoder's fuzz seed 20328761 grew the
    // captured length instead: a frame that swallowed the records after it without a word).
    new DataView(file.buffer).setUint32(24 + 12, p1.length - 1, true);
    const r = read(file);
    expect(r.frames).toHaveLength(2);
    expect(r.problems.map((p) => [p.code, p.frame, p.endsInput])).toEqual([['bad-record-length', 1, undefined]]);
    expect(r.problems[0].message).toBe(
      `frame 1: record claims ${p1.length} captured bytes of a ${p1.length - 1}-byte packet; its header is damaged`,
    );
  });

  it.each([
    ['microseconds', false, 1_000_000],
    ['nanoseconds', true, 1_000_000_000],
  ])('flags a record whose timestamp has more than a second of %s, and reads on', (unit, nanos, second) => {
    const file = pcapFile({
      linktype: 1,
      nanos,
      records: [
        { sec: 1, frac: second, data: p1 },
        { sec: 2, frac: second + 1, data: p2 },
      ],
    });
    const r = read(file);
    expect(r.frames).toHaveLength(2);
    // Exactly a second is a writer's rounding slip, not damage.
    expect(r.problems.map((p) => [p.code, p.frame, p.endsInput])).toEqual([['bad-record-header', 2, undefined]]);
    expect(r.problems[0].message).toBe(
      `frame 2: record's timestamp has ${second + 1} ${unit} past its second; its header is damaged`,
    );
  });

  it('flags input that is not a capture, and names compressed and modified-pcap input', () => {
    expect(read(text('GET / HTTP/1.1\r\n')).problems.map((p) => p.code)).toEqual(['not-a-capture']);
    expect(read(new Uint8Array(0)).problems.map((p) => p.code)).toEqual(['not-a-capture']);
    expect(read(bytes(0xd4, 0xc3)).problems.map((p) => p.code)).toEqual(['not-a-capture']);
    const gz = read(bytes(0x1f, 0x8b, 8, 0, 0, 0, 0, 0));
    expect(gz.problems.map((p) => p.code)).toEqual(['unsupported-format']);
    expect(gz.problems[0].message).toMatch(/gzip/);
    const modified = read(bytes(0xa1, 0xb2, 0xcd, 0x34, ...new Array(20).fill(0)));
    expect(modified.problems.map((p) => p.code)).toEqual(['unsupported-format']);
  });
});

const EPB_TS = 1700000000_000000n; // µs

describe('pcapng', () => {
  for (const le of [true, false]) {
    it(`reads ${le ? 'little' : 'big'}-endian sections with EPB, SPB, obsolete PB and unknown blocks`, () => {
      const file = pcapngFile([
        {
          le,
          interfaces: [
            { linktype: 1, snaplen: 4, name: 'eth0' },
            { linktype: 113, tsresol: 9 },
          ],
          blocks: [
            { kind: 'epb', iface: 0, ts: EPB_TS + 250000n, data: p1.subarray(0, 4), origlen: 5 },
            { kind: 'raw', type: 0x0bad, body: bytes(1, 2, 3, 4, 5, 6, 7, 8) },
            { kind: 'raw', type: 5, body: new Uint8Array(16) }, // interface statistics
            { kind: 'epb', iface: 1, ts: 1700000000_123456789n, data: p2 },
            { kind: 'spb', data: p1, origlen: 5 },
            { kind: 'pb', iface: 1, ts: 1700000002_000000000n, data: p1 },
          ],
        },
      ]);
      const r = read(file);
      expect(r.problems).toEqual([]);
      expect(r.header).toMatchObject({
        format: 'pcapng',
        version: '1.0',
        byteOrder: le ? 'little' : 'big',
        snaplen: 4,
        sections: 1,
      });
      expect(r.interfaces.map((i) => [i.id, i.linktype, i.linktypeName, i.tsUnitsPerSecond, i.name])).toEqual([
        [0, 1, 'ETHERNET', 1e6, 'eth0'],
        [1, 113, 'LINUX_SLL', 1e9, undefined],
      ]);
      expect(r.frames.map((f) => [f.frame, f.interfaceId, f.linktype, f.caplen, f.origlen, f.data.length])).toEqual([
        [1, 0, 1, 4, 5, 4],
        [2, 1, 113, p2.length, p2.length, p2.length],
        // The SPB is cut to interface 0's snaplen of 4.
        [3, 0, 1, 4, 5, 4],
        [4, 1, 113, 5, 5, 5],
      ]);
      expect(r.frames[0].timestamp).toBeCloseTo(1700000000.25, 6);
      expect(r.frames[1].timestamp).toBeCloseTo(1700000000.123456789, 6);
      expect(r.frames[3].timestamp).toBeCloseTo(1700000002, 6);
      // A simple packet block has no timestamp of its own.
      expect(r.frames[2].timestamp).toBe(r.frames[1].timestamp);
      expect(Array.from(r.frames[1].data)).toEqual(Array.from(p2));
    });
  }

  it('reports a block of unknown type (a damaged EPB type field) instead of losing its packet silently', () => {
    const file = pcapngFile([
      {
        interfaces: [{ linktype: 1 }],
        blocks: [
          { kind: 'epb', iface: 0, ts: EPB_TS, data: p1 },
          { kind: 'raw', type: 0x80000006, body: new Uint8Array(24) },
          { kind: 'epb', iface: 0, ts: EPB_TS, data: p2 },
        ],
      },
    ]);
    const r = read(file);
    expect(r.frames.map((f) => f.frame)).toEqual([1, 2]);
    expect(r.problems.map((p) => [p.code, p.frame, p.message])).toEqual([
      ['unknown-block', 2, 'pcapng block of unknown type 0x80000006 (36 bytes) after frame 1 skipped'],
    ]);
  });

  it('applies power-of-two resolutions and if_tsoffset', () => {
    const file = pcapngFile([
      {
        interfaces: [{ linktype: 101, tsresol: 0x80 | 20, tsoffset: 1000n }],
        blocks: [{ kind: 'epb', iface: 0, ts: (5n << 20n) + (1n << 19n), data: p1 }],
      },
    ]);
    const r = read(file);
    expect(r.frames[0].timestamp).toBe(1005.5);
    expect(r.header?.timestampPrecision).toBe('2^-20');
  });

  it('starts over with interfaces and byte order at each section', () => {
    const file = pcapngFile([
      { le: true, interfaces: [{ linktype: 1 }], blocks: [{ kind: 'epb', iface: 0, ts: 1n, data: p1 }] },
      {
        le: false,
        interfaces: [{ linktype: 276 }, { linktype: 0 }],
        blocks: [
          { kind: 'epb', iface: 1, ts: 2n, data: p2 },
          { kind: 'epb', iface: 0, ts: 3n, data: p1 },
        ],
      },
      { le: true, interfaces: [], blocks: [{ kind: 'epb', iface: 0, ts: 4n, data: p1 }] },
    ]);
    const r = read(file, 13);
    expect(r.frames.map((f) => [f.frame, f.section, f.interfaceId, f.linktype])).toEqual([
      [1, 0, 0, 1],
      [2, 1, 1, 0],
      [3, 1, 0, 276],
    ]);
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([['bad-interface', 4]]);
    expect(r.header?.sections).toBe(3);
    expect(r.header?.byteOrder).toBe('little');
    expect(r.header?.interfaces.map((i) => [i.section, i.id, i.linktype])).toEqual([
      [0, 0, 1],
      [1, 0, 276],
      [1, 1, 0],
    ]);
  });

  it('IDBs that arrive between packets are picked up', () => {
    const file = pcapngFile([
      {
        interfaces: [{ linktype: 1 }],
        blocks: [
          { kind: 'epb', iface: 0, ts: 1n, data: p1 },
          { kind: 'idb', iface: { linktype: 113 } },
          { kind: 'epb', iface: 1, ts: 2n, data: p1 },
        ],
      },
    ]);
    expect(read(file).frames.map((f) => f.linktype)).toEqual([1, 113]);
  });

  it('bounds the interfaces of a section and says so once', () => {
    const many = Array.from({ length: 65538 }, () => ({ linktype: 1 }));
    const r = read(
      pcapngFile([
        {
          interfaces: many,
          blocks: [
            { kind: 'epb', iface: 65535, ts: 1n, data: p1 },
            { kind: 'epb', iface: 65536, ts: 1n, data: p1 },
          ],
        },
      ]),
    );
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([
      ['bad-block', 1],
      ['bad-interface', 2],
    ]);
    expect(r.frames).toHaveLength(1);
    expect(r.header?.interfaces).toHaveLength(1024);
  });

  it('flags a block whose trailing length disagrees and goes on', () => {
    const file = pcapngFile([
      {
        interfaces: [{ linktype: 1 }],
        blocks: [
          { kind: 'epb', iface: 0, ts: 1n, data: p1 },
          { kind: 'epb', iface: 0, ts: 2n, data: p2 },
        ],
      },
    ]);
    const shbLen = 28;
    const idbLen = 20;
    const epb1 = 32 + 8;
    new DataView(file.buffer).setUint32(shbLen + idbLen + epb1 - 4, 44, true);
    const r = read(file);
    expect(r.frames).toHaveLength(2);
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([['bad-block-length', 1]]);
  });

  it('stops at a block length that is not a multiple of 4, or too small, or too large', () => {
    for (const bad of [41, 8, 0x7ffffff0]) {
      const file = pcapngFile([
        {
          interfaces: [{ linktype: 1 }],
          blocks: [
            { kind: 'epb', iface: 0, ts: 1n, data: p1 },
            { kind: 'epb', iface: 0, ts: 2n, data: p2 },
          ],
        },
      ]);
      new DataView(file.buffer).setUint32(28 + 20 + 40 + 4, bad, true);
      const r = read(file, 0, 1 << 20);
      expect(r.frames).toHaveLength(1);
      expect(r.problems.map((p) => p.code)).toEqual(['bad-block-length']);
    }
  });

  it('flags an EPB whose captured length overruns its block', () => {
    const file = pcapngFile([{ interfaces: [{ linktype: 1 }], blocks: [{ kind: 'epb', iface: 0, ts: 1n, data: p1 }] }]);
    new DataView(file.buffer).setUint32(28 + 20 + 20, 200, true);
    const r = read(file);
    expect(r.frames).toHaveLength(0);
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([['bad-block', 1]]);
  });

  it('reports a truncated final block', () => {
    const file = pcapngFile([
      {
        interfaces: [{ linktype: 1 }],
        blocks: [
          { kind: 'epb', iface: 0, ts: 1n, data: p1 },
          { kind: 'epb', iface: 0, ts: 1n, data: p2 },
        ],
      },
    ]);
    const r = read(file.subarray(0, file.length - 1), 5);
    expect(r.frames).toHaveLength(1);
    expect(r.problems.map((p) => [p.code, p.frame])).toEqual([['truncated-file', 2]]);
  });

  it('rejects a section header with a bad byte-order magic or version', () => {
    const file = pcapngFile([{ interfaces: [{ linktype: 1 }], blocks: [] }]);
    const badMagic = file.slice();
    new DataView(badMagic.buffer).setUint32(8, 0x12345678, true);
    expect(read(badMagic).problems.map((p) => p.code)).toEqual(['bad-section-header']);
    const badVersion = file.slice();
    new DataView(badVersion.buffer).setUint16(12, 2, true);
    expect(read(badVersion).problems.map((p) => p.code)).toEqual(['unsupported-format']);
  });
});

describe('streaming', () => {
  const files: Array<[string, Uint8Array]> = [
    [
      'pcap',
      pcapFile({
        le: false,
        nanos: true,
        linktype: 1,
        records: [
          { sec: 1, data: p1 },
          { sec: 2, data: p2 },
          { sec: 3, data: new Uint8Array(0) },
        ],
      }),
    ],
    [
      'pcapng',
      pcapngFile([
        {
          le: false,
          interfaces: [{ linktype: 1, tsresol: 9 }],
          blocks: [
            { kind: 'epb', iface: 0, ts: 5n, data: p2 },
            { kind: 'spb', data: p1 },
          ],
        },
        { interfaces: [{ linktype: 113 }], blocks: [{ kind: 'pb', iface: 0, ts: 7n, data: p1 }] },
      ]),
    ],
  ];
  for (const [name, file] of files) {
    it(`${name}: every chunk size gives the same frames`, () => {
      const whole = read(file);
      expect(whole.problems).toEqual([]);
      for (let size = 1; size <= file.length; size++) {
        const r = read(file, size);
        expect(r.problems).toEqual([]);
        expect(r.frames).toEqual(whole.frames);
      }
    });

    it(`${name}: with stableInput, slices of one buffer (and slices mixed with copies) give the same frames`, () => {
      const whole = read(file);
      for (const mode of ['stable-slices', 'stable-mixed'] as const) {
        for (let size = 1; size <= file.length; size++) {
          const r = read(file, size, undefined, mode);
          expect(r.problems).toEqual([]);
          expect(r.frames).toEqual(whole.frames);
        }
      }
    });

    it(`${name}: with reusePending (a handler that copies), every chunk size gives the same frames`, () => {
      const whole = read(file);
      for (let size = 1; size <= file.length; size++) {
        const r = read(file, size, undefined, 'reuse-pending');
        expect(r.problems).toEqual([]);
        expect(r.frames).toEqual(whole.frames);
      }
    });

    it(`${name}: the raw sink sees the same frames as frame objects, for every chunk size`, () => {
      const whole = read(file);
      for (let size = 1; size <= file.length; size += 7) {
        const frames: CaptureFrame[] = [];
        const reader = new CaptureReader(
          { frame: () => expect.fail('raw sink bypassed'), problem: (p) => expect.fail(p.message) },
          {},
          {
            rawFrame: (frame, section, interfaceId, linktype, timestamp, caplen, origlen, buf, start) =>
              frames.push({
                type: 'frame',
                frame,
                section,
                interfaceId,
                linktype,
                timestamp,
                caplen,
                origlen,
                data: buf.slice(start, start + caplen),
              }),
          },
        );
        for (let i = 0; i < file.length; i += size) reader.push(file.slice(i, i + size));
        reader.end();
        expect(frames).toEqual(whole.frames);
      }
    });

    it(`${name}: every two-way split gives the same frames`, () => {
      const whole = read(file);
      for (let cut = 0; cut <= file.length; cut++) {
        const frames: CaptureFrame[] = [];
        const reader = new CaptureReader({
          frame: (f) => frames.push({ ...f, data: f.data.slice() }),
          problem: (p) => expect.fail(p.message),
        });
        reader.push(file.slice(0, cut));
        reader.push(file.slice(cut));
        reader.end();
        expect(frames).toEqual(whole.frames);
      }
    });
  }

  it('hands a frame out as soon as its last byte arrives', () => {
    const file = twoFramePcap();
    const seen: number[] = [];
    const reader = new CaptureReader({ frame: (f) => seen.push(f.frame), problem: () => {} });
    const firstEnd = 24 + 16 + p1.length;
    reader.push(file.subarray(0, firstEnd - 1));
    expect(seen).toEqual([]);
    reader.push(file.subarray(firstEnd - 1, firstEnd));
    expect(seen).toEqual([1]);
    reader.push(file.subarray(firstEnd));
    expect(seen).toEqual([1, 2]);
  });

  it('holds back at most one record', () => {
    const records = Array.from({ length: 200 }, (_, i) => ({ sec: i, data: new Uint8Array(100 + (i % 7) * 50) }));
    const file = pcapFile({ linktype: 1, records });
    for (const size of [1, 33, 1000, 4096]) {
      const r = read(file, size);
      expect(r.frames).toHaveLength(200);
      expect(r.maxBuffered).toBeLessThanOrEqual(16 + 400);
    }
  });

  it('with reusePending, assembles the records cut by a chunk end in one buffer, grown to the largest', () => {
    const records = Array.from({ length: 200 }, (_, i) => ({
      sec: i,
      data: new Uint8Array(100 + (i % 7) * 50).fill(i),
    }));
    const file = pcapFile({ linktype: 1, records });
    for (const reusePending of [false, true]) {
      const assembled = new Set<ArrayBufferLike>();
      let cut = 0;
      let chunk = new Uint8Array(0);
      const frames: CaptureFrame[] = [];
      const reader = new CaptureReader(
        {
          frame: (f) => {
            frames.push({ ...f, data: f.data.slice() });
            if (f.data.buffer !== chunk.buffer) {
              cut += 1;
              assembled.add(f.data.buffer);
            }
          },
          problem: (p) => expect.fail(p.message),
        },
        { reusePending },
      );
      for (let i = 0; i < file.length; i += 333) {
        chunk = file.slice(i, i + 333);
        reader.push(chunk);
      }
      reader.end();
      expect(frames.map((f) => f.data[0])).toEqual(records.map((_, i) => i));
      expect(cut).toBeGreaterThan(100);
      // Without the option each cut record gets a new buffer; with it, one buffer is replaced only when a
      // larger record than any before is cut (record sizes 100 to 400 bytes here).
      if (reusePending) expect(assembled.size).toBeLessThanOrEqual(7);
      else expect(assembled.size).toBe(cut);
    }
  });

  it('frames keep their bytes after later chunks are pushed', () => {
    const file = pcapFile({
      linktype: 1,
      records: [
        { sec: 1, data: p2 },
        { sec: 2, data: p1 },
      ],
    });
    const frames: CaptureFrame[] = [];
    const reader = new CaptureReader({ frame: (f) => frames.push(f), problem: () => {} });
    for (let i = 0; i < file.length; i += 3) reader.push(file.slice(i, i + 3));
    expect(Array.from(frames[0].data)).toEqual(Array.from(p2));
    expect(Array.from(frames[1].data)).toEqual(Array.from(p1));
  });

  it('ignores input after a fatal problem', () => {
    const r = read(concat([text('nonsense!'), pcapFile({ linktype: 1, records: [{ sec: 1, data: p1 }] })]), 4);
    expect(r.frames).toEqual([]);
    expect(r.problems.map((p) => p.code)).toEqual(['not-a-capture']);
  });
});
