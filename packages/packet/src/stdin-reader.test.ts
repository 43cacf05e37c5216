import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCapture } from './input.js';
import { DescriptorChunks, DescriptorReader, examineDescriptor } from './stdin-reader.js';
import { pcapFile, type PcapRecord } from './test-support/build.js';

const LINKTYPE_ETHERNET = 1;

let dir: string;
let capture: string;
let expected: Uint8Array[];

/** Frames of many sizes, each filled from its own number, so a frame with a later read's bytes shows. */
function frames(total: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let bytes = 0;
  for (let i = 0; bytes < total; i++) {
    const data = new Uint8Array(60 + ((i * 977) % 3000));
    for (let j = 0; j < data.length; j++) data[j] = (i * 31 + j) & 0xff;
    out.push(data);
    bytes += data.length + 16;
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-shark-stdin-reader-'));
  capture = join(dir, 'frames.pcap');
  // Several reads' worth: a pipe gives at most 64 KiB a read, a file 1 MiB.
  expected = frames(3 * 1024 * 1024);
  const records: PcapRecord[] = expected.map((data, i) => ({ sec: i, data }));
  writeFileSync(capture, pcapFile({ linktype: LINKTYPE_ETHERNET, records }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A FIFO with `command` (given the FIFO's path as $1) writing into it. The writer is started first: the
 * read end's open waits for it, so no read sees a FIFO that no writer has opened yet (which reads as its end).
 */
function fifo(name: string, command: string): { fd: number; writer: ChildProcess } {
  const path = join(dir, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const writer = spawn('sh', ['-c', command, 'sh', path], { stdio: 'ignore' });
  return { fd: openSync(path, 'r'), writer };
}

/** Every frame read from `chunks`, compared while its view is valid with the frame the file holds: the numbers of the wrong ones. */
async function wrongFrames(chunks: DescriptorChunks): Promise<{ count: number; wrong: number[] }> {
  let count = 0;
  const wrong: number[] = [];
  for await (const item of readCapture(chunks)) {
    if (item.type !== 'frame') continue;
    const want = expected[count];
    if (want === undefined || Buffer.compare(item.data, want) !== 0) wrong.push(count + 1);
    count++;
  }
  return { count, wrong };
}

describe('examineDescriptor', () => {
  it('tells a pipe, a regular file (with its size), a directory and a device apart', () => {
    const { fd, writer } = fifo('kinds', 'exec sleep 30 > "$1"');
    expect(examineDescriptor(fd)).toEqual({ kind: 'pipe', size: -1 });
    closeSync(fd);
    writer.kill();
    const file = openSync(capture, 'r');
    expect(examineDescriptor(file).kind).toBe('file');
    expect(examineDescriptor(file).size).toBeGreaterThan(3 * 1024 * 1024);
    closeSync(file);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const directory = openSync(sub, 'r');
    expect(examineDescriptor(directory)).toEqual({ kind: 'directory', size: -1 });
    closeSync(directory);
    const devNull = openSync('/dev/null', 'r');
    expect(examineDescriptor(devNull)).toEqual({ kind: 'other', size: -1 });
    closeSync(devNull);
  });

  it('takes a closed descriptor for one process.stdin reads', () => {
    const fd = openSync(capture, 'r');
    closeSync(fd);
    expect(examineDescriptor(fd)).toEqual({ kind: 'other', size: -1 });
  });
});

describe('DescriptorChunks', () => {
  it('hands out every frame as the file holds it, records straddling odd-sized pipe reads', async () => {
    // dd writes 4093-byte pieces: reads end at odd places, mid-header and mid-record, and the capture
    // reader holds each record cut by a read across the next read into the same buffer.
    const { fd, writer } = fifo('odd', `exec dd if="${capture}" of="$1" bs=4093`);
    const chunks = new DescriptorChunks(fd, 'pipe');
    expect(await wrongFrames(chunks)).toEqual({ count: expected.length, wrong: [] });
    // The pipe's socket closed the descriptor at its end.
    writer.kill();
  });

  it('hands out every frame of a regular file, read from its descriptor in small reads', async () => {
    const fd = openSync(capture, 'r');
    const chunks = new DescriptorChunks(fd, 'file', 4093);
    expect(await wrongFrames(chunks)).toEqual({ count: expected.length, wrong: [] });
    expect(chunks.bytesRead).toBe(expected.reduce((n, f) => n + f.length + 16, 24));
    closeSync(fd);
  });

  it('reads no further than the chunk the consumer holds: the writer of the pipe waits', async () => {
    const { fd, writer } = fifo('held', `exec cat "${capture}" > "$1"`);
    const exited = new Promise<void>((resolve) => writer.once('exit', () => resolve()));
    const chunks = new DescriptorChunks(fd, 'pipe');
    const first = await chunks.next();
    expect(first.done).toBe(false);
    // Turns of the event loop while the consumer holds the first chunk: nothing more is read, so `cat`,
    // with 3 MiB for a pipe of 64 KiB, cannot be done.
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(writer.exitCode).toBe(null);
    expect(chunks.bytesRead).toBe(first.value?.length);
    // Once asked for the rest, all of it comes.
    let rest = 0;
    for await (const chunk of chunks) rest += chunk.length;
    expect(chunks.bytesRead).toBe((first.value?.length ?? 0) + rest);
    expect(chunks.bytesRead).toBe(expected.reduce((n, f) => n + f.length + 16, 24));
    await exited;
  });

  it('stops at once on an idle pipe when the consumer ends the iteration', async () => {
    const { fd, writer } = fifo('idle', 'exec sleep 30 > "$1"');
    const chunks = new DescriptorChunks(fd, 'pipe');
    const pending = chunks.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await chunks.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await chunks.next()).toEqual({ done: true, value: undefined });
    closeSync(fd);
    writer.kill();
  });

  it('rejects with the error of a failed read (a descriptor open for writing only)', async () => {
    const fd = openSync(join(dir, 'write-only'), 'w');
    const chunks = new DescriptorChunks(fd, 'file');
    await expect(chunks.next()).rejects.toMatchObject({ code: 'EBADF' });
    expect(await chunks.next()).toEqual({ done: true, value: undefined });
    closeSync(fd);
  });

  it('ends an empty pipe and an empty file without a chunk', async () => {
    const { fd, writer } = fifo('empty', 'exec true > "$1"');
    expect(await new DescriptorChunks(fd, 'pipe').next()).toEqual({ done: true, value: undefined });
    writer.kill();
    const empty = join(dir, 'empty-file');
    writeFileSync(empty, '');
    const file = openSync(empty, 'r');
    expect(await new DescriptorChunks(file, 'file').next()).toEqual({ done: true, value: undefined });
    closeSync(file);
  });
});

describe('DescriptorReader', () => {
  it('waits for the promise data() returns before the next read, and ends once', async () => {
    const { fd, writer } = fifo('paced', `exec dd if="${capture}" of="$1" bs=65536`);
    let total = 0;
    let busy = false;
    let overlapping = 0;
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      const reader = new DescriptorReader(fd, 'pipe', {
        data: (bytes) => {
          if (busy) overlapping++;
          total += bytes.length;
          busy = true;
          return new Promise<void>((done) =>
            setTimeout(() => {
              busy = false;
              done();
            }, 1),
          );
        },
        end: () => {
          events.push('end');
          resolve();
        },
        error: (err) => events.push(`error ${err.message}`),
      });
      reader.start();
    });
    expect({ total, overlapping, events }).toEqual({
      total: expected.reduce((n, f) => n + f.length + 16, 24),
      overlapping: 0,
      events: ['end'],
    });
    writer.kill();
  });
});
