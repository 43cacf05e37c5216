/**
 * How shark() reads a capture file and slices it for the decoder: shared by the one-thread path
 * (shark.ts) and the packet thread (shark-thread-worker.ts), which must push the packet layer the same
 * bytes in the same pieces so both give the same events.
 */

/**
 * Bytes decoded before the records they gave are handed out. Small, so the records waiting in the queue
 * stay few: every young-generation GC copies the live ones, and a whole 1 MiB chunk's worth (thousands of
 * records) made those copies the biggest cost of shark(). 64 KiB rather than 128: fewer waveforms wait
 * at once, so the C allocator reuses their memory more (one-shot shark() over realistic.pcap, six
 * interleaved runs each: minor faults 27.9k → 22.2k, peak RSS 90 → 79 MB, CPU median 1.39 → 1.26 s;
 * real100.pcap 1.66 → 1.58 s). Slices need not be larger than the capture's records: a record that
 * straddles two is read in place (the reader's `stableInput`).
 */
export const DECODE_SLICE = 1 << 16;
/** Read size for files. */
export const FILE_CHUNK = 1 << 20;
/**
 * File read buffers in rotation: the chunk being decoded, the one before it (the capture reader may still
 * hold a view of its tail until the next push), and the one being read ahead.
 */
export const FILE_BUFFERS = 3;
