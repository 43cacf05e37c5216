/**
 * `ca-shark --write OUT.pcapng [filters] [FILE]`: writes the packets that carried the matching CA messages,
 * as pcapng (one interface description per input interface, original timestamps and lengths).
 *
 * Two passes over the input: the first decodes it and marks, per matching message, every frame that carried
 * its bytes (a large message spans segments; packet/message-frames.ts); the second copies the marked frames
 * out in capture order. stdin redirected from a file (`ca-shark -w OUT < FILE`) is read twice in place; a
 * pipe is first saved to a temporary file, which is removed at the end. Memory holds one bit per frame, not
 * the packets.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { RecordPredicate } from '@ca-shark/analysis';
import { createDecoder } from '@ca-shark/decoder';
import {
  CaptureReader,
  type CaptureInterface,
  MessageFrames,
  PacketPipeline,
  PcapngChunks,
  SpanningMessages,
  STDIN_LABEL,
  TSRESOL,
  describeOpenError,
  inputErrorLine,
} from '@ca-shark/packet';
import type { CliOptions } from './args.js';
import { DamageReport } from './damage.js';

/** Bytes read per chunk, and bytes of blocks gathered before a write. */
const CHUNK = 1 << 20;

/** One bit per frame number, growing as frames come. */
class FrameSet {
  private bits = new Uint8Array(1 << 16);
  size = 0;

  add(frame: number): void {
    const byte = frame >>> 3;
    if (byte >= this.bits.length) {
      let n = this.bits.length * 2;
      while (n <= byte) n *= 2;
      const bigger = new Uint8Array(n);
      bigger.set(this.bits);
      this.bits = bigger;
    }
    const mask = 1 << (frame & 7);
    if ((this.bits[byte] & mask) === 0) {
      this.bits[byte] |= mask;
      this.size++;
    }
  }

  has(frame: number): boolean {
    const byte = frame >>> 3;
    return byte < this.bits.length && (this.bits[byte] & (1 << (frame & 7))) !== 0;
  }
}

/**
 * A capture to read in place: a path to open, and the byte where the capture starts in it (stdin's offset
 * when ca-shark started: a shell may have read part of the file before).
 */
export interface CaptureFile {
  path: string;
  start: number;
}

/** What a write produced. */
export interface WriteResult {
  /** Matching messages. */
  messages: number;
  /** Packets written. */
  packets: number;
  damage: DamageReport;
}

/**
 * Pass one: decodes `path` and returns the frames that carried the messages `filter` keeps (and how many
 * messages it kept).
 */
async function markFrames(
  input: CaptureFile,
  filter: RecordPredicate,
  ports: readonly number[],
  damage: DamageReport,
): Promise<{ frames: FrameSet; messages: number }> {
  const frames = new FrameSet();
  const mark = (n: number): void => frames.add(n);
  // The frames of a message left out, in case the export has to take it whole after all.
  const left: number[] = [];
  const note = (n: number): void => {
    left.push(n);
  };
  const spanning = new SpanningMessages();
  const tracker = new MessageFrames();
  let messages = 0;
  const decoder = createDecoder({
    extraServerPorts: [...ports],
    onProblem: (p) => damage.problem(p),
    onRecord: (record) => {
      damage.record(record);
      const keep = filter(record);
      if (keep) messages++;
      // Every message claims its bytes, kept or not, so the next one finds its own.
      if (keep) tracker.framesOf(record, mark);
      else {
        left.length = 0;
        tracker.framesOf(record, note);
        spanning.add(left);
      }
    },
  });
  const packets = new PacketPipeline({
    onEvent: (event) => {
      tracker.event(event);
      decoder.feed(event);
      tracker.settle();
    },
  });
  for await (const chunk of readCapture(input)) {
    packets.pushCapture(chunk);
  }
  packets.end();
  decoder.end();
  spanning.complete(
    (n) => frames.has(n),
    (n) => frames.add(n),
  );
  const skipped = decoder.state.statistics.skipped;
  damage.finish(decoder.skippedFlows, skipped.flows, skipped.bytes);
  return { frames, messages };
}

function readCapture(input: CaptureFile): AsyncIterable<Buffer> {
  return createReadStream(input.path, { highWaterMark: CHUNK, start: input.start }) as AsyncIterable<Buffer>;
}

