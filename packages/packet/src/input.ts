/**
 * Async-iterable front ends: read a capture from a file path, a byte buffer or any Node Readable /
 * async iterable of byte chunks, and iterate frames or packet events as they become available.
 */
import { createReadStream } from 'node:fs';
import { PacketPipeline, type PacketPipelineOptions } from './pipeline.js';
import { CaptureReader, type CaptureFrame, type CaptureHeader, type CaptureReaderOptions } from './reader.js';
import type { PacketEvent, PacketProblem } from './types.js';

/**
 * A capture source: a file path or `file:` URL, the whole capture in memory, or a stream of chunks
 * (e.g. `process.stdin`, any Node Readable without an encoding).
 */
export type CaptureInput = string | URL | Uint8Array | AsyncIterable<Uint8Array | string>;

/** In-memory captures are fed in slices of this size so events flow before the whole buffer is parsed. */
const SLICE = 1 << 20;
const FILE_CHUNK = 1 << 20;

/** The chunks of a capture input, without copying. */
export async function* captureChunks(input: CaptureInput): AsyncGenerator<Uint8Array> {
  if (typeof input === 'string' || input instanceof URL) {
    for await (const chunk of createReadStream(input, { highWaterMark: FILE_CHUNK })) yield chunk as Buffer;
  } else if (input instanceof Uint8Array) {
    for (let i = 0; i < input.length; i += SLICE) yield input.subarray(i, i + SLICE);
  } else {
    for await (const chunk of input) {
      if (typeof chunk === 'string')
        throw new TypeError('capture stream delivers strings: read it without an encoding');
      yield chunk;
    }
  }
}

/** What {@link readCapture} yields: the header once known, each frame, each problem. */
export type CaptureItem = CaptureFrame | PacketProblem | { type: 'header'; header: CaptureHeader };

/**
 * Iterate the raw frames of a capture (no link/IP decoding). Capture problems are yielded as items;
 * I/O errors (missing file, stream error) reject.
 */
export async function* readCapture(input: CaptureInput, options?: CaptureReaderOptions): AsyncGenerator<CaptureItem> {
  const queue: CaptureItem[] = [];
  const reader = new CaptureReader(
    {
      frame: (f) => queue.push(f),
      problem: (p) => queue.push(p),
      header: (header) => queue.push({ type: 'header', header }),
    },
    options,
  );
  yield* drive(input, queue, reader);
}

/**
 * Iterate the packet events of a capture: UDP datagrams, in-order TCP stream data, gaps, connection
 * open/close and problems. Capture problems are events; I/O errors (missing file, stream error) reject.
 */
export async function* readPackets(
  input: CaptureInput,
  options: Omit<PacketPipelineOptions, 'onEvent'> = {},
): AsyncGenerator<PacketEvent> {
  const queue: PacketEvent[] = [];
  const pipeline = new PacketPipeline({ ...options, onEvent: (e) => queue.push(e) });
  // An input without a single chunk is still a capture: end() must report it empty.
  pipeline.pushCapture(new Uint8Array(0));
  yield* drive(input, queue, { push: (c) => pipeline.pushCapture(c), end: () => pipeline.end() });
}

/** Push the input's chunks into `target`, yielding what its callbacks queued after each chunk. */
async function* drive<T>(
  input: CaptureInput,
  queue: T[],
  target: { push(chunk: Uint8Array): void; end(): void },
): AsyncGenerator<T> {
  for await (const chunk of captureChunks(input)) {
    target.push(chunk);
    if (queue.length > 0) yield* queue.splice(0);
  }
  target.end();
  yield* queue.splice(0);
}
