import type { MessagePort } from 'node:worker_threads';

/**
 * The layout shared by shark()'s packet thread (shark-thread-worker.ts, which reads the file and runs the
 * packet layers) and the main thread (shark-thread.ts, which runs the CA decoder on what it is sent).
 *
 * The worker writes entries into slots, plain ArrayBuffers of {@link SLOT_BYTES} that travel between
 * the threads (transferred, not copied) on a message port, read on each side with receiveMessageOnPort;
 * counters in a small SharedArrayBuffer say when one was sent, so the other side can sleep on them. Not
 * slots in shared memory: copies into and out of a SharedArrayBuffer take V8's slow path for shared
 * memory (writing a payload there cost about 30 times a plain memcpy), and so do the decoder's copies
 * and DataView reads of views of it. The main thread hands a slot back when it has decoded the next one
 * (so payload views of a slot stay valid while the next one is decoded, as a file chunk's do in the
 * one-thread path). Each entry starts with two 32-bit words, its kind and its length in bytes (a
 * multiple of 8); the fields below are byte offsets from the entry's start.
 */

/**
 * Bytes per slot. 1 MiB: the prototype's 4 MiB slots (docs/performance.md, session 11) cost 12 MiB more
 * peak RSS, and a slot's hand-over (a transfer and a wake-up) is cheap next to decoding a MiB.
 */
export const SLOT_BYTES = 1 << 20;
/** Slots in rotation: the main thread holds two (the one it decodes and the one before it). */
export const SLOT_COUNT = 4;
/** A slot starts with its used length (bytes) and whether it is the last one. */
export const SLOT_OFF_USED = 0;
export const SLOT_OFF_LAST = 4;
export const SLOT_HEADER = 8;
/**
 * The first slot is handed over when this full, and each next one at twice the size before it until
 * {@link SLOT_BYTES}: the main thread starts decoding early instead of waiting for a whole slot of events.
 */
export const FIRST_SLOT_BYTES = 32 << 10;
/** Payloads larger than this go through the message port (in order, see {@link KIND.UDP_PORT}). */
export const MAX_INLINE_PAYLOAD = SLOT_BYTES >> 2;

/** Control array (Int32): slots sent to the main thread, slots sent back, the stop request. */
export const CTL_FILLED = 0;
export const CTL_FREED = 1;
export const CTL_STOP = 2;
export const CTL_WORDS = 3;

/** Entry kinds. */
export const KIND = {
  /** A packet record's inputs (see makePacketInfo); packets are numbered in the order sent. */
  PACKET: 1,
  UDP: 2,
  /** A UDP datagram whose payload was posted on the port (too large for a slot). */
  UDP_PORT: 3,
  DATA: 4,
  DATA_PORT: 5,
  GAP: 6,
  OPEN: 7,
  CLOSE: 8,
  /** A flow's opener was learned after it opened (a SYN seen later). */
  OPENER: 9,
  /** A packet problem, as JSON. */
  PROBLEM: 10,
  /**
   * A push of capture bytes ends here (a DECODE_SLICE): the main thread hands out the records decoded so
   * far before it goes on, as the one-thread path does after each push, so records, problems and lent
   * arrays come out in the same steps.
   */
  SLICE: 11,
  /**
   * A file chunk ends here, with the packet layer's counters as JSON: the main thread lets its event loop
   * turn, as the one-thread path does between chunks.
   */
  CHUNK: 12,
  /** The input ended (the packet layer was flushed), with its counters as JSON, or `null` for no input. */
  END: 13,
} as const;

export const ENTRY_OFF_KIND = 0;
export const ENTRY_OFF_LEN = 4;
/** Entries are 8-byte aligned (a packet's timestamp is a float64). */
export const ENTRY_ALIGN = 8;

/** PACKET: frame fields (u32 each), then the timestamp, then the link bytes and the IP bytes. */
export const PKT_OFF_FRAME = 8;
export const PKT_OFF_CAPLEN = 12;
export const PKT_OFF_ORIGLEN = 16;
export const PKT_OFF_IFID = 20;
export const PKT_OFF_LINKTYPE = 24;
export const PKT_OFF_ETHERTYPE = 28;
export const PKT_OFF_LINK_LEN = 32;
export const PKT_OFF_IP_LEN = 36;
export const PKT_OFF_HL = 40;
export const PKT_OFF_SRC = 44;
export const PKT_OFF_DST = 48;
export const PKT_OFF_L4 = 52;
export const PKT_OFF_TS = 56;
export const PKT_OFF_BYTES = 64;

/**
 * The main thread keeps the records of the last this many packets sent, by number, so events share one
 * record per packet as in the one-thread path; the worker sends a packet again (a new number, an equal
 * record) when an event refers to one older than that (a segment held for reordering, a flow's last
 * packet at its idle timeout).
 */
export const PACKET_RING = 1024;

/** Events: the packet number, then per kind. */
export const EV_OFF_PACKET = 8;
/** UDP: payload length, payload at UDP_OFF_PAYLOAD. */
export const UDP_OFF_LEN = 12;
export const UDP_OFF_PAYLOAD = 16;
/** DATA and GAP: flow id, side (0 a, 1 b), length; DATA's payload at DATA_OFF_PAYLOAD. */
export const TCP_OFF_FLOW = 12;
export const TCP_OFF_FROM = 16;
export const TCP_OFF_LEN = 20;
export const DATA_OFF_PAYLOAD = 24;
export const GAP_BYTES = 24;
/** OPEN: flow id, endpoints (IPv4 as u32, port), opener (0 none, 1 a, 2 b). */
export const OPEN_OFF_A_IP = 16;
export const OPEN_OFF_A_PORT = 20;
export const OPEN_OFF_B_IP = 24;
export const OPEN_OFF_B_PORT = 28;
export const OPEN_OFF_OPENER = 32;
export const OPEN_BYTES = 40;
/** CLOSE: flow id, reason index in {@link CLOSE_REASONS}. */
export const CLOSE_OFF_REASON = 16;
export const CLOSE_BYTES = 24;
/** OPENER: flow id, opener (1 a, 2 b). */
export const OPENER_OFF_FLOW = 8;
export const OPENER_OFF_SIDE = 12;
export const OPENER_BYTES = 16;
/** PROBLEM, CHUNK and END: JSON length, JSON bytes at JSON_OFF_TEXT. */
export const JSON_OFF_LEN = 8;
export const JSON_OFF_TEXT = 16;
export const SLICE_BYTES = 8;

export const CLOSE_REASONS = ['fin', 'rst', 'timeout', 'evicted'] as const;
export const OPENER_NONE = 0;
export const OPENER_A = 1;
export const OPENER_B = 2;

/** What the main thread gives the worker. */
export interface PacketThreadJob {
  /** The capture file, opened by the main thread (open errors are thrown there, as without the thread). */
  fd: number;
  control: SharedArrayBuffer;
  /** Full slots to the main thread, decoded ones back. */
  slotPort: MessagePort;
  /** Payloads too large for a slot, in order. */
  port: MessagePort;
}

/** Worker → main thread on its port's parent channel when the packet layer threw. */
export interface PacketThreadFailure {
  kind: 'error';
  message: string;
  stack?: string;
}

/** The length of an entry of `bytes` bytes, aligned. */
export function entryLength(bytes: number): number {
  return (bytes + ENTRY_ALIGN - 1) & ~(ENTRY_ALIGN - 1);
}