/** Writes `bytes` to `out`, waiting while its buffer is full. */
async function writeOut(out: Writable, bytes: Uint8Array): Promise<void> {
  if (!out.write(bytes)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

/** Pass two: copies the frames in `wanted` from `input` to `out` as pcapng; returns how many. */
async function copyFrames(input: CaptureFile, wanted: FrameSet, out: Writable, application: string): Promise<number> {
  const file = new PcapngChunks(application);
  // Output interface of each input interface, per section (pcapng may hold several).
  let current: CaptureInterface[] = [];
  let section = -1;
  const ids = new Map<CaptureInterface, number>();
  const reader = new CaptureReader({
    interface: (iface) => {
      if (iface.section !== section) {
        section = iface.section;
        current = [];
      }
      current[iface.id] = iface;
    },
    problem: () => {},
    frame: (f) => {
      if (!wanted.has(f.frame)) return;
      const iface = current[f.interfaceId];
      if (iface === undefined) return;
      let id = ids.get(iface);
      if (id === undefined) {
        id = file.writer.addInterface({
          linktype: iface.linktype,
          snaplen: iface.snaplen,
          tsresol: iface.tsUnitsPerSecond === 1e9 ? TSRESOL.NANO : TSRESOL.MICRO,
          ...(iface.name !== undefined ? { name: iface.name } : {}),
        });
        ids.set(iface, id);
      }
      file.packet(id, f.timestamp, f.data, f.origlen);
    },
  });
  const flush = async (): Promise<void> => {
    if (file.bytes > 0) await writeOut(out, file.take());
  };
  for await (const chunk of readCapture(input)) {
    reader.push(chunk);
    if (file.bytes >= CHUNK) await flush();
  }
  reader.end();
  await flush();
  return file.writer.packets;
}

/** A read of stdin failed while it was being copied (not the temporary file). */
class StdinReadError extends Error {}

/**
 * Saves `input` to a new temporary file; returns its path and a function that removes it. Each chunk is
 * written before the next is asked for (stdin's chunks share one buffer). A capture reader follows the
 * bytes, and the saving stops where it stops (no capture magic, a length no capture has): the first pass
 * reports that from the file, and a pipe whose writer does not stop is not waited for.
 */
async function spool(input: AsyncIterable<Uint8Array>): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ca-shark-write-'));
  const path = join(dir, 'stdin.capture');
  const remove = (): Promise<void> => rm(dir, { recursive: true, force: true });
  const framing = new CaptureReader({ frame: () => {}, problem: () => {} }, {}, { rawFrame: () => {} });
  try {
    const file = await open(path, 'w');
    try {
      const chunks = input[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Uint8Array>;
        try {
          next = await chunks.next();
        } catch (e) {
          throw new StdinReadError((e as Error).message, { cause: e });
        }
        if (next.done === true) break;
        const chunk = next.value;
        framing.push(chunk);
        for (let at = 0; at < chunk.length;) at += (await file.write(chunk, at, chunk.length - at)).bytesWritten;
        if (framing.finished) {
          await chunks.return?.();
          break;
        }
      }
    } finally {
      await file.close();
    }
  } catch (e) {
    await remove();
    throw e;
  }
  return { path, remove };
}

/**
 * Runs `--write`: reads the one input (`-` or none: stdin), writes the packets of the messages `filter`
 * keeps to `options.write` (`-`: stdout). `say` writes one stderr line without the prefix. Throws for an
 * output that cannot be written; input errors are told through the damage report. `io.stdinFile`, when it
 * gives a file, is read in place of a copy of `io.stdin`.
 */
export async function writePackets(
  options: CliOptions,
  filter: RecordPredicate,
  io: { stdin: () => AsyncIterable<Uint8Array>; stdinFile?: () => CaptureFile | null; stdout: Writable },
  say: (line: string) => void,
  application: string,
): Promise<WriteResult | null> {
  const name = options.files[0] ?? '-';
  const label = name === '-' ? STDIN_LABEL : name;
  const damage = new DamageReport(label, say);
  let input: CaptureFile = { path: name, start: 0 };
  let remove = async (): Promise<void> => {};
  if (name === '-') {
    const inPlace = io.stdinFile?.() ?? null;
    if (inPlace !== null) input = inPlace;
    else {
      let path;
      try {
        ({ path, remove } = await spool(io.stdin()));
      } catch (e) {
        // Neither is the output's fault, which the caller would name.
        if (e instanceof StdinReadError) say(inputErrorLine(label, e.message));
        else say(`cannot copy stdin to a temporary file (--write reads its input twice): ${(e as Error).message}`);
        return null;
      }
      input = { path, start: 0 };
    }
  } else {
    try {
      await (await open(name, 'r')).close();
    } catch (e) {
      say(inputErrorLine(label, describeOpenError(e as NodeJS.ErrnoException)));
      return null;
    }
  }
  try {
    const { frames, messages } = await markFrames(input, filter, options.ports, damage);
    if (damage.unreadable) return { messages, packets: 0, damage };
    let out: Writable;
    let file: WriteStream | undefined;
    if (options.write === '-') out = io.stdout;
    else {
      file = createWriteStream(options.write ?? '', { flags: 'w' });
      await new Promise<void>((resolve, reject) => {
        file?.once('open', () => resolve());
        file?.once('error', reject);
      });
      out = file;
    }
    const packets = await copyFrames(input, frames, out, application);
    if (file !== undefined) {
      await new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.end(() => resolve());
      });
    }
    return { messages, packets, damage };
  } finally {
    await remove();
  }
}
