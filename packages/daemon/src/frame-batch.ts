/**
 * Frames travel from the capture (main thread) to the decoder (worker thread) in batches packed into one
 * transferable ArrayBuffer: per frame a fixed header then the captured bytes. One postMessage per batch
 * instead of one per packet. Each frame's bytes are copied exactly once on the main thread, into the batch
 * (so `add` may be given a view the caller reuses right after); the batch's ArrayBuffer is then transferred
 * as it is, with the length in use, and the packer goes on in another (a transferred buffer is detached).
 * The worker reads each frame as a view into the transferred buffer: no copy and no allocation per frame,
 * and hands the buffer back ({@link FramePacker.recycle}) once it is decoded (the decoder and the packet
 * ring copy whatever they keep). In steady state a later batch is packed into it, instead of a fresh
 * buffer allocated, zeroed and page-faulted for every batch (the copy into a fresh buffer was about a fifth
 * of the capture thread at 250 Mbit/s, issue 12).
 */

/**
 * Per-frame header layout. PLACE: where the frame's captured bytes start in the replayed file (a double:
 * files pass 4 GiB), or -1 when the frame has no place in a file (live capture, stdin, the demo); the packet
 * ring of a replayed file keeps that instead of a copy of the bytes (packet-ring.ts).
 */
const Offset = { LINKTYPE: 0, INTERFACE: 2, ORIGLEN: 4, CAPLEN: 8, TIMESTAMP: 12, PLACE: 20 } as const;
/** Bytes of the header before each frame's bytes in a batch. */
export const FRAME_HEADER_BYTES = 28;
/** {@link FramePacker.add}'s `place` for a frame that is not read from a file. */
export const NO_PLACE = -1;
/**
 * Every batch buffer holds this many times the flush threshold: a batch is flushed once over it, so the
 * frame that crosses it fits (up to the threshold; a larger one grows the buffer). One size for all: a
 * buffer handed back always fits the next batch. Sizing buffers to recent batch lengths, as before, let the
 * size wander with the batch length, so spares were let go and fresh buffers allocated every few batches
 * (about 80 for a 100 MB file ingest, with the external memory churn making V8 run a dozen full
 * collections on the main thread). Pages of a buffer that small batches never reach are never touched.
 */
const HEADROOM = 2;
/**
 * Buffers handed back are kept for later batches while they are at most this many, at the least (see
 * {@link DEFAULT_SPARE_BYTES} for the bound that matters under a backlog).
 */
const MIN_SPARE_BUFFERS = 16;
/**
 * Spares are kept while they would carry at most this many bytes of batches of the recent length (a buffer's
 * pages beyond what its batches used are never touched, so that is about the memory they hold): the decoder
 * backlog's 64 MiB bound, the most that is ever in flight live. A lagging worker swings its backlog between
 * none and up to a second of traffic (about 100 batches of 10 ms at 250 Mbit/s); with 16 spares each swing
 * let go of the rest, and the next one allocated them fresh: the page faults of new memory (about 4 ms of
 * CPU per MiB here) cost the capture thread 1.7 s of CPU per 12 s at 250 Mbit/s in frame-batch.bench.ts,
 * against 0.1 s with buffers kept. The spares never outnumber the batches that were once in flight together.
 */
export const DEFAULT_SPARE_BYTES = 64 * 1024 * 1024;
/** Batches are flushed once they hold this many bytes (default of {@link FramePacker}'s `flushBytes`). */
export const DEFAULT_FLUSH_BYTES = 1024 * 1024;
/** Weight of the newest batch in the running mean of batch lengths. */
const LENGTH_WEIGHT = 1 / 16;

/**
 * Receives packed batches: `buffer` holds `frames` frames in its first `length` bytes (the rest is unused
 * capacity). The handler owns the buffer (transfer it or drop it); the packer never touches it again.
 */
export type BatchHandler = (buffer: ArrayBuffer, length: number, frames: number) => void;

/** Packs frames; call {@link FramePacker.flush} on a timer and when it reports being full. */
export class FramePacker {
  /** Size of every batch buffer (see {@link HEADROOM}). */
  private readonly bufferBytes: number;
  private buffer: ArrayBuffer;
  private view: DataView;
  private bytes: Uint8Array;
  private used = 0;
  private count = 0;
  /** Buffers handed back by the receiver, for later batches. */
  private readonly spare: ArrayBuffer[] = [];
  private allocated = 1;
  /** Running mean of the flushed batches' lengths (what a spare's touched pages are about). */
  private meanLength: number;

