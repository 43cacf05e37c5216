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
/**
 * Read size for files; shark() lets the event loop turn after each read. 256 KiB rather than 1 MiB: V8
 * runs its young-generation GC as a task once the young generation is 80 % full, and a task runs only
 * when the event loop turns, where no decoded record waits in the queue. With a turn per MiB (3 MB or
 * more of allocation) the young generation, sized 2 x 4-8 MiB by V8 in a new process, mostly filled
 * before the turn and its GC ran mid-slice, copying the records waiting there: 100 KB a GC on average
 * against 13 KB at a turn. What the GCs keep decides when V8 grows the young generation, and what they
 * promote fills the old one (docs/performance.md, "Session 13: `shark()` memory").
 */
export const FILE_CHUNK = 1 << 18;
/**
 * File read buffers in rotation: the chunk being decoded, the one before it (the capture reader may still
 * hold a view of its tail until the next push), and the one being read ahead.
 */
export const FILE_BUFFERS = 3;
