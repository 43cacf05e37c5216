import { describe, expect, it } from 'vitest';
import { shark } from './shark.js';
import type { CaRecord } from './record.js';
import { workedExample } from './test-support/scenario.js';

/** The worked example's bytes as a stream of small chunks that records how far it was read. */
function trackedChunks(
  bytes: Uint8Array,
  size: number,
): { chunks: AsyncGenerator<Uint8Array>; read: () => number; closed: () => boolean } {
  let read = 0;
  let closed = false;
  async function* chunks(): AsyncGenerator<Uint8Array> {
    try {
      for (let o = 0; o < bytes.length; o += size) {
        read++;
        yield bytes.subarray(o, o + size);
      }
    } finally {
      closed = true;
    }
  }
  return { chunks: chunks(), read: () => read, closed: () => closed };
}

async function all(input: Parameters<typeof shark>[0]): Promise<string[]> {
  const names: string[] = [];
  for await (const r of shark(input)) names.push(r.command.name);
  return names;
}

describe('shark() iteration', () => {
  it('reads no input before the first next() and stops reading when the loop breaks', async () => {
    const bytes = workedExample().bytes();
    const src = trackedChunks(bytes, 64);
    const it = shark(src.chunks);
    expect(src.read()).toBe(0);
    for await (const r of it) {
      void r;
      break;
    }
    expect(src.closed()).toBe(true);
    expect(src.read()).toBeLessThan(Math.ceil(bytes.length / 64));
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('serves overlapping next() calls in order, like an async generator', async () => {
    const bytes = workedExample().bytes();
    const expected = await all(bytes);
    const it = shark(trackedChunks(bytes, 37).chunks);
    const results = await Promise.all(Array.from({ length: expected.length + 2 }, () => it.next()));
    expect(results.slice(0, expected.length).map((r) => (r.value as CaRecord).command.name)).toEqual(expected);
    expect(results.slice(expected.length)).toEqual([
      { done: true, value: undefined },
      { done: true, value: undefined },
    ]);
  });

  it('throw() ends the iteration and closes the input', async () => {
    const src = trackedChunks(workedExample().bytes(), 64);
    const it = shark(src.chunks);
    await it.next();
    await expect(it.throw(new Error('stop'))).rejects.toThrow('stop');
    expect(src.closed()).toBe(true);
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });

  it('ends after an input error', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield workedExample().bytes().subarray(0, 100);
      throw new Error('disk on fire');
    }
    const it = shark(broken());
    await expect(it.next()).rejects.toThrow('disk on fire');
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
