import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LineWriter } from './output.js';

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  // highWaterMark 1 and a write that completes on a later turn: every write reports back-pressure and is
  // followed by 'drain', as a pipe to a slow reader does.
  const stream = new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      setImmediate(callback);
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

describe('LineWriter', () => {
  it('does not wait for a drain that was emitted before ready() was called', async () => {
    const { stream, text } = sink();
    const out = new LineWriter(stream);
    out.line('first');
    out.flush();
    expect(out.needsDrain).toBe(true);
    // The stream drains before anyone waits (the CLI's flush runs from setImmediate, its wait later).
    await new Promise((resolve) => stream.once('drain', resolve));
    // Before the fix this promise never settled: node then exits 0 with the output cut short.
    await out.ready();
    out.line('second');
    await out.end();
    expect(text()).toBe('first\nsecond\n');
  });

  it('writes lines longer than a block whole and in order, multi-byte text included', async () => {
    const { stream, text } = sink();
    const out = new LineWriter(stream);
    const long = 'é'.repeat(200_000);
    out.line('a');
    out.line(long);
    out.line('b');
    await out.end();
    expect(text()).toBe(`a\n${long}\nb\n`);
  });
});

describe('LineWriter at its end', () => {
  it('leaves no flush scheduled once it has ended or closed', async () => {
    const sink = new Writable({ write: (_chunk, _enc, done) => done() });
    const immediates = () => process.getActiveResourcesInfo().filter((r) => r === 'Immediate').length;
    const before = immediates();
    const ended = new LineWriter(sink);
    ended.line('one');
    await ended.end();
    const closed = new LineWriter(sink);
    closed.line('two');
    closed.close();
    expect(immediates()).toBe(before);
  });
});

describe('LineWriter block reuse', () => {
  it('refills its block only once a synchronous stream has taken the bytes', async () => {
    const chunks: Buffer[] = [];
    // Copies on write and calls back at once, as a file or /dev/null does.
    const syncStream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    const out = new LineWriter(syncStream);
    // About 1 MB: several blocks' worth.
    const lines = Array.from({ length: 10_000 }, (_, i) => `line ${i} ` + 'x'.repeat(i % 200));
    for (const l of lines) out.line(l);
    await out.end();
    expect(chunks.length).toBeGreaterThan(2);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(lines.join('\n') + '\n');
  });

  it('keeps every block a slow stream still holds', async () => {
    const { stream, text } = sink();
    const out = new LineWriter(stream);
    const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ` + 'y'.repeat(i % 200));
    for (const l of lines) out.line(l);
    await out.end();
    expect(text()).toBe(lines.join('\n') + '\n');
  });
});

describe('LineWriter on a pipe to a slower reader', () => {
  it('reuses the blocks the stream has written, never one it still holds', async () => {
    const copies: Buffer[] = [];
    const blocks = new Set<ArrayBufferLike>();
    // Reads each chunk only when it completes the write, a turn later, as a pipe does: a block refilled
    // before its write completed would show here as changed text.
    const stream = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        blocks.add(chunk.buffer);
        setImmediate(() => {
          copies.push(Buffer.from(chunk));
          callback();
        });
      },
    });
    const out = new LineWriter(stream);
    const lines = Array.from({ length: 100_000 }, (_, i) => `line ${i} ` + 'z'.repeat(i % 300));
    for (const l of lines) {
      out.line(l);
      // The CLI waits for back-pressure after each record.
      if (out.needsDrain) await out.ready();
    }
    await out.end();
    expect(Buffer.concat(copies).toString('utf8')).toBe(lines.join('\n') + '\n');
    // About 16 MB went out in 256-512 KiB writes, through a few blocks (before: one new block per write).
    expect(copies.length).toBeGreaterThan(40);
    expect(blocks.size).toBeLessThan(10);
  });
});
