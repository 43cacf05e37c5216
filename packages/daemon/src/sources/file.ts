import { createReadStream } from 'node:fs';
import { type FileHandle, access, constants, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CaptureFrame, describeOpenError, inputErrorLine } from '@ca-shark/packet';
import { DaemonError } from '../errors.js';
import { CaptureBytes, frameTo } from './capture-bytes.js';
import {
  type CaptureCounters,
  type Source,
  type SourceDescription,
  type SourceSink,
  endAfterReadError,
  inputLabel,
  zeroCounters,
} from './types.js';

/** Replay speed: a factor on capture time, or as fast as the decoder goes. */
export type ReplaySpeed = number | 'max';

/** Parses `--speed`: a positive number (1, 10, 0.5) or `max`. */
export function parseSpeed(text: string): ReplaySpeed {
  if (text === 'max') return 'max';
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new DaemonError('usage', `bad --speed ${JSON.stringify(text)}: use a positive number (1, 10) or max`);
  return n;
}

/** Bytes read at start to recognise the format. */
const HEAD = 64 * 1024;
/**
 * Bytes read per chunk, into one buffer reused for every read. Reading a fresh 64 KiB buffer per chunk (a
 * read stream) cost the capture thread a page fault per 4 KiB read (fresh memory costs about 3 ms of CPU
 * per MiB on the benchmark machine: a tenth of the daemon's faults in `-r --speed max`), a buffer for the
 * garbage collector per chunk, and a copy of the capture reader's held tail (a record cut by the chunk's
 * end) sixteen times as often. Reusing it is safe: frames go to the sink as views it copies at once (or
 * are copied for a paced replay), and the capture reader copies the tail it holds back.
 */
const CHUNK = 1024 * 1024;
/** Pauses shorter than this are not worth a timer; the replay catches up on the next longer one. */
const MIN_SLEEP_MS = 2;

/**
 * Replays a capture file. At speed 'max' frames go to the decoder as fast as it takes them (the event loop
 * still turns between chunks); at a finite speed each frame is held until its capture time, scaled by the
 * speed, has elapsed since the first frame. At any speed the file is read no faster than the decoder
 * consumes it (the sink's `waitForRoom`): a replay never loses a frame.
 */
export class FileSource implements Source {
  readonly description: SourceDescription;
  private stopped = false;
  private done: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(
    private readonly path: string,
    private readonly speed: ReplaySpeed = 1,
  ) {
    this.description = { kind: 'file', file: path, speed };
  }

  async start(sink: SourceSink): Promise<void> {
    const label = inputLabel(this.description);
    let regular: boolean;
    try {
      await access(this.path, constants.R_OK);
      const info = await stat(this.path);
      if (info.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      regular = info.isFile();
    } catch (err) {
      throw new DaemonError('unreadable-file', inputErrorLine(label, describeOpenError(err as NodeJS.ErrnoException)));
    }
    // Recognise the format before answering, so `-r notes.txt` fails at start with one line (the one
    // `ca-shark notes.txt` prints). A head with frames before its problem is replayed and reported instead.
    // Not for a FIFO or a device (`-r <(tcpdump -w - ...)`, `-r /dev/stdin`): reading its head would take
    // those bytes from the replay (and a read at an offset fails there, ESPIPE); the replay's own first
    // chunk is checked the same way, its error reported by the sink.
    if (regular) {
      let head: Uint8Array;
      try {
        head = await readHead(this.path);
      } catch (err) {
        // Readable by its permissions, not by its contents (EIO): ca-shark's words for it, not an internal error.
        throw new DaemonError(
          'unreadable-file',
          inputErrorLine(label, describeOpenError(err as NodeJS.ErrnoException)),
        );
      }
      const probe = new CaptureBytes(label, { frame() {}, problem() {}, end() {}, error() {} }, () => undefined);
      probe.push(head);
      if (head.length < HEAD) probe.end();
      if (probe.error !== undefined && probe.frames === 0) throw probe.error;
    }
    this.done = this.run(sink, regular).catch((err: unknown) => {
      if (!this.stopped) endAfterReadError(sink, err);
    });
  }

  /** Replays the file into `sink`; `regular`: a regular file (not a FIFO or a device), whose frames get places. */
  private async run(sink: SourceSink, regular: boolean): Promise<void> {
    const speed = this.speed;
    let firstCapture: number | undefined;
    let firstWall = 0;
    let pending: (CaptureFrame & { place: number })[] = [];
    // Each frame goes with its place in the file: the packet ring keeps that, not a copy (packet-ring.ts).
    const bytes = new CaptureBytes(
      inputLabel(this.description),
      sink,
      speed === 'max' ? frameTo(sink) : (f, place) => pending.push({ ...f, data: f.data.slice(), place }),
      // Only a regular file's frames have places the packet ring can read back.
      { places: regular },
    );
    let file: FileHandle | undefined;
    const buffer = new Uint8Array(CHUNK);
    try {
      file = await open(this.path, 'r');
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, CHUNK, null);
        if (this.stopped) return;
        if (bytesRead === 0) break;
        bytes.push(bytesRead < CHUNK ? buffer.subarray(0, bytesRead) : buffer);
        if (speed === 'max') {
          // Read on once the decoder has room; either way HTTP and WebSocket work get a turn between chunks.
          await (sink.waitForRoom?.() ?? new Promise<void>((resolve) => setImmediate(resolve)));
          continue;
        }
        const frames = pending;
        pending = [];
        for (const f of frames) {
          if (this.stopped) return;
          if (firstCapture === undefined) {
            firstCapture = f.timestamp;
            firstWall = performance.now();
          }
          const due = firstWall + ((f.timestamp - firstCapture) * 1000) / speed;
          const wait = due - performance.now();
          if (wait >= MIN_SLEEP_MS) await sleep(wait, undefined, { signal: this.abort.signal });
          sink.frame(f.linktype, f.timestamp, f.data, f.origlen, f.interfaceId, f.place);
        }
        const room = sink.waitForRoom?.();
        if (room !== undefined) await room;
      }
    } catch (err) {
      if ((err as Error).name === 'AbortError') return;
      throw err;
    } finally {
      await file?.close();
    }
    bytes.end();
    if (!this.stopped) sink.end();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.done;
  }

  counters(): CaptureCounters {
    return zeroCounters();
  }
}

async function readHead(path: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: HEAD - 1 })) {
    chunks.push(chunk as Buffer);
    total += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks, total);
}
