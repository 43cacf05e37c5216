import type { CircuitInfo } from './state.js';
import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PacketProblem } from '@ca-shark/packet';
import { Decoder } from './decoder.js';
import type { CaDecoder } from './decoder.js';
import type { DecoderOptions } from './options.js';
import type { CaRecord } from './record.js';

/** What {@link shark} reads: a capture file path (or file URL), capture bytes, or a stream of them. */
export type SharkInput = string | URL | Uint8Array | AsyncIterable<Uint8Array | string>;

/** Options of {@link shark}. */
export interface SharkOptions extends DecoderOptions {
  /** Packet-layer problems (skipped frames, unknown link types...). */
  onProblem?: (problem: PacketProblem) => void;
  /** A CA circuit ended (see `DecoderCallbacks.onCircuitClose`). */
  onCircuitClose?: (circuit: CircuitInfo) => void;
  /** Receives the decoder before decoding starts, e.g. to read `decoder.state` afterwards. */
  onDecoder?: (decoder: CaDecoder) => void;
}

/** Packet-layer problem code of input that is neither pcap nor pcapng. */
const NOT_A_CAPTURE = 'not-a-capture';

/** Bytes handed to the decoder at once when the input is one big buffer, so records stream out early. */
const BUFFER_SLICE = 1 << 20;
/** Read size for files. */
const FILE_CHUNK = 1 << 20;

/**
 * Decodes a pcap/pcapng capture into one {@link CaRecord} per Channel Access message, in capture order.
 *
 * ```ts
 * for await (const record of shark('capture.pcapng')) console.log(record.command.name, record.pv);
 * ```
 *
 * The input is read lazily: records come out while the capture is read, and memory stays bounded by the
 * conversation state limits, not by the capture size. Breaking out of the loop stops reading.
 *
 * Throws when the input cannot be opened, or (unless `onProblem` is given, which then receives it) when it
 * is neither pcap nor pcapng. Other packet-layer problems never stop the iteration.
 */
export async function* shark(input: SharkInput, options: SharkOptions = {}): AsyncGenerator<CaRecord, void, undefined> {
  // Circuit ends travel in the record queue so the callback sees them after the circuit's last record
  // has been yielded, not when the chunk holding them was decoded.
  let queue: (CaRecord | CircuitEnd)[] = [];
  const onCircuitClose = options.onCircuitClose;
  const decoder = new Decoder({
    ...options,
    onRecord: (r) => queue.push(r),
    onCircuitClose: onCircuitClose && ((c) => queue.push(new CircuitEnd(c))),
  });
  // Without a problem handler, input that is no capture at all must not pass as an empty one.
  const fatal: { problem: PacketProblem | null } = { problem: null };
  decoder.onProblem =
    options.onProblem ??
    ((p) => {
      if (p.code === NOT_A_CAPTURE) fatal.problem ??= p;
    });
  options.onDecoder?.(decoder);
  for await (const chunk of chunksOf(input)) {
    decoder.pushCapture(chunk);
    if (fatal.problem) throw new Error(`shark(): ${fatal.problem.message}`);
    if (queue.length > 0) yield* drain();
  }
  decoder.end();
  yield* drain();

  function* drain(): Generator<CaRecord, void, undefined> {
    const out = queue;
    queue = [];
    for (let i = 0; i < out.length; i++) {
      const item = out[i];
      if (item instanceof CircuitEnd) onCircuitClose?.(item.circuit);
      else yield item;
    }
  }
}

/** A circuit end waiting in the record queue. */
class CircuitEnd {
  constructor(readonly circuit: CircuitInfo) {}
}

async function* chunksOf(input: SharkInput): AsyncGenerator<Uint8Array> {
  if (typeof input === 'string' || input instanceof URL) {
    const path = input instanceof URL ? fileURLToPath(input) : input;
    yield* chunksOf(createReadStream(path, { highWaterMark: FILE_CHUNK }));
    return;
  }
  if (input instanceof Uint8Array) {
    for (let o = 0; o < input.length; o += BUFFER_SLICE) yield input.subarray(o, Math.min(input.length, o + BUFFER_SLICE));
    return;
  }
  for await (const chunk of input) {
    if (typeof chunk === 'string') throw new TypeError('shark(): the capture stream must yield bytes, not strings');
    yield chunk;
  }
}
