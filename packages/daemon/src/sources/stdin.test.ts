import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  createReadStream,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureReader } from '@ca-shark/packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBulkCapture } from '../test-support/bulk-capture.js';
import { runDaemonShell, spawnDaemonReading } from '../test-support/programs.js';
import { Readable } from 'node:stream';
import { SpoolFile, frameCheck } from '../frame-file.js';
import { Spool, type SpoolShare, type SpoolWrite } from './spool.js';
import { DescriptorSource, StreamSource } from './stdin.js';
import type { Source, SourceSink } from './types.js';

/** Bytes of a pcap record header, and where its captured length is. */
const PCAP_RECORD_HEADER_LEN = 16;
const PCAP_RECORD_OFF_CAPLEN = 8;
/** Bytes of a pcap file's header. */
const PCAP_HEADER_LEN = 24;

/** What a source tells its sink until it ends: `error CODE` (or the message, for an error without a code), then `end`. */
function untilEnd(source: Source): Promise<string[]> {
  const events: string[] = [];
  return new Promise((resolve) => {
    const sink: SourceSink = {
      frame: () => undefined,
      problem: () => undefined,
      end: () => {
        events.push('end');
        resolve(events);
      },
      error: (err) => events.push(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`),
    };
    void source.start(sink);
  });
}

let dir: string;
let capture: string;
let frames: number;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-stdin-'));
  capture = join(dir, 'bulk.pcap');
  // Several reads' worth (a pipe gives at most 64 KiB a read), so the source pauses and resumes many times.
  frames = writeBulkCapture(capture, 3 * 1024 * 1024).frames;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A sink that is "behind" after every other chunk (its `waitForRoom` resolves on the next turn), and checks
 * that no frame arrives while it said it had no room.
 */
function pausingSink(): { sink: SourceSink; ended: Promise<number>; whilePaused: () => number } {
  let count = 0;
  let paused = false;
  let framesWhilePaused = 0;
  let calls = 0;
  let done!: (n: number) => void;
  const ended = new Promise<number>((resolve) => (done = resolve));
  const sink: SourceSink = {
    frame: () => {
      count++;
      if (paused) framesWhilePaused++;
    },
    problem: () => undefined,
    end: () => done(count),
    error: (err) => {
      throw err;
    },
    waitForRoom: () => {
      if (++calls % 2 === 0) return undefined;
      paused = true;
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          paused = false;
          resolve();
        }, 1),
      );
    },
  };
  return { sink, ended, whilePaused: () => framesWhilePaused };
}

/**
 * A FIFO with `cat FILE` writing into it (or, without a file, `sleep` holding it open and writing nothing:
 * an idle pipe). The writer is started first: the read end's open waits for it, so no read sees a FIFO
 * that no writer has opened yet (which reads as its end).
 */
function fifoFrom(file: string | undefined, name: string): { fd: number; writer: ChildProcess } {
  const path = join(dir, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const writer =
    file !== undefined
      ? spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', file, path], { stdio: 'ignore' })
      : spawn('sh', ['-c', 'exec sleep 30 > "$1"', 'sh', path], { stdio: 'ignore' });
  const fd = openSync(path, 'r');
  return { fd, writer };
}

/**
 * A FIFO with `cat FILE` writing into it, then its writer holding it open for longer than a test may run
 * (`tcpdump -w - | ca-sharkd --stdin` of a capture that is corrupt half-way).
 */
function fifoHeldOpen(file: string, name: string): { fd: number; writer: ChildProcess } {
  const path = join(dir, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  const writer = spawn('sh', ['-c', 'exec > "$2"; cat "$1"; exec sleep 600', 'sh', file, path], { stdio: 'ignore' });
  return { fd: openSync(path, 'r'), writer };
}

/**
 * The bulk capture, then a pcap record header claiming 0x7fffffff captured bytes (more than any capture
 * has): the reader stops there.
 */
function corruptCapture(): string {
  const huge = new Uint8Array(PCAP_RECORD_HEADER_LEN);
  new DataView(huge.buffer).setUint32(PCAP_RECORD_OFF_CAPLEN, 0x7fffffff, true);
  const path = join(dir, 'corrupt.pcap');
  writeFileSync(path, Buffer.concat([readFileSync(capture), huge]));
  return path;
}

/** The bulk capture's header and its records that fit in `maxBytes`, as a capture of its own. */
function captureHead(maxBytes: number, name: string): string {
  const bytes = readFileSync(capture);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = PCAP_HEADER_LEN;
  for (;;) {
    const next = end + PCAP_RECORD_HEADER_LEN + view.getUint32(end + PCAP_RECORD_OFF_CAPLEN, true);
    if (next > maxBytes) break;
    end = next;
  }
  const path = join(dir, name);
  writeFileSync(path, bytes.subarray(0, end));
  return path;
}

/** The capture's frames as one read of the whole file gives them (copies). */
function framesOf(file: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const reader = new CaptureReader({ frame: (f) => out.push(f.data.slice()), problem: () => undefined });
  reader.push(readFileSync(file));
  reader.end();
  return out;
}

/**
 * A zero-copy sink (`frameView`, as the engine's) that checks every frame while its view is valid
 * (`isRight(bytes, place, n)`, n counting from 1) and pauses the source after every chunk: the one reused
 * read buffer must never show a frame bytes of a later read (a record held across reads must be the
 * reader's own copy).
 */
function checkingSinkOf(isRight: (bytes: Uint8Array, place: number | undefined, n: number) => boolean): {
  sink: SourceSink;
  ended: Promise<number>;
  wrong: () => number[];
} {
  let count = 0;
  const wrong: number[] = [];
  let done!: (n: number) => void;
  const ended = new Promise<number>((resolve) => (done = resolve));
  const sink: SourceSink = {
    frame: () => {
      throw new Error('a sink with frameView gets views');
    },
    frameView: (_linktype, _timestamp, bytes, _origlen, _interfaceId, place) => {
      count++;
      if (!isRight(bytes, place, count)) wrong.push(count);
    },
    problem: () => undefined,
    end: () => done(count),
    error: (err) => {
      throw err;
    },
    waitForRoom: () => new Promise<void>((resolve) => setImmediate(resolve)),
  };
  return { sink, ended, wrong: () => wrong };
}

/** A {@link checkingSinkOf} comparing every frame with the file's (`expected`, from {@link framesOf}). */
function checkingSink(expected: Uint8Array[]): ReturnType<typeof checkingSinkOf> {
  return checkingSinkOf((bytes, _place, n) => {
    const want = expected[n - 1];
    return want !== undefined && Buffer.compare(bytes, want) === 0;
  });
}

/**
 * A {@link checkingSinkOf} reading every frame back from `spool` at the place it was given: the frame was in
 * the spool, where its place says, before it was handed out.
 */
function spoolCheckingSink(spool: SpoolFile): ReturnType<typeof checkingSinkOf> {
  return checkingSinkOf((bytes, place, n) => {
    if (place === undefined || place < 0) return false;
    const back = spool.readSync({ frame: n, place, caplen: bytes.length, check: frameCheck(bytes) });
    return back !== undefined && Buffer.compare(back, bytes) === 0;
  });
}

describe('stdin with a spool', () => {
  // Smaller than the 3 MB capture: the spool goes round.
  const SPOOL_BYTES = 2 * 1024 * 1024;

  it('places every frame where its bytes are in the spool, from a pipe read in odd pieces, a file and a stream', async () => {
    const cases: [string, () => { source: Source; done: () => void }][] = [
      [
        'pipe',
        () => {
          const path = join(dir, 'spooled-odd');
          expect(spawnSync('mkfifo', [path]).status).toBe(0);
          const writer = spawn('dd', [`if=${capture}`, `of=${path}`, 'bs=4093'], { stdio: 'ignore' });
          const fd = openSync(path, 'r');
          return { source: new DescriptorSource(fd, 'pipe', undefined, spool()), done: () => writer.kill() };
        },
      ],
      [
        'file',
        () => {
          const fd = openSync(capture, 'r');
          return { source: new DescriptorSource(fd, 'file', undefined, spool()), done: () => closeSync(fd) };
        },
      ],
      [
        'stream',
        () => ({
          source: new StreamSource(createReadStream(capture, { highWaterMark: 60_000 }), undefined, spool()),
          done: () => undefined,
        }),
      ],
    ];
    let made: Spool | undefined;
    const spool = (): Spool => (made = Spool.open({ dir, bytes: SPOOL_BYTES }));
    for (const [name, open] of cases) {
      const { source, done } = open();
      expect(source.spool?.bytes, name).toBe(SPOOL_BYTES);
      const { sink, ended, wrong } = spoolCheckingSink(new SpoolFile(source.spool as SpoolShare));
      await source.start(sink);
      expect(await ended, name).toBe(frames);
      expect(wrong(), name).toEqual([]);
      expect(made?.bytesWritten, name).toBe(statSync(capture).size);
      await source.stop();
      done();
      closeSync((source.spool as SpoolShare).fd);
    }
  });

  it('hands out every frame, without places, once the disk is full', async () => {
    let written = 0;
    const stops: string[] = [];
    const spool = Spool.open({
      dir,
      bytes: SPOOL_BYTES,
      onStop: (reason) => stops.push(reason),
      write: async (fd, buffer, offset, length, position) => {
        if (written > 1024 * 1024)
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        written += length;
        return writeSync(fd, buffer, offset, length, position);
      },
    });
    const fd = openSync(capture, 'r');
    const source = new DescriptorSource(fd, 'file', undefined, spool);
    const { sink, ended, wrong } = spoolCheckingSink(new SpoolFile(spool.share));
    await source.start(sink);
    expect(await ended).toBe(frames);
    expect(stops).toEqual(['ENOSPC: no space left on device, write']);
    // The frames after the stop have no place (the ring copies them): the sink could not read them back.
    expect(wrong().length).toBeGreaterThan(0);
    expect(wrong().length).toBeLessThan(frames);
    expect(wrong()[wrong().length - 1]).toBe(frames);
    await source.stop();
    closeSync(fd);
    closeSync(spool.share.fd);
  });
});

describe('DescriptorSource', () => {
  it('hands out the bytes of every frame as the file holds them, records straddling odd-sized pipe reads', async () => {
    const expected = framesOf(capture);
    // dd writes 4093-byte pieces: reads end at odd places, mid-header and mid-record.
    const path = join(dir, 'odd');
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    const writer = spawn('dd', [`if=${capture}`, `of=${path}`, 'bs=4093'], { stdio: 'ignore' });
    const fd = openSync(path, 'r');
    const { sink, ended, wrong } = checkingSink(expected);
    const source = new DescriptorSource(fd, 'pipe');
    await source.start(sink);
    expect(await ended).toBe(expected.length);
    expect(wrong()).toEqual([]);
    await source.stop();
    writer.kill();
  });

  it('hands out the bytes of every frame as the file holds them, from a redirected file', async () => {
    const expected = framesOf(capture);
    const fd = openSync(capture, 'r');
    const { sink, ended, wrong } = checkingSink(expected);
    const source = new DescriptorSource(fd, 'file');
    await source.start(sink);
    expect(await ended).toBe(expected.length);
    expect(wrong()).toEqual([]);
    await source.stop();
    closeSync(fd);
  });

  it('reads a pipe into its one buffer: every frame, none while the decoder has no room', async () => {
    const { fd, writer } = fifoFrom(capture, 'pipe');
    const { sink, ended, whilePaused } = pausingSink();
    const source = new DescriptorSource(fd, 'pipe');
    await source.start(sink);
    expect(await ended).toBe(frames);
    expect(whilePaused()).toBe(0);
    await source.stop();
    writer.kill();
  });

  it('reads a redirected file at its offset: every frame', async () => {
    const fd = openSync(capture, 'r');
    const { sink, ended, whilePaused } = pausingSink();
    const source = new DescriptorSource(fd, 'file');
    await source.start(sink);
    expect(await ended).toBe(frames);
    expect(whilePaused()).toBe(0);
    await source.stop();
    closeSync(fd);
  });

  it('stops at once on an idle pipe, and delivers nothing after', async () => {
    const { fd, writer } = fifoFrom(undefined, 'idle');
    let delivered = 0;
    const sink: SourceSink = {
      frame: () => delivered++,
      problem: () => undefined,
      end: () => undefined,
      error: () => undefined,
    };
    const source = new DescriptorSource(fd, 'pipe');
    await source.start(sink);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await source.stop();
    expect(delivered).toBe(0);
    writer.kill();
  });

  it('ends the input after a read error, so --exit-on-eof exits instead of serving for ever', async () => {
    // A descriptor open for writing only: the read fails (EBADF), the input has nothing more to give.
    const fd = openSync(join(dir, 'write-only.pcap'), 'w');
    expect(await untilEnd(new DescriptorSource(fd, 'file'))).toEqual(['error EBADF', 'end']);
    closeSync(fd);
  });
});

describe('corrupt framing on a pipe its writer holds open', () => {
  // Before, each of these waited for the writer's end (here 600 s): the reader stopped at once, the reading did not.
  const cases: [string, (fd: number) => Source][] = [
    ['DescriptorSource', (fd) => new DescriptorSource(fd, 'pipe')],
    [
      'DescriptorSource with a spool',
      (fd) => new DescriptorSource(fd, 'pipe', undefined, Spool.open({ dir, bytes: 1 << 20 })),
    ],
    ['StreamSource', (fd) => new StreamSource(createReadStream('', { fd, autoClose: false }))],
  ];
  for (const [name, make] of cases) {
    it(`${name}: ends the input where the reader stopped, every frame before handed out`, async () => {
      const { fd, writer } = fifoHeldOpen(corruptCapture(), `corrupt-${name.replace(/ /g, '-')}`);
      const source = make(fd);
      let count = 0;
      const events: string[] = [];
      await new Promise<void>((resolve) => {
        void source.start({
          frame: () => count++,
          problem: (p) => events.push(`problem ${p.code}`),
          end: () => {
            events.push('end');
            resolve();
          },
          error: (err) => events.push(`error ${(err as NodeJS.ErrnoException).code ?? err.message}`),
        });
      });
      expect({ count, events }).toEqual({ count: frames, events: ['error bad-capture', 'end'] });
      await source.stop();
      source.release?.();
      writer.kill();
      // The descriptor is left open: the stopped reader's socket still holds it (a stopped reader never
      // closes its descriptor, which may be the process's stdin), and closing it under the socket made its
      // next read fail with EBADF in a loaded CI run.
    });
  }
});

/** Lets the event loop turn a few times (timers aside): what a stream, a source and a spool do at once is done. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A spool whose writes end only when the test calls `finishLastFirst`, which ends the writes under way the
 * last first: two under way at once end in the wrong order.
 */
function heldWrites(): { spool: Spool; pending: () => number; finishLastFirst: () => void } {
  const pending: (() => void)[] = [];
  const write: SpoolWrite = (fd, buffer, offset, length, position) =>
    new Promise((resolve) => pending.push(() => resolve(writeSync(fd, buffer, offset, length, position))));
  const spool = Spool.open({ dir, bytes: 64 * 1024 * 1024, write, slowWriteMs: 60_000 });
  return {
    spool,
    pending: () => pending.length,
    finishLastFirst: () => {
      for (const finish of pending.splice(0).reverse()) finish();
    },
  };
}

/**
 * A {@link checkingSinkOf} comparing every frame with the file's (`expected`) and reading it back from the
 * spool at its place, with room whenever asked.
 */
function inOrderSpooledSink(expected: Uint8Array[], spool: Spool): ReturnType<typeof checkingSinkOf> {
  const file = new SpoolFile(spool.share);
  const checking = checkingSinkOf((bytes, place, n) => {
    const want = expected[n - 1];
    if (want === undefined || Buffer.compare(bytes, want) !== 0 || place === undefined || place < 0) return false;
    const back = file.readSync({ frame: n, place, caplen: bytes.length, check: frameCheck(bytes) });
    return back !== undefined && Buffer.compare(back, bytes) === 0;
  });
  checking.sink.waitForRoom = () => undefined;
  return checking;
}

describe('StreamSource', () => {
  // Before, the source read in flowing mode and paused its stream while it waited; a stream resumed by
  // someone else (node resumes a child's stdout once the child has exited) went on giving it chunks.
  it('reads nothing while the decoder has no room, even when someone else resumes its stream', async () => {
    const bytes = readFileSync(capture);
    const input = new Readable({ read: () => undefined });
    let count = 0;
    let room: (() => void) | undefined;
    let whileNoRoom = 0;
    let asked = 0;
    let done!: () => void;
    const ended = new Promise<void>((resolve) => (done = resolve));
    const source = new StreamSource(input);
    await source.start({
      frame: () => {
        count++;
        if (room !== undefined) whileNoRoom++;
      },
      problem: () => undefined,
      end: () => done(),
      error: (err) => {
        throw err;
      },
      // No room after the first chunk, until the test gives it; room after every other.
      waitForRoom: () => (++asked === 1 ? new Promise<void>((resolve) => (room = resolve)) : undefined),
    });
    // Cut mid-record, as a pipe's reads are.
    input.push(bytes.subarray(0, 100_001));
    await settle();
    expect(room).toBeDefined();
    const first = count;
    input.resume();
    input.push(bytes.subarray(100_001));
    input.push(null);
    await settle();
    expect({ count, whileNoRoom }).toEqual({ count: first, whileNoRoom: 0 });
    const give = room;
    room = undefined;
    give?.();
    await ended;
    expect({ count, whileNoRoom }).toEqual({ count: frames, whileNoRoom: 0 });
    await source.stop();
  });

  it('with a spool, reads nothing while a chunk is written, even when someone else resumes its stream', async () => {
    const expected = framesOf(capture);
    const bytes = readFileSync(capture);
    const input = new Readable({ read: () => undefined });
    const { spool, pending, finishLastFirst } = heldWrites();
    const source = new StreamSource(input, undefined, spool);
    const { sink, ended, wrong } = inOrderSpooledSink(expected, spool);
    await source.start(sink);
    input.push(bytes.subarray(0, 100_001));
    await settle();
    expect(pending()).toBe(1);
    input.resume();
    input.push(bytes.subarray(100_001, 200_003));
    input.push(bytes.subarray(200_003));
    input.push(null);
    await settle();
    // Before, each chunk's write was under way at once, at the same offset, and the last one to be
    // finished reached the capture reader first.
    expect(pending()).toBe(1);
    while (pending() > 0) {
      finishLastFirst();
      await settle();
    }
    expect(await ended).toBe(expected.length);
    expect(wrong()).toEqual([]);
    expect(spool.bytesWritten).toBe(bytes.length);
    await source.stop();
    spool.close();
  });

  it(
    "with a spool, hands out every frame in order of a child's stdout, which node resumes once the child exits",
    {
      timeout: 20_000,
    },
    async () => {
      // Small enough for `cat` to write all of it into the socket pair and exit while the source still
      // waits for its first chunk's spool write (node then resumes the child's stdout to drain it).
      const small = captureHead(100 * 1024, 'small.pcap');
      const expected = framesOf(small);
      const cat = spawn('cat', [small], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<void>((resolve) => cat.once('exit', () => resolve()));
      const { spool, pending, finishLastFirst } = heldWrites();
      const source = new StreamSource(cat.stdout, undefined, spool);
      const { sink, ended, wrong } = inOrderSpooledSink(expected, spool);
      await source.start(sink);
      // Should cat not fit (a system with smaller socket buffers) it cannot exit before its chunks are read:
      // the writes are then let go after a while, and the test checks less.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
      await settle();
      while (pending() > 0) {
        finishLastFirst();
        await settle();
      }
      expect(await ended).toBe(expected.length);
      expect(wrong()).toEqual([]);
      expect(spool.bytesWritten).toBe(statSync(small).size);
      await source.stop();
      spool.close();
    },
  );

  it('ends the input after a read error, so --exit-on-eof exits instead of serving for ever', async () => {
    const input = new Readable({ read: () => undefined });
    const events = untilEnd(new StreamSource(input));
    input.destroy(new Error('EIO: i/o error, read'));
    expect(await events).toEqual(['error EIO: i/o error, read', 'end']);
  });
});

describe('ca-sharkd --stdin', () => {
  it(
    'exits cleanly on SIGTERM as soon as it serves, its pipe idle, without waiting for the writer',
    { timeout: 20_000 },
    async () => {
      // The writer holds the pipe open for 30 s: a daemon whose read waited for it would outlast the test.
      const { fd, writer } = fifoFrom(undefined, 'idle-daemon');
      const child = spawnDaemonReading(fd, ['--stdin', '--listen', '127.0.0.1:0']);
      closeSync(fd);
      let stderr = '';
      const serving = new Promise<void>((resolve) =>
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('ca-sharkd serving')) resolve();
        }),
      );
      const closed = new Promise<string>((resolve) =>
        child.once('close', (code, signal) => resolve(`${code} ${signal}`)),
      );
      await serving;
      // At once: the handler must be in place when the daemon says it serves (main.ts), or node's default
      // kills it without its summary (6 runs in 8 before).
      child.kill('SIGTERM');
      expect({ end: await closed, stderr }).toEqual({
        end: '0 null',
        stderr: expect.stringContaining('ca-sharkd: 0 packets (0 bytes)'),
      });
      writer.kill();
    },
  );

  it(
    'with --exit-on-eof, exits 2 at a corrupt record while its writer still holds the pipe open',
    { timeout: 60_000 },
    async () => {
      const { fd, writer } = fifoHeldOpen(corruptCapture(), 'corrupt-daemon');
      const child = spawnDaemonReading(fd, ['--stdin', '--exit-on-eof', '--listen', '127.0.0.1:0']);
      closeSync(fd);
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      writer.kill();
      expect({ code, stderr }).toEqual({
        code: 2,
        stderr: expect.stringMatching(
          new RegExp(
            `^ca-sharkd: <stdin>: frame ${frames + 1}: record claims 2147483647 captured bytes, more than the limit of 262144; the file is corrupt, stopping$`,
            'm',
          ),
        ),
      });
      expect(stderr).toContain(`ca-sharkd: ${frames} packets`);
    },
  );

  it('refuses a directory as stdin at start, in the words of -r DIR', { timeout: 60_000 }, async () => {
    const { code, stderr } = await runDaemonShell('ca_sharkd --stdin --exit-on-eof --listen 127.0.0.1:0 < "$1"', [dir]);
    expect({ code, stderr }).toEqual({ code: 2, stderr: 'ca-sharkd: <stdin>: is a directory\n' });
  });
});
