/**
 * Frames travel from the capture (main thread) to the decoder (worker thread) in batches packed into one
 * transferable ArrayBuffer: per frame a fixed header then the captured bytes. One postMessage per batch
 * instead of one per packet; the batch is copied out once and its buffer transferred, not cloned.
 */

/** Per-frame header layout. */
const Offset = { LINKTYPE: 0, ORIGLEN: 4, CAPLEN: 8, TIMESTAMP: 12 } as const;
const FRAME_HEADER = 20;
const INITIAL_BYTES = 256 * 1024;

/** Receives packed batches. */
export type BatchHandler = (buffer: ArrayBuffer, frames: number) => void;

/** Packs frames; call {@link FramePacker.flush} on a timer and when it reports being full. */
export class FramePacker {
  private buffer = new ArrayBuffer(INITIAL_BYTES);
  private view = new DataView(this.buffer);
  private bytes = new Uint8Array(this.buffer);
  private used = 0;
  private count = 0;

  constructor(
    private readonly onBatch: BatchHandler,
    /** Batches are flushed once they hold this many bytes. */
    private readonly flushBytes = 1024 * 1024,
  ) {}

  get pending(): number {
    return this.count;
  }

  add(linktype: number, timestamp: number, data: Uint8Array, origlen: number): void {
    const need = FRAME_HEADER + data.length;
    if (this.used + need > this.buffer.byteLength) this.grow(this.used + need);
    const at = this.used;
    this.view.setUint16(at + Offset.LINKTYPE, linktype, true);
    this.view.setUint32(at + Offset.ORIGLEN, origlen, true);
    this.view.setUint32(at + Offset.CAPLEN, data.length, true);
    this.view.setFloat64(at + Offset.TIMESTAMP, timestamp, true);
    this.bytes.set(data, at + FRAME_HEADER);
    this.used += need;
    this.count += 1;
    if (this.used >= this.flushBytes) this.flush();
  }

  /** Hands the packed frames over (the buffer is given away) and starts a new one. */
  flush(): void {
    if (this.count === 0) return;
    const full = this.buffer.slice(0, this.used);
    const frames = this.count;
    this.used = 0;
    this.count = 0;
    this.onBatch(full, frames);
  }

  private grow(min: number): void {
    let size = this.buffer.byteLength * 2;
    while (size < min) size *= 2;
    const next = new ArrayBuffer(size);
    new Uint8Array(next).set(this.bytes.subarray(0, this.used));
    this.buffer = next;
    this.view = new DataView(next);
    this.bytes = new Uint8Array(next);
  }
}

/** Calls `frame` for every frame of a packed batch; the bytes are copies the callee may keep. */
export function unpackFrames(
  buffer: ArrayBuffer,
  frame: (linktype: number, timestamp: number, bytes: Uint8Array, origlen: number) => void,
): void {
  const view = new DataView(buffer);
  let at = 0;
  while (at + FRAME_HEADER <= buffer.byteLength) {
    const caplen = view.getUint32(at + Offset.CAPLEN, true);
    const start = at + FRAME_HEADER;
    frame(
      view.getUint16(at + Offset.LINKTYPE, true),
      view.getFloat64(at + Offset.TIMESTAMP, true),
      // A copy: the decoder may keep slices (reassembly, raw bytes) and must not pin the whole batch.
      new Uint8Array(buffer.slice(start, start + caplen)),
      view.getUint32(at + Offset.ORIGLEN, true),
    );
    at = start + caplen;
  }
}