  constructor(
    private readonly onBatch: BatchHandler,
    /** Batches are flushed once they hold this many bytes. */
    private readonly flushBytes = DEFAULT_FLUSH_BYTES,
    /** Spares are kept while they would carry at most this many bytes of recent batches. */
    private readonly spareBytes = DEFAULT_SPARE_BYTES,
  ) {
    this.meanLength = flushBytes;
    this.bufferBytes = Math.ceil((HEADROOM * flushBytes) / 4096) * 4096;
    this.buffer = new ArrayBuffer(this.bufferBytes);
    this.view = new DataView(this.buffer);
    this.bytes = new Uint8Array(this.buffer);
  }

  get pending(): number {
    return this.count;
  }

  /** Batch buffers allocated since start (reuse keeps it flat). */
  get buffersAllocated(): number {
    return this.allocated;
  }

  /**
   * Takes back a batch buffer the handler is done with (nothing may point into it any more): a later
   * batch is packed into it instead of a fresh one. A detached one (transferred elsewhere) is ignored.
   */
  recycle(buffer: ArrayBuffer): void {
    // A buffer a huge frame grew is let go: later batches need the usual size.
    if (buffer.byteLength !== this.bufferBytes || this.spare.length >= this.maxSpares()) return;
    this.spare.push(buffer);
  }

  /** Spares kept: at least {@link MIN_SPARE_BUFFERS}, else as many as carry `spareBytes` of recent batches. */
  private maxSpares(): number {
    return Math.max(MIN_SPARE_BUFFERS, Math.floor(this.spareBytes / Math.max(this.meanLength, 4096)));
  }

  /**
   * Copies one frame into the batch; `data` is not kept, so it may be a view the caller overwrites next.
   * `place`: where its captured bytes start in the replayed file, or {@link NO_PLACE}.
   */
  add(linktype: number, timestamp: number, data: Uint8Array, origlen: number, interfaceId = 0, place = NO_PLACE): void {
    const need = FRAME_HEADER_BYTES + data.length;
    if (this.used + need > this.buffer.byteLength) this.grow(this.used + need);
    const at = this.used;
    this.view.setUint16(at + Offset.LINKTYPE, linktype, true);
    this.view.setUint16(at + Offset.INTERFACE, interfaceId, true);
    this.view.setUint32(at + Offset.ORIGLEN, origlen, true);
    this.view.setUint32(at + Offset.CAPLEN, data.length, true);
    this.view.setFloat64(at + Offset.TIMESTAMP, timestamp, true);
    this.view.setFloat64(at + Offset.PLACE, place, true);
    this.bytes.set(data, at + FRAME_HEADER_BYTES);
    this.used += need;
    this.count += 1;
    if (this.used >= this.flushBytes) this.flush();
  }

  /** Hands the packed frames over (the buffer itself is given away, not copied) and starts a new one. */
  flush(): void {
    if (this.count === 0) return;
    const full = this.buffer;
    const length = this.used;
    const frames = this.count;
    this.meanLength += (length - this.meanLength) * LENGTH_WEIGHT;
    this.setBuffer(this.spare.pop() ?? this.allocate(this.bufferBytes));
    this.used = 0;
    this.count = 0;
    this.onBatch(full, length, frames);
  }

  private allocate(size: number): ArrayBuffer {
    this.allocated += 1;
    return new ArrayBuffer(size);
  }

  private setBuffer(buffer: ArrayBuffer): void {
    this.buffer = buffer;
    this.view = new DataView(buffer);
    this.bytes = new Uint8Array(buffer);
  }

  private grow(min: number): void {
    let size = this.buffer.byteLength * 2;
    while (size < min) size *= 2;
    const next = this.allocate(size);
    new Uint8Array(next).set(this.bytes.subarray(0, this.used));
    this.setBuffer(next);
  }
}

/**
 * Calls `frame` for every frame in the first `length` bytes of a packed batch (the rest of the buffer is
 * unused capacity). The bytes are views into `buffer`: the decoder copies whatever it keeps beyond a frame
 * (record bytes, reassembly remainders, out-of-order segments), so a batch is not pinned by what it fed.
 */
export function unpackFrames(
  buffer: ArrayBuffer,
  length: number,
  frame: (
    linktype: number,
    timestamp: number,
    bytes: Uint8Array,
    origlen: number,
    interfaceId: number,
    place: number,
  ) => void,
): void {
  const view = new DataView(buffer);
  let at = 0;
  const end = Math.min(length, buffer.byteLength);
  while (at + FRAME_HEADER_BYTES <= end) {
    const caplen = view.getUint32(at + Offset.CAPLEN, true);
    const start = at + FRAME_HEADER_BYTES;
    if (start + caplen > end) break;
    frame(
      view.getUint16(at + Offset.LINKTYPE, true),
      view.getFloat64(at + Offset.TIMESTAMP, true),
      new Uint8Array(buffer, start, caplen),
      view.getUint32(at + Offset.ORIGLEN, true),
      view.getUint16(at + Offset.INTERFACE, true),
      view.getFloat64(at + Offset.PLACE, true),
    );
    at = start + caplen;
  }
}
