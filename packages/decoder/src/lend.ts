/**
 * Memory lent to the decoded arrays of records (`shark()`'s `lendArrays` option): large numeric arrays are
 * views of chunks allocated once and handed out again, instead of fresh memory per array.
 *
 * Why: a 30,000-element DOUBLE waveform is 240 KB. Fresh memory for each comes from the C allocator, which
 * gives freed blocks of that size back to the kernel, so every copy page-faults its memory in again: about
 * a sixth of a pass over a capture of such waveforms. Reused chunks stay mapped.
 */

/** Bytes of a chunk (larger arrays get a chunk of their own size, kept like the others). */
const CHUNK_BYTES = 1 << 20;
/** Typed-array views must start at a multiple of their element size: 8 covers every kind. */
const ALIGN = 8;

/**
 * Chunks of memory handed out in order until {@link ArrayArena.reclaim}, after which the same memory is
 * handed out again: whatever was lent before is then overwritten by later arrays.
 */
export class ArrayArena {
  private readonly chunks: ArrayBuffer[] = [];
  /** The chunk being handed out, and the next free byte in it. */
  private index = 0;
  private offset = 0;

  /** `byteLength` bytes starting at a multiple of 8 (as {@link DecodeDbrOptions.arrayMemory} wants). */
  readonly take = (byteLength: number): Uint8Array => {
    const need = (byteLength + ALIGN - 1) & -ALIGN;
    const chunks = this.chunks;
    // Chunks too small for this array are passed over for now: they serve the next rounds.
    while (this.index < chunks.length && this.offset + need > chunks[this.index].byteLength) {
      this.index++;
      this.offset = 0;
    }
    if (this.index === chunks.length) chunks.push(new ArrayBuffer(Math.max(CHUNK_BYTES, need)));
    const view = new Uint8Array(chunks[this.index], this.offset, byteLength);
    this.offset += need;
    return view;
  };

  /** Everything lent so far is free to be handed out again. */
  reclaim(): void {
    this.index = 0;
    this.offset = 0;
  }

  /** Bytes of memory the arena holds. */
  get capacity(): number {
    let n = 0;
    for (const c of this.chunks) n += c.byteLength;
    return n;
  }
}
