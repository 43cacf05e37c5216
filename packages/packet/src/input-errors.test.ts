import { describe, expect, it } from 'vitest';
import { INPUT_STOPPING_CODES, isUnreadableInput } from './input-errors.js';
import { CaptureReader } from './reader.js';
import { concat, pcapFile, text } from './test-support/build.js';

const LINKTYPE_ETHERNET = 1;

/** The frames and problem codes a reader gives for `head`, then for a valid capture pushed after it. */
function afterProblem(head: Uint8Array): { codes: string[]; framesAfter: number; codesAfter: string[] } {
  let frames = 0;
  const codes: string[] = [];
  const reader = new CaptureReader({ frame: () => frames++, problem: (p) => codes.push(p.code) });
  reader.push(head);
  const before = { frames, codes: codes.length };
  const records = [1, 2, 3].map((sec) => ({ sec, data: new Uint8Array(64) }));
  reader.push(pcapFile({ linktype: LINKTYPE_ETHERNET, records }));
  reader.end();
  return {
    codes: codes.slice(0, before.codes),
    framesAfter: frames - before.frames,
    codesAfter: codes.slice(before.codes),
  };
}

describe('INPUT_STOPPING_CODES', () => {
  it('are problems after which the reader takes nothing more (so a program may stop reading its pipe)', () => {
    const oneRecord = pcapFile({ linktype: LINKTYPE_ETHERNET, records: [{ sec: 1, data: new Uint8Array(64) }] });
    // A record header claiming 0x7fffffff captured bytes.
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setUint32(8, 0x7fffffff, true);
    const heads: Record<string, Uint8Array> = {
      'not-a-capture': text('These are my notes, not a capture.\n'),
      'unsupported-format': Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]),
      'bad-record-length': concat([oneRecord, huge]),
    };
    expect(Object.keys(heads).sort()).toEqual([...INPUT_STOPPING_CODES].sort());
    for (const [code, head] of Object.entries(heads)) {
      expect({ code, ...afterProblem(head) }).toEqual({ code, codes: [code], framesAfter: 0, codesAfter: [] });
      expect(isUnreadableInput(code)).toBe(true);
    }
  });
});
