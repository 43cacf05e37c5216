/**
 * Which captured frames carried the bytes of each message of a protocol on top of the packet layer: the
 * frames to write out when exporting "the packets of these messages". A datagram's message is in the frame
 * that completed the datagram; a TCP message may span several segments, and one segment may hold the end
 * of a message and the start of the next.
 *
 * The tracker watches the packet events on their way to the protocol decoder and keeps, per TCP direction,
 * the frames whose stream bytes no message has claimed yet. A message that completes in frame F claims its
 * `size` bytes from the front of its direction's queue, in stream order. It assumes what a deframer does:
 * every byte delivered is covered by exactly one message (a malformed run counts as one), in stream order.
 * When that does not hold (bytes the decoder skipped, a flow it recognised late), the claim is realigned on
 * the completing frame, which is always right, so one message can be off but the error does not carry on.
 *
 * Memory is bounded: a direction that delivered {@link MessageFramesOptions.unclaimedBytes} without any
 * message claiming them (not the protocol, or not yet recognised) keeps only its latest frames.
 */
import type { PacketEvent } from './types.js';

/** What the tracker needs of a decoded message (the decoder's record has these fields). */
export interface TrackedMessage {
  /** Frame that completed the message. */
  readonly frame: number;
  /** TCP flow id, for messages of a TCP stream (undefined for datagrams). */
  readonly circuit?: number;
  /** Source address of the message, dotted quad. */
  readonly src: string;
  readonly transport: { readonly sport: number };
  /** Bytes of the stream the message covers. */
  readonly size: number;
}

/** Options of {@link MessageFrames}. */
export interface MessageFramesOptions {
  /**
   * Bytes a direction may deliver without any message claiming them before its older frames are let go
   * (the decoder decides whether a flow is its protocol within its first 64 KiB). Default 64 KiB.
   */
  unclaimedBytes?: number;
  /**
   * Bytes kept per direction of a flow whose messages were claimed (the largest message the decoder
   * buffers). Default 16 MiB + 64 KiB.
   */
  maxMessageBytes?: number;
  /**
   * A frame the tracker no longer holds in any queue without a message having claimed it: its bytes were
   * never part of a message (or were let go). Frames of datagrams are not reported.
   */
  onRelease?: (frame: number) => void;
  /**
   * A frame that arrived after the message its bytes belong to was emitted (the tail of a message cut at
   * the size cap): (frame, the frame that completed that message).
   */
  onLate?: (frame: number, messageFrame: number) => void;
}

/** Unclaimed frames of one TCP direction, in stream order (parallel arrays from `head`). */
interface Direction {
  frames: number[];
  /** Bytes of each frame not claimed yet. */
  left: number[];
  head: number;
  /** Unclaimed bytes queued. */
  bytes: number;
  /** Bytes a message claimed before they arrived (a message emitted cut, its tail still to come). */
  debt: number;
  /** Frame of the message the debt belongs to. */
  debtor: number;
  /** Some message claimed bytes of this direction (it is the protocol). */
  claimed: boolean;
}

const DEFAULT_UNCLAIMED_BYTES = 64 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024 + 64 * 1024;
/** Queued entries consumed before the arrays are compacted. */
const COMPACT_AFTER = 1024;

/**
 * Tracks which frames carry which message. Call {@link MessageFrames.event} with every packet event before
 * the decoder sees it, and {@link MessageFrames.framesOf} with every message the decoder emits.
 */
export class MessageFrames {
  private readonly directions = new Map<number, Direction>();
  /** The `a` endpoint of each open flow, to tell a message's direction. */
  private readonly endpoints = new Map<number, { ip: string; port: number }>();
  private readonly unclaimedLimit: number;
  private readonly messageLimit: number;
  private readonly onRelease: (frame: number) => void;
  private readonly onLate: (frame: number, messageFrame: number) => void;
  /** Flows closed during the current event: their queues go once its messages are claimed. */
  private closing: number[] = [];

  constructor(options: MessageFramesOptions = {}) {
    this.unclaimedLimit = options.unclaimedBytes ?? DEFAULT_UNCLAIMED_BYTES;
    this.messageLimit = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.onRelease = options.onRelease ?? (() => {});
    this.onLate = options.onLate ?? (() => {});
  }

  /** Unclaimed TCP frames held over all directions (for tests and counters). */
  get heldFrames(): number {
    let n = 0;
    for (const d of this.directions.values()) n += d.frames.length - d.head;
    return n;
  }

  /** Notes an event of the packet layer; call before the decoder gets it, then {@link settle} after. */
  event(ev: PacketEvent): void {
    switch (ev.type) {
      case 'tcp-data': {
        const id = ev.flow.id;
        if (!this.endpoints.has(id)) this.endpoints.set(id, ev.flow.a);
        this.queue(key(id, ev.from === 'b'), ev.packet.frame, ev.data.length);
        return;
      }
      case 'tcp-open':
        this.endpoints.set(ev.flow.id, ev.flow.a);
        return;
      case 'tcp-close':
        this.closing.push(ev.flow.id);
        return;
      default:
        return;
    }
  }

  /** The decoder is done with the last event: queues of flows it closed are let go. */
  settle(): void {
    if (this.closing.length === 0) return;
    for (const id of this.closing) {
      this.drop(key(id, false));
      this.drop(key(id, true));
      this.endpoints.delete(id);
    }
    this.closing = [];
  }

