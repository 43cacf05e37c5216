import { compileFilter } from '@ca-shark/analysis/filter';
import { describe, expect, it } from 'vitest';
import { MessageIndex } from './message-index.js';

function frames(index: MessageIndex, seq: number): number[] {
  const out: number[] = [];
  index.framesOf(seq, (f) => out.push(f));
  return out;
}

describe('MessageIndex', () => {
  it('keeps messages in order across growth and eviction, with their frames', () => {
    const index = new MessageIndex();
    const n = 10_000;
    for (let i = 0; i < n; i++) {
      index.push(
        1000 + i,
        '10.0.0.1',
        '10.0.0.2',
        i % 2 === 0 ? `pv:${i % 10}` : null,
        'ReadNotifyResponse',
        1,
        i % 100 === 0 ? [i, i + 1, i + 2] : i,
      );
    }
    for (let i = 0; i < 2500; i++) index.shift();
    expect([index.size, index.oldest, index.end]).toEqual([n - 2500, 2500, n]);
    expect(index.time(2500)).toBe(3500);
    expect(frames(index, 2600)).toEqual([2600, 2601, 2602]);
    expect([index.firstFrame(2600), index.lastFrame(2600)]).toEqual([2600, 2602]);
    expect(frames(index, 2601)).toEqual([2601]);
    index.addFrame(2601, 9999);
    expect(frames(index, 2601)).toEqual([2601, 9999]);
    expect(index.lastFrame(2601)).toBe(9999);
  });

  it('keeps every message when it grows while it wraps', () => {
    const index = new MessageIndex();
    let seq = 0;
    const push = (): number => index.push(seq, 'a', 'b', null, 'EchoResponse', -1, seq++);
    // Fill the first capacity (4,096), drop the oldest 1,000, and fill it again: the ring wraps full.
    while (seq < 4096) push();
    for (let i = 0; i < 1000; i++) index.shift();
    while (seq < 5096) push();
    // Then twice over: it doubles (twice) with the wrap in the middle.
    while (seq < 15_000) push();
    expect([index.oldest, index.end]).toEqual([1000, 15_000]);
    for (let s = index.oldest; s < index.end; s++) {
      expect(index.time(s)).toBe(s);
      expect(index.firstFrame(s)).toBe(s);
      expect(index.lastFrame(s)).toBe(s);
    }
  });

  it("keeps first frames far from their slab's first one, and earlier ones, exactly", () => {
    const index = new MessageIndex();
    // Frame numbers past 2^32, one before the slab's first, one more than 2^31 away on either side, and a
    // message of several frames past the far one; across two slabs (8,192 messages each), then some let go.
    const big = 2 ** 33 + 5;
    const firsts: (number | number[])[] = [];
    for (let i = 0; i < 20_000; i++) {
      const k = i % 7;
      firsts.push(
        k === 1
          ? big + i - 3
          : k === 2
            ? big + i + 2 ** 31 + 1
            : k === 3
              ? big - 2 ** 31 - 1
              : k === 4
                ? [big + 2 ** 32, big + 2 ** 32 + 1]
                : big + i,
      );
    }
    firsts.forEach((f, seq) => index.push(seq, 'a', 'b', null, 'EchoResponse', -1, f));
    for (let i = 0; i < 9000; i++) index.shift();
    index.addFrame(9002, big + 2 ** 31 + 2);
    for (let s = index.oldest; s < index.end; s++) {
      const f = firsts[s];
      const all = s === 9002 ? [f as number, big + 2 ** 31 + 2] : typeof f === 'number' ? [f] : f;
      expect(frames(index, s)).toEqual(all);
      expect([index.firstFrame(s), index.lastFrame(s)]).toEqual([all[0], all[all.length - 1]]);
    }
  });

  it('answers the shared filter as the record would', () => {
    const index = new MessageIndex();
    const ok = index.push(1, '10.0.0.1', '10.0.0.9', 'a:b', 'ReadNotifyResponse', 1, 1);
    const failed = index.push(2, '10.0.0.1', '10.0.0.9', 'a:b', 'WriteNotifyResponse', 0x38, 2);
    const none = index.push(3, '10.0.0.3', '10.0.0.9', null, 'NotFoundResponse', -1, 3);
    const errors = compileFilter({ errors: true });
    expect([ok, failed, none].map((s) => index.matches(s, errors))).toEqual([false, true, true]);
    const pv = compileFilter({ pv: ['a:*'], host: ['10.0.0.1'] });
    expect([ok, failed, none].map((s) => index.matches(s, pv))).toEqual([true, true, false]);
    const reads = compileFilter({ command: ['read'] });
    expect([ok, failed, none].map((s) => index.matches(s, reads))).toEqual([true, false, false]);
  });
});
