import { fstatSync, mkdtempSync, readSync, readdirSync, readlinkSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { parseCommandLine } from '../cli.js';
import { STDIN_SPOOL_IN_MEMORY, createSource, startDaemon } from '../server.js';
import { Spool, type SpoolWrite } from './spool.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-spool-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether descriptor `fd` is open. */
function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

describe('Spool', () => {
  it('closes its file only once a write it gave up on (too slow) has ended: the number could be reused', async () => {
    let finish: (() => void) | undefined;
    const write: SpoolWrite = (fd, buffer, offset, length, position) =>
      new Promise((resolve) => {
        finish = () => resolve(writeSync(fd, buffer, offset, length, position));
      });
    const stops: string[] = [];
    const spool = Spool.open({ dir, bytes: 1024, write, slowWriteMs: 10, onStop: (reason) => stops.push(reason) });
    const fd = spool.share.fd;
    expect(await spool.append(new Uint8Array(100))).toBe(-1);
    expect(stops).toEqual(['a write took longer than 10 ms']);
    // The write is still under way (in libuv's thread pool for fs.write): closing the number now would let
    // it land in whatever file is opened next under that number.
    spool.close();
    expect(isOpen(fd)).toBe(true);
    finish?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(isOpen(fd)).toBe(false);
  });

  it('writes appends asked for before the last one resolved one after the other, each where the last ended', async () => {
    // Writes that end only when the test says, in any order: two under way at once would be seen.
    const pending: { position: number; finish: () => void }[] = [];
    const write: SpoolWrite = (fd, buffer, offset, length, position) =>
      new Promise((resolve) => {
        pending.push({ position, finish: () => resolve(writeSync(fd, buffer, offset, length, position)) });
      });
    const spool = Spool.open({ dir, bytes: 1024, write, slowWriteMs: 60_000 });
    const resolved: string[] = [];
    const a = new Uint8Array(100).fill(0xaa);
    const b = new Uint8Array(50).fill(0xbb);
    const c = new Uint8Array(10).fill(0xcc);
    const appends = [a, b, c].map((chunk, i) =>
      spool.append(chunk).then((at) => {
        resolved.push(`${i} at ${at}`);
        return at;
      }),
    );
    const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await settle();
    // Only the first chunk's write is under way: the second's offset is where the first ends.
    expect(pending.map((p) => p.position)).toEqual([0]);
    pending[0]?.finish();
    await settle();
    expect(pending.map((p) => p.position)).toEqual([0, 100]);
    pending[1]?.finish();
    await settle();
    expect(pending.map((p) => p.position)).toEqual([0, 100, 150]);
    pending[2]?.finish();
    expect(await Promise.all(appends)).toEqual([0, 100, 150]);
    expect(resolved).toEqual(['0 at 0', '1 at 100', '2 at 150']);
    expect(spool.bytesWritten).toBe(160);
    const back = new Uint8Array(160);
    expect(readSync(spool.share.fd, back, 0, 160, 0)).toBe(160);
    expect(Buffer.from(back)).toEqual(Buffer.concat([a, b, c]));
    spool.close();
  });

  it('closes its file at once when no write is under way, and only once', async () => {
    const spool = Spool.open({ dir, bytes: 1024 });
    const fd = spool.share.fd;
    expect(await spool.append(new Uint8Array(100))).toBe(0);
    spool.close();
    expect(isOpen(fd)).toBe(false);
    spool.close();
    expect(await spool.append(new Uint8Array(1))).toBe(-1);
  });
});

describe("ca-sharkd --stdin's spool directory", () => {
  /** What createSource logs, as `level message`. */
  async function logsOf(spoolDir: string): Promise<string[]> {
    const lines: string[] = [];
    const log =
      (level: string) =>
      (_fields: unknown, message: string): void => {
        lines.push(`${level} ${message}`);
      };
    const logger = { info: log('info'), warn: log('warn') } as unknown as Logger;
    const source = await createSource(
      parseCommandLine(['--stdin', '--spool-dir', spoolDir], {}),
      logger,
      Readable.from([]),
    );
    expect(source.spool).toBeDefined();
    source.release?.();
    return lines;
  }

  it('says where the spool went, and warns when that is a tmpfs (memory, not disk)', async () => {
    expect(await logsOf(dir)).toEqual(['info stdin spooled to disk for /api/pcap (--spool-dir)']);
    // /dev/shm is a tmpfs on Linux, as /tmp is on several distributions.
    let shm = false;
    try {
      shm = statfsSync('/dev/shm').type === 0x01021994;
    } catch {
      // No /dev/shm here: nothing to check it on.
    }
    if (shm) expect(await logsOf('/dev/shm')).toEqual([`warn ${STDIN_SPOOL_IN_MEMORY}`]);
  });
});

describe("ca-sharkd --stdin's spool on a failed start", () => {
  /** Descriptors of this process open on a file (deleted or not) in `where`. */
  function openIn(where: string): number {
    let n = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${where}/`)) n++;
      } catch {
        // Closed meanwhile (the listing's own descriptor).
      }
    }
    return n;
  }

  it('releases it when the start fails before the decoding worker runs (an embedder starts again)', async () => {
    const where = mkdtempSync(join(dir, 'failed-start-'));
    const logger = { info: () => undefined, warn: () => undefined } as unknown as Logger;
    const started = startDaemon(parseCommandLine(['--stdin', '--spool-dir', where], {}), logger, {
      input: Readable.from([]),
      // The hub is made after the source: a failure there stands for any before the worker is up.
      hub: {
        now: () => {
          throw new Error('no clock');
        },
      },
    });
    await expect(started).rejects.toThrow('no clock');
    expect(openIn(where)).toBe(0);
  });
});