  /**
   * Calls `out` with each frame that carried bytes of `message`, oldest first, each once; the completing
   * frame is always among them.
   */
  framesOf(message: TrackedMessage, out: (frame: number) => void): void {
    const id = message.circuit;
    const a = id === undefined ? undefined : this.endpoints.get(id);
    if (id === undefined || a === undefined) {
      out(message.frame);
      return;
    }
    const fromB = !(message.src === a.ip && message.transport.sport === a.port);
    const d = this.directions.get(key(id, fromB));
    if (d === undefined) {
      out(message.frame);
      return;
    }
    d.claimed = true;
    const last = message.frame;
    if (message.size <= 0) {
      out(last);
      return;
    }
    // Where the message ends when it takes `size` bytes from the front: it must end in the completing frame
    // (or run out there, its tail still to come). Anything else means the queue holds bytes no message
    // covered (the decoder skipped them): the message is then taken from the completing frame alone.
    let need = message.size;
    let i = d.head;
    let end = -1;
    while (i < d.frames.length && d.frames[i] <= last) {
      end = d.frames[i];
      if (d.left[i] >= need) break;
      need -= d.left[i];
      i++;
    }
    if (end !== last) {
      while (d.head < d.frames.length && d.frames[d.head] < last) {
        d.bytes -= d.left[d.head];
        this.onRelease(d.frames[d.head]);
        d.head++;
      }
      out(last);
      if (d.head < d.frames.length && d.frames[d.head] === last) this.take(d, message.size);
      this.compact(d);
      return;
    }
    need = message.size;
    while (need > 0 && d.head < d.frames.length && d.frames[d.head] <= last) {
      out(d.frames[d.head]);
      need -= this.take(d, need);
    }
    if (need > 0) {
      // Emitted before all its bytes arrived (cut at the size cap): the next bytes are its tail.
      d.debt = need;
      d.debtor = last;
    }
    this.compact(d);
  }

  /** Claims up to `n` bytes of the front entry; returns how many. */
  private take(d: Direction, n: number): number {
    const take = Math.min(n, d.left[d.head]);
    d.left[d.head] -= take;
    d.bytes -= take;
    if (d.left[d.head] === 0) d.head++;
    return take;
  }

  private queue(k: number, frame: number, length: number): void {
    let d = this.directions.get(k);
    if (d === undefined) {
      d = { frames: [], left: [], head: 0, bytes: 0, debt: 0, debtor: 0, claimed: false };
      this.directions.set(k, d);
    }
    if (d.debt > 0) {
      const take = Math.min(d.debt, length);
      d.debt -= take;
      length -= take;
      this.onLate(frame, d.debtor);
      if (length === 0) return;
    }
    const tail = d.frames.length - 1;
    if (tail >= d.head && d.frames[tail] === frame) {
      d.left[tail] += length;
    } else {
      d.frames.push(frame);
      d.left.push(length);
    }
    d.bytes += length;
    const limit = d.claimed ? this.messageLimit : this.unclaimedLimit;
    while (d.bytes > limit && d.head < d.frames.length - 1) {
      d.bytes -= d.left[d.head];
      this.onRelease(d.frames[d.head]);
      d.head++;
    }
    this.compact(d);
  }

  private drop(k: number): void {
    const d = this.directions.get(k);
    if (d === undefined) return;
    for (let i = d.head; i < d.frames.length; i++) this.onRelease(d.frames[i]);
    this.directions.delete(k);
  }

  private compact(d: Direction): void {
    if (d.head === d.frames.length) {
      d.frames.length = 0;
      d.left.length = 0;
      d.head = 0;
    } else if (d.head >= COMPACT_AFTER) {
      d.frames.splice(0, d.head);
      d.left.splice(0, d.head);
      d.head = 0;
    }
  }
}

/** One number per flow direction. */
function key(flow: number, fromB: boolean): number {
  return flow * 2 + (fromB ? 1 : 0);
}

/**
 * The messages left out of an export that span several frames, so that the export takes such a message
 * whole when any of its frames is written anyway (it shares that frame with a message that is kept).
 * Otherwise a written frame may start with the tail of a message whose header is not in the export, or
 * end with a header whose message is not: a reader can then not tell where the next message starts and
 * has to hunt for a plausible header, giving up bytes or locking onto look-alikes. With such messages
 * whole, every hole the export leaves falls on a message boundary, and the reader, which knows each hole's
 * size from the TCP sequence numbers, stays in step. (On realistic.pcap this adds 0.002-0.5 % to an
 * export.)
 */
export class SpanningMessages {
  /** Frames of every message, one after the other; `ends[i]` is where message i's frames end. */
  private readonly frames: number[] = [];
  private readonly ends: number[] = [];

  /** Notes a message left out, with its frames in stream order (one frame: nothing to note). */
  add(frames: readonly number[]): void {
    if (frames.length < 2) return;
    for (const f of frames) this.frames.push(f);
    this.ends.push(this.frames.length);
  }

  /** Messages noted. */
  get size(): number {
    return this.ends.length;
  }

  /**
   * Marks all frames of each noted message any of whose frames is marked, until no more change (a message
   * taken whole can share its first or last frame with another one).
   */
  complete(has: (frame: number) => boolean, mark: (frame: number) => void): void {
    for (let changed = true; changed;) {
      changed = false;
      for (let m = this.ends.length - 1; m >= 0; m--) {
        const start = m === 0 ? 0 : this.ends[m - 1];
        const end = this.ends[m];
        let some = false;
        let all = true;
        for (let i = start; i < end; i++) {
          if (has(this.frames[i])) some = true;
          else all = false;
        }
        if (!some || all) continue;
        for (let i = start; i < end; i++) mark(this.frames[i]);
        changed = true;
      }
    }
  }
}
