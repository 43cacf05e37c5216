import { type PacketPipelineOptions } from './pipeline.js';
import { type CaptureFrame, type CaptureHeader, type CaptureReaderOptions } from './reader.js';
import type { PacketEvent, PacketProblem } from './types.js';
/** A capture source: a file path, the whole capture in memory, or a stream of chunks (e.g. `process.stdin`). */
export type CaptureInput = string | Uint8Array | AsyncIterable<Uint8Array | string>;
/** The chunks of a capture input, without copying. */
export declare function captureChunks(input: CaptureInput): AsyncGenerator<Uint8Array>;
/** What {@link readCapture} yields: the header once known, each frame, each problem. */
export type CaptureItem = CaptureFrame | PacketProblem | {
    type: 'header';
    header: CaptureHeader;
};
/**
 * Iterate the raw frames of a capture (no link/IP decoding). Capture problems are yielded as items;
 * I/O errors (missing file, stream error) reject.
 */
export declare function readCapture(input: CaptureInput, options?: CaptureReaderOptions): AsyncGenerator<CaptureItem>;
/**
 * Iterate the packet events of a capture: UDP datagrams, in-order TCP stream data, gaps, connection
 * open/close and problems. Capture problems are events; I/O errors (missing file, stream error) reject.
 */
export declare function readPackets(input: CaptureInput, options?: Omit<PacketPipelineOptions, 'onEvent'>): AsyncGenerator<PacketEvent>;
//# sourceMappingURL=input.d.ts.map