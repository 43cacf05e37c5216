import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DaemonError } from '../errors.js';
import { FileSource } from './file.js';
import type { SourceSink } from './types.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../../packet/fixtures/${name}`, import.meta.url));

/** Replays a file into a sink that notes each frame's capture time and delivery time. */
async function replay(
  file: string,
  speed: number | 'max',
): Promise<{ timestamp: number; at: number; linktype: number }[]> {
  const frames: { timestamp: number; at: number; linktype: number }[] = [];
  let done!: () => void;
  const ended = new Promise<void>((resolve) => (done = resolve));
  const sink: SourceSink = {
    frame: (linktype, timestamp) => frames.push({ timestamp, at: performance.now(), linktype }),
    problem: () => undefined,
    end: () => done(),
    error: (err) => {
      throw err;
    },
  };
  const source = new FileSource(file, speed);
  await source.start(sink);
  await ended;
  await source.stop();
  return frames;
}

describe('FileSource', () => {
  it('at a finite speed holds each frame until its capture time, scaled, has passed', async () => {
    // ca_monitor.pcapng: 20 frames over 2.39 s of capture time.
    const speed = 10;
    const frames = await replay(fixture('ca_monitor.pcapng'), speed);
    expect(frames).toHaveLength(20);
    const t0 = frames[0];
    for (const f of frames) {
      // Never early (timers may round by a millisecond; short waits are batched up to 2 ms).
      expect(f.at - t0.at).toBeGreaterThanOrEqual(((f.timestamp - t0.timestamp) * 1000) / speed - 4);
    }
    const times = frames.map((f) => f.timestamp);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('at max speed delivers every frame of the file with its link type', async () => {
    const frames = await replay(fixture('catest.pcap'), 'max');
    expect(frames).toHaveLength(167);
    expect(new Set(frames.map((f) => f.linktype))).toEqual(new Set([1]));
  });

  it('gives every frame its place in the file: the offset of its captured bytes, at any speed', async () => {
    for (const [name, speed] of [
      ['catest.pcap', 'max'],
      ['ca_arrays.pcapng', 'max'],
      ['ca_monitor.pcapng', 100],
    ] as const) {
      const file = readFileSync(fixture(name));
      let frames = 0;
      let done!: () => void;
      const ended = new Promise<void>((resolve) => (done = resolve));
      const check = (bytes: Uint8Array, place: number | undefined): void => {
        frames++;
        expect(place, name).toBeGreaterThan(0);
        expect(Buffer.compare(file.subarray(place as number, (place as number) + bytes.length), bytes), name).toBe(0);
      };
      const sink: SourceSink = {
        frame: (_l, _t, bytes, _o, _i, place) => check(bytes, place),
        frameView: (_l, _t, bytes, _o, _i, place) => check(bytes, place),
        problem: () => undefined,
        end: () => done(),
        error: (err) => {
          throw err;
        },
      };
      const source = new FileSource(fixture(name), speed);
      await source.start(sink);
      await ended;
      await source.stop();
      expect(frames, name).toBeGreaterThan(10);
    }
  });

  it('replays a FIFO (`-r <(tcpdump -w - ...)`) whole, its head read once, frames without places', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-fifo-'));
    try {
      const fifo = join(dir, 'capture.pcap');
      if (spawnSync('mkfifo', [fifo]).status !== 0) return;
      const bytes = readFileSync(fixture('catest.pcap'));
      // The writer blocks until the source opens the FIFO for reading.
      const writer = createWriteStream(fifo);
      writer.end(bytes);
      const places: (number | undefined)[] = [];
      let done!: () => void;
      const ended = new Promise<void>((resolve) => (done = resolve));
      const sink: SourceSink = {
        frame: (_l, _t, _b, _o, _i, place) => places.push(place),
        problem: () => undefined,
        end: () => done(),
        error: (err) => {
          throw err;
        },
      };
      const source = new FileSource(fifo, 'max');
      await source.start(sink);
      await ended;
      await source.stop();
      expect(places).toHaveLength(167);
      expect(places.every((p) => p === undefined || p < 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a missing file and a file that is not a capture at start', async () => {
    const sink: SourceSink = { frame() {}, problem() {}, end() {}, error() {} };
    await expect(new FileSource('/nonexistent.pcap').start(sink)).rejects.toThrow(DaemonError);
    await expect(new FileSource(fileURLToPath(import.meta.url)).start(sink)).rejects.toThrow(
      /not a pcap or pcapng magic number/,
    );
  });

  it.runIf(process.platform === 'linux')(
    'refuses a regular file whose head cannot be read at start, in the words of ca-shark (status 2)',
    async () => {
      // /proc/self/mem is a regular file whose first bytes are no mapped memory: its read fails (EIO).
      const sink: SourceSink = { frame() {}, problem() {}, end() {}, error() {} };
      const refused = new FileSource('/proc/self/mem').start(sink);
      await expect(refused).rejects.toThrow(DaemonError);
      await expect(refused).rejects.toThrow('/proc/self/mem: EIO: i/o error, read');
    },
  );
});
