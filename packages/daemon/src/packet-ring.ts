/**
 * The raw packet ring: the latest frames that carried CA messages, bounded by bytes, with an index of the
 * messages they carried, so that `GET /api/pcap?<filter>&since=&until=` can write exactly the packets of the
 * matching messages (pcap-export.ts). It lives in the decoding worker and watches the decoder through the
 * engine's {@link PacketTap}: a frame is held from the moment it is decoded until a message claims its bytes
 * (then it enters the ring) or it turns out to carry none (then it is let go).
 *
 * What a frame costs: its captured bytes plus {@link FRAME_OVERHEAD_BYTES}; what a message costs:
 * {@link MESSAGE_OVERHEAD_BYTES}. Both count against the byte bound; the oldest frames go first, and with
 * them the messages whose first frame is gone (their packets could no longer be written whole).
 *
 * Frames are kept as the views they were decoded from, into the frame batch they arrived in (no copy). The
 * ring counts, per batch buffer, the frames it keeps from it ({@link PacketRing.beginBatch}), and hands a
 * buffer back ({@link PacketRingOptions}' `onBufferFree`) once the batch is decoded and its last frame left:
 * the capture thread then packs a later batch into it instead of page-faulting a fresh one (issue 12).
 */
import type { CaRecord } from '@ca-shark/decoder';
import type { CommandFields } from '@ca-shark/protocol';
import { MessageFrames, type PacketEvent } from '@ca-shark/packet';
import type { PacketTap } from './engine.js';
import { MessageIndex } from './message-index.js';

/** Default bound of the ring: 256 MiB. */
export const DEFAULT_PACKET_RING_BYTES = 256 * 1024 * 1024;
/** Per frame besides its bytes: the entry object, its map slot and the typed-array view. */
export const FRAME_OVERHEAD_BYTES = 200;
/** Per message: its columns in the index (message-index.ts), with their growth slack. */
export const MESSAGE_OVERHEAD_BYTES = 80;
/**
 * Bytes of frames held while no message has claimed them yet (the start of a large message, or a flow not
 * yet recognised as CA); beyond it the oldest are let go.
 */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** A frame held by the ring. */
export interface RingFrame {
  /** Frame number, as the decoder counts them (1-based). */
  readonly frame: number;
  readonly linktype: number;
  /** Interface of the source the frame came from (0: the only one). */
  readonly interfaceId: number;
  /** Capture time, Unix seconds. */
  readonly timestamp: number;
  readonly origlen: number;
  readonly data: Uint8Array;
}

/** Responses whose `status` is an ECA code, the ones the shared `errors` filter looks into. */
const STATUS_RESPONSES = new Set(['ReadNotifyResponse', 'WriteNotifyResponse', 'EventAddResponse']);

/** Counters of the ring (for tests, logs and metrics). */
export interface PacketRingStats {
  frames: number;
  messages: number;
  /** Bytes counted against the bound. */
  bytes: number;
  maxBytes: number;
  /** Frames evicted by the bound since start. */
  evictedFrames: number;
}

/** The ring; its {@link PacketRing.tap} goes to the engine, {@link PacketRing.record} gets every record. */
export class PacketRing implements PacketTap {
  /** Per buffer the frames come from: frames held (pending or in the ring), plus one while it is decoded. */
  private readonly leases = new Map<ArrayBufferLike, number>();
  private readonly maxBytes: number;
  /** Frames in the order they entered, from `frameHead`. */
  private order: RingFrame[] = [];
  private frameHead = 0;
  private readonly byNumber = new Map<number, RingFrame>();
  /** The messages held, with the frames that carried them. */
  readonly index = new MessageIndex();
  private total = 0;
  private evicted = 0;
  /** The greatest frame number evicted: messages with a frame at or below it are incomplete. */
  private evictedUpTo = 0;
  /** Frames decoded whose bytes no message claimed yet, oldest first. */
  private readonly pending = new Map<number, RingFrame>();
  private pendingBytes = 0;
  private readonly tracker: MessageFrames;
  /** The frame being decoded, and whether a TCP direction queued its bytes. */
  private current: RingFrame | undefined;
  private currentQueued = false;
  /** Frames of the message being indexed (see {@link PacketRing.collect}). */
  private collected: number | number[] = 0;
  private collectedCount = 0;
  /** Receives the frames of the message being indexed (one bound function, not a closure per message). */
  private readonly collect = (n: number): void => {
    if (this.collectedCount === 0) this.collected = n;
    else if (this.collectedCount === 1) this.collected = [this.collected as number, n];
    else (this.collected as number[]).push(n);
    this.collectedCount++;
    this.enter(n);
  };

  /**
   * `onBufferFree`: called with a buffer frames came from once the ring holds none of them and the batch is
   * decoded (see {@link PacketRing.beginBatch}); nothing in the ring points into it any more.
   */
  constructor(
    maxBytes = DEFAULT_PACKET_RING_BYTES,
    private readonly onBufferFree?: (buffer: ArrayBufferLike) => void,
  ) {
    this.maxBytes = maxBytes;
    this.tracker = new MessageFrames({
      onRelease: (frame) => this.release(frame),
      onLate: (frame, messageFrame) => this.late(frame, messageFrame),
    });
  }

  get stats(): PacketRingStats {
    return {
      frames: this.order.length - this.frameHead,
      messages: this.index.size,
      bytes: this.total,
      maxBytes: this.maxBytes,
      evictedFrames: this.evicted,
    };
  }

