import { describe, expect, it } from 'vitest';
import { isUnreadableInput, stopsInput } from './input-errors.js';
import { CaptureReader } from './reader.js';
import { concat, pcapFile, pcapngFile, text } from './test-support/build.js';
import type { PacketProblem } from './types.js';

const LINKTYPE_ETHERNET = 1;
/** Bytes of the section header and interface block {@link ngHead} writes, where its first EPB starts. */
const NG_SHB_LEN = 28;
const NG_IDB_LEN = 20;
/** Offsets in a pcapng block: its type, its leading length. */
const BLOCK_OFF_LEN = 4;
/** Offsets in a section header: the byte-order magic, the major version. */
const SHB_OFF_BYTE_ORDER = 8;
const SHB_OFF_MAJOR = 12;
/** An EPB's captured length, from the block's start. */
const EPB_OFF_CAPLEN = 20;

const packet = new Uint8Array(64);
const records = [1, 2, 3].map((sec) => ({ sec, data: packet }));

/** A pcapng section with one interface and three packets. */
function ngFile(): Uint8Array {
  return pcapngFile([
    {
      interfaces: [{ linktype: LINKTYPE_ETHERNET }],
      blocks: records.map((r) => ({ kind: 'epb' as const, iface: 0, ts: BigInt(r.sec), data: r.data })),
    },
  ]);
}

/** A section header of 24 bytes, its leading and trailing lengths agreeing: 4 below the minimum. */
function shortSectionHeader(): Uint8Array {
  const shb = new Uint8Array(24);
  const dv = new DataView(shb.buffer);
  dv.setUint32(0, 0x0a0d0d0a, true);
  dv.setUint32(BLOCK_OFF_LEN, shb.length, true);
  dv.setUint32(SHB_OFF_BYTE_ORDER, 0x1a2b3c4d, true);
  dv.setUint16(SHB_OFF_MAJOR, 1, true);
  dv.setUint32(shb.length - 4, shb.length, true);
  return shb;
}

/** `bytes` with a 32-bit little-endian value written at `at`. */
function patched(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

/** The problems a reader gives for `head`, and the frames and problems it gives for `tail` pushed after it. */
function afterProblem(
  head: Uint8Array,
  tail: Uint8Array,
): { problems: PacketProblem[]; framesAfter: number; problemsAfter: number } {
  let frames = 0;
  const problems: PacketProblem[] = [];
  const reader = new CaptureReader({ frame: () => frames++, problem: (p) => problems.push(p) });
  reader.push(head);
  const before = { frames, problems: problems.length, finished: reader.finished };
  expect(before.finished).toBe(problems.some(stopsInput));
  reader.push(tail);
  return {
    problems: problems.slice(0, before.problems),
    framesAfter: frames - before.frames,
    problemsAfter: problems.length - before.problems,
  };
}

describe('stopsInput', () => {
  it('is said of every problem after which the reader takes nothing more (a program may stop reading its pipe)', () => {
    const pcap = pcapFile({ linktype: LINKTYPE_ETHERNET, records });
    const ng = ngFile();
    // A record header claiming 0x7fffffff captured bytes.
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(8, 0x7fffffff, true);
    const firstEpb = NG_SHB_LEN + NG_IDB_LEN;
    const heads: [string, Uint8Array][] = [
      ['not-a-capture', text('These are my notes, not a capture.\n')],
      ['unsupported-format', Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0])],
      ['unsupported-format', Uint8Array.from([0xa1, 0xb2, 0xcd, 0x34, 0, 0, 0, 0])],
      ['bad-record-length', concat([pcap, huge])],
      // The section header's own length impossible (session 14's `tcpdump -w - | ca-shark` that waited).
      ['bad-block-length', patched(ng, BLOCK_OFF_LEN, 0x7fffff00)],
      // A packet block's length not a multiple of 4, below the minimum, above the maximum.
      ['bad-block-length', patched(ng, firstEpb + BLOCK_OFF_LEN, 41)],
      ['bad-block-length', patched(ng, firstEpb + BLOCK_OFF_LEN, 8)],
      ['bad-block-length', patched(ng, firstEpb + BLOCK_OFF_LEN, 0x7ffffff0)],
      ['bad-section-header', patched(ng, SHB_OFF_BYTE_ORDER, 0x12345678)],
      ['bad-section-header', concat([shortSectionHeader(), ng])],
      ['unsupported-format', patched(ng, SHB_OFF_MAJOR, 2)],
    ];
    for (const [code, head] of heads) {
      const r = afterProblem(head, concat([pcap, ng]));
      expect({ code, codes: r.problems.map((p) => p.code) }).toEqual({ code, codes: [code] });
      expect(r.problems[0]).toMatchObject({ endsInput: true });
      expect(stopsInput(r.problems[0])).toBe(true);
      expect({ code, framesAfter: r.framesAfter, problemsAfter: r.problemsAfter }).toEqual({
        code,
        framesAfter: 0,
        problemsAfter: 0,
      });
    }
  });

  it('is not said of a problem the reader reads on after, whatever its code', () => {
    const ng = ngFile();
    const firstEpb = NG_SHB_LEN + NG_IDB_LEN;
    const epbLen = 32 + packet.length;
    // The first packet block's trailing length differs; its captured length overruns it.
    const heads: [string, Uint8Array][] = [
      ['bad-block-length', patched(ng, firstEpb + epbLen - 4, epbLen + 4)],
      ['bad-block', patched(ng, firstEpb + EPB_OFF_CAPLEN, 200)],
    ];
    for (const [code, head] of heads) {
      const r = afterProblem(head, new Uint8Array(0));
      expect(r.problems.map((p) => p.code)).toEqual([code]);
      expect(stopsInput(r.problems[0])).toBe(false);
      expect(r.problems[0].endsInput).toBeUndefined();
      // The reader went on to the other packets, and takes the next section.
      const more = afterProblem(head, ng);
      expect(more.framesAfter).toBe(records.length);
    }
  });

  it('is not said of the end of the input (nothing is left to read)', () => {
    const problems: PacketProblem[] = [];
    const reader = new CaptureReader({ frame: () => {}, problem: (p) => problems.push(p) });
    reader.push(ngFile().subarray(0, 40));
    expect(reader.finished).toBe(false);
    reader.end();
    expect(reader.finished).toBe(true);
    expect(problems.map((p) => [p.code, stopsInput(p)])).toEqual([['truncated-file', false]]);
  });

  it('the codes of the stops at a magic, a format or a length make the input unreadable (exit status 2)', () => {
    for (const code of [
      'not-a-capture',
      'unsupported-format',
      'bad-record-length',
      'bad-record-header',
      'bad-block-length',
      'bad-section-header',
    ])
      expect(isUnreadableInput(code)).toBe(true);
  });
});