  /** The frames of the batch in `buffer` are about to be decoded: the buffer is not handed back before {@link endBatch}. */
  beginBatch(buffer: ArrayBufferLike): void {
    this.lease(buffer);
  }

  /** Every frame of the batch in `buffer` was decoded: it is handed back once the ring keeps none of them. */
  endBatch(buffer: ArrayBufferLike): void {
    this.unlease(buffer);
  }

  private lease(buffer: ArrayBufferLike): void {
    this.leases.set(buffer, (this.leases.get(buffer) ?? 0) + 1);
  }

  private unlease(buffer: ArrayBufferLike): void {
    const n = (this.leases.get(buffer) ?? 1) - 1;
    if (n > 0) {
      this.leases.set(buffer, n);
      return;
    }
    this.leases.delete(buffer);
    this.onBufferFree?.(buffer);
  }

  // ---- PacketTap ----

  frame(frame: number, linktype: number, timestamp: number, data: Uint8Array, origlen: number, interfaceId = 0): void {
    this.current = { frame, linktype, interfaceId, timestamp, origlen, data };
    this.currentQueued = false;
  }

  event(event: PacketEvent): void {
    if (event.type === 'tcp-data' && this.current !== undefined && event.packet.frame === this.current.frame) {
      if (!this.currentQueued) {
        this.currentQueued = true;
        this.hold(this.current);
      }
    }
    this.tracker.event(event);
  }

  afterEvent(): void {
    this.tracker.settle();
  }

  frameDone(): void {
    this.current = undefined;
  }

  // ---- records ----

  /** A record the decoder emitted (in order, right after the event that completed it). */
  record(record: CaRecord): void {
    this.collectedCount = 0;
    this.collected = record.frame;
    this.tracker.framesOf(record, this.collect);
    const command = record.command;
    const status = STATUS_RESPONSES.has(command.name) ? (command as CommandFields).status : undefined;
    this.index.push(
      record.timestamp,
      record.src,
      record.dst,
      record.pv,
      command.name,
      typeof status === 'number' ? status : -1,
      this.collected,
    );
    this.total += MESSAGE_OVERHEAD_BYTES;
    this.evict();
  }

  /** The frame held under `frame`, or undefined when it left the ring (or never entered it). */
  get(frame: number): RingFrame | undefined {
    return this.byNumber.get(frame);
  }

  private hold(frame: RingFrame): void {
    this.pending.set(frame.frame, frame);
    this.pendingBytes += frame.data.length;
    this.lease(frame.data.buffer);
    if (this.pendingBytes <= MAX_PENDING_BYTES) return;
    for (const [n, old] of this.pending) {
      if (this.pendingBytes <= MAX_PENDING_BYTES) break;
      this.pending.delete(n);
      this.pendingBytes -= old.data.length;
      this.unlease(old.data.buffer);
    }
  }

  private release(frame: number): void {
    const held = this.pending.get(frame);
    if (held === undefined) return;
    this.pending.delete(frame);
    this.pendingBytes -= held.data.length;
    this.unlease(held.data.buffer);
  }

  /** Frame `n` carried a message: into the ring (once). */
  private enter(n: number): void {
    if (this.byNumber.has(n)) return;
    let frame = this.pending.get(n);
    if (frame !== undefined) {
      this.pending.delete(n);
      this.pendingBytes -= frame.data.length;
    } else if (this.current !== undefined && this.current.frame === n) {
      // A datagram (or a segment the tracker did not queue): the frame being decoded.
      frame = this.current;
      this.lease(frame.data.buffer);
    } else {
      return;
    }
    this.byNumber.set(n, frame);
    this.order.push(frame);
    this.total += frame.data.length + FRAME_OVERHEAD_BYTES;
  }

  /** A frame that carries the tail of the message completed in `messageFrame`, which is already indexed. */
  private late(frame: number, messageFrame: number): void {
    // Into the ring like any claimed frame (from the pending ones when its bytes were queued).
    if (this.current !== undefined && this.current.frame === frame) this.enter(frame);
    // The debtor is one of the latest messages: look back from the newest.
    const index = this.index;
    for (let seq = index.end - 1; seq >= index.oldest; seq--) {
      const last = index.lastFrame(seq);
      if (last < messageFrame) break;
      if (last === messageFrame) {
        index.addFrame(seq, frame);
        break;
      }
    }
    this.evict();
  }

  private evict(): void {
    while (this.total > this.maxBytes && this.frameHead < this.order.length) {
      const old = this.order[this.frameHead];
      this.order[this.frameHead] = undefined as unknown as RingFrame;
      this.frameHead++;
      this.byNumber.delete(old.frame);
      this.total -= old.data.length + FRAME_OVERHEAD_BYTES;
      this.unlease(old.data.buffer);
      this.evicted++;
      if (old.frame > this.evictedUpTo) this.evictedUpTo = old.frame;
      this.dropIncompleteMessages();
    }
    if (this.total > this.maxBytes) this.dropIncompleteMessages(true);
    if (this.frameHead > 4096 && this.frameHead * 2 > this.order.length) {
      this.order = this.order.slice(this.frameHead);
      this.frameHead = 0;
    }
  }

  /** Drops the oldest messages whose first frame was evicted (or, with `all`, any while over the bound). */
  private dropIncompleteMessages(all = false): void {
    const index = this.index;
    while (index.size > 0) {
      if (index.firstFrame(index.oldest) > this.evictedUpTo && !(all && this.total > this.maxBytes)) break;
      index.shift();
      this.total -= MESSAGE_OVERHEAD_BYTES;
    }
  }
}
